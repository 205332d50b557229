// Package desk holds the use cases of the service desk: open a ticket, add a
// comment or note, move a ticket through its life cycle. It is where the
// domain meets the adapters, through the small interfaces declared here;
// every change, its audit events and the mail it causes are written in one
// transaction.
package desk

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/mesadeservicios/mesa/internal/i18n"
	"github.com/mesadeservicios/mesa/rules"
	"github.com/mesadeservicios/mesa/ticket"
)

// NewTicket is what Create needs to open a ticket.
type NewTicket struct {
	Subject       string
	Body          string // first message, recorded in the created event
	Requester     string // e-mail address
	RequesterName string
	// Category, Type, Criticality and Group are set by the classifier when
	// Category is empty; without a classifier the ticket is sin_clasificar,
	// incidente, media.
	Type        ticket.Type
	Criticality ticket.Criticality
	Category    string
	Group       string
	// DueAt, when nil, is computed from the category's resolution time.
	DueAt *time.Time
	// MessageID of the mail that opened the ticket (without brackets).
	MessageID string
	// MessageKey is intake's dedupe key of that mail (MessageKey): the
	// acknowledgement threads with it.
	MessageKey string
	// DefaultGroup, when set, is the group of the ticket if the classifier
	// leaves it sin_clasificar (a mailbox's routing hint).
	DefaultGroup string
	// Automated marks a ticket opened by automatic mail from an accepted
	// sender: no acknowledgement, no survey.
	Automated bool
	// LooksAutomatic marks a ticket opened by mail that looks automatic
	// though it does not say so (a no-reply sender): its acknowledgement
	// counts for, and may be held by, the loop throttle.
	LooksAutomatic bool
	// UnverifiedStaff marks a ticket opened by mail from a staff address
	// that was not authenticated: its acknowledgement goes at most once an
	// hour to that address, so a forger cannot make the desk mail a
	// technician at will.
	UnverifiedStaff bool
	// Details are recorded, as JSON, in the created event beside the
	// classification (message key, flags from intake).
	Details map[string]any
	// Files came with the first message (MessageID: its stored row): they
	// are stored on the ticket and travel with the assignment notice, and
	// a required form among them is not asked for.
	Files []ticket.Attachment
	// OpenedBy is the staff member who opened the ticket in the
	// requester's name (a forward, #solicitante): the actor of the created
	// event. Empty: the requester.
	OpenedBy string
}

// classification is what the created event records of how a ticket was
// classified.
type classification struct {
	Category    string   `json:"category"`
	Type        string   `json:"type"`
	Criticality string   `json:"criticidad"`
	Group       string   `json:"group,omitempty"`
	Score       float64  `json:"score"`
	Matched     []string `json:"matched,omitempty"`
	Resolution  string   `json:"resolution,omitempty"`
	// RequestedBy lists who may request the category (guide 4.2.1.x): the
	// desk flags the ticket for a technician to check, and never rejects it.
	RequestedBy []string `json:"requested_by,omitempty"`
	Attachments []string `json:"attachments_required,omitempty"`
	// Triage marks a sin_clasificar ticket sent to the triage group, with
	// the categories offered to it (ticket.CreatedCandidates reads them).
	Triage     bool               `json:"triage,omitempty"`
	Candidates []ticket.Candidate `json:"candidates,omitempty"`
}

// Create opens a ticket in abierto with the next number of the current year,
// records its created event and queues the mail it causes, atomically. Called
// inside an outer transaction (intake storing the message), it joins it.
func (d *Desk) Create(ctx context.Context, nt NewTicket) (*ticket.Ticket, error) {
	requester := strings.ToLower(strings.TrimSpace(nt.Requester))
	if requester == "" {
		return nil, fmt.Errorf("%w: a ticket needs a requester", ticket.ErrInvalid)
	}
	now := d.now().UTC()
	t := &ticket.Ticket{
		Year: ticket.YearOf(now, d.cfg.Location), Subject: strings.TrimSpace(nt.Subject), Requester: requester,
		RequesterName: nt.RequesterName, State: ticket.Abierto, Type: nt.Type, Criticality: nt.Criticality,
		Category: nt.Category, Group: nt.Group, DueAt: nt.DueAt, CreatedAt: now, UpdatedAt: now,
		OriginMessageID: strings.Trim(nt.MessageID, "<> "),
	}
	details := map[string]any{}
	for k, v := range nt.Details {
		details[k] = v
	}
	facts := eventFacts{automated: nt.Automated, messageKey: nt.MessageKey, looksAutomatic: nt.LooksAutomatic,
		unverifiedStaff: nt.UnverifiedStaff}
	triaged := false // a sin_clasificar ticket sent to the triage group
	if nt.MessageKey != "" {
		details["message_key"] = nt.MessageKey
	}
	if nt.Automated {
		details[AutomatedDetail] = true
	}
	if t.Category == "" {
		r := d.classify.Classify(rules.Message{From: requester, Subject: nt.Subject, Body: nt.Body})
		t.Category, t.Group = r.Category, r.Group
		if t.Type == "" {
			t.Type = r.Type
		}
		if t.Criticality == "" {
			t.Criticality = r.Criticality
		}
		c := classification{Category: r.Category, Type: string(t.Type), Criticality: string(t.Criticality),
			Group: r.Group, Score: r.Score, Matched: r.Matched, RequestedBy: r.Restricted, Attachments: r.Attachments}
		if r.HasSLA && t.DueAt == nil {
			due, err := d.due(now, r.Resolution)
			if err != nil {
				return nil, err
			}
			t.DueAt, c.Resolution = &due, r.Resolution.String()
		}
		if t.Category == ticket.Unclassified {
			// The mailbox's default group, when it has one, is the prior that
			// beats the desk's generic triage group.
			cands, ok, err := d.triage(t, r, now, nt.DefaultGroup)
			if err != nil {
				return nil, err
			}
			if ok {
				triaged = true
				c.Group, c.Triage, c.Candidates = t.Group, true, cands
				c.Resolution = d.cfg.TriageResolution.String()
				facts.candidates = cands
			}
		}
		details["classification"] = c
		names := make([]string, len(nt.Files))
		for i, f := range nt.Files {
			names[i] = f.Filename
		}
		facts.attachments = missingForms(r.Attachments, nt.Subject, nt.Body, names)
	}
	actor := requester
	if by := strings.ToLower(strings.TrimSpace(nt.OpenedBy)); by != "" && by != requester {
		actor, details["opened_by"] = by, by
	}
	if t.Type == "" {
		t.Type = ticket.Incidente
	}
	if t.Criticality == "" {
		t.Criticality = ticket.Media
	}
	if t.Category == "" {
		t.Category = ticket.Unclassified
	}
	key, err := newAccessKey()
	if err != nil {
		return nil, err
	}
	t.AccessKey, t.AccessKeyHash = key, ticket.HashAccessKey(key)
	data := ""
	if len(details) > 0 {
		b, err := json.Marshal(details)
		if err != nil {
			return nil, fmt.Errorf("encoding event details: %w", err)
		}
		data = string(b)
	}
	err = d.store.InTx(ctx, func(ctx context.Context) error {
		// The least loaded technician of the owning group takes it (in
		// triage, of its first level when it has one); the ticket is
		// written once, already assigned.
		level := 0
		if triaged {
			level = 1
		}
		who, err := d.pick(ctx, t.Group, level)
		if err == nil && who == "" && level != 0 {
			who, err = d.pick(ctx, t.Group, 0)
		}
		if err != nil {
			return err
		}
		t.Assignee = who
		seq, err := d.store.NextTicketSeq(ctx, t.Year)
		if err != nil {
			return err
		}
		t.Seq = seq
		t.Number = ticket.Number{Prefix: d.cfg.Prefix, Year: t.Year, Seq: seq}.String()
		d.setDue(t, t.DueAt)
		scheduleSLA(t)
		if err := d.store.CreateTicket(ctx, t); err != nil {
			return err
		}
		for i := range nt.Files {
			f := nt.Files[i]
			f.TicketID = t.ID
			if err := d.store.AddAttachment(ctx, &f); err != nil {
				return err
			}
		}
		if err := d.recordWith(ctx, t, &ticket.Event{Kind: ticket.EventCreated, Actor: actor, At: now,
			Body: nt.Body, To: string(t.State), Data: data}, facts); err != nil {
			return err
		}
		if err := d.dueEvent(ctx, t, nil, ticket.SystemActor, now); err != nil {
			return err
		}
		if who == "" {
			return nil
		}
		return d.recordWith(ctx, t, &ticket.Event{Kind: ticket.EventAssigned, Actor: ticket.SystemActor, At: now, To: who, Body: nt.Body},
			eventFacts{candidates: facts.candidates})
	})
	if err != nil {
		return nil, fmt.Errorf("creating ticket: %w", err)
	}
	d.log.Info("ticket created", "ticket", t.Number, "category", t.Category, "criticality", t.Criticality)
	return t, nil
}

// Comment adds a comment (visible to the requester) or, when internal, a
// note for technicians only.
func (d *Desk) Comment(ctx context.Context, number, actor, body string, internal bool) (*ticket.Ticket, error) {
	kind := ticket.EventComment
	if internal {
		kind = ticket.EventNote
	}
	return d.comment(ctx, number, actor, body, kind, false)
}

// StaffAnswer is the data of a technician's answer to the requester, a
// comment that is mailed to the requester and counts as the first
// response. It is recorded for the audit trail; the notice is decided
// from the call, never from this text.
const StaffAnswer = `{"staff":true}`

// Answer records a technician's answer, which is sent to the requester.
func (d *Desk) Answer(ctx context.Context, number, actor, body string) (*ticket.Ticket, error) {
	return d.comment(ctx, number, actor, body, ticket.EventComment, true)
}

func (d *Desk) comment(ctx context.Context, number, actor, body string, kind ticket.EventKind, staff bool) (*ticket.Ticket, error) {
	return d.commentWith(ctx, number, actor, body, kind, staff, nil)
}

// commentWith is comment with the files that travel with its notice.
func (d *Desk) commentWith(ctx context.Context, number, actor, body string, kind ticket.EventKind, staff bool, files []ticket.NoticeFile) (*ticket.Ticket, error) {
	if strings.TrimSpace(body) == "" {
		return nil, shownAs(fmt.Errorf("%w: empty comment", ticket.ErrInvalid), i18n.T(d.cfg.Language, "desk.cmd.empty_comment"))
	}
	data := ""
	if staff {
		data = StaffAnswer
	}
	return d.change(ctx, number, func(ctx context.Context, t *ticket.Ticket, now time.Time) error {
		if staff && t.FirstResponseAt == nil {
			t.FirstResponseAt = &now
		}
		return d.recordWith(ctx, t, &ticket.Event{Kind: kind, Actor: actor, At: now, Body: body, Data: data}, eventFacts{staff: staff, files: files})
	})
}

// Recategorize moves a ticket to another category of the catalogue: its
// group and due time follow the new category (the due time is counted again
// from creation). The category_changed event is what `mesa rules suggest`
// learns from.
func (d *Desk) Recategorize(ctx context.Context, number, actor, category string) (*ticket.Ticket, error) {
	cat, ok := d.classify.Category(category)
	if !ok && category != ticket.Unclassified {
		return nil, shownAs(fmt.Errorf("%w: unknown category %q", ticket.ErrInvalid, category),
			i18n.Tf(d.cfg.Language, "desk.cmd.unknown_category", category))
	}
	return d.change(ctx, number, func(ctx context.Context, t *ticket.Ticket, now time.Time) error {
		if t.Category == category {
			return nil
		}
		from, before := t.Category, t.DueAt
		t.Category, t.Group = category, ""
		d.setDue(t, nil)
		if cat != nil {
			t.Group = cat.Group
			if res, ok := cat.ResolutionFor(t.Criticality); ok && t.State.Open() {
				due, err := d.due(t.CreatedAt, res)
				if err != nil {
					return err
				}
				d.setDue(t, &due)
			}
		}
		if err := d.record(ctx, t, &ticket.Event{Kind: ticket.EventCategoryChanged, Actor: actor, At: now, From: from, To: category}); err != nil {
			return err
		}
		return d.dueEvent(ctx, t, before, actor, now)
	})
}

// SetCriticality changes a ticket's criticality; the due time follows the
// category's resolution time for the new criticality.
func (d *Desk) SetCriticality(ctx context.Context, number, actor string, c ticket.Criticality) (*ticket.Ticket, error) {
	if !c.Valid() {
		return nil, fmt.Errorf("%w: criticidad %q (alta, media o baja)", ticket.ErrInvalid, c)
	}
	return d.change(ctx, number, func(ctx context.Context, t *ticket.Ticket, now time.Time) error {
		if t.Criticality == c {
			return nil
		}
		from, before := t.Criticality, t.DueAt
		t.Criticality = c
		if t.State.Open() {
			if cat, ok := d.classify.Category(t.Category); ok {
				if res, ok := cat.ResolutionFor(c); ok {
					due, err := d.due(t.CreatedAt, res)
					if err != nil {
						return err
					}
					d.setDue(t, &due)
				}
			}
		}
		if err := d.record(ctx, t, &ticket.Event{Kind: ticket.EventCriticalityChanged, Actor: actor, At: now, From: string(from), To: string(c)}); err != nil {
			return err
		}
		return d.dueEvent(ctx, t, before, actor, now)
	})
}

// Transition moves a ticket to the state to, directly or through en_proceso
// (closing or holding an abierto ticket passes through it), one state_changed
// event per step. Closing needs a solution note or an
// out-of-scope orientation (guide 4.1.8) in note. Holding (retenido) stops
// the SLA clock; leaving it pushes the due time by the paused business time.
func (d *Desk) Transition(ctx context.Context, number string, to ticket.State, actor, note string) (*ticket.Ticket, error) {
	if !to.Valid() {
		return nil, fmt.Errorf("%w: unknown state %q", ticket.ErrInvalidTransition, to)
	}
	return d.change(ctx, number, func(ctx context.Context, t *ticket.Ticket, now time.Time) error {
		if t.State == to {
			return fmt.Errorf("%w: ticket %s is already %s", ticket.ErrInvalidTransition, t.Number, to)
		}
		// Only en_proceso is walked through implicitly: a ticket is never
		// closed on the way to somewhere else.
		path := t.State.PathTo(to)
		for _, via := range path[:max(len(path)-1, 0)] {
			if via != ticket.EnProceso {
				path = nil
			}
		}
		if path == nil {
			return ticket.ValidateTransition(t.State, to)
		}
		if to == ticket.Cerrado && strings.TrimSpace(note) == "" {
			return fmt.Errorf("%w: ticket %s", ticket.ErrSolutionRequired, t.Number)
		}
		for _, next := range path {
			if err := d.step(ctx, t, next, actor, note, now); err != nil {
				return err
			}
		}
		return nil
	})
}

// step makes one validated transition with its side effects and events.
func (d *Desk) step(ctx context.Context, t *ticket.Ticket, to ticket.State, actor, note string, now time.Time) error {
	from := t.State
	if err := ticket.ValidateTransition(from, to); err != nil {
		return err
	}
	t.State = to
	var body string
	switch {
	case to == ticket.Retenido:
		t.PausedAt = &now
		body = note
	case from == ticket.Retenido:
		if t.DueAt != nil && t.PausedAt != nil {
			due := d.extend(*t.DueAt, *t.PausedAt, now)
			t.DueAt = &due
			if t.SLAWarnAt != nil {
				warn := d.extend(*t.SLAWarnAt, *t.PausedAt, now)
				t.SLAWarnAt = &warn
			}
		}
		t.PausedAt = nil
	case to == ticket.Cerrado && from == ticket.AbiertoPorEncuesta:
		body = note // the survey was answered: the closure stands as it was
	case to == ticket.Cerrado:
		t.Solution, t.ClosedAt, body = note, &now, note
		if t.FirstResponseAt == nil {
			t.FirstResponseAt = &now // the solution is an answer too
		}
	case (from == ticket.AbiertoPorEncuesta || from == ticket.Cerrado) && to == ticket.EnProceso:
		t.ClosedAt, t.Solution, body = nil, "", note // the requester says it is not solved
	}
	if err := d.record(ctx, t, &ticket.Event{Kind: ticket.EventStateChanged, Actor: actor, At: now,
		From: string(from), To: string(to), Body: body}); err != nil {
		return err
	}
	if to == ticket.Cerrado && from != ticket.AbiertoPorEncuesta {
		// A mass incident's parent answers every child.
		if err := d.closeChildren(ctx, t, actor, note, now); err != nil {
			return err
		}
	}
	switch {
	case to == ticket.Cerrado && from != ticket.AbiertoPorEncuesta && t.DueAt != nil && !now.After(*t.DueAt) && t.SLAStage < slaBreached:
		return d.record(ctx, t, &ticket.Event{Kind: ticket.EventSLAMet, Actor: actor, At: now, To: rfc3339(t.DueAt)})
	case to == ticket.Retenido:
		return d.record(ctx, t, &ticket.Event{Kind: ticket.EventSLAPaused, Actor: actor, At: now})
	case from == ticket.Retenido:
		due := ""
		if t.DueAt != nil {
			due = t.DueAt.UTC().Format(time.RFC3339)
		}
		return d.record(ctx, t, &ticket.Event{Kind: ticket.EventSLAResumed, Actor: actor, At: now, To: due})
	}
	return nil
}

// RecordMail records the outcome of sending an outbox mail on its ticket
// (mail_sent, mail_failed), so that the assignee hears of a failure. It
// implements mailout.Recorder.
func (d *Desk) RecordMail(ctx context.Context, ticketID int64, e *ticket.Event) error {
	return d.store.InTx(ctx, func(ctx context.Context) error {
		t, err := d.store.TicketByID(ctx, ticketID)
		if err != nil {
			return err
		}
		return d.record(ctx, t, e)
	})
}

func (d *Desk) due(start time.Time, dur time.Duration) (time.Time, error) {
	return d.calendar.Due(start, dur)
}

func (d *Desk) extend(due, from, to time.Time) time.Time {
	return d.calendar.Extend(due, from, to)
}

// change loads a ticket inside a transaction, lets fn change it, and writes
// it back with a new updated_at.
func (d *Desk) change(ctx context.Context, number string, fn func(ctx context.Context, t *ticket.Ticket, now time.Time) error) (*ticket.Ticket, error) {
	var t *ticket.Ticket
	err := d.store.InTx(ctx, func(ctx context.Context) error {
		var err error
		if t, err = d.store.TicketByNumber(ctx, number); err != nil {
			return err
		}
		now := d.now().UTC()
		if err := fn(ctx, t, now); err != nil {
			return err
		}
		t.UpdatedAt = now
		scheduleSLA(t)
		return d.store.UpdateTicket(ctx, t)
	})
	if err != nil {
		return nil, fmt.Errorf("changing ticket %s: %w", number, err)
	}
	return t, nil
}

// newAccessKey returns 26 random base32 characters (130 bits): with the
// ticket number it opens the status page. Lower case, for copying by hand.
func newAccessKey() (string, error) {
	return strings.ToLower(rand.Text()), nil
}
