package sla

import (
	"sort"
	"time"
)

// Holiday is a Colombian public holiday rule.
type Holiday struct {
	Name string
	// StartYear is the first year the rule applies (the year its law took
	// effect); 0 means always.
	StartYear int
	// date returns the day off in year: month and day.
	date func(year int) (time.Month, int)
}

// Date returns the day off in year, and false when the rule does not apply.
func (h Holiday) Date(year int) (time.Time, bool) {
	if year < h.StartYear {
		return time.Time{}, false
	}
	m, d := h.date(year)
	return time.Date(year, m, d, 0, 0, 0, 0, time.UTC), true
}

// fixed is a holiday kept on its date (Ley 51 de 1983, art. 1).
func fixed(name string, m time.Month, d int, since int) Holiday {
	return Holiday{Name: name, StartYear: since, date: func(int) (time.Month, int) { return m, d }}
}

// emiliani is a holiday moved to the following Monday when its date is not a
// Monday (Ley 51 de 1983, art. 1, the "Ley Emiliani").
func emiliani(name string, m time.Month, d int, since int) Holiday {
	return Holiday{Name: name, StartYear: since, date: func(y int) (time.Month, int) {
		return nextMonday(time.Date(y, m, d, 0, 0, 0, 0, time.UTC))
	}}
}

// easter is a holiday a fixed number of days from Easter Sunday; the Ley 51
// moves Ascensión, Corpus Christi and Sagrado Corazón to Mondays, which the
// offsets already encode (+43, +64, +71 instead of +39, +60, +68).
func easter(name string, offset int, since int) Holiday {
	return Holiday{Name: name, StartYear: since, date: func(y int) (time.Month, int) {
		e := EasterSunday(y).AddDate(0, 0, offset)
		return e.Month(), e.Day()
	}}
}

func nextMonday(t time.Time) (time.Month, int) {
	for t.Weekday() != time.Monday {
		t = t.AddDate(0, 0, 1)
	}
	return t.Month(), t.Day()
}

// ley51 is the year Ley 51 de 1983 first applied.
const ley51 = 1984

// ColombianHolidays are the national public holidays: Ley 51 de 1983 (fixed
// dates, dates moved to Monday, Easter-based dates) and Ley 2578 de 2026,
// which added Nuestra Señora del Rosario de Chiquinquirá (9 July, moved to
// Monday) from 2026.
var ColombianHolidays = []Holiday{
	fixed("Año Nuevo", time.January, 1, ley51),
	emiliani("Día de los Reyes Magos", time.January, 6, ley51),
	emiliani("Día de San José", time.March, 19, ley51),
	easter("Jueves Santo", -3, ley51),
	easter("Viernes Santo", -2, ley51),
	fixed("Día del Trabajo", time.May, 1, ley51),
	easter("Ascensión del Señor", 43, ley51),
	easter("Corpus Christi", 64, ley51),
	easter("Sagrado Corazón de Jesús", 71, ley51),
	emiliani("San Pedro y San Pablo", time.June, 29, ley51),
	emiliani("Virgen de Chiquinquirá", time.July, 9, 2026),
	fixed("Día de la Independencia", time.July, 20, ley51),
	fixed("Batalla de Boyacá", time.August, 7, ley51),
	emiliani("Asunción de la Virgen", time.August, 15, ley51),
	emiliani("Día de la Raza", time.October, 12, ley51),
	emiliani("Día de Todos los Santos", time.November, 1, ley51),
	emiliani("Independencia de Cartagena", time.November, 11, ley51),
	fixed("Inmaculada Concepción", time.December, 8, ley51),
	fixed("Navidad", time.December, 25, ley51),
}

// DatedHoliday is a holiday on its day off in a given year.
type DatedHoliday struct {
	Date time.Time // midnight UTC of the civil date
	Name string
}

// HolidaysIn lists the national holidays of year by date. Two rules never
// fall on the same day in practice; if they did, the date is listed once.
func HolidaysIn(year int) []DatedHoliday {
	var out []DatedHoliday
	seen := map[time.Time]bool{}
	for _, h := range ColombianHolidays {
		if d, ok := h.Date(year); ok && !seen[d] {
			seen[d] = true
			out = append(out, DatedHoliday{Date: d, Name: h.Name})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Date.Before(out[j].Date) })
	return out
}

// EasterSunday returns Easter Sunday of the Gregorian year (the anonymous
// Gregorian algorithm, Meeus/Jones/Butcher), as midnight UTC.
func EasterSunday(year int) time.Time {
	a := year % 19
	b, c := year/100, year%100
	d, e := b/4, b%4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i, k := c/4, c%4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	day := (h+l-7*m+114)%31 + 1
	return time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC)
}
