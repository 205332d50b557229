package desk

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/mesadeservicios/mesa/ticket"
)

// Managers' digests: the desk at a glance, scoped to the manager's groups.

// DigestStore is what digests read.
type DigestStore interface {
	OpenTicketsOf(ctx context.Context, groups []string) ([]*ticket.Ticket, error)
	ClosedBetween(ctx context.Context, groups []string, from, to time.Time) ([]*ticket.Ticket, error)
	SurveyStats(ctx context.Context, groups []string, from, to time.Time) (sent, answered, ratingSum int, err error)
	PeopleWithRole(ctx context.Context, role ticket.Role) ([]*ticket.Person, error)
}

// The digest's types live in package ticket, which mailout renders from.
type (
	// Count is a named number in a digest.
	Count = ticket.Count
	// Compliance is how many tickets closed in a period met their SLA.
	Compliance = ticket.Compliance
	// Digest is one manager's view of the desk.
	Digest = ticket.Digest
)

// BuildDigest computes the digest of the groups (none: the whole desk).
func (d *Desk) BuildDigest(ctx context.Context, groups []string, kind string) (*Digest, error) {
	ds := d.store
	now := d.now()
	local := now.In(d.cfg.Location)
	dg := &Digest{Kind: kind, Groups: groups, At: local}
	open, err := ds.OpenTicketsOf(ctx, groups)
	if err != nil {
		return nil, err
	}
	dg.Open = len(open)
	state, cat, group, load := map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
	y, m, dd := local.Date()
	endOfDay := time.Date(y, m, dd+1, 0, 0, 0, 0, d.cfg.Location)
	for _, t := range open {
		state[string(t.State)]++
		cat[t.Category]++
		group[t.Group]++
		if t.State == ticket.AbiertoPorEncuesta {
			continue // solved, waiting for the requester's survey
		}
		if t.Assignee != "" {
			load[t.Assignee]++
		}
		switch {
		case t.DueAt == nil || t.PausedAt != nil:
		case !now.Before(*t.DueAt):
			dg.Breached = append(dg.Breached, t)
		case t.DueAt.Before(endOfDay):
			dg.DueToday = append(dg.DueToday, t)
		}
		if t.State == ticket.Retenido && t.PausedAt != nil && d.businessSince(*t.PausedAt) > 3*d.calendar.DayLength() {
			dg.LongHeld = append(dg.LongHeld, t)
		}
	}
	dg.ByState, dg.ByCat, dg.ByGroup, dg.Load = counts(state), counts(cat), counts(group), counts(load)
	dg.Oldest = open[:min(5, len(open))]
	sort.Slice(dg.Breached, func(i, j int) bool { return dg.Breached[i].DueAt.Before(*dg.Breached[j].DueAt) })
	sort.Slice(dg.DueToday, func(i, j int) bool { return dg.DueToday[i].DueAt.Before(*dg.DueToday[j].DueAt) })

	today := time.Date(y, m, dd, 0, 0, 0, 0, d.cfg.Location)
	closed, err := ds.ClosedBetween(ctx, groups, today.AddDate(0, 0, -30), now)
	if err != nil {
		return nil, err
	}
	days := map[string]*Compliance{}
	for i := 13; i >= 0; i-- {
		day := today.AddDate(0, 0, -i)
		c := &Compliance{Day: day}
		dg.Trend = append(dg.Trend, *c)
		days[day.Format(time.DateOnly)] = c
	}
	for _, t := range closed {
		if t.DueAt == nil {
			continue // no SLA to meet
		}
		met := !t.ClosedAt.After(*t.DueAt)
		add := func(c *Compliance) {
			c.Total++
			if met {
				c.Met++
			}
		}
		add(&dg.Last30)
		if !t.ClosedAt.Before(today.AddDate(0, 0, -6)) {
			add(&dg.Last7)
		}
		if c, ok := days[t.ClosedAt.In(d.cfg.Location).Format(time.DateOnly)]; ok {
			add(c)
		}
	}
	for i := range dg.Trend {
		dg.Trend[i] = *days[dg.Trend[i].Day.Format(time.DateOnly)]
	}
	sent, answered, sum, err := ds.SurveyStats(ctx, groups, today.AddDate(0, 0, -30), now)
	if err != nil {
		return nil, err
	}
	dg.SurveysSent, dg.SurveysAnswered = sent, answered
	if answered > 0 {
		dg.RatingAvg = float64(sum) / float64(answered)
	}
	return dg, nil
}

func counts(m map[string]int) []Count {
	out := make([]Count, 0, len(m))
	for k, n := range m {
		out = append(out, Count{Key: k, N: n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].N != out[j].N {
			return out[i].N > out[j].N
		}
		return out[i].Key < out[j].Key
	})
	return out
}

// SendDigests queues the digest of kind (daily, weekly) to every active
// manager, scoped to their groups (a manager without groups sees the whole
// desk). It is the digest jobs' work.
func (d *Desk) SendDigests(ctx context.Context, kind string) (int, error) {
	managers, err := d.store.PeopleWithRole(ctx, ticket.RoleManager)
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, p := range managers {
		dg, err := d.BuildDigest(ctx, p.Groups, kind)
		if err != nil {
			return sent, err
		}
		_, queued, err := d.queue(ctx, &ticket.Notice{To: p.Email, Lang: d.cfg.Language, At: d.now().UTC(),
			DedupeKey: fmt.Sprintf("digest:%s:%s:%s", kind, strings.ToLower(p.Email), dg.At.Format(time.DateOnly)),
			Payload:   ticket.DigestNotice{Digest: dg}})
		if err != nil {
			return sent, err
		}
		if queued { // not queued: already sent today (a rerun), or to the desk itself
			sent++
		}
	}
	return sent, nil
}
