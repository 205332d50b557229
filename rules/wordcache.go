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

// strCache is a lock-free open-addressing table from a word to a value
// computed once, filled as words are met (a compare-and-swap claims a
// slot) and never emptied; it stops taking words at half its slots, so a
// flood of random words costs time, never memory. Several times faster
// than a sync.Map or a map under a lock for the hundred-odd words of a
// mail.
type strCache[T any] struct {
	size  int
	once  sync.Once // allocates slots on first use
	slots []atomic.Pointer[cached[T]]
	n     atomic.Int64
}

type cached[T any] struct {
	key string
	val T
}

func newStrCache[T any](slots int) *strCache[T] {
	return &strCache[T]{size: slots}
}

// get returns the value of w, computing it with make the first time.
func (c *strCache[T]) get(w string, make func(string) T) T { return *c.ptr(w, make) }

// ptr is get, returning a pointer to the cached value (not to be
// modified).
func (c *strCache[T]) ptr(w string, make func(string) T) *T {
	c.once.Do(func() { c.slots = newSlots[T](c.size) })
	mask := uint64(len(c.slots) - 1)
	i := fnvAdd(fnvOffset, w) & mask
	for {
		en := c.slots[i].Load()
		if en == nil {
			break
		}
		if en.key == w {
			return &en.val
		}
		i = (i + 1) & mask
	}
	en := &cached[T]{key: strings.Clone(w), val: make(w)}
	if c.n.Load() >= int64(len(c.slots)/2) {
		return &en.val
	}
	for {
		if c.slots[i].CompareAndSwap(nil, en) {
			c.n.Add(1)
			return &en.val
		}
		if other := c.slots[i].Load(); other.key == w {
			return &other.val
		}
		i = (i + 1) & mask
	}
}

func newSlots[T any](n int) []atomic.Pointer[cached[T]] { return make([]atomic.Pointer[cached[T]], n) }

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

// lexTokens returns the entries of toks.
func (e *Engine) lexTokens(toks []token) []*lexEntry {
	out := make([]*lexEntry, len(toks))
	for i := range toks {
		out[i] = e.lexOf(toks[i].word)
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
