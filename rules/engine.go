package rules

import (
	"cmp"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mesadeservicios/mesa/ticket"
)

// Engine is a compiled rule file. It is immutable and safe for concurrent use.
type Engine struct {
	cats     []*Category
	byKey    map[string]*Category
	buckets  []bucket
	phrases  []phrase
	index    map[string][]int // first stem → phrases
	seen     map[string]int   // folded phrase → index, while compiling
	prefixed []int            // phrases whose first word is a prefix ("imprim*") shorter than 2 bytes
	// byPrefix indexes the other prefixed phrases by the first two bytes
	// of their prefix: a token only tries those it could match.
	byPrefix  map[string][]int
	negations [][]string
	// negFlag is the lexEntry flag of the words that end one of
	// negations (0: any word may, an empty negation).
	negFlag   uint8
	negLast   map[string]bool // the last stem of each negation
	failureW  float64
	failureX  map[string]bool // words after "no" that are not a failing verb
	threshold float64
	subjectW  float64
	priority  []PriorityRule
	digest    string // SHA-256 of the rule file
	model     *Model
	minConf   float64
	// cues finds the model's criticality and type cues (cues.go).
	cues *Engine
	// kwHash, kwTop: hashes of each bucket's keyword features "k:<v>"
	// and "k:top=<v>" (wordcache.go).
	kwHash, kwTop []uint64
	kwTopNone     uint64
	kwIdx         *kwIndex   // of the model's vocabulary (WithModel)
	hitPool       *sync.Pool // of *hitSet, sized for phrases
	// lex caches, per folded word, the phrases of the catalogue and of
	// the cues it can start and its features in the model (lexEntry);
	// WithModel gives the copy a cache of its own.
	lex *strCache[lexEntry]
	// training: analyze computes the model's cues without a model.
	training bool
	// modelBuckets maps each model class onto the catalogue's buckets.
	modelBuckets [numHeads][]int
	// catKnown: whether each category class of the model is one of the
	// catalogue's.
	catKnown []bool
	// noFeatures: results leave Features empty (WithoutFeatures).
	noFeatures bool
}

type bucketKind int

const (
	kindCategory bucketKind = iota
	kindType
	kindCrit
)

type bucket struct {
	kind  bucketKind
	value string // category key, type or criticality
}

type phrase struct {
	text   string
	words  []string // stems; or folded prefixes where prefix[i]
	prefix []bool
	weight float64
	bucket int
}

var fillers = map[string]bool{"el": true, "la": true, "los": true, "las": true, "lo": true, "un": true,
	"una": true, "mi": true, "mis": true, "su": true, "sus": true, "del": true, "de": true, "al": true,
	"este": true, "esta": true, "ese": true, "esa": true, "tan": true, "muy": true}

func compile(f *File, where func(string) string) (*Engine, error) {
	e := &Engine{byKey: map[string]*Category{}, index: map[string][]int{}, seen: map[string]int{}, hitPool: &sync.Pool{},
		lex:       newStrCache[lexEntry](lexCacheSlots),
		threshold: f.Threshold, subjectW: f.SubjectWeight}
	if e.subjectW == 0 {
		e.subjectW = 2
	}
	if e.threshold <= 0 {
		return nil, fmt.Errorf("%s: threshold must be positive", where("threshold"))
	}
	var errs []error
	for i := range f.Categories {
		c := &f.Categories[i]
		at := where(fmt.Sprintf("categories[%d]", i))
		switch {
		case c.Key == "" || c.Key == ticket.Unclassified:
			errs = append(errs, fmt.Errorf("%s: category needs a key other than %s", at, ticket.Unclassified))
		case e.byKey[c.Key] != nil:
			errs = append(errs, fmt.Errorf("%s: duplicate category %q", at, c.Key))
		}
		if c.Name == "" || (c.Area != "ti" && c.Area != "adm") {
			errs = append(errs, fmt.Errorf("%s: category %q needs a name and area ti or adm", at, c.Key))
		}
		if c.DefaultType != "" && !ticket.Type(c.DefaultType).Valid() {
			errs = append(errs, fmt.Errorf("%s: category %q: default_type %q", at, c.Key, c.DefaultType))
		}
		c.resolution = map[ticket.Criticality]time.Duration{}
		if c.Resolution != "" {
			d, err := ParseDuration(c.Resolution)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: category %q: %w", at, c.Key, err))
			}
			c.resolution[""] = d
		}
		for crit, s := range c.ByCriticality {
			d, err := ParseDuration(s)
			if err != nil || !ticket.Criticality(crit).Valid() {
				errs = append(errs, fmt.Errorf("%s: category %q: by_criticality %s: %q", at, c.Key, crit, s))
			}
			c.resolution[ticket.Criticality(crit)] = d
		}
		e.byKey[c.Key] = c
		e.cats = append(e.cats, c)
		e.buckets = append(e.buckets, bucket{kindCategory, c.Key})
		errs = append(errs, e.addKeywords(c.Keywords, len(e.buckets)-1, at)...)
	}
	for _, kind := range []struct {
		k       bucketKind
		sig     Signals
		section string
		valid   func(string) bool
	}{
		{kindType, f.Types, "types", func(s string) bool { return ticket.Type(s).Valid() }},
		{kindCrit, f.Criticity, "criticidad", func(s string) bool { return s == "alta" || s == "baja" }},
	} {
		vals := make([]string, 0, len(kind.sig))
		for v := range kind.sig {
			vals = append(vals, v)
		}
		sort.Strings(vals)
		for _, v := range vals {
			if !kind.valid(v) {
				errs = append(errs, fmt.Errorf("%s: unknown value %q", where(kind.section), v))
				continue
			}
			e.buckets = append(e.buckets, bucket{kind.k, v})
			errs = append(errs, e.addKeywords(kind.sig[v], len(e.buckets)-1, where(kind.section))...)
		}
	}
	e.failureW, e.failureX = f.Failure.Weight, map[string]bool{}
	for _, w := range f.Failure.Except {
		for _, t := range tokenize(w, nil) {
			e.failureX[t.word] = true
		}
	}
	for _, n := range f.Negations {
		toks := tokenize(n, nil)
		var stems []string
		for _, t := range toks {
			stems = append(stems, t.stem)
		}
		if len(stems) > 0 {
			e.negations = append(e.negations, stems)
		}
	}
	e.indexNegations(lexNegEnd)
	e.cues = compileCues(e.negations)
	e.hashKeywords()
	for i, r := range f.Priority {
		at := where(fmt.Sprintf("priority[%d]", i))
		var err error
		compileRE := func(s string) *regexp.Regexp {
			if s == "" || err != nil {
				return nil
			}
			var re *regexp.Regexp
			re, err = regexp.Compile("(?i)" + s)
			return re
		}
		r.from, r.subject, r.body = compileRE(r.From), compileRE(r.Subject), compileRE(r.Body)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: rule %q: %w", at, r.Name, err))
		}
		if r.Category != "" && e.byKey[r.Category] == nil && r.Category != ticket.Unclassified {
			errs = append(errs, fmt.Errorf("%s: rule %q: unknown category %q", at, r.Name, r.Category))
		}
		if r.Type != "" && !ticket.Type(r.Type).Valid() || r.Criticidad != "" && !ticket.Criticality(r.Criticidad).Valid() {
			errs = append(errs, fmt.Errorf("%s: rule %q: invalid type or criticidad", at, r.Name))
		}
		if r.From == "" && r.Domain == "" && r.Subject == "" && r.Body == "" {
			errs = append(errs, fmt.Errorf("%s: rule %q has no condition", at, r.Name))
		}
		e.priority = append(e.priority, r)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	e.seen = nil
	return e, nil
}

func (e *Engine) addKeywords(kw Keywords, b int, at string) []error {
	var errs []error
	for w, list := range kw {
		if w <= 0 {
			errs = append(errs, fmt.Errorf("%s: keyword weight must be positive, got %v", at, w))
		}
		for _, text := range list {
			p := phrase{text: text, weight: w, bucket: b}
			for _, part := range strings.Fields(text) {
				isPrefix := strings.HasSuffix(part, "*")
				toks := tokenize(strings.TrimSuffix(part, "*"), nil)
				for j, t := range toks {
					pre := isPrefix && j == len(toks)-1
					if pre {
						p.words = append(p.words, t.word)
					} else {
						p.words = append(p.words, t.stem)
					}
					p.prefix = append(p.prefix, pre)
				}
			}
			if len(p.words) == 0 {
				errs = append(errs, fmt.Errorf("%s: empty keyword %q", at, text))
				continue
			}
			// Spellings that fold to the same words ("aromática",
			// "aromatica", "aromáticas") are one keyword, counted once.
			key := fmt.Sprint(b, p.words, p.prefix)
			if j, dup := e.seen[key]; dup {
				e.phrases[j].weight = max(e.phrases[j].weight, w)
				continue
			}
			e.seen[key] = len(e.phrases)
			e.phrases = append(e.phrases, p)
			i := len(e.phrases) - 1
			if p.prefix[0] {
				if w := p.words[0]; len(w) >= 2 {
					if e.byPrefix == nil {
						e.byPrefix = map[string][]int{}
					}
					e.byPrefix[w[:2]] = append(e.byPrefix[w[:2]], i)
				} else {
					e.prefixed = append(e.prefixed, i)
				}
			} else {
				e.index[p.words[0]] = append(e.index[p.words[0]], i)
			}
		}
	}
	return errs
}

// Message is what the engine reads of a mail.
type Message struct {
	From    string // sender address
	Subject string
	Body    string // text; quoted history and signature are removed here
}

// Result is a classification and its reasons.
type Result struct {
	Category    string             `json:"category"`
	Name        string             `json:"name"`
	Type        ticket.Type        `json:"type"`
	Criticality ticket.Criticality `json:"criticidad"`
	Group       string             `json:"group"`
	Score       float64            `json:"score"`
	// Confidence is the calibrated probability (0–1) that Category is
	// right: of the learned model, 1 for a priority rule, 0 without a
	// model. Below the minimum confidence the category is sin_clasificar
	// and Confidence is that of the model's most likely class (which may
	// be sin_clasificar itself).
	Confidence float64 `json:"confidence"`
	// TypeConfidence and CritConfidence are the same for Type and
	// Criticality (0 without a model).
	TypeConfidence float64 `json:"type_confidence,omitempty"`
	CritConfidence float64 `json:"criticidad_confidence,omitempty"`
	// Candidates are the model's three most likely categories of the
	// catalogue (never sin_clasificar), best first: what triage offers for
	// a sin_clasificar ticket.
	Candidates []Candidate `json:"candidates,omitempty"`
	// Features lists, per decision ("category", "type", "criticidad"), the
	// model features that weighed most for the value chosen.
	Features map[string][]Feature `json:"features,omitempty"`
	// Matched lists the rules that fired: "ti.vpn: vpn (+6)", "priority: …".
	Matched []string `json:"matched"`
	// Resolution is the business time to solve it; HasSLA is false when the
	// category has none ("depende").
	Resolution  time.Duration `json:"-"`
	HasSLA      bool          `json:"-"`
	Restricted  []string      `json:"requested_by,omitempty"`
	Attachments []string      `json:"attachments,omitempty"`
}

// analysis is what the catalogue finds in a message: the learned model's
// keyword features and the rules' own decision both start from it.
type analysis struct {
	toks     []token
	lex      []*lexEntry // of toks
	nsubj    int
	scores   []float64
	failures float64
	rule     *PriorityRule
	best     int // best category bucket, or -1
	cues     [numCues]float32
	hits     []phraseHit // the phrases found, for the reasons (Matched)
}

// phraseHit is a phrase found and the multiplier of its best occurrence.
type phraseHit struct {
	phrase int32
	mult   float64
}

// hitSet records the phrases found by scan: the multiplier of each
// phrase's best occurrence (0: none), and which were touched, in order.
type hitSet struct {
	mult    []float64
	touched []int32
	// Classify's analysis, reused from one message to the next (it lives
	// only while Classify runs): the tokens' entries, the scores, the
	// phrases found.
	lex    []*lexEntry
	scores []float64
	found  []phraseHit
}

func (e *Engine) getHits() *hitSet {
	h, _ := e.hitPool.Get().(*hitSet)
	if h == nil || len(h.mult) < len(e.phrases) {
		h = &hitSet{mult: make([]float64, len(e.phrases))}
	}
	return h
}

func (e *Engine) putHits(h *hitSet) {
	h.reset()
	e.hitPool.Put(h)
}

func (h *hitSet) reset() {
	for _, pi := range h.touched {
		h.mult[pi] = 0
	}
	h.touched = h.touched[:0]
}

func (e *Engine) analyze(m Message, buf []token) analysis { return e.analyzeIn(m, buf, nil) }

// analyzeIn is analyze; with keep (from getHits), the analysis's slices
// are keep's buffers, valid until keep goes back to the pool.
func (e *Engine) analyzeIn(m Message, buf []token, keep *hitSet) analysis {
	subj := tokenizeWords(m.Subject, buf)
	nsubj := len(subj)
	body := Clean(m.Body)
	all := tokenizeWords(body, subj)
	hits := keep
	var lex []*lexEntry
	var scores []float64
	if keep == nil {
		hits = e.getHits()
		lex = e.lexTokens(all, nil)
		scores = make([]float64, len(e.buckets))
	} else {
		lex = e.lexTokens(all, keep.lex[:0])
		keep.lex = lex
		scores = append(keep.scores[:0], make([]float64, len(e.buckets))...)
		keep.scores = scores
	}
	e.scan(all[:nsubj], lex[:nsubj], false, e.subjectW, hits)
	e.scan(all[nsubj:], lex[nsubj:], false, 1, hits)
	// (keep's fields are set from locals: escape analysis follows a
	// struct as a whole, and the tokens must stay on the caller's stack.)
	var found []phraseHit
	if keep == nil {
		found = make([]phraseHit, len(hits.touched))
	} else {
		found = append(keep.found[:0], make([]phraseHit, len(hits.touched))...)
		keep.found = found
	}
	a := analysis{toks: all, lex: lex, nsubj: nsubj, scores: scores, hits: found,
		failures: e.failures(all[:nsubj])*e.subjectW + e.failures(all[nsubj:]), rule: e.matchPriority(m), best: -1}
	for i, pi := range hits.touched {
		p := &e.phrases[pi]
		a.scores[p.bucket] += p.weight * hits.mult[pi]
		a.hits[i] = phraseHit{pi, hits.mult[pi]}
	}
	if keep == nil {
		e.putHits(hits)
	} else {
		hits.reset()
	}
	bestScore := 0.0
	for i, b := range e.buckets {
		if b.kind == kindCategory && a.scores[i] > bestScore {
			a.best, bestScore = i, a.scores[i]
		}
	}
	if e.model != nil || e.training {
		a.cues = e.cueCounts(all, lex, m.Subject, body)
	}
	return a
}

// Classify classifies m. With a model (WithModel) the learned scorer
// decides category, type and criticality from the words and the
// catalogue's keyword scores; explicit priority rules still win.
func (e *Engine) Classify(m Message) Result {
	var buf [128]token
	sc := e.getHits()
	defer e.putHits(sc)
	a := e.analyzeIn(m, buf[:0], sc)
	var r Result
	rule := a.rule
	if rule != nil {
		r.Matched = append(r.Matched, "priority: "+rule.Name)
	}
	// Category: best score above the threshold.
	bestScore := 0.0
	if a.best >= 0 {
		bestScore = a.scores[a.best]
	}
	r.Category, r.Score = ticket.Unclassified, bestScore
	if rule != nil && rule.Category != "" {
		r.Category, r.Confidence = rule.Category, 1
	}
	if e.model != nil {
		e.modelDecide(&r, a, rule == nil || rule.Category == "", !e.noFeatures)
	} else if (rule == nil || rule.Category == "") && a.best >= 0 && bestScore >= e.threshold {
		r.Category = e.buckets[a.best].value
	}
	// The reasons: per bucket (of the categories, only the one chosen),
	// its phrases found, sorted.
	type reason struct {
		bucket int
		text   string
	}
	var rbuf [32]reason
	why := rbuf[:0]
	for _, h := range a.hits {
		p := &e.phrases[h.phrase]
		if b := e.buckets[p.bucket]; b.kind == kindCategory && b.value != r.Category {
			continue
		}
		why = append(why, reason{p.bucket, p.text + " (+" + strconv.FormatFloat(p.weight*h.mult, 'g', -1, 64) + ")"})
	}
	slices.SortFunc(why, func(x, y reason) int {
		if c := cmp.Compare(x.bucket, y.bucket); c != 0 {
			return c
		}
		return strings.Compare(x.text, y.text)
	})
	var texts []string
	for i, w := range why {
		texts = append(texts, w.text)
		if i+1 == len(why) || why[i+1].bucket != w.bucket {
			r.Matched = append(r.Matched, e.buckets[w.bucket].value+": "+strings.Join(texts, ", "))
			texts = texts[:0]
		}
	}
	cat := e.byKey[r.Category]
	if e.model == nil {
		e.keywordTypeCrit(&r, a, cat)
	}
	if rule != nil {
		if rule.Type != "" {
			r.Type, r.TypeConfidence = ticket.Type(rule.Type), 1
		}
		if rule.Criticidad != "" {
			r.Criticality, r.CritConfidence = ticket.Criticality(rule.Criticidad), 1
		}
	}
	if cat != nil {
		r.Name, r.Group = cat.Name, cat.Group
		r.Resolution, r.HasSLA = cat.ResolutionFor(r.Criticality)
		r.Restricted, r.Attachments = cat.RequestedBy, cat.Attachments
	}
	sort.Strings(r.Matched)
	return r
}

// keywordTypeCrit is the catalogue's own type and criticality.
func (e *Engine) keywordTypeCrit(r *Result, a analysis, cat *Category) {
	// Type: failure signals against request signals; the category's usual
	// type breaks ties.
	inc, req := e.score(a.scores, kindType, "incidente"), e.score(a.scores, kindType, "requerimiento")
	if a.failures > 0 {
		inc += a.failures * e.failureW
		r.Matched = append(r.Matched, fmt.Sprintf("incidente: no + verbo (+%g)", a.failures*e.failureW))
	}
	if cat != nil && cat.DefaultType == "requerimiento" {
		req += 0.5
	} else {
		inc += 0.5
	}
	r.Type = ticket.Incidente
	if req > inc {
		r.Type = ticket.Requerimiento
	}
	// Criticality: interruption of the operation is alta, no impact is baja.
	switch alta, baja := e.score(a.scores, kindCrit, "alta"), e.score(a.scores, kindCrit, "baja"); {
	case alta >= 3 && alta >= baja:
		r.Criticality = ticket.Alta
	case baja >= 2:
		r.Criticality = ticket.Baja
	default:
		r.Criticality = ticket.Media
	}
}

func (e *Engine) score(scores []float64, k bucketKind, v string) float64 {
	for i, b := range e.buckets {
		if b.kind == k && b.value == v {
			return scores[i]
		}
	}
	return 0
}

// scan records every phrase found in toks with multiplier mult: of the
// catalogue, or of the cues when e is the cue engine (cue), from the
// phrases each token can start (lex, its entries in the catalogue
// engine's cache).
func (e *Engine) scan(toks []token, lex []*lexEntry, cue bool, mult float64, hits *hitSet) {
	lex = lex[:len(toks)]
	for i, l := range lex {
		for _, x := range l.starts(cue) {
			// (the second word first, from the entries: most phrases
			// tried fail there.)
			if h := uint32(x >> 32); h != 0 && (i+1 == len(lex) || lex[i+1].stemH != h) {
				continue
			}
			e.try(toks, lex, i, int(uint32(x)), mult, hits)
		}
	}
}

// startsOf returns the phrases whose first word a token w can be, in the
// order scan used to try them: by stem, by prefix.
func (e *Engine) startsOf(w string) []int32 {
	var out []int32
	ok := func(pi int) {
		p := &e.phrases[pi]
		if p.prefix[0] && strings.HasPrefix(w, p.words[0]) || !p.prefix[0] && stem(w) == p.words[0] {
			out = append(out, int32(pi))
		}
	}
	for _, pi := range e.index[stem(w)] {
		ok(pi)
	}
	if len(w) >= 2 {
		for _, pi := range e.byPrefix[w[:2]] {
			ok(pi)
		}
	}
	for _, pi := range e.prefixed {
		ok(pi)
	}
	return out
}

func (e *Engine) try(toks []token, lex []*lexEntry, i, pi int, mult float64, hits *hitSet) {
	p := &e.phrases[pi]
	if i+len(p.words) > len(toks) {
		return
	}
	// The first word matched already: startsOf chose p for it.
	for j := 1; j < len(p.words); j++ {
		w, t := p.words[j], toks[i+j]
		if p.prefix[j] && !strings.HasPrefix(t.word, w) || !p.prefix[j] && t.stem != w {
			return
		}
	}
	if hits.mult[pi] >= mult || e.negated(toks, lex, i) {
		return
	}
	if hits.mult[pi] == 0 {
		hits.touched = append(hits.touched, int32(pi))
	}
	hits.mult[pi] = mult
}

// clitics may sit between "no" and its verb: "no me carga", "no les llegan".
var clitics = map[string]bool{"me": true, "te": true, "le": true, "les": true, "nos": true, "se": true,
	"lo": true, "la": true, "los": true, "las": true}

// failures counts "no" + verb occurrences: "no" followed, after clitics, by
// a word that is not in the exceptions and looks like a verb (ends in a
// vowel or n, as Spanish present and past forms do).
func (e *Engine) failures(toks []token) float64 {
	n := 0.0
	for i := 0; i < len(toks); i++ {
		if toks[i].word != "no" {
			continue
		}
		j := i + 1
		for j < len(toks) && clitics[toks[j].word] {
			j++
		}
		if j == len(toks) {
			continue
		}
		w := toks[j].word
		if e.failureX[w] || fillers[w] || len(w) < 3 || !strings.ContainsRune("aeioun", rune(w[len(w)-1])) {
			continue
		}
		n++
	}
	return n
}

// indexNegations notes the last stem of each negation and the flag that
// marks the words ending one (negated).
func (e *Engine) indexNegations(flag uint8) {
	e.negLast, e.negFlag = map[string]bool{}, flag
	for _, n := range e.negations {
		if len(n) == 0 {
			e.negFlag = 0
			continue
		}
		e.negLast[n[len(n)-1]] = true
	}
}

// negated reports whether a negation phrase ends right before position i,
// allowing filler words (articles, possessives) in between.
func (e *Engine) negated(toks []token, lex []*lexEntry, i int) bool {
	for end := i - 1; end >= 0 && end >= i-3; end-- {
		if e.negFlag != 0 && lex[end].flags&e.negFlag == 0 {
			// no negation ends with this word
			if lex[end].flags&lexFiller == 0 {
				return false
			}
			continue
		}
		for _, n := range e.negations {
			start := end - len(n) + 1
			if start < 0 {
				continue
			}
			ok := true
			for k, w := range n {
				if toks[start+k].stem != w {
					ok = false
					break
				}
			}
			if ok {
				return true
			}
		}
		if lex[end].flags&lexFiller == 0 {
			return false
		}
	}
	return false
}

func (e *Engine) matchPriority(m Message) *PriorityRule {
	from := strings.ToLower(m.From)
	_, domain, _ := strings.Cut(from, "@")
	for i := range e.priority {
		r := &e.priority[i]
		if r.from != nil && !r.from.MatchString(from) || r.Domain != "" && !strings.EqualFold(r.Domain, domain) ||
			r.subject != nil && !r.subject.MatchString(m.Subject) || r.body != nil && !r.body.MatchString(m.Body) {
			continue
		}
		return r
	}
	return nil
}
