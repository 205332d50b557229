package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mesadeservicios/mesa/mailin"
	"github.com/mesadeservicios/mesa/rules"
	"github.com/mesadeservicios/mesa/sla"
	"github.com/mesadeservicios/mesa/ticket"
)

// ruleTestLine is one line of `mesa rules test --json`; the field names are
// an interface operators and checks rely on.
type ruleTestLine struct {
	File       string   `json:"file"`
	Category   string   `json:"category"`
	Type       string   `json:"type"`
	Criticidad string   `json:"criticidad"`
	Score      float64  `json:"score"`
	Matched    []string `json:"matched"`
	// Confidence (0–1) and the model's explanation: rulescmd.go.
	Confidence float64                    `json:"confidence"`
	Candidates []rules.Candidate          `json:"candidates,omitempty"`
	Features   map[string][]rules.Feature `json:"features,omitempty"`
}

func rulesTest() command {
	var asJSON *bool
	var labelsPath *string
	return command{
		args: true,
		flags: func(fs *flag.FlagSet) {
			asJSON = fs.Bool("json", false, "one JSON object per line")
			labelsPath = fs.String("labels", "", "TSV of expected results (file, category, type, criticidad[, split]); "+
				"default: labels.tsv beside the files or in their parent directory")
		},
		run: func(_ context.Context, e *env) int {
			eng, err := loadRules(e.cfg)
			if err != nil {
				fmt.Fprintln(e.stderr, "mesa rules test:", err)
				return exitConfig
			}
			files, err := emlFiles(e.args)
			if err != nil || len(files) == 0 {
				fmt.Fprintln(e.stderr, "mesa rules test: give .eml files or directories that hold them", err)
				return exitConfig
			}
			labels, err := readLabels(*labelsPath, files)
			if err != nil {
				fmt.Fprintln(e.stderr, "mesa rules test:", err)
				return exitConfig
			}
			code := exitOK
			score := newScoreboard()
			enc := json.NewEncoder(e.stdout)
			enc.SetEscapeHTML(false)
			for _, f := range files {
				raw, err := os.ReadFile(f)
				if err != nil {
					fmt.Fprintln(e.stderr, "mesa rules test:", err)
					code = exitFail
					continue
				}
				in, _ := mailin.Parse(raw) // best effort even for broken mail
				r := eng.Classify(rules.Message{From: in.From.Email, Subject: in.Subject, Body: in.Text})
				line := ruleTestLine{File: f, Category: r.Category, Type: string(r.Type), Criticidad: string(r.Criticality),
					Score: r.Score, Matched: r.Matched, Confidence: r.Confidence, Candidates: r.Candidates, Features: r.Features}
				if line.Matched == nil {
					line.Matched = []string{}
				}
				if *asJSON {
					enc.Encode(line)
				} else {
					fmt.Fprintf(e.stdout, "%s\n  category:   %s (%s)\n  type:       %s\n  criticidad: %s\n  score:      %g\n  matched:    %s\n",
						f, r.Category, r.Name, r.Type, r.Criticality, r.Score, strings.Join(r.Matched, "; "))
					printExplanation(e.stdout, r)
				}
				if l, ok := lookupLabel(labels, f); ok {
					score.add(l, line)
				}
			}
			if score.any() {
				out := e.stdout
				if *asJSON {
					out = e.stderr // keep stdout one object per line
				}
				score.print(out)
			}
			return code
		},
	}
}

// emlFiles expands directories into the .eml files they hold, sorted.
func emlFiles(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, a)
			continue
		}
		err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(p, ".eml") {
				out = append(out, p)
			}
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Strings(out)
	return out, nil
}

type label struct{ category, typ, crit, split string }

func readLabels(path string, files []string) (map[string]label, error) {
	if path == "" {
		dir := filepath.Dir(files[0])
		for _, p := range []string{filepath.Join(dir, "labels.tsv"), filepath.Join(filepath.Dir(dir), "labels.tsv")} {
			if _, err := os.Stat(p); err == nil {
				path = p
				break
			}
		}
		if path == "" {
			return nil, nil
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]label{}
	sc := bufio.NewScanner(f)
	header := ""
	for n := 1; sc.Scan(); n++ {
		if n == 1 {
			header = sc.Text()
		}
		c := strings.Split(sc.Text(), "\t")
		if n == 1 && c[0] == "file" || strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		if len(c) < 4 {
			return nil, fmt.Errorf("%s:%d: want file, category, type, criticidad[, split]", path, n)
		}
		l := label{c[1], c[2], c[3], "all"}
		if len(c) > 4 && c[4] != "" {
			l.split = c[4]
		}
		if len(c) > 4 && c[4] != "" && n > 1 && strings.HasPrefix(header, "file\tcategory\ttype\tcriticidad\tpersona") {
			l.split = frozenSplit(c[0])
		}
		out[c[0]] = l
	}
	return out, sc.Err()
}

type scoreboard struct {
	order []string
	stats map[string]*[4]int // messages, category, type, criticidad right
}

func newScoreboard() *scoreboard { return &scoreboard{stats: map[string]*[4]int{}} }

func (s *scoreboard) any() bool { return len(s.order) > 0 }

func (s *scoreboard) add(l label, got ruleTestLine) {
	st, ok := s.stats[l.split]
	if !ok {
		st = &[4]int{}
		s.stats[l.split] = st
		s.order = append(s.order, l.split)
	}
	st[0]++
	for i, ok := range []bool{got.Category == l.category, got.Type == l.typ, got.Criticidad == l.crit} {
		if ok {
			st[i+1]++
		}
	}
}

func (s *scoreboard) print(w interface{ Write([]byte) (int, error) }) {
	sort.Strings(s.order)
	for _, split := range s.order {
		st := s.stats[split]
		pc := func(n int) float64 { return 100 * float64(n) / float64(st[0]) }
		fmt.Fprintf(w, "accuracy %-8s %4d messages: category %5.1f %%, type %5.1f %%, criticidad %5.1f %%\n",
			split, st[0], pc(st[1]), pc(st[2]), pc(st[3]))
	}
}

func rulesSuggest() command {
	var top *int
	return command{
		flags: func(fs *flag.FlagSet) { top = fs.Int("top", 10, "candidate keywords per category") },
		run: func(ctx context.Context, e *env) int {
			eng, err := loadRules(e.cfg)
			if err != nil {
				fmt.Fprintln(e.stderr, "mesa rules suggest:", err)
				return exitConfig
			}
			db, err := openStore(ctx, e.cfg)
			if err != nil {
				fmt.Fprintln(e.stderr, "mesa rules suggest:", err)
				return exitFail
			}
			defer db.Close()
			if err := db.CheckSchema(ctx); err != nil {
				fmt.Fprintln(e.stderr, "mesa rules suggest:", err)
				return exitFail
			}
			examples, err := db.Recategorizations(ctx)
			if err != nil {
				fmt.Fprintln(e.stderr, "mesa rules suggest:", err)
				return exitFail
			}
			sugg := eng.Suggest(examples, *top)
			if len(sugg) == 0 {
				fmt.Fprintln(e.stdout, "no recategorised tickets yet")
				return exitOK
			}
			for _, s := range sugg {
				fmt.Fprintf(e.stdout, "%s (%d tickets recategorised here)\n", s.Category, s.Tickets)
				for _, w := range s.Words {
					fmt.Fprintf(e.stdout, "  %-24s in %d of them\n", w.Word, w.Count)
				}
			}
			return exitOK
		},
	}
}

func slaDue() command {
	var from, category, crit *string
	var hours *float64
	return command{
		flags: func(fs *flag.FlagSet) {
			from = fs.String("from", "", "start instant, RFC 3339 (2026-03-20T16:00:00-05:00)")
			hours = fs.Float64("hours", 0, "business hours to count")
			category = fs.String("category", "", "catalogue key whose resolution time to count")
			crit = fs.String("criticidad", "media", "criticality for --category: alta, media, baja")
		},
		run: func(_ context.Context, e *env) int {
			start, err := time.Parse(time.RFC3339, *from)
			if err != nil {
				fmt.Fprintf(e.stderr, "mesa sla due: --from must be RFC 3339, got %q\n", *from)
				return exitConfig
			}
			if (*hours > 0) == (*category != "") {
				fmt.Fprintln(e.stderr, "mesa sla due: give exactly one of --hours H (positive) or --category KEY")
				return exitConfig
			}
			d := time.Duration(*hours * float64(time.Hour))
			if *category != "" {
				eng, err := loadRules(e.cfg)
				if err != nil {
					fmt.Fprintln(e.stderr, "mesa sla due:", err)
					return exitConfig
				}
				cat, ok := eng.Category(*category)
				if !ok {
					fmt.Fprintf(e.stderr, "mesa sla due: unknown category %q; known: %s\n", *category, strings.Join(eng.Names(), ", "))
					return exitConfig
				}
				if !ticket.Criticality(*crit).Valid() {
					fmt.Fprintf(e.stderr, "mesa sla due: --criticidad must be alta, media or baja, got %q\n", *crit)
					return exitConfig
				}
				var ok2 bool
				if d, ok2 = cat.ResolutionFor(ticket.Criticality(*crit)); !ok2 {
					fmt.Fprintf(e.stderr, "mesa sla due: %s (%s) has no resolution time: it depends on the request\n", cat.Key, cat.Name)
					return exitFail
				}
			}
			cal, err := loadCalendar(e.cfg)
			if err != nil {
				fmt.Fprintln(e.stderr, "mesa sla due:", err)
				return exitConfig
			}
			due, err := cal.Due(start, d)
			if err != nil {
				fmt.Fprintln(e.stderr, "mesa sla due:", err)
				return exitFail
			}
			fmt.Fprintln(e.stdout, due.Format(time.RFC3339))
			return exitOK
		},
	}
}

func slaHolidays() command {
	var names *bool
	return command{
		args:  true,
		flags: func(fs *flag.FlagSet) { names = fs.Bool("names", false, "print each holiday's name after its date") },
		run: func(_ context.Context, e *env) int {
			if len(e.args) != 1 {
				fmt.Fprintln(e.stderr, "mesa sla holidays: give one year, e.g. mesa sla holidays 2026")
				return exitConfig
			}
			year, err := strconv.Atoi(e.args[0])
			if err != nil || year < 1984 || year > 9999 {
				fmt.Fprintf(e.stderr, "mesa sla holidays: year must be 1984 or later (Ley 51 de 1983), got %q\n", e.args[0])
				return exitConfig
			}
			days := map[string]string{}
			for _, h := range sla.HolidaysIn(year) {
				days[h.Date.Format(time.DateOnly)] = h.Name
			}
			for _, x := range e.cfg.SLA.ExtraHolidays {
				if strings.HasPrefix(x, strconv.Itoa(year)+"-") {
					days[x] = "sla.extra_holidays"
				}
			}
			keys := make([]string, 0, len(days))
			for k := range days {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				if *names {
					fmt.Fprintf(e.stdout, "%s\t%s\n", k, days[k])
				} else {
					fmt.Fprintln(e.stdout, k)
				}
			}
			return exitOK
		},
	}
}
