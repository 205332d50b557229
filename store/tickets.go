package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mesadeservicios/mesa/ticket"
)

// NextTicketSeq allocates the next ticket sequence number of year. Inside a
// transaction the allocation is rolled back with it, so numbers have no gaps
// from failed intakes; concurrent allocations serialise on the year's row.
func (db *DB) NextTicketSeq(ctx context.Context, year int) (int64, error) {
	var seq int64
	err := db.get(ctx, &seq, `INSERT INTO ticket_sequences (year, last_seq) VALUES (?, 1)
		ON CONFLICT (year) DO UPDATE SET last_seq = ticket_sequences.last_seq + 1
		RETURNING last_seq`, year)
	if err != nil {
		return 0, fmt.Errorf("allocating ticket number for %d: %w", year, err)
	}
	return seq, nil
}

const ticketCols = `id, number, year, seq, subject, requester, requester_name, state, type,
	criticality, category, group_key, assignee, access_key, solution, created_at, updated_at,
	due_at, paused_at, closed_at, origin_message_id, first_response_at,
	sla_warn_at, sla_stage, sla_next_at`

type scanner interface{ Scan(dest ...any) error }

func scanTicket(r scanner) (*ticket.Ticket, error) { return scanTicketAnd(r) }

// scanTicketAnd scans ticketCols and then the row's further columns into
// more.
func scanTicketAnd(r scanner, more ...any) (*ticket.Ticket, error) {
	var t ticket.Ticket
	err := r.Scan(append([]any{&t.ID, &t.Number, &t.Year, &t.Seq, &t.Subject, &t.Requester, &t.RequesterName,
		&t.State, &t.Type, &t.Criticality, &t.Category, &t.Group, &t.Assignee, &t.AccessKeyHash,
		&t.Solution, &t.CreatedAt, &t.UpdatedAt, &t.DueAt, &t.PausedAt, &t.ClosedAt, &t.OriginMessageID, &t.FirstResponseAt,
		&t.SLAWarnAt, &t.SLAStage, &t.SLANextAt}, more...)...)
	if err != nil {
		return nil, err
	}
	t.CreatedAt, t.UpdatedAt = t.CreatedAt.UTC(), t.UpdatedAt.UTC()
	t.DueAt, t.PausedAt, t.ClosedAt = utcp(t.DueAt), utcp(t.PausedAt), utcp(t.ClosedAt)
	t.FirstResponseAt, t.SLAWarnAt, t.SLANextAt = utcp(t.FirstResponseAt), utcp(t.SLAWarnAt), utcp(t.SLANextAt)
	return &t, nil
}

func utcp(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// CreateTicket inserts t, which must be valid, and sets its ID.
func (db *DB) CreateTicket(ctx context.Context, t *ticket.Ticket) error {
	if err := t.Validate(); err != nil {
		return err
	}
	err := db.get(ctx, &t.ID, `INSERT INTO tickets (number, year, seq, subject, requester,
		requester_name, state, type, criticality, category, group_key, assignee, access_key,
		solution, created_at, updated_at, due_at, paused_at, closed_at, origin_message_id, first_response_at,
		sla_warn_at, sla_stage, sla_next_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		clean(t.Number), t.Year, t.Seq, clean(t.Subject), clean(t.Requester), clean(t.RequesterName),
		t.State, t.Type, t.Criticality, clean(t.Category), clean(t.Group), clean(t.Assignee),
		t.AccessKeyHash, clean(t.Solution), t.CreatedAt.UTC(), t.UpdatedAt.UTC(),
		utcp(t.DueAt), utcp(t.PausedAt), utcp(t.ClosedAt), clean(t.OriginMessageID), utcp(t.FirstResponseAt),
		utcp(t.SLAWarnAt), t.SLAStage, utcp(t.SLANextAt))
	if err != nil {
		return fmt.Errorf("creating ticket %s: %w", t.Number, err)
	}
	return nil
}

// UpdateTicket writes every mutable field of t.
func (db *DB) UpdateTicket(ctx context.Context, t *ticket.Ticket) error {
	if err := t.Validate(); err != nil {
		return err
	}
	res, err := db.exec(ctx, `UPDATE tickets SET subject = ?, requester = ?, requester_name = ?,
		state = ?, type = ?, criticality = ?, category = ?, group_key = ?, assignee = ?, solution = ?,
		updated_at = ?, due_at = ?, paused_at = ?, closed_at = ?, first_response_at = ?,
		sla_warn_at = ?, sla_stage = ?, sla_next_at = ? WHERE id = ?`,
		clean(t.Subject), clean(t.Requester), clean(t.RequesterName), t.State, t.Type, t.Criticality,
		clean(t.Category), clean(t.Group), clean(t.Assignee), clean(t.Solution), t.UpdatedAt.UTC(),
		utcp(t.DueAt), utcp(t.PausedAt), utcp(t.ClosedAt), utcp(t.FirstResponseAt),
		utcp(t.SLAWarnAt), t.SLAStage, utcp(t.SLANextAt), t.ID)
	if err != nil {
		return fmt.Errorf("updating ticket %s: %w", t.Number, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("updating ticket %s: %w", t.Number, ticket.ErrNotFound)
	}
	return nil
}

// TicketByID returns the ticket with that id. Inside a transaction on
// PostgreSQL the row is locked until the transaction ends (SQLite's
// immediate transactions already hold the database's write lock).
func (db *DB) TicketByID(ctx context.Context, id int64) (*ticket.Ticket, error) {
	t, err := scanTicket(db.queryRow(ctx, `SELECT `+ticketCols+` FROM tickets WHERE id = ?`+db.forUpdate(ctx), id))
	if err != nil {
		return nil, fmt.Errorf("reading ticket %d: %w", id, db.translate(err))
	}
	return t, nil
}

// TicketByNumber returns the ticket with that number, locked like TicketByID.
func (db *DB) TicketByNumber(ctx context.Context, number string) (*ticket.Ticket, error) {
	t, err := scanTicket(db.queryRow(ctx, `SELECT `+ticketCols+` FROM tickets WHERE number = ?`+db.forUpdate(ctx), number))
	if err != nil {
		return nil, fmt.Errorf("reading ticket %s: %w", number, db.translate(err))
	}
	return t, nil
}

func (db *DB) forUpdate(ctx context.Context) string {
	if db.driver == "postgres" && db.inTx(ctx) {
		return " FOR UPDATE"
	}
	return ""
}

// skipLocked is forUpdate for queues: rows another transaction holds are
// skipped instead of waited for.
func (db *DB) skipLocked(ctx context.Context) string {
	if f := db.forUpdate(ctx); f != "" {
		return f + " SKIP LOCKED"
	}
	return ""
}

// TicketFilter selects tickets for ListTickets; zero fields select all.
type TicketFilter struct {
	States    []ticket.State
	Requester string
	Limit     int // 0 means 100
}

// ListTickets returns tickets matching f, newest first.
func (db *DB) ListTickets(ctx context.Context, f TicketFilter) ([]*ticket.Ticket, error) {
	q := `SELECT ` + ticketCols + ` FROM tickets WHERE 1 = 1`
	var args []any
	if len(f.States) > 0 {
		q += ` AND state IN (?` + strings.Repeat(", ?", len(f.States)-1) + `)`
		for _, s := range f.States {
			args = append(args, s)
		}
	}
	if f.Requester != "" {
		q += ` AND requester = ?`
		args = append(args, f.Requester)
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, f.Limit)
	return db.tickets(ctx, "tickets", q, args...)
}

// AddEvent appends e to its ticket's audit trail and sets its ID.
func (db *DB) AddEvent(ctx context.Context, e *ticket.Event) error {
	if !e.Kind.Valid() {
		return fmt.Errorf("%w: event kind %q", ticket.ErrInvalid, e.Kind)
	}
	err := db.get(ctx, &e.ID, `INSERT INTO events (ticket_id, kind, actor, at, body, from_value, to_value, data)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		e.TicketID, e.Kind, clean(e.Actor), e.At.UTC(), clean(e.Body), clean(e.From), clean(e.To), clean(e.Data))
	if err != nil {
		return fmt.Errorf("adding %s event to ticket %d: %w", e.Kind, e.TicketID, err)
	}
	return nil
}

// Events returns the audit trail of a ticket, oldest first.
func (db *DB) Events(ctx context.Context, ticketID int64) ([]ticket.Event, error) {
	rows, err := db.query(ctx, `SELECT id, ticket_id, kind, actor, at, body, from_value, to_value, data
		FROM events WHERE ticket_id = ? ORDER BY id`, ticketID)
	if err != nil {
		return nil, fmt.Errorf("reading events of ticket %d: %w", ticketID, err)
	}
	defer rows.Close()
	var out []ticket.Event
	for rows.Next() {
		var e ticket.Event
		if err := rows.Scan(&e.ID, &e.TicketID, &e.Kind, &e.Actor, &e.At, &e.Body, &e.From, &e.To, &e.Data); err != nil {
			return nil, fmt.Errorf("reading events of ticket %d: %w", ticketID, err)
		}
		e.At = e.At.UTC()
		out = append(out, e)
	}
	return out, db.translate(rows.Err())
}

// Recategorizations returns, for every category change technicians made,
// the category the ticket was moved to with the ticket's subject and first
// message: what `mesa rules suggest` learns from.
func (db *DB) Recategorizations(ctx context.Context) ([]ticket.Recategorization, error) {
	rows, err := db.query(ctx, `SELECT e.to_value, t.subject, COALESCE(c.body, '')
		FROM events e JOIN tickets t ON t.id = e.ticket_id
		LEFT JOIN events c ON c.ticket_id = t.id AND c.kind = 'created'
		WHERE e.kind = 'category_changed' ORDER BY e.id`)
	if err != nil {
		return nil, fmt.Errorf("reading recategorizations: %w", err)
	}
	defer rows.Close()
	var out []ticket.Recategorization
	for rows.Next() {
		var ex ticket.Recategorization
		if err := rows.Scan(&ex.Category, &ex.Subject, &ex.Body); err != nil {
			return nil, fmt.Errorf("reading recategorizations: %w", err)
		}
		out = append(out, ex)
	}
	return out, db.translate(rows.Err())
}

// CountByState counts the tickets in each state, for metrics.
func (db *DB) CountByState(ctx context.Context) (map[ticket.State]int, error) {
	rows, err := db.query(ctx, `SELECT state, COUNT(*) FROM tickets GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("counting tickets: %w", err)
	}
	defer rows.Close()
	out := map[ticket.State]int{}
	for rows.Next() {
		var s ticket.State
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, fmt.Errorf("counting tickets: %w", err)
		}
		out[s] = n
	}
	return out, db.translate(rows.Err())
}

// SLAPending returns up to limit tickets whose next SLA alert
// (sla_next_at) is due at now, earliest first, through the partial index
// tickets_sla_next.
//
// Inside a transaction on PostgreSQL the rows are locked, and rows another
// transaction holds (a ticket being changed right now) are skipped until
// the next run: the watch then writes only rows it read, never over a
// concurrent change.
func (db *DB) SLAPending(ctx context.Context, now time.Time, limit int) ([]*ticket.Ticket, error) {
	return db.tickets(ctx, "tickets due for SLA alerts", `SELECT `+ticketCols+` FROM tickets
		WHERE sla_next_at IS NOT NULL AND sla_next_at <= ? ORDER BY sla_next_at, id LIMIT ?`+db.skipLocked(ctx), now.UTC(), limit)
}

// GroupManagers returns the addresses of the active managers of a group
// (role manager), sorted.
func (db *DB) GroupManagers(ctx context.Context, group string) ([]string, error) {
	rows, err := db.query(ctx, `SELECT p.email FROM people p JOIN person_groups g ON g.person_id = p.id
		WHERE g.group_key = ? AND p.active AND p.role = 'manager' ORDER BY p.email`, group)
	if err != nil {
		return nil, fmt.Errorf("reading managers of group %s: %w", group, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var e string
		if err := rows.Scan(&e); err != nil {
			return nil, fmt.Errorf("reading managers of group %s: %w", group, err)
		}
		out = append(out, e)
	}
	return out, db.translate(rows.Err())
}

// RepeatedRequest reports whether requester opened a ticket since since
// whose first message is exactly body: mail that repeats itself word for
// word is what an auto-responder writes, not a person with a new request.
// Only the first event of each ticket is read (the creation is always its
// first), not its whole history.
func (db *DB) RepeatedRequest(ctx context.Context, requester, body string, since time.Time) (bool, error) {
	var n int
	// The first event is a scalar subquery per ticket, never a join: a
	// prepared statement's generic plan may not turn it into a scan of
	// every event.
	err := db.get(ctx, &n, `SELECT COUNT(*) FROM (SELECT 1 FROM tickets t
		WHERE t.requester = ? AND t.created_at >= ?
		AND (SELECT CASE WHEN e.kind = ? AND e.body = ? THEN 1 ELSE 0 END FROM events e
			WHERE e.ticket_id = t.id ORDER BY e.id LIMIT 1) = 1 LIMIT 1) AS r`,
		strings.ToLower(requester), since.UTC(), ticket.EventCreated, clean(body))
	if err != nil {
		return false, fmt.Errorf("looking for a repeated request of %s: %w", requester, err)
	}
	return n > 0, nil
}
