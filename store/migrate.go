package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one forward-only step of the schema.
type migration struct {
	version int
	name    string
	sql     string
}

// ErrSchemaOutdated is returned by CheckSchema when migrations are pending.
var ErrSchemaOutdated = errors.New("database schema is outdated")

// ErrSchemaNewer is returned by CheckSchema when the database was migrated by
// a newer mesa than this one.
var ErrSchemaNewer = errors.New("database schema is newer than this mesa")

func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, n := range names {
		base := strings.TrimPrefix(n, "migrations/")
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration file %s: name must start with a number and _", base)
		}
		b, err := migrationFiles.ReadFile(n)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: base, sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: versions must be 1, 2, 3… without gaps", m.name)
		}
	}
	return ms, nil
}

// dialect fills the per-dialect placeholders of a migration.
func (db *DB) dialect(s string) string {
	id, ts, blob := "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", "TIMESTAMPTZ", "BYTEA"
	if db.driver == "sqlite" {
		// INTEGER PRIMARY KEY is SQLite's rowid alias; TIMESTAMP as declared
		// type makes modernc return time.Time.
		id, ts, blob = "INTEGER PRIMARY KEY", "TIMESTAMP", "BLOB"
	}
	return strings.NewReplacer("{{ID}}", id, "{{TS}}", ts, "{{BLOB}}", blob).Replace(s)
}

// LatestVersion is the schema version this mesa needs.
func LatestVersion() int {
	ms, err := migrations()
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].version
}

// SchemaVersion returns the version the database is at (0 when empty).
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	if _, err := db.exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at `+db.dialect("{{TS}}")+` NOT NULL)`); err != nil {
		return 0, fmt.Errorf("creating schema_migrations: %w", err)
	}
	var v int
	if err := db.get(ctx, &v, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`); err != nil {
		return 0, fmt.Errorf("reading schema version: %w", err)
	}
	return v, nil
}

// CheckSchema returns nil when the database is exactly at LatestVersion.
func (db *DB) CheckSchema(ctx context.Context) error {
	v, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	latest := LatestVersion()
	switch {
	case v < latest:
		return fmt.Errorf("%w: it is at version %d, this mesa needs %d; run `mesa migrate`", ErrSchemaOutdated, v, latest)
	case v > latest:
		return fmt.Errorf("%w: it is at version %d, this mesa knows up to %d; upgrade mesa", ErrSchemaNewer, v, latest)
	}
	return nil
}

// Migrate applies every pending migration, each in its own transaction, and
// returns how many it applied. On PostgreSQL an advisory lock makes several
// instances starting at once apply each migration exactly once.
func (db *DB) Migrate(ctx context.Context) (applied int, err error) {
	ms, err := migrations()
	if err != nil {
		return 0, err
	}
	if _, err := db.SchemaVersion(ctx); err != nil {
		return 0, err
	}
	for _, m := range ms {
		err := db.InTx(ctx, func(ctx context.Context) error {
			if db.driver == "postgres" {
				if _, err := db.exec(ctx, `SELECT pg_advisory_xact_lock(7210001)`); err != nil {
					return err
				}
			}
			var n int
			if err := db.get(ctx, &n, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, m.version); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := db.q(ctx).ExecContext(ctx, db.dialect(m.sql)); err != nil {
				return fmt.Errorf("applying migration %s: %w", m.name, err)
			}
			if _, err := db.exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				m.version, m.name, time.Now().UTC()); err != nil {
				return err
			}
			applied++
			return nil
		})
		if err != nil {
			return applied, err
		}
	}
	return applied, nil
}
