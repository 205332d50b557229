package store

import (
	"context"
	"time"

	"github.com/mesadeservicios/mesa/ticket"
)

// ReportTicket is one ticket of the planning report with the rating of its
// latest answered survey (1–5; 0 when none was given).
type ReportTicket struct {
	Ticket *ticket.Ticket
	Rating int
}

// ReportTickets returns the tickets of the groups (none: all) created in
// [from, to) or closed (state cerrado) in [from, to), oldest first. A
// ticket closed in the period counts there whenever it was opened, as the
// digests count closures.
func (db *DB) ReportTickets(ctx context.Context, groups []string, from, to time.Time) ([]ReportTicket, error) {
	cond, args := inGroups("group_key", groups)
	from, to = from.UTC(), to.UTC()
	return scanAll(ctx, db, "report tickets", func(r scanner) (ReportTicket, error) {
		var rt ReportTicket
		t, err := scanTicket(scanMore{r, []any{&rt.Rating}})
		rt.Ticket = t
		return rt, err
	}, `SELECT `+ticketCols+`, COALESCE((SELECT s.rating FROM surveys s
			WHERE s.ticket_id = tickets.id AND s.answered_at IS NOT NULL AND s.rating > 0
			ORDER BY s.answered_at DESC, s.id DESC LIMIT 1), 0)
		FROM tickets
		WHERE ((created_at >= ? AND created_at < ?) OR (state = 'cerrado' AND closed_at >= ? AND closed_at < ?))`+cond+`
		ORDER BY created_at, id`, append([]any{from, to, from, to}, args...)...)
}

// scanMore scans the columns of a scanner that follow those its caller
// knows into dest.
type scanMore struct {
	r    scanner
	dest []any
}

func (s scanMore) Scan(dest ...any) error { return s.r.Scan(append(dest, s.dest...)...) }
