package rules

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/mesadeservicios/mesa/ticket"
)

// Example is one labelled mail to train from.
type Example struct {
	Message Message
	// Category is a catalogue key or sin_clasificar; Type and Criticality
	// may be empty when the source does not say (a history export with
	// only the category): that decision then does not learn from it.
	Category    string
	Type        string
	Criticality string
	// Category2, Type2 and Criticality2 are a second labeller's reading
	// of the same mail (empty: none). Where the two differ, the example
	// teaches half of each (see secondLabels).
	Category2    string
	Type2        string
	Criticality2 string
	// Source names where it came from: "corpus", "history", "corrections".
	Source string
}

// TrainOptions tune training; the zero value means the defaults below,
// which the shipped model uses. Training is deterministic: the same
// examples (in any order) and options give the same model, byte for byte.
type TrainOptions struct {
	// Epochs of stochastic gradient descent (AdaGrad); default 20.
	Epochs int `json:"epochs"`
	// Rate is AdaGrad's learning rate; default 0.2.
	Rate float64 `json:"rate"`
	// L2 is the weight decay per update; default 1e-6.
	L2 float64 `json:"l2"`
	// MinDF drops text features found in fewer mails; default 2.
	MinDF int `json:"min_df"`
	// Folds of the cross-validation that calibrates the confidence;
	// default 5.
	Folds int `json:"folds"`
	// Seed of the shuffles; default 1.
	Seed uint64 `json:"seed"`
	// TargetPrecision is the cross-validated precision the default minimum
	// confidence aims at; default 0.95.
	TargetPrecision float64 `json:"target_precision"`
	// Prune zeroes the category weights smaller than it in magnitude
	// after training: most of the category's weights are tiny, and a
	// sparse model classifies several times faster; default 0.2 (chosen
	// by cross-validation: no loss up to 0.3), negative: none.
	Prune float64 `json:"prune,omitempty"`
	// Trained is the training date recorded in the model (YYYY-MM-DD); it
	// is an input, so that retraining reproduces the bytes.
	Trained string `json:"-"`
}

func (o *TrainOptions) defaults() TrainOptions {
	var d TrainOptions
	if o != nil {
		d = *o
	}
	if d.Epochs <= 0 {
		d.Epochs = 20
	}
	if d.Rate <= 0 {
		d.Rate = 0.2
	}
	if d.L2 <= 0 {
		d.L2 = 1e-6
	}
	if d.MinDF <= 0 {
		d.MinDF = 2
	}
	if d.Folds < 2 {
		d.Folds = 5
	}
	if d.Seed == 0 {
		d.Seed = 1
	}
	if d.Prune == 0 {
		d.Prune = 0.2
	}
	if d.TargetPrecision <= 0 || d.TargetPrecision >= 1 {
		d.TargetPrecision = 0.95
	}
	return d
}

// trainSet is the examples as vectors, with each decision's labels
// (class index, or -1 where the example does not say).
type trainSet struct {
	xs []sparse // the features every decision reads
	// xh are the features of each decision: xs, with the chain's
	// features (stack.go) for type and criticality.
	xh    [numHeads][]sparse
	cues  [][numCues]float32
	stack *stackIndex
	// critSkip marks the features the criticality does not read (see
	// critReads).
	critSkip []bool
	js       [numHeads][]jointVec
	ys       [numHeads][]int
	// alt is a second labeller's class (-1: none). Where alt differs from
	// ys, the example learns mix of alt and 1−mix of ys. wt weighs
	// examples (nil: all 1).
	alt     [numHeads][]int
	mix     [numHeads]float64
	wt      [numHeads][]float64
	classes [numHeads][]string
	nf      int
}

// Train learns a model from examples with e's catalogue providing the
// keyword features. It cross-validates (opt.Folds) to fit each decision's
// temperature and to choose the default minimum confidence, then trains on
// everything.
func (e *Engine) Train(examples []Example, opt *TrainOptions) (*Model, error) {
	o := opt.defaults()
	if err := e.checkExamples(examples); err != nil {
		return nil, err
	}
	if len(examples) < 2*o.Folds {
		return nil, fmt.Errorf("training needs at least %d examples, got %d", 2*o.Folds, len(examples))
	}
	exs, digest := sortExamples(examples)
	set, names := e.forTraining().buildSet(exs, o.MinDF)

	// Cross-validation: out-of-fold logits of every decision, in the
	// chain's order; a later decision reads the earlier ones' out-of-fold
	// probabilities.
	folds := foldsOf(exs, set.ys[headCategory], o.Folds)
	var oof [numHeads][][]float64
	var temps [numHeads]float64
	var probs [numHeads][][]float64
	for hi := range numHeads {
		set.chain(hi, probs)
		oof[hi] = crossValidate(set, hi, folds, o)
		temps[hi] = fitTemperature(oof[hi], set.ys[hi])
		probs[hi] = make([][]float64, len(exs))
		for i, z := range oof[hi] {
			p := slices.Clone(z)
			softmax(p, temps[hi])
			probs[hi][i] = p
		}
	}

	meta := ModelMeta{Trained: o.Trained, Examples: map[string]int{}, CorpusSHA256: digest, Catalogue: e.digest,
		CV: map[string]float64{}, Options: o}
	for _, ex := range exs {
		src := ex.Source
		if src == "" {
			src = "corpus"
		}
		meta.Examples[src]++
	}
	m := &Model{names: names}
	for hi := range numHeads {
		t := temps[hi]
		meta.Heads = append(meta.Heads, HeadMeta{Name: headNames[hi], Classes: set.classes[hi], Temperature: t})
		for i := range oof[hi] {
			if oof[hi][i] != nil {
				softmax(oof[hi][i], t)
			}
		}
		if hi != headCategory {
			meta.CV[headNames[hi]] = round3(accuracyOf(oof[hi], set.ys[hi]))
		}
	}
	unclass := slices.Index(set.classes[headCategory], ticket.Unclassified)
	meta.Curve = curve(oof[headCategory], set.ys[headCategory], unclass)
	meta.MinConfidence = chooseThreshold(meta.Curve, o.TargetPrecision)
	for _, p := range meta.Curve {
		if p.Threshold == meta.MinConfidence {
			meta.CV["category"], meta.CV["coverage"], meta.CV["precision"] = p.Accuracy, p.Coverage, p.Precision
		}
	}

	all := make([]int, len(exs))
	for i := range all {
		all[i] = i
	}
	for hi := range numHeads {
		k := len(set.classes[hi])
		w, b, sh := trainHead(set, hi, all, o)
		meta.Heads[hi].Shared = sh[:]
		h := head{classes: set.classes[hi], k: k, bias: make([]float32, k), temp: meta.Heads[hi].Temperature, shared: sh}
		w32 := make([]float32, len(w))
		for i, v := range w {
			w32[i] = float32(v)
		}
		h.setWeights(w32)
		for i, v := range b {
			h.bias[i] = float32(v)
		}
		m.heads[hi] = h
	}
	m.Meta = meta
	// What ships is what was written: read it back.
	var buf bytes.Buffer
	if err := m.Write(&buf); err != nil {
		return nil, err
	}
	return ReadModel(&buf)
}

func (e *Engine) checkExamples(exs []Example) error {
	var errs []error
	for i, ex := range exs {
		if _, ok := e.byKey[ex.Category]; !ok && ex.Category != ticket.Unclassified {
			errs = append(errs, fmt.Errorf("example %d (%s): category %q is not in the catalogue", i+1, ex.Source, ex.Category))
		}
		if _, ok := e.byKey[ex.Category2]; !ok && ex.Category2 != ticket.Unclassified && ex.Category2 != "" {
			errs = append(errs, fmt.Errorf("example %d (%s): second category %q is not in the catalogue", i+1, ex.Source, ex.Category2))
		}
		if ex.Type2 != "" && !ticket.Type(ex.Type2).Valid() {
			errs = append(errs, fmt.Errorf("example %d (%s): second type %q", i+1, ex.Source, ex.Type2))
		}
		if ex.Criticality2 != "" && !ticket.Criticality(ex.Criticality2).Valid() {
			errs = append(errs, fmt.Errorf("example %d (%s): second criticidad %q", i+1, ex.Source, ex.Criticality2))
		}
		if ex.Type != "" && !ticket.Type(ex.Type).Valid() {
			errs = append(errs, fmt.Errorf("example %d (%s): type %q", i+1, ex.Source, ex.Type))
		}
		if ex.Criticality != "" && !ticket.Criticality(ex.Criticality).Valid() {
			errs = append(errs, fmt.Errorf("example %d (%s): criticidad %q", i+1, ex.Source, ex.Criticality))
		}
		if len(errs) >= 10 {
			errs = append(errs, errors.New("…"))
			break
		}
	}
	return errors.Join(errs...)
}

// sortExamples orders examples by the hash of their content, so that the
// model does not depend on the order they came in, and returns the hash of
// the whole sorted list.
func sortExamples(in []Example) ([]Example, string) {
	type keyed struct {
		key string
		ex  Example
	}
	ks := make([]keyed, len(in))
	for i, ex := range in {
		h := sha256.New()
		for _, s := range []string{ex.Category, ex.Type, ex.Criticality, ex.Source, ex.Message.From, ex.Message.Subject, ex.Message.Body} {
			h.Write([]byte(s))
			h.Write([]byte{0})
		}
		if ex.Category2 != "" || ex.Type2 != "" || ex.Criticality2 != "" {
			for _, s := range []string{ex.Category2, ex.Type2, ex.Criticality2} {
				h.Write([]byte(s))
				h.Write([]byte{0})
			}
		}
		ks[i] = keyed{hex.EncodeToString(h.Sum(nil)), ex}
	}
	sort.SliceStable(ks, func(a, b int) bool { return ks[a].key < ks[b].key })
	out := make([]Example, len(ks))
	all := sha256.New()
	for i, k := range ks {
		out[i] = k.ex
		all.Write([]byte(k.key))
	}
	return out, hex.EncodeToString(all.Sum(nil))
}

// ExamplesDigest is the SHA-256 a model trained on examples records as
// its corpus_sha256 (whatever their order), and CatalogueDigest that of e's
// rule file, its catalogue_sha256: together they tell whether a model was
// trained on this corpus and catalogue without training it again.
func ExamplesDigest(examples []Example) string {
	_, d := sortExamples(examples)
	return d
}

// CatalogueDigest is the SHA-256 of e's rule file.
func (e *Engine) CatalogueDigest() string { return e.digest }

// secondLabels is, per decision, how much an example learns of a second
// labeller's reading where it differs from the first (0: none, 0.5: half
// of each), chosen by cross-validation (docs/DESIGN-NOTES.md).
var secondLabels = [numHeads]float64{0, 0.5, 0.5}

// expNoWordType and expNoCueNegations switch the criticidad's words ×
// type and the cues' own negations off (the experiment harness's
// baseline).
var expNoWordType, expNoCueNegations bool

// critReads reports whether the criticality decision reads a feature:
// not the character n-grams, which name the topic (the category's
// business) and, in cross-validation, only add noise to the criticality.
// The words, the bigrams ("no puedo", "toda la", "cuando puedan": scope
// and urgency are often two words), the catalogue's scores, the cues and
// the chain stay. Its weights of the n-grams are never trained, so stay
// zero.
func critReads(name string) bool {
	return !strings.HasPrefix(name, "c:")
}

// without returns x less the features marked in skip.
func (x sparse) without(skip []bool) sparse {
	var out sparse
	for j, f := range x.idx {
		if !skip[f] {
			out.idx = append(out.idx, f)
			out.val = append(out.val, x.val[j])
		}
	}
	return out
}

// forTraining returns a copy of e that finds the model's cues.
func (e *Engine) forTraining() *Engine {
	c := *e
	c.training = true
	return &c
}

// buildSet extracts features, keeps those of the vocabulary (text features
// in at least minDF mails, every keyword feature), sorted by name, and
// vectorises.
func (e *Engine) buildSet(exs []Example, minDF int) (*trainSet, []string) {
	type raw struct {
		text rawText
		kw   []rawFeature
	}
	raws := make([]raw, len(exs))
	as := make([]analysis, len(exs))
	names := map[uint64]string{}
	df := map[uint64]int{}
	kwSeen := map[uint64]bool{}
	for i, ex := range exs {
		var buf [128]token
		a := e.analyze(ex.Message, buf[:0])
		as[i] = a
		x := extractor{names: names}
		e.extract(a, &x)
		raws[i] = raw{x.text, x.kw}
		for _, f := range merge(x.text.hashes()) {
			df[f.h]++
		}
		for _, f := range x.kw {
			kwSeen[f.h] = true
		}
	}
	var classes [numHeads][]string
	var ys [numHeads][]int
	labels := [numHeads]func(Example) string{
		func(ex Example) string { return ex.Category },
		func(ex Example) string { return ex.Type },
		func(ex Example) string { return ex.Criticality },
	}
	labels2 := [numHeads]func(Example) string{
		func(ex Example) string { return ex.Category2 },
		func(ex Example) string { return ex.Type2 },
		func(ex Example) string { return ex.Criticality2 },
	}
	var alt [numHeads][]int
	for hi := range numHeads {
		seen := map[string]bool{}
		for _, ex := range exs {
			if l := labels[hi](ex); l != "" {
				seen[l] = true
			}
			if l := labels2[hi](ex); l != "" && labels[hi](ex) != "" {
				seen[l] = true
			}
		}
		for l := range seen {
			classes[hi] = append(classes[hi], l)
		}
		sort.Strings(classes[hi])
		ys[hi] = make([]int, len(exs))
		alt[hi] = make([]int, len(exs))
		for i, ex := range exs {
			ys[hi][i], alt[hi][i] = -1, -1
			if l := labels[hi](ex); l != "" {
				ys[hi][i] = slices.Index(classes[hi], l)
				if l2 := labels2[hi](ex); l2 != "" {
					alt[hi][i] = slices.Index(classes[hi], l2)
				}
			}
		}
	}
	var vocab []string
	for h, n := range df {
		if n >= minDF {
			vocab = append(vocab, names[h])
		}
	}
	for h := range kwSeen {
		vocab = append(vocab, names[h])
	}
	vocab = append(vocab, stackNames(classes[headCategory], classes[headType])...)
	for _, n := range vocab {
		if strings.HasPrefix(n, "w:") && !expNoWordType {
			for _, t := range classes[headType] {
				vocab = append(vocab, wordTypeName(n, t))
			}
		}
	}
	sort.Strings(vocab)
	vocab = slices.Compact(vocab)
	index := newHashIndex(len(vocab))
	for i, n := range vocab {
		index.put(featureHash(n), int32(i))
	}
	set := &trainSet{xs: make([]sparse, len(exs)), nf: len(vocab), classes: classes, ys: ys, alt: alt, mix: secondLabels,
		stack: newStackIndex(vocab, index, classes[headCategory], classes[headType]), cues: make([][numCues]float32, len(exs))}
	for i, a := range as {
		set.cues[i] = a.cues
	}
	set.critSkip = make([]bool, len(vocab))
	for i, n := range vocab {
		set.critSkip[i] = !critReads(n)
	}
	for i, r := range raws {
		set.xs[i] = vectorize(&r.text, r.kw, index, len(vocab))
	}
	for hi := range numHeads {
		buckets := e.classBuckets(hi, set.classes[hi])
		set.js[hi] = make([]jointVec, len(exs))
		for i, a := range as {
			choice := e.keywordDecisions(a)
			j := jointVec{score: make([]float32, len(set.classes[hi]))}
			j.rule = e.joint(a, hi, set.classes[hi], buckets, choice[hi], j.score)
			set.js[hi][i] = j
		}
	}
	return set, vocab
}

// chain sets the features of decision hi: the common ones, and the
// chain's features from the probabilities of the decisions before it.
func (set *trainSet) chain(hi int, probs [numHeads][][]float64) {
	set.xh[hi] = set.xs
	if hi == headCategory {
		return
	}
	set.xh[hi] = make([]sparse, len(set.xs))
	for i, x := range set.xs {
		var pt []float64
		if hi == headCrit {
			pt = probs[headType][i]
			x = x.without(set.critSkip)
		}
		set.xh[hi][i] = set.stack.extend(x, hi, probs[headCategory][i], pt, &set.cues[i], &sparse{})
	}
}

// crossValidate trains decision hi on all folds but one and returns, per
// example, the logits of the model that did not see it.
func crossValidate(set *trainSet, hi int, folds []int, o TrainOptions) [][]float64 {
	nfolds := 0
	for _, f := range folds {
		nfolds = max(nfolds, f+1)
	}
	oof := make([][]float64, len(folds))
	var wg sync.WaitGroup
	sem := make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))
	k := len(set.classes[hi])
	for f := 0; f < nfolds; f++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			var train, test []int
			for i, fi := range folds {
				if fi == f {
					test = append(test, i)
				} else {
					train = append(train, i)
				}
			}
			w, b, sh := trainHead(set, hi, train, o)
			for _, i := range test {
				oof[i] = logitsOf(set.xh[hi][i], set.js[hi][i], w, b, sh, k)
			}
		}()
	}
	wg.Wait()
	return oof
}

// foldsOf assigns each example a fold, stratified by category: the
// examples of each category are dealt round the folds in turn.
func foldsOf(exs []Example, ys []int, folds int) []int {
	idx := make([]int, len(exs))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return ys[idx[a]] < ys[idx[b]] })
	out := make([]int, len(exs))
	for r, i := range idx {
		out[i] = r % folds
	}
	return out
}

// trainHead fits a multinomial logistic regression of decision hi on the
// examples idx with AdaGrad; weights are feature-major (f×k + class).
func trainHead(set *trainSet, hi int, idx []int, o TrainOptions) ([]float64, []float64, [numJoint]float64) {
	k := len(set.classes[hi])
	ys := set.ys[hi]
	w := make([]float64, set.nf*k)
	g2 := make([]float64, set.nf*k)
	b := make([]float64, k)
	gb := make([]float64, k)
	var sh, gs [numJoint]float64
	var order []int
	for _, i := range idx {
		if ys[i] >= 0 {
			order = append(order, i)
		}
	}
	rng := rand.New(rand.NewPCG(o.Seed, uint64(hi)))
	p := make([]float64, k)
	for range o.Epochs {
		rng.Shuffle(len(order), func(a, c int) { order[a], order[c] = order[c], order[a] })
		for _, i := range order {
			x, jv := set.xh[hi][i], set.js[hi][i]
			for c := range p {
				p[c] = b[c] + float64(sh[0]*float64(jv.score[c]))
			}
			if jv.rule >= 0 {
				p[jv.rule] += sh[1]
			}
			for j, f := range x.idx {
				v := float64(x.val[j])
				row := w[int(f)*k : int(f)*k+k]
				for c := range p {
					p[c] += float64(v * row[c])
				}
			}
			softmax(p, 1)
			if mix, y2 := set.mix[hi], set.alt[hi][i]; mix > 0 && y2 >= 0 && y2 != ys[i] {
				p[ys[i]] -= 1 - mix
				p[y2] -= mix
			} else {
				p[ys[i]] -= 1
			}
			if wt := set.wt[hi]; wt != nil && wt[i] != 1 {
				for c := range p {
					p[c] *= wt[i]
				}
			}
			var gj [numJoint]float64
			for c, g := range p {
				gb[c] += float64(g * g)
				b[c] -= float64(o.Rate * g / (math.Sqrt(gb[c]) + 1e-8))
				gj[0] += float64(g * float64(jv.score[c]))
			}
			if jv.rule >= 0 {
				gj[1] = p[jv.rule]
			}
			for j, g := range gj {
				gs[j] += float64(g * g)
				if gs[j] > 0 {
					sh[j] -= float64(o.Rate * g / (math.Sqrt(gs[j]) + 1e-8))
				}
			}
			for j, f := range x.idx {
				v := float64(x.val[j])
				base := int(f) * k
				for c, g := range p {
					// Classes the example says nothing about barely move:
					// skip them (their decay waits for a real update).
					if g > -1e-4 && g < 1e-4 {
						continue
					}
					gr := float64(v*g) + float64(o.L2*w[base+c])
					g2[base+c] += float64(gr * gr)
					w[base+c] -= float64(o.Rate * gr / (math.Sqrt(g2[base+c]) + 1e-8))
				}
			}
		}
	}
	if hi == headCategory && o.Prune > 0 { // (negative: no pruning)
		prune(w, k, o.Prune)
	}
	return w, b, sh
}

// prune makes the weights w (features × k classes) sparse. Adding the
// same value to every class's weight of a feature changes no probability
// (the softmax cancels it), so each feature's row is first centred on its
// median, where most classes' weights sit; then the weights within tau of
// it become zero. Only those change the model, and by little.
func prune(w []float64, k int, tau float64) {
	row := make([]float64, k)
	for f := 0; f+k <= len(w); f += k {
		copy(row, w[f:f+k])
		slices.Sort(row)
		med := row[k/2]
		for c := range k {
			if v := w[f+c] - med; math.Abs(v) < tau {
				w[f+c] = 0
			} else {
				w[f+c] = v
			}
		}
	}
}

func logitsOf(x sparse, jv jointVec, w, b []float64, sh [numJoint]float64, k int) []float64 {
	z := slices.Clone(b)
	for c := range z {
		z[c] += float64(sh[0] * float64(jv.score[c]))
	}
	if jv.rule >= 0 {
		z[jv.rule] += sh[1]
	}
	for j, f := range x.idx {
		v := float64(x.val[j])
		for c := range z {
			z[c] += float64(v * w[int(f)*k+c])
		}
	}
	return z
}

// fitTemperature chooses the temperature that minimises the negative log
// likelihood of the out-of-fold logits, on a fixed grid from 0.25 to 8.
func fitTemperature(logits [][]float64, ys []int) float64 {
	best, bestNLL := 1.0, math.Inf(1)
	p := []float64{}
	for g := 0; g <= 50; g++ {
		t := round3(0.25 * math.Pow(32, float64(g)/50))
		nll := 0.0
		for i, z := range logits {
			if z == nil || ys[i] < 0 {
				continue
			}
			p = append(p[:0], z...)
			softmax(p, t)
			nll -= math.Log(max(p[ys[i]], 1e-12))
		}
		if nll < bestNLL {
			best, bestNLL = t, nll
		}
	}
	return best
}

func accuracyOf(probs [][]float64, ys []int) float64 {
	n, ok := 0, 0
	for i, p := range probs {
		if p == nil || ys[i] < 0 {
			continue
		}
		n++
		if argmax(p) == ys[i] {
			ok++
		}
	}
	if n == 0 {
		return 0
	}
	return float64(ok) / float64(n)
}

func argmax(p []float64) int {
	best := 0
	for c := range p {
		if p[c] > p[best] {
			best = c
		}
	}
	return best
}

// curve is the coverage/precision curve of the category decision over the
// thresholds 0, 0.025, …, 0.975.
func curve(probs [][]float64, ys []int, unclass int) []CurvePoint {
	var out []CurvePoint
	for g := 0; g < 40; g++ {
		t := float64(g) / 40
		n, covered, right, acc := 0, 0, 0, 0
		for i, p := range probs {
			if p == nil || ys[i] < 0 {
				continue
			}
			n++
			c := argmax(p)
			if c != unclass && p[c] >= t {
				covered++
				if c == ys[i] {
					right++
					acc++
				}
			} else if ys[i] == unclass {
				acc++
			}
		}
		pt := CurvePoint{Threshold: t}
		if n > 0 {
			pt.Coverage, pt.Accuracy = round3(float64(covered)/float64(n)), round3(float64(acc)/float64(n))
		}
		if covered > 0 {
			pt.Precision = round3(float64(right) / float64(covered))
		}
		out = append(out, pt)
	}
	return out
}

// chooseThreshold returns the lowest threshold whose cross-validated
// precision reaches target (the most mail classified at that precision);
// when none does, the one of best accuracy.
func chooseThreshold(c []CurvePoint, target float64) float64 {
	for _, p := range c {
		if p.Precision >= target && p.Coverage > 0 {
			return p.Threshold
		}
	}
	best := c[0]
	for _, p := range c {
		if p.Accuracy > best.Accuracy {
			best = p
		}
	}
	return best.Threshold
}

// Describe summarises m in one line for people: date, examples, features,
// cross-validated figures.
func (m *Model) Describe() string {
	var src []string
	total := 0
	for _, k := range sortedKeys(m.Meta.Examples) {
		src = append(src, fmt.Sprintf("%s %d", k, m.Meta.Examples[k]))
		total += m.Meta.Examples[k]
	}
	return fmt.Sprintf("model trained %s on %d mails (%s), %d features; cross-validated: category %.1f %% (coverage %.1f %%, precision %.1f %%), type %.1f %%, criticidad %.1f %%; min_confidence %.2f",
		orDash(m.Meta.Trained), total, strings.Join(src, ", "), len(m.names), 100*m.Meta.CV["category"], 100*m.Meta.CV["coverage"],
		100*m.Meta.CV["precision"], 100*m.Meta.CV["type"], 100*m.Meta.CV["criticidad"], m.Meta.MinConfidence)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
