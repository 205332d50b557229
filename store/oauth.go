package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/mesadeservicios/mesa/ticket"
)

// RotateRefreshToken runs fn with the newest refresh token stored under
// name ("" when none) and whether candidate (an instance's local copy) was
// ever stored under name, while no other instance runs it for name (a
// PostgreSQL transaction advisory lock; SQLite's write lock), and stores
// the token fn returns, committed before RotateRefreshToken returns: a
// rotated token is in the database before the access token that came with
// it is used. A candidate never seen before is recorded as seen (by its
// hash) when fn succeeds. fn's error rolls back and is returned as is.
func (db *DB) RotateRefreshToken(ctx context.Context, name, candidate string, fn func(stored string, candidateSeen bool) (string, error)) error {
	return db.InTx(ctx, func(ctx context.Context) error {
		if db.driver == "postgres" {
			h := fnv.New64a()
			h.Write([]byte("mesa:oauth:" + name))
			if _, err := db.exec(ctx, `SELECT pg_advisory_xact_lock(?)`, int64(h.Sum64())); err != nil {
				return fmt.Errorf("locking the token of %s: %w", name, err)
			}
		} else if _, err := db.exec(ctx, `DELETE FROM oauth_tokens WHERE 1 = 0`); err != nil {
			return fmt.Errorf("locking the token of %s: %w", name, err) // immediate transaction: the write lock is held
		}
		var stored string
		err := db.get(ctx, &stored, `SELECT token FROM oauth_tokens WHERE name = ? ORDER BY id DESC LIMIT 1`, name)
		if err != nil && !errors.Is(err, ticket.ErrNotFound) {
			return fmt.Errorf("reading the token of %s: %w", name, err)
		}
		seen := false
		if candidate != "" {
			var n int
			if err := db.get(ctx, &n, `SELECT COUNT(*) FROM oauth_tokens WHERE name = ? AND token_hash = ?`, name, tokenHash(candidate)); err != nil {
				return fmt.Errorf("reading the tokens of %s: %w", name, err)
			}
			seen = n > 0
		}
		next, err := fn(stored, seen)
		if err != nil {
			return err
		}
		if candidate != "" && !seen && candidate != next {
			// The local copy fn was given is now known, stale or used.
			if _, err := db.exec(ctx, `INSERT INTO oauth_tokens (name, token, token_hash, created_at) VALUES (?, '', ?, ?)`,
				name, tokenHash(candidate), time.Now().UTC()); err != nil {
				return fmt.Errorf("storing the token of %s: %w", name, err)
			}
		}
		if next == "" || next == stored {
			return nil
		}
		h := tokenHash(next)
		if _, err := db.exec(ctx, `DELETE FROM oauth_tokens WHERE name = ? AND token_hash = ?`, name, h); err != nil {
			return fmt.Errorf("storing the token of %s: %w", name, err)
		}
		if _, err := db.exec(ctx, `UPDATE oauth_tokens SET token = '' WHERE name = ?`, name); err != nil {
			return fmt.Errorf("storing the token of %s: %w", name, err)
		}
		if _, err := db.exec(ctx, `INSERT INTO oauth_tokens (name, token, token_hash, created_at) VALUES (?, ?, ?, ?)`,
			name, next, h, time.Now().UTC()); err != nil {
			return fmt.Errorf("storing the token of %s: %w", name, err)
		}
		return nil
	})
}

func tokenHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}
