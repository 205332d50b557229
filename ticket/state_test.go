package ticket

import (
	"errors"
	"strings"
	"testing"
)

func TestTransitionsAllPairs(t *testing.T) {
	// allowed lists exactly the ordered pairs of guide 4.6 and DESIGN.md;
	// every other of the 25 pairs must be refused.
	allowed := map[[2]State]bool{
		{Abierto, EnProceso}:            true,
		{EnProceso, Retenido}:           true,
		{EnProceso, Cerrado}:            true,
		{Retenido, EnProceso}:           true,
		{Cerrado, AbiertoPorEncuesta}:   true,
		{Cerrado, EnProceso}:            true, // reopened by a reply within the window
		{AbiertoPorEncuesta, Cerrado}:   true,
		{AbiertoPorEncuesta, EnProceso}: true,
	}
	pairs := 0
	for _, from := range States {
		for _, to := range States {
			pairs++
			t.Run(string(from)+"→"+string(to), func(t *testing.T) {
				want := allowed[[2]State{from, to}]
				if got := from.CanTransition(to); got != want {
					t.Errorf("CanTransition: got %v, want %v", got, want)
				}
				err := ValidateTransition(from, to)
				if want && err != nil {
					t.Errorf("ValidateTransition: got %v, want nil", err)
				}
				if !want && !errors.Is(err, ErrInvalidTransition) {
					t.Errorf("ValidateTransition: got %v, want ErrInvalidTransition", err)
				}
			})
		}
	}
	if pairs != 25 {
		t.Fatalf("got %d pairs, want 25", pairs)
	}
}

func TestValidateTransitionUnknownState(t *testing.T) {
	for _, c := range [][2]State{{"", Abierto}, {Abierto, "resuelto"}, {"x", "y"}} {
		if err := ValidateTransition(c[0], c[1]); !errors.Is(err, ErrInvalidTransition) {
			t.Errorf("%q → %q: got %v, want ErrInvalidTransition", c[0], c[1], err)
		}
	}
}

func TestPathTo(t *testing.T) {
	tests := []struct {
		name     string
		from, to State
		want     []State
	}{
		{"close an open ticket", Abierto, Cerrado, []State{EnProceso, Cerrado}},
		{"hold an open ticket", Abierto, Retenido, []State{EnProceso, Retenido}},
		{"close a held ticket", Retenido, Cerrado, []State{EnProceso, Cerrado}},
		{"direct", EnProceso, Cerrado, []State{Cerrado}},
		{"same state", Cerrado, Cerrado, nil},
		{"never back to abierto", Cerrado, Abierto, nil},
		{"reopen", Cerrado, EnProceso, []State{EnProceso}},
		{"survey not solved", AbiertoPorEncuesta, EnProceso, []State{EnProceso}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.from.PathTo(tc.to)
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
			prev := tc.from
			for _, s := range got {
				if err := ValidateTransition(prev, s); err != nil {
					t.Fatalf("path step %s → %s: %v", prev, s, err)
				}
				prev = s
			}
		})
	}
}

func TestOpen(t *testing.T) {
	want := map[State]bool{Abierto: true, EnProceso: true, Retenido: true, Cerrado: false, AbiertoPorEncuesta: false}
	for s, w := range want {
		if got := s.Open(); got != w {
			t.Errorf("%s.Open(): got %v, want %v", s, got, w)
		}
	}
}

func TestTicketValidate(t *testing.T) {
	ok := Ticket{Number: "MS-2026-000001", State: Abierto, Type: Incidente, Criticality: Media,
		Category: Unclassified, Requester: "ana@example.gov.co"}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid ticket: got %v, want nil", err)
	}
	bad := Ticket{State: "resuelto", Type: "queja", Criticality: "urgente"}
	err := bad.Validate()
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("got %v, want ErrInvalid", err)
	}
	for _, want := range []string{"number", "resuelto", "queja", "urgente", "category", "requester"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}
