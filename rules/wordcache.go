package rules

import (
	"math"
	"strings"
	"sync"
	"sync/atomic"
)

// Classification reads a message's words through a cache of what each
// word means to one model, resolved against its vocabulary once: whether
// it counts (stop words and numbers do not; numbers and very long words
// also break a bigram), the hash of its stem feature (bigrams combine two
// of them, featureHash), the vocabulary index of that stem feature and of
// its character n-grams. Training reads the same features by name
// (extractor); TestFastVector checks both give the same vector.
type wordEntry struct {
	kind  uint8 // wordContent, wordStop, wordBreak
	hw    uint64
	uni   int32 // index of w:<stem>, -1 when not in the vocabulary
	grams []int32
}

const (
	wordContent = iota
	wordStop    // a stop word: skipped, keeps the bigram going
	wordBreak   // a number or an overlong word: skipped, ends the bigram
)

// strCache is a table from a word to a value computed once, filled as
// words are met and never emptied: lookups are lock-free (open addressing
// over an atomically published table), inserts take a mutex. The table
// starts small and doubles at half full, so the slots a lookup touches
// stay few and close together (a mailbox's few thousand words fit in
// 64–128 KB of slots), up to maxSlots; at half of that it stops taking
// words, so a flood of random words costs time, never memory. A short
// word is kept inside its entry: a hit reads the slot and the entry, no
// third line for the key. Several times faster than a sync.Map or a map
// under a lock for the hundred-odd words of a mail.
type strCache[T any] struct {
	maxSlots int
	tab      atomic.Pointer[cacheTable[T]]
	mu       sync.Mutex // for inserts
}

type cacheTable[T any] struct {
	slots []atomic.Pointer[cached[T]]
	n     int // entries; under strCache.mu
}

// cacheInline is the longest word kept inside its entry.
const cacheInline = 23

type cached[T any] struct {
	kn   uint8 // length of an inline key, or 0: the key is long
	kb   [cacheInline]byte
	val  T
	long string
	h    uint64
}

func (en *cached[T]) is(w string) bool {
	if en.kn != 0 {
		return int(en.kn) == len(w) && string(en.kb[:en.kn]) == w
	}
	return en.long == w
}

const cacheInitialSlots = 1 << 12

func newStrCache[T any](maxSlots int) *strCache[T] {
	return &strCache[T]{maxSlots: max(maxSlots, cacheInitialSlots)}
}

// get returns the value of w, computing it with compute the first time.
func (c *strCache[T]) get(w string, compute func(string) T) T { return *c.ptr(w, compute) }

// ptr is get, returning a pointer to the cached value (not to be
// modified).
func (c *strCache[T]) ptr(w string, compute func(string) T) *T {
	h := fnvAdd(fnvOffset, w)
	if t := c.tab.Load(); t != nil {
		if en := t.find(w, h); en != nil {
			return &en.val
		}
	}
	en := &cached[T]{val: compute(w), h: h}
	if len(w) > 0 && len(w) <= cacheInline {
		en.kn = uint8(len(w))
		copy(en.kb[:], w)
	} else {
		// Tokens are cut from their message's text: keep a copy, not it.
		en.long = strings.Clone(w)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.tab.Load()
	if t == nil {
		t = &cacheTable[T]{slots: make([]atomic.Pointer[cached[T]], min(cacheInitialSlots, c.maxSlots))}
		c.tab.Store(t)
	}
	if other := t.find(w, h); other != nil {
		return &other.val
	}
	if 2*(t.n+1) > len(t.slots) {
		if 2*len(t.slots) > c.maxSlots {
			return &en.val // full: computed, not kept
		}
		t = t.grow()
		c.tab.Store(t)
	}
	t.insert(en)
	return &en.val
}

func (t *cacheTable[T]) find(w string, h uint64) *cached[T] {
	mask := uint64(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		en := t.slots[i].Load()
		if en == nil {
			return nil
		}
		if en.h == h && en.is(w) {
			return en
		}
	}
}

// insert adds en, not yet there (under the mutex).
func (t *cacheTable[T]) insert(en *cached[T]) {
	mask := uint64(len(t.slots) - 1)
	i := en.h & mask
	for t.slots[i].Load() != nil {
		i = (i + 1) & mask
	}
	t.slots[i].Store(en)
	t.n++
}

// grow returns a table of twice the slots with the same entries; t stays
// valid for the lookups still reading it.
func (t *cacheTable[T]) grow() *cacheTable[T] {
	g := &cacheTable[T]{slots: make([]atomic.Pointer[cached[T]], 2*len(t.slots))}
	for i := range t.slots {
		if en := t.slots[i].Load(); en != nil {
			g.insert(en)
		}
	}
	return g
}

const wordCacheSlots = 1 << 18

func (m *Model) word(w string) *wordEntry { return m.words.get(w, m.resolve) }

// resolve computes the entry of w.
func (m *Model) resolve(w string) *wordEntry {
	en := &wordEntry{uni: -1}
	switch {
	case contentStop[w]:
		en.kind = wordStop
	case isNumber(w) || len(w) > 40:
		en.kind = wordBreak
	default:
		s := snowStem(w)
		en.hw = wordHash(s)
		if i, ok := m.vocab.get(en.hw); ok {
			en.uni = i
		}
		if len(w) >= charGram {
			buf := make([]byte, 0, len(w)+2)
			buf = append(append(append(buf, '<'), w...), '>')
			for i := 0; i+charGram <= len(buf); i++ {
				if j, ok := m.vocab.get(fnvBytes(fnvAdd(fnvOffset, "c:"), buf[i:i+charGram])); ok {
					en.grams = append(en.grams, j)
				}
			}
		}
	}
	return en
}

// lexEntry is what a folded word means to an engine and its model,
// resolved once per word (Engine.lexOf) so that a token costs one cache
// lookup for the catalogue's phrases, the cues' phrases and the model's
// features together: the phrases of the catalogue (startsOf) and of the
// cues it can start, and with a model its wordEntry. The three lists of
// indexes share one backing array, ids.
type lexEntry struct {
	ids        []int32 // catalogue phrases, cue phrases, then n-gram features
	nCat, nCue int32
	kind       uint8 // as wordEntry
	uni        int32
	hw         uint64
}

const lexCacheSlots = 1 << 18

// lexOf returns the entry of a folded word.
func (e *Engine) lexOf(w string) *lexEntry { return e.lex.ptr(w, e.resolveLex) }

func (e *Engine) resolveLex(w string) lexEntry {
	cat := e.startsOf(w)
	var cue []int32
	if e.cues != nil {
		cue = e.cues.startsOf(w)
	}
	var en *wordEntry
	if e.model != nil {
		en = e.model.resolve(w)
	}
	l := lexEntry{ids: make([]int32, 0, len(cat)+len(cue)+e.lenGrams(en)), nCat: int32(len(cat)), nCue: int32(len(cue)), uni: -1}
	l.ids = append(append(l.ids, cat...), cue...)
	if en != nil {
		l.kind, l.uni, l.hw = en.kind, en.uni, en.hw
		l.ids = append(l.ids, en.grams...)
	}
	return l
}

func (e *Engine) lenGrams(en *wordEntry) int {
	if en == nil {
		return 0
	}
	return len(en.grams)
}

// starts returns the phrases of the catalogue (cue false) or of the cues
// the word can start.
func (l *lexEntry) starts(cue bool) []int32 {
	if cue {
		return l.ids[l.nCat : l.nCat+l.nCue]
	}
	return l.ids[:l.nCat]
}

// word returns the model's entry of the word (resolved with the engine's
// model).
func (l *lexEntry) word() wordEntry {
	return wordEntry{kind: l.kind, hw: l.hw, uni: l.uni, grams: l.ids[l.nCat+l.nCue:]}
}

// lexTokens appends the entries of toks to out.
func (e *Engine) lexTokens(toks []token, out []*lexEntry) []*lexEntry {
	for i := range toks {
		out = append(out, e.lexOf(toks[i].word))
	}
	return out
}

// vectorBuf is the pooled scratch of vectorOf: a table from feature
// index to position in the vector (+1; 0: not yet).
type vectorBuf struct {
	pos []int32
}

var vectorPool sync.Pool

// vectorOf is vectorize(extract(a)) for classification: the same vector,
// from the word cache and the engine's precomputed keyword hashes.
func (e *Engine) vectorOf(m *Model, a analysis, out sparse) sparse {
	vb, _ := vectorPool.Get().(*vectorBuf)
	if vb == nil || len(vb.pos) < len(m.names) {
		vb = &vectorBuf{pos: make([]int32, len(m.names))}
	}
	pos := vb.pos
	v := sparse{idx: out.idx[:0], val: out.val[:0]}
	add := func(i int32, n float32) {
		if p := pos[i]; p > 0 {
			v.val[p-1] += n
			return
		}
		v.idx = append(v.idx, i)
		v.val = append(v.val, n)
		pos[i] = int32(len(v.idx))
	}
	// The engine's token entries hold the words of its own model; another
	// model's are read from that model's cache.
	lex := a.lex
	if m != e.model {
		lex = nil
	}
	words := func(toks []token, lex []*lexEntry, n float32) {
		var prev uint64
		has := false
		for i, t := range toks {
			var en wordEntry
			if lex != nil {
				en = lex[i].word()
			} else {
				en = *m.word(t.word)
			}
			switch en.kind {
			case wordStop:
				continue
			case wordBreak:
				has = false
				continue
			}
			if en.uni >= 0 {
				add(en.uni, n)
			}
			if has {
				if i, ok := m.vocab.get(bigramHash(prev, en.hw)); ok {
					add(i, n)
				}
			}
			prev, has = en.hw, true
			for _, g := range en.grams {
				add(g, n)
			}
		}
	}
	if lex != nil {
		words(a.toks[:a.nsubj], lex[:a.nsubj], subjectCount)
		words(a.toks[a.nsubj:], lex[a.nsubj:], 1)
	} else {
		words(a.toks[:a.nsubj], nil, subjectCount)
		words(a.toks[a.nsubj:], nil, 1)
	}
	ntext := len(v.idx)
	norm := 0.0
	for j := range ntext {
		x := math.Log1p(float64(v.val[j]))
		norm += float64(x * x)
		v.val[j] = float32(x)
	}
	if norm > 0 {
		inv := float32(1 / math.Sqrt(norm))
		for j := range ntext {
			v.val[j] *= inv
		}
	}
	kw := func(h uint64, n float64) {
		if i, ok := m.vocab.get(h); ok {
			add(i, float32(n))
		}
	}
	for i := range e.buckets {
		if a.scores[i] > 0 {
			kw(e.kwHash[i], a.scores[i])
		}
	}
	top := e.kwTopNone
	if a.best >= 0 && a.scores[a.best] >= e.threshold {
		top = e.kwTop[a.best]
	}
	kw(top, 1)
	if a.failures > 0 {
		kw(kwFailureHash, a.failures*e.failureW)
	}
	for q, n := range a.cues {
		if n > 0 {
			kw(cueHash[q], float64(n))
		}
	}
	for j := ntext; j < len(v.idx); j++ {
		v.val[j] = float32(math.Log1p(float64(v.val[j])))
	}
	for _, i := range v.idx {
		pos[i] = 0
	}
	vectorPool.Put(vb)
	return v
}

var (
	kwFailureHash = featureHash("k:no+verbo")
	cueHash       = func() (out [numCues]uint64) {
		for q := range cueFeature {
			out[q] = featureHash(cueFeature[q])
		}
		return out
	}()
)

// hashKeywords precomputes the hashes of the keyword features of e's
// buckets.
func (e *Engine) hashKeywords() {
	e.kwHash = make([]uint64, len(e.buckets))
	e.kwTop = make([]uint64, len(e.buckets))
	for i, b := range e.buckets {
		e.kwHash[i] = featureHash("k:" + b.value)
		e.kwTop[i] = featureHash("k:top=" + b.value)
	}
	e.kwTopNone = featureHash("k:top=none")
}
