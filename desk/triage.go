package desk

import (
	"time"

	"github.com/mesadeservicios/mesa/rules"
	"github.com/mesadeservicios/mesa/ticket"
)

// triageCategory is the category whose group triages sin_clasificar
// tickets when Config.TriageGroup is empty: first-level support (guide
// 4.2.1.1).
const triageCategory = "ti.soporte"

// triageGroup is the group that triages sin_clasificar tickets:
// Config.TriageGroup, else the group of ti.soporte in the catalogue; ""
// when there is neither.
func (d *Desk) triageGroup() string {
	if d.cfg.TriageGroup != "" {
		return d.cfg.TriageGroup
	}
	if c, ok := d.classify.Category(triageCategory); ok {
		return c.Group
	}
	return ""
}

// triage sends a sin_clasificar ticket to first-level triage instead of
// leaving it without owner and clock: it gets the triage group and a due
// time TriageResolution of business time after now (a due time given by
// the caller stands). It returns the classifier's candidates, named for
// people, for the assignment notice and the created event; false when
// there is no triage group, and then nothing changes. A non-empty group
// (the mailbox's default group) triages instead of triageGroup's.
func (d *Desk) triage(t *ticket.Ticket, r rules.Result, now time.Time, group string) ([]ticket.Candidate, bool, error) {
	if group == "" {
		group = d.triageGroup()
	}
	if group == "" {
		return nil, false, nil
	}
	t.Group = group
	if t.DueAt == nil {
		due, err := d.due(now, d.cfg.TriageResolution)
		if err != nil {
			return nil, false, err
		}
		t.DueAt = &due
	}
	var out []ticket.Candidate
	for _, c := range r.Candidates {
		cat, ok := d.classify.Category(c.Value)
		if !ok {
			continue // a class of the model the catalogue no longer has
		}
		out = append(out, ticket.Candidate{Category: cat.Key, Name: cat.Name, Confidence: c.Probability})
	}
	return out, true, nil
}
