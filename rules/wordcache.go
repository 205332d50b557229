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

// cacheMaxKey is the longest word a cache keeps: as long as the longest
// word the model reads (resolve: longer ones break a bigram and have no
// features), so the cache's bytes are bounded with its entries.
const cacheMaxKey = 40

// cacheInline is the longest word kept inside its entry.
const cacheInline = 23

type cached[T any] struct {
	// The hash and an inline key first: a lookup's check reads one cache
	// line, which also holds the start of the value.
	h    uint64
	kn   uint8 // length of an inline key, or 0: the key is long
	kb   [cacheInline]byte
	val  T
	long string
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
	return c.ptrHashed(w, fnvAdd(fnvOffset, w), compute)
}

// tokenBatch is how many tokens tokenPtrs looks up together.
const tokenBatch = 32

// tokenPtrs appends ptr of each token's word to out. The lookups are
// made a batch at a time, phase by phase (the hashes, the first slot of
// each, the entries there), so that their cache misses, independent,
// overlap instead of following one another.
func (c *strCache[T]) tokenPtrs(toks []token, compute func(string) T, out []*T) []*T {
	var hs [tokenBatch]uint64
	var ens [tokenBatch]*cached[T]
	for start := 0; start < len(toks); start += tokenBatch {
		batch := toks[start:min(start+tokenBatch, len(toks))]
		for i := range batch {
			hs[i] = fnvAdd(fnvOffset, batch[i].word)
		}
		t := c.tab.Load()
		if t != nil {
			mask := uint64(len(t.slots) - 1)
			for i := range batch {
				ens[i] = t.slots[hs[i]&mask].Load()
			}
		}
		for i := range batch {
			w := batch[i].word
			if en := ens[i]; t != nil && en != nil && en.h == hs[i] && en.is(w) {
				out = append(out, &en.val)
			} else {
				out = append(out, c.ptrHashed(w, hs[i], compute))
			}
		}
		clear(ens[:len(batch)])
	}
	return out
}

// ptrHashed is ptr, given the hash of w.
func (c *strCache[T]) ptrHashed(w string, h uint64, compute func(string) T) *T {
	if t := c.tab.Load(); t != nil {
		if en := t.find(w, h); en != nil {
			return &en.val
		}
	}
	en := &cached[T]{val: compute(w), h: h}
	if len(w) > cacheMaxKey {
		// Too long to be worth its bytes (the model gives such a word no
		// features): computed each time, never kept, so a flood of long
		// tokens (hex, base64 pasted as text) costs time, not memory.
		return &en.val
	}
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
// resolved once per word (Engine.lexTokens) so that a token costs one cache
// lookup for the catalogue's phrases, the cues' phrases and the model's
// features together: the phrases of the catalogue (startsOf) and of the
// cues it can start, and with a model its wordEntry. The three lists of
// indexes share one backing array, ids.
//
// With a model, the entry also holds the word's partial score: the sum of
// the weight rows of its features (stem and character n-grams; see
// fusedRows), category classes then type then criticality, in quanta;
// then, by type, the criticality's weights of its stem × that type
// (stack.go), which the stem's value times the type's probability
// weighs.
// A word's features all get the same value (features.go, wordValue), so
// the word adds that value times its score to the message's sums: one row
// of a few dozen floats instead of a row per feature scattered over the
// model.
type lexEntry struct {
	// phrases are the catalogue's then the cues' phrases the word can
	// start (nCat of the catalogue), each its index in the low 32 bits and
	// in the high 32 the stemHash of its second word, 0 when it has none
	// or it is a prefix: a phrase whose second word is not the next
	// token's is not tried.
	phrases []uint64
	nCat    int32
	stem    string // the word's stem (tokenize's)
	stemH   uint32 // stemHash of the word
	kind    uint8  // as wordEntry
	flags   uint8  // lexNumber, lexFiller
	uni     int32
	nw      int32 // the word's features in the vocabulary (stem and n-grams)
	hw      uint64
	score   []float32
	grams   []int32
}

// lexCacheSlots bounds the engine's word cache: it keeps up to 65,536
// words (the whole shipped corpus has about 17,000 distinct ones), about
// 610 bytes each with their score rows and stem, so a flood of random
// words costs at most ~40 MB of heap, then only time.
const lexCacheSlots = 1 << 17

// Flags of a lexEntry.
const (
	lexNumber    = 1 << iota // a number, in digits or words (cueCounts)
	lexFiller                // one of fillers (negated)
	lexNegEnd                // its stem ends one of the catalogue's negations
	lexCueNegEnd             // its stem ends one of the cues' negations
)

func (e *Engine) resolveLex(w string) lexEntry {
	cat := e.startsOf(w)
	var cue []int32
	if e.cues != nil {
		cue = e.cues.startsOf(w)
	}
	st := stem(w)
	// (the stem is cut from w, and w from its message's text: the entry
	// keeps a copy, not the message)
	l := lexEntry{nCat: int32(len(cat)), uni: -1, stem: strings.Clone(st), stemH: stemHash(st)}
	if isNumber(w) || spelledNumbers[w] {
		l.flags |= lexNumber
	}
	if fillers[w] {
		l.flags |= lexFiller
	}
	if e.negLast[st] {
		l.flags |= lexNegEnd
	}
	if e.cues != nil && e.cues.negLast[st] {
		l.flags |= lexCueNegEnd
	}
	if len(cat)+len(cue) > 0 {
		l.phrases = make([]uint64, 0, len(cat)+len(cue))
		l.phrases = e.withNext(l.phrases, cat)
		if e.cues != nil {
			l.phrases = e.cues.withNext(l.phrases, cue)
		}
	}
	if e.model != nil {
		en := e.model.resolve(w)
		l.kind, l.uni, l.hw, l.grams = en.kind, en.uni, en.hw, en.grams
		l.nw = int32(len(en.grams))
		if en.uni >= 0 {
			l.nw++
		}
		if l.nw > 0 {
			m := e.model
			l.score = m.rows.sumRows(en.uni, en.grams, m.rowLen(), m.wordTypeRows(en.uni))
		}
	}
	return l
}

// starts returns the phrases of the catalogue (cue false) or of the cues
// the word can start, as in lexEntry.phrases.
func (l *lexEntry) starts(cue bool) []uint64 {
	if cue {
		return l.phrases[l.nCat:]
	}
	return l.phrases[:l.nCat]
}

// stemHash is a hash of a token's stem, never 0.
func stemHash(s string) uint32 { return uint32(fnvAdd(fnvOffset, s)) | 1 }

// withNext appends each phrase of ps with the hash of its second word
// (lexEntry.phrases).
func (e *Engine) withNext(out []uint64, ps []int32) []uint64 {
	for _, pi := range ps {
		p := &e.phrases[pi]
		h := uint32(0)
		if len(p.words) > 1 && !p.prefix[1] {
			h = stemHash(p.words[1])
		}
		out = append(out, uint64(uint32(pi))|uint64(h)<<32)
	}
	return out
}

// word returns the model's entry of the word (resolved with the engine's
// model).
func (l *lexEntry) word() wordEntry {
	return wordEntry{kind: l.kind, hw: l.hw, uni: l.uni, grams: l.grams}
}

// lexTokens appends the entries of toks to out.
func (e *Engine) lexTokens(toks []token, out []*lexEntry) []*lexEntry {
	n := len(out)
	out = e.lex.tokenPtrs(toks, e.resolveLex, out)
	// The tokens (tokenizeWords') get their stems from the entries.
	for i, l := range out[n:] {
		toks[i].stem = l.stem
	}
	return out
}

// msgWord is a distinct word of a message (wordGroup's counterpart): its
// occurrences, its value, and its entry.
type msgWord struct {
	word  string
	count float32
	x     float32
	en    *lexEntry
}

// vecWord is vectorOf's msgWord.
type vecWord struct {
	word  string
	count float32
	w     wordEntry
}

// wordSet finds a message's distinct words: open addressing by the
// word's stem hash, each slot the group's index+1 (0: empty).
type wordSet struct {
	tab  []int32
	mask uint64
}

func (s *wordSet) reset(n int) {
	size := 64
	for size < 2*n {
		size <<= 1
	}
	if cap(s.tab) < size {
		s.tab = make([]int32, size)
	} else {
		s.tab = s.tab[:size]
		clear(s.tab)
	}
	s.mask = uint64(size - 1)
}

func (w msgWord) key() string { return w.word }
func (w vecWord) key() string { return w.word }

// findWord returns the index in groups of word (whose stem hash is h),
// or -1 after reserving its slot in s for index len(groups): the caller
// then appends it.
func findWord[T interface{ key() string }](s *wordSet, groups []T, word string, h uint64) int {
	i := h & s.mask
	for {
		g := s.tab[i]
		if g == 0 {
			s.tab[i] = int32(len(groups) + 1)
			return -1
		}
		if groups[g-1].key() == word {
			return int(g - 1)
		}
		i = (i + 1) & s.mask
	}
}

// vectorBuf is the pooled scratch of vectorOf: a table from feature
// index to position in the vector (+1; 0: not yet), and the message's
// words.
type vectorBuf struct {
	pos    []int32
	groups []vecWord
	set    wordSet
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
	add := func(i int32, n float32) { v.addAt(pos, i, n) }
	// The engine's token entries hold the words of its own model; another
	// model's are read from that model's cache.
	lex := a.lex
	if m != e.model {
		lex = nil
	}
	groups := vb.groups[:0]
	vb.set.reset(len(a.toks))
	// The bigrams are collected first (as indexes, the count in val),
	// and go after the words' features.
	var bigrams sparse
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
			if has {
				if i, ok := m.vocab.get(bigramHash(prev, en.hw)); ok {
					bigrams.idx = append(bigrams.idx, i)
					bigrams.val = append(bigrams.val, n)
				}
			}
			prev, has = en.hw, true
			if g := findWord(&vb.set, groups, t.word, en.hw); g >= 0 {
				groups[g].count += n
			} else {
				groups = append(groups, vecWord{word: t.word, count: n, w: en})
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
	norm := 0.0
	for _, g := range groups {
		x := wordValue(g.count)
		k := len(g.w.grams)
		if g.w.uni >= 0 {
			add(g.w.uni, x)
			k++
		}
		for _, f := range g.w.grams {
			add(f, x)
		}
		norm += wordNorm(x, k)
	}
	nwords := len(v.idx)
	for j, i := range bigrams.idx {
		add(i, bigrams.val[j])
	}
	ntext := len(v.idx)
	for j := nwords; j < ntext; j++ {
		x := log1p(float64(v.val[j]))
		norm += float64(x * x)
		v.val[j] = float32(x)
	}
	if norm > 0 {
		inv := float32(1 / math.Sqrt(norm))
		for j := range ntext {
			v.val[j] *= inv
		}
	}
	e.keywordFeatures(m, a, add)
	for j := ntext; j < len(v.idx); j++ {
		v.val[j] = float32(log1p(float64(v.val[j])))
	}
	for _, i := range v.idx {
		pos[i] = 0
	}
	clear(groups)
	vb.groups = groups[:0]
	vectorPool.Put(vb)
	return v
}

// keywordFeatures adds the keyword features of a, their raw values.
func (e *Engine) keywordFeatures(m *Model, a analysis, add func(int32, float32)) {
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
}

// kwIndex holds the vocabulary indexes of the keyword features of an
// engine's model (-1: not in it), in keywordFeatures' order.
type kwIndex struct {
	bucket, top      []int32
	topNone, failure int32
	cue              [numCues]int32
}

func (e *Engine) indexKeywords(m *Model) *kwIndex {
	get := func(h uint64) int32 {
		if i, ok := m.vocab.get(h); ok {
			return i
		}
		return -1
	}
	x := &kwIndex{bucket: make([]int32, len(e.buckets)), top: make([]int32, len(e.buckets)),
		topNone: get(e.kwTopNone), failure: get(kwFailureHash)}
	for i := range e.buckets {
		x.bucket[i], x.top[i] = get(e.kwHash[i]), get(e.kwTop[i])
	}
	for q := range x.cue {
		x.cue[q] = get(cueHash[q])
	}
	return x
}

// keywordIndexed is keywordFeatures for the engine's model, from kwIdx.
func (e *Engine) keywordIndexed(a analysis, v *sparse, pos []int32) {
	x := e.kwIdx
	add := func(i int32, n float32) {
		if i >= 0 {
			v.addAt(pos, i, n)
		}
	}
	for i, s := range a.scores {
		if s > 0 {
			add(x.bucket[i], float32(s))
		}
	}
	top := x.topNone
	if a.best >= 0 && a.scores[a.best] >= e.threshold {
		top = x.top[a.best]
	}
	add(top, 1)
	if a.failures > 0 {
		add(x.failure, float32(a.failures*e.failureW))
	}
	for q, n := range a.cues {
		if n > 0 {
			add(x.cue[q], n)
		}
	}
}

// textParts is vectorOf's vector as classification reads it: the
// message's distinct words with a score (lexEntry.score) and the value
// each of their features has in the vector; the features of the stems,
// summed over the words that share one (for the criticality's words ×
// type, stack.go); and the other features, bigrams and keywords.
type textParts struct {
	words []msgWord
	uni   sparse
	uniEn []*lexEntry // a word of each stem of uni
	rest  sparse
}

// partsOf returns the parts of the vector of a, in buffers of sc, valid
// until the next call with sc. Its values are the vector's, bit for bit:
// the same sums in the same order (TestTextParts).
func (e *Engine) partsOf(m *Model, a analysis, sc *decideBuf) textParts {
	pos := sc.pos
	p := textParts{words: sc.words[:0], uni: sparse{idx: sc.uni.idx[:0], val: sc.uni.val[:0]}, uniEn: sc.uniEn[:0],
		rest: sparse{idx: sc.rest.idx[:0], val: sc.rest.val[:0]}}
	sc.set.reset(len(a.toks))
	words := func(toks []token, lex []*lexEntry, n float32) {
		var prev uint64
		has := false
		for i, l := range lex {
			switch l.kind {
			case wordStop:
				continue
			case wordBreak:
				has = false
				continue
			}
			if has {
				// (looked up after the loop: independent lookups, whose
				// cache misses overlap.)
				sc.pairs = append(sc.pairs, rawFeature{bigramHash(prev, l.hw), n})
			}
			prev, has = l.hw, true
			if g := findWord(&sc.set, p.words, toks[i].word, l.hw); g >= 0 {
				p.words[g].count += n
			} else {
				p.words = append(p.words, msgWord{word: toks[i].word, count: n, en: l})
			}
		}
	}
	sc.pairs = sc.pairs[:0]
	words(a.toks[:a.nsubj], a.lex[:a.nsubj], subjectCount)
	words(a.toks[a.nsubj:], a.lex[a.nsubj:], 1)
	for _, b := range sc.pairs {
		if i, ok := m.bigrams.get(b.h); ok {
			p.rest.addAt(pos, i, b.count)
		}
	}
	norm := 0.0
	for j := range p.words {
		g := &p.words[j]
		g.x = wordValue(g.count)
		if g.en.uni >= 0 {
			n := len(p.uni.idx)
			p.uni.addAt(pos, g.en.uni, g.x)
			if len(p.uni.idx) > n {
				p.uniEn = append(p.uniEn, g.en)
			}
		}
		norm += wordNorm(g.x, int(g.en.nw))
	}
	for j := range p.rest.val {
		x := log1p(float64(p.rest.val[j]))
		norm += float64(x * x)
		p.rest.val[j] = float32(x)
	}
	if norm > 0 {
		inv := float32(1 / math.Sqrt(norm))
		for j := range p.words {
			p.words[j].x *= inv
		}
		for j := range p.uni.val {
			p.uni.val[j] *= inv
		}
		for j := range p.rest.val {
			p.rest.val[j] *= inv
		}
	}
	ntext := len(p.rest.idx)
	e.keywordIndexed(a, &p.rest, pos)
	for j := ntext; j < len(p.rest.idx); j++ {
		p.rest.val[j] = float32(log1p(float64(p.rest.val[j])))
	}
	for _, i := range p.uni.idx {
		pos[i] = 0
	}
	for _, i := range p.rest.idx {
		pos[i] = 0
	}
	sc.words, sc.uni, sc.uniEn, sc.rest = p.words, p.uni, p.uniEn, p.rest
	return p
}

// addWords adds each word's value times its score to acc, the sums of
// the three decisions end to end (n classes).
func addWords(words []msgWord, acc []float32) {
	n := len(acc)
	for j := range words {
		row := words[j].en.score
		if row == nil {
			continue
		}
		x := words[j].x
		row = row[:n]
		for c, q := range row {
			acc[c] += x * q
		}
	}
}

// addWordTypes adds to the criticality's sums acc (k classes) its words ×
// type features (stack.extend's, in the same order): each stem's value
// times each type's probability pt, when above 1e-3, times its weights.
func (p *textParts) addWordTypes(off, k int, pt []float64, acc []float32) {
	for j, v := range p.uni.val {
		row := p.uniEn[j].score[off:]
		for t, pr := range pt {
			if x := float64(v) * pr; x > 1e-3 {
				x := float32(x)
				for c, q := range row[t*k : t*k+k] {
					acc[c] += x * q
				}
			}
		}
	}
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
