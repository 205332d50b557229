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
	created, err := ds.CreatedBetween(ctx, groups, today.AddDate(0, 0, -30), now)
	if err != nil {
		return nil, err
	}
	dg.FirstResponse = d.firstResponse(created)
	for _, t := range open {
		if t.FirstResponseAt == nil && t.State != ticket.AbiertoPorEncuesta {
			dg.NoResponse++
		}
	}
	if kind == "weekly" {
		if dg.Week, err = d.week(ctx, groups, today); err != nil {
			return nil, err
		}
		if dg.Classification, err = d.classification(ctx, groups, dg.Week.From, dg.Week.To); err != nil {
			return nil, err
		}
	}
	return dg, nil
}

// firstResponse sums the business time to the first answer of the
// tickets that have one.
func (d *Desk) firstResponse(ts []*ticket.Ticket) ticket.Durations {
	var fr ticket.Durations
	for _, t := range ts {
		if t.FirstResponseAt != nil {
			fr.Add(d.calendar.Between(t.CreatedAt, *t.FirstResponseAt))
		}
	}
	return fr
}

// week is the last full week (Monday to Sunday, before the week of today)
// beside the week before it: tickets opened and closed, SLA compliance,
// first response, satisfaction, and the categories that complied worst.
func (d *Desk) week(ctx context.Context, groups []string, today time.Time) (*ticket.Week, error) {
	monday := today.AddDate(0, 0, -((int(today.Weekday()) + 6) % 7))
	w := &ticket.Week{From: monday.AddDate(0, 0, -7), To: monday}
	for i := range 2 {
		from, to := w.From.AddDate(0, 0, -7*i), w.To.AddDate(0, 0, -7*i)
		created, err := d.store.CreatedBetween(ctx, groups, from, to)
		if err != nil {
			return nil, err
		}
		closed, err := d.store.ClosedBetween(ctx, groups, from, to)
		if err != nil {
			return nil, err
		}
		w.Opened[i], w.Closed[i], w.FirstResponse[i] = len(created), len(closed), d.firstResponse(created)
		byCat := map[string]*ticket.Compliance{}
		for _, t := range closed {
			if t.DueAt == nil {
				continue
			}
			met := !t.ClosedAt.After(*t.DueAt)
			c := byCat[t.Category]
			if c == nil {
				c = &ticket.Compliance{}
				byCat[t.Category] = c
			}
			for _, c := range []*ticket.Compliance{&w.Compliance[i], c} {
				c.Total++
				if met {
					c.Met++
				}
			}
		}
		_, answered, sum, err := d.store.SurveyStats(ctx, groups, from, to)
		if err != nil {
			return nil, err
		}
		if w.Answered[i] = answered; answered > 0 {
			w.Rating[i] = float64(sum) / float64(answered)
		}
		if i > 0 {
			continue
		}
		for k, c := range byCat {
			if c.Met < c.Total {
				w.Worst = append(w.Worst, ticket.CategoryCompliance{Key: k, Compliance: *c})
			}
		}
		sort.Slice(w.Worst, func(a, b int) bool {
			x, y := w.Worst[a], w.Worst[b]
			if x.Percent() != y.Percent() {
				return x.Percent() < y.Percent()
			}
			if x.Total-x.Met != y.Total-y.Met {
				return x.Total-x.Met > y.Total-y.Met
			}
			return x.Key < y.Key
		})
		w.Worst = w.Worst[:min(3, len(w.Worst))]
	}
	return w, nil
}

// digestDay says whether a digest of kind goes out at now, and the day
// (weekly: the week's Monday) that makes it once: daily on every working
// day of the calendar, weekly on the week's first working day (a Monday
// holiday moves it to Tuesday). None goes out on holidays.
func (d *Desk) digestDay(kind string, now time.Time) (string, bool) {
	if !d.calendar.IsWorkday(now) {
		return "", false
	}
	local := now.In(d.cfg.Location)
	y, m, dd := local.Date()
	today := time.Date(y, m, dd, 12, 0, 0, 0, d.cfg.Location)
	if kind != "weekly" {
		return today.Format(time.DateOnly), true
	}
	back := (int(today.Weekday()) + 6) % 7 // days since Monday
	for i := 1; i <= back; i++ {
		if d.calendar.IsWorkday(today.AddDate(0, 0, -i)) {
			return "", false // an earlier working day of this week had it
		}
	}
	return today.AddDate(0, 0, -back).Format(time.DateOnly), true
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
// desk), on the days digestDay allows. It is the digest jobs' work.
func (d *Desk) SendDigests(ctx context.Context, kind string) (int, error) {
	day, ok := d.digestDay(kind, d.now())
	if !ok {
		return 0, nil
	}
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
			DedupeKey: fmt.Sprintf("digest:%s:%s:%s", kind, strings.ToLower(p.Email), day),
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
