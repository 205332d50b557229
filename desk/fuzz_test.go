package desk_test

import (
	"strings"
	"testing"

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
