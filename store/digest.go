package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mesadeservicios/mesa/ticket"
)

// inGroups returns " AND group_key IN (?, …)" and its arguments; no
// groups means every group.
func inGroups(col string, groups []string) (string, []any) {
	if len(groups) == 0 {
		return "", nil
	}
	args := make([]any, len(groups))
	for i, g := range groups {
		args[i] = g
	}
	return " AND " + col + " IN (" + strings.TrimSuffix(strings.Repeat("?, ", len(groups)), ", ") + ")", args
}

func (db *DB) tickets(ctx context.Context, what, q string, args ...any) ([]*ticket.Ticket, error) {
	return scanAll(ctx, db, what, scanTicket, q, args...)
}

// scanAll runs a query and scans every row with scan; what names the rows
// in errors.
func scanAll[T any](ctx context.Context, db *DB, what string, scan func(scanner) (T, error), q string, args ...any) ([]T, error) {
	rows, err := db.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", what, err)
		}
		out = append(out, v)
	}
	return out, db.translate(rows.Err())
}

// OpenTicketsOf returns the tickets not closed (abierto, en_proceso,
// retenido, abierto_por_encuesta) of the groups (none: all), oldest first.
func (db *DB) OpenTicketsOf(ctx context.Context, groups []string) ([]*ticket.Ticket, error) {
	cond, args := inGroups("group_key", groups)
	return db.tickets(ctx, "open tickets", `SELECT `+ticketCols+` FROM tickets
		WHERE state IN ('abierto', 'en_proceso', 'retenido', 'abierto_por_encuesta')`+cond+` ORDER BY created_at, id`, args...)
}

// ClosedBetween returns the tickets of the groups (none: all) closed in
// [from, to), by closing time.
func (db *DB) ClosedBetween(ctx context.Context, groups []string, from, to time.Time) ([]*ticket.Ticket, error) {
	cond, args := inGroups("group_key", groups)
	return db.tickets(ctx, "closed tickets", `SELECT `+ticketCols+` FROM tickets
		WHERE state = 'cerrado' AND closed_at >= ? AND closed_at < ?`+cond+` ORDER BY closed_at, id`,
		append([]any{from.UTC(), to.UTC()}, args...)...)
}

// SurveyStats counts the surveys sent in [from, to) about tickets of the
// groups (none: all): sent, answered, and the sum of the ratings given.
func (db *DB) SurveyStats(ctx context.Context, groups []string, from, to time.Time) (sent, answered, ratingSum int, err error) {
	cond, args := inGroups("t.group_key", groups)
	err = db.queryRow(ctx, `SELECT COUNT(*), COUNT(s.answered_at), COALESCE(SUM(s.rating), 0)
		FROM surveys s JOIN tickets t ON t.id = s.ticket_id
		WHERE s.status <> 'skipped' AND s.sent_at >= ? AND s.sent_at < ?`+cond,
		append([]any{from.UTC(), to.UTC()}, args...)...).Scan(&sent, &answered, &ratingSum)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("reading survey statistics: %w", db.translate(err))
	}
	return sent, answered, ratingSum, nil
}

// PeopleWithRole returns the active people with a role, with their groups,
// by address.
func (db *DB) PeopleWithRole(ctx context.Context, role ticket.Role) ([]*ticket.Person, error) {
	rows, err := db.query(ctx, `SELECT email FROM people WHERE role = ? AND active ORDER BY email`, role)
	if err != nil {
		return nil, fmt.Errorf("reading people with role %s: %w", role, err)
	}
	var emails []string
	for rows.Next() {
		var e string
		if err := rows.Scan(&e); err != nil {
			rows.Close()
			return nil, fmt.Errorf("reading people with role %s: %w", role, err)
		}
		emails = append(emails, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, db.translate(err)
	}
	var out []*ticket.Person
	for _, e := range emails {
		p, err := db.PersonByEmail(ctx, e)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}
