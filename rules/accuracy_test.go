package rules_test

import (
	"bufio"
	"crypto/sha256"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mesadeservicios/mesa/mailin"
	"github.com/mesadeservicios/mesa/rules"
)

// labelled is one message of the corpus with its expected classification.
type labelled struct {
	file, category, typ, crit, split string
	msg                              rules.Message
}

func loadCorpus(t testing.TB) []labelled {
	t.Helper()
	f, err := os.Open("testdata/labels.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []labelled
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		c := strings.Split(sc.Text(), "\t")
		if len(c) != 5 {
			t.Fatalf("labels.tsv: bad line %q", sc.Text())
		}
		// The frozen test split: a fifth of the corpus, chosen once by the
		// hash of the file's path (persona is column 5).
		split := "tune"
		if sha256.Sum256([]byte(c[0]))[0] < 52 {
			split = "holdout"
		}
		c[4] = split
		raw, err := os.ReadFile(filepath.Join("testdata/corpus", c[0]))
		if err != nil {
			t.Fatal(err)
		}
		in, _ := mailin.Parse(raw)
		out = append(out, labelled{c[0], c[1], c[2], c[3], c[4],
			rules.Message{From: in.From.Email, Subject: in.Subject, Body: in.Text}})
	}
	return out
}

// TestAccuracy reports top-1 category, type and criticality accuracy on the
// tuning split and on the held-out split, which the rules were never tuned
// on; the held-out targets are 90 % for category and type.
func TestAccuracy(t *testing.T) {
	e, err := rules.Default()
	if err != nil {
		t.Fatal(err)
	}
	type acc struct{ n, cat, typ, crit int }
	stats := map[string]*acc{"tune": {}, "holdout": {}}
	seen := map[string]bool{}
	for _, l := range loadCorpus(t) {
		seen[l.category] = true
		r := e.Classify(l.msg)
		s := stats[l.split]
		s.n++
		ok := func(got, want string, n *int, what string) {
			if got == want {
				*n++
			} else if testing.Verbose() {
				t.Logf("%s %s: %s got %s, want %s (%v)", l.split, l.file, what, got, want, r.Matched)
			}
		}
		ok(r.Category, l.category, &s.cat, "category")
		ok(string(r.Type), l.typ, &s.typ, "type")
		ok(string(r.Criticality), l.crit, &s.crit, "criticidad")
	}
	for _, split := range []string{"tune", "holdout"} {
		s := stats[split]
		pc := func(n int) float64 { return 100 * float64(n) / float64(s.n) }
		t.Logf("%-7s %3d messages: category %.1f %%, type %.1f %%, criticidad %.1f %%", split, s.n, pc(s.cat), pc(s.typ), pc(s.crit))
	}
	if len(seen) != len(e.Names())+1 {
		t.Errorf("corpus covers %d keys, want every category and sin_clasificar (%d)", len(seen), len(e.Names())+1)
	}
	// The keyword rules alone, measured once on the 1,658-mail corpus:
	// category 80.1 %, type 82.8 %. This floor only keeps them from
	// regressing; the learned model carries the targets.
	h := stats["holdout"]
	if float64(h.cat) < 0.78*float64(h.n) || float64(h.typ) < 0.80*float64(h.n) {
		t.Errorf("held-out accuracy below the rules' floor: category %d/%d, type %d/%d", h.cat, h.n, h.typ, h.n)
	}
}
