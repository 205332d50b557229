package sla

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"
)

var bogota = mustLoad("America/Bogota")

func mustLoad(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

func dates(hs []DatedHoliday) []string {
	var out []string
	for _, h := range hs {
		out = append(out, h.Date.Format(time.DateOnly))
	}
	return out
}

func TestHolidays(t *testing.T) {
	tests := map[int][]string{
		// Official 2026 list (decreto/calendario oficial) plus 13 July, the
		// day off for Virgen de Chiquinquirá under Ley 2578 de 2026.
		2026: {"2026-01-01", "2026-01-12", "2026-03-23", "2026-04-02", "2026-04-03", "2026-05-01",
			"2026-05-18", "2026-06-08", "2026-06-15", "2026-06-29", "2026-07-13", "2026-07-20",
			"2026-08-07", "2026-08-17", "2026-10-12", "2026-11-02", "2026-11-16", "2026-12-08", "2026-12-25"},
		// 2027: Easter on 28 March.
		2027: {"2027-01-01", "2027-01-11", "2027-03-22", "2027-03-25", "2027-03-26", "2027-05-01",
			"2027-05-10", "2027-05-31", "2027-06-07", "2027-07-05", "2027-07-12", "2027-07-20",
			"2027-08-07", "2027-08-16", "2027-10-18", "2027-11-01", "2027-11-15", "2027-12-08", "2027-12-25"},
		// 2025, before Ley 2578: 18 holidays.
		2025: {"2025-01-01", "2025-01-06", "2025-03-24", "2025-04-17", "2025-04-18", "2025-05-01",
			"2025-06-02", "2025-06-23", "2025-06-30", "2025-07-20", "2025-08-07", "2025-08-18",
			"2025-10-13", "2025-11-03", "2025-11-17", "2025-12-08", "2025-12-25"},
	}
	for year, want := range tests {
		got := dates(HolidaysIn(year))
		if len(got) != len(want) {
			t.Errorf("%d: got %d holidays %v, want %d %v", year, len(got), got, len(want), want)
			continue
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%d: holiday %d: got %s, want %s", year, i, got[i], want[i])
			}
		}
	}
}

func TestEasterSunday(t *testing.T) {
	for year, want := range map[int]string{2024: "2024-03-31", 2025: "2025-04-20", 2026: "2026-04-05",
		2027: "2027-03-28", 2028: "2028-04-16", 2038: "2038-04-25", 2000: "2000-04-23", 1985: "1985-04-07"} {
		if got := EasterSunday(year).Format(time.DateOnly); got != want {
			t.Errorf("%d: got %s, want %s", year, got, want)
		}
	}
}

func mustCal(t testing.TB, opts Options) *Calendar {
	t.Helper()
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestDue(t *testing.T) {
	c := mustCal(t, Options{})
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name, start string
		d           time.Duration
		want        string
	}{
		{"issue example: Friday 16:00 + 2.5 h over the San José Monday", "2026-03-20T16:00:00-05:00", 150 * time.Minute, "2026-03-24T09:30:00-05:00"},
		{"8 h from Friday 16:00", "2026-03-20T16:00:00-05:00", 8 * time.Hour, "2026-03-24T15:00:00-05:00"},
		{"Saturday starts at the next opening", "2026-03-21T12:00:00-05:00", 2 * time.Hour, "2026-03-24T10:00:00-05:00"},
		{"over Holy Thursday and Friday", "2026-04-01T16:30:00-05:00", time.Hour, "2026-04-06T08:30:00-05:00"},
		{"lands exactly at closing", "2026-03-24T08:00:00-05:00", 9 * time.Hour, "2026-03-24T17:00:00-05:00"},
		{"before opening", "2026-03-24T06:10:00-05:00", 30 * time.Minute, "2026-03-24T08:30:00-05:00"},
		{"after closing", "2026-03-24T18:00:00-05:00", 30 * time.Minute, "2026-03-25T08:30:00-05:00"},
		{"at closing", "2026-03-24T17:00:00-05:00", time.Minute, "2026-03-25T08:01:00-05:00"},
		{"3 días = 27 business hours", "2026-03-24T10:00:00-05:00", 27 * time.Hour, "2026-03-27T10:00:00-05:00"},
		{"start given in UTC", "2026-03-20T21:00:00Z", 150 * time.Minute, "2026-03-24T09:30:00-05:00"},
		{"year end", "2026-12-24T16:00:00-05:00", 2 * time.Hour, "2026-12-28T09:00:00-05:00"},
		{"zero", "2026-03-21T12:00:00-05:00", 0, "2026-03-21T12:00:00-05:00"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.Due(at(tc.start), tc.d)
			if err != nil {
				t.Fatal(err)
			}
			if s := got.Format(time.RFC3339); s != tc.want {
				t.Errorf("got %s, want %s", s, tc.want)
			}
		})
	}
	if _, err := c.Due(at("2026-03-20T16:00:00-05:00"), -time.Minute); err == nil {
		t.Error("negative duration: got nil error")
	}
}

func TestExtraHolidaysAndCustomHours(t *testing.T) {
	c := mustCal(t, Options{Extra: []time.Time{time.Date(2026, 3, 24, 0, 0, 0, 0, time.UTC)},
		Workdays: []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday},
		Open:     7 * time.Hour, Close: 12 * time.Hour})
	start := time.Date(2026, 3, 20, 11, 0, 0, 0, bogota)
	// Fri 11–12 (1 h), Sat 21 7–12 (5 h), Mon 23 holiday, Tue 24 extra, Wed 25 from 7.
	got, err := c.Due(start, 7*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 3, 25, 8, 0, 0, 0, bogota); !got.Equal(want) {
		t.Errorf("got %s, want %s", got, want)
	}
	if c.IsWorkday(time.Date(2026, 3, 24, 10, 0, 0, 0, bogota)) {
		t.Error("extra holiday counted as a workday")
	}
	// 2026-03-24 03:00 UTC is Monday 23 March, 22:00 in Bogotá: a holiday.
	if c.IsWorkday(time.Date(2026, 3, 24, 3, 0, 0, 0, time.UTC)) {
		t.Error("IsWorkday used the instant's zone instead of the calendar's")
	}
}

func TestNoWorkingTime(t *testing.T) {
	c := mustCal(t, Options{Workdays: []time.Weekday{}})
	start := time.Now()
	_, err := c.Due(time.Date(2026, 3, 20, 9, 0, 0, 0, bogota), time.Hour)
	if !errors.Is(err, ErrNoWorkingTime) {
		t.Fatalf("got %v, want ErrNoWorkingTime", err)
	}
	if el := time.Since(start); el > time.Second {
		t.Errorf("took %s: the search must be bounded", el)
	}
	for _, bad := range []Options{{Open: 17 * time.Hour, Close: 8 * time.Hour}, {Open: time.Hour, Close: 25 * time.Hour}, {Workdays: []time.Weekday{9}}} {
		if _, err := New(bad); err == nil {
			t.Errorf("%+v: got nil error", bad)
		}
	}
}

func TestBetweenExtendElapsed(t *testing.T) {
	c := mustCal(t, Options{})
	fri16 := time.Date(2026, 3, 20, 16, 0, 0, 0, bogota)
	tue10 := time.Date(2026, 3, 24, 10, 0, 0, 0, bogota)
	if got := c.Between(fri16, tue10); got != 3*time.Hour {
		t.Errorf("Between: got %s, want 3h (1 h Friday + 2 h Tuesday; Monday is a holiday)", got)
	}
	if got := c.Between(tue10, fri16); got != 0 {
		t.Errorf("reversed: got %s, want 0", got)
	}
	// Held from Friday 16:00 to Tuesday 10:00: 3 business hours pushed.
	due := time.Date(2026, 3, 24, 15, 0, 0, 0, bogota)
	if got, want := c.Extend(due, fri16, tue10), time.Date(2026, 3, 25, 9, 0, 0, 0, bogota); !got.Equal(want) {
		t.Errorf("Extend: got %s, want %s", got, want)
	}
	start := time.Date(2026, 3, 24, 8, 0, 0, 0, bogota)
	end := time.Date(2026, 3, 24, 16, 0, 0, 0, bogota)
	for _, tc := range []struct {
		now  time.Time
		want float64
	}{
		{start, 0}, {time.Date(2026, 3, 24, 14, 0, 0, 0, bogota), 0.75}, {end, 1},
		{time.Date(2026, 3, 25, 9, 0, 0, 0, bogota), 1.25},
	} {
		if got := c.Elapsed(start, end, tc.now); got != tc.want {
			t.Errorf("Elapsed at %s: got %v, want %v", tc.now, got, tc.want)
		}
	}
}

// reference counts business minutes one by one, with its own holiday lookup.
type reference struct {
	closed map[string]bool
}

func newReference() *reference {
	r := &reference{closed: map[string]bool{}}
	for y := 2025; y <= 2029; y++ {
		for _, h := range HolidaysIn(y) {
			r.closed[h.Date.Format(time.DateOnly)] = true
		}
	}
	return r
}

func (r *reference) open(t time.Time) bool {
	t = t.In(bogota)
	if t.Weekday() == time.Saturday || t.Weekday() == time.Sunday || r.closed[t.Format(time.DateOnly)] {
		return false
	}
	return t.Hour() >= 8 && t.Hour() < 17
}

func (r *reference) due(start time.Time, minutes int) time.Time {
	t := start
	for minutes > 0 {
		if r.open(t) {
			minutes--
		}
		t = t.Add(time.Minute)
	}
	return t
}

// TestDueAgainstReference checks 10,000 random cases against minute stepping,
// and the properties: monotone in start and duration, never earlier than
// start + duration, two steps equal one.
func TestDueAgainstReference(t *testing.T) {
	c := mustCal(t, Options{})
	ref := newReference()
	rng := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2025, 12, 15, 0, 0, 0, 0, bogota)
	zones := []*time.Location{time.UTC, bogota, mustLoad("Asia/Tokyo"), mustLoad("America/New_York")}
	for i := 0; i < 10000; i++ {
		start := base.Add(time.Duration(rng.IntN(700*24*60)) * time.Minute)
		mins := rng.IntN(30 * 60)
		d := time.Duration(mins) * time.Minute
		got, err := c.Due(start.In(zones[i%len(zones)]), d)
		if err != nil {
			t.Fatal(err)
		}
		if mins > 0 {
			// A zero duration returns start itself; minute stepping would too.
			if want := ref.due(start, mins); !got.Equal(want) {
				t.Fatalf("Due(%s, %s): got %s, want %s", start, d, got, want)
			}
		}
		if got.Location().String() != "America/Bogota" {
			t.Fatalf("result zone: got %s, want America/Bogota", got.Location())
		}
		if got.Before(start.Add(d)) {
			t.Fatalf("Due(%s, %s) = %s is earlier than start + d", start, d, got)
		}
		later, _ := c.Due(start.Add(time.Duration(rng.IntN(600))*time.Minute), d)
		if later.Before(got) {
			t.Fatalf("not monotone in start: %s then %s", got, later)
		}
		longer, _ := c.Due(start, d+time.Duration(rng.IntN(600))*time.Minute)
		if longer.Before(got) {
			t.Fatalf("not monotone in duration: %s then %s", got, longer)
		}
		a := time.Duration(rng.IntN(mins+1)) * time.Minute
		mid, _ := c.Due(start, a)
		two, _ := c.Due(mid, d-a)
		if !two.Equal(got) {
			t.Fatalf("two steps (%s then %s) from %s: got %s, want %s", a, d-a, start, two, got)
		}
		if b := c.Between(start, got); b != d && mins > 0 {
			t.Fatalf("Between(start, Due(start, %s)) = %s", d, b)
		}
	}
}

func TestCivilDays(t *testing.T) {
	for _, d := range []time.Time{time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2000, 2, 29, 0, 0, 0, 0, time.UTC), time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC), time.Date(2400, 12, 31, 0, 0, 0, 0, time.UTC)} {
		n := daysFromCivil(d.Date())
		if want := d.Unix() / 86400; n != want {
			t.Errorf("%s: got day %d, want %d", d, n, want)
		}
		y, m, dd := civilFromDays(n)
		if y != d.Year() || m != d.Month() || dd != d.Day() || weekday(n) != d.Weekday() {
			t.Errorf("%s: round trip %d-%d-%d %s", d, y, m, dd, weekday(n))
		}
	}
}

func BenchmarkDue(b *testing.B) {
	c := mustCal(b, Options{})
	start := time.Date(2026, 3, 20, 16, 0, 0, 0, bogota)
	durations := []time.Duration{150 * time.Minute, 8 * time.Hour, 27 * time.Hour}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := c.Due(start.Add(time.Duration(i%2000)*time.Hour), durations[i%3]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func TestIsOpen(t *testing.T) {
	c := mustCal(t, Options{})
	for s, want := range map[string]bool{
		"2026-03-24T08:00:00-05:00": true, "2026-03-24T16:59:00-05:00": true, "2026-03-24T17:00:00-05:00": false,
		"2026-03-24T07:59:00-05:00": false, "2026-03-21T10:00:00-05:00": false, "2026-03-23T10:00:00-05:00": false,
		"2026-03-24T14:00:00Z": true,
	} {
		at, _ := time.Parse(time.RFC3339, s)
		if got := c.IsOpen(at); got != want {
			t.Errorf("IsOpen(%s): got %v, want %v", s, got, want)
		}
	}
}

// TestDayLength: a business day is the calendar's opening hours.
func TestDayLength(t *testing.T) {
	for _, tc := range []struct {
		open, close, want time.Duration
	}{
		{0, 0, 9 * time.Hour}, // the guide's 08:00–17:00
		{7 * time.Hour, 17 * time.Hour, 10 * time.Hour},
		{8*time.Hour + 30*time.Minute, 12 * time.Hour, 3*time.Hour + 30*time.Minute},
	} {
		c, err := New(Options{Open: tc.open, Close: tc.close})
		if err != nil {
			t.Fatal(err)
		}
		if got := c.DayLength(); got != tc.want {
			t.Errorf("%s–%s: got %s, want %s", tc.open, tc.close, got, tc.want)
		}
	}
}
