package rules

import (
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
)

// TestWordCacheBounded: a flood of words never seen (random strings, as a
// spammer or a binary attachment decoded as text would send) fills the
// engine's word cache up to its bound and then costs time, not memory:
// the cache keeps at most half its slots, and the heap grows by no more
// than the bound's worth of entries with their score rows. Long tokens
// (8 KB each, as hex or base64 pasted as text) are never kept, so their
// bytes do not pile up either (found by an outside review: before, each
// stayed cached with its whole text).
func TestWordCacheBounded(t *testing.T) {
	e, _ := shippedEngine(t)
	e = e.WithoutFeatures()
	rng := rand.New(rand.NewPCG(1, 2))
	word := func() string {
		b := make([]byte, 6+rng.IntN(8))
		for i := range b {
			b[i] = 'a' + byte(rng.IntN(26))
		}
		return string(b)
	}
	msg := func() Message {
		var sb strings.Builder
		for range 200 {
			sb.WriteString(word())
			sb.WriteByte(' ')
		}
		return Message{Subject: word(), Body: sb.String()}
	}
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	e.Classify(msg())
	before := heap()
	const words = 3 * lexCacheSlots / 2 // three times what the cache keeps
	for range words / 200 {
		if r := e.Classify(msg()); r.Category == "" {
			t.Fatal("no decision")
		}
	}
	grown := int64(heap()) - int64(before)
	kept := e.lex.tab.Load().n
	if kept > lexCacheSlots/2 {
		t.Errorf("the cache keeps %d words, want at most %d", kept, lexCacheSlots/2)
	}
	if kept < lexCacheSlots/4 {
		t.Errorf("the cache keeps only %d words: the flood did not fill it (the test proves nothing)", kept)
	}
	if limit := int64(48 << 20); grown > limit {
		t.Errorf("heap grew by %d MB after %d new words, want at most %d MB", grown>>20, words, limit>>20)
	}
	t.Logf("%d random words: the cache keeps %d, heap +%d MB", words, kept, grown>>20)

	e, _ = shippedEngine(t) // a cache of its own
	e = e.WithoutFeatures()
	e.Classify(msg())
	before = heap()
	for range 100 {
		var sb strings.Builder
		for range 100 {
			b := make([]byte, 8<<10)
			for i := range b {
				b[i] = 'a' + byte(rng.IntN(26))
			}
			sb.Write(b)
			sb.WriteByte(' ')
		}
		if r := e.Classify(Message{Subject: "hola", Body: sb.String()}); r.Category == "" {
			t.Fatal("no decision")
		}
	}
	grown = int64(heap()) - int64(before)
	if limit := int64(16 << 20); grown > limit {
		t.Errorf("heap grew by %d MB after 10,000 distinct 8 KB tokens, want at most %d MB", grown>>20, limit>>20)
	}
	t.Logf("10,000 distinct 8 KB tokens: the cache keeps %d words, heap +%d MB", e.lex.tab.Load().n, grown>>20)
}
