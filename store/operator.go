package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/mesadeservicios/mesa/ticket"
)

// Conditions returns every operator alert condition ever recorded.
func (db *DB) Conditions(ctx context.Context) ([]ticket.Condition, error) {
	rows, err := db.query(ctx, `SELECT cond, grp, episode, open, detail, raised_at, cleared_at FROM operator_conditions ORDER BY cond`)
	if err != nil {
		return nil, fmt.Errorf("reading operator conditions: %w", err)
	}
	defer rows.Close()
	var out []ticket.Condition
	for rows.Next() {
		var c ticket.Condition
		var cleared sql.NullTime
		if err := rows.Scan(&c.Key, &c.Group, &c.Episode, &c.Open, &c.Detail, &c.RaisedAt, &cleared); err != nil {
			return nil, fmt.Errorf("reading operator conditions: %w", err)
		}
		c.RaisedAt = c.RaisedAt.UTC()
		if cleared.Valid {
			t := cleared.Time.UTC()
			c.ClearedAt = &t
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// SaveCondition records a condition (insert or update by key).
func (db *DB) SaveCondition(ctx context.Context, c ticket.Condition) error {
	var cleared any
	if c.ClearedAt != nil {
		cleared = c.ClearedAt.UTC()
	}
	_, err := db.exec(ctx, `INSERT INTO operator_conditions (cond, grp, episode, open, detail, raised_at, cleared_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (cond) DO UPDATE SET grp = excluded.grp, episode = excluded.episode, open = excluded.open,
			detail = excluded.detail, raised_at = excluded.raised_at, cleared_at = excluded.cleared_at`,
		c.Key, c.Group, c.Episode, c.Open, clean(c.Detail), c.RaisedAt.UTC(), cleared)
	if err != nil {
		return fmt.Errorf("saving operator condition %s: %w", c.Key, err)
	}
	return nil
}

// FailingMail returns the pending outbox mail created at or before since
// that failed at least once, oldest first (at most limit).
func (db *DB) FailingMail(ctx context.Context, since time.Time, limit int) ([]*ticket.Outgoing, error) {
	return scanAll(ctx, db, "failing mail", scanOutgoing, `SELECT `+outboxCols+` FROM outbox
		WHERE state = ? AND attempts > 0 AND created_at <= ? ORDER BY created_at, id LIMIT ?`, ticket.OutboxPending, since.UTC(), limit)
}

// HeldMailAfter returns held outbox mail with an id above after, oldest
// first (at most limit).
func (db *DB) HeldMailAfter(ctx context.Context, after int64, limit int) ([]*ticket.Outgoing, error) {
	return scanAll(ctx, db, "held mail", scanOutgoing, `SELECT `+outboxCols+` FROM outbox
		WHERE state = ? AND id > ? ORDER BY id LIMIT ?`, ticket.OutboxHeld, after, limit)
}

// QuarantinedAfter returns quarantined messages with an id above after
// (id, sender, subject, reason-less), oldest first.
func (db *DB) QuarantinedAfter(ctx context.Context, after int64, limit int) ([]ticket.QuarantinedMessage, error) {
	rows, err := db.query(ctx, `SELECT id, from_addr, subject, received_at FROM messages WHERE disposition = 'quarantined' AND id > ?
		ORDER BY id LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("reading quarantined messages: %w", err)
	}
	defer rows.Close()
	var out []ticket.QuarantinedMessage
	for rows.Next() {
		var m ticket.QuarantinedMessage
		if err := rows.Scan(&m.ID, &m.From, &m.Subject, &m.ReceivedAt); err != nil {
			return nil, fmt.Errorf("reading quarantined messages: %w", err)
		}
		m.ReceivedAt = m.ReceivedAt.UTC()
		out = append(out, m)
	}
	return out, rows.Err()
}
