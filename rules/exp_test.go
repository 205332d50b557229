// The experiment harness of docs/DESIGN-NOTES.md ("What was tried"): 5-fold,
// persona-held-out or writer-held-out (-exp writer: each writer's batch in
// one of 5 folds) cross-validation of the three decisions on the
// TRAINING part of the corpus only (the rules.FrozenTest mails are
// dropped as the corpus is read), with per-decision confusion matrices;
// -exp show writes the misclassified training mails (type and
// criticidad), -exp dump all of them, to files in the temporary
// directory. Each decision is scored against the labels as written: the
// first labeller's (labels.tsv), either labeller's (labels.tsv or
// labels2.tsv, as the agency's evaluation counts), the second's.
//
// Knobs (environment): SEED, PRUNE, RATE, EPOCHS, L2; CAT_DROP, TYPE_DROP, CRIT_DROP
// (feature prefixes a decision does not read), CAT_MINDF, TYPE_MINDF,
// CRIT_MINDF, CRIT_READ (prefixes the criticidad reads too), CRIT_BIASGRID
// (the criticidad under a grid of class shifts), CRIT_L2,
// CRIT_RATE, CRIT_EPOCHS, RENORM (norm of the words of type and
// criticidad); MIX=c,t,k (share of the second label where the two
// differ; rules.Examples already gives the original persona's
// criticidad the second labeller's reading), ORIG_W=c,t,k (weight of the
// original persona), CLASSW (criticidad class weights, power);
// PERSONAS=1 prints the figures per persona; BASELINE=1 (with
// MIX=0,0,0) the model before the third session.

package rules

import (
	"crypto/sha256"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/mesadeservicios/mesa/mailin"
)

var expFlag = flag.String("exp", "", "experiment: cv, persona, writer, show")

func expTrain(t testing.TB) ([]LabelledMail, []Example) {
	ls, msgs, err := ReadCorpus(os.DirFS("testdata"), func(raw []byte) Message {
		in, _ := mailin.Parse(raw)
		return Message{From: in.From.Email, Subject: in.Subject, Body: in.Text}
	})
	if err != nil {
		t.Fatal(err)
	}
	var tl []LabelledMail
	var tm []Message
	for i, l := range ls {
		if !FrozenTest(l.File) { // the training part only
			tl = append(tl, l)
			tm = append(tm, msgs[i])
		}
	}
	return tl, Examples(tl, tm, "corpus")
}

// knob reads the experiment knob name into ptr when it is set.
func knob(name string, ptr any) {
	if v := os.Getenv(name); v != "" {
		fmt.Sscan(v, ptr)
	}
}

func TestExperiment(t *testing.T) {
	if *expFlag == "" {
		t.Skip()
	}
	// BASELINE=1: the model before the third session (no words × type,
	// no cue negations, the original persona's first criticidad labels,
	// no second labels in training: with MIX=0,0,0).
	baseline := os.Getenv("BASELINE") != ""
	expNoWordType, expNoCueNegations = baseline || os.Getenv("NOWT") != "", baseline || os.Getenv("NOCUENEG") != ""
	defer func() { expNoWordType, expNoCueNegations = false, false }()
	e, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	ls, exs := expTrain(t)
	if baseline || os.Getenv("ORIG1") != "" {
		for i, l := range ls {
			exs[i].Criticality, exs[i].Criticality2 = l.Criticality, l.Criticality2
		}
	}
	o := (&TrainOptions{}).defaults()
	knob("SEED", &o.Seed)
	knob("RATE", &o.Rate)
	knob("EPOCHS", &o.Epochs)
	knob("L2", &o.L2)
	knob("PRUNE", &o.Prune)
	// keep the pairing with labels: find each sorted example's label by
	// its text
	sorted, _ := sortExamples(exs)
	byMsg := map[string]LabelledMail{}
	for i, ex := range exs {
		byMsg[ex.Message.Subject+"\x00"+ex.Message.Body] = ls[i]
	}
	set, vocab := e.forTraining().buildSet(sorted, o.MinDF)
	// MIX=0,0.5,0.5: how much of the second label each decision learns
	// where the two labellers differ.
	if v := os.Getenv("MIX"); v != "" {
		for hi, f := range strings.Split(v, ",") {
			fmt.Sscan(f, &set.mix[hi])
		}
	}
	if v := os.Getenv("CRIT_READ"); v != "" {
		// the criticidad also reads these prefixes (b:, c:)
		for i, n := range vocab {
			for _, p := range strings.Split(v, ",") {
				if strings.HasPrefix(n, p) {
					set.critSkip[i] = false
				}
			}
		}
	}
	pers := make([]string, len(sorted))
	for i, ex := range sorted {
		pers[i] = byMsg[ex.Message.Subject+"\x00"+ex.Message.Body].Persona
	}
	// Example weights per decision: ORIG_W=cat,type,crit weighs the
	// original persona; CLASSW=1 balances the criticidad's classes.
	if v := os.Getenv("ORIG_W"); v != "" {
		for hi, f := range strings.Split(v, ",") {
			var w float64
			fmt.Sscan(f, &w)
			if w == 1 {
				continue
			}
			wt := set.weights(hi)
			for i := range sorted {
				if pers[i] == "original" {
					wt[i] *= w
				}
			}
		}
	}
	// MIXW=w: the realistic-mix batches (MIXP) weigh w in every decision.
	if v := os.Getenv("MIXW"); v != "" {
		var w float64
		fmt.Sscan(v, &w)
		realistic := realisticBatches()
		for hi := range numHeads {
			wt := set.weights(hi)
			for i := range sorted {
				if realistic[batchOf(pers[i])] {
					wt[i] *= w
				}
			}
		}
	}
	if os.Getenv("CLASSW") != "" {
		hi := headCrit
		n := make([]float64, len(set.classes[hi]))
		for _, y := range set.ys[hi] {
			n[y]++
		}
		wt := set.weights(hi)
		var pw float64
		fmt.Sscan(os.Getenv("CLASSW"), &pw)
		for i, y := range set.ys[hi] {
			wt[i] *= math.Pow(float64(len(sorted))/float64(len(n))/n[y], pw)
		}
	}
	drop := map[int][]string{}
	for hi, env := range []string{"CAT_DROP", "TYPE_DROP", "CRIT_DROP"} {
		if v := os.Getenv(env); v != "" {
			drop[hi] = strings.Split(v, ",")
		}
	}
	df := make([]int, len(vocab))
	for _, x := range set.xs {
		for _, f := range x.idx {
			df[f]++
		}
	}
	minDF := map[int]int{}
	for hi, env := range []string{"CAT_MINDF", "TYPE_MINDF", "CRIT_MINDF"} {
		if v := os.Getenv(env); v != "" {
			var n int
			fmt.Sscan(v, &n)
			minDF[hi] = n
		}
	}
	filter := func(hi int) {
		if len(drop[hi]) == 0 && minDF[hi] == 0 {
			return
		}
		xs := make([]sparse, len(set.xh[hi]))
		for i, x := range set.xh[hi] {
			var nx sparse
			for j, f := range x.idx {
				keep := !strings.HasPrefix(vocab[f], "s:") && df[f] >= minDF[hi] || strings.HasPrefix(vocab[f], "s:")
				for _, p := range drop[hi] {
					if strings.HasPrefix(vocab[f], p) {
						keep = false
					}
				}
				if keep {
					nx.idx = append(nx.idx, f)
					nx.val = append(nx.val, x.val[j])
				}
			}
			xs[i] = nx
		}
		set.xh[hi] = xs
	}
	var folds []int
	if *expFlag == "persona" {
		pn := map[string]int{}
		for _, ex := range sorted {
			p := byMsg[ex.Message.Subject+"\x00"+ex.Message.Body].Persona
			if _, ok := pn[p]; !ok {
				pn[p] = len(pn)
			}
			folds = append(folds, pn[p])
		}
	} else if *expFlag == "writer" {
		folds = writerFolds(pers, o.Folds)
	} else {
		folds = foldsOf(sorted, set.ys[headCategory], o.Folds)
	}
	var oof [numHeads][][]float64
	var probs [numHeads][][]float64
	for hi := range numHeads {
		set.chain(hi, probs)
		filter(hi)
		if v := os.Getenv("RENORM"); v != "" && hi != headCategory {
			// rescale the w: features of type/crit to norm v
			var target float64
			fmt.Sscan(v, &target)
			for i, x := range set.xh[hi] {
				n := 0.0
				for j, f := range x.idx {
					if strings.HasPrefix(vocab[f], "w:") {
						n += float64(x.val[j] * x.val[j])
					}
				}
				if n == 0 {
					continue
				}
				sc := float32(target / math.Sqrt(n))
				nx := sparse{idx: append([]int32(nil), x.idx...), val: append([]float32(nil), x.val...)}
				for j, f := range nx.idx {
					if strings.HasPrefix(vocab[f], "w:") {
						nx.val[j] *= sc
					}
				}
				set.xh[hi][i] = nx
			}
		}
		oh := o
		if hi == headCrit {
			knob("CRIT_L2", &oh.L2)
			knob("CRIT_RATE", &oh.Rate)
			knob("CRIT_EPOCHS", &oh.Epochs)
		}
		oof[hi] = crossValidate(set, hi, folds, oh)
		tt := fitTemperature(oof[hi], set.ys[hi])
		probs[hi] = make([][]float64, len(oof[hi]))
		for i, z := range oof[hi] {
			p := append([]float64(nil), z...)
			softmax(p, tt)
			probs[hi][i] = p
		}
	}
	for hi := range numHeads {
		k := len(set.classes[hi])
		conf := make([][]int, k)
		for c := range conf {
			conf[c] = make([]int, k)
		}
		// scored against the labels as written (labels.tsv, labels2.tsv),
		// whatever the training made of them
		ok, either, ok2, n := 0, 0, 0, 0
		l1s, l2s := make([]string, len(oof[hi])), make([]string, len(oof[hi]))
		for i, z := range oof[hi] {
			y := set.ys[hi][i]
			if y < 0 {
				continue
			}
			p := argmax(z)
			l := byMsg[sorted[i].Message.Subject+"\x00"+sorted[i].Message.Body]
			l1 := [numHeads]string{l.Category, l.Type, l.Criticality}[hi]
			l2 := [numHeads]string{l.Category2, l.Type2, l.Criticality2}[hi]
			l1s[i], l2s[i] = l1, l2
			got := set.classes[hi][p]
			n++
			if got == l1 {
				ok++
			}
			if got == l1 || got == l2 {
				either++
			}
			if got == l2 || l2 == "" && got == l1 {
				ok2++
			}
			conf[y][p]++
		}
		if hi == headCrit && os.Getenv("CRIT_BIASGRID") != "" {
			// the either-label criticidad with a shift b added to each
			// class's log-probability (the first class's stays 0)
			score := func(b []float64) float64 {
				r := 0
				for i, p := range probs[hi] {
					if set.ys[hi][i] < 0 {
						continue
					}
					best, bv := 0, math.Inf(-1)
					for c, q := range p {
						if v := math.Log(q+1e-12) + b[c]; v > bv {
							best, bv = c, v
						}
					}
					if got := set.classes[hi][best]; got == l1s[i] || got == l2s[i] {
						r++
					}
				}
				return 100 * float64(r) / float64(n)
			}
			for _, b1 := range []float64{-0.6, -0.3, 0, 0.3, 0.6} {
				var row []string
				for _, b2 := range []float64{-0.6, -0.3, 0, 0.3, 0.6} {
					row = append(row, fmt.Sprintf("%.1f", score([]float64{0, b1, b2})))
				}
				fmt.Printf("  bias %s %+.1f, %s -0.6..0.6: %s\n", set.classes[hi][1], b1, set.classes[hi][2], strings.Join(row, " "))
			}
		}
		fmt.Printf("%s: %.1f %% (%d), either label %.1f %%, second label %.1f %%\n", headNames[hi], 100*float64(ok)/float64(n), n, 100*float64(either)/float64(n), 100*float64(ok2)/float64(n))
		if os.Getenv("PERSONAS") != "" {
			pok, pn := map[string]int{}, map[string]int{}
			for i, z := range oof[hi] {
				pn[pers[i]]++
				if argmax(z) == set.ys[hi][i] {
					pok[pers[i]]++
				}
			}
			var ps []string
			for p := range pn {
				ps = append(ps, fmt.Sprintf("%s %.1f", p, 100*float64(pok[p])/float64(pn[p])))
			}
			sort.Strings(ps)
			fmt.Printf("  by persona: %s\n", strings.Join(ps, ", "))
			fmt.Printf("  without original: %.1f %%\n", 100*float64(ok-pok["original"])/float64(n-pn["original"]))
		}
		if hi == headCategory && o.Prune > 0 {
			all := make([]int, len(sorted))
			for i := range all {
				all[i] = i
			}
			w, _, _ := trainHead(set, hi, all, o)
			nz := 0
			for _, v := range w {
				if v != 0 {
					nz++
				}
			}
			fmt.Printf("  pruned at %g: %d of %d weights left\n", o.Prune, nz, len(w))
		}
		if hi != headCategory {
			fmt.Printf("  classes %v; rows true, cols predicted: %v\n", set.classes[hi], conf)
		}
	}
	// category at thresholds
	t0 := fitTemperature(oof[headCategory], set.ys[headCategory])
	for i := range oof[headCategory] {
		softmax(oof[headCategory][i], t0)
	}
	// either label: the second labeller's category counts too
	ys2 := make([]int, len(sorted))
	for i, y := range set.ys[headCategory] {
		ys2[i] = y
		if a := set.alt[headCategory][i]; a >= 0 && a != y {
			ys2[i] = a
		}
	}
	unclass := slices.Index(set.classes[headCategory], "sin_clasificar")
	c2 := curve(oof[headCategory], ys2, unclass)
	for g, p := range curve(oof[headCategory], set.ys[headCategory], unclass) {
		if int(p.Threshold*40)%4 == 0 || p.Threshold == 0.625 || p.Threshold == 0.675 || p.Threshold == 0.725 {
			// the second-label curve counts a mail right when it matches
			// the second label; either = right by one or the other
			either := 0.0
			if p.Coverage > 0 {
				either = p.Precision + c2[g].Precision - eitherBoth(oof[headCategory], set.ys[headCategory], ys2, unclass, p.Threshold)
			}
			fmt.Printf("  t %.3f cov %.3f prec %.3f acc %.3f  either-label prec %.3f\n", p.Threshold, p.Coverage, p.Precision, p.Accuracy, either)
		}
	}
	if os.Getenv("CATERR") != "" {
		// the category errors, most frequent confusions first, with the mail
		pairs := map[string][]string{}
		for i, p := range oof[headCategory] {
			y, c := set.ys[headCategory][i], argmax(p)
			if y == c || c == ys2[i] {
				continue
			}
			l := byMsg[sorted[i].Message.Subject+"\x00"+sorted[i].Message.Body]
			key := set.classes[headCategory][y] + " → " + set.classes[headCategory][c]
			body := oneLine(sorted[i].Message.Body, 300)
			pairs[key] = append(pairs[key], fmt.Sprintf("  %.2f %s %s | %s | %s", p[c], pers[i], l.File, sorted[i].Message.Subject, body))
		}
		keys := sortedKeys(pairs)
		sort.SliceStable(keys, func(a, b int) bool { return len(pairs[keys[a]]) > len(pairs[keys[b]]) })
		var out []string
		for _, k := range keys {
			out = append(out, fmt.Sprintf("%d %s", len(pairs[k]), k))
			out = append(out, pairs[k]...)
		}
		os.WriteFile(filepath.Join(os.TempDir(), "cat-errors.txt"), []byte(strings.Join(out, "\n")), 0o644)
	}
	if os.Getenv("CONF") != "" {
		confExperiment(oof, set, ys2, folds, unclass)
	}
	if v := os.Getenv("PRIOR"); v != "" {
		priorExperiment(v, oof[headCategory], set.ys[headCategory], ys2, pers, set.classes[headCategory], unclass)
	}
	for _, hi := range []int{headType, headCrit} {
		if *expFlag != "show" {
			break
		}
		var lines []string
		for i, z := range oof[hi] {
			y, p := set.ys[hi][i], argmax(z)
			if y == p {
				continue
			}
			ex := sorted[i]
			l := byMsg[ex.Message.Subject+"\x00"+ex.Message.Body]
			body := oneLine(ex.Message.Body, 400)
			lines = append(lines, fmt.Sprintf("[%s→%s] %s %s %s | %s | %s", set.classes[hi][y], set.classes[hi][p], l.File, l.Category, l.Type, ex.Message.Subject, body))
		}
		sort.Strings(lines)
		name := map[int]string{headType: "type-errors.txt", headCrit: "crit-errors.txt"}[hi]
		os.WriteFile(filepath.Join(os.TempDir(), name), []byte(strings.Join(lines, "\n")), 0o644)
	}
}

// eitherBoth is the share of covered mail right by both label lists (so
// either = p1 + p2 − both).
func eitherBoth(probs [][]float64, ys, ys2 []int, unclass int, t float64) float64 {
	covered, both := 0, 0
	for i, p := range probs {
		c := argmax(p)
		if c != unclass && p[c] >= t {
			covered++
			if c == ys[i] && c == ys2[i] {
				both++
			}
		}
	}
	if covered == 0 {
		return 0
	}
	return float64(both) / float64(covered)
}

func TestDumpTrain(t *testing.T) {
	if *expFlag != "dump" {
		t.Skip()
	}
	ls, exs := expTrain(t)
	var lines []string
	for i, ex := range exs {
		body := oneLine(ex.Message.Body, 500)
		lines = append(lines, fmt.Sprintf("%s %s %s %s | %s | %s", ls[i].Type, ls[i].Criticality, ls[i].Persona, ls[i].File, ex.Message.Subject, body))
	}
	os.WriteFile(filepath.Join(os.TempDir(), "train.txt"), []byte(strings.Join(lines, "\n")), 0o644)
}

// priorExperiment (PRIOR=τ1,τ2,…; MIXP=batch prefixes of the realistic-mix
// personas, default w17,w18,w19; PRIOR_ALPHA smoothing): the category's
// out-of-fold probabilities times (q/p)^τ, p the training part's class
// shares, q those of the realistic-mix batches other than the mail's own;
// scored on the realistic-mix mail and on the rest.
func priorExperiment(taus string, probs [][]float64, ys, ys2 []int, pers, classes []string, unclass int) {
	alpha := 1.0
	knob("PRIOR_ALPHA", &alpha)
	realistic := realisticBatches()
	k := len(classes)
	pTrain := make([]float64, k)
	qBy := map[string][]float64{} // batch → class counts
	qAll := make([]float64, k)
	for i, y := range ys {
		pTrain[y]++
		if b := batchOf(pers[i]); realistic[b] {
			if qBy[b] == nil {
				qBy[b] = make([]float64, k)
			}
			qBy[b][y]++
			qAll[y]++
		}
	}
	norm := func(c []float64, a float64) []float64 {
		out := make([]float64, k)
		s := 0.0
		for _, v := range c {
			s += v + a
		}
		for i, v := range c {
			out[i] = (v + a) / s
		}
		return out
	}
	pT := norm(pTrain, 0)
	qFor := map[string][]float64{"": norm(qAll, alpha)}
	for b := range qBy {
		c := make([]float64, k)
		for ob, oc := range qBy {
			if ob != b {
				for j := range c {
					c[j] += oc[j]
				}
			}
		}
		qFor[b] = norm(c, alpha)
	}
	for _, ts := range strings.Split(taus, ",") {
		var tau float64
		fmt.Sscan(ts, &tau)
		var rp, op [][]float64
		var ry, ry2, oy, oy2 []int
		for i, p := range probs {
			b := batchOf(pers[i])
			q := qFor[""]
			if realistic[b] {
				q = qFor[b]
			}
			np := make([]float64, k)
			s := 0.0
			for c := range p {
				np[c] = p[c] * math.Pow(q[c]/pT[c], tau)
				s += np[c]
			}
			for c := range np {
				np[c] /= s
			}
			if realistic[b] {
				rp, ry, ry2 = append(rp, np), append(ry, ys[i]), append(ry2, ys2[i])
			} else {
				op, oy, oy2 = append(op, np), append(oy, ys[i]), append(oy2, ys2[i])
			}
		}
		for _, part := range []struct {
			name  string
			p     [][]float64
			y, y2 []int
		}{{"realistic", rp, ry, ry2}, {"other", op, oy, oy2}} {
			c := curve(part.p, part.y, unclass)
			th := chooseThreshold(c, 0.95)
			at, c65 := pointAt(c, th), pointAt(c, 0.65)
			fmt.Printf("prior τ %.2f %s (%d): top-1 %.1f %%; at 0.65 cov %.1f prec %.1f acc %.1f; at 95 %% (t %.3f) cov %.1f prec %.1f acc %.1f\n",
				tau, part.name, len(part.y), 100*accuracyOf(part.p, part.y), 100*c65.Coverage, 100*c65.Precision, 100*c65.Accuracy, th, 100*at.Coverage, 100*at.Precision, 100*at.Accuracy)
		}
	}
}

// confExperiment (CONF=1): a second-stage estimate of "the category is
// right" from the decision's own numbers (top probability, margin,
// entropy, whether the catalogue alone agrees, the type's and
// criticidad's confidence), fitted by logistic regression on the
// out-of-fold probabilities of the other folds; the coverage at 95 %
// precision with it as the confidence, against the top probability.
func confExperiment(oof [numHeads][][]float64, set *trainSet, ys2, folds []int, unclass int) {
	n := len(oof[headCategory])
	feats := make([][]float64, n)
	right := make([]float64, n)
	for i := range n {
		p := oof[headCategory][i]
		c := argmax(p)
		p1, p2 := p[c], 0.0
		h := 0.0
		for j, v := range p {
			if j != c && v > p2 {
				p2 = v
			}
			if v > 0 {
				h -= v * math.Log(v)
			}
		}
		agree := 0.0
		if set.js[headCategory][i].rule == c {
			agree = 1
		}
		none := 0.0
		if set.js[headCategory][i].rule < 0 {
			none = 1
		}
		tp := oof[headType][i]
		tm := tp[argmax(tp)]
		lo := math.Log(max(p1, 1e-9) / max(1-p1, 1e-9))
		feats[i] = []float64{1, lo, p1 - p2, h, agree, none, agree * lo, math.Log(max(tm, 1e-9) / max(1-tm, 1e-9)), float64(len(set.xs[i].idx)) / 100}
		if c == set.ys[headCategory][i] || c == ys2[i] {
			right[i] = 1
		}
	}
	nfold := 0
	for _, f := range folds {
		nfold = max(nfold, f+1)
	}
	score := make([]float64, n)
	for f := range nfold {
		w := make([]float64, len(feats[0]))
		g2 := make([]float64, len(w))
		for ep := 0; ep < 200; ep++ {
			grad := make([]float64, len(w))
			for i := range n {
				if folds[i] == f {
					continue
				}
				z := 0.0
				for j, x := range feats[i] {
					z += w[j] * x
				}
				d := 1/(1+math.Exp(-z)) - right[i]
				for j, x := range feats[i] {
					grad[j] += d * x
				}
			}
			for j := range w {
				g2[j] += grad[j] * grad[j]
				w[j] -= 0.5 * grad[j] / (math.Sqrt(g2[j]) + 1e-9)
			}
		}
		for i := range n {
			if folds[i] != f {
				continue
			}
			z := 0.0
			for j, x := range feats[i] {
				z += w[j] * x
			}
			score[i] = 1 / (1 + math.Exp(-z))
		}
	}
	report := func(name string, conf []float64) {
		idx := make([]int, 0, n)
		for i := range n {
			if argmax(oof[headCategory][i]) != unclass {
				idx = append(idx, i)
			}
		}
		sort.Slice(idx, func(a, b int) bool { return conf[idx[a]] > conf[idx[b]] })
		ok, best := 0.0, 0
		for k, i := range idx {
			ok += right[i]
			if ok/float64(k+1) >= 0.95 {
				best = k + 1
			}
		}
		okb := 0.0
		for _, i := range idx[:best] {
			okb += right[i]
		}
		fmt.Printf("conf %s: at 95 %% precision coverage %.1f %% (%d of %d), accuracy (abst. wrong) %.1f %%\n", name, 100*float64(best)/float64(n), best, n, 100*okb/float64(n))
	}
	top := make([]float64, n)
	for i := range n {
		top[i] = oof[headCategory][i][argmax(oof[headCategory][i])]
	}
	report("top probability", top)
	report("second stage", score)
}

// realisticBatches are the batches of realistic-mix mail, MIXP (batch
// prefixes, default w17,w18,w19).
func realisticBatches() map[string]bool {
	mixp := "w17,w18,w19"
	knob("MIXP", &mixp)
	out := map[string]bool{}
	for _, b := range strings.Split(mixp, ",") {
		out[b] = true
	}
	return out
}

// batchOf is the batch of a persona ("w17-comunicaciones": "w17").
func batchOf(persona string) string {
	b, _, _ := strings.Cut(persona, "-")
	return b
}

// weights are decision hi's example weights, all 1 until a knob changes
// them.
func (s *trainSet) weights(hi int) []float64 {
	if s.wt[hi] == nil {
		s.wt[hi] = make([]float64, len(s.ys[hi]))
		for i := range s.wt[hi] {
			s.wt[hi][i] = 1
		}
	}
	return s.wt[hi]
}

// oneLine is body cleaned, on one line, cut at n bytes.
func oneLine(body string, n int) string {
	b := strings.Join(strings.Fields(Clean(body)), " ")
	if len(b) > n {
		b = b[:n]
	}
	return b
}

// pointAt is curve c's point at threshold t (the zero point when c has
// none).
func pointAt(c []CurvePoint, t float64) CurvePoint {
	for _, p := range c {
		if math.Abs(p.Threshold-t) < 1e-9 {
			return p
		}
	}
	return CurvePoint{}
}

// writerFolds puts each writer's batch (all its personas) in one of k
// folds: largest batch first (ties by the SHA-256 of their names), each to
// the fold with the fewest mails so far. A writer's conventions (what it
// calls alta, how it words a request) then never straddle a fold, as
// they never straddle the field sets.
func writerFolds(pers []string, k int) []int {
	size := map[string]int{}
	for _, p := range pers {
		size[batchOf(p)]++
	}
	var bs []string
	for b := range size {
		bs = append(bs, b)
	}
	h := func(b string) string { s := sha256.Sum256([]byte(b)); return string(s[:]) }
	sort.Slice(bs, func(i, j int) bool {
		if size[bs[i]] != size[bs[j]] {
			return size[bs[i]] > size[bs[j]]
		}
		return h(bs[i]) < h(bs[j])
	})
	// greedy: each batch to the fold with the fewest mails so far
	load := make([]int, k)
	fold := map[string]int{}
	for _, b := range bs {
		f := slices.Index(load, slices.Min(load))
		fold[b] = f
		load[f] += size[b]
	}
	out := make([]int, len(pers))
	for i, p := range pers {
		out[i] = fold[batchOf(p)]
	}
	return out
}
