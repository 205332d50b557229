package rules

import (
	"bufio"
	"bytes"
	"embed"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"strings"
	"sync"
)

// The learned scorer: one multinomial logistic regression per decision
// (category, type, criticality) over the features of features.go, with a
// temperature per decision fitted by cross-validation so that its
// probabilities are calibrated. See docs/DESIGN-NOTES.md, "Classification".

// modelData holds the embedded model, modeldata/model.bin: a build output
// (`make model` trains it from the shipped corpus, byte for byte the same
// for the same input), not a tracked file. The directory's README keeps
// the package compiling without it, so the trainer can run first.
//
//go:embed modeldata
var modelData embed.FS

// errNoModel is DefaultModel's error when the build embedded no model.
var errNoModel = errors.New("rules: this build embeds no model (rules/modeldata/model.bin is made by `make model`; build with make, or set rules.model_file)")

// embeddedModel returns the embedded model file, nil when there is none.
func embeddedModel() []byte {
	b, err := fs.ReadFile(modelData, "modeldata/model.bin")
	if err != nil {
		return nil
	}
	return b
}

// Heads of the model, in file order.
const (
	headCategory = iota
	headType
	headCrit
	numHeads
)

var headNames = [numHeads]string{"category", "type", "criticidad"}

// modelMagic starts every model file.
const modelMagic = "mesa-model 1\n"

// quantum is the step weights are stored in: 1/256. The model in memory is
// the one read back from the file, so what is evaluated is what ships.
const quantum = 1.0 / 256

// Model is a trained scorer. It is immutable and safe for concurrent use.
type Model struct {
	Meta  ModelMeta
	names []string   // feature names, sorted
	vocab *hashIndex // feature hash → index into names
	// bigrams is vocab's bigrams alone: a quarter of its size, so that
	// the lookups of a message's word pairs, most of them not there, stay
	// in the cache more.
	bigrams *hashIndex
	heads   [numHeads]head
	stack   *stackIndex           // the chain's features (stack.go)
	words   *strCache[*wordEntry] // wordcache.go
	pool    sync.Pool             // of *decideBuf (learned.go)
	rows    fusedRows             // the weights as classification reads them
}

// fusedRows is the runtime layout of the weights, built by ReadModel:
// feature f's nonzero weights of all three decisions in one stretch,
// category then type then criticality, each by class. A message's base
// features are read once for the three decisions (accumulate), and a
// feature costs one index entry and one or two cache lines instead of a
// start offset and a row in each decision's own arrays. The file and
// Write keep the per-decision rows (head.start, head.ent).
type fusedRows struct {
	at  []fusedAt // by feature, and one past the last
	ent []weight
	// offType, offCrit: where the type's and the criticality's classes
	// start in a row of all three decisions' classes (sumRows).
	offType, offCrit int
	offCritK         int // classes of the criticality
}

type fusedAt struct {
	start  int32
	nc, nt uint16 // weights of the category and of the type
}

func newFusedRows(heads *[numHeads]head, nf int) fusedRows {
	n := 0
	for hi := range heads {
		n += len(heads[hi].ent)
	}
	r := fusedRows{at: make([]fusedAt, nf+1), ent: make([]weight, 0, n),
		offType: heads[headCategory].k, offCrit: heads[headCategory].k + heads[headType].k, offCritK: heads[headCrit].k}
	for f := range int32(nf) {
		a := fusedAt{start: int32(len(r.ent))}
		r.ent = append(r.ent, heads[headCategory].row(f)...)
		a.nc = uint16(len(r.ent) - int(a.start))
		r.ent = append(r.ent, heads[headType].row(f)...)
		a.nt = uint16(len(r.ent) - int(a.start) - int(a.nc))
		r.ent = append(r.ent, heads[headCrit].row(f)...)
		r.at[f] = a
	}
	r.at[nf].start = int32(len(r.ent))
	return r
}

// row returns the nonzero weights of feature f for decision hi.
func (r *fusedRows) row(hi int, f int32) []weight {
	a := &r.at[f]
	s := int(a.start)
	switch hi {
	case headCategory:
		return r.ent[s : s+int(a.nc)]
	case headType:
		return r.ent[s+int(a.nc) : s+int(a.nc)+int(a.nt)]
	}
	return r.ent[s+int(a.nc)+int(a.nt) : r.at[f+1].start]
}

// accumulate adds, for every feature of v, its value times its weights
// (in quanta) to acc[hi][class] of each decision: the three decisions'
// sums over the features they share, in one pass over v. Its result is
// meaningless: keep it somewhere (see the loop).
func (r *fusedRows) accumulate(v sparse, acc *[numHeads][]float32) (sink int16) {
	ac, at, ak := acc[headCategory], acc[headType], acc[headCrit]
	// The rows are scattered over a megabyte: the first weight of the row
	// two features ahead is read early (and summed into a throwaway), so
	// its cache miss overlaps the sums of this one.
	var ahead int16
	for jj, f := range v.idx {
		if jj+2 < len(v.idx) {
			if i := int(r.at[v.idx[jj+2]].start); i < len(r.ent) {
				ahead ^= r.ent[i].q
			}
		}
		x := v.val[jj]
		a := r.at[f]
		s, e := int(a.start), int(r.at[f+1].start)
		c, t := s+int(a.nc), s+int(a.nc)+int(a.nt)
		for _, w := range r.ent[s:c] {
			ac[w.class] += x * float32(w.q)
		}
		for _, w := range r.ent[c:t] {
			at[w.class] += x * float32(w.q)
		}
		for _, w := range r.ent[t:e] {
			ak[w.class] += x * float32(w.q)
		}
	}
	return ahead
}

// sumRows returns the sum of the rows of features uni (-1: none) and
// grams, dense: the category's classes, then the type's, then the
// criticality's (n in all), in quanta (integers, exact in a float32);
// then, dense, the criticality's weights of the features wt.
func (r *fusedRows) sumRows(uni int32, grams []int32, n int, wt []int32) []float32 {
	k := r.offCritK
	out := make([]float32, n+len(wt)*k)
	for t, f := range wt {
		if f >= 0 {
			for _, w := range r.row(headCrit, f) {
				out[n+t*k+int(w.class)] = float32(w.q)
			}
		}
	}
	add := func(f int32) {
		a := r.at[f]
		s, e := int(a.start), int(r.at[f+1].start)
		c, t := s+int(a.nc), s+int(a.nc)+int(a.nt)
		for _, w := range r.ent[s:c] {
			out[w.class] += float32(w.q)
		}
		for _, w := range r.ent[c:t] {
			out[r.offType+int(w.class)] += float32(w.q)
		}
		for _, w := range r.ent[t:e] {
			out[r.offCrit+int(w.class)] += float32(w.q)
		}
	}
	if uni >= 0 {
		add(uni)
	}
	for _, f := range grams {
		add(f)
	}
	return out
}

// accumulateHead adds the weights of decision hi of v's features to acc.
func (r *fusedRows) accumulateHead(hi int, v sparse, acc []float32) {
	for jj, f := range v.idx {
		x := v.val[jj]
		for _, w := range r.row(hi, f) {
			acc[w.class] += x * float32(w.q)
		}
	}
}

type head struct {
	classes []string
	k       int
	// The nonzero weights by feature (compressed rows): feature f's are
	// ent[start[f]:start[f+1]], by class, each a class and its weight in
	// quanta: four bytes, so that a row is one stretch of memory.
	start  []int32
	ent    []weight
	bias   []float32
	shared [numJoint]float64 // weights of the joint features (learned.go)
	temp   float64
}

// jointVec is the joint features of one message for one decision: the
// catalogue's score per class, and the class it would choose (-1: none).
type jointVec struct {
	score []float32
	rule  int
}

// ModelMeta is the header of a model file: what it was trained from and
// how it did in cross-validation on its training data.
type ModelMeta struct {
	// Trained is the training date (YYYY-MM-DD), an input of the training
	// so that the same input gives the same bytes.
	Trained string `json:"trained"`
	// Examples counts the training mail per source ("corpus", "history",
	// "corrections").
	Examples map[string]int `json:"examples"`
	// CorpusSHA256 is the hash of the training examples, in the order
	// training sorts them.
	CorpusSHA256 string `json:"corpus_sha256"`
	// Catalogue is the SHA-256 of the rule file whose keyword scores are
	// features.
	Catalogue string `json:"catalogue_sha256"`
	// MinConfidence is the default rules.min_confidence, chosen from Curve.
	MinConfidence float64      `json:"min_confidence"`
	Heads         []HeadMeta   `json:"heads"`
	Curve         []CurvePoint `json:"curve"`
	// CV are the cross-validated accuracies (0–1) of category (with the
	// abstentions of MinConfidence), type and criticality.
	CV      map[string]float64 `json:"cv"`
	Options TrainOptions       `json:"options"`
}

// HeadMeta describes one decision of the model.
type HeadMeta struct {
	Name        string   `json:"name"`
	Classes     []string `json:"classes"`
	Temperature float64  `json:"temperature"`
	// Shared are the weights of the catalogue's score for the class being
	// scored and of "the catalogue chooses it" (learned.go).
	Shared []float64 `json:"shared"`
}

// CurvePoint is one threshold of the cross-validated coverage/precision
// curve of the category decision.
type CurvePoint struct {
	Threshold float64 `json:"threshold"`
	// Coverage is the share of mail given a category (0–1).
	Coverage float64 `json:"coverage"`
	// Precision is the share of those given the right one.
	Precision float64 `json:"precision"`
	// Accuracy counts an abstention as right only when the mail is
	// labelled sin_clasificar.
	Accuracy float64 `json:"accuracy"`
}

// DefaultModel returns the embedded model, trained from the shipped corpus
// (rules/testdata, its training split) with the embedded catalogue.
func DefaultModel() (*Model, error) {
	b := embeddedModel()
	if b == nil {
		return nil, errNoModel
	}
	return ReadModel(bytes.NewReader(b))
}

// DefaultModelBytes returns the embedded model file (nil when the build
// embeds none).
func DefaultModelBytes() []byte { return embeddedModel() }

// LoadModel reads a model file.
func LoadModel(path string) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading model: %w", err)
	}
	defer f.Close()
	m, err := ReadModel(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// maxModelFeatures bounds what a model file may declare, so that a corrupt
// file fails instead of allocating gigabytes.
const (
	maxModelFeatures = 1 << 20
	maxModelClasses  = 1 << 10
	maxModelWeights  = 1 << 24 // features × classes of one decision: 64 MB
	maxModelMeta     = 1 << 20
)

var errModel = errors.New("not a mesa model file")

// ReadModel decodes a model file.
func ReadModel(r io.Reader) (*Model, error) {
	br, ok := r.(io.ByteReader)
	if !ok {
		b := bufio.NewReader(r)
		r, br = b, b
	}
	magic := make([]byte, len(modelMagic))
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != modelMagic {
		return nil, errModel
	}
	n, err := binary.ReadUvarint(br)
	if err != nil || n > maxModelMeta {
		return nil, fmt.Errorf("%w: header", errModel)
	}
	raw := make([]byte, n)
	if _, err := io.ReadFull(r, raw); err != nil {
		return nil, fmt.Errorf("%w: header: %v", errModel, err)
	}
	m := &Model{words: newStrCache[*wordEntry](wordCacheSlots)}
	if err := json.Unmarshal(raw, &m.Meta); err != nil {
		return nil, fmt.Errorf("%w: header: %v", errModel, err)
	}
	if len(m.Meta.Heads) != numHeads {
		return nil, fmt.Errorf("%w: %d decisions, want %d", errModel, len(m.Meta.Heads), numHeads)
	}
	nf, err := binary.ReadUvarint(br)
	if err != nil || nf > maxModelFeatures {
		return nil, fmt.Errorf("%w: feature count", errModel)
	}
	m.names = make([]string, nf)
	m.vocab = newHashIndex(int(nf))
	for i := range m.names {
		l, err := binary.ReadUvarint(br)
		if err != nil || l > 256 {
			return nil, fmt.Errorf("%w: feature %d", errModel, i)
		}
		b := make([]byte, l)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, fmt.Errorf("%w: feature %d: %v", errModel, i, err)
		}
		m.names[i] = string(b)
		if !m.vocab.put(featureHash(m.names[i]), int32(i)) {
			return nil, fmt.Errorf("%w: feature %q twice or a hash collision", errModel, m.names[i])
		}
	}
	for hi := range m.heads {
		hm := m.Meta.Heads[hi]
		k := len(hm.Classes)
		if hm.Name != headNames[hi] || k < 1 || k > maxModelClasses || !(hm.Temperature > 0) || int(nf)*k > maxModelWeights {
			return nil, fmt.Errorf("%w: decision %d", errModel, hi)
		}
		if len(hm.Shared) != numJoint {
			return nil, fmt.Errorf("%w: decision %s: %d shared weights, want %d", errModel, hm.Name, len(hm.Shared), numJoint)
		}
		h := head{classes: hm.Classes, k: k, bias: make([]float32, k), temp: hm.Temperature, start: make([]int32, nf+1)}
		copy(h.shared[:], hm.Shared)
		readRow := func(row []float32) error {
			cnt, err := binary.ReadUvarint(br)
			if err != nil || cnt > uint64(k) {
				return fmt.Errorf("%w: %s weights", errModel, hm.Name)
			}
			c := uint64(0)
			for j := uint64(0); j < cnt; j++ {
				d, err := binary.ReadUvarint(br)
				if err != nil {
					return fmt.Errorf("%w: %s weights", errModel, hm.Name)
				}
				c += d
				q, err := binary.ReadVarint(br)
				if err != nil || c >= uint64(k) {
					return fmt.Errorf("%w: %s weights", errModel, hm.Name)
				}
				row[c] = float32(float64(q) * quantum)
			}
			return nil
		}
		if err := readRow(h.bias); err != nil {
			return nil, err
		}
		for f := 0; f < int(nf); f++ {
			cnt, err := binary.ReadUvarint(br)
			if err != nil || cnt > uint64(k) {
				return nil, fmt.Errorf("%w: %s weights", errModel, hm.Name)
			}
			c := uint64(0)
			for j := uint64(0); j < cnt; j++ {
				d, err := binary.ReadUvarint(br)
				if err != nil || j > 0 && d == 0 {
					return nil, fmt.Errorf("%w: %s weights", errModel, hm.Name)
				}
				c += d
				q, err := binary.ReadVarint(br)
				if err != nil || c >= uint64(k) || q == 0 || q < math.MinInt16 || q > math.MaxInt16 {
					return nil, fmt.Errorf("%w: %s weights", errModel, hm.Name)
				}
				h.ent = append(h.ent, weight{uint16(c), int16(q)})
			}
			h.start[f+1] = int32(len(h.ent))
		}
		m.heads[hi] = h
	}
	if _, err := br.ReadByte(); err != io.EOF {
		return nil, fmt.Errorf("%w: trailing data", errModel)
	}
	m.rows = newFusedRows(&m.heads, int(nf))
	nb := 0
	for _, n := range m.names {
		if strings.HasPrefix(n, "b:") {
			nb++
		}
	}
	m.bigrams = newHashIndex(nb)
	for i, n := range m.names {
		if strings.HasPrefix(n, "b:") {
			m.bigrams.put(featureHash(n), int32(i))
		}
	}
	m.stack = newStackIndex(m.names, m.vocab, m.heads[headCategory].classes, m.heads[headType].classes)
	return m, nil
}

// Write encodes m; the same model always gives the same bytes.
func (m *Model) Write(w io.Writer) error {
	var buf bytes.Buffer
	buf.WriteString(modelMagic)
	meta, err := json.Marshal(m.Meta)
	if err != nil {
		return fmt.Errorf("encoding model header: %w", err)
	}
	buf.Write(binary.AppendUvarint(nil, uint64(len(meta))))
	buf.Write(meta)
	buf.Write(binary.AppendUvarint(nil, uint64(len(m.names))))
	for _, n := range m.names {
		buf.Write(binary.AppendUvarint(nil, uint64(len(n))))
		buf.WriteString(n)
	}
	var tmp []byte
	writeRow := func(row []float32) {
		tmp = tmp[:0]
		cnt, last := 0, 0
		for c, v := range row {
			q := quantize(v)
			if q == 0 {
				continue
			}
			tmp = binary.AppendUvarint(tmp, uint64(c-last))
			tmp = binary.AppendVarint(tmp, q)
			last = c
			cnt++
		}
		buf.Write(binary.AppendUvarint(nil, uint64(cnt)))
		buf.Write(tmp)
	}
	for hi := range m.heads {
		h := &m.heads[hi]
		writeRow(h.bias)
		for f := range m.names {
			tmp = tmp[:0]
			last := 0
			row := h.row(int32(f))
			for _, e := range row {
				tmp = binary.AppendUvarint(tmp, uint64(int(e.class)-last))
				tmp = binary.AppendVarint(tmp, int64(e.q))
				last = int(e.class)
			}
			buf.Write(binary.AppendUvarint(nil, uint64(len(row))))
			buf.Write(tmp)
		}
	}
	_, err = w.Write(buf.Bytes())
	return err
}

func quantize(v float32) int64 { return int64(math.Round(float64(v) / quantum)) }

// rowLen is the number of classes of the three decisions together.
func (m *Model) rowLen() int {
	return m.heads[headCategory].k + m.heads[headType].k + m.heads[headCrit].k
}

// wordTypeRows returns the features of a stem feature (-1: none) × each
// type (-1: not in the vocabulary), nil for none.
func (m *Model) wordTypeRows(uni int32) []int32 {
	s := m.stack
	if uni < s.wordLo || uni >= s.wordHi {
		return nil
	}
	out := make([]int32, len(s.wordType))
	for t := range out {
		out[t] = s.wordType[t][uni-s.wordLo]
	}
	return out
}

// Features returns the number of features of m.
func (m *Model) Features() int { return len(m.names) }

// Classes returns the classes of a decision: "category", "type" or
// "criticidad".
func (m *Model) Classes(decision string) []string {
	for i, n := range headNames {
		if n == decision {
			return append([]string(nil), m.heads[i].classes...)
		}
	}
	return nil
}

// Feature is a feature of a decision and its contribution to the chosen
// value: the feature's value times its weight.
type Feature struct {
	Name   string  `json:"name"`
	Weight float64 `json:"weight"`
}

// Candidate is a value of a decision and its calibrated probability.
type Candidate struct {
	Value       string  `json:"value"`
	Probability float64 `json:"probability"`
}

// decision is what one head says about a vector.
type decision struct {
	probs []float64 // calibrated, by class
	best  int
}

// weight is a nonzero weight of a feature: its class and its value in
// quanta.
type weight struct {
	class uint16
	q     int16
}

// weightOf returns the weight of class c in a row, in quanta, and whether
// it is nonzero. A row is sorted by class: binary search.
func weightOf(row []weight, c int) (int16, bool) {
	lo, hi := 0, len(row)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if int(row[mid].class) < c {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo < len(row) && int(row[lo].class) == c {
		return row[lo].q, true
	}
	return 0, false
}

// row returns the nonzero weights of feature f.
func (h *head) row(f int32) []weight { return h.ent[h.start[f]:h.start[f+1]] }

// setWeights stores dense weights (features × k, row-major), quantised:
// what the file will hold. Weights beyond ±128 are clipped (training
// never comes near).
func (h *head) setWeights(w []float32) {
	nf := len(w) / max(h.k, 1)
	h.start = make([]int32, nf+1)
	h.ent = h.ent[:0]
	for f := range nf {
		for c, v := range w[f*h.k : (f+1)*h.k] {
			if q := min(max(quantize(v), math.MinInt16), math.MaxInt16); q != 0 {
				h.ent = append(h.ent, weight{uint16(c), int16(q)})
			}
		}
		h.start[f+1] = int32(len(h.ent))
	}
}

func (h *head) decide(v sparse, j jointVec, logits []float64) decision {
	var stack [64]float32
	var acc []float32
	if h.k <= len(stack) {
		acc = stack[:h.k]
	} else {
		acc = make([]float32, h.k)
	}
	for jj, f := range v.idx {
		x := v.val[jj]
		for _, e := range h.ent[h.start[f]:h.start[f+1]] {
			acc[e.class] += x * float32(e.q)
		}
	}
	return h.finish(acc, j, logits)
}

// finish turns the sums of the weighted features acc (in quanta, by
// class) into the decision.
func (h *head) finish(acc []float32, j jointVec, logits []float64) decision {
	// acc is in quanta: scaling by a power of two after the sum gives the
	// same floats as summing the scaled weights.
	for c := range logits {
		logits[c] = float64(h.bias[c]) + float64(h.shared[0]*float64(j.score[c])) + float64(acc[c]*quantum)
	}
	if j.rule >= 0 {
		logits[j.rule] += h.shared[1]
	}
	d := decision{probs: logits}
	softmax(logits, h.temp)
	for c, p := range logits {
		if p > logits[d.best] {
			d.best = c
		}
	}
	return d
}

// softmax turns logits into probabilities in place, at temperature t.
func softmax(z []float64, t float64) {
	mx := math.Inf(-1)
	for _, v := range z {
		mx = max(mx, v)
	}
	sum := 0.0
	for i, v := range z {
		z[i] = math.Exp((v - mx) / t)
		sum += z[i]
	}
	for i := range z {
		z[i] /= sum
	}
}

// explain returns the top n features that pushed class c of decision hi
// up for v, largest first.
func (m *Model) explain(hi int, v sparse, jv jointVec, c, n int) []Feature {
	h := &m.heads[hi]
	out := make([]Feature, 0, n+1)
	// The name of a feature is looked up once it is among the top n: the
	// index of v (≥ 0) or -1 and -2 for the joint features, meanwhile.
	var buf [explainTop + 1]int
	which := buf[:]
	if n+1 > len(which) {
		which = make([]int, n+1)
	}
	for j := -2; j < len(v.idx); j++ {
		var w float64
		switch j {
		case -2:
			w = h.shared[0] * float64(jv.score[c])
		case -1:
			if jv.rule == c {
				w = h.shared[1]
			}
		default:
			if q, ok := weightOf(m.rows.row(hi, v.idx[j]), c); ok {
				w = float64(v.val[j] * float32(q) * quantum)
			}
		}
		if w <= 0 || len(out) == n && w <= out[n-1].Weight {
			continue
		}
		i := len(out)
		out = append(out, Feature{})
		for i > 0 && out[i-1].Weight < w {
			out[i] = out[i-1]
			which[i] = which[i-1]
			i--
		}
		out[i] = Feature{Weight: w}
		which[i] = j
		if len(out) > n {
			out = out[:n]
		}
	}
	for i := range out {
		switch j := which[i]; j {
		case -2:
			out[i].Name = "k:score"
		case -1:
			out[i].Name = "k:chosen"
		default:
			out[i].Name = m.names[v.idx[j]]
		}
		out[i].Weight = math.Round(out[i].Weight*1000) / 1000
	}
	return out
}

// candidates returns the top n classes of d for which keep is true (nil:
// all), best first.
func (h *head) candidates(d decision, n int, keep func(class int) bool) []Candidate {
	out := make([]Candidate, 0, n+1)
	for c, p := range d.probs {
		if keep != nil && !keep(c) {
			continue
		}
		if len(out) == n && p <= out[n-1].Probability {
			continue
		}
		i := len(out)
		out = append(out, Candidate{})
		for i > 0 && out[i-1].Probability < p {
			out[i] = out[i-1]
			i--
		}
		out[i] = Candidate{h.classes[c], p}
		if len(out) > n {
			out = out[:n]
		}
	}
	for i := range out {
		out[i].Probability = math.Round(out[i].Probability*1000) / 1000
	}
	return out
}
