package desk_test

import (
	"strings"
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/desk"
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
