// Package report builds the desk's follow-up report for planning (guide
// section 5, "seguimiento de las respuestas … para la planificación"): one
// line per ticket and summaries by category, group and technician — volume,
// SLA compliance, first-response and resolution time in business hours,
// satisfaction — written as CSV or XLSX.
//
// It takes plain rows and the business calendar, so it is built and tested
// without a database; cmd/mesa reads the rows from the store.
//
// What the figures mean:
//   - A ticket is in the report when it was created in the period or closed
//     (state cerrado) in it. The period is [From, To): Period makes it from
//     two dates, both inclusive, in the desk's time zone.
//   - Opened ("recibidos") counts tickets created in the period; closed
//     ("cerrados") those closed in it, whenever they were opened.
//   - SLA compliance counts, like the digests, the tickets closed in the
//     period that had a due time: met when closed at or before it. Holds
//     (retenido) push the due time, so they do not count against it.
//   - First response is the business time from creation to the first answer
//     a technician gave the requester; its mean is over tickets opened in the
//     period. Resolution is the business time from creation to closure,
//     holds included; its mean is over tickets closed in the period.
//   - Satisfaction is the rating (1–5) of each ticket's latest answered
//     survey; its mean is over tickets closed in the period with a rating.
package report

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/mesadeservicios/mesa/ticket"
)

// Calendar counts business time (sla.Calendar does).
type Calendar interface {
	// Between returns the business time in [from, to).
	Between(from, to time.Time) time.Duration
}

// Row is one ticket as the store gives it, with the rating of its latest
// answered survey (1–5; 0 without one).
type Row struct {
	Ticket *ticket.Ticket
	Rating int
}

// Source reads the rows of a report: the tickets of the groups (none: all)
// created or closed in [from, to).
type Source interface {
	ReportRows(ctx context.Context, groups []string, from, to time.Time) ([]Row, error)
}

// Options say how to build a report.
type Options struct {
	From, To time.Time      // the period, [From, To)
	Now      time.Time      // when the report is made: open tickets past due then are vencido; zero: time.Now()
	Location *time.Location // zone of the dates shown; nil: America/Bogota
	Calendar Calendar       // required
	// CategoryName gives a category's name for people; nil: the key.
	CategoryName func(key string) string
	// Groups the report is limited to, for its title; none: the whole desk.
	Groups []string
}

// SLA is a ticket's outcome against its due time, as the report shows it.
type SLA string

// The SLA outcomes.
const (
	SLAMet     SLA = "sí"       // closed at or before its due time
	SLAMissed  SLA = "no"       // closed after its due time
	SLAOverdue SLA = "vencido"  // open, past its due time
	SLARunning SLA = "en curso" // open (or held) and not yet due
	SLANone    SLA = "sin ANS"  // the category has no resolution time
)

// Line is one ticket of the report.
type Line struct {
	Number       string
	Created      time.Time  // in the report's zone
	Closed       *time.Time // in the report's zone; nil unless closed
	Due          *time.Time // in the report's zone; nil without an SLA
	Category     string     // catalogue key
	CategoryName string
	Type         string
	Criticality  string
	Group        string
	Technician   string // the assignee's address, empty when unassigned
	State        string
	// FirstResponse and Resolution are business time; nil when there was
	// no answer, or no closure, yet.
	FirstResponse *time.Duration
	Resolution    *time.Duration
	SLA           SLA
	Rating        int  // 1–5, 0 without an answered survey
	Opened        bool // created in the period
	ClosedIn      bool // closed in the period
}

// Summary is one row of the summary: the figures of a category, a group,
// a technician or the whole report.
type Summary struct {
	Key, Name      string
	Opened, Closed int
	// WithSLA counts the tickets closed in the period that had a due time;
	// Met those closed at or before it.
	WithSLA, Met int
	// Sums and counts behind the means.
	FirstResponseSum time.Duration
	FirstResponses   int
	ResolutionSum    time.Duration
	Resolutions      int
	RatingSum        int
	Ratings          int
}

// Compliance is the percentage of SLA met, and false without closures
// that had one.
func (s Summary) Compliance() (float64, bool) {
	if s.WithSLA == 0 {
		return 0, false
	}
	return 100 * float64(s.Met) / float64(s.WithSLA), true
}

// MeanFirstResponse is the mean first-response time in business time.
func (s Summary) MeanFirstResponse() (time.Duration, bool) {
	if s.FirstResponses == 0 {
		return 0, false
	}
	return s.FirstResponseSum / time.Duration(s.FirstResponses), true
}

// MeanResolution is the mean resolution time in business time.
func (s Summary) MeanResolution() (time.Duration, bool) {
	if s.Resolutions == 0 {
		return 0, false
	}
	return s.ResolutionSum / time.Duration(s.Resolutions), true
}

// MeanRating is the mean satisfaction, 1–5.
func (s Summary) MeanRating() (float64, bool) {
	if s.Ratings == 0 {
		return 0, false
	}
	return float64(s.RatingSum) / float64(s.Ratings), true
}

func (s *Summary) add(l *Line) {
	if l.Opened {
		s.Opened++
		if l.FirstResponse != nil {
			s.FirstResponseSum += *l.FirstResponse
			s.FirstResponses++
		}
	}
	if !l.ClosedIn {
		return
	}
	s.Closed++
	if l.SLA == SLAMet || l.SLA == SLAMissed {
		s.WithSLA++
		if l.SLA == SLAMet {
			s.Met++
		}
	}
	if l.Resolution != nil {
		s.ResolutionSum += *l.Resolution
		s.Resolutions++
	}
	if l.Rating > 0 {
		s.RatingSum += l.Rating
		s.Ratings++
	}
}

// Report is a built report.
type Report struct {
	From, To  time.Time // the period [From, To), in the report's zone
	Generated time.Time // in the report's zone
	Groups    []string
	Lines     []Line // by creation
	Total     Summary
	// By category, group and technician, most opened first.
	ByCategory, ByGroup, ByTechnician []Summary
}

// Labels of the summary rows without a group or a technician.
const (
	NoGroup      = "(sin grupo)"
	NoTechnician = "(sin asignar)"
)

// Build computes the report of rows. Rows outside the period (neither
// created nor closed in it) are left out.
func Build(rows []Row, opts Options) (*Report, error) {
	if opts.Calendar == nil {
		return nil, fmt.Errorf("building the report: no business calendar")
	}
	if !opts.To.After(opts.From) {
		return nil, fmt.Errorf("building the report: the period ends (%s) before it starts (%s)", opts.To, opts.From)
	}
	loc := opts.Location
	if loc == nil {
		var err error
		if loc, err = time.LoadLocation("America/Bogota"); err != nil {
			return nil, fmt.Errorf("building the report: %w", err)
		}
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	name := opts.CategoryName
	if name == nil {
		name = func(k string) string { return k }
	}
	r := &Report{From: opts.From.In(loc), To: opts.To.In(loc), Generated: now.In(loc), Groups: opts.Groups,
		Total: Summary{Key: "total", Name: "Total"}}
	in := func(t time.Time) bool { return !t.Before(opts.From) && t.Before(opts.To) }
	local := func(t *time.Time) *time.Time {
		if t == nil {
			return nil
		}
		l := t.In(loc)
		return &l
	}
	business := func(from time.Time, to *time.Time) *time.Duration {
		if to == nil {
			return nil
		}
		d := opts.Calendar.Between(from, *to)
		return &d
	}
	for _, row := range rows {
		t := row.Ticket
		if t == nil {
			continue
		}
		closed := t.State == ticket.Cerrado && t.ClosedAt != nil
		l := Line{Number: t.Number, Created: t.CreatedAt.In(loc), Due: local(t.DueAt), Category: t.Category,
			CategoryName: name(t.Category), Type: string(t.Type), Criticality: string(t.Criticality), Group: t.Group,
			Technician: t.Assignee, State: string(t.State), FirstResponse: business(t.CreatedAt, t.FirstResponseAt),
			Rating: row.Rating, Opened: in(t.CreatedAt)}
		if closed {
			l.Closed, l.Resolution, l.ClosedIn = local(t.ClosedAt), business(t.CreatedAt, t.ClosedAt), in(*t.ClosedAt)
		}
		if !l.Opened && !l.ClosedIn {
			continue
		}
		if l.Rating < 0 || l.Rating > 5 {
			l.Rating = 0 // not a rating the survey gives
		}
		// A ticket reopened by its survey (abierto_por_encuesta) is not
		// closed, but its outcome is its closure's.
		resolved := t.ClosedAt != nil && (closed || t.State == ticket.AbiertoPorEncuesta)
		switch {
		case t.DueAt == nil:
			l.SLA = SLANone
		case resolved && !t.ClosedAt.After(*t.DueAt):
			l.SLA = SLAMet
		case resolved:
			l.SLA = SLAMissed
		case t.PausedAt == nil && !now.Before(*t.DueAt):
			l.SLA = SLAOverdue
		default:
			l.SLA = SLARunning
		}
		r.Lines = append(r.Lines, l)
	}
	sort.SliceStable(r.Lines, func(i, j int) bool { return r.Lines[i].Created.Before(r.Lines[j].Created) })

	cats, groups, techs := map[string]*Summary{}, map[string]*Summary{}, map[string]*Summary{}
	get := func(m map[string]*Summary, key, name string) *Summary {
		s, ok := m[key]
		if !ok {
			s = &Summary{Key: key, Name: name}
			m[key] = s
		}
		return s
	}
	for i := range r.Lines {
		l := &r.Lines[i]
		r.Total.add(l)
		get(cats, l.Category, l.CategoryName).add(l)
		g, tech := l.Group, l.Technician
		if g == "" {
			g = NoGroup
		}
		if tech == "" {
			tech = NoTechnician
		}
		get(groups, g, g).add(l)
		get(techs, tech, tech).add(l)
	}
	r.ByCategory, r.ByGroup, r.ByTechnician = sorted(cats), sorted(groups), sorted(techs)
	return r, nil
}

func sorted(m map[string]*Summary) []Summary {
	out := make([]Summary, 0, len(m))
	for _, s := range m {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Opened != b.Opened {
			return a.Opened > b.Opened
		}
		if a.Closed != b.Closed {
			return a.Closed > b.Closed
		}
		return a.Key < b.Key
	})
	return out
}

// Period turns two dates YYYY-MM-DD, both inclusive, into the instants
// [from 00:00, the day after to 00:00) in loc.
func Period(from, to string, loc *time.Location) (time.Time, time.Time, error) {
	f, err := time.ParseInLocation(time.DateOnly, from, loc)
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("the start must be a date YYYY-MM-DD, got %q", from)
	}
	t, err := time.ParseInLocation(time.DateOnly, to, loc)
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("the end must be a date YYYY-MM-DD, got %q", to)
	}
	if t.Before(f) {
		return time.Time{}, time.Time{}, fmt.Errorf("the end (%s) is before the start (%s)", to, from)
	}
	return f, t.AddDate(0, 0, 1), nil
}

// MonthPeriod is the calendar month of year and month in loc: [the 1st
// 00:00, the 1st of the next month 00:00).
func MonthPeriod(year int, month time.Month, loc *time.Location) (time.Time, time.Time) {
	from := time.Date(year, month, 1, 0, 0, 0, 0, loc)
	return from, from.AddDate(0, 1, 0)
}

// Month builds the report of a calendar month for the groups (none: the
// whole desk), as the monthly report mail to managers sends it.
// opts.From, opts.To and opts.Groups are replaced by the month's and the
// groups.
func Month(ctx context.Context, src Source, groups []string, year int, month time.Month, opts Options) (*Report, error) {
	loc := opts.Location
	if loc == nil {
		var err error
		if loc, err = time.LoadLocation("America/Bogota"); err != nil {
			return nil, fmt.Errorf("building the monthly report: %w", err)
		}
	}
	opts.Location, opts.Groups = loc, groups
	opts.From, opts.To = MonthPeriod(year, month, loc)
	rows, err := src.ReportRows(ctx, groups, opts.From, opts.To)
	if err != nil {
		return nil, fmt.Errorf("reading the monthly report: %w", err)
	}
	return Build(rows, opts)
}

// MonthXLSX builds the XLSX report of a calendar month for the groups
// (none: the whole desk): Month, written as XLSX.
func MonthXLSX(ctx context.Context, src Source, groups []string, year int, month time.Month, opts Options) ([]byte, error) {
	r, err := Month(ctx, src, groups, year, month, opts)
	if err != nil {
		return nil, err
	}
	return r.XLSX()
}
