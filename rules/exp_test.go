// The experiment harness of docs/DESIGN-NOTES.md ("What was tried"): 5-fold
// or persona-held-out cross-validation of the three decisions on the
// TRAINING part of the corpus only (the rules.FrozenTest mails are
// dropped as the corpus is read), with per-decision confusion matrices;
// -exp show writes the misclassified training mails, -exp dump all of
// them, to files in the temporary directory.

package rules

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/mesadeservicios/mesa/mailin"
)

var expFlag = flag.String("exp", "", "experiment: cv, persona, show")

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

func TestExperiment(t *testing.T) {
	if *expFlag == "" {
		t.Skip()
	}
	e, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	ls, exs := expTrain(t)
	o := (&TrainOptions{}).defaults()
	if v := os.Getenv("PRUNE"); v != "" {
		fmt.Sscan(v, &o.Prune)
	}
	// keep the pairing with labels: find each sorted example's label by
	// its text
	sorted, _ := sortExamples(exs)
	byMsg := map[string]LabelledMail{}
	for i, ex := range exs {
		byMsg[ex.Message.Subject+"\x00"+ex.Message.Body] = ls[i]
	}
	set, vocab := e.forTraining().buildSet(sorted, o.MinDF)
	drop := map[int][]string{}
	for hi, env := range []string{"CAT_DROP", "TYPE_DROP", "CRIT_DROP"} {
		if v := os.Getenv(env); v != "" {
			drop[hi] = strings.Split(v, ",")
		}
	}
	filter := func(hi int) {
		if len(drop[hi]) == 0 {
			return
		}
		xs := make([]sparse, len(set.xh[hi]))
		for i, x := range set.xh[hi] {
			var nx sparse
			for j, f := range x.idx {
				keep := true
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
	} else {
		folds = foldsOf(sorted, set.ys[headCategory], o.Folds)
	}
	var oof [numHeads][][]float64
	var probs [numHeads][][]float64
	for hi := range numHeads {
		set.chain(hi, probs)
		filter(hi)
		oh := o
		if hi == headCrit {
			if v := os.Getenv("CRIT_L2"); v != "" {
				fmt.Sscan(v, &oh.L2)
			}
			if v := os.Getenv("CRIT_RATE"); v != "" {
				fmt.Sscan(v, &oh.Rate)
			}
			if v := os.Getenv("CRIT_EPOCHS"); v != "" {
				fmt.Sscan(v, &oh.Epochs)
			}
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
		ok, n := 0, 0
		for i, z := range oof[hi] {
			y := set.ys[hi][i]
			if y < 0 {
				continue
			}
			p := argmax(z)
			n++
			if p == y {
				ok++
			}
			conf[y][p]++
		}
		fmt.Printf("%s: %.1f %% (%d)\n", headNames[hi], 100*float64(ok)/float64(n), n)
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
	for _, p := range curve(oof[headCategory], set.ys[headCategory], slicesIndex(set.classes[headCategory], "sin_clasificar")) {
		if int(p.Threshold*40)%4 == 0 {
			fmt.Printf("  t %.2f cov %.3f prec %.3f acc %.3f\n", p.Threshold, p.Coverage, p.Precision, p.Accuracy)
		}
	}
	if *expFlag == "show" {
		hi := headCrit
		var lines []string
		for i, z := range oof[hi] {
			y, p := set.ys[hi][i], argmax(z)
			if y == p {
				continue
			}
			ex := sorted[i]
			l := byMsg[ex.Message.Subject+"\x00"+ex.Message.Body]
			body := strings.Join(strings.Fields(Clean(ex.Message.Body)), " ")
			if len(body) > 400 {
				body = body[:400]
			}
			lines = append(lines, fmt.Sprintf("[%s→%s] %s %s %s | %s | %s", set.classes[hi][y], set.classes[hi][p], l.File, l.Category, l.Type, ex.Message.Subject, body))
		}
		sort.Strings(lines)
		os.WriteFile(filepath.Join(os.TempDir(), "crit-errors.txt"), []byte(strings.Join(lines, "\n")), 0o644)
	}
}

func slicesIndex(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

func TestDumpTrain(t *testing.T) {
	if *expFlag != "dump" {
		t.Skip()
	}
	ls, exs := expTrain(t)
	var lines []string
	for i, ex := range exs {
		body := strings.Join(strings.Fields(Clean(ex.Message.Body)), " ")
		if len(body) > 500 {
			body = body[:500]
		}
		lines = append(lines, fmt.Sprintf("%s %s %s %s | %s | %s", ls[i].Type, ls[i].Criticality, ls[i].Persona, ls[i].File, ex.Message.Subject, body))
	}
	os.WriteFile(filepath.Join(os.TempDir(), "train.txt"), []byte(strings.Join(lines, "\n")), 0o644)
}
