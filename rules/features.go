package rules

import (
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/kljensen/snowball/spanish"
)

// The learned scorer reads a message as a sparse vector of features, each
// named by a prefix and its text:
//
//	w:impresor        a word, folded and stemmed (Spanish snowball)
//	b:impresor dan    two consecutive content words
//	c:<imp            four characters of a folded word, with < and > at its
//	                  ends: typos and unseen inflections still share most
//	k:ti.vpn          the catalogue's keyword score for a category, type or
//	                  criticality bucket (the catalogue's knowledge as a prior)
//	k:top=ti.vpn      the category the catalogue alone would choose
//	k:no+verbo        the catalogue's "no" + verb failure count
//
// Words of the subject count subjectCount times. Each distinct word (its
// folded form) occurring n times gives log(1+n) to its stem's feature
// and to each of its character n-grams (features that two words share add
// up); a bigram is log(1+count). The text features are then divided by
// the square root of the sum, over the words, of log(1+n)² times the
// number of the word's features in the vocabulary, plus the bigrams'
// squares: their L2 norm when no two words share a feature. So a word's
// contribution to the scores is its value times a row of weights that
// depends on the word alone, cached with it (wordcache.go). Keyword
// features are log(1+score) and are not normalised, so that a long mail
// does not dilute them.
const (
	subjectCount = 2
	charGram     = 4
)

// fnv64 constants (FNV-1a).
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func fnvAdd(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h
}

func fnvBytes(h uint64, s []byte) uint64 {
	for _, c := range s {
		h ^= uint64(c)
		h *= fnvPrime
	}
	return h
}

// featureHash is the hash of a feature name, the key the model's
// vocabulary is looked up by: FNV-1a of the name, except for a bigram
// "b:x y", which combines the hashes of its two words ("w:x", "w:y"), so
// that classification forms it from two cached word hashes.
func featureHash(name string) uint64 {
	if rest, ok := strings.CutPrefix(name, "b:"); ok {
		if a, b, ok := strings.Cut(rest, " "); ok {
			return bigramHash(wordHash(a), wordHash(b))
		}
	}
	return fnvAdd(fnvOffset, name)
}

// wordHash is the hash of the feature "w:"+stem.
func wordHash(stem string) uint64 { return fnvAdd(fnvAdd(fnvOffset, "w:"), stem) }

// bigramHash combines two word hashes (splitmix64's finaliser over an
// asymmetric mix, so "x y" and "y x" differ).
func bigramHash(a, b uint64) uint64 {
	z := a*0x9e3779b97f4a7c15 ^ (b + 0x632be59bd9b4e019)
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// stemCache memoises the snowball stemmer, which costs microseconds a word:
// a mailbox repeats the same few thousand words. It stops growing at
// stemCacheMax entries (a flood of random words costs time, never memory).
var (
	stemCache    sync.Map
	stemCacheLen atomic.Int64
)

const stemCacheMax = 1 << 17

// snowStem returns the Spanish snowball stem of a folded word. The stemmer
// expects accents; people often drop them, so "-cion" and "-sion" get their
// accent back first ("configuracion" stems as "configuración" does).
func snowStem(w string) string {
	if v, ok := stemCache.Load(w); ok {
		return v.(string)
	}
	in := w
	switch {
	case strings.HasSuffix(in, "cion"):
		in = in[:len(in)-4] + "ción"
	case strings.HasSuffix(in, "sion"):
		in = in[:len(in)-4] + "sión"
	}
	s := w
	if len(w) <= 40 {
		s = Fold(spanish.Stem(in, true))
	}
	if stemCacheLen.Load() < stemCacheMax {
		// Tokens are cut from their message's text: keep a copy, not it.
		if _, loaded := stemCache.LoadOrStore(strings.Clone(w), strings.Clone(s)); !loaded {
			stemCacheLen.Add(1)
		}
	}
	return s
}

// contentStop are the words that carry no topic: Spanish function words
// (snowball's list, folded), and mail formulas. "no" and "sin" stay: "no
// funciona" and "sin internet" are signals.
var contentStop = func() map[string]bool {
	m := map[string]bool{}
	for w := range stopwords {
		m[w] = true
	}
	for _, w := range []string{"de", "la", "que", "el", "en", "y", "a", "los", "del", "se", "las", "por", "un",
		"para", "con", "una", "su", "al", "lo", "como", "mas", "pero", "sus", "le", "ya", "o", "este", "si",
		"porque", "esta", "entre", "cuando", "muy", "sobre", "tambien", "me", "hasta", "hay", "donde", "quien",
		"desde", "todo", "nos", "durante", "todos", "uno", "les", "ni", "contra", "otros", "ese", "eso", "ante",
		"ellos", "e", "esto", "mi", "antes", "algunos", "unos", "yo", "otro", "otras", "otra", "el", "tanto",
		"esa", "estos", "mucho", "quienes", "nada", "muchos", "cual", "poco", "ella", "estar", "estas", "algunas",
		"algo", "nosotros", "mis", "tu", "te", "ti", "tus", "ellas", "esos", "esas", "estoy", "estas", "estamos",
		"estan", "estaba", "estaban", "he", "has", "ha", "hemos", "han", "haya", "habia", "es", "son", "sea",
		"era", "fue", "ser", "buenos", "buenas", "dias", "tardes", "cordial", "saludo", "favor", "gracias"} {
		m[w] = true
	}
	delete(m, "no")
	delete(m, "sin")
	return m
}()

// sparse is a feature vector: indexes into the model's vocabulary, values.
type sparse struct {
	idx []int32
	val []float32
}

// addAt adds n to feature i of v; pos is the scratch table from a feature
// to its position in v, plus one (0: not in v yet), which the caller
// clears after use.
func (v *sparse) addAt(pos []int32, i int32, n float32) {
	if p := pos[i]; p > 0 {
		v.val[p-1] += n
		return
	}
	v.idx = append(v.idx, i)
	v.val = append(v.val, n)
	pos[i] = int32(len(v.idx))
}

// rawFeature is a feature before the vocabulary: its hash and count, and
// its name when names are being collected (training).
type rawFeature struct {
	h     uint64
	count float32
}

// wordGroup is one distinct word of a message (by its folded form): how
// many times it occurs (a subject's counting subjectCount) and its
// features, the stem's and the character n-grams', feats[lo:hi] of its
// rawText.
type wordGroup struct {
	word   string
	count  float32
	lo, hi int32
}

// rawText is a message's text before the vocabulary: its distinct words
// with their features, and the bigrams of its words with their counts.
type rawText struct {
	groups  []wordGroup
	feats   []uint64
	bigrams []rawFeature
}

// hashes returns every text feature hash of t, once or more.
func (t *rawText) hashes() []rawFeature {
	out := make([]rawFeature, 0, len(t.feats)+len(t.bigrams))
	for _, h := range t.feats {
		out = append(out, rawFeature{h, 1})
	}
	return append(out, t.bigrams...)
}

// extractor turns a message into raw features. names, when not nil,
// collects the name of every hash (training and explanations).
type extractor struct {
	names map[uint64]string
	text  rawText
	kw    []rawFeature
	buf   []byte
}

func (x *extractor) name(h uint64, name func() string) {
	if x.names != nil {
		if _, ok := x.names[h]; !ok {
			x.names[h] = name()
		}
	}
}

// words adds the word, bigram and character features of toks, each
// occurrence counted n times.
func (x *extractor) words(toks []token, n float32) {
	prev := ""
	t := &x.text
	for _, tok := range toks {
		w := tok.word
		if contentStop[w] || isNumber(w) || len(w) > 40 {
			if !contentStop[w] {
				prev = ""
			}
			continue
		}
		s := snowStem(w)
		hw := wordHash(s)
		if prev != "" {
			p := prev
			hb := bigramHash(wordHash(p), hw)
			t.bigrams = append(t.bigrams, rawFeature{hb, n})
			x.name(hb, func() string { return "b:" + p + " " + s })
		}
		prev = s
		g := slices.IndexFunc(t.groups, func(g wordGroup) bool { return g.word == w })
		if g >= 0 {
			t.groups[g].count += n
			continue
		}
		lo := int32(len(t.feats))
		t.feats = append(t.feats, hw)
		x.name(hw, func() string { return "w:" + s })
		if len(w) >= charGram {
			x.buf = append(append(append(x.buf[:0], '<'), w...), '>')
			for i := 0; i+charGram <= len(x.buf); i++ {
				g := x.buf[i : i+charGram]
				hc := fnvBytes(fnvAdd(fnvOffset, "c:"), g)
				t.feats = append(t.feats, hc)
				x.name(hc, func() string { return "c:" + string(g) })
			}
		}
		t.groups = append(t.groups, wordGroup{word: w, count: n, lo: lo, hi: int32(len(t.feats))})
	}
}

func (x *extractor) addKeyword(name string, v float64) {
	h := featureHash(name)
	x.kw = append(x.kw, rawFeature{h, float32(v)})
	if x.names != nil {
		x.names[h] = name
	}
}

// merge sums equal hashes of fs, sorted by hash.
func merge(fs []rawFeature) []rawFeature {
	slices.SortFunc(fs, func(a, b rawFeature) int {
		switch {
		case a.h < b.h:
			return -1
		case a.h > b.h:
			return 1
		}
		return 0
	})
	out := fs[:0]
	for _, f := range fs {
		if n := len(out); n > 0 && out[n-1].h == f.h {
			out[n-1].count += f.count
			continue
		}
		out = append(out, f)
	}
	return out
}

// scratch is a per-call table from feature index to position in the
// vector being built (+1; 0: not yet), pooled: vectorize sums repeated
// features without sorting.
var scratch sync.Pool

// vectorize maps raw features onto a vocabulary (hash → index of nf),
// dropping unknown ones and summing repeats, with the weighting described
// above. Features keep the order they first appear in: the words', the
// bigrams', the keywords'.
func vectorize(text *rawText, kw []rawFeature, vocab *hashIndex, nf int) sparse {
	pp, _ := scratch.Get().(*[]int32)
	if pp == nil || len(*pp) < nf {
		s := make([]int32, nf)
		pp = &s
	}
	pos := *pp
	n := len(text.feats) + len(text.bigrams) + len(kw)
	v := sparse{idx: make([]int32, 0, n), val: make([]float32, 0, n)}
	addOne := func(h uint64, n float32) bool {
		i, ok := vocab.get(h)
		if ok {
			v.addAt(pos, i, n)
		}
		return ok
	}
	norm := 0.0
	for _, g := range text.groups {
		x := wordValue(g.count)
		k := 0
		for _, h := range text.feats[g.lo:g.hi] {
			if addOne(h, x) {
				k++
			}
		}
		norm += wordNorm(x, k)
	}
	nwords := len(v.idx)
	for _, f := range text.bigrams {
		addOne(f.h, f.count)
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
	for _, f := range kw {
		addOne(f.h, f.count)
	}
	for j := ntext; j < len(v.idx); j++ {
		v.val[j] = float32(log1p(float64(v.val[j])))
	}
	for _, i := range v.idx {
		pos[i] = 0
	}
	scratch.Put(pp)
	return v
}

// log1pSmall holds math.Log1p of 0..63: the counts the features take
// log(1+n) of are mostly small integers, and a table read is several
// times faster than the function.
var log1pSmall = func() (t [64]float64) {
	for i := range t {
		t[i] = math.Log1p(float64(i))
	}
	return t
}()

// log1p is math.Log1p, bit for bit (but for -0, which gives +0), read
// from a table for the small integers.
func log1p(x float64) float64 {
	if i := int(x); float64(i) == x && uint(i) < uint(len(log1pSmall)) {
		return log1pSmall[i]
	}
	return math.Log1p(x)
}

// wordValue is what a word occurring count times (a subject's counting
// subjectCount) gives each of its features.
func wordValue(count float32) float32 { return float32(log1p(float64(count))) }

// wordNorm is a word's share of the square of the text's norm: its value
// squared for each of its k features in the vocabulary, as if no other
// word of the message shared one (so that it is a property of the word,
// see wordcache.go).
func wordNorm(x float32, k int) float64 { return float64(x) * float64(x) * float64(k) }

// hashIndex maps feature hashes to vocabulary indexes: open addressing
// with linear probing, several times faster than a Go map for the few
// hundred lookups a message makes. A slot holds its key and its value
// together: a lookup is one cache miss, not two.
type hashIndex struct {
	slots []hashSlot
	mask  uint64
}

type hashSlot struct {
	key uint64
	val int32
}

func newHashIndex(n int) *hashIndex {
	size := 16
	for size < 2*n {
		size <<= 1
	}
	return &hashIndex{slots: make([]hashSlot, size), mask: uint64(size - 1)}
}

// slot: 0 marks an empty slot, so the (improbable) hash 0 is stored as 1.
func slotKey(h uint64) uint64 {
	if h == 0 {
		return 1
	}
	return h
}

// put stores h → v and reports false when h was already there.
func (x *hashIndex) put(h uint64, v int32) bool {
	h = slotKey(h)
	for i := h & x.mask; ; i = (i + 1) & x.mask {
		switch x.slots[i].key {
		case 0:
			x.slots[i] = hashSlot{h, v}
			return true
		case h:
			return false
		}
	}
}

func (x *hashIndex) get(h uint64) (int32, bool) {
	h = slotKey(h)
	for i := h & x.mask; ; i = (i + 1) & x.mask {
		switch s := &x.slots[i]; s.key {
		case 0:
			return 0, false
		case h:
			return s.val, true
		}
	}
}
