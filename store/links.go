package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mesadeservicios/mesa/ticket"
)

// openStates is the SQL list of the states of a ticket not closed.
const openStates = `('abierto', 'en_proceso', 'retenido', 'abierto_por_encuesta')`

// OpenTicketsAssignedTo returns the open tickets (abierto_por_encuesta
// too) assigned to an address, oldest first.
func (db *DB) OpenTicketsAssignedTo(ctx context.Context, email string) ([]*ticket.Ticket, error) {
	return db.tickets(ctx, "tickets of "+email, `SELECT `+ticketCols+` FROM tickets
		WHERE assignee = ? AND state IN `+openStates+` ORDER BY created_at, id`, strings.ToLower(email))
}

// RecentOpenTicketsOf returns the requester's open tickets created at or
// after since, newest first.
func (db *DB) RecentOpenTicketsOf(ctx context.Context, requester string, since time.Time) ([]*ticket.Ticket, error) {
	return db.tickets(ctx, "recent tickets of "+requester, `SELECT `+ticketCols+` FROM tickets
		WHERE requester = ? AND created_at >= ? AND state IN ('abierto', 'en_proceso', 'retenido')
		ORDER BY created_at DESC, id DESC LIMIT 50`, strings.ToLower(requester), since.UTC())
}

// RecentOpenTicketsWithFirst is RecentOpenTicketsOf with FirstMessages of
// those tickets, in one query (each ticket's first event is read through
// events_ticket, however long its history), and says of which of them the
// requester is already a participant.
func (db *DB) RecentOpenTicketsWithFirst(ctx context.Context, requester string, since time.Time) ([]*ticket.Ticket, map[int64]string, map[int64]bool, error) {
	requester = strings.ToLower(requester)
	firsts, member := map[int64]string{}, map[int64]bool{}
	ts, err := scanAll(ctx, db, "recent tickets of "+requester, func(r scanner) (*ticket.Ticket, error) {
		var first sql.NullString
		var in bool
		t, err := scanTicketAnd(r, &first, &in)
		if err != nil {
			return nil, err
		}
		if first.Valid {
			firsts[t.ID] = first.String
		}
		if in {
			member[t.ID] = true
		}
		return t, nil
	}, `SELECT `+ticketCols+`,
		(SELECT CASE WHEN e.kind = ? THEN e.body END FROM events e WHERE e.ticket_id = tickets.id ORDER BY e.id LIMIT 1),
		EXISTS (SELECT 1 FROM ticket_participants p WHERE p.ticket_id = tickets.id AND p.email = ?)
		FROM tickets
		WHERE requester = ? AND created_at >= ? AND state IN ('abierto', 'en_proceso', 'retenido')
		ORDER BY created_at DESC, id DESC LIMIT 50`, ticket.EventCreated, requester, requester, since.UTC())
	if err != nil {
		return nil, nil, nil, err
	}
	return ts, firsts, member, nil
}

// FirstMessages returns, for each of the tickets, the body of its first
// event when that event is its creation (the mail that opened it), in one
// query: the duplicate check compares a new mail with those of the
// requester's recent tickets. Only the first event of each ticket is read
// (through events_ticket), however long its history; tickets without one
// are absent from the map.
func (db *DB) FirstMessages(ctx context.Context, ticketIDs []int64) (map[int64]string, error) {
	out := make(map[int64]string, len(ticketIDs))
	if len(ticketIDs) == 0 {
		return out, nil
	}
	args := make([]any, len(ticketIDs))
	for i, id := range ticketIDs {
		args[i] = id
	}
	rows, err := db.query(ctx, `SELECT e.ticket_id, e.body FROM events e WHERE e.kind = ? AND e.id IN
		(SELECT (SELECT MIN(x.id) FROM events x WHERE x.ticket_id = t.id) FROM tickets t
		WHERE t.id IN (`+strings.TrimSuffix(strings.Repeat("?, ", len(args)), ", ")+`))`,
		append([]any{ticket.EventCreated}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("reading the first messages of %d tickets: %w", len(ticketIDs), err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var body string
		if err := rows.Scan(&id, &body); err != nil {
			return nil, fmt.Errorf("reading the first messages of %d tickets: %w", len(ticketIDs), err)
		}
		out[id] = body
	}
	return out, db.translate(rows.Err())
}

// CategoryTicketsSince returns the open tickets of a category created at
// or after since, oldest first (at most 200).
func (db *DB) CategoryTicketsSince(ctx context.Context, category string, since time.Time) ([]*ticket.Ticket, error) {
	return db.tickets(ctx, "recent tickets of "+category, `SELECT `+ticketCols+` FROM tickets
		WHERE category = ? AND created_at >= ? AND state IN ('abierto', 'en_proceso', 'retenido')
		ORDER BY created_at, id LIMIT 200`, category, since.UTC())
}

// CreatedBetween returns the tickets of the groups (none: all) created in
// [from, to), oldest first.
func (db *DB) CreatedBetween(ctx context.Context, groups []string, from, to time.Time) ([]*ticket.Ticket, error) {
	cond, args := inGroups("group_key", groups)
	return db.tickets(ctx, "created tickets", `SELECT `+ticketCols+` FROM tickets
		WHERE created_at >= ? AND created_at < ?`+cond+` ORDER BY created_at, id`,
		append([]any{from.UTC(), to.UTC()}, args...)...)
}

// MassPressure counts, up to upTo, the open tickets of a category created
// at or after since, and returns when its last mass alert was (zero:
// never), in one round trip: the mass-incident check of every new ticket
// needs only these, and the tickets themselves only when it alerts.
func (db *DB) MassPressure(ctx context.Context, category string, since time.Time, upTo int) (int, time.Time, error) {
	count := `SELECT COUNT(*) FROM (SELECT 1 FROM tickets WHERE category = ? AND created_at >= ?
		AND state IN ('abierto', 'en_proceso', 'retenido') LIMIT ?) AS c`
	args := []any{category, since.UTC(), max(upTo, 0)}
	if db.driver != "postgres" {
		// SQLite returns the time of a subquery as text; its two
		// statements cost no round trip.
		var n int
		if err := db.get(ctx, &n, count, args...); err != nil {
			return 0, time.Time{}, fmt.Errorf("counting the recent tickets of %s: %w", category, err)
		}
		last, err := db.LastMassAlert(ctx, category)
		return n, last, err
	}
	var r struct {
		N    int          `db:"n"`
		Last sql.NullTime `db:"last"`
	}
	err := db.get(ctx, &r, `SELECT (`+count+`) AS n, (SELECT at FROM mass_alerts WHERE category = ?) AS last`,
		append(args, category)...)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("reading the mass pressure of %s: %w", category, err)
	}
	if !r.Last.Valid {
		return r.N, time.Time{}, nil
	}
	return r.N, r.Last.Time.UTC(), nil
}

// LastMassAlert returns when a category's last mass-incident alert went
// out (zero: never).
func (db *DB) LastMassAlert(ctx context.Context, category string) (time.Time, error) {
	var at time.Time
	err := db.get(ctx, &at, `SELECT at FROM mass_alerts WHERE category = ?`, category)
	switch {
	case errors.Is(err, ticket.ErrNotFound):
		return time.Time{}, nil
	case err != nil:
		return time.Time{}, fmt.Errorf("reading the mass alert of %s: %w", category, err)
	}
	return at.UTC(), nil
}

// SetMassAlert records a category's mass-incident alert at at.
func (db *DB) SetMassAlert(ctx context.Context, category string, at time.Time) error {
	_, err := db.exec(ctx, `INSERT INTO mass_alerts (category, at) VALUES (?, ?)
		ON CONFLICT (category) DO UPDATE SET at = excluded.at`, category, at.UTC())
	if err != nil {
		return fmt.Errorf("recording the mass alert of %s: %w", category, err)
	}
	return nil
}

// LinkTicket puts child under parent (kind "mass" or "merged"). A child
// already linked gives ticket.ErrAlreadyStored.
func (db *DB) LinkTicket(ctx context.Context, parentID, childID int64, kind string, at time.Time) error {
	_, err := db.exec(ctx, `INSERT INTO ticket_links (child_id, parent_id, kind, at) VALUES (?, ?, ?, ?)`,
		childID, parentID, kind, at.UTC())
	if errors.Is(err, ErrConflict) {
		return fmt.Errorf("linking ticket %d under %d: %w", childID, parentID, ticket.ErrAlreadyStored)
	}
	if err != nil {
		return fmt.Errorf("linking ticket %d under %d: %w", childID, parentID, err)
	}
	return nil
}

// LinkedChildren returns the tickets linked under parent with kind, by
// number.
func (db *DB) LinkedChildren(ctx context.Context, parentID int64, kind string) ([]*ticket.Ticket, error) {
	return db.tickets(ctx, "linked tickets", `SELECT `+prefixed("t.", ticketCols)+` FROM tickets t
		JOIN ticket_links l ON l.child_id = t.id WHERE l.parent_id = ? AND l.kind = ? ORDER BY t.number`, parentID, kind)
}

// ParentOf returns the ticket child is linked under and the link's kind;
// ticket.ErrNotFound when it is linked under none.
func (db *DB) ParentOf(ctx context.Context, childID int64) (int64, string, error) {
	var row struct {
		Parent int64  `db:"parent_id"`
		Kind   string `db:"kind"`
	}
	if err := db.get(ctx, &row, `SELECT parent_id, kind FROM ticket_links WHERE child_id = ?`, childID); err != nil {
		return 0, "", fmt.Errorf("reading the parent of ticket %d: %w", childID, err)
	}
	return row.Parent, row.Kind, nil
}

// MergeTicket copies the history of from into into (its request and
// comments become comments, its notes notes, each marked with from's
// number), moves its attachments and adds its participants to into.
func (db *DB) MergeTicket(ctx context.Context, from, into *ticket.Ticket) error {
	data, _ := json.Marshal(map[string]string{"merged_from": from.Number})
	if _, err := db.exec(ctx, `INSERT INTO events (ticket_id, kind, actor, at, body, from_value, to_value, data)
		SELECT ?, CASE kind WHEN 'created' THEN 'comment' ELSE kind END, actor, at, body, '', '', ?
		FROM events WHERE ticket_id = ? AND kind IN ('created', 'comment', 'note') ORDER BY id`,
		into.ID, string(data), from.ID); err != nil {
		return fmt.Errorf("copying the history of %s into %s: %w", from.Number, into.Number, err)
	}
	if _, err := db.exec(ctx, `UPDATE attachments SET ticket_id = ? WHERE ticket_id = ?`, into.ID, from.ID); err != nil {
		return fmt.Errorf("moving the attachments of %s: %w", from.Number, err)
	}
	if _, err := db.exec(ctx, `INSERT INTO ticket_participants (ticket_id, email)
		SELECT ?, email FROM ticket_participants WHERE ticket_id = ? ON CONFLICT (ticket_id, email) DO NOTHING`,
		into.ID, from.ID); err != nil {
		return fmt.Errorf("moving the participants of %s: %w", from.Number, err)
	}
	return nil
}

// prefixed qualifies every column of a column list.
func prefixed(p, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}
