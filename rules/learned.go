package rules

import (
	"github.com/mesadeservicios/mesa/ticket"
)

// WithModel returns a copy of e whose category, type and criticality come
// from the learned model m, with the catalogue's keyword scores as
// features and its priority rules still first. A category below
// minConfidence (0: the model's own default, chosen by cross-validation)
// is sin_clasificar, and so is a category the model knows but the
// catalogue no longer has.
func (e *Engine) WithModel(m *Model, minConfidence float64) *Engine {
	c := *e
	c.model = m
	c.lex = newStrCache[lexEntry](lexCacheSlots)
	c.minConf = minConfidence
	if c.minConf <= 0 && m != nil {
		c.minConf = m.Meta.MinConfidence
	}
	c.kwIdx = nil
	if m != nil {
		c.kwIdx = c.indexKeywords(m)
		for hi := range m.heads {
			c.modelBuckets[hi] = e.classBuckets(hi, m.heads[hi].classes)
		}
		c.catKnown = make([]bool, m.heads[headCategory].k)
		for i, v := range m.heads[headCategory].classes {
			c.catKnown[i] = e.byKey[v] != nil
		}
	}
	return &c
}

// WithoutFeatures returns a copy of e whose results leave Features empty
// and are otherwise the same: the daemon reads the decisions, their
// confidences and the candidates, not which features weighed most, and
// finding those costs a sixth of a classification.
func (e *Engine) WithoutFeatures() *Engine {
	c := *e
	c.noFeatures = true
	return &c
}

// Model returns the learned model of e, or nil.
func (e *Engine) Model() *Model { return e.model }

// MinConfidence returns the confidence below which the category is
// sin_clasificar (0 without a model).
func (e *Engine) MinConfidence() float64 {
	if e.model == nil {
		return 0
	}
	return e.minConf
}

// Digest returns the SHA-256 of the rule file, hex: a model records the
// catalogue it was trained with.
func (e *Engine) Digest() string { return e.digest }

// extract returns the raw features of an analysed message: text features
// and keyword features.
func (e *Engine) extract(a analysis, x *extractor) {
	x.words(a.toks[:a.nsubj], subjectCount)
	x.words(a.toks[a.nsubj:], 1)
	for i, b := range e.buckets {
		if a.scores[i] > 0 {
			x.addKeyword("k:"+b.value, a.scores[i])
		}
	}
	top := "none"
	if a.best >= 0 && a.scores[a.best] >= e.threshold {
		top = e.buckets[a.best].value
	}
	x.addKeyword("k:top="+top, 1)
	if a.failures > 0 {
		x.addKeyword("k:no+verbo", a.failures*e.failureW)
	}
	for q, n := range a.cues {
		if n > 0 {
			x.addKeyword(cueFeature[q], float64(n))
		}
	}
}

// cueFeature names the feature of each cue.
var cueFeature = func() (out [numCues]string) {
	for q, n := range cueNames {
		out[q] = "q:" + n
	}
	return out
}()

// explainTop is how many features a decision lists.
const explainTop = 5

// modelDecide sets type and criticality from the model, and the category
// too when setCategory (no priority rule gave one); with explain, the
// features that weighed most for each (Result.Features).
func (e *Engine) modelDecide(r *Result, a analysis, setCategory, explain bool) {
	m := e.model
	sc := m.scratch()
	defer m.putScratch(sc)
	ds, js := e.decideAll(a, sc)
	hc, ht, hk := &m.heads[headCategory], &m.heads[headType], &m.heads[headCrit]
	d := ds[headCategory]
	// Triage offers categories of the catalogue: never sin_clasificar (a
	// class of the model) nor a class the catalogue no longer has.
	r.Candidates = hc.candidates(d, 3, func(c int) bool { return e.catKnown[c] })
	if setCategory {
		r.Confidence = round3(d.probs[d.best])
		best := hc.classes[d.best]
		if _, known := e.byKey[best]; known && d.probs[d.best] >= e.minConf {
			r.Category = best
		}
	}
	d = ds[headType]
	r.Type, r.TypeConfidence = ticket.Type(ht.classes[d.best]), round3(d.probs[d.best])
	d = ds[headCrit]
	r.Criticality, r.CritConfidence = ticket.Criticality(hk.classes[d.best]), round3(d.probs[d.best])
	if !explain {
		return
	}
	// To explain, the vectors are formed whole.
	r.Features = make(map[string][]Feature, numHeads)
	v := e.vectorOf(m, a, sc.v)
	sc.v = v
	pc, pt := ds[headCategory].probs, ds[headType].probs
	if setCategory {
		r.Features["category"] = m.explain(headCategory, v, js[headCategory], ds[headCategory].best, explainTop)
	}
	r.Features["type"] = m.explain(headType, m.stack.extend(v, headType, pc, nil, &a.cues, &sc.vt), js[headType], ds[headType].best, explainTop)
	r.Features["criticidad"] = m.explain(headCrit, m.stack.extend(v, headCrit, pc, pt, &a.cues, &sc.vk), js[headCrit], ds[headCrit].best, explainTop)
}

// decideAll returns the model's three decisions of a, their
// probabilities in sc's buffers, and their joint features.
func (e *Engine) decideAll(a analysis, sc *decideBuf) (ds [numHeads]decision, js [numHeads]jointVec) {
	m := e.model
	// The scores are summed from the vector's parts (partsOf): each word's
	// score, then the rows of the other features.
	p := e.partsOf(m, a, sc)
	choice := e.keywordDecisions(a)
	for hi := range m.heads {
		js[hi].score = sc.joint[hi]
		js[hi].rule = e.joint(a, hi, m.heads[hi].classes, e.modelBuckets[hi], choice[hi], js[hi].score)
	}
	// The three decisions read the same base features (the type and the
	// criticality then add the chain's): their sums over them are formed
	// in one pass.
	acc := &sc.acc
	clear(sc.accAll)
	addWords(p.words, sc.accAll)
	sc.sink = m.rows.accumulate(p.rest, acc)
	hc, ht, hk := &m.heads[headCategory], &m.heads[headType], &m.heads[headCrit]
	ds[headCategory] = hc.finish(acc[headCategory], js[headCategory], sc.logits[headCategory])
	pc := ds[headCategory].probs
	// The chain's features (stack.go) are summed apart: the words × type
	// from the stems' parts, the others from their rows.
	vt := m.stack.extend(sparse{}, headType, pc, nil, &a.cues, &sc.vt)
	m.rows.accumulateHead(headType, vt, acc[headType])
	ds[headType] = ht.finish(acc[headType], js[headType], sc.logits[headType])
	pt := ds[headType].probs
	vk := m.stack.extend(sparse{}, headCrit, pc, pt, &a.cues, &sc.vk)
	m.rows.accumulateHead(headCrit, vk, acc[headCrit])
	p.addWordTypes(m.rowLen(), hk.k, pt, acc[headCrit])
	ds[headCrit] = hk.finish(acc[headCrit], js[headCrit], sc.logits[headCrit])
	return ds, js
}

// decideBuf is the scratch of one modelDecide, pooled per model: the
// vectors of the three decisions, their logits and joint features.
type decideBuf struct {
	v, vt, vk sparse
	logits    [numHeads][]float64
	joint     [numHeads][]float32
	// acc are the sums of weighted features, in quanta, by decision:
	// accAll's stretches.
	acc    [numHeads][]float32
	accAll []float32
	sink   int16 // fusedRows.accumulate's read-ahead
	// partsOf's: a table from feature index to position (+1; 0: not yet),
	// the message's words and the parts.
	pos       []int32
	set       wordSet
	words     []msgWord
	pairs     []rawFeature // the bigrams' hashes and counts
	uni, rest sparse
	uniEn     []*lexEntry
}

func (m *Model) scratch() *decideBuf {
	if b, _ := m.pool.Get().(*decideBuf); b != nil {
		return b
	}
	b := &decideBuf{accAll: make([]float32, m.rowLen()), pos: make([]int32, len(m.names))}
	off := 0
	for hi := range m.heads {
		k := m.heads[hi].k
		b.logits[hi] = make([]float64, k)
		b.joint[hi] = make([]float32, k)
		b.acc[hi] = b.accAll[off : off+k : off+k]
		off += k
	}
	return b
}

func (m *Model) putScratch(b *decideBuf) { m.pool.Put(b) }

func round3(p float64) float64 { return float64(int64(p*1000+0.5)) / 1000 }

// The catalogue as a prior. Besides the per-class weights of the k:
// features, each decision has two weights shared by all its classes: one
// for the catalogue's keyword score of the class being scored (log 1+s)
// and one for "the catalogue alone would choose this class". Shared, they
// are learned from every example instead of the few of each category: a
// category with five examples still gets the catalogue's full say.
const numJoint = 2

// keywordDecisions is what the catalogue alone decides, priority rules
// aside: category (sin_clasificar below the threshold), type, criticality.
func (e *Engine) keywordDecisions(a analysis) [numHeads]string {
	var out [numHeads]string
	out[headCategory] = ticket.Unclassified
	if a.best >= 0 && a.scores[a.best] >= e.threshold {
		out[headCategory] = e.buckets[a.best].value
	}
	var r Result
	e.keywordTypeCrit(&r, a, e.byKey[out[headCategory]])
	out[headType], out[headCrit] = string(r.Type), string(r.Criticality)
	return out
}

// classBuckets maps the classes of decision hi onto the catalogue's
// buckets (-1: none, e.g. sin_clasificar or media).
func (e *Engine) classBuckets(hi int, classes []string) []int {
	kind := [numHeads]bucketKind{kindCategory, kindType, kindCrit}[hi]
	out := make([]int, len(classes))
	for c, v := range classes {
		out[c] = -1
		for i, b := range e.buckets {
			if b.kind == kind && b.value == v {
				out[c] = i
			}
		}
	}
	return out
}

// joint returns, per class, the catalogue's score feature, and the class
// the catalogue chooses (-1 when it is not one of classes).
func (e *Engine) joint(a analysis, hi int, classes []string, buckets []int, choice string, out []float32) int {
	rule := -1
	for c, v := range classes {
		s := 0.0
		if b := buckets[c]; b >= 0 {
			s = a.scores[b]
		}
		if hi == headType && v == string(ticket.Incidente) {
			s += a.failures * e.failureW
		}
		out[c] = float32(log1p(s))
		if v == choice {
			rule = c
		}
	}
	return rule
}
