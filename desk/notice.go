package desk

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mesadeservicios/mesa/ticket"
)

// Every mail mesa sends is a ticket.Notice decided here (kind, recipient,
// language, dedupe key, typed payload) and put in the outbox by queue, the
// one function that applies the hold rules (holdReason) and treats a dedupe
// key already queued as done. mailout only renders.

// eventFacts is what a change knows about its event beyond the event
// itself, for the notice the event causes.
type eventFacts struct {
	staff       bool               // a technician's answer to the requester
	automated   bool               // a ticket opened by an accepted machine: no acknowledgement
	messageKey  string             // the dedupe key of the mail that opened the ticket
	attachments []string           // documents the category requires
	candidates  []ticket.Candidate // triage: the categories a sin_clasificar ticket may be
	// files pass on with the notice: the requester's with the assignment
	// (read from the store when nil) and with their messages, a
	// technician's with the answer.
	files []ticket.NoticeFile
}

// record appends an event to t and queues the notice it causes.
func (d *Desk) record(ctx context.Context, t *ticket.Ticket, e *ticket.Event) error {
	return d.recordWith(ctx, t, e, eventFacts{})
}

func (d *Desk) recordWith(ctx context.Context, t *ticket.Ticket, e *ticket.Event, f eventFacts) error {
	e.TicketID = t.ID
	if err := d.store.AddEvent(ctx, e); err != nil {
		return err
	}
	if e.Kind == ticket.EventAssigned && e.To != "" && f.files == nil {
		// Whoever takes the ticket gets the requester's files.
		as, err := d.store.Attachments(ctx, t.ID)
		if err != nil {
			return err
		}
		if f.files, err = d.noticeFiles(ctx, as); err != nil {
			return err
		}
	}
	n := d.eventNotice(t, e, f)
	if n == nil {
		return nil
	}
	if _, _, err := d.queue(ctx, n); err != nil {
		return err
	}
	return d.queueCopies(ctx, t, e, n)
}

// queueCopies sends the copies of a public answer (a technician's
// answer, the closure) to the ticket's participants in copy: never to the
// requester, the one who acted, or the desk itself.
func (d *Desk) queueCopies(ctx context.Context, t *ticket.Ticket, e *ticket.Event, n *ticket.Notice) error {
	if d.cfg.NoCopies || n.To != t.Requester {
		return nil
	}
	var copyOf func() ticket.NoticePayload
	switch p := n.Payload.(type) {
	case ticket.AnswerNotice:
		copyOf = func() ticket.NoticePayload { p.Copy = true; return p }
	case ticket.ClosedNotice:
		copyOf = func() ticket.NoticePayload { p.Copy = true; return p }
	default:
		return nil
	}
	ps, err := d.store.Participants(ctx, t.ID)
	if err != nil {
		return err
	}
	for _, p := range ps {
		if !p.Copy || p.Email == t.Requester || p.Email == strings.ToLower(e.Actor) || d.isOwn(p.Email) {
			continue
		}
		c := *n
		c.To, c.ToName, c.Lang, c.Payload = p.Email, "", d.langFor(p.Email), copyOf()
		c.DedupeKey = n.DedupeKey + ":cc:" + p.Email
		if _, _, err := d.queue(ctx, &c); err != nil {
			return err
		}
	}
	return nil
}

// eventNotice decides the mail an event causes, or nil: the
// acknowledgement of a new ticket, a technician's answer, the hold and
// the closure to the requester; the requester's messages, assignments and
// delivery failures to the technician.
func (d *Desk) eventNotice(t *ticket.Ticket, e *ticket.Event, f eventFacts) *ticket.Notice {
	n := &ticket.Notice{Ticket: t, At: e.At, Lang: d.cfg.Language}
	requester := func(p ticket.NoticePayload) {
		n.To, n.ToName, n.Payload = t.Requester, t.RequesterName, p
	}
	switch {
	case e.Kind == ticket.EventCreated:
		if f.automated {
			return nil // an alert or a form from an accepted machine: nobody reads an acknowledgement
		}
		requester(ticket.AckNotice{MissingForms: f.attachments, OutOfHours: !d.calendar.IsOpen(e.At)})
		n.InReplyTo = f.messageKey
	case e.Kind == ticket.EventComment && f.staff:
		requester(ticket.AnswerNotice{Actor: e.Actor, Body: e.Body, Files: f.files})
	case e.Kind == ticket.EventComment && t.Assignee != "" && e.Actor != t.Assignee:
		n.To, n.Payload = t.Assignee, ticket.RequesterNotice{From: e.Actor, Body: e.Body, Files: f.files}
	case e.Kind == ticket.EventStateChanged && e.To == string(ticket.Retenido):
		requester(ticket.HeldNotice{Reason: e.Body})
	case e.Kind == ticket.EventStateChanged && e.To == string(ticket.Cerrado) && e.From != string(ticket.AbiertoPorEncuesta):
		rest, out := strings.CutPrefix(e.Body, ticket.OutOfScopePrefix)
		requester(ticket.ClosedNotice{Solution: rest, OutOfScope: out})
	case e.Kind == ticket.EventAssigned && e.To != "":
		n.To, n.Payload = e.To, ticket.AssignedNotice{Body: e.Body, Candidates: f.candidates, Files: f.files}
	case e.Kind == ticket.EventMailFailed && t.Assignee != "" && !strings.Contains(e.To, t.Assignee):
		n.To, n.Payload = t.Assignee, ticket.FailedNotice{Body: e.Body}
	default:
		return nil
	}
	if n.To == t.Requester {
		n.Lang = d.langFor(n.To)
		if n.InReplyTo == "" && t.OriginMessageID != "" {
			n.InReplyTo = "<" + t.OriginMessageID + ">" // every mail to the requester threads with the first one
		}
	}
	n.DedupeKey = fmt.Sprintf("%s:%s:%d", n.Kind(), t.Number, e.ID)
	if n.Kind() == ticket.NoticeAck {
		n.DedupeKey = "ack:" + t.Number
	}
	return n
}

// queue is the one way mail enters the outbox. It never writes to the
// desk itself, renders the notice, holds it when holdReason says so (held,
// not dropped: visible in the outbox, never sent automatically), and
// queues it once per dedupe key: a key already queued is skipped, never an
// error. It returns the rendered mail (nil when the recipient is the desk)
// and whether it was queued now.
func (d *Desk) queue(ctx context.Context, n *ticket.Notice) (*ticket.Outgoing, bool, error) {
	n.To = strings.ToLower(strings.TrimSpace(n.To))
	if n.To == "" || d.isOwn(n.To) {
		return nil, false, nil // never write to the desk itself (pain point A3)
	}
	kind := n.Kind()
	if kind == "" || n.DedupeKey == "" {
		return nil, false, fmt.Errorf("%w: a notice needs a payload and a dedupe key", ticket.ErrInvalid)
	}
	if n.Lang == "" {
		n.Lang = d.cfg.Language
	}
	if n.At.IsZero() {
		n.At = d.now().UTC()
	}
	m, err := d.mail.Render(n)
	if err != nil {
		return nil, false, fmt.Errorf("rendering the %s mail to %s: %w", kind, n.To, err)
	}
	m.DedupeKey, m.To = n.DedupeKey, []string{n.To}
	if n.Ticket != nil {
		m.TicketID = n.Ticket.ID
	}
	m.CreatedAt, m.NextAttemptAt = n.At, n.At
	why, err := d.holdReason(ctx, n)
	if err != nil {
		return nil, false, err
	}
	if why != "" {
		m.State = ticket.OutboxHeld
		d.log.Error("ALERT: automatic mail held: "+why, "kind", kind, "subject", m.Subject, "to", n.To,
			"per_hour", d.cfg.RepliesPerHour, "per_day", d.cfg.RepliesPerDay)
	}
	err = d.store.EnqueueMail(ctx, m)
	if errors.Is(err, ticket.ErrAlreadyStored) {
		return m, false, nil // the same notice was already queued: never send it twice
	}
	if err != nil {
		return nil, false, err
	}
	return m, true, nil
}

// holdReason says why a notice must be held instead of sent ("" when it
// may go): the address bounces for good, or it had RepliesPerHour or
// RepliesPerDay already (counted in the store, so a restart does not reset
// them). It is the one hold rule for every kind of mail; the notice's kind
// is at hand for rules that depend on it.
func (d *Desk) holdReason(ctx context.Context, n *ticket.Notice) (string, error) {
	now := n.At
	bad, hour, day, err := d.store.MailPressure(ctx, n.To, now.Add(-time.Hour), d.cfg.RepliesPerHour, now.Add(-24*time.Hour), d.cfg.RepliesPerDay)
	switch {
	case err != nil:
		return "", err
	case bad:
		return "the address bounced for good (a delivery report said so)", nil
	case d.cfg.RepliesPerHour > 0 && hour >= d.cfg.RepliesPerHour || d.cfg.RepliesPerDay > 0 && day >= d.cfg.RepliesPerDay:
		return "too many to this address recently; a loop with an auto-responder?", nil
	}
	return "", nil
}

// langFor is the language of mail to a requester: the desk's, or the
// other one for the addresses of EnglishFor. Staff always get the desk's.
func (d *Desk) langFor(addr string) string {
	addr = strings.ToLower(addr)
	for _, e := range d.cfg.EnglishFor {
		e = strings.ToLower(strings.TrimSpace(e))
		if e != "" && (e == addr || strings.HasPrefix(e, "@") && strings.HasSuffix(addr, e)) {
			if d.cfg.Language == "es" {
				return "en"
			}
			return "es"
		}
	}
	return d.cfg.Language
}
