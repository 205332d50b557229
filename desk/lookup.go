package desk

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mesadeservicios/mesa/ticket"
)

// EventReader reads a ticket's audit trail.
type EventReader interface {
	Events(ctx context.Context, ticketID int64) ([]ticket.Event, error)
}

// View is what the requester may see of a ticket: the ticket and its
// public history (never internal notes, never who in the group works it).
type View struct {
	Ticket  *ticket.Ticket
	History []ticket.Event
	// Remaining is the business time left until the due time; negative
	// when overdue. Zero without a due time.
	Remaining time.Duration
	Paused    bool // retenido: the clock is stopped
	// Participants are the people besides the requester who take part in
	// the ticket and are not desk staff (colleagues in copy, people who
	// replied): their comments are shown as theirs, while staff's are
	// shown as the desk's.
	Participants []string
}

// Author says who wrote an event, for the page: the requester, a
// participant (by address), or the desk.
func (v *View) Author(e ticket.Event) (requester bool, participant string) {
	if e.Actor == v.Ticket.Requester {
		return true, ""
	}
	for _, p := range v.Participants {
		if strings.EqualFold(p, e.Actor) {
			return false, p
		}
	}
	return false, ""
}

// publicKinds are the events a requester sees: the request, public
// comments, state changes and the SLA timeline (not the warnings, which
// are for the assignee).
var publicKinds = map[ticket.EventKind]bool{ticket.EventCreated: true, ticket.EventComment: true,
	ticket.EventStateChanged: true, ticket.EventSLAPaused: true, ticket.EventSLAResumed: true,
	ticket.EventSLAStarted: true, ticket.EventSLADueChanged: true, ticket.EventSLABreached: true, ticket.EventSLAMet: true}

// Lookup opens a ticket with its number and access key. A wrong number and
// a wrong key give the same ticket.ErrNotFound.
func (d *Desk) Lookup(ctx context.Context, number, key string) (*View, error) {
	n, err := ticket.ParseNumber(strings.TrimSpace(number))
	if err != nil {
		return nil, ticket.ErrNotFound
	}
	t, err := d.store.TicketByNumber(ctx, n.String())
	if errors.Is(err, ticket.ErrNotFound) || err == nil && !t.CheckAccessKey(strings.TrimSpace(key)) {
		return nil, ticket.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return d.view(ctx, t)
}

// view is what the status page shows of t: never internal notes.
func (d *Desk) view(ctx context.Context, t *ticket.Ticket) (*View, error) {
	all, err := d.store.Events(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	v := &View{Ticket: t, Paused: t.PausedAt != nil}
	ps, err := d.store.Participants(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		if p.Email != t.Requester && !d.isStaff(ctx, p.Email) {
			v.Participants = append(v.Participants, p.Email)
		}
	}
	for _, e := range all {
		if publicKinds[e.Kind] {
			e.Data = "" // classification details are for the desk
			v.History = append(v.History, e)
		}
	}
	if t.DueAt != nil && t.State.Open() {
		now := d.now()
		if t.PausedAt != nil {
			now = *t.PausedAt
		}
		switch {
		case now.Before(*t.DueAt):
			v.Remaining = d.calendar.Between(now, *t.DueAt)
		default:
			v.Remaining = -d.calendar.Between(*t.DueAt, now)
		}
	}
	return v, nil
}

// RequesterComment adds a comment from the status page; the key proves the
// author is the requester (or someone the requester gave the key to).
func (d *Desk) RequesterComment(ctx context.Context, number, key, body string) error {
	v, err := d.Lookup(ctx, number, key)
	if err != nil {
		return err
	}
	if len(body) > 20000 {
		return fmt.Errorf("%w: comment longer than 20,000 characters", ticket.ErrInvalid)
	}
	if strings.TrimSpace(body) == "" {
		return fmt.Errorf("%w: empty comment", ticket.ErrInvalid)
	}
	_, err = d.change(ctx, v.Ticket.Number, func(ctx context.Context, t *ticket.Ticket, now time.Time) error {
		if err := d.record(ctx, t, &ticket.Event{Kind: ticket.EventComment, Actor: t.Requester, At: now, Body: body}); err != nil {
			return err
		}
		if t.State == ticket.Retenido {
			return d.step(ctx, t, ticket.EnProceso, t.Requester, "", now) // the awaited answer
		}
		return nil
	})
	return err
}
