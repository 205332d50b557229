package store

import (
	"context"
	"fmt"
	"time"

	"github.com/mesadeservicios/mesa/ticket"
)

// Corrections returns every ticket whose category a person changed, with
// its subject, first message and current category (and criticality, when
// that was changed too), oldest first: what `mesa rules train
// --corrections` learns from.
func (db *DB) Corrections(ctx context.Context) ([]ticket.Correction, error) {
	rows, err := db.query(ctx, `SELECT t.requester, t.subject, COALESCE(c.body, ''), t.category, t.criticality,
		CASE WHEN EXISTS (SELECT 1 FROM events k WHERE k.ticket_id = t.id AND k.kind = 'criticality_changed') THEN 1 ELSE 0 END
		FROM tickets t LEFT JOIN events c ON c.ticket_id = t.id AND c.kind = 'created'
		WHERE EXISTS (SELECT 1 FROM events e WHERE e.ticket_id = t.id AND e.kind = 'category_changed')
		ORDER BY t.id`)
	if err != nil {
		return nil, fmt.Errorf("reading corrections: %w", err)
	}
	defer rows.Close()
	var out []ticket.Correction
	for rows.Next() {
		var c ticket.Correction
		var crit string
		var changed int
		if err := rows.Scan(&c.Requester, &c.Subject, &c.Body, &c.Category, &crit, &changed); err != nil {
			return nil, fmt.Errorf("reading corrections: %w", err)
		}
		if changed == 1 {
			c.Criticality = crit
		}
		out = append(out, c)
	}
	return out, db.translate(rows.Err())
}

// Outcomes returns, for every ticket created at or after since, the
// category intake gave it and the one it has now, oldest first.
func (db *DB) Outcomes(ctx context.Context, since time.Time) ([]ticket.Outcome, error) {
	rows, err := db.query(ctx, `SELECT t.id, t.created_at, t.category, COALESCE(e.from_value, '')
		FROM tickets t LEFT JOIN events e ON e.ticket_id = t.id AND e.kind = 'category_changed'
		WHERE t.created_at >= ? ORDER BY t.id, e.id`, since.UTC())
	if err != nil {
		return nil, fmt.Errorf("reading classification outcomes: %w", err)
	}
	defer rows.Close()
	var out []ticket.Outcome
	last := int64(-1)
	for rows.Next() {
		var id int64
		var o ticket.Outcome
		var from string
		if err := rows.Scan(&id, &o.Created, &o.Final, &from); err != nil {
			return nil, fmt.Errorf("reading classification outcomes: %w", err)
		}
		if id == last {
			continue // a later change: the first one says what intake gave
		}
		last = id
		o.Created = o.Created.UTC()
		o.Initial, o.Changed = o.Final, from != ""
		if o.Changed {
			o.Initial = from
		}
		out = append(out, o)
	}
	return out, db.translate(rows.Err())
}
