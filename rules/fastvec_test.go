package rules

import (
	"slices"
	"testing"
)

// TestFastVector checks that classification's vector (word cache,
// precomputed hashes) is the one training builds by name, on every mail
// of the shipped corpus' training part.
func TestFastVector(t *testing.T) {
	e, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	m, err := DefaultModel()
	if err != nil {
		t.Fatal(err)
	}
	e = e.WithModel(m, 0)
	_, exs := expTrain(t)
	msgs := []Message{{Subject: "La impresora no imprime 123", Body: "Buenos días, la impresora del piso 3 no imprime, es urgente para hoy!! ¿pueden venir?"},
		{Subject: "", Body: ""}, {Subject: "ayuda", Body: "no me deja entrar al sistema, somos 30 funcionarios sin servicio"}}
	for _, ex := range exs {
		msgs = append(msgs, ex.Message)
	}
	for _, msg := range msgs {
		var buf [128]token
		a := e.analyze(msg, buf[:0])
		var x extractor
		e.extract(a, &x)
		want := vectorize(x.text, x.kw, m.vocab, len(m.names))
		got := e.vectorOf(m, a, sparse{})
		if !slices.Equal(got.idx, want.idx) || !slices.Equal(got.val, want.val) {
			t.Fatalf("%q: classification vector %v %v, training's %v %v", msg.Subject, got.idx, got.val, want.idx, want.val)
		}
	}
}
