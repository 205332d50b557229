package ticket

import (
	"errors"
	"testing"
	"time"
)

func TestNumberString(t *testing.T) {
	tests := []struct {
		n    Number
		want string
	}{
		{Number{"MS", 2026, 123}, "MS-2026-000123"},
		{Number{"MS", 2027, 1}, "MS-2027-000001"},
		{Number{"TI", 2026, 1234567}, "TI-2026-1234567"},
	}
	for _, tc := range tests {
		if got := tc.n.String(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}

func TestParseNumber(t *testing.T) {
	n, err := ParseNumber("ms-2026-000123")
	if err != nil {
		t.Fatal(err)
	}
	if n != (Number{"MS", 2026, 123}) {
		t.Errorf("got %+v", n)
	}
	for _, bad := range []string{"", "MS-26-000123", "MS-2026-123", "[MS-2026-000123]", "MS-2026-000123x", "-2026-000001"} {
		if _, err := ParseNumber(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseNumber(%q): got %v, want ErrInvalid", bad, err)
		}
	}
}

func TestFindNumber(t *testing.T) {
	tests := []struct {
		subject string
		prefix  string
		want    Number
		ok      bool
	}{
		{"RE: [MS-2026-000123] No funciona la VPN", "MS", Number{"MS", 2026, 123}, true},
		{"Rv: RE: [ms-2026-000042]", "MS", Number{"MS", 2026, 42}, true},
		{"[INC-2026-000001] otro sistema [MS-2027-000009]", "MS", Number{"MS", 2027, 9}, true},
		{"sin número", "MS", Number{}, false},
		{"XMS-2026-000001", "MS", Number{}, false},
	}
	for _, tc := range tests {
		got, ok := FindNumber(tc.subject, tc.prefix)
		if ok != tc.ok || got != tc.want {
			t.Errorf("FindNumber(%q): got %+v %v, want %+v %v", tc.subject, got, ok, tc.want, tc.ok)
		}
	}
}

func TestYearOf(t *testing.T) {
	bog, err := time.LoadLocation("America/Bogota")
	if err != nil {
		t.Fatal(err)
	}
	// 2027-01-01 03:00 UTC is still 31 December 2026 at 22:00 in Bogotá.
	at := time.Date(2027, 1, 1, 3, 0, 0, 0, time.UTC)
	if got := YearOf(at, bog); got != 2026 {
		t.Errorf("got %d, want 2026", got)
	}
	if got := YearOf(at, time.UTC); got != 2027 {
		t.Errorf("got %d, want 2027", got)
	}
}

func TestValidPrefix(t *testing.T) {
	for p, want := range map[string]bool{"MS": true, "TI2": true, "": false, "ms": false, "2MS": false, "M-S": false, "ABCDEFGHIJK": false} {
		if got := ValidPrefix(p); got != want {
			t.Errorf("ValidPrefix(%q): got %v, want %v", p, got, want)
		}
	}
}

// FuzzFindNumber feeds subjects from untrusted mail to the number finder: it
// must never panic, and whatever it finds must format back to a number that
// parses to the same value.
func FuzzFindNumber(f *testing.F) {
	for _, s := range []string{"RE: [MS-2026-000123] x", "MS-9999-999999999", "ms-0000-000000", "\xff[MS-2026-0000001]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := FindNumber(s, "MS")
		if !ok {
			return
		}
		back, err := ParseNumber(n.String())
		if err != nil {
			t.Fatalf("found %+v in %q, but its string %q does not parse: %v", n, s, n.String(), err)
		}
		if back != n {
			t.Fatalf("round trip: got %+v, want %+v", back, n)
		}
	})
}
