package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/mesadeservicios/mesa/ticket"
)

// SaveMailboxStatus records the state of a mailbox as its reader sees it.
func (db *DB) SaveMailboxStatus(ctx context.Context, s ticket.MailboxStatus) error {
	_, err := db.exec(ctx, `INSERT INTO mailbox_status (name, last_success, failing_since, last_error, needs_reauth, updated_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET last_success = excluded.last_success, failing_since = excluded.failing_since,
			last_error = excluded.last_error, needs_reauth = excluded.needs_reauth, updated_at = excluded.updated_at`,
		s.Name, nullTime(s.LastSuccess), nullTime(s.FailingSince), clean(s.LastError), s.NeedsReauthorization, s.UpdatedAt.UTC())
	if err != nil {
		return fmt.Errorf("saving the status of mailbox %s: %w", s.Name, err)
	}
	return nil
}

// MailboxStatuses returns the recorded state of every mailbox, by name.
func (db *DB) MailboxStatuses(ctx context.Context) (map[string]ticket.MailboxStatus, error) {
	rows, err := db.query(ctx, `SELECT name, last_success, failing_since, last_error, needs_reauth, updated_at FROM mailbox_status`)
	if err != nil {
		return nil, fmt.Errorf("reading mailbox statuses: %w", err)
	}
	defer rows.Close()
	out := map[string]ticket.MailboxStatus{}
	for rows.Next() {
		var s ticket.MailboxStatus
		var last, failing sql.NullTime
		if err := rows.Scan(&s.Name, &last, &failing, &s.LastError, &s.NeedsReauthorization, &s.UpdatedAt); err != nil {
			return nil, fmt.Errorf("reading mailbox statuses: %w", err)
		}
		if last.Valid {
			s.LastSuccess = last.Time.UTC()
		}
		if failing.Valid {
			s.FailingSince = failing.Time.UTC()
		}
		s.UpdatedAt = s.UpdatedAt.UTC()
		out[s.Name] = s
	}
	return out, rows.Err()
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}
