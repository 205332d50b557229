package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mesadeservicios/mesa/ticket"
)

// StoreMessage keeps an inbound message verbatim and sets its ID. When a
// message with the same key is already stored it returns
// ticket.ErrAlreadyStored and changes nothing — not even inside a
// PostgreSQL transaction, which an ordinary unique violation would abort.
func (db *DB) StoreMessage(ctx context.Context, m *ticket.RawMessage) error {
	if m.Key == "" {
		return fmt.Errorf("%w: message without dedupe key", ticket.ErrInvalid)
	}
	return db.InTx(ctx, func(ctx context.Context) error {
		inline, chunks := m.Raw, 0
		if len(m.Raw) > chunkSize {
			inline, chunks = nil, (len(m.Raw)+chunkSize-1)/chunkSize
		}
		err := db.get(ctx, &m.ID, `INSERT INTO messages (dedupe_key, message_id, mailbox, uidvalidity,
			uid, from_addr, subject, raw, raw_chunks, received_at, ticket_id, disposition, reason)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`,
			clean(m.Key), clean(m.MessageID), clean(m.Mailbox), int64(m.UIDValidity), int64(m.UID),
			clean(m.From), clean(m.Subject), nonNil(inline), chunks, m.ReceivedAt.UTC(), nullID(m.TicketID),
			clean(m.Disposition), clean(m.Reason))
		if errors.Is(err, ticket.ErrNotFound) {
			return fmt.Errorf("storing message %s: %w", m.Key, ticket.ErrAlreadyStored)
		}
		if err != nil {
			return fmt.Errorf("storing message %s: %w", m.Key, err)
		}
		for i := 0; i < chunks; i++ {
			part := m.Raw[i*chunkSize : min((i+1)*chunkSize, len(m.Raw))]
			if _, err := db.exec(ctx, `INSERT INTO message_chunks (message_id, seq, data) VALUES (?, ?, ?)`, m.ID, i, part); err != nil {
				return fmt.Errorf("storing part %d of message %s: %w", i, m.Key, err)
			}
		}
		return nil
	})
}

// chunkSize is the largest raw message stored in one column; larger ones
// go to message_chunks in pieces of this size.
const chunkSize = 1 << 20

// SetMessageOutcome records which ticket a stored message went to, what
// intake did with it and why.
func (db *DB) SetMessageOutcome(ctx context.Context, id, ticketID int64, disposition, reason string) error {
	_, err := db.exec(ctx, `UPDATE messages SET ticket_id = ?, disposition = ?, reason = ? WHERE id = ?`,
		nullID(ticketID), clean(disposition), clean(reason), id)
	if err != nil {
		return fmt.Errorf("recording outcome of message %d: %w", id, err)
	}
	return nil
}

const messageCols = `id, dedupe_key, message_id, mailbox, uidvalidity, uid, from_addr, subject,
	raw, raw_chunks, received_at, COALESCE(ticket_id, 0), disposition, reason`

func scanMessage(r scanner) (*ticket.RawMessage, int, error) {
	var m ticket.RawMessage
	var uidv, uid int64
	var chunks int
	if err := r.Scan(&m.ID, &m.Key, &m.MessageID, &m.Mailbox, &uidv, &uid, &m.From, &m.Subject,
		&m.Raw, &chunks, &m.ReceivedAt, &m.TicketID, &m.Disposition, &m.Reason); err != nil {
		return nil, 0, err
	}
	m.UIDValidity, m.UID, m.ReceivedAt = uint32(uidv), uint32(uid), m.ReceivedAt.UTC()
	return &m, chunks, nil
}

// MessageByKey returns the stored message with that dedupe key, its raw
// bytes reassembled when they were stored in chunks.
func (db *DB) MessageByKey(ctx context.Context, key string) (*ticket.RawMessage, error) {
	m, chunks, err := scanMessage(db.queryRow(ctx, `SELECT `+messageCols+` FROM messages WHERE dedupe_key = ?`, key))
	if err != nil {
		return nil, fmt.Errorf("reading message %s: %w", key, db.translate(err))
	}
	if err := db.readChunks(ctx, m, chunks); err != nil {
		return nil, fmt.Errorf("reading message %s: %w", key, err)
	}
	return m, nil
}

// readChunks reassembles m.Raw from message_chunks when it was stored in
// chunks.
func (db *DB) readChunks(ctx context.Context, m *ticket.RawMessage, chunks int) error {
	if chunks == 0 {
		return nil
	}
	rows, err := db.query(ctx, `SELECT data FROM message_chunks WHERE message_id = ? ORDER BY seq`, m.ID)
	if err != nil {
		return err
	}
	defer rows.Close()
	m.Raw = make([]byte, 0, chunks*chunkSize)
	for rows.Next() {
		var part []byte
		if err := rows.Scan(&part); err != nil {
			return err
		}
		m.Raw = append(m.Raw, part...)
	}
	return db.translate(rows.Err())
}

// TicketIDByMessageID finds the ticket a Message-ID belongs to: an inbound
// message we stored, or an outbox mail we sent. Used to thread replies by
// In-Reply-To and References (RFC 5322 §3.6.4).
func (db *DB) TicketIDByMessageID(ctx context.Context, messageID string) (int64, error) {
	var id int64
	err := db.get(ctx, &id, `SELECT ticket_id FROM (
		SELECT ticket_id FROM outbox WHERE message_id = ? AND ticket_id IS NOT NULL
		UNION ALL
		SELECT ticket_id FROM messages WHERE message_id = ? AND ticket_id IS NOT NULL) AS t LIMIT 1`,
		messageID, messageID)
	if err != nil {
		return 0, fmt.Errorf("looking up message-id %s: %w", messageID, err)
	}
	return id, nil
}

// AddAttachment stores a file of a stored message and sets its ID.
func (db *DB) AddAttachment(ctx context.Context, a *ticket.Attachment) error {
	err := db.get(ctx, &a.ID, `INSERT INTO attachments (message_id, ticket_id, filename, content_type, size, sha256, data)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		a.MessageID, nullID(a.TicketID), clean(a.Filename), clean(a.ContentType), a.Size, a.SHA256, nonNil(a.Data))
	if err != nil {
		return fmt.Errorf("storing attachment %q: %w", a.Filename, err)
	}
	return nil
}

// Attachments returns the files of a ticket, in arrival order.
func (db *DB) Attachments(ctx context.Context, ticketID int64) ([]ticket.Attachment, error) {
	rows, err := db.query(ctx, `SELECT id, message_id, COALESCE(ticket_id, 0), filename, content_type, size, sha256, data
		FROM attachments WHERE ticket_id = ? ORDER BY id`, ticketID)
	if err != nil {
		return nil, fmt.Errorf("reading attachments of ticket %d: %w", ticketID, err)
	}
	defer rows.Close()
	var out []ticket.Attachment
	for rows.Next() {
		var a ticket.Attachment
		if err := rows.Scan(&a.ID, &a.MessageID, &a.TicketID, &a.Filename, &a.ContentType, &a.Size, &a.SHA256, &a.Data); err != nil {
			return nil, fmt.Errorf("reading attachments of ticket %d: %w", ticketID, err)
		}
		out = append(out, a)
	}
	return out, db.translate(rows.Err())
}

// Cursor returns how far a mailbox has been read under uidValidity; LastUID
// is 0 when it has not been read under that UIDVALIDITY.
func (db *DB) Cursor(ctx context.Context, mailbox string, uidValidity uint32) (ticket.Cursor, error) {
	c := ticket.Cursor{Mailbox: mailbox, UIDValidity: uidValidity}
	var last int64
	err := db.queryRow(ctx, `SELECT last_uid, updated_at FROM mailbox_cursors WHERE mailbox = ? AND uidvalidity = ?`,
		mailbox, int64(uidValidity)).Scan(&last, &c.UpdatedAt)
	if err = db.translate(err); errors.Is(err, ticket.ErrNotFound) {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("reading cursor of %s: %w", mailbox, err)
	}
	c.LastUID, c.UpdatedAt = uint32(last), c.UpdatedAt.UTC()
	return c, nil
}

// SaveCursor records c; a cursor never moves backwards.
func (db *DB) SaveCursor(ctx context.Context, c ticket.Cursor) error {
	_, err := db.exec(ctx, `INSERT INTO mailbox_cursors (mailbox, uidvalidity, last_uid, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (mailbox, uidvalidity) DO UPDATE SET
		last_uid = CASE WHEN excluded.last_uid > mailbox_cursors.last_uid THEN excluded.last_uid ELSE mailbox_cursors.last_uid END,
		updated_at = excluded.updated_at`,
		clean(c.Mailbox), int64(c.UIDValidity), int64(c.LastUID), c.UpdatedAt.UTC())
	if err != nil {
		return fmt.Errorf("saving cursor of %s: %w", c.Mailbox, err)
	}
	return nil
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// nonNil keeps NOT NULL blob columns from receiving a nil slice (stored as
// NULL by both drivers).
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// participantsChunk is how many addresses one INSERT carries: two
// parameters each, far below SQLite's 32,766 and PostgreSQL's 65,535.
const participantsChunk = 500

// AddParticipants records that the addresses take part in a ticket, in
// statements of participantsChunk addresses (a mail may carry thousands of
// Cc). Run it in a transaction to make it atomic.
func (db *DB) AddParticipants(ctx context.Context, ticketID int64, emails ...string) error {
	uniq := make([]string, 0, len(emails))
	seen := make(map[string]bool, len(emails))
	for _, e := range emails {
		// One statement may not touch the same row twice (PostgreSQL).
		if e = strings.ToLower(clean(e)); e != "" && !seen[e] {
			seen[e] = true
			uniq = append(uniq, e)
		}
	}
	for len(uniq) > 0 {
		n := min(len(uniq), participantsChunk)
		q := `INSERT INTO ticket_participants (ticket_id, email) VALUES ` +
			strings.TrimSuffix(strings.Repeat("(?, ?), ", n), ", ") + ` ON CONFLICT (ticket_id, email) DO NOTHING`
		args := make([]any, 0, 2*n)
		for _, e := range uniq[:n] {
			args = append(args, ticketID, e)
		}
		if _, err := db.exec(ctx, q, args...); err != nil {
			return fmt.Errorf("adding participants to ticket %d: %w", ticketID, err)
		}
		uniq = uniq[n:]
	}
	return nil
}

// IsParticipant reports whether email takes part in a ticket.
func (db *DB) IsParticipant(ctx context.Context, ticketID int64, email string) (bool, error) {
	var n int
	err := db.get(ctx, &n, `SELECT COUNT(*) FROM ticket_participants WHERE ticket_id = ? AND email = ?`,
		ticketID, strings.ToLower(email))
	if err != nil {
		return false, fmt.Errorf("checking participant of ticket %d: %w", ticketID, err)
	}
	return n > 0, nil
}

// RecordFailure counts a failed attempt to process a mailbox message and
// returns how many there have been. It runs in its own transaction (or the
// caller's), never in the one that failed.
func (db *DB) RecordFailure(ctx context.Context, mailbox string, uidValidity, uid uint32, reason string, now time.Time) (int, error) {
	var n int
	err := db.get(ctx, &n, `INSERT INTO intake_failures (mailbox, uidvalidity, uid, attempts, last_error, updated_at)
		VALUES (?, ?, ?, 1, ?, ?)
		ON CONFLICT (mailbox, uidvalidity, uid) DO UPDATE SET attempts = intake_failures.attempts + 1,
		last_error = excluded.last_error, updated_at = excluded.updated_at
		RETURNING attempts`, clean(mailbox), int64(uidValidity), int64(uid), clean(reason), now.UTC())
	if err != nil {
		return 0, fmt.Errorf("recording failure of %s/%d: %w", mailbox, uid, err)
	}
	return n, nil
}

// BeginAttempt records, committed in its own statement, that processing of
// a mailbox message starts, before the message is parsed. It returns how
// many earlier starts ended neither with FinishAttempt nor with
// RecordFailure: the times the process died on this message.
func (db *DB) BeginAttempt(ctx context.Context, mailbox string, uidValidity, uid uint32, now time.Time) (int, error) {
	var starts, failures int
	err := db.queryRow(ctx, `INSERT INTO intake_failures (mailbox, uidvalidity, uid, attempts, last_error, updated_at, starts)
		VALUES (?, ?, ?, 0, '', ?, 1)
		ON CONFLICT (mailbox, uidvalidity, uid) DO UPDATE SET starts = intake_failures.starts + 1, updated_at = excluded.updated_at
		RETURNING starts, attempts`, clean(mailbox), int64(uidValidity), int64(uid), now.UTC()).Scan(&starts, &failures)
	if err != nil {
		return 0, fmt.Errorf("recording the start of %s/%d: %w", mailbox, uid, db.translate(err))
	}
	return max(starts-1-failures, 0), nil
}

// AbandonAttempt takes back a start recorded by BeginAttempt (or
// FinishAndBegin) for a message whose processing was interrupted by a
// shutdown, not by the message: it never killed anything, so the start
// must not count as a death. Its failures stay counted.
func (db *DB) AbandonAttempt(ctx context.Context, mailbox string, uidValidity, uid uint32) error {
	_, err := db.exec(ctx, `UPDATE intake_failures SET starts = starts - 1
		WHERE mailbox = ? AND uidvalidity = ? AND uid = ? AND starts > 0`, clean(mailbox), int64(uidValidity), int64(uid))
	if err != nil {
		return fmt.Errorf("abandoning the start of %s/%d: %w", mailbox, uid, err)
	}
	return nil
}

// FinishAndBegin is FinishAttempt on the message finished and BeginAttempt
// on the one after it, in one statement on PostgreSQL. The poller runs it
// in the transaction of the message it finished: the next message's start
// is then committed with that message, before the next is parsed, with
// neither a commit nor a round trip of its own. It returns what
// BeginAttempt returns for next.
func (db *DB) FinishAndBegin(ctx context.Context, mailbox string, uidValidity, finished, next uint32, now time.Time) (int, error) {
	if db.driver != "postgres" || finished == next {
		// SQLite has no writes in WITH; its statements cost no round trip.
		if err := db.FinishAttempt(ctx, mailbox, uidValidity, finished); err != nil {
			return 0, err
		}
		return db.BeginAttempt(ctx, mailbox, uidValidity, next, now)
	}
	var starts, failures int
	err := db.queryRow(ctx, `WITH finished AS (DELETE FROM intake_failures WHERE mailbox = ? AND uidvalidity = ? AND uid = ?)
		INSERT INTO intake_failures (mailbox, uidvalidity, uid, attempts, last_error, updated_at, starts)
		VALUES (?, ?, ?, 0, '', ?, 1)
		ON CONFLICT (mailbox, uidvalidity, uid) DO UPDATE SET starts = intake_failures.starts + 1, updated_at = excluded.updated_at
		RETURNING starts, attempts`, clean(mailbox), int64(uidValidity), int64(finished),
		clean(mailbox), int64(uidValidity), int64(next), now.UTC()).Scan(&starts, &failures)
	if err != nil {
		return 0, fmt.Errorf("finishing the attempt on %s/%d and recording the start of %d: %w", mailbox, finished, next, db.translate(err))
	}
	return max(starts-1-failures, 0), nil
}

// FinishAttempt forgets the attempts of a message that was handled.
func (db *DB) FinishAttempt(ctx context.Context, mailbox string, uidValidity, uid uint32) error {
	_, err := db.exec(ctx, `DELETE FROM intake_failures WHERE mailbox = ? AND uidvalidity = ? AND uid = ?`,
		clean(mailbox), int64(uidValidity), int64(uid))
	if err != nil {
		return fmt.Errorf("finishing the attempt on %s/%d: %w", mailbox, uid, err)
	}
	return nil
}
