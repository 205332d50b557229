package rules_test

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/rules"
)

// BenchmarkClassify classifies the labelled corpus round-robin with the
// catalogue and the embedded model, with the explanations `mesa rules
// test` shows; one op is one message.
func BenchmarkClassify(b *testing.B) {
	_, e := engines(b)
	benchClassify(b, e)
}

// BenchmarkClassifyDaemon is BenchmarkClassify with the engine the daemon
// runs: without the explanations (Result.Features) only `mesa rules
// test` shows.
func BenchmarkClassifyDaemon(b *testing.B) {
	_, e := engines(b)
	benchClassify(b, e.WithoutFeatures())
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
	// The words a message gives the classifier (subject and cleaned
	// body), counted outside the timed loop, so that figures measured on
	// two corpora say how long their mail was.
	words := make([]int, len(corpus))
	for j, l := range corpus {
		words[j] = len(strings.Fields(l.msg.Subject)) + len(strings.Fields(rules.Clean(l.msg.Body)))
	}
	b.ReportAllocs()
	i, nw := 0, 0
	cpu0 := cpuTime()
	for b.Loop() {
		e.Classify(corpus[i%len(corpus)].msg)
		nw += words[i%len(corpus)]
		i++
	}
	// The machine is shared: wall time per op depends on the load, the
	// process's CPU time per op much less. msgs/cpu-s is the throughput
	// of one core (run with -cpu 1: one goroutine, so CPU time is its).
	if cpu := cpuTime() - cpu0; i > 0 && cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(i), "cpu-ns/op")
		b.ReportMetric(float64(i)/cpu.Seconds(), "msgs/cpu-s")
		b.ReportMetric(float64(nw)/float64(i), "words/op")
	}
}

// cpuTime is the CPU time (user and system) of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
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
