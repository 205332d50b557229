package mailin_test

import (
	"os"
	"testing"

	"github.com/mesadeservicios/mesa/mailin"
)

// BenchmarkParseCorpus parses the golden corpus round robin; one op is one
// message.
func BenchmarkParseCorpus(b *testing.B) {
	var msgs [][]byte
	size := 0
	for _, f := range corpusFiles(b) {
		raw, _ := os.ReadFile(f)
		msgs = append(msgs, raw)
		size += len(raw)
	}
	b.SetBytes(int64(size / len(msgs)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		mailin.Parse(msgs[i%len(msgs)])
		i++
	}
}

// BenchmarkParse5KB parses a typical Outlook mail of about 5 KB: text and
// HTML alternatives in quoted-printable latin-1, and a small attachment.
func BenchmarkParse5KB(b *testing.B) {
	raw := mailin.SampleMessage(5 << 10)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := mailin.Parse(raw); err != nil {
			b.Fatal(err)
		}
	}
}
