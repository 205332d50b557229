package store

import (
	"context"
	"fmt"
	"time"
)

// PurgeKind names what a retention purge removes.
type PurgeKind string

// The purge kinds.
const (
	PurgeRawMail     PurgeKind = "raw_mail"    // messages.raw and message_chunks
	PurgeAttachments PurgeKind = "attachments" // attachments.data
)

// ClosedForPurge returns up to limit tickets closed (state cerrado) before
// before that still hold bytes of kind, oldest closure first.
func (db *DB) ClosedForPurge(ctx context.Context, kind PurgeKind, before time.Time, limit int) ([]int64, error) {
	var hold string
	switch kind {
	case PurgeRawMail:
		hold = `EXISTS (SELECT 1 FROM messages m WHERE m.ticket_id = t.id AND m.raw_purged_at IS NULL)`
	case PurgeAttachments:
		hold = `EXISTS (SELECT 1 FROM attachments a WHERE a.ticket_id = t.id AND a.data_purged_at IS NULL AND LENGTH(a.data) > 0)`
	default:
		return nil, fmt.Errorf("unknown purge kind %q", kind)
	}
	var ids []int64
	err := sqlxSelect(ctx, db, &ids, `SELECT t.id FROM tickets t WHERE t.state = 'cerrado' AND t.closed_at < ? AND `+
		hold+` ORDER BY t.closed_at, t.id LIMIT ?`, before.UTC(), limit)
	if err != nil {
		return nil, fmt.Errorf("finding tickets to purge of %s: %w", kind, db.translate(err))
	}
	return ids, nil
}

// Purge removes the bytes of kind held for a ticket and says how many rows
// and bytes went. The rows stay (sender, subject, Message-ID, file name,
// size, SHA-256), marked with the time of the purge. Run it in the
// transaction that records the purge's event.
func (db *DB) Purge(ctx context.Context, kind PurgeKind, ticketID int64, now time.Time) (rows int, bytes int64, err error) {
	var size, update string
	var args []any
	switch kind {
	case PurgeRawMail:
		size = `SELECT COUNT(*), COALESCE(SUM(LENGTH(m.raw) + (SELECT COALESCE(SUM(LENGTH(c.data)), 0)
			FROM message_chunks c WHERE c.message_id = m.id)), 0) FROM messages m WHERE m.ticket_id = ? AND m.raw_purged_at IS NULL`
		update = `UPDATE messages SET raw = ?, raw_chunks = 0, raw_purged_at = ? WHERE ticket_id = ? AND raw_purged_at IS NULL`
	case PurgeAttachments:
		size = `SELECT COUNT(*), COALESCE(SUM(LENGTH(data)), 0) FROM attachments
			WHERE ticket_id = ? AND data_purged_at IS NULL AND LENGTH(data) > 0`
		update = `UPDATE attachments SET data = ?, data_purged_at = ? WHERE ticket_id = ? AND data_purged_at IS NULL AND LENGTH(data) > 0`
	default:
		return 0, 0, fmt.Errorf("unknown purge kind %q", kind)
	}
	args = []any{[]byte{}, now.UTC(), ticketID}
	err = db.InTx(ctx, func(ctx context.Context) error {
		if err := db.queryRow(ctx, size, ticketID).Scan(&rows, &bytes); err != nil {
			return db.translate(err)
		}
		if kind == PurgeRawMail {
			if _, err := db.exec(ctx, `DELETE FROM message_chunks WHERE message_id IN
				(SELECT id FROM messages WHERE ticket_id = ? AND raw_purged_at IS NULL)`, ticketID); err != nil {
				return err
			}
		}
		_, err := db.exec(ctx, update, args...)
		return err
	})
	if err != nil {
		return 0, 0, fmt.Errorf("purging %s of ticket %d: %w", kind, ticketID, err)
	}
	return rows, bytes, nil
}
