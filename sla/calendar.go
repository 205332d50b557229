// Package sla counts service-level time in the desk's business hours: Monday
// to Friday, 08:00–17:00 America/Bogota by default (guide 4.1.3), without
// Colombian public holidays or the extra closed days an agency adds. It gives
// due times, business time between instants, pauses and elapsed fractions.
//
// rickar/cal/v2 was checked and not used: it has no Colombian holidays, and
// its AddWorkHours recomputes every holiday rule for every day it visits,
// far from the million due times per second this package reaches with
// holidays precomputed into a bitset.
package sla

import (
	"errors"
	"fmt"
	"time"
)

// ErrNoWorkingTime is returned when the calendar has no business hours in
// which to count a duration.
var ErrNoWorkingTime = errors.New("calendar has no working time")

// Options describe a business calendar; zero fields take the guide's values.
type Options struct {
	Location *time.Location // America/Bogota
	Workdays []time.Weekday // Monday to Friday
	Open     time.Duration  // since local midnight; 8h
	Close    time.Duration  // since local midnight; 17h
	Extra    []time.Time    // more closed civil dates (year, month, day are used)
	// NoNationalHolidays leaves out the Colombian public holidays.
	NoNationalHolidays bool
}

// Calendar counts business time. It is immutable and safe for concurrent use.
type Calendar struct {
	loc         *time.Location
	workdays    [7]bool
	open, close time.Duration
	national    bool
	closed      []uint64 // bitset of closed days, indexed by day number - firstDay
	extra       map[int64]bool
}

// Closed days are precomputed for this range of years; outside it they are
// computed on demand.
const (
	firstYear = 1984
	lastYear  = 2200
)

var firstDay = daysFromCivil(firstYear, 1, 1)

// DayLength is the business time of one working day, from opening to
// closing (9 h for 08:00–17:00): what "a business day" of the desk's
// settings (reopen window, survey reminder and expiry, long holds) means.
func (c *Calendar) DayLength() time.Duration { return c.close - c.open }

// New returns a calendar, or an error naming what is wrong with opts.
func New(opts Options) (*Calendar, error) {
	c := &Calendar{loc: opts.Location, open: opts.Open, close: opts.Close, national: !opts.NoNationalHolidays,
		extra: map[int64]bool{}}
	if c.loc == nil {
		loc, err := time.LoadLocation("America/Bogota")
		if err != nil {
			return nil, fmt.Errorf("loading America/Bogota: %w", err)
		}
		c.loc = loc
	}
	if c.open == 0 && c.close == 0 {
		c.open, c.close = 8*time.Hour, 17*time.Hour
	}
	if c.open < 0 || c.close > 24*time.Hour || c.close <= c.open {
		return nil, fmt.Errorf("business hours must satisfy 00:00 <= open < close <= 24:00, got %s–%s", c.open, c.close)
	}
	days := opts.Workdays
	if days == nil {
		days = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}
	}
	for _, d := range days {
		if d < time.Sunday || d > time.Saturday {
			return nil, fmt.Errorf("invalid weekday %d", d)
		}
		c.workdays[d] = true
	}
	for _, e := range opts.Extra {
		y, m, d := e.Date()
		c.extra[daysFromCivil(y, m, d)] = true
	}
	c.closed = make([]uint64, (daysFromCivil(lastYear+1, 1, 1)-firstDay)/64+1)
	for y := firstYear; y <= lastYear; y++ {
		for _, day := range c.closedDaysOf(y) {
			i := day - firstDay
			c.closed[i/64] |= 1 << (i % 64)
		}
	}
	return c, nil
}

// Location is the calendar's time zone.
func (c *Calendar) Location() *time.Location { return c.loc }

func (c *Calendar) closedDaysOf(year int) []int64 {
	var out []int64
	if c.national {
		for _, h := range HolidaysIn(year) {
			out = append(out, daysFromCivil(h.Date.Date()))
		}
	}
	for d := range c.extra {
		if y, _, _ := civilFromDays(d); y == year {
			out = append(out, d)
		}
	}
	return out
}

// IsWorkday reports whether the civil date of t in the calendar's zone is a
// working day.
func (c *Calendar) IsWorkday(t time.Time) bool {
	y, m, d := t.In(c.loc).Date()
	return c.workday(daysFromCivil(y, m, d))
}

// IsOpen reports whether t falls in business hours: a working day, between
// opening and closing.
func (c *Calendar) IsOpen(t time.Time) bool {
	lt := t.In(c.loc)
	y, m, d := lt.Date()
	day := daysFromCivil(y, m, d)
	return c.workday(day) && !lt.Before(c.at(day, c.open)) && lt.Before(c.at(day, c.close))
}

func (c *Calendar) workday(day int64) bool {
	if !c.workdays[weekday(day)] {
		return false
	}
	if i := day - firstDay; i >= 0 && i < int64(len(c.closed))*64 {
		return c.closed[i/64]&(1<<(i%64)) == 0
	}
	y, _, _ := civilFromDays(day)
	for _, h := range c.closedDaysOf(y) {
		if h == day {
			return false
		}
	}
	return true
}

// at returns the instant of a time of day on a civil day.
func (c *Calendar) at(day int64, since time.Duration) time.Time {
	y, m, d := civilFromDays(day)
	return time.Date(y, m, d, 0, 0, 0, 0, c.loc).Add(since)
}

// maxIdleDays bounds the work of a search: after this many days in a row
// without working time the calendar is declared empty.
const maxIdleDays = 3700

// Due returns the instant d of business time after start. A start outside
// business hours begins at the next opening; a due time that lands exactly at
// closing is that day's closing time. The result is in the calendar's zone.
func (c *Calendar) Due(start time.Time, d time.Duration) (time.Time, error) {
	if d < 0 {
		return time.Time{}, fmt.Errorf("negative duration %s", d)
	}
	if d == 0 {
		return start.In(c.loc), nil
	}
	lt := start.In(c.loc)
	y, m, dd := lt.Date()
	day := daysFromCivil(y, m, dd)
	t, remaining := lt, d
	for idle := 0; idle < maxIdleDays; day++ {
		if !c.workday(day) {
			idle++
			continue
		}
		idle = 0
		open, close := c.at(day, c.open), c.at(day, c.close)
		if t.Before(open) {
			t = open
		}
		if t.Before(close) {
			avail := close.Sub(t)
			if remaining <= avail {
				return t.Add(remaining), nil
			}
			remaining -= avail
		}
	}
	return time.Time{}, fmt.Errorf("counting %s from %s: %w", d, start.Format(time.RFC3339), ErrNoWorkingTime)
}

// Between returns the business time in [from, to); zero when to is not after
// from.
func (c *Calendar) Between(from, to time.Time) time.Duration {
	if !to.After(from) {
		return 0
	}
	y, m, dd := from.In(c.loc).Date()
	var total time.Duration
	for day := daysFromCivil(y, m, dd); ; day++ {
		if c.at(day, 0).After(to) {
			return total
		}
		if !c.workday(day) {
			continue
		}
		open, close := c.at(day, c.open), c.at(day, c.close)
		if open.Before(from) {
			open = from
		}
		if close.After(to) {
			close = to
		}
		if close.After(open) {
			total += close.Sub(open)
		}
	}
}

// Extend returns due pushed by the business time of a pause from from to to:
// the SLA clock does not run while a ticket is retenido.
func (c *Calendar) Extend(due, from, to time.Time) time.Time {
	t, err := c.Due(due, c.Between(from, to))
	if err != nil {
		return due
	}
	return t
}

// Elapsed returns the fraction of the business time from start to due that
// has passed at now: 0 at start, 1 at due, more than 1 after it.
func (c *Calendar) Elapsed(start, due, now time.Time) float64 {
	total := c.Between(start, due)
	if total <= 0 {
		if now.Before(due) {
			return 0
		}
		return 1
	}
	if !now.After(due) {
		return float64(c.Between(start, now)) / float64(total)
	}
	return 1 + float64(c.Between(due, now))/float64(total)
}

// daysFromCivil returns the number of days from 1970-01-01 to a proleptic
// Gregorian date (Howard Hinnant's algorithm); it normalises out-of-range
// months and days the way time.Date does only for valid dates.
func daysFromCivil(y int, m time.Month, d int) int64 {
	yy := int64(y)
	if m <= 2 {
		yy--
	}
	era := yy / 400
	if yy < 0 && yy%400 != 0 {
		era--
	}
	yoe := yy - era*400
	mp := (int64(m) + 9) % 12
	doy := (153*mp+2)/5 + int64(d) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// civilFromDays is the inverse of daysFromCivil.
func civilFromDays(z int64) (int, time.Month, int) {
	z += 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return int(y), time.Month(m), int(d)
}

// weekday of a day number; 1970-01-01 was a Thursday.
func weekday(day int64) time.Weekday {
	w := (day + 4) % 7
	if w < 0 {
		w += 7
	}
	return time.Weekday(w)
}
