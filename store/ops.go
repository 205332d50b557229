package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mesadeservicios/mesa/ticket"
)

// OperatorAction is one thing an operator did with the stuck-mail,
// export or retention commands: the audit trail of operations, beside the
// tickets' own events.
type OperatorAction struct {
	ID       int64     `json:"id"`
	At       time.Time `json:"at"`
	Actor    string    `json:"actor"`            // who: --actor, or $SUDO_USER/$USER@hostname
	Action   string    `json:"action"`           // quarantine_replay, outbox_retry, outbox_discard, undeliverable_clear, export, retention_purge
	Target   string    `json:"target"`           // the message key, outbox id, address…
	TicketID int64     `json:"ticket_id"`        // 0 when no ticket is concerned
	Detail   string    `json:"detail,omitempty"` // JSON object, or empty
}

// RecordAction appends a to the operations trail and sets its ID.
func (db *DB) RecordAction(ctx context.Context, a *OperatorAction) error {
	err := db.get(ctx, &a.ID, `INSERT INTO operator_actions (at, actor, action, target, ticket_id, detail)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, a.At.UTC(), clean(a.Actor), clean(a.Action), clean(a.Target),
		nullID(a.TicketID), clean(a.Detail))
	if err != nil {
		return fmt.Errorf("recording %s by %s: %w", a.Action, a.Actor, err)
	}
	return nil
}

// Actions returns the latest operator actions, newest first (0: 100).
func (db *DB) Actions(ctx context.Context, limit int) ([]OperatorAction, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := db.query(ctx, `SELECT id, at, actor, action, target, COALESCE(ticket_id, 0), detail
		FROM operator_actions ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("reading operator actions: %w", err)
	}
	defer rows.Close()
	var out []OperatorAction
	for rows.Next() {
		var a OperatorAction
		if err := rows.Scan(&a.ID, &a.At, &a.Actor, &a.Action, &a.Target, &a.TicketID, &a.Detail); err != nil {
			return nil, fmt.Errorf("reading operator actions: %w", err)
		}
		a.At = a.At.UTC()
		out = append(out, a)
	}
	return out, db.translate(rows.Err())
}

// MessageInfo describes a stored inbound message without its bytes.
type MessageInfo struct {
	ID          int64     `json:"id"`
	Key         string    `json:"key"`
	Mailbox     string    `json:"mailbox"`
	UID         uint32    `json:"uid"`
	From        string    `json:"from"`
	Subject     string    `json:"subject"`
	Size        int64     `json:"size"`
	ReceivedAt  time.Time `json:"received_at"`
	Disposition string    `json:"disposition"`
	Reason      string    `json:"reason"`
	TicketID    int64     `json:"ticket_id,omitempty"`
	Purged      bool      `json:"raw_purged,omitempty"`
}

const messageInfoCols = `m.id, m.dedupe_key, m.mailbox, m.uid, m.from_addr, m.subject,
	CASE WHEN m.raw_chunks > 0 THEN (SELECT COALESCE(SUM(LENGTH(c.data)), 0) FROM message_chunks c WHERE c.message_id = m.id)
	ELSE LENGTH(m.raw) END, m.received_at, m.disposition, m.reason, COALESCE(m.ticket_id, 0),
	CASE WHEN m.raw_purged_at IS NULL THEN 0 ELSE 1 END`

func scanMessageInfo(r scanner) (MessageInfo, error) {
	var m MessageInfo
	var uid int64
	var purged int
	err := r.Scan(&m.ID, &m.Key, &m.Mailbox, &uid, &m.From, &m.Subject, &m.Size, &m.ReceivedAt,
		&m.Disposition, &m.Reason, &m.TicketID, &purged)
	m.UID, m.ReceivedAt, m.Purged = uint32(uid), m.ReceivedAt.UTC(), purged == 1
	return m, err
}

// Quarantined lists the quarantined messages, oldest first (limit 0: 1000).
func (db *DB) Quarantined(ctx context.Context, limit int) ([]MessageInfo, error) {
	if limit <= 0 {
		limit = 1000
	}
	rows, err := db.query(ctx, `SELECT `+messageInfoCols+` FROM messages m WHERE m.disposition = ? ORDER BY m.id LIMIT ?`,
		"quarantined", limit)
	if err != nil {
		return nil, fmt.Errorf("listing quarantine: %w", err)
	}
	defer rows.Close()
	var out []MessageInfo
	for rows.Next() {
		m, err := scanMessageInfo(rows)
		if err != nil {
			return nil, fmt.Errorf("listing quarantine: %w", err)
		}
		out = append(out, m)
	}
	return out, db.translate(rows.Err())
}

// MessageInfoByID describes the stored message with that id.
func (db *DB) MessageInfoByID(ctx context.Context, id int64) (MessageInfo, error) {
	m, err := scanMessageInfo(db.queryRow(ctx, `SELECT `+messageInfoCols+` FROM messages m WHERE m.id = ?`, id))
	if err != nil {
		return m, fmt.Errorf("reading message %d: %w", id, db.translate(err))
	}
	return m, nil
}

// MessageByID returns the stored message with that id, its raw bytes
// reassembled.
func (db *DB) MessageByID(ctx context.Context, id int64) (*ticket.RawMessage, error) {
	m, chunks, err := scanMessage(db.queryRow(ctx, `SELECT `+messageCols+` FROM messages WHERE id = ?`, id))
	if err != nil {
		return nil, fmt.Errorf("reading message %d: %w", id, db.translate(err))
	}
	if err := db.readChunks(ctx, m, chunks); err != nil {
		return nil, fmt.Errorf("reading message %d: %w", id, err)
	}
	return m, nil
}

// ErrNotStuck is returned when an operator command targets a row that is
// not in a state it applies to: a message no longer quarantined, mail
// already sent.
var ErrNotStuck = errors.New("not in a state this command applies to")

// DeleteQuarantined removes a quarantined message (and its chunks) so that
// intake can store it again: the first half of a replay, to be run in the
// same transaction as the intake. A message that is not quarantined, or
// belongs to a ticket, gives ErrNotStuck and is left alone.
func (db *DB) DeleteQuarantined(ctx context.Context, id int64) error {
	return db.InTx(ctx, func(ctx context.Context) error {
		var n int
		if err := db.get(ctx, &n, `SELECT COUNT(*) FROM messages WHERE id = ? AND disposition = ? AND ticket_id IS NULL`,
			id, "quarantined"); err != nil {
			return fmt.Errorf("checking message %d: %w", id, err)
		}
		if n == 0 {
			return fmt.Errorf("message %d: %w", id, ErrNotStuck)
		}
		for _, q := range []string{`DELETE FROM message_chunks WHERE message_id = ?`,
			`DELETE FROM attachments WHERE message_id = ?`, `DELETE FROM messages WHERE id = ?`} {
			if _, err := db.exec(ctx, q, id); err != nil {
				return fmt.Errorf("removing quarantined message %d: %w", id, err)
			}
		}
		return nil
	})
}

// OutboxEntry describes an outbox row without its bytes.
type OutboxEntry struct {
	ID            int64              `json:"id"`
	Ticket        string             `json:"ticket,omitempty"`
	To            []string           `json:"to"`
	Subject       string             `json:"subject"`
	State         ticket.OutboxState `json:"state"`
	Attempts      int                `json:"attempts"`
	NextAttemptAt time.Time          `json:"next_attempt_at"`
	CreatedAt     time.Time          `json:"created_at"`
	LastError     string             `json:"last_error,omitempty"`
	Size          int64              `json:"size"`
}

// OutboxEntries lists outbox rows in the given states (none: held and
// failed), oldest first (limit 0: 1000).
func (db *DB) OutboxEntries(ctx context.Context, states []ticket.OutboxState, limit int) ([]OutboxEntry, error) {
	if len(states) == 0 {
		states = []ticket.OutboxState{ticket.OutboxHeld, ticket.OutboxFailed}
	}
	if limit <= 0 {
		limit = 1000
	}
	args := make([]any, 0, len(states)+1)
	for _, s := range states {
		args = append(args, s)
	}
	args = append(args, limit)
	rows, err := db.query(ctx, `SELECT o.id, COALESCE(t.number, ''), o.to_addrs, o.subject, o.state, o.attempts,
		o.next_attempt_at, o.created_at, o.last_error, LENGTH(o.raw)
		FROM outbox o LEFT JOIN tickets t ON t.id = o.ticket_id
		WHERE o.state IN (?`+strings.Repeat(", ?", len(states)-1)+`) ORDER BY o.id LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("listing the outbox: %w", err)
	}
	defer rows.Close()
	var out []OutboxEntry
	for rows.Next() {
		var e OutboxEntry
		var to string
		if err := rows.Scan(&e.ID, &e.Ticket, &to, &e.Subject, &e.State, &e.Attempts, &e.NextAttemptAt,
			&e.CreatedAt, &e.LastError, &e.Size); err != nil {
			return nil, fmt.Errorf("listing the outbox: %w", err)
		}
		e.To, e.NextAttemptAt, e.CreatedAt = strings.Split(to, "\n"), e.NextAttemptAt.UTC(), e.CreatedAt.UTC()
		out = append(out, e)
	}
	return out, db.translate(rows.Err())
}

// MailByID returns the outbox row with that id.
func (db *DB) MailByID(ctx context.Context, id int64) (*ticket.Outgoing, error) {
	m, err := scanOutgoing(db.queryRow(ctx, `SELECT `+outboxCols+` FROM outbox WHERE id = ?`, id))
	if err != nil {
		return nil, fmt.Errorf("reading outbox row %d: %w", id, db.translate(err))
	}
	return m, nil
}

// RetryMail releases a held or failed outbox row: pending, due at now,
// attempts counted again from zero. It returns the row as it was; other
// states give ErrNotStuck.
func (db *DB) RetryMail(ctx context.Context, id int64, now time.Time) (*ticket.Outgoing, error) {
	return db.moveMail(ctx, id, []ticket.OutboxState{ticket.OutboxHeld, ticket.OutboxFailed},
		`UPDATE outbox SET state = ?, attempts = 0, next_attempt_at = ?, last_error = '' WHERE id = ?`,
		ticket.OutboxPending, now.UTC(), id)
}

// DiscardMail marks a pending, held or failed outbox row discarded: it is
// never sent, and it keeps its dedupe key so nothing queues it again.
func (db *DB) DiscardMail(ctx context.Context, id int64, now time.Time) (*ticket.Outgoing, error) {
	return db.moveMail(ctx, id, []ticket.OutboxState{ticket.OutboxPending, ticket.OutboxHeld, ticket.OutboxFailed},
		`UPDATE outbox SET state = ?, next_attempt_at = ? WHERE id = ?`, ticket.OutboxDiscarded, now.UTC(), id)
}

func (db *DB) moveMail(ctx context.Context, id int64, from []ticket.OutboxState, update string, args ...any) (*ticket.Outgoing, error) {
	var before *ticket.Outgoing
	err := db.InTx(ctx, func(ctx context.Context) error {
		m, err := scanOutgoing(db.queryRow(ctx, `SELECT `+outboxCols+` FROM outbox WHERE id = ?`+db.forUpdate(ctx), id))
		if err != nil {
			return fmt.Errorf("reading outbox row %d: %w", id, db.translate(err))
		}
		ok := false
		for _, s := range from {
			ok = ok || m.State == s
		}
		if !ok {
			return fmt.Errorf("outbox row %d is %s: %w", id, m.State, ErrNotStuck)
		}
		if _, err := db.exec(ctx, update, args...); err != nil {
			return fmt.Errorf("updating outbox row %d: %w", id, err)
		}
		before = m
		return nil
	})
	return before, err
}

// Undeliverable is an address whose mail bounced permanently.
type Undeliverable struct {
	Email  string    `json:"email"`
	Reason string    `json:"reason"`
	Since  time.Time `json:"since"`
	Held   int       `json:"held"` // outbox rows to it now held
}

// UndeliverableAddresses lists the addresses mesa holds mail for.
func (db *DB) UndeliverableAddresses(ctx context.Context) ([]Undeliverable, error) {
	rows, err := db.query(ctx, `SELECT u.email, u.reason, u.created_at,
		(SELECT COUNT(*) FROM outbox o WHERE o.to_addrs = u.email AND o.state = ?)
		FROM undeliverable u ORDER BY u.email`, ticket.OutboxHeld)
	if err != nil {
		return nil, fmt.Errorf("listing undeliverable addresses: %w", err)
	}
	defer rows.Close()
	var out []Undeliverable
	for rows.Next() {
		var u Undeliverable
		if err := rows.Scan(&u.Email, &u.Reason, &u.Since, &u.Held); err != nil {
			return nil, fmt.Errorf("listing undeliverable addresses: %w", err)
		}
		u.Since = u.Since.UTC()
		out = append(out, u)
	}
	return out, db.translate(rows.Err())
}

// ClearUndeliverable forgets that mail to addr bounces, so automatic mail
// to it is sent again; mail already held stays held (release it with
// RetryMail). It gives ticket.ErrNotFound when addr is not listed.
func (db *DB) ClearUndeliverable(ctx context.Context, addr string) error {
	res, err := db.exec(ctx, `DELETE FROM undeliverable WHERE email = ?`, strings.ToLower(strings.TrimSpace(addr)))
	if err != nil {
		return fmt.Errorf("clearing %s: %w", addr, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("clearing %s: %w", addr, ticket.ErrNotFound)
	}
	return nil
}
