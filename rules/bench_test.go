package rules_test

import (
	"testing"

	"github.com/mesadeservicios/mesa/rules"
)

// BenchmarkClassify classifies the labelled corpus round-robin; one op is
// one message.
func BenchmarkClassify(b *testing.B) {
	e, err := rules.Default()
	if err != nil {
		b.Fatal(err)
	}
	corpus := loadCorpus(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		e.Classify(corpus[i%len(corpus)].msg)
		i++
	}
}
