package store

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"time"

	"github.com/mesadeservicios/mesa/ticket"
)

// SetCopy makes email a participant of a ticket and says whether it
// receives the ticket's public answers.
func (db *DB) SetCopy(ctx context.Context, ticketID int64, email string, on bool) error {
	v := 0
	if on {
		v = 1
	}
	_, err := db.exec(ctx, `INSERT INTO ticket_participants (ticket_id, email, copies) VALUES (?, ?, ?)
		ON CONFLICT (ticket_id, email) DO UPDATE SET copies = excluded.copies`,
		ticketID, strings.ToLower(strings.TrimSpace(clean(email))), v)
	if err != nil {
		return fmt.Errorf("setting copy of %s on ticket %d: %w", email, ticketID, err)
	}
	return nil
}

// Participants returns the addresses that take part in a ticket, and
// which of them receive copies, in address order.
func (db *DB) Participants(ctx context.Context, ticketID int64) ([]ticket.Participant, error) {
	rows, err := db.query(ctx, `SELECT email, copies FROM ticket_participants WHERE ticket_id = ? ORDER BY email`, ticketID)
	if err != nil {
		return nil, fmt.Errorf("reading participants of ticket %d: %w", ticketID, err)
	}
	defer rows.Close()
	var out []ticket.Participant
	for rows.Next() {
		var p ticket.Participant
		var copies int
		if err := rows.Scan(&p.Email, &copies); err != nil {
			return nil, fmt.Errorf("reading participants of ticket %d: %w", ticketID, err)
		}
		p.Copy = copies != 0
		out = append(out, p)
	}
	return out, db.translate(rows.Err())
}

// Attachment returns one stored file by its ID.
func (db *DB) Attachment(ctx context.Context, id int64) (*ticket.Attachment, error) {
	var a ticket.Attachment
	err := db.queryRow(ctx, `SELECT id, message_id, COALESCE(ticket_id, 0), filename, content_type, size, sha256, data
		FROM attachments WHERE id = ?`, id).Scan(&a.ID, &a.MessageID, &a.TicketID, &a.Filename, &a.ContentType, &a.Size, &a.SHA256, &a.Data)
	if err != nil {
		return nil, fmt.Errorf("reading attachment %d: %w", id, db.translate(err))
	}
	return &a, nil
}

// MessageRaw returns the raw bytes of a stored message by its ID,
// reassembled when they were stored in chunks.
func (db *DB) MessageRaw(ctx context.Context, id int64) ([]byte, error) {
	var key string
	if err := db.get(ctx, &key, `SELECT dedupe_key FROM messages WHERE id = ?`, id); err != nil {
		return nil, fmt.Errorf("reading message %d: %w", id, db.translate(err))
	}
	m, err := db.MessageByKey(ctx, key)
	if err != nil {
		return nil, err
	}
	return m.Raw, nil
}

// LinkKey returns the server's key named name (32 random bytes), made on
// first use and kept in the database, so that every instance signs and
// checks links with the same key and a restart keeps them valid.
func (db *DB) LinkKey(ctx context.Context, name string) ([]byte, error) {
	secret := make([]byte, 32)
	rand.Read(secret) // never fails (crypto/rand, Go 1.24+)
	if _, err := db.exec(ctx, `INSERT INTO server_keys (name, secret, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING`,
		name, secret, time.Now().UTC()); err != nil {
		return nil, fmt.Errorf("making key %s: %w", name, err)
	}
	var got []byte
	if err := db.get(ctx, &got, `SELECT secret FROM server_keys WHERE name = ?`, name); err != nil {
		return nil, fmt.Errorf("reading key %s: %w", name, db.translate(err))
	}
	return got, nil
}
