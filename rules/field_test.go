package rules_test

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mesadeservicios/mesa/mailin"
	"github.com/mesadeservicios/mesa/rules"
)

// The field set (testdata/field) stands for "mail nobody here wrote": 232
// mails by a fifth writer, in three personas of its own, who saw only the
// writing brief and the service guide — never the training corpus, the
// catalogue's keywords or the code — and labelled a second time by another
// person who saw only the mails and the guide (labels2.tsv). It is not
// embedded, so no model is ever trained on it, and it was not looked at
// while tuning: its figures were read once per shipped model. As with the
// agency's own evaluation, a decision counts when it matches either label.
//
// testdata/field2 (third session) is a second such set: 220 mails by a
// sixth writer in three new personas, in a realistic mailbox mix of
// categories (many ti.soporte, few tanque-agua) and criticality (most
// baja or media), impact left as implicit as people leave it, labelled a
// second time blind; read once, on the third session's final model.
//
// testdata/field3 (fourth session): 220 mails by a seventh writer (three
// more personas, 60 senders) in the mix that writer judged a real
// mailbox has over two weeks, labelled a second time blind; read on the
// fourth session's two models only.
func loadField(t *testing.T, dir string) (files []string, a, b map[string][3]string) {
	t.Helper()
	read := func(name string) map[string][3]string {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		m := map[string][3]string{}
		sc := bufio.NewScanner(f)
		sc.Scan() // header
		for sc.Scan() {
			c := strings.Split(sc.Text(), "\t")
			if len(c) < 4 {
				t.Fatalf("%s: bad line %q", name, sc.Text())
			}
			m[c[0]] = [3]string{c[1], c[2], c[3]}
			if name == "labels.tsv" {
				files = append(files, c[0])
			}
		}
		return m
	}
	a, b = read("labels.tsv"), read("labels2.tsv")
	if len(a) != len(b) || len(a) < 200 {
		t.Fatalf("%s: %d and %d labels, want the same ≥ 200 mails in both", dir, len(a), len(b))
	}
	return files, a, b
}

// TestFieldAccuracy scores the shipped engine (catalogue and model) on the
// field sets. Each floor is what the shipped model reached there, less a
// margin: it guards against a regression on mail the corpus never saw;
// the figures are logged on every run.
func TestFieldAccuracy(t *testing.T) {
	plain, err := rules.Default()
	if err != nil {
		t.Fatal(err)
	}
	m, err := rules.DefaultModel()
	if err != nil {
		t.Fatal(err)
	}
	model := plain.WithModel(m, 0)
	for _, set := range []struct {
		dir                        string
		top1, typ, crit, precision float64 // floors, %
	}{
		// Sixth session (the criticidad reads bigrams): criticidad 80.6 %,
		// the rest unchanged. Read on the fifth session's shipped model:
		// top-1 93.5 %, type 93.1 %, criticidad 78.4 %, precision 95.3 %
		// (category with abstentions counted wrong 92.2 %, coverage
		// 91.8 %); the fourth session's: 94.8, 92.2, 78.4, 96.7 (its
		// first model, without w17-w19: 94.8, 95.3, 80.2, 95.8); the
		// third's: 94.0, 92.2, 74.6, 96.2; the second's: 91.8, 90.9,
		// 67.2, 95.1.
		{"testdata/field", 91, 91, 78, 93},
		// Sixth session: criticidad 91.8 %, the rest unchanged.
		// Fifth session: top-1 98.2 %, type 98.2 %, criticidad 91.4 %,
		// precision 99.5 % (category with abstentions counted wrong
		// 95.5 %, coverage 91.4 %); the fourth session's 91.4, 96.4,
		// 88.2, 94.8 (its first model 90.5, 96.4, 88.2, 93.8); the
		// third's 88.2, 96.4, 85.9, 93.4.
		{"testdata/field2", 96, 96, 89, 97},
		// Sixth session: criticidad 86.4 %, the rest unchanged.
		// Fifth session: top-1 96.4 %, type 95.9 %, criticidad 86.8 %,
		// precision 96.6 % (category with abstentions counted wrong
		// 95.0 %, coverage 92.7 %); the fourth session's two models:
		// the shipped one 94.1, 93.2, 86.8, 96.8, the first 91.8, 92.3,
		// 88.6, 94.2.
		{"testdata/field3", 94, 93, 84, 94},
	} {
		t.Run(filepath.Base(set.dir), func(t *testing.T) {
			s := scoreField(t, model, set.dir)
			pc := func(x, d int) float64 { return 100 * float64(x) / float64(d) }
			t.Logf("%s, %d mails (labellers agree on category %.1f %%, type %.1f %%, criticidad %.1f %%): category %.1f %% (top-1 %.1f %%), type %.1f %%, criticidad %.1f %%, coverage %.1f %%, precision %.1f %%",
				set.dir, s.n, pc(s.agree[0], s.n), pc(s.agree[1], s.n), pc(s.agree[2], s.n), pc(s.cat, s.n), pc(s.top1, s.n),
				pc(s.typ, s.n), pc(s.crit, s.n), pc(s.covered, s.n), pc(s.right, s.covered))
			if pc(s.top1, s.n) < set.top1 || pc(s.typ, s.n) < set.typ || pc(s.crit, s.n) < set.crit || pc(s.right, s.covered) < set.precision {
				t.Errorf("%s below the shipped model's floor (top-1 %.0f %%, type %.0f %%, criticidad %.0f %%, precision %.0f %%)",
					set.dir, set.top1, set.typ, set.crit, set.precision)
			}
		})
	}
}

// fieldScore counts an engine's decisions on a field set; a decision is
// right when it matches either label.
type fieldScore struct {
	n, cat, top1, typ, crit, covered, right int
	agree                                   [3]int // the two labellers agree: category, type, criticidad
}

func scoreField(t *testing.T, model *rules.Engine, dir string) fieldScore {
	files, a, b := loadField(t, dir)
	var s fieldScore
	for _, f := range files {
		raw, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		in, _ := mailin.Parse(raw)
		r := model.Classify(rules.Message{From: in.From.Email, Subject: in.Subject, Body: in.Text})
		la, lb := a[f], b[f]
		either := func(got string, i int) bool { return got == la[i] || got == lb[i] }
		s.n++
		best := r.Category
		if len(r.Candidates) > 0 && r.Category == "sin_clasificar" {
			best = r.Candidates[0].Value
		}
		if either(r.Category, 0) {
			s.cat++
		}
		if either(best, 0) || either(r.Category, 0) {
			s.top1++
		}
		if r.Category != "sin_clasificar" {
			s.covered++
			if either(r.Category, 0) {
				s.right++
			}
		}
		if either(string(r.Type), 1) {
			s.typ++
		}
		if either(string(r.Criticality), 2) {
			s.crit++
		}
		for i := range s.agree {
			if la[i] == lb[i] {
				s.agree[i]++
			}
		}
	}
	return s
}
