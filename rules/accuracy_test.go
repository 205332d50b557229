package rules_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/mailin"
	"github.com/mesadeservicios/mesa/rules"
	"github.com/mesadeservicios/mesa/ticket"
)

// Evaluation discipline (docs/DESIGN-NOTES.md, "Classification"):
//
//   - The frozen test split (rules.FrozenTest: by hash of the file path,
//     about 20 %) is chosen once. Nothing is tuned on it, and nothing here
//     prints a per-mail result of it: only aggregate figures.
//   - Tuning (features, options, catalogue) looks only at cross-validation
//     on the training part, and at the persona-held-out figure computed on
//     the training part (train on every persona but one, test on that one).
//   - The shipped model (rules/modeldata/model.bin, made by make model) is trained on the training part
//     only; TestAccuracy evaluates it on the frozen test split against the
//     targets, and fails below them.
var (
	update = flag.Bool("update", false, "retrain rules/modeldata/model.bin from the shipped corpus (make model does the same)")
	eval   = flag.Bool("eval", false, "run the slow evaluation: cross-validation and persona-held-out figures")
)

// Targets of issue 14, on mail never tuned on.
const (
	targetCategory  = 0.90
	targetType      = 0.90
	targetCrit      = 0.80
	targetPrecision = 0.95
)

// labelled is one message of the corpus with its expected classification
// and, from testdata/labels2.tsv, the second labeller's (category, type,
// criticidad; empty when that file has no row for it).
type labelled struct {
	rules.LabelledMail
	msg rules.Message
	alt [3]string
}

func parseMail(raw []byte) rules.Message {
	in, _ := mailin.Parse(raw) // best effort even for broken mail
	return rules.Message{From: in.From.Email, Subject: in.Subject, Body: in.Text}
}

func loadCorpus(t testing.TB) []labelled {
	t.Helper()
	ls, msgs, err := rules.ReadCorpus(os.DirFS("testdata"), parseMail)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]labelled, len(ls))
	for i, l := range ls {
		out[i] = labelled{l, msgs[i], [3]string{l.Category2, l.Type2, l.Criticality2}}
	}
	return out
}

// split returns the training part and the frozen test part.
func split(all []labelled) (train, test []labelled) {
	for _, l := range all {
		if rules.FrozenTest(l.File) {
			test = append(test, l)
		} else {
			train = append(train, l)
		}
	}
	return train, test
}

func examples(ls []labelled) []rules.Example {
	out := make([]rules.Example, len(ls))
	for i, l := range ls {
		out[i] = l.Example(l.msg, "corpus")
	}
	return out
}

// figures are aggregate results over a set of mail: against the first
// labels (labels.tsv), and, in either, counting a decision right when it
// matches either labeller, as the agency's own evaluation does.
type figures struct {
	counts
	either counts
}

type counts struct {
	n, cat, typ, crit, covered, right int
	// top counts the model's top-1 category right, abstention or not:
	// what the ticket's candidates and triage start from.
	top int
}

func (f *figures) add(r rules.Result, l labelled) {
	f.counts.add(r, func(i int, got string) bool { return got == [3]string{l.Category, l.Type, l.Criticality}[i] })
	f.either.add(r, func(i int, got string) bool {
		return got == [3]string{l.Category, l.Type, l.Criticality}[i] || got == l.alt[i]
	})
}

// add counts one result; is(i, got) says whether got is right for the
// decision i (0 category, 1 type, 2 criticidad).
func (f *counts) add(r rules.Result, is func(i int, got string) bool) {
	f.n++
	if is(0, r.Category) {
		f.cat++
	}
	if is(1, string(r.Type)) {
		f.typ++
	}
	if is(2, string(r.Criticality)) {
		f.crit++
	}
	// An abstention on a mail labelled sin_clasificar is right; otherwise
	// below the threshold the best candidate is what triage starts from
	// (as the field sets count it).
	top := r.Category
	if r.Category == ticket.Unclassified && len(r.Candidates) > 0 {
		top = r.Candidates[0].Value
	}
	if is(0, top) || is(0, r.Category) {
		f.top++
	}
	if r.Category != ticket.Unclassified {
		f.covered++
		if is(0, r.Category) {
			f.right++
		}
	}
}

func (f *figures) merge(g figures) {
	f.counts.merge(g.counts)
	f.either.merge(g.either)
}

func (f *counts) merge(g counts) {
	f.n += g.n
	f.cat += g.cat
	f.typ += g.typ
	f.crit += g.crit
	f.covered += g.covered
	f.right += g.right
	f.top += g.top
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func (f counts) category() float64  { return ratio(f.cat, f.n) }
func (f counts) typeAcc() float64   { return ratio(f.typ, f.n) }
func (f counts) critAcc() float64   { return ratio(f.crit, f.n) }
func (f counts) coverage() float64  { return ratio(f.covered, f.n) }
func (f counts) precision() float64 { return ratio(f.right, f.covered) }
func (f counts) top1() float64      { return ratio(f.top, f.n) }

func (f counts) String() string {
	return fmt.Sprintf("%4d mails: category %5.1f %% (top-1 %5.1f %%), type %5.1f %%, criticidad %5.1f %%, coverage %5.1f %%, precision %5.1f %%",
		f.n, 100*f.category(), 100*f.top1(), 100*f.typeAcc(), 100*f.critAcc(), 100*f.coverage(), 100*f.precision())
}

func (f figures) String() string {
	return f.counts.String() + "; matching either labeller: " + f.either.String()[len("0000 mails: "):]
}

func evaluate(e *rules.Engine, ls []labelled) figures {
	var f figures
	for _, l := range ls {
		f.add(e.Classify(l.msg), l)
	}
	return f
}

func engines(t testing.TB) (plain, learned *rules.Engine) {
	t.Helper()
	e, err := rules.Default()
	if err != nil {
		t.Fatal(err)
	}
	m, err := rules.DefaultModel()
	if err != nil {
		t.Fatal(err)
	}
	return e, e.WithModel(m, 0)
}

// TestAccuracy evaluates the shipped model on the frozen test split, in
// aggregate only, against the targets; the catalogue alone is reported
// beside it.
func TestAccuracy(t *testing.T) {
	plain, learned := engines(t)
	all := loadCorpus(t)
	seen := map[string]bool{}
	for _, l := range all {
		seen[l.Category] = true
	}
	if len(seen) != len(plain.Names())+1 {
		t.Errorf("corpus covers %d keys, want every category and sin_clasificar (%d)", len(seen), len(plain.Names())+1)
	}
	_, test := split(all)
	rulesOnly, model := evaluate(plain, test), evaluate(learned, test)
	t.Logf("frozen test, catalogue rules alone: %s", rulesOnly)
	t.Logf("frozen test, learned model:         %s", model)
	// The keyword rules alone, measured on the 1,658-mail corpus:
	// category 80.1 %, type 82.8 %; on the 883-mail frozen test of the
	// fourth session, whose new mail leaves impact implicit and names
	// symptoms rather than things, 77.2 % and 82.8 %; on the fifth
	// session's 2,189, most of them realistic-mix mail, 74.3 % and 82.5 %
	// (first labels, the rules unchanged: the test mail changed). This
	// floor only keeps them from regressing; the learned model carries
	// the targets.
	if rulesOnly.category() < 0.72 || rulesOnly.typeAcc() < 0.80 {
		t.Errorf("catalogue alone below its floor (category 72 %%, type 80 %%): %s", rulesOnly)
	}
	// The shipped model's floor: the frozen-test figures it reached when
	// it was merged (issue 14, fifth session, 2,189 mails, first labels:
	// category 92.4 %, type 94.0 %, criticidad 81.1 %, precision 95.9 %;
	// the fourth session's, on 883: 88.9, 92.4, 80.5, 95.6; the third's,
	// on 556: 88.5, 91.5, 75.7, 95.6), less two or three points; below it
	// is a regression.
	if model.category() < 0.90 || model.typeAcc() < 0.92 || model.critAcc() < 0.79 || model.precision() < 0.94 {
		t.Errorf("frozen test split below the shipped model's floor (category 90 %%, type 92 %%, criticidad 79 %%, precision 94 %%): %s", model)
	}
	// The targets, read as the agency's evaluation reads them: a decision
	// is right when it matches either labeller (labels.tsv or the blind
	// labels2.tsv); the category counts an abstention (sin_clasificar)
	// right only when the mail is labelled so, and the precision is over
	// the mail given a category. Below any of them the test fails. (Until
	// the fifth session the category was read as the top-1 decision, the
	// stricter reading being only logged: see docs/DESIGN-NOTES.md.)
	e := model.either
	if e.category() < targetCategory || e.top1() < targetCategory || e.typeAcc() < targetType || e.critAcc() < targetCrit || e.precision() < targetPrecision {
		t.Errorf("frozen test split below the targets, either labeller (category ≥ %.0f %% with abstentions counted wrong, type ≥ %.0f %%, criticidad ≥ %.0f %%, precision ≥ %.0f %%): %s",
			100*targetCategory, 100*targetType, 100*targetCrit, 100*targetPrecision, e)
	}
	// The first labels alone, stricter still: logged when short.
	if model.category() < targetCategory || model.typeAcc() < targetType || model.critAcc() < targetCrit || model.precision() < targetPrecision {
		t.Logf("frozen test split below the targets against the first labels alone: %s", model)
	}
}

// TestFrozenSplit checks the split is the promised share and stable.
func TestFrozenSplit(t *testing.T) {
	all := loadCorpus(t)
	_, test := split(all)
	if share := ratio(len(test), len(all)); share < 0.17 || share > 0.26 {
		t.Errorf("frozen test split is %.1f %% of the corpus, want about 20 %%", 100*share)
	}
	for _, c := range []struct {
		file string
		want bool
	}{{"001-ti-soporte.eml", rules.FrozenTest("001-ti-soporte.eml")}} {
		if got := rules.FrozenTest(c.file); got != c.want {
			t.Errorf("FrozenTest(%q) = %v, then %v", c.file, c.want, got)
		}
	}
}

// trainShipped trains the shipped model's way: the training part of the
// corpus, the embedded catalogue, the default options.
func trainShipped(t testing.TB, trained string) (*rules.Model, []byte) {
	t.Helper()
	e, err := rules.Default()
	if err != nil {
		t.Fatal(err)
	}
	train, _ := split(loadCorpus(t))
	m, err := e.Train(examples(train), &rules.TrainOptions{Trained: trained})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := m.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return m, buf.Bytes()
}

// TestEmbeddedModelReproducible checks that the embedded model was trained
// on today's training part and catalogue (the digests in its header) and is
// at most 5 MB. That the same input gives the same bytes is
// cmd/mesa's TestRulesTrainReproducesEmbedded, which retrains it with
// `mesa rules train` (one retraining in make test, not two: it takes a
// minute and a half on this machine since the fifth session's corpus).
// With -update it retrains here and rewrites modeldata/model.bin.
func TestEmbeddedModelReproducible(t *testing.T) {
	if *update {
		start := time.Now()
		m, b := trainShipped(t, time.Now().UTC().Format(time.DateOnly))
		t.Logf("trained in %v: %s; %d bytes", time.Since(start).Round(time.Millisecond), m.Describe(), len(b))
		if err := os.WriteFile("modeldata/model.bin", b, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	m, err := rules.DefaultModel()
	if err != nil {
		t.Fatalf("embedded model: %v (run make model)", err)
	}
	e, err := rules.Default()
	if err != nil {
		t.Fatal(err)
	}
	train, _ := split(loadCorpus(t))
	if got, want := m.Meta.CorpusSHA256, rules.ExamplesDigest(examples(train)); got != want {
		t.Errorf("embedded model trained on corpus %s, the training part is %s (run make model after changing the corpus)", got, want)
	}
	if got, want := m.Meta.Catalogue, e.CatalogueDigest(); got != want {
		t.Errorf("embedded model trained with catalogue %s, the embedded catalogue is %s (run make model)", got, want)
	}
	if n := len(rules.DefaultModelBytes()); n > 5<<20 {
		t.Errorf("model is %d bytes, want ≤ 5 MB", n)
	}
}

// TestModelFile checks the model file round-trips, is at most 5 MB, and
// that corrupt files fail with an error, without a huge allocation. The
// load time (≤ 100 ms) is BenchmarkLoadModel's, in docs/BENCHMARKS.md: a
// wall-clock assertion here would fail on a loaded machine, not on a slow
// model.
func TestModelFile(t *testing.T) {
	raw := rules.DefaultModelBytes()
	if len(raw) > 5<<20 {
		t.Errorf("model is %d bytes, want ≤ 5 MB", len(raw))
	}
	m, err := rules.ReadModel(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := m.Write(&buf); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), raw) {
		t.Errorf("model written back is %d bytes, differs from the %d read", buf.Len(), len(raw))
	}
	for _, n := range []int{0, 5, 20, len(raw) / 2, len(raw) - 1} {
		if _, err := rules.ReadModel(bytes.NewReader(raw[:n])); err == nil {
			t.Errorf("model cut at %d bytes: no error", n)
		}
	}
	if _, err := rules.ReadModel(bytes.NewReader(append(bytes.Clone(raw), 0))); err == nil {
		t.Error("model with trailing data: no error")
	}
}

// TestModelDecisions checks what the model adds to a result: confidence,
// candidates, features, abstention below the threshold, priority rules
// first.
func TestModelDecisions(t *testing.T) {
	plain, learned := engines(t)
	msg := rules.Message{From: "ana@entidad.gov.co", Subject: "La impresora no imprime",
		Body: "Buenos días, la impresora del piso 3 no imprime, sale la hoja en blanco y atascada."}
	r := learned.Classify(msg)
	if r.Confidence <= 0 || r.Confidence > 1 || r.TypeConfidence <= 0 || r.CritConfidence <= 0 {
		t.Errorf("confidences %v %v %v, want in (0, 1]", r.Confidence, r.TypeConfidence, r.CritConfidence)
	}
	if len(r.Candidates) != 3 || r.Candidates[0].Probability < r.Candidates[1].Probability {
		t.Errorf("candidates %v, want three, best first", r.Candidates)
	}
	if r.Category != ticket.Unclassified && r.Candidates[0].Value != r.Category {
		t.Errorf("category %s but best candidate %s", r.Category, r.Candidates[0].Value)
	}
	for _, d := range []string{"category", "type", "criticidad"} {
		fs := r.Features[d]
		if len(fs) == 0 {
			t.Errorf("no features explain the %s", d)
		}
		for i := 1; i < len(fs); i++ {
			if fs[i].Weight > fs[i-1].Weight {
				t.Errorf("%s features not sorted: %v", d, fs)
			}
		}
	}
	if r := learned.WithModel(learned.Model(), 1.01).Classify(msg); r.Category != ticket.Unclassified {
		t.Errorf("min confidence above 1: category %s, want %s", r.Category, ticket.Unclassified)
	}
	if r := plain.Classify(msg); r.Confidence != 0 || r.Candidates != nil {
		t.Errorf("without a model: confidence %v, candidates %v; want none", r.Confidence, r.Candidates)
	}
	alert := rules.Message{From: "zabbix@entidad.gov.co", Subject: "PROBLEM: disk full", Body: "host srv-app-01"}
	if r := learned.Classify(alert); r.Category != "ti.servidores" || r.Confidence != 1 || r.Criticality != ticket.Alta {
		t.Errorf("priority rule with model: %s %v %s, want ti.servidores 1 alta", r.Category, r.Confidence, r.Criticality)
	}
}

// TestTriageCandidates: a vague mail is sin_clasificar, and its candidates
// are three categories of the catalogue, never sin_clasificar itself (a
// class of the model, which triage cannot offer).
func TestTriageCandidates(t *testing.T) {
	_, learned := engines(t)
	r := learned.Classify(rules.Message{From: "ana@entidad.gov.co", Subject: "ayuda", Body: "ayuda, lo de ayer"})
	if r.Category != ticket.Unclassified {
		t.Fatalf("vague mail: category %s, want %s", r.Category, ticket.Unclassified)
	}
	if len(r.Candidates) != 3 {
		t.Fatalf("candidates %v, want three", r.Candidates)
	}
	for i, c := range r.Candidates {
		if _, ok := learned.Category(c.Value); !ok {
			t.Errorf("candidate %d: %q is not a category of the catalogue", i, c.Value)
		}
		if c.Probability <= 0 || c.Probability > 1 || i > 0 && c.Probability > r.Candidates[i-1].Probability {
			t.Errorf("candidate %d: probability %v, want in (0, 1], best first: %v", i, c.Probability, r.Candidates)
		}
	}
}

// TestTrainDeterministic trains twice, examples in two orders, and wants
// the same bytes; and checks bad labels are refused.
func TestTrainDeterministic(t *testing.T) {
	e, err := rules.Default()
	if err != nil {
		t.Fatal(err)
	}
	train, _ := split(loadCorpus(t))
	train = train[:min(len(train), 120)]
	exs := examples(train)
	rev := make([]rules.Example, len(exs))
	for i := range exs {
		rev[len(exs)-1-i] = exs[i]
	}
	opt := &rules.TrainOptions{Epochs: 3, Trained: "2026-01-02"}
	var out [2]bytes.Buffer
	for i, in := range [][]rules.Example{exs, rev} {
		m, err := e.Train(in, opt)
		if err != nil {
			t.Fatal(err)
		}
		m.Write(&out[i])
	}
	if !bytes.Equal(out[0].Bytes(), out[1].Bytes()) {
		t.Errorf("same examples in another order: %d bytes vs %d, differ", out[0].Len(), out[1].Len())
	}
	bad := append(exs[:10:10], rules.Example{Category: "ti.nada", Type: "x"})
	if _, err := e.Train(bad, opt); err == nil || !strings.Contains(err.Error(), "ti.nada") {
		t.Errorf("training on an unknown category: err %v, want it named", err)
	}
}

// TestEvaluate prints the figures of docs/DESIGN-NOTES.md: cross-validated
// (5 folds of the training part) and persona-held-out (on the training
// part), for the catalogue alone and the learned model, and the frozen
// test figures once, in aggregate. Slow: go test ./rules -run TestEvaluate -eval -v
func TestEvaluate(t *testing.T) {
	if !*eval {
		t.Skip("slow: run with -eval")
	}
	plain, learned := engines(t)
	all := loadCorpus(t)
	train, test := split(all)
	const folds = 5
	var cvRules, cvModel figures
	for f := 0; f < folds; f++ {
		var in, out []labelled
		for i, l := range train {
			if i%folds == f {
				out = append(out, l)
			} else {
				in = append(in, l)
			}
		}
		m, err := plain.Train(examples(in), nil)
		if err != nil {
			t.Fatal(err)
		}
		cvRules.merge(evaluate(plain, out))
		cvModel.merge(evaluate(plain.WithModel(m, 0), out))
	}
	t.Logf("cross-validated (%d folds, training part), rules alone: %s", folds, cvRules)
	t.Logf("cross-validated (%d folds, training part), model:       %s", folds, cvModel)

	personas := map[string][]labelled{}
	for _, l := range train {
		personas[l.Persona] = append(personas[l.Persona], l)
	}
	names := make([]string, 0, len(personas))
	for p := range personas {
		names = append(names, p)
	}
	sort.Strings(names)
	if len(names) < 2 {
		t.Logf("persona-held-out: one persona only (%v), nothing to hold out", names)
	} else {
		var phRules, phModel figures
		for _, p := range names {
			var in []labelled
			for _, l := range train {
				if l.Persona != p {
					in = append(in, l)
				}
			}
			m, err := plain.Train(examples(in), nil)
			if err != nil {
				t.Fatal(err)
			}
			fr, fm := evaluate(plain, personas[p]), evaluate(plain.WithModel(m, 0), personas[p])
			phRules.merge(fr)
			phModel.merge(fm)
			t.Logf("persona-held-out %-12s rules: %s", p, fr)
			t.Logf("persona-held-out %-12s model: %s", p, fm)
		}
		t.Logf("persona-held-out, all, rules alone: %s", phRules)
		t.Logf("persona-held-out, all, model:       %s", phModel)
	}
	m := learned.Model()
	t.Logf("shipped model: %s", m.Describe())
	for _, p := range m.Meta.Curve {
		t.Logf("cv curve: threshold %.2f coverage %5.1f %% precision %5.1f %% accuracy %5.1f %%", p.Threshold, 100*p.Coverage, 100*p.Precision, 100*p.Accuracy)
	}
	t.Logf("frozen test (aggregate), rules alone: %s", evaluate(plain, test))
	t.Logf("frozen test (aggregate), model:       %s", evaluate(learned, test))
}
