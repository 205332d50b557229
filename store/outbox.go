package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mesadeservicios/mesa/ticket"
)

// EnqueueMail writes a rendered mail to the outbox, pending, and sets its ID.
// A row with the same dedupe key already stored gives
// ticket.ErrAlreadyStored and changes nothing.
func (db *DB) EnqueueMail(ctx context.Context, m *ticket.Outgoing) error {
	if m.DedupeKey == "" || len(m.To) == 0 {
		return fmt.Errorf("%w: outbox row needs a dedupe key and a recipient", ticket.ErrInvalid)
	}
	if m.State == "" {
		m.State = ticket.OutboxPending
	}
	err := db.get(ctx, &m.ID, `INSERT INTO outbox (ticket_id, dedupe_key, from_addr, to_addrs, subject,
		message_id, raw, state, attempts, next_attempt_at, last_error, created_at, sent_at, answers_automatic)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`,
		nullID(m.TicketID), clean(m.DedupeKey), clean(m.From), clean(strings.Join(m.To, "\n")),
		clean(m.Subject), clean(m.MessageID), nonNil(m.Raw), m.State, m.Attempts,
		m.NextAttemptAt.UTC(), clean(m.LastError), m.CreatedAt.UTC(), utcp(m.SentAt), m.AnswersAutomatic)
	if errors.Is(err, ticket.ErrNotFound) {
		return fmt.Errorf("queueing mail %s: %w", m.DedupeKey, ticket.ErrAlreadyStored)
	}
	if err != nil {
		return fmt.Errorf("queueing mail %s: %w", m.DedupeKey, err)
	}
	return nil
}

const outboxCols = `id, COALESCE(ticket_id, 0), dedupe_key, from_addr, to_addrs, subject, message_id,
	raw, state, attempts, next_attempt_at, last_error, created_at, sent_at, answers_automatic`

func scanOutgoing(r scanner) (*ticket.Outgoing, error) {
	var m ticket.Outgoing
	var to string
	if err := r.Scan(&m.ID, &m.TicketID, &m.DedupeKey, &m.From, &to, &m.Subject, &m.MessageID,
		&m.Raw, &m.State, &m.Attempts, &m.NextAttemptAt, &m.LastError, &m.CreatedAt, &m.SentAt, &m.AnswersAutomatic); err != nil {
		return nil, err
	}
	m.To = strings.Split(to, "\n")
	m.NextAttemptAt, m.CreatedAt, m.SentAt = m.NextAttemptAt.UTC(), m.CreatedAt.UTC(), utcp(m.SentAt)
	return &m, nil
}

// MailByDedupeKey returns the outbox row with that key.
func (db *DB) MailByDedupeKey(ctx context.Context, key string) (*ticket.Outgoing, error) {
	m, err := scanOutgoing(db.queryRow(ctx, `SELECT `+outboxCols+` FROM outbox WHERE dedupe_key = ?`, key))
	if err != nil {
		return nil, fmt.Errorf("reading outbox row %s: %w", key, db.translate(err))
	}
	return m, nil
}

// DueMail returns up to limit pending rows whose next attempt is due at now,
// oldest first. Inside a transaction on PostgreSQL the rows are locked with
// SKIP LOCKED, so several instances never send the same row at once.
func (db *DB) DueMail(ctx context.Context, now time.Time, limit int) ([]*ticket.Outgoing, error) {
	return scanAll(ctx, db, "due mail", scanOutgoing, `SELECT `+outboxCols+` FROM outbox
		WHERE state = ? AND next_attempt_at <= ? ORDER BY id LIMIT ?`+db.skipLocked(ctx), ticket.OutboxPending, now.UTC(), limit)
}

// UpdateMail records the outcome of a send attempt: state, attempts, next
// attempt, last error and sent time.
func (db *DB) UpdateMail(ctx context.Context, m *ticket.Outgoing) error {
	_, err := db.exec(ctx, `UPDATE outbox SET state = ?, attempts = ?, next_attempt_at = ?, last_error = ?, sent_at = ?
		WHERE id = ?`, m.State, m.Attempts, m.NextAttemptAt.UTC(), clean(m.LastError), utcp(m.SentAt), m.ID)
	if err != nil {
		return fmt.Errorf("updating outbox row %d: %w", m.ID, err)
	}
	return nil
}

// MailByMessageID returns the outbox row whose Message-ID is id (without
// angle brackets): what a bounce refers to.
func (db *DB) MailByMessageID(ctx context.Context, id string) (*ticket.Outgoing, error) {
	m, err := scanOutgoing(db.queryRow(ctx, `SELECT `+outboxCols+` FROM outbox WHERE message_id = ? ORDER BY id LIMIT 1`, id))
	if err != nil {
		return nil, fmt.Errorf("reading outbox row <%s>: %w", id, db.translate(err))
	}
	return m, nil
}

// LatestMail returns the most recent outbox row of a ticket, addressed to
// exactly to when it is not empty.
func (db *DB) LatestMail(ctx context.Context, ticketID int64, to string) (*ticket.Outgoing, error) {
	m, err := scanOutgoing(db.queryRow(ctx, `SELECT `+outboxCols+` FROM outbox WHERE ticket_id = ? AND (? = '' OR to_addrs = ?)
		ORDER BY id DESC LIMIT 1`, ticketID, strings.ToLower(to), strings.ToLower(to)))
	if err != nil {
		return nil, fmt.Errorf("reading latest mail of ticket %d: %w", ticketID, db.translate(err))
	}
	return m, nil
}

// ClaimMail takes up to limit due pending rows for sending and pushes their
// next attempt lease into the future (plus a second per 64 KiB of the mail,
// as the SMTP deadline grows), so that no other worker (another instance, or
// this one after a crash) sends them meanwhile. The claim is a
// short transaction (FOR UPDATE SKIP LOCKED on PostgreSQL); the sending
// happens outside it. A worker that dies mid-send leaves the row to be
// retried when the lease ends: mail is sent at least once, and its
// Message-ID lets receivers recognise a repeat.
func (db *DB) ClaimMail(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*ticket.Outgoing, error) {
	var out []*ticket.Outgoing
	err := db.InTx(ctx, func(ctx context.Context) error {
		rows, err := db.DueMail(ctx, now, limit)
		if err != nil {
			return err
		}
		for _, m := range rows {
			if _, err := db.exec(ctx, `UPDATE outbox SET next_attempt_at = ? WHERE id = ?`,
				now.Add(lease+time.Duration(len(m.Raw)/(64<<10))*time.Second).UTC(), m.ID); err != nil {
				return fmt.Errorf("claiming outbox row %d: %w", m.ID, err)
			}
		}
		out = rows
		return nil
	})
	return out, err
}

// MarkUndeliverable records that mail to addr bounces permanently.
func (db *DB) MarkUndeliverable(ctx context.Context, addr, reason string, at time.Time) error {
	_, err := db.exec(ctx, `INSERT INTO undeliverable (email, reason, created_at) VALUES (?, ?, ?)
		ON CONFLICT (email) DO UPDATE SET reason = excluded.reason, created_at = excluded.created_at`,
		strings.ToLower(clean(addr)), clean(reason), at.UTC())
	if err != nil {
		return fmt.Errorf("marking %s undeliverable: %w", addr, err)
	}
	return nil
}

// MailPressure answers, in one round trip, what the automatic-mail
// throttle needs: whether addr was marked undeliverable since badSince,
// and how many mails that answered automatic-looking mail
// (Outgoing.AnswersAutomatic) went to it since hourSince and since
// daySince, each counted up to its max.
func (db *DB) MailPressure(ctx context.Context, addr string, badSince, hourSince time.Time, hourMax int, daySince time.Time, dayMax int) (bool, int, int, error) {
	addr = strings.ToLower(addr)
	var r struct {
		Bad  int `db:"bad"`
		Hour int `db:"hour"`
		Day  int `db:"day"`
	}
	err := db.get(ctx, &r, `SELECT
		(SELECT COUNT(*) FROM undeliverable WHERE email = ? AND created_at >= ?) AS bad,
		(SELECT COUNT(*) FROM (SELECT 1 FROM outbox WHERE to_addrs = ? AND answers_automatic AND created_at >= ? LIMIT ?) AS h) AS hour,
		(SELECT COUNT(*) FROM (SELECT 1 FROM outbox WHERE to_addrs = ? AND answers_automatic AND created_at >= ? LIMIT ?) AS d) AS day`,
		addr, badSince.UTC(), addr, hourSince.UTC(), max(hourMax, 0), addr, daySince.UTC(), max(dayMax, 0))
	if err != nil {
		return false, 0, 0, fmt.Errorf("reading mail pressure on %s: %w", addr, err)
	}
	return r.Bad > 0, r.Hour, r.Day, nil
}

// OutboxStats counts the outbox by state and gives the oldest due pending
// mail's due time (zero when none), for metrics and readiness.
func (db *DB) OutboxStats(ctx context.Context, now time.Time) (map[string]int, time.Time, error) {
	rows, err := db.query(ctx, `SELECT state, COUNT(*) FROM outbox GROUP BY state`)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("counting the outbox: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, time.Time{}, fmt.Errorf("counting the outbox: %w", err)
		}
		out[s] = n
	}
	if err := rows.Err(); err != nil {
		return nil, time.Time{}, db.translate(err)
	}
	// ORDER BY … LIMIT 1 rather than MIN(): SQLite loses the column's
	// declared type on an aggregate and returns text.
	var oldest time.Time
	err = db.get(ctx, &oldest, `SELECT next_attempt_at FROM outbox WHERE state = ? AND next_attempt_at <= ?
		ORDER BY next_attempt_at LIMIT 1`, ticket.OutboxPending, now.UTC())
	if errors.Is(err, ticket.ErrNotFound) {
		return out, time.Time{}, nil
	}
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("reading the oldest due mail: %w", err)
	}
	return out, oldest.UTC(), nil
}
