package rules

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// A catalogue file is edited by hand: any bytes give an engine or an
// error naming the file, never a crash.
func FuzzParse(f *testing.F) {
	f.Add(defaultCatalogue)
	for _, s := range []string{"categories: []", "categories:\n  - key: x\n    resolution: 3d\n", "{", "categories:\n  - key: a.b\n    keywords: {8: [x]}\n    group: g\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := Parse("fuzz.yaml", data)
		if err == nil && e == nil {
			t.Fatal("no engine and no error")
		}
		if e != nil {
			e.Classify(Message{Subject: "No conecta la VPN", Body: "impresora silla"})
		}
	})
}

// A model file comes from rules.model_file: any bytes give a model or an
// error, quickly and without a huge allocation; a model that loads
// classifies with probabilities in [0, 1].
func FuzzReadModel(f *testing.F) {
	f.Add(embeddedModel()[:min(len(embeddedModel()), 4096)])
	f.Add([]byte(modelMagic))
	f.Add([]byte(modelMagic + "\x02{}"))
	f.Add([]byte(modelMagic + "\x00"))
	e, err := Default()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		start := time.Now()
		m, err := ReadModel(bytes.NewReader(data))
		if d := time.Since(start); d > time.Second {
			t.Fatalf("decoding %d bytes took %v", len(data), d)
		}
		if err == nil {
			r := e.WithModel(m, 0).Classify(Message{Subject: "No conecta la VPN", Body: "impresora silla"})
			if r.Confidence < 0 || r.Confidence > 1 {
				t.Fatalf("confidence %v", r.Confidence)
			}
		}
	})
}

// maybeClosing is a necessary condition of closingRE: a line the
// expression matches always passes it.
func FuzzMaybeClosing(f *testing.F) {
	for _, s := range []string{"Cordialmente,", "ATENTAMENTE", "ſaludos", "Saludos cordiales.", "--", "—", "— !", "Un saludo",
		"Muchas gracias!", "Mil gracias", "Gracias por su atención", "Quedo atenta", "Feliz día", "Agradezco su gestión", "hola"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tr := strings.TrimSpace(s)
		if closingRE.MatchString(tr) && !maybeClosing(tr) {
			t.Fatalf("closingRE matches %q, maybeClosing says no", tr)
		}
	})
}
