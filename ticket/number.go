package ticket

import (
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// Number is a ticket's public identifier, PREFIX-YYYY-NNNNNN: the year of
// creation in the desk's time zone and a sequence that restarts every year.
type Number struct {
	Prefix string
	Year   int
	Seq    int64
}

// String formats n, padding the sequence to six digits (it grows beyond six
// when a year has more than 999,999 tickets).
func (n Number) String() string {
	return fmt.Sprintf("%s-%04d-%06d", n.Prefix, n.Year, n.Seq)
}

var prefixRE = regexp.MustCompile(`^[A-Z][A-Z0-9]{0,9}$`)

var numberRE = regexp.MustCompile(`(?i)\b([A-Z][A-Z0-9]{0,9})-(\d{4})-(\d{6,9})\b`)

// ParseNumber parses a number such as "MS-2026-000123", case-insensitively.
// The prefix comes back in upper case.
func ParseNumber(s string) (Number, error) {
	m := numberRE.FindStringSubmatch(s)
	if m == nil || m[0] != s {
		return Number{}, fmt.Errorf("%w: ticket number %q", ErrInvalid, s)
	}
	return numberFromMatch(m), nil
}

// FindNumber returns the first ticket number with the given prefix found in
// s (for instance a subject tag "[MS-2026-000123]"), or false.
func FindNumber(s, prefix string) (Number, bool) {
	for _, m := range numberRE.FindAllStringSubmatch(s, -1) {
		n := numberFromMatch(m)
		if n.Prefix == upper(prefix) {
			return n, true
		}
	}
	return Number{}, false
}

func numberFromMatch(m []string) Number {
	year, _ := strconv.Atoi(m[2])
	seq, _ := strconv.ParseInt(m[3], 10, 64)
	return Number{Prefix: upper(m[1]), Year: year, Seq: seq}
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// YearOf returns the calendar year of t in loc: a ticket created on
// 31 December at 20:00 in Bogotá belongs to that year, although it is already
// 1 January in UTC.
func YearOf(t time.Time, loc *time.Location) int {
	return t.In(loc).Year()
}

// ValidPrefix reports whether p can be used as a ticket number prefix: one
// letter followed by up to nine letters or digits.
func ValidPrefix(p string) bool {
	return prefixRE.MatchString(p)
}
