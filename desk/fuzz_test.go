package desk_test

import (
	"strings"
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/desk"
	"github.com/mesadeservicios/mesa/mailin"
	"github.com/mesadeservicios/mesa/ticket"
)

// Technician replies are untrusted mail text.
func FuzzParseCommands(f *testing.F) {
	for _, s := range []string{"#cerrar Listo\nGracias", "#Categoría ti.vpn\r\n#nota x\n\nTexto", "#", "##ayuda", "\n\n#estado  retenido  \n> cita",
		"#CRITICIDAD alta\n#asignar carlos@x.co\nhola"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cmds, answer := desk.ParseCommands(s)
		for _, c := range cmds {
			if c.Name == "" || strings.ContainsAny(c.Name, " \t\r\n") {
				t.Fatalf("command name %q from %q", c.Name, s)
			}
			if !strings.Contains(s, strings.TrimSpace(c.Line)) {
				t.Fatalf("line %q not in the input", c.Line)
			}
		}
		if len(answer) > len(s) {
			t.Fatalf("answer longer than the input")
		}
	})
}

// Authentication-Results headers come from the network; only the trusted
// server's pass may authenticate.
func FuzzAuthenticated(f *testing.F) {
	for _, s := range []string{
		"mx.entidad.gov.co; dkim=pass header.d=entidad.gov.co; dmarc=pass header.from=entidad.gov.co",
		"mx.entidad.gov.co; dmarc=fail", "otro.example; dmarc=pass header.from=entidad.gov.co", "", ";;;", "mx.entidad.gov.co (comment; dmarc=pass)",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ok := desk.Authenticated([]ticket.AuthHeader{mailin.ParseAuthResults(s)}, "mx.entidad.gov.co", "entidad.gov.co")
		if ok && !strings.Contains(strings.ToLower(s), "mx.entidad.gov.co") {
			t.Fatalf("authenticated without the trusted authserv-id: %q", s)
		}
		if ok && !strings.Contains(strings.ToLower(s), "pass") {
			t.Fatalf("authenticated without a pass: %q", s)
		}
	})
}

// Similarity takes mail text: any input scores within [0, 1], the same
// both ways, in bounded time.
func FuzzSimilarity(f *testing.F) {
	f.Add("No hay red en el piso 3", "Sin red en el piso 3")
	f.Add("", "\x00\xff")
	f.Add("ñandú ÁRBOL árboles", "arbol ñandu")
	f.Fuzz(func(t *testing.T, a, b string) {
		start := time.Now()
		got := desk.Similarity(a, b)
		if got < 0 || got > 1+1e-9 || got != desk.Similarity(b, a) {
			t.Fatalf("Similarity(%q, %q) = %v (reverse %v), want within [0, 1] and symmetric", a, b, got, desk.Similarity(b, a))
		}
		if took := time.Since(start); took > time.Second+time.Duration(len(a)+len(b))*time.Microsecond {
			t.Fatalf("Similarity took %v on %d bytes", took, len(a)+len(b))
		}
	})
}
