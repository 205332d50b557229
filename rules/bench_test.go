package rules_test

import (
	"testing"

	"github.com/mesadeservicios/mesa/rules"
)

// BenchmarkClassify classifies the labelled corpus round-robin with the
// catalogue and the embedded model, as the daemon does; one op is one
// message.
func BenchmarkClassify(b *testing.B) {
	_, e := engines(b)
	benchClassify(b, e)
}

// BenchmarkClassifyRules is the same with the catalogue alone.
func BenchmarkClassifyRules(b *testing.B) {
	e, _ := engines(b)
	benchClassify(b, e)
}

func benchClassify(b *testing.B, e *rules.Engine) {
	corpus := loadCorpus(b)
	// Warm the stem cache, as a running daemon has.
	for _, l := range corpus {
		e.Classify(l.msg)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		e.Classify(corpus[i%len(corpus)].msg)
		i++
	}
}

// BenchmarkLoadModel decodes the embedded model file.
func BenchmarkLoadModel(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rules.DefaultModel(); err != nil {
			b.Fatal(err)
		}
	}
}
