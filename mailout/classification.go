package mailout

import (
	"fmt"
	"strings"

	"github.com/mesadeservicios/mesa/ticket"
)

// classView is the weekly digest's section on classification as its
// template shows it: rates written out, categories named.
type classView struct {
	Rate, Before string
	Top          []struct{ Name, Rate string }
	Confusions   []struct {
		From, To string
		N        int
	}
	Model             bool
	Trained, Examples string
	AgeDays           int
	Sources           string
}

// share is n of total as a percentage with its counts: "12 % (3 de 25)".
func share(n, total int, lang string) string {
	if total == 0 {
		if lang == "en" {
			return "no tickets"
		}
		return "sin casos"
	}
	of := "de"
	if lang == "en" {
		of = "of"
	}
	return fmt.Sprintf("%d %% (%d %s %d)", (n*100+total/2)/total, n, of, total)
}

// thousands writes n with the thousands separator of lang: 1.327, 1,327.
func thousands(n int, lang string) string {
	s := fmt.Sprint(n)
	sep := "."
	if lang == "en" {
		sep = ","
	}
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + sep + s[i:]
	}
	return s
}

// sourceNames are the model's training sources as people read them.
var sourceNames = map[string][2]string{"corpus": {"corpus", "corpus"}, "history": {"histórico", "history"},
	"corrections": {"correcciones", "corrections"}}

// classification prepares the section; nil without one (daily digest).
func (r *Renderer) classification(c *ticket.Classification, lang string) *classView {
	if c == nil {
		return nil
	}
	name := func(k string) string {
		if r.opts.Catalogue != nil {
			if n := r.opts.Catalogue.DisplayName(k); n != "" {
				return n
			}
		}
		return k
	}
	v := &classView{Rate: share(c.Changed[0], c.Tickets[0], lang), Before: share(c.Changed[1], c.Tickets[1], lang)}
	for _, k := range c.Top {
		v.Top = append(v.Top, struct{ Name, Rate string }{name(k.Key), share(k.Changed, k.Tickets, lang)})
	}
	for _, x := range c.Confusions {
		v.Confusions = append(v.Confusions, struct {
			From, To string
			N        int
		}{name(x.From), name(x.To), x.N})
	}
	if m := c.Model; m != nil {
		v.Model, v.Examples, v.AgeDays, v.Trained = true, thousands(m.Examples, lang), m.AgeDays, "—"
		if !m.Trained.IsZero() {
			v.Trained = formatDay(m.Trained, lang)
		}
		var src []string
		for _, s := range m.Sources {
			label := s.Key
			if n, ok := sourceNames[s.Key]; ok {
				label = n[0]
				if lang == "en" {
					label = n[1]
				}
			}
			src = append(src, label+" "+thousands(s.N, lang))
		}
		v.Sources = strings.Join(src, ", ")
	}
	return v
}
