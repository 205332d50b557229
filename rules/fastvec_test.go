package rules

import (
	"math"
	"slices"
	"strings"
	"testing"
)

// shippedEngine is the shipped catalogue with the embedded model.
func shippedEngine(t testing.TB) (*Engine, *Model) {
	t.Helper()
	e, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	m, err := DefaultModel()
	if err != nil {
		t.Fatal(err)
	}
	return e.WithModel(m, 0), m
}

// trainingMessages is extra followed by the messages of the corpus'
// training part.
func trainingMessages(t testing.TB, extra ...Message) []Message {
	t.Helper()
	_, exs := expTrain(t)
	msgs := extra
	for _, ex := range exs {
		msgs = append(msgs, ex.Message)
	}
	return msgs
}

// TestFastVector checks that classification's vector (word cache,
// precomputed hashes) is the one training builds by name, on every mail
// of the shipped corpus' training part.
func TestFastVector(t *testing.T) {
	e, m := shippedEngine(t)
	msgs := trainingMessages(t, Message{Subject: "La impresora no imprime 123", Body: "Buenos días, la impresora del piso 3 no imprime, es urgente para hoy!! ¿pueden venir?"},
		Message{Subject: "", Body: ""}, Message{Subject: "ayuda", Body: "no me deja entrar al sistema, somos 30 funcionarios sin servicio"})
	for _, msg := range msgs {
		var buf [128]token
		a := e.analyze(msg, buf[:0])
		var x extractor
		e.extract(a, &x)
		want := vectorize(&x.text, x.kw, m.vocab, len(m.names))
		got := e.vectorOf(m, a, sparse{})
		if !slices.Equal(got.idx, want.idx) || !slices.Equal(got.val, want.val) {
			t.Fatalf("%q: classification vector %v %v, training's %v %v", msg.Subject, got.idx, got.val, want.idx, want.val)
		}
	}
}

// TestTextParts checks that classification's sums, formed from each
// word's score and the rows of the other features (partsOf), are the
// sums of the vector's features times their weights, and that its parts
// hold the vector's values bit for bit.
func TestTextParts(t *testing.T) {
	e, m := shippedEngine(t)
	msgs := trainingMessages(t, Message{Subject: "La impresora no imprime 123", Body: "Buenos días, la impresora del piso 3 no imprime, es urgente para hoy!! ¿pueden venir? impresoras impresora"},
		Message{Subject: "", Body: ""}, Message{Subject: "ayuda ayuda", Body: "no me deja entrar al sistema, somos 30 funcionarios sin servicio; el sistema no deja"})
	sc := m.scratch()
	n := m.rowLen()
	want := make([]float32, n)
	var wacc [numHeads][]float32
	off := 0
	for hi := range m.heads {
		wacc[hi] = want[off : off+m.heads[hi].k]
		off += m.heads[hi].k
	}
	for _, msg := range msgs {
		var buf [128]token
		a := e.analyze(msg, buf[:0])
		v := e.vectorOf(m, a, sparse{})
		p := e.partsOf(m, a, sc)
		val := map[int32]float32{}
		for j, f := range v.idx {
			val[f] = v.val[j]
		}
		covered := map[int32]bool{}
		for _, part := range []sparse{p.uni, p.rest} {
			for j, f := range part.idx {
				if got, ok := val[f]; !ok || got != part.val[j] {
					t.Fatalf("%q: feature %s is %v in the parts, %v (present %v) in the vector", msg.Subject, m.names[f], part.val[j], got, ok)
				}
				covered[f] = true
			}
		}
		for _, w := range p.words {
			for _, f := range w.en.word().grams {
				covered[f] = true
			}
			if w.en.uni >= 0 {
				covered[w.en.uni] = true
			}
		}
		if len(covered) != len(v.idx) {
			t.Fatalf("%q: the parts cover %d features, the vector has %d", msg.Subject, len(covered), len(v.idx))
		}
		clear(sc.accAll)
		addWords(p.words, sc.accAll)
		m.rows.accumulate(p.rest, &sc.acc)
		clear(want)
		m.rows.accumulate(v, &wacc)
		for c := range want {
			if d := math.Abs(float64(sc.accAll[c] - want[c])); d > 1e-3*(1+math.Abs(float64(want[c]))) {
				t.Fatalf("%q: sum %d is %v from the parts, %v from the vector", msg.Subject, c, sc.accAll[c], want[c])
			}
		}
	}
}

// TestDecisionsFromParts checks that classification's decisions, summed
// from the vector's parts, are those of the whole vectors the model was
// trained on (head.decide over vectorOf's vector and the chain's
// features), to float rounding.
func TestDecisionsFromParts(t *testing.T) {
	e, m := shippedEngine(t)
	_, exs := expTrain(t)
	sc := m.scratch()
	var logits [numHeads][]float64
	for hi := range logits {
		logits[hi] = make([]float64, m.heads[hi].k)
	}
	for _, ex := range exs {
		var buf [128]token
		a := e.analyze(ex.Message, buf[:0])
		got, js := e.decideAll(a, sc)
		v := e.vectorOf(m, a, sparse{})
		var want [numHeads]decision
		want[headCategory] = m.heads[headCategory].decide(v, js[headCategory], logits[headCategory])
		pc := want[headCategory].probs
		want[headType] = m.heads[headType].decide(m.stack.extend(v, headType, pc, nil, &a.cues, &sparse{}), js[headType], logits[headType])
		pt := want[headType].probs
		want[headCrit] = m.heads[headCrit].decide(m.stack.extend(v, headCrit, pc, pt, &a.cues, &sparse{}), js[headCrit], logits[headCrit])
		for hi := range want {
			for c, p := range want[hi].probs {
				if d := math.Abs(p - got[hi].probs[c]); d > 1e-5 {
					t.Fatalf("%q: %s class %d: probability %v from the parts, %v from the vector", ex.Message.Subject, headNames[hi], c, got[hi].probs[c], p)
				}
			}
			if g, w := got[hi].best, want[hi].best; g != w && math.Abs(want[hi].probs[g]-want[hi].probs[w]) > 1e-5 {
				t.Fatalf("%q: %s: class %d from the parts, %d from the vector", ex.Message.Subject, headNames[hi], g, w)
			}
		}
	}
}

// TestNegatedFlags checks that negated, which skips the positions where
// no negation can end (lexEntry flags), finds what trying every
// negation there finds, for the catalogue's and the cues' negations, at
// every position of every training mail.
func TestNegatedFlags(t *testing.T) {
	e, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	_, exs := expTrain(t)
	slow, slowCues := *e, *e.cues
	slow.negFlag, slowCues.negFlag = 0, 0
	found := 0
	msgs := []Message{{Subject: "sin urgencia", Body: "no reviste urgencia, no tiene el sistema caído; buenos días a todos"}}
	for _, ex := range exs {
		msgs = append(msgs, ex.Message)
	}
	for _, msg := range msgs {
		var buf [128]token
		a := e.analyze(msg, buf[:0])
		for i := range a.toks {
			for _, p := range [][2]*Engine{{e, &slow}, {e.cues, &slowCues}} {
				got, want := p[0].negated(a.toks, a.lex, i), p[1].negated(a.toks, a.lex, i)
				if got != want {
					t.Fatalf("%q, token %d (%s): negated %v, trying every negation %v", msg.Subject, i, a.toks[i].word, got, want)
				}
				if got {
					found++
				}
			}
		}
	}
	if found == 0 {
		t.Fatal("no negation found anywhere")
	}
}

// The table behind log1p gives math.Log1p's bits; other arguments fall
// through to it.
func TestLog1pTable(t *testing.T) {
	for _, x := range []float64{0, 1, 2, 7, 63, 64, 65, 1000, 0.5, 2.25, 63.5, 1e-9, 1e30, math.Inf(1)} {
		if got, want := log1p(x), math.Log1p(x); math.Float64bits(got) != math.Float64bits(want) {
			t.Errorf("log1p(%v) = %v, math.Log1p gives %v", x, got, want)
		}
	}
	if !math.IsNaN(log1p(math.NaN())) || !math.IsNaN(log1p(-2)) {
		t.Error("log1p of NaN or below -1 is not NaN")
	}
}

// The classifier takes each word's stem from its word cache, not from
// tokenize: the two give the same tokens, also for words the cache has
// never seen (and for one too long to be kept).
func TestAnalyzeStemsFromCache(t *testing.T) {
	e, _ := shippedEngine(t)
	m := Message{Subject: "RV: Impresoras caídas en las oficinas",
		Body: "Las luces y los computadores no encienden; xqzvelocidades nuevas " + strings.Repeat("abcdefghij", 30) + " raíces"}
	want := tokenize(m.Subject, nil)
	want = tokenize(Clean(m.Body), want)
	for range 2 { // cold cache, then warm
		a := e.analyzeIn(m, nil, nil)
		if !slices.Equal(a.toks, want) {
			t.Fatalf("analyzeIn's tokens %v, tokenize's %v", a.toks, want)
		}
	}
}
