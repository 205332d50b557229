package desk_test

import (
	"strings"
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/desk"
)

// Similarity on pairs of real-looking mails: rewordings of one problem
// reach desk.DuplicateStrong, different problems of one person stay under
// desk.DuplicatePossible; the in-between pairs are flagged, not merged.
func TestSimilarityPairs(t *testing.T) {
	for _, tc := range []struct {
		name, a, b string
		min, max   float64
	}{
		{"same words", "No hay red en el piso 3", "No hay red en el piso 3", 1, 1},
		{"rewording", "No hay red\nDesde esta mañana no tengo red ni internet en el computador del piso 3.",
			"Sin internet\nSigo sin red ni internet en el computador, piso 3, desde la mañana.", desk.DuplicateStrong, 1},
		{"second mail, more detail", "La impresora no imprime\nLa impresora del segundo piso no imprime, sale una hoja en blanco.",
			"Impresora segundo piso\nOtra vez la impresora del segundo piso: no imprime nada, solo hojas en blanco.", desk.DuplicateStrong, 1},
		{"vpn twice", "No conecta la VPN\nDesde la casa el FortiClient no conecta a la VPN.",
			"VPN no conecta\nEl FortiClient sigue sin conectar a la VPN desde mi casa.", desk.DuplicateStrong, 1},
		{"same area, other problem", "La impresora no imprime\nLa impresora del segundo piso no imprime.",
			"Tóner de la impresora\nSe acabó el tóner de la impresora del segundo piso, necesitamos uno nuevo.", desk.DuplicatePossible, desk.DuplicateStrong},
		{"different problems", "No conecta la VPN\nDesde la casa el FortiClient no conecta.",
			"Silla rota\nLa silla de mi puesto tiene una rueda rota.", 0, desk.DuplicatePossible},
		{"different problems, same person's style", "Buenos días, solicito ayuda con el correo que no sincroniza en el celular. Gracias",
			"Buenos días, solicito ayuda con el acceso al sistema de nómina, no me deja entrar. Gracias", 0, desk.DuplicatePossible},
		{"empty", "", "No hay red", 0, 0},
		{"only stopwords", "Hola, buenos días, gracias", "Hola, buenas tardes, gracias", 0, 0},
	} {
		got := desk.Similarity(tc.a, tc.b)
		if got < tc.min || got > tc.max || got != desk.Similarity(tc.b, tc.a) {
			t.Errorf("%s: got %.3f, want within [%.2f, %.2f] and symmetric", tc.name, got, tc.min, tc.max)
		}
	}
}

// Similarity is bounded in time on a huge input: it reads at most 2,000
// distinct words of each text.
func TestSimilarityBounded(t *testing.T) {
	var b strings.Builder
	for i := 0; b.Len() < 8<<20; i++ {
		b.WriteString("palabra")
		b.WriteString(strings.Repeat("x", i%50))
		b.WriteString(" ")
	}
	start := time.Now()
	got := desk.Similarity(b.String(), b.String())
	if took := time.Since(start); took > 5*time.Second || got < 0.99 || got > 1.0001 {
		t.Errorf("8 MB: got %.3f in %v, want 1 within 5 s", got, took)
	}
}
