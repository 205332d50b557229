package rules

import (
	"syscall"
	"testing"
	"time"
)

// BenchmarkParts times the stages of a classification with the model,
// over the training part of the corpus (go test -bench Parts -cpu 1).
func BenchmarkParts(b *testing.B) {
	e, m := shippedEngine(b)
	msgs := trainingMessages(b)
	for _, msg := range msgs {
		e.Classify(msg)
	}
	var buf [128]token
	b.Run("clean", func(b *testing.B) {
		i := 0
		c0 := cpuNow()
		for b.Loop() {
			Clean(msgs[i%len(msgs)].Body)
			i++
		}
		reportCPU(b, c0, i)
	})
	b.Run("tokenize", func(b *testing.B) {
		i := 0
		c0 := cpuNow()
		for b.Loop() {
			tokenize(Clean(msgs[i%len(msgs)].Body), buf[:0])
			i++
		}
		reportCPU(b, c0, i)
	})
	b.Run("analyze", func(b *testing.B) {
		i := 0
		c0 := cpuNow()
		for b.Loop() {
			e.analyze(msgs[i%len(msgs)], buf[:0])
			i++
		}
		reportCPU(b, c0, i)
	})
	as := make([]analysis, len(msgs))
	for i, msg := range msgs {
		as[i] = e.analyze(msg, nil)
	}
	b.Run("vector", func(b *testing.B) {
		i := 0
		c0 := cpuNow()
		for b.Loop() {
			e.vectorOf(m, as[i%len(as)], sparse{})
			i++
		}
		reportCPU(b, c0, i)
	})
	b.Run("decide", func(b *testing.B) {
		i := 0
		var r Result
		c0 := cpuNow()
		for b.Loop() {
			e.modelDecide(&r, as[i%len(as)], true, true)
			i++
		}
		reportCPU(b, c0, i)
	})
}

func BenchmarkDecideParts(b *testing.B) {
	e, m := shippedEngine(b)
	_, exs := expTrain(b)
	as := make([]analysis, len(exs))
	vs := make([]sparse, len(exs))
	for i, ex := range exs {
		as[i] = e.analyze(ex.Message, nil)
		vs[i] = e.vectorOf(m, as[i], sparse{})
	}
	n := 0
	for _, v := range vs {
		n += len(v.idx)
	}
	b.Logf("mean features per mail %d", n/len(vs))
	hc := &m.heads[headCategory]
	b.Run("catdecide", func(b *testing.B) {
		i := 0
		lg := make([]float64, hc.k)
		j := jointVec{score: make([]float32, hc.k), rule: -1}
		c0 := cpuNow()
		for b.Loop() {
			hc.decide(vs[i%len(vs)], j, lg)
			i++
		}
		reportCPU(b, c0, i)
	})
	b.Run("explain", func(b *testing.B) {
		i := 0
		j := jointVec{score: make([]float32, hc.k), rule: -1}
		c0 := cpuNow()
		for b.Loop() {
			m.explain(headCategory, vs[i%len(vs)], j, 3, explainTop)
			i++
		}
		reportCPU(b, c0, i)
	})
	b.Run("kwdecisions", func(b *testing.B) {
		i := 0
		c0 := cpuNow()
		for b.Loop() {
			e.keywordDecisions(as[i%len(as)])
			i++
		}
		reportCPU(b, c0, i)
	})
	b.Run("modelDecide", func(b *testing.B) {
		i := 0
		var r Result
		c0 := cpuNow()
		for b.Loop() {
			e.modelDecide(&r, as[i%len(as)], true, true)
			i++
		}
		reportCPU(b, c0, i)
	})
}

func cpuNow() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, c0 time.Duration, n int) {
	if n > 0 {
		b.ReportMetric(float64((cpuNow()-c0).Nanoseconds())/float64(n), "cpu-ns/op")
	}
}
