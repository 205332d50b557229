package desk

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/mesadeservicios/mesa/internal/i18n"
	"github.com/mesadeservicios/mesa/ticket"
)

// Absences (#ausente) and departures (people missing from the
// configuration): assignment skips an absent person until their first day
// back, their open tickets are offered to a replacement or their groups;
// a departed person's open tickets go back to their groups, and the
// groups' managers are told.

// forgetLoads drops the cached group loads, after someone's availability
// changed.
func (d *Desk) forgetLoads() {
	d.loadMu.Lock()
	d.loads = map[string]*groupLoad{}
	d.loadMu.Unlock()
}

// cmdAway is "#ausente hasta AAAA-MM-DD [reemplazo]": the sender gets no
// new tickets through that date (inclusive, in the desk's zone), and their
// open tickets are offered to the replacement, or to the other
// technicians of each ticket's group. "#ausente no" ends the absence.
func (d *Desk) cmdAway(ctx context.Context, c cmdCall) (string, error) {
	lang := d.cfg.Language
	fields := strings.Fields(strings.ToLower(c.arg))
	if len(fields) > 0 && (fields[0] == "no" || fields[0] == "fin") {
		if err := d.store.SetAbsence(ctx, c.p.Email, nil, ""); err != nil {
			return "", err
		}
		d.forgetLoads()
		return i18n.T(lang, "desk.cmd.away_over"), nil
	}
	if len(fields) > 0 && fields[0] == "hasta" {
		fields = fields[1:]
	}
	if len(fields) == 0 || len(fields) > 2 {
		return "", shown(ticket.ErrInvalid, i18n.T(lang, "desk.cmd.away_usage"))
	}
	day, err := time.ParseInLocation(time.DateOnly, fields[0], d.cfg.Location)
	if err != nil {
		return "", shown(ticket.ErrInvalid, i18n.T(lang, "desk.cmd.away_usage"))
	}
	now := d.now()
	back := day.AddDate(0, 0, 1) // the first day back, at midnight
	if !back.After(now) {
		return "", shown(ticket.ErrInvalid, i18n.Tf(lang, "desk.cmd.away_past", fields[0]))
	}
	if back.After(now.AddDate(1, 0, 0)) {
		return "", shown(ticket.ErrInvalid, i18n.T(lang, "desk.cmd.away_too_far"))
	}
	sub := ""
	if len(fields) == 2 {
		sub = strings.Trim(fields[1], "<>")
		p, err := d.store.PersonByEmail(ctx, sub)
		switch {
		case errors.Is(err, ticket.ErrNotFound) || err == nil && (!p.Active || p.Role != ticket.RoleTechnician || p.Absent(now) || p.Email == c.p.Email):
			return "", shown(ticket.ErrInvalid, i18n.Tf(lang, "desk.cmd.away_bad_substitute", sub))
		case err != nil:
			return "", err
		}
	}
	var offered int
	var to []string
	err = d.store.InTx(ctx, func(ctx context.Context) error {
		if err := d.store.SetAbsence(ctx, c.p.Email, &back, sub); err != nil {
			return err
		}
		var err error
		offered, to, err = d.offer(ctx, c.p, back, sub)
		return err
	})
	if err != nil {
		return "", err
	}
	d.forgetLoads()
	info := i18n.Tf(lang, "desk.cmd.away_set", fields[0])
	if offered > 0 {
		info += " " + i18n.Tf(lang, "desk.cmd.away_offered", offered, strings.Join(to, ", "))
	}
	return info, nil
}

// offer mails the open tickets of an absent person to sub, or to the
// other present technicians of each ticket's group (its managers when it
// has none). It returns how many tickets were offered and to whom.
func (d *Desk) offer(ctx context.Context, p *ticket.Person, back time.Time, sub string) (int, []string, error) {
	ts, err := d.store.OpenTicketsAssignedTo(ctx, p.Email)
	if err != nil {
		return 0, nil, err
	}
	now := d.now()
	byTo := map[string][]*ticket.Ticket{}
	offered := 0
	for _, t := range ts {
		if t.State == ticket.AbiertoPorEncuesta {
			continue // solved: waiting for the requester's survey
		}
		offered++
		if sub != "" {
			byTo[sub] = append(byTo[sub], t)
			continue
		}
		people, err := d.store.GroupPeople(ctx, t.Group)
		if err != nil {
			return 0, nil, err
		}
		var to []string
		for _, q := range people {
			if q.Role == ticket.RoleTechnician && q.Email != p.Email && !q.Absent(now) {
				to = append(to, q.Email)
			}
		}
		if len(to) == 0 {
			if to, err = d.store.GroupManagers(ctx, t.Group); err != nil {
				return 0, nil, err
			}
		}
		for _, e := range to {
			byTo[e] = append(byTo[e], t)
		}
	}
	recipients := make([]string, 0, len(byTo))
	for e := range byTo {
		recipients = append(recipients, e)
	}
	sort.Strings(recipients)
	for _, e := range recipients {
		n := &ticket.Notice{To: e, Lang: d.cfg.Language, At: now.UTC(),
			DedupeKey: fmt.Sprintf("away:%s:%s:%s", p.Email, back.Format(time.DateOnly), e),
			Payload:   ticket.AwayNotice{Person: p.Email, Until: &back, Tickets: byTo[e]}}
		if _, _, err := d.queue(ctx, n); err != nil {
			return 0, nil, err
		}
	}
	return offered, recipients, nil
}

// cmdTake is "#tomar [MS-… …]": the sender takes the tickets named, or
// the ticket replied to.
func (d *Desk) cmdTake(ctx context.Context, c cmdCall) (string, error) {
	numbers, err := ticketNumbers(c.arg, d.cfg.Prefix, d.cfg.Language)
	if err != nil {
		return "", err
	}
	if len(numbers) == 0 && c.number != "" {
		numbers = []string{c.number}
	}
	if len(numbers) == 0 {
		return "", shown(ticket.ErrInvalid, i18n.T(d.cfg.Language, "desk.cmd.take_usage"))
	}
	for _, n := range numbers {
		if _, err := d.Assign(ctx, n, c.p.Email, c.p.Email); err != nil {
			return "", err
		}
	}
	return strings.Join(numbers, ", "), nil
}

// ticketNumbers reads the ticket numbers of a command's argument; its
// errors are in lang.
func ticketNumbers(arg, prefix, lang string) ([]string, error) {
	var out []string
	for _, f := range strings.FieldsFunc(arg, func(r rune) bool { return r == ' ' || r == ',' || r == ';' || r == '\t' }) {
		n, err := ticket.ParseNumber(strings.Trim(strings.ToUpper(f), "[]()<>."))
		if err != nil || n.Prefix != prefix {
			return nil, shownAs(fmt.Errorf("%w: %q is not a ticket number", ticket.ErrInvalid, f), i18n.Tf(lang, "desk.cmd.not_a_number", f))
		}
		if s := n.String(); !contains(out, s) {
			out = append(out, s)
		}
	}
	if len(out) > 100 {
		return nil, shownAs(fmt.Errorf("%w: at most 100 ticket numbers", ticket.ErrInvalid), i18n.T(lang, "desk.cmd.too_many_numbers"))
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ReleaseDeparted gives the open tickets of deactivated people (gone from
// the configuration) back to their groups — to the least loaded present
// technician, or to nobody — and tells each group's managers which ones
// moved. It runs at every start, so a start that failed half-way is
// finished by the next one. It returns how many tickets moved.
func (d *Desk) ReleaseDeparted(ctx context.Context) (int, error) {
	gone, err := d.store.InactiveAssignees(ctx)
	if err != nil {
		return 0, err
	}
	moved := 0
	for _, e := range gone {
		err := d.store.InTx(ctx, func(ctx context.Context) error {
			ts, err := d.store.OpenTicketsAssignedTo(ctx, e)
			if err != nil {
				return err
			}
			byGroup := map[string][]*ticket.Ticket{}
			for _, t := range ts {
				t, err := d.change(ctx, t.Number, func(ctx context.Context, t *ticket.Ticket, now time.Time) error {
					who, err := d.pick(ctx, t.Group, 0)
					if err != nil {
						return err
					}
					t.Assignee = who
					return d.record(ctx, t, &ticket.Event{Kind: ticket.EventAssigned, Actor: ticket.SystemActor, At: now,
						From: e, To: who})
				})
				if err != nil {
					return err
				}
				byGroup[t.Group] = append(byGroup[t.Group], t)
				moved++
			}
			for g, ts := range byGroup {
				managers, err := d.store.GroupManagers(ctx, g)
				if err != nil {
					return err
				}
				if len(managers) == 0 {
					d.log.Warn("a departed person's tickets went back to a group without managers", "person", e, "group", g, "tickets", len(ts))
				}
				for _, mgr := range managers {
					n := &ticket.Notice{To: mgr, Lang: d.cfg.Language, At: d.now().UTC(),
						DedupeKey: fmt.Sprintf("away:gone:%s:%s:%s:%s", e, g, ts[0].Number, mgr),
						Payload:   ticket.AwayNotice{Person: e, Departed: true, Tickets: ts}}
					if _, _, err := d.queue(ctx, n); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return moved, fmt.Errorf("releasing the tickets of %s: %w", e, err)
		}
		d.log.Info("a departed person's open tickets went back to their groups", "person", e)
	}
	return moved, nil
}
