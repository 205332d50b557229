package mailout

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"text/template"
	"time"

	"github.com/mesadeservicios/mesa/internal/i18n"
	"github.com/mesadeservicios/mesa/ticket"
)

// digestFuncs are the helpers of the digest template in a language.
func digestFuncs(lang string, loc *time.Location) template.FuncMap {
	short := func(t time.Time) string {
		t = t.In(loc)
		if lang == "en" {
			return t.Format("Jan 2 3:04 PM")
		}
		return fmt.Sprintf("%d %s %d:%02d", t.Day(), monthsES[t.Month()][:3], t.Hour(), t.Minute())
	}
	none := i18n.T(lang, "mail.digest.no_closures")
	dec := func(x float64) string {
		s := fmt.Sprintf("%.1f", math.Round(x*10)/10)
		if lang == "es" {
			s = strings.Replace(s, ".", ",", 1) // 4,3 in Colombia
		}
		return s
	}
	return template.FuncMap{
		"hm": hoursMinutes,
		"durs": func(d ticket.Durations) string {
			if d.N == 0 {
				return "—"
			}
			return hoursMinutes(d.Avg())
		},
		"rating": func(x float64, n int) string {
			if n == 0 {
				return "—"
			}
			return dec(x)
		},
		"span": func(w *ticket.Week) string {
			return formatDay(w.From.In(loc), lang) + " – " + formatDay(w.To.AddDate(0, 0, -1).In(loc), lang)
		},
		"join":      strings.Join,
		"stateName": func(s any) string { return i18n.T(lang, fmt.Sprint(s)) },
		"due": func(t *ticket.Ticket) string {
			if t.DueAt == nil {
				return "—"
			}
			return short(*t.DueAt)
		},
		"created": func(t *ticket.Ticket) string { return short(t.CreatedAt) },
		"pct": func(c ticket.Compliance) string {
			if c.Total == 0 {
				return none
			}
			return fmt.Sprintf("%d %% (%d/%d)", c.Percent(), c.Met, c.Total)
		},
		"rate": func(n, of int) string { return fmt.Sprintf("%d %%", (n*100+of/2)/of) },
		"dec":  dec,
		"trend": func(cs []ticket.Compliance) string {
			var parts []string
			for _, c := range cs {
				if p := c.Percent(); p >= 0 {
					parts = append(parts, fmt.Sprint(p))
				} else {
					parts = append(parts, "–")
				}
			}
			return strings.Join(parts, " ")
		},
	}
}

// digest renders a manager's digest: text, and HTML with the daily
// compliance chart embedded as a PNG.
func (r *Renderer) digest(n *ticket.Notice, lang string, dg *ticket.Digest) (*ticket.Outgoing, error) {
	if dg == nil {
		return nil, fmt.Errorf("mailout: a digest notice without its digest")
	}
	cats := make([]ticket.Count, len(dg.ByCat))
	for i, c := range dg.ByCat {
		cats[i] = c
		if r.opts.Catalogue != nil {
			if name := r.opts.Catalogue.DisplayName(c.Key); name != "" {
				cats[i].Key = name
			}
		}
	}
	var worst []ticket.CategoryCompliance
	if dg.Week != nil {
		for _, c := range dg.Week.Worst {
			if r.opts.Catalogue != nil {
				if name := r.opts.Catalogue.DisplayName(c.Key); name != "" {
					c.Key = name
				}
			}
			worst = append(worst, c)
		}
	}
	d := struct {
		D          *ticket.Digest
		Cats       []ticket.Count
		Worst      []ticket.CategoryCompliance
		When, Desk string
		Class      *classView // the weekly digest's classification section (classification.go)
	}{D: dg, Cats: cats, Worst: worst, When: formatDate(dg.At.In(r.opts.Location), lang), Desk: r.opts.DeskName,
		Class: r.classification(dg.Classification, lang)}
	var body bytes.Buffer
	if err := r.tmpl[lang].ExecuteTemplate(&body, "digest."+lang+".txt", d); err != nil {
		return nil, fmt.Errorf("rendering digest: %w", err)
	}
	kind, err := i18n.Text(lang, "mail.digest."+dg.Kind)
	if err != nil {
		return nil, fmt.Errorf("rendering digest: %w", err)
	}
	subject := i18n.Tf(lang, "mail.subject.digest", kind, dg.Open, len(dg.Breached))
	var percents []int
	for _, c := range dg.Trend {
		percents = append(percents, c.Percent())
	}
	alt := i18n.T(lang, "mail.digest.chart_alt")
	id := r.messageID("digest."+dg.Kind, dg.At)
	raw, err := r.build(n.To, n.ToName, subject, id, n.InReplyTo, body.String(), dg.At, "auto-generated", nil,
		inlineImage{name: "cumplimiento.png", alt: alt, png: complianceChart(percents)})
	if err != nil {
		return nil, err
	}
	return &ticket.Outgoing{From: r.opts.From, To: []string{n.To}, Subject: subject, MessageID: id, Raw: raw, State: ticket.OutboxPending}, nil
}
