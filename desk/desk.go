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
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/mesadeservicios/mesa/config"
	"github.com/mesadeservicios/mesa/rules"
	"github.com/mesadeservicios/mesa/ticket"
)

// Store is what the desk needs from storage. Methods called with the context
// InTx passes to its function run inside that transaction.
type Store interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	NextTicketSeq(ctx context.Context, year int) (int64, error)
	CreateTicket(ctx context.Context, t *ticket.Ticket) error
	UpdateTicket(ctx context.Context, t *ticket.Ticket) error
	TicketByNumber(ctx context.Context, number string) (*ticket.Ticket, error)
	AddEvent(ctx context.Context, e *ticket.Event) error
	EnqueueMail(ctx context.Context, m *ticket.Outgoing) error
}

// Notifier renders the mail an event causes (acknowledgement, notices to the
// assignee…). It runs inside the event's transaction, so the mail is queued
// if and only if the change commits. A nil Notifier sends nothing.
type Notifier interface {
	Notify(ctx context.Context, t *ticket.Ticket, e *ticket.Event) ([]*ticket.Outgoing, error)
}

// Calendar counts SLA time in business hours (package sla). Due returns the
// instant d of business time after start; Extend pushes due by the business
// time between from and to. A nil Calendar counts wall-clock time.
type Calendar interface {
	Due(start time.Time, d time.Duration) (time.Time, error)
	Extend(due, from, to time.Time) time.Time
	Between(from, to time.Time) time.Duration
	// DayLength is the business time of one working day.
	DayLength() time.Duration
}

// Classifier assigns category, type, criticality and group (package rules)
// and knows the catalogue.
type Classifier interface {
	Classify(m rules.Message) rules.Result
	Category(key string) (*rules.Category, bool)
}

// Options configure a Desk; zero fields take the documented defaults.
type Options struct {
	Notifier   Notifier
	Calendar   Calendar
	Classifier Classifier       // nil: tickets are created sin_clasificar
	Now        func() time.Time // time.Now
	Location   *time.Location   // config.Default()'s desk.timezone: the year in ticket numbers
	Prefix     string           // config.Default()'s desk.ticket_prefix
	Logger     *slog.Logger     // slog.Default()
	// Addresses are the desk's own addresses and aliases: mail from them is
	// quarantined, and mesa never writes to them.
	Addresses []string
	// RepliesPerHour caps the automatic mails to one address per hour,
	// against loops with other automatic responders; 0 means no cap.
	RepliesPerHour int
	// Replier renders the answers to technicians' commands.
	Replier Replier
	// TrustedAuthServID is the authserv-id of the organisation's mail
	// server in Authentication-Results: only its verdicts authenticate a
	// technician's commands.
	TrustedAuthServID string
	// AllowUnauthenticatedCommands turns the check off (a warning is
	// logged at every start).
	AllowUnauthenticatedCommands bool
	// ReopenWithin is the business time after closure during which a reply
	// from the requester reopens the ticket; later replies open a new
	// ticket linked to it. Zero means config.Default()'s desk.reopen_days
	// business days; negative, never.
	ReopenWithin time.Duration
	// RepliesPerDay caps automatic mails to one address per day, like
	// RepliesPerHour; 0 means no cap.
	RepliesPerDay int
	// WarnAt is the elapsed fraction of a ticket's SLA at which its
	// assignee is warned; config.Default()'s sla.warn_at when zero or out
	// of (0, 1).
	WarnAt float64
	// SLARecipients names who hears of a warning or a breach besides the
	// assignee (the group's managers); nil: the assignee only.
	SLARecipients SLARecipients
	// Alerts renders the SLA alert mails; nil: events only, no mail.
	Alerts AlertRenderer
	// AlertOutOfHours sends warnings and breaches of non-alta tickets at
	// once even outside business hours; by default they wait for the next
	// opening.
	AlertOutOfHours bool
	// Surveys renders the satisfaction survey mails; nil: no surveys.
	Surveys SurveyRenderer
	// Survey configures when surveys are sent, reminded and expired.
	Survey SurveyOptions
	// Digests renders the managers' digests; nil: none.
	Digests DigestRenderer
	// Mine renders the "Mis solicitudes" link mail; nil: no such page.
	Mine MineRenderer
	// AcceptAutomatedFrom lists senders (addresses, or "@domain") whose
	// automatic mail opens tickets, with no acknowledgement and no survey.
	AcceptAutomatedFrom []string
}

// Replier renders the mail that answers a technician's commands: kind
// "commands" (the result of each) or "rejected" (not authenticated).
type Replier interface {
	Reply(kind string, t *ticket.Ticket, to string, lines []string, inReplyTo string, at time.Time) (*ticket.Outgoing, error)
}

// MailCounter knows whether an address bounces and how much automatic
// mail went to it lately (each count bounded by its max), for the
// throttle.
type MailCounter interface {
	MailPressure(ctx context.Context, addr string, hourSince time.Time, hourMax int, daySince time.Time, dayMax int) (bool, int, int, error)
}

// Desk runs the use cases.
type Desk struct {
	store     Store
	notifier  Notifier
	calendar  Calendar
	classify  Classifier
	now       func() time.Time
	loc       *time.Location
	prefix    string
	log       *slog.Logger
	istore    IntakeStore // nil when the store cannot do intake
	dir       Directory   // nil: no automatic assignment
	replier   Replier     // nil: command results are not mailed
	authID    string      // trusted authserv-id for technician commands
	loadMu    sync.Mutex
	loads     map[string]*groupLoad // recent technician load per group
	noAuth    bool                  // commands accepted without the authentication check
	counter   MailCounter
	addresses []string
	perHour   int
	perDay    int
	reopen    time.Duration
	warnAt    float64
	// SLA watch (slawatch.go)
	slaRecipients SLARecipients
	alerts        AlertRenderer
	deferAlerts   bool
	// surveys (survey.go)
	surveys    SurveyRenderer
	surveyOpts SurveyOptions
	digests    DigestRenderer
	mine       MineRenderer
	automated  []string // senders whose automatic mail opens tickets
}

// New returns a Desk over s. opts may be nil.
func New(s Store, opts *Options) (*Desk, error) {
	if opts == nil {
		opts = &Options{}
	}
	d := &Desk{store: s, notifier: opts.Notifier, calendar: opts.Calendar, classify: opts.Classifier, now: opts.Now,
		loc: opts.Location, prefix: opts.Prefix, log: opts.Logger}
	if d.now == nil {
		d.now = time.Now
	}
	def := config.Default() // the one owner of every default value
	if d.loc == nil {
		loc, err := time.LoadLocation(def.Desk.Timezone)
		if err != nil {
			return nil, fmt.Errorf("loading %s: %w", def.Desk.Timezone, err)
		}
		d.loc = loc
	}
	if d.prefix == "" {
		d.prefix = def.Desk.TicketPrefix
	}
	if !ticket.ValidPrefix(d.prefix) {
		return nil, fmt.Errorf("%w: ticket prefix %q", ticket.ErrInvalid, d.prefix)
	}
	if d.log == nil {
		d.log = slog.Default()
	}
	d.istore, _ = s.(IntakeStore)
	d.loads = map[string]*groupLoad{}
	d.dir, _ = s.(Directory)
	d.replier, d.authID, d.noAuth = opts.Replier, opts.TrustedAuthServID, opts.AllowUnauthenticatedCommands
	if d.noAuth {
		d.log.Warn("technician commands are accepted WITHOUT checking that the mail is authentic (auth.require: false); anyone who forges a technician's From can change tickets")
	}
	d.counter, _ = s.(MailCounter)
	d.addresses, d.perHour, d.perDay = opts.Addresses, opts.RepliesPerHour, opts.RepliesPerDay
	d.reopen = opts.ReopenWithin
	d.warnAt = opts.WarnAt
	if d.warnAt <= 0 || d.warnAt >= 1 {
		d.warnAt = def.SLA.WarnAt
	}
	d.slaRecipients = opts.SLARecipients
	d.alerts = opts.Alerts
	d.deferAlerts = !opts.AlertOutOfHours
	d.surveys, d.surveyOpts, d.digests, d.mine = opts.Surveys, opts.Survey, opts.Digests, opts.Mine
	d.automated = opts.AcceptAutomatedFrom
	if d.surveyOpts.Disabled {
		d.surveys = nil
	}
	days := func(n int) time.Duration { return time.Duration(n) * d.dayLength() }
	if d.surveyOpts.Delay <= 0 {
		d.surveyOpts.Delay = def.Surveys.Delay
	}
	if d.surveyOpts.ReopenAtOrBelow == 0 {
		d.surveyOpts.ReopenAtOrBelow = def.Surveys.ReopenAtOrBelow
	}
	if d.surveyOpts.RemindAfter <= 0 {
		d.surveyOpts.RemindAfter = days(def.Surveys.RemindAfterDays)
	}
	if d.surveyOpts.ExpireAfter <= 0 {
		d.surveyOpts.ExpireAfter = days(def.Surveys.ExpireAfterDays)
	}
	if d.reopen == 0 {
		d.reopen = days(def.Desk.ReopenDays)
	}
	return d, nil
}

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
	// Details are recorded, as JSON, in the created event beside the
	// classification (message key, flags from intake).
	Details map[string]any
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
		Year: ticket.YearOf(now, d.loc), Subject: strings.TrimSpace(nt.Subject), Requester: requester,
		RequesterName: nt.RequesterName, State: ticket.Abierto, Type: nt.Type, Criticality: nt.Criticality,
		Category: nt.Category, Group: nt.Group, DueAt: nt.DueAt, CreatedAt: now, UpdatedAt: now,
		OriginMessageID: strings.Trim(nt.MessageID, "<> "),
	}
	details := map[string]any{}
	for k, v := range nt.Details {
		details[k] = v
	}
	if t.Category == "" && d.classify != nil {
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
		details["classification"] = c
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
		// The least loaded technician of the owning group takes it; the
		// ticket is written once, already assigned.
		who, err := d.pick(ctx, t.Group, 0)
		if err != nil {
			return err
		}
		t.Assignee = who
		seq, err := d.store.NextTicketSeq(ctx, t.Year)
		if err != nil {
			return err
		}
		t.Seq = seq
		t.Number = ticket.Number{Prefix: d.prefix, Year: t.Year, Seq: seq}.String()
		d.setDue(t, t.DueAt)
		scheduleSLA(t)
		if err := d.store.CreateTicket(ctx, t); err != nil {
			return err
		}
		if err := d.record(ctx, t, &ticket.Event{Kind: ticket.EventCreated, Actor: requester, At: now,
			Body: nt.Body, To: string(t.State), Data: data}); err != nil {
			return err
		}
		if err := d.dueEvent(ctx, t, nil, ticket.SystemActor, now); err != nil {
			return err
		}
		if who == "" {
			return nil
		}
		return d.record(ctx, t, &ticket.Event{Kind: ticket.EventAssigned, Actor: ticket.SystemActor, At: now, To: who, Body: nt.Body})
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
	return d.comment(ctx, number, actor, body, kind, "")
}

// StaffAnswer is a technician's answer to the requester: a comment that is
// mailed to the requester. It counts as the first response.
const StaffAnswer = `{"staff":true}`

// Answer records a technician's answer, which is sent to the requester.
func (d *Desk) Answer(ctx context.Context, number, actor, body string) (*ticket.Ticket, error) {
	return d.comment(ctx, number, actor, body, ticket.EventComment, StaffAnswer)
}

func (d *Desk) comment(ctx context.Context, number, actor, body string, kind ticket.EventKind, data string) (*ticket.Ticket, error) {
	if strings.TrimSpace(body) == "" {
		return nil, fmt.Errorf("%w: empty comment", ticket.ErrInvalid)
	}
	return d.change(ctx, number, func(ctx context.Context, t *ticket.Ticket, now time.Time) error {
		if data == StaffAnswer && t.FirstResponseAt == nil {
			t.FirstResponseAt = &now
		}
		return d.record(ctx, t, &ticket.Event{Kind: kind, Actor: actor, At: now, Body: body, Data: data})
	})
}

// Recategorize moves a ticket to another category of the catalogue: its
// group and due time follow the new category (the due time is counted again
// from creation). The category_changed event is what `mesa rules suggest`
// learns from.
func (d *Desk) Recategorize(ctx context.Context, number, actor, category string) (*ticket.Ticket, error) {
	if d.classify == nil {
		return nil, fmt.Errorf("%w: no catalogue configured", ticket.ErrInvalid)
	}
	cat, ok := d.classify.Category(category)
	if !ok && category != ticket.Unclassified {
		return nil, fmt.Errorf("%w: unknown category %q", ticket.ErrInvalid, category)
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
		if d.classify != nil && t.State.Open() {
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
	if d.istore == nil {
		return d.store.AddEvent(ctx, e)
	}
	return d.store.InTx(ctx, func(ctx context.Context) error {
		t, err := d.istore.TicketByID(ctx, ticketID)
		if err != nil {
			return err
		}
		return d.record(ctx, t, e)
	})
}

// holdReason says why automatic mail to the single recipient in to must be
// held instead of sent ("" when it may go): the address bounces for good,
// or it had RepliesPerHour or RepliesPerDay already (counted in the store,
// so a restart does not reset them).
func (d *Desk) holdReason(ctx context.Context, to []string, now time.Time) (string, error) {
	if d.counter == nil || len(to) != 1 {
		return "", nil
	}
	bad, hour, day, err := d.counter.MailPressure(ctx, to[0], now.Add(-time.Hour), d.perHour, now.Add(-24*time.Hour), d.perDay)
	switch {
	case err != nil:
		return "", err
	case bad:
		return "the address bounced for good (a delivery report said so)", nil
	case d.perHour > 0 && hour >= d.perHour || d.perDay > 0 && day >= d.perDay:
		return "too many to this address recently; a loop with an auto-responder?", nil
	}
	return "", nil
}

// dayLength is one business day: the calendar's, or a wall-clock day
// without a calendar.
func (d *Desk) dayLength() time.Duration {
	if d.calendar != nil {
		return d.calendar.DayLength()
	}
	return 24 * time.Hour
}

func (d *Desk) due(start time.Time, dur time.Duration) (time.Time, error) {
	if d.calendar != nil {
		return d.calendar.Due(start, dur)
	}
	return start.Add(dur), nil
}

func (d *Desk) extend(due, from, to time.Time) time.Time {
	if d.calendar != nil {
		return d.calendar.Extend(due, from, to)
	}
	return due.Add(to.Sub(from))
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

// record appends an event to t and queues the mail it causes.
func (d *Desk) record(ctx context.Context, t *ticket.Ticket, e *ticket.Event) error {
	e.TicketID = t.ID
	if err := d.store.AddEvent(ctx, e); err != nil {
		return err
	}
	if d.notifier == nil {
		return nil
	}
	mails, err := d.notifier.Notify(ctx, t, e)
	if err != nil {
		return fmt.Errorf("rendering mail for %s event: %w", e.Kind, err)
	}
	return d.queue(ctx, t, e.At, mails)
}

// queue puts mails about t (nil: about no ticket) in the outbox: never to
// the desk itself, held
// when the recipient had too much automatic mail lately or bounces, and
// once per dedupe key.
func (d *Desk) queue(ctx context.Context, t *ticket.Ticket, at time.Time, mails []*ticket.Outgoing) error {
	for _, m := range mails {
		// Never write to the desk itself (pain point A3).
		to := m.To[:0:0]
		for _, a := range m.To {
			if !d.isOwn(a) {
				to = append(to, strings.ToLower(a))
			}
		}
		if m.To = to; len(m.To) == 0 {
			continue
		}
		if why, err := d.holdReason(ctx, m.To, at); err != nil {
			return err
		} else if why != "" {
			// Held, not dropped: visible in the outbox, never sent
			// automatically (pain point A1).
			m.State = ticket.OutboxHeld
			d.log.Error("ALERT: automatic mail held: "+why, "subject", m.Subject, "to", strings.Join(m.To, ","),
				"per_hour", d.perHour, "per_day", d.perDay)
		}
		if m.TicketID == 0 && t != nil {
			m.TicketID = t.ID
		}
		if m.CreatedAt.IsZero() {
			m.CreatedAt = at
		}
		if m.NextAttemptAt.IsZero() {
			m.NextAttemptAt = at
		}
		err := d.store.EnqueueMail(ctx, m)
		if errors.Is(err, ticket.ErrAlreadyStored) {
			continue // the same notice was already queued: never send it twice
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// newAccessKey returns 26 random base32 characters (130 bits): with the
// ticket number it opens the status page. Lower case, for copying by hand.
func newAccessKey() (string, error) {
	return strings.ToLower(rand.Text()), nil
}
