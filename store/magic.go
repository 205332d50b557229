package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mesadeservicios/mesa/ticket"
)

// CreateMagicLink stores a "Mis solicitudes" link by its token's hash.
func (db *DB) CreateMagicLink(ctx context.Context, tokenHash, email string, created, expires time.Time) error {
	_, err := db.exec(ctx, `INSERT INTO magic_links (token, email, created_at, expires_at) VALUES (?, ?, ?, ?)`,
		tokenHash, strings.ToLower(clean(email)), created.UTC(), expires.UTC())
	if err != nil {
		return fmt.Errorf("creating link for %s: %w", email, err)
	}
	return nil
}

// MagicLink returns the address and expiry of a link.
func (db *DB) MagicLink(ctx context.Context, tokenHash string) (string, time.Time, error) {
	var email string
	var expires time.Time
	err := db.queryRow(ctx, `SELECT email, expires_at FROM magic_links WHERE token = ?`, tokenHash).Scan(&email, &expires)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("reading link: %w", db.translate(err))
	}
	return email, expires.UTC(), nil
}

// CountMagicLinks counts the links made for an address since t.
func (db *DB) CountMagicLinks(ctx context.Context, email string, since time.Time) (int, error) {
	var n int
	if err := db.get(ctx, &n, `SELECT COUNT(*) FROM magic_links WHERE email = ? AND created_at >= ?`,
		strings.ToLower(email), since.UTC()); err != nil {
		return 0, fmt.Errorf("counting links of %s: %w", email, err)
	}
	return n, nil
}

// TicketsByRequester returns up to limit tickets of a requester, newest
// first.
func (db *DB) TicketsByRequester(ctx context.Context, email string, limit int) ([]*ticket.Ticket, error) {
	return db.ListTickets(ctx, TicketFilter{Requester: strings.ToLower(email), Limit: limit})
}
