package desk

import (
	"context"
	"slices"
	"sort"
	"time"

	"github.com/mesadeservicios/mesa/ticket"
)

// The weekly digest's section on classification (issue 14 item 6): how
// often people changed the category intake gave, where, into what, and
// the model in use — what `mesa rules report` prints, for managers.

// OutcomeStore reads, for every ticket created at or after since, the
// category intake gave it and the one it has now (store.DB.Outcomes).
type OutcomeStore interface {
	Outcomes(ctx context.Context, since time.Time) ([]ticket.Outcome, error)
}

// classification computes the section for the week [from, to) and the
// week before it. A manager with groups sees the tickets whose category,
// as intake gave it or as it is now, belongs to one of their groups (a
// sin_clasificar ticket belongs to the triage group); without groups, the
// whole desk.
func (d *Desk) classification(ctx context.Context, groups []string, from, to time.Time) (*ticket.Classification, error) {
	outs, err := d.store.Outcomes(ctx, from.AddDate(0, 0, -7))
	if err != nil {
		return nil, err
	}
	groupOf := func(key string) string {
		if key == ticket.Unclassified {
			return d.triageGroup()
		}
		if c, ok := d.classify.Category(key); ok {
			return c.Group
		}
		return ""
	}
	mine := func(o ticket.Outcome) bool {
		return len(groups) == 0 || slices.Contains(groups, groupOf(o.Initial)) || slices.Contains(groups, groupOf(o.Final))
	}
	c := &ticket.Classification{Model: d.modelFacts()}
	byCat, confusions := map[string]*ticket.CategoryOverrides{}, map[[2]string]int{}
	for _, o := range outs {
		if !o.Created.Before(to) || !mine(o) {
			continue
		}
		i := 0
		if o.Created.Before(from) {
			i = 1 // the week before
		}
		c.Tickets[i]++
		if o.Changed {
			c.Changed[i]++
		}
		if i > 0 {
			continue
		}
		k := byCat[o.Initial]
		if k == nil {
			k = &ticket.CategoryOverrides{Key: o.Initial}
			byCat[o.Initial] = k
		}
		k.Tickets++
		if o.Changed {
			k.Changed++
		}
		if o.Changed && o.Initial != o.Final {
			confusions[[2]string{o.Initial, o.Final}]++
		}
	}
	for _, k := range byCat {
		if k.Changed > 0 {
			c.Top = append(c.Top, *k)
		}
	}
	sort.Slice(c.Top, func(i, j int) bool {
		a, b := c.Top[i], c.Top[j]
		if a.Changed != b.Changed {
			return a.Changed > b.Changed
		}
		if a.Changed*b.Tickets != b.Changed*a.Tickets {
			return a.Changed*b.Tickets > b.Changed*a.Tickets // the higher rate first
		}
		return a.Key < b.Key
	})
	c.Top = c.Top[:min(5, len(c.Top))]
	for k, n := range confusions {
		c.Confusions = append(c.Confusions, ticket.Confusion{From: k[0], To: k[1], N: n})
	}
	sort.Slice(c.Confusions, func(i, j int) bool {
		a, b := c.Confusions[i], c.Confusions[j]
		if a.N != b.N {
			return a.N > b.N
		}
		if a.From != b.From {
			return a.From < b.From
		}
		return a.To < b.To
	})
	c.Confusions = c.Confusions[:min(5, len(c.Confusions))]
	return c, nil
}

// modelFacts describes Config.Model, the learned model in use (nil: none).
func (d *Desk) modelFacts() *ticket.ModelFacts {
	m := d.cfg.Model
	if m == nil {
		return nil
	}
	f := &ticket.ModelFacts{}
	for _, k := range sortedKeys(m.Examples) {
		f.Examples += m.Examples[k]
		f.Sources = append(f.Sources, ticket.Count{Key: k, N: m.Examples[k]})
	}
	if t, err := time.ParseInLocation(time.DateOnly, m.Trained, d.cfg.Location); err == nil {
		f.Trained = t
		y, mo, dd := d.now().In(d.cfg.Location).Date()
		today := time.Date(y, mo, dd, 0, 0, 0, 0, d.cfg.Location)
		f.AgeDays = max(0, int(today.Sub(t).Hours()/24+0.5)) // +0.5: a 23 h or 25 h day at a DST change
	}
	return f
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
