package desk

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/mesadeservicios/mesa/ticket"
)

// The SLA watch. Every ticket with a due time carries the instant of its
// warning (SLAWarnAt), which alerts went out (SLAStage) and the instant of
// the next one (SLANextAt, indexed). The watch reads only the tickets whose
// next alert is due, records sla_warning or sla_breached on each, and mails
// every person concerned one list, however many tickets crossed together.

// SLAStore is what the watch needs beyond Store.
type SLAStore interface {
	SLAPending(ctx context.Context, now time.Time, limit int) ([]*ticket.Ticket, error)
}

// SLARecipients knows who, besides the assignee, hears of a breach: the
// group's managers (its lead).
type SLARecipients interface {
	GroupManagers(ctx context.Context, group string) ([]string, error)
}

// SLA stages.
const (
	slaNone     = 0
	slaWarned   = 1
	slaBreached = 2
)

// setDue gives t a new due time (nil: none) with its warning instant, and
// starts its alerts afresh.
func (d *Desk) setDue(t *ticket.Ticket, due *time.Time) {
	if due == nil {
		t.DueAt, t.SLAWarnAt, t.SLAStage = nil, nil, slaNone
		return
	}
	u := due.UTC()
	t.DueAt, t.SLAStage = &u, slaNone
	total := d.calendar.Between(t.CreatedAt, u)
	warn, err := d.due(t.CreatedAt, time.Duration(float64(total)*d.cfg.WarnAt))
	if err != nil || warn.After(u) {
		warn = u
	}
	warn = warn.UTC()
	t.SLAWarnAt = &warn
}

// scheduleSLA sets t.SLANextAt from its state: no alerts while paused or
// not open, otherwise the next one not yet sent.
func scheduleSLA(t *ticket.Ticket) {
	t.SLANextAt = nil
	if t.DueAt == nil || t.PausedAt != nil || (t.State != ticket.Abierto && t.State != ticket.EnProceso) {
		return
	}
	switch t.SLAStage {
	case slaNone:
		t.SLANextAt = t.SLAWarnAt
		if t.SLANextAt == nil {
			t.SLANextAt = t.DueAt
		}
	case slaWarned:
		t.SLANextAt = t.DueAt
	}
}

// SLAReport is what one run of the watch did.
type SLAReport struct {
	Warned, Breached, Deferred, Mails int
	// Linked counts the mass incidents' children whose alerts were left
	// to their parent.
	Linked int
}

// slaBatch bounds the tickets one watch transaction handles; a run loops
// until nothing is due.
const slaBatch = 1000

// WatchSLA records the warnings and breaches due at the desk's current
// time and queues one alert mail per person. Tickets of criticality other
// than alta whose alert falls outside business hours wait for the next
// opening (unless AlertOutOfHours). It is the sla_check job.
func (d *Desk) WatchSLA(ctx context.Context) (SLAReport, error) {
	var rep SLAReport
	now := d.now().UTC()
	open := d.cfg.AlertOutOfHours || d.calendar.IsOpen(now)
	for {
		n := 0
		err := d.store.InTx(ctx, func(ctx context.Context) error {
			ts, err := d.store.SLAPending(ctx, now, slaBatch)
			if err != nil {
				return err
			}
			n = len(ts)
			warned := map[string][]*ticket.Ticket{}
			breached := map[string][]*ticket.Ticket{}
			for _, t := range ts {
				// A mass incident's child is worked, answered and closed
				// with its parent: the parent's clock is the one that alerts,
				// not one more per requester who wrote about it.
				if _, kind, err := d.store.ParentOf(ctx, t.ID); err == nil && kind == linkMass {
					t.SLANextAt = nil
					rep.Linked++
					if err := d.store.UpdateTicket(ctx, t); err != nil {
						return err
					}
					continue
				} else if err != nil && !errors.Is(err, ticket.ErrNotFound) {
					return err
				}
				if !open && t.Criticality != ticket.Alta {
					next, err := d.due(now, time.Nanosecond) // just after the next opening
					if err != nil {
						return err
					}
					next = next.Add(-time.Nanosecond).UTC()
					t.SLANextAt = &next
					rep.Deferred++
					if err := d.store.UpdateTicket(ctx, t); err != nil {
						return err
					}
					continue
				}
				due := t.DueAt.UTC().Format(time.RFC3339)
				kind := ticket.EventSLAWarning
				if !now.Before(*t.DueAt) {
					kind, t.SLAStage = ticket.EventSLABreached, slaBreached
					rep.Breached++
				} else {
					t.SLAStage = slaWarned
					rep.Warned++
				}
				scheduleSLA(t)
				t.UpdatedAt = now
				if err := d.store.UpdateTicket(ctx, t); err != nil {
					return err
				}
				if err := d.record(ctx, t, &ticket.Event{Kind: kind, Actor: ticket.SystemActor, At: now, To: due}); err != nil {
					return err
				}
				// A breach reaches the group's managers too, and so does the
				// warning of a ticket nobody is assigned.
				people, err := d.assigneeAndManagers(ctx, t, kind == ticket.EventSLABreached || t.Assignee == "")
				if err != nil {
					return err
				}
				for _, p := range people {
					switch {
					case p == "":
					case kind == ticket.EventSLABreached:
						breached[p] = appendOnce(breached[p], t)
					default:
						warned[p] = appendOnce(warned[p], t)
					}
				}
			}
			var to []string
			for p := range warned {
				to = append(to, p)
			}
			for p := range breached {
				if _, ok := warned[p]; !ok {
					to = append(to, p)
				}
			}
			sort.Strings(to)
			for _, p := range to {
				queued, err := d.slaAlert(ctx, p, warned[p], breached[p], now)
				if err != nil {
					return err
				}
				if queued {
					rep.Mails++
				}
			}
			return nil
		})
		if err != nil {
			return rep, fmt.Errorf("SLA watch: %w", err)
		}
		if n < slaBatch {
			return rep, nil
		}
	}
}

// slaAlert queues the one alert mail to p listing the tickets that reached
// their warning and those that breached. The same alert (person, tickets,
// due times, stages) is queued once: a ticket warned again at the same due
// time (recategorised A→B→A) is recorded, not mailed twice.
func (d *Desk) slaAlert(ctx context.Context, p string, warned, breached []*ticket.Ticket, now time.Time) (bool, error) {
	h := sha256.New()
	for _, t := range breached {
		fmt.Fprintf(h, "b%d@%d,", t.ID, t.DueAt.Unix())
	}
	for _, t := range warned {
		fmt.Fprintf(h, "w%d@%d,", t.ID, t.DueAt.Unix())
	}
	n := &ticket.Notice{To: p, Lang: d.cfg.Language, At: now, DedupeKey: fmt.Sprintf("sla:%s:%x", p, h.Sum(nil)[:12]),
		Payload: ticket.SLAAlertNotice{Warned: warned, Breached: breached}}
	if all := append(append([]*ticket.Ticket{}, breached...), warned...); len(all) == 1 {
		n.Ticket = all[0] // one ticket: the mail belongs to it
	}
	_, queued, err := d.queue(ctx, n)
	return queued, err
}

func appendOnce(ts []*ticket.Ticket, t *ticket.Ticket) []*ticket.Ticket {
	for _, x := range ts {
		if x.ID == t.ID {
			return ts
		}
	}
	return append(ts, t)
}

// dueEvent records the SLA clock's change on t from the due time before
// (nil: none): sla_started, sla_due_changed.
func (d *Desk) dueEvent(ctx context.Context, t *ticket.Ticket, before *time.Time, actor string, now time.Time) error {
	after := t.DueAt
	if before == nil && after == nil || before != nil && after != nil && before.Equal(*after) {
		return nil
	}
	e := &ticket.Event{Kind: ticket.EventSLADueChanged, Actor: actor, At: now, From: rfc3339(before), To: rfc3339(after)}
	if before == nil {
		e.Kind = ticket.EventSLAStarted
	}
	return d.record(ctx, t, e)
}

func rfc3339(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// assigneeAndManagers is t's assignee and, when withManagers, its group's
// managers.
func (d *Desk) assigneeAndManagers(ctx context.Context, t *ticket.Ticket, withManagers bool) ([]string, error) {
	people := []string{t.Assignee}
	if !withManagers || t.Group == "" {
		return people, nil
	}
	m, err := d.store.GroupManagers(ctx, t.Group)
	return append(people, m...), err
}
