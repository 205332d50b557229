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

// Directory knows the desk's technicians and their load.
type Directory interface {
	GroupLoad(ctx context.Context, group string) ([]ticket.Load, error)
	PersonByEmail(ctx context.Context, email string) (*ticket.Person, error)
}

// loadTTL is how long a group's load is reused before it is read again;
// within it, each assignment made here updates the cached counts.
const loadTTL = 30 * time.Second

type groupLoad struct {
	at    time.Time
	loads []ticket.Load
}

// pick chooses who in group takes a ticket: the technician of the wanted
// level (0: any) with the fewest open tickets, the longest idle on ties.
func (d *Desk) pick(ctx context.Context, group string, level int) (string, error) {
	if group == "" {
		return "", nil
	}
	d.loadMu.Lock()
	defer d.loadMu.Unlock()
	now := d.now()
	gl, ok := d.loads[group]
	if !ok || now.Sub(gl.at) > loadTTL || now.Before(gl.at) {
		loads, err := d.store.GroupLoad(ctx, group)
		if err != nil {
			return "", err
		}
		gl = &groupLoad{at: now, loads: loads}
		d.loads[group] = gl
	}
	for i, l := range gl.loads {
		if l.AbsentUntil != nil && now.Before(*l.AbsentUntil) {
			continue // away (#ausente): no new tickets
		}
		if level == 0 || l.Level == level {
			// Count the assignment now, so the next ticket goes to the next
			// technician without reading the store again.
			gl.loads[i].Open++
			gl.loads[i].LastAssigned = now.UnixNano()
			sort.SliceStable(gl.loads, func(a, b int) bool {
				x, y := gl.loads[a], gl.loads[b]
				if x.Open != y.Open {
					return x.Open < y.Open
				}
				return x.LastAssigned < y.LastAssigned
			})
			return l.Email, nil
		}
	}
	return "", nil
}

// Assign gives a ticket to a technician (an address) or to the least loaded
// technician of a group (a group key). It records an assigned event, which
// notifies the technician.
func (d *Desk) Assign(ctx context.Context, number, actor, target string) (*ticket.Ticket, error) {
	return d.change(ctx, number, func(ctx context.Context, t *ticket.Ticket, now time.Time) error {
		return d.assign(ctx, t, actor, target, now)
	})
}

func (d *Desk) assign(ctx context.Context, t *ticket.Ticket, actor, target string, now time.Time) error {
	target = strings.ToLower(strings.TrimSpace(target))
	if target == "" {
		return shownAs(fmt.Errorf("%w: #asignar needs a technician's address or a group", ticket.ErrInvalid),
			i18n.T(d.cfg.Language, "desk.cmd.assign_usage"))
	}
	who, group := target, t.Group
	if !strings.Contains(target, "@") {
		group = target
		var err error
		if who, err = d.pick(ctx, group, 0); err != nil {
			return err
		}
		if who == "" {
			return shownAs(fmt.Errorf("%w: group %q has no active technician", ticket.ErrInvalid, group),
				i18n.Tf(d.cfg.Language, "desk.cmd.group_no_technician", group))
		}
	} else {
		p, err := d.store.PersonByEmail(ctx, who)
		if errors.Is(err, ticket.ErrNotFound) || err == nil && (!p.Active || p.Role != ticket.RoleTechnician) {
			return shownAs(fmt.Errorf("%w: %s is not an active technician of the desk", ticket.ErrInvalid, who),
				i18n.Tf(d.cfg.Language, "desk.cmd.not_a_technician", who))
		}
		if err != nil {
			return err
		}
		if p.Absent(now) && who != actor {
			back := p.AbsentUntil.In(d.cfg.Location).Format(time.DateOnly)
			return shownAs(fmt.Errorf("%w: %s is away until %s", ticket.ErrInvalid, who, back),
				i18n.Tf(d.cfg.Language, "desk.cmd.away_until", who, back))
		}
	}
	if who == t.Assignee {
		return nil
	}
	from := t.Assignee
	t.Assignee, t.Group = who, group
	return d.record(ctx, t, &ticket.Event{Kind: ticket.EventAssigned, Actor: actor, At: now, From: from, To: who})
}

// Escalate moves a ticket to the second level of its group (guide 4.9.4).
func (d *Desk) escalate(ctx context.Context, t *ticket.Ticket, actor string, now time.Time) error {
	who, err := d.pick(ctx, t.Group, 2)
	if err != nil {
		return err
	}
	if who == "" {
		return shownAs(fmt.Errorf("%w: group %q has no active second-level technician", ticket.ErrInvalid, t.Group),
			i18n.Tf(d.cfg.Language, "desk.cmd.group_no_second_level", t.Group))
	}
	from := t.Assignee
	t.Assignee = who
	if err := d.record(ctx, t, &ticket.Event{Kind: ticket.EventEscalated, Actor: actor, At: now, From: from, To: who}); err != nil {
		return err
	}
	return d.record(ctx, t, &ticket.Event{Kind: ticket.EventAssigned, Actor: actor, At: now, From: from, To: who})
}
