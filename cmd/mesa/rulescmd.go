package main

// The learned classifier's commands: `mesa rules train` and `mesa rules
// report`, and what `mesa rules test` shows of the model.

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mesadeservicios/mesa/config"
	"github.com/mesadeservicios/mesa/mailin"
	"github.com/mesadeservicios/mesa/rules"
	"github.com/mesadeservicios/mesa/ticket"
)

// withModel attaches the learned model of rules.model_file (empty: the
// embedded one; "none": keywords alone) to the catalogue.
func withModel(eng *rules.Engine, cfg *config.Config) (*rules.Engine, error) {
	var m *rules.Model
	var err error
	switch cfg.Rules.ModelFile {
	case "none":
		return eng, nil
	case "":
		m, err = rules.DefaultModel()
	default:
		m, err = rules.LoadModel(cfg.Rules.ModelFile)
	}
	if err != nil {
		return nil, fmt.Errorf("rules.model_file: %w", err)
	}
	return eng.WithModel(m, cfg.Rules.MinConfidence), nil
}

// printExplanation prints, under a `mesa rules test` result, the model's
// confidence, candidates and the features that weighed most per decision.
func printExplanation(w io.Writer, r rules.Result) {
	if r.Features == nil && r.Candidates == nil {
		return
	}
	fmt.Fprintf(w, "  confidence: %.3f (type %.3f, criticidad %.3f)\n", r.Confidence, r.TypeConfidence, r.CritConfidence)
	var cs []string
	for _, c := range r.Candidates {
		cs = append(cs, fmt.Sprintf("%s %.3f", c.Value, c.Probability))
	}
	fmt.Fprintf(w, "  candidates: %s\n", strings.Join(cs, ", "))
	for _, d := range []string{"category", "type", "criticidad"} {
		fs, ok := r.Features[d]
		if !ok {
			continue
		}
		var parts []string
		for _, f := range fs {
			parts = append(parts, fmt.Sprintf("%s %+.3f", f.Name, f.Weight))
		}
		fmt.Fprintf(w, "  features:   %-10s %s\n", d+":", strings.Join(parts, ", "))
	}
}

// lookupLabel finds the label of file f, keyed by its path relative to the
// corpus ("w1/001.eml") or by its name.
func lookupLabel(labels map[string]label, f string) (label, bool) {
	parts := strings.Split(filepath.ToSlash(f), "/")
	for n := 1; n <= len(parts) && n <= 4; n++ {
		if l, ok := labels[strings.Join(parts[len(parts)-n:], "/")]; ok {
			return l, true
		}
	}
	return label{}, false
}

// frozenSplit names the part of the corpus a labelled file is in: "test"
// (the frozen test split, never tuned on) or "train".
func frozenSplit(file string) string {
	if rules.FrozenTest(file) {
		return "test"
	}
	return "train"
}

func parseMail(raw []byte) rules.Message {
	in, _ := mailin.Parse(raw) // best effort even for broken mail
	return rules.Message{From: in.From.Email, Subject: in.Subject, Body: in.Text}
}

func rulesTrain() command {
	var corpus, history, out, date *string
	var corrections, withTest *bool
	return command{
		flags: func(fs *flag.FlagSet) {
			corpus = fs.String("corpus", "", "corpus directory (labels.tsv and corpus/); default: the shipped corpus")
			history = fs.String("history", "", "history export, CSV: subject,description,category[,type,criticidad]")
			corrections = fs.Bool("corrections", false, "add every ticket people recategorised (database)")
			withTest = fs.Bool("with-test-split", false, "train on the corpus' frozen test split too (the shipped model does not)")
			out = fs.String("out", "", "model file to write (required)")
			date = fs.String("date", "", "training date recorded in the model, YYYY-MM-DD; default $SOURCE_DATE_EPOCH or today")
		},
		run: func(ctx context.Context, e *env) int {
			fail := func(code int, err error) int {
				fmt.Fprintln(e.stderr, "mesa rules train:", err)
				return code
			}
			if *out == "" {
				return fail(exitConfig, errors.New("give --out FILE"))
			}
			trained, err := trainingDate(*date, os.Getenv("SOURCE_DATE_EPOCH"))
			if err != nil {
				return fail(exitConfig, err)
			}
			cfg := *e.cfg
			cfg.Rules.ModelFile = "none"
			eng, err := loadRules(&cfg)
			if err != nil {
				return fail(exitConfig, err)
			}
			fsys := rules.ShippedCorpus()
			if *corpus != "" {
				fsys = os.DirFS(*corpus)
			}
			ls, msgs, err := rules.ReadCorpus(fsys, parseMail)
			if err != nil {
				return fail(exitConfig, err)
			}
			var exs []rules.Example
			for i, ex := range rules.Examples(ls, msgs, "corpus") {
				if *withTest || !rules.FrozenTest(ls[i].File) {
					exs = append(exs, ex)
				}
			}
			if *history != "" {
				h, err := readHistory(*history, eng)
				if err != nil {
					return fail(exitConfig, err)
				}
				exs = append(exs, h...)
			}
			if *corrections {
				c, err := readCorrections(ctx, e.cfg, eng)
				if err != nil {
					return fail(exitFail, err)
				}
				exs = append(exs, c...)
			}
			m, err := eng.Train(exs, &rules.TrainOptions{Trained: trained})
			if err != nil {
				return fail(exitFail, err)
			}
			var buf bytes.Buffer
			if err := m.Write(&buf); err != nil {
				return fail(exitFail, err)
			}
			if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
				return fail(exitFail, err)
			}
			fmt.Fprintf(e.stdout, "%s\nwrote %s (%d bytes); use it with rules.model_file\n", m.Describe(), *out, buf.Len())
			return exitOK
		},
	}
}

// trainingDate is --date, or the day of SOURCE_DATE_EPOCH
// (reproducible-builds.org), or today, in UTC.
func trainingDate(flagDate, epoch string) (string, error) {
	switch {
	case flagDate != "":
		if _, err := time.Parse(time.DateOnly, flagDate); err != nil {
			return "", fmt.Errorf("--date must be YYYY-MM-DD, got %q", flagDate)
		}
		return flagDate, nil
	case epoch != "":
		s, err := strconv.ParseInt(epoch, 10, 64)
		if err != nil {
			return "", fmt.Errorf("SOURCE_DATE_EPOCH must be seconds since 1970, got %q", epoch)
		}
		return time.Unix(s, 0).UTC().Format(time.DateOnly), nil
	}
	return time.Now().UTC().Format(time.DateOnly), nil
}

// readHistory reads an agency's history export: CSV with the columns
// subject, description, category and optionally type and criticidad, an
// optional header row. Every problem is reported with its line.
func readHistory(path string, eng *rules.Engine) ([]rules.Example, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--history: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	var out []rules.Example
	var errs []error
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if len(out) == 0 && len(errs) == 0 && len(rec) > 0 && strings.EqualFold(strings.TrimSpace(rec[0]), "subject") {
			continue // header
		}
		if len(rec) < 3 || len(rec) > 5 {
			errs = append(errs, fmt.Errorf("%s:%d: want subject,description,category[,type,criticidad], got %d fields", path, line, len(rec)))
			continue
		}
		for len(rec) < 5 {
			rec = append(rec, "")
		}
		ex := rules.Example{Message: rules.Message{Subject: rec[0], Body: rec[1]}, Source: "history",
			Category: strings.ToLower(strings.TrimSpace(rec[2])), Type: strings.ToLower(strings.TrimSpace(rec[3])),
			Criticality: strings.ToLower(strings.TrimSpace(rec[4]))}
		if _, ok := eng.Category(ex.Category); !ok && ex.Category != ticket.Unclassified {
			errs = append(errs, fmt.Errorf("%s:%d: category %q is not in the catalogue", path, line, ex.Category))
		}
		if ex.Type != "" && !ticket.Type(ex.Type).Valid() {
			errs = append(errs, fmt.Errorf("%s:%d: type %q (incidente or requerimiento)", path, line, ex.Type))
		}
		if ex.Criticality != "" && !ticket.Criticality(ex.Criticality).Valid() {
			errs = append(errs, fmt.Errorf("%s:%d: criticidad %q (alta, media or baja)", path, line, ex.Criticality))
		}
		if len(errs) >= 20 {
			break
		}
		out = append(out, ex)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// readCorrections returns the database's recategorised tickets as
// examples; categories the catalogue no longer has are skipped.
func readCorrections(ctx context.Context, cfg *config.Config, eng *rules.Engine) ([]rules.Example, error) {
	db, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if err := db.CheckSchema(ctx); err != nil {
		return nil, err
	}
	cs, err := db.Corrections(ctx)
	if err != nil {
		return nil, err
	}
	var out []rules.Example
	for _, c := range cs {
		if _, ok := eng.Category(c.Category); !ok && c.Category != ticket.Unclassified {
			continue
		}
		out = append(out, rules.Example{Message: rules.Message{From: c.Requester, Subject: c.Subject, Body: c.Body},
			Category: c.Category, Criticality: c.Criticality, Source: "corrections"})
	}
	return out, nil
}

func rulesReport() command {
	var weeks, top *int
	return command{
		flags: func(fs *flag.FlagSet) {
			weeks = fs.Int("weeks", 12, "weeks back to count, from today")
			top = fs.Int("top", 10, "most frequent confusions to list")
		},
		run: func(ctx context.Context, e *env) int {
			fail := func(code int, err error) int {
				fmt.Fprintln(e.stderr, "mesa rules report:", err)
				return code
			}
			eng, err := loadRules(e.cfg)
			if err != nil {
				return fail(exitConfig, err)
			}
			loc, err := time.LoadLocation(e.cfg.Desk.Timezone)
			if err != nil {
				return fail(exitConfig, err)
			}
			db, err := openStore(ctx, e.cfg)
			if err != nil {
				return fail(exitFail, err)
			}
			defer db.Close()
			if err := db.CheckSchema(ctx); err != nil {
				return fail(exitFail, err)
			}
			now := time.Now()
			outs, err := db.Outcomes(ctx, now.AddDate(0, 0, -7*max(1, *weeks)))
			if err != nil {
				return fail(exitFail, err)
			}
			writeReport(e.stdout, eng, outs, now, loc, *top)
			return exitOK
		},
	}
}

// writeReport prints the model's age and corpus, and the override rate
// (tickets whose category people changed) per category intake gave, per
// week, and the most frequent confusions.
func writeReport(w io.Writer, eng *rules.Engine, outs []ticket.Outcome, now time.Time, loc *time.Location, top int) {
	if m := eng.Model(); m != nil {
		fmt.Fprintln(w, m.Describe())
		if t, err := time.Parse(time.DateOnly, m.Meta.Trained); err == nil {
			fmt.Fprintf(w, "model age: %d days; min_confidence in use: %.3f\n", int(now.Sub(t).Hours()/24), eng.MinConfidence())
		}
	} else {
		fmt.Fprintln(w, "no learned model (rules.model_file: none): the catalogue's keywords alone")
	}
	if len(outs) == 0 {
		fmt.Fprintln(w, "no tickets in the period")
		return
	}
	type rate struct{ n, changed int }
	pct := func(r rate) float64 { return 100 * float64(r.changed) / float64(r.n) }
	byCat, byWeek, confusions := map[string]*rate{}, map[string]*rate{}, map[string]int{}
	var all rate
	for _, o := range outs {
		y, wk := o.Created.In(loc).ISOWeek()
		for _, r := range []*rate{entry(byCat, o.Initial), entry(byWeek, fmt.Sprintf("%d-W%02d", y, wk)), &all} {
			r.n++
			if o.Changed {
				r.changed++
			}
		}
		if o.Changed && o.Initial != o.Final {
			confusions[o.Initial+" → "+o.Final]++
		}
	}
	fmt.Fprintf(w, "\n%d tickets, %d recategorised: override rate %.1f %%\n", all.n, all.changed, pct(all))
	fmt.Fprintln(w, "\noverride rate per category (as intake classified them):")
	cats := keysOf(byCat)
	sort.SliceStable(cats, func(i, j int) bool { return pct(*byCat[cats[i]]) > pct(*byCat[cats[j]]) })
	for _, c := range cats {
		r := byCat[c]
		fmt.Fprintf(w, "  %-34s %5.1f %%  (%d of %d)\n", c, pct(*r), r.changed, r.n)
	}
	fmt.Fprintln(w, "\noverride rate per week:")
	for _, wk := range keysOf(byWeek) {
		r := byWeek[wk]
		fmt.Fprintf(w, "  %s  %5.1f %%  (%d of %d)\n", wk, pct(*r), r.changed, r.n)
	}
	if len(confusions) > 0 {
		fmt.Fprintln(w, "\nmost frequent confusions (intake → people):")
		cs := keysOf(confusions)
		sort.SliceStable(cs, func(i, j int) bool { return confusions[cs[i]] > confusions[cs[j]] })
		for i, c := range cs {
			if i == top {
				break
			}
			fmt.Fprintf(w, "  %4d  %s\n", confusions[c], c)
		}
	}
}

func entry[V any](m map[string]*V, k string) *V {
	v, ok := m[k]
	if !ok {
		v = new(V)
		m[k] = v
	}
	return v
}

func keysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
