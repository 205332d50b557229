package desk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/mesadeservicios/mesa/auth"
	"github.com/mesadeservicios/mesa/config"
	"github.com/mesadeservicios/mesa/rules"
	"github.com/mesadeservicios/mesa/ticket"
)

// The desk's contract with its collaborators. Every one is a required,
// typed field of Deps; none is discovered at run time. The compile-time
// checks against the real implementations (*store.DB, *mailout.Renderer,
// *sla.Calendar, *rules.Engine) are in cmd/mesa/contracts.go, where the
// import graph allows them.

// Store is everything the desk needs from storage: the small interfaces
// below, one per use case. Methods called with the context InTx passes to
// its function run inside that transaction.
type Store interface {
	TxStore
	IntakeStore
	Directory
	MailCounter
	EventReader
	SLAStore
	SLARecipients
	DigestStore
	MineStore
	SurveyStore
	OperatorStore
	FileStore
	QueueStore
	LinkStore
	OutcomeStore
}

// QueueStore is what the queues by mail, absences and departures need.
type QueueStore interface {
	OpenTicketsAssignedTo(ctx context.Context, email string) ([]*ticket.Ticket, error)
	CreatedBetween(ctx context.Context, groups []string, from, to time.Time) ([]*ticket.Ticket, error)
	GroupPeople(ctx context.Context, group string) ([]*ticket.Person, error)
	SetAbsence(ctx context.Context, email string, until *time.Time, substitute string) error
	SetDigestChoice(ctx context.Context, email, choice string) error
	InactiveAssignees(ctx context.Context) ([]string, error)
}

// LinkStore is what duplicates, mass incidents and merges need.
type LinkStore interface {
	// RecentOpenTicketsWithFirst returns the requester's open tickets
	// created at or after since, newest first (at most 50), the body of
	// each one's first event when that is its creation, and those the
	// requester is a participant of.
	RecentOpenTicketsWithFirst(ctx context.Context, requester string, since time.Time) ([]*ticket.Ticket, map[int64]string, map[int64]bool, error)
	CategoryTicketsSince(ctx context.Context, category string, since time.Time) ([]*ticket.Ticket, error)
	// MassPressure counts, up to upTo, a category's open tickets created
	// at or after since, and says when its last mass alert was.
	MassPressure(ctx context.Context, category string, since time.Time, upTo int) (int, time.Time, error)
	SetMassAlert(ctx context.Context, category string, at time.Time) error
	LinkTicket(ctx context.Context, parentID, childID int64, kind string, at time.Time) error
	LinkedChildren(ctx context.Context, parentID int64, kind string) ([]*ticket.Ticket, error)
	ParentOf(ctx context.Context, childID int64) (int64, string, error)
	MergeTicket(ctx context.Context, from, into *ticket.Ticket) error
}

// TxStore is the core of the store: transactions, tickets, events and the
// outbox.
type TxStore interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	NextTicketSeq(ctx context.Context, year int) (int64, error)
	CreateTicket(ctx context.Context, t *ticket.Ticket) error
	UpdateTicket(ctx context.Context, t *ticket.Ticket) error
	TicketByNumber(ctx context.Context, number string) (*ticket.Ticket, error)
	AddEvent(ctx context.Context, e *ticket.Event) error
	EnqueueMail(ctx context.Context, m *ticket.Outgoing) error
}

// MailCounter knows whether an address was marked undeliverable since
// badSince and how many answers to automatic-looking mail went to it
// lately (each count bounded by its max), for the loop throttle.
type MailCounter interface {
	MailPressure(ctx context.Context, addr string, badSince, hourSince time.Time, hourMax int, daySince time.Time, dayMax int) (bool, int, int, error)
}

// MailRenderer renders a notice the desk decided into an outbox mail
// (subject, body, MIME, Message-ID); it decides nothing. It runs inside
// the transaction of the change that caused the notice, so the mail is
// queued if and only if the change commits.
type MailRenderer interface {
	Render(n *ticket.Notice) (*ticket.Outgoing, error)
}

// Calendar counts SLA time in business hours (package sla). Due returns the
// instant d of business time after start; Extend pushes due by the business
// time between from and to; IsOpen tells business hours.
type Calendar interface {
	Due(start time.Time, d time.Duration) (time.Time, error)
	Extend(due, from, to time.Time) time.Time
	Between(from, to time.Time) time.Duration
	IsOpen(t time.Time) bool
	// IsWorkday tells working days (weekdays of the calendar that are not
	// holidays): digests go out only on them.
	IsWorkday(t time.Time) bool
	// DayLength is the business time of one working day.
	DayLength() time.Duration
}

// Classifier assigns category, type, criticality and group (package rules)
// and knows the catalogue.
type Classifier interface {
	Classify(m rules.Message) rules.Result
	Category(key string) (*rules.Category, bool)
}

// AttachmentDecoder decodes again, from the raw message, a file intake
// did not keep decoded (package mailin: larger than it keeps), given the
// SHA-256 (hex) of its content.
type AttachmentDecoder interface {
	DecodeAttachment(raw []byte, sha256 string) ([]byte, error)
}

// Deps are the desk's collaborators and configuration. Every collaborator
// is required: New refuses a nil one.
type Deps struct {
	Store      Store
	Mail       MailRenderer
	Calendar   Calendar
	Classifier Classifier
	Files      AttachmentDecoder
	Now        func() time.Time
	Logger     *slog.Logger
	Config     Config
}

// Config holds the desk's policy values; zero fields take the documented
// defaults. An optional feature is a switch here, never a missing
// collaborator.
type Config struct {
	Location *time.Location // config.Default()'s desk.timezone: the year in ticket numbers
	Prefix   string         // config.Default()'s desk.ticket_prefix
	// Language is the language of mail to staff and, by default, to
	// requesters: es (default) or en.
	Language string
	// EnglishFor lists requesters who get mail in the other language
	// (English when Language is es): addresses, or "@domain".
	EnglishFor []string
	// Addresses are the desk's own addresses and aliases: mail from them is
	// quarantined, and mesa never writes to them.
	Addresses []string
	// RepliesPerHour caps the automatic mails to one address per hour,
	// against loops with other automatic responders; 0 means no cap.
	RepliesPerHour int
	// RepliesPerDay caps automatic mails to one address per day, like
	// RepliesPerHour; 0 means no cap.
	RepliesPerDay int
	// TrustedAuthServID is the authserv-id of the organisation's mail
	// server in Authentication-Results: only its verdicts authenticate a
	// technician's commands.
	TrustedAuthServID string
	// AllowUnauthenticatedCommands turns the check off (a warning is
	// logged at every start).
	AllowUnauthenticatedCommands bool
	// Auth is how mail is authenticated (package auth: provider,
	// authserv-id, tenant). A zero Provider means rfc8601 with
	// TrustedAuthServID; see Config.AuthPolicy.
	Auth auth.Policy
	// VERP, with an address and a secret, is the per-message return path
	// the outbox worker sends with: a delivery report addressed to one
	// names the outbox row it bounces. Zero: reports prove themselves only
	// by the exact Message-ID of a mail to their Final-Recipient.
	VERP auth.VERP
	// UndeliverableFor is how long a permanent bounce holds automatic mail
	// to an address (unless the address sends authenticated mail first);
	// 30 days when zero.
	UndeliverableFor time.Duration
	// ReopenWithin is the business time after closure during which a reply
	// from the requester reopens the ticket; later replies open a new
	// ticket linked to it. Zero means 5 business days (45 h); negative,
	// never.
	ReopenWithin time.Duration
	// WarnAt is the elapsed fraction of a ticket's SLA at which its
	// assignee is warned; 0.75 when zero or out of (0, 1).
	WarnAt float64
	// AlertOutOfHours sends warnings and breaches of non-alta tickets at
	// once even outside business hours; by default they wait for the next
	// opening.
	AlertOutOfHours bool
	// Survey configures when surveys are sent, reminded and expired, and
	// turns them off.
	Survey SurveyOptions
	// AcceptAutomatedFrom lists senders (addresses, or "@domain") whose
	// automatic mail opens tickets, with no acknowledgement and no survey.
	AcceptAutomatedFrom []string
	// TriageGroup receives sin_clasificar tickets (first-level triage);
	// empty means the group of ti.soporte in the catalogue.
	TriageGroup string
	// TriageResolution is the business time to triage a sin_clasificar
	// ticket; zero means config.Default()'s rules.triage_resolution
	// (2h30m, guide 4.2.1.1).
	TriageResolution time.Duration
	// NoCopies stops the copies of public answers to the participants in
	// To/Cc of a request (desk.copy_participants: false).
	NoCopies bool
	// NoticeAttachmentBytes bounds, in bytes, the files attached to one
	// notice (together); the rest travel as download links.
	// config.Default()'s limits.notice_attachment_bytes when zero; negative:
	// nothing attached, links only.
	NoticeAttachmentBytes int64
	// FileLinkTTL is how long a download link of a file works;
	// config.Default()'s limits.attachment_link_ttl when zero.
	FileLinkTTL time.Duration
	// MassThreshold tickets of one category within MassWindow raise one
	// mass-incident alert to the category's group; config.Default()'s
	// mass_incident values when zero, never when MassThreshold is negative.
	MassThreshold int
	MassWindow    time.Duration
	// Model is the header of the learned model the Classifier uses (nil:
	// the catalogue's keywords alone), for the weekly digest's section on
	// classification: its training date and corpus size.
	Model *rules.ModelMeta
	// Routes are the routing hints of the desk's mailboxes, by the
	// Source.Mailbox of their messages.
	Routes map[string]Route
	// Operators configure the operator alerts (OperatorAlerts).
	Operators OperatorOptions
}

// Route is what a mailbox tells intake about its mail: a prior for the
// classifier's doubt.
type Route struct {
	// DefaultGroup triages the mailbox's tickets the classifier leaves
	// sin_clasificar, instead of the desk's triage group.
	DefaultGroup string
}

// DuplicateWindow is how far back intake looks for an open ticket of the
// same requester about the same thing.
const DuplicateWindow = 24 * time.Hour

// Desk runs the use cases.
type Desk struct {
	store    Store
	mail     MailRenderer
	calendar Calendar
	classify Classifier
	files    AttachmentDecoder
	now      func() time.Time
	log      *slog.Logger
	cfg      Config // with its defaults filled in
	auth     auth.Policy
	loadMu   sync.Mutex
	loads    map[string]*groupLoad // recent technician load per group
	fkey     fileKey               // the key of file links, read once
}

// New returns a Desk over its collaborators, every one of them required.
func New(deps Deps) (*Desk, error) {
	var missing []error
	for _, c := range []struct {
		name string
		nil_ bool
	}{{"Store", deps.Store == nil}, {"Mail", deps.Mail == nil}, {"Calendar", deps.Calendar == nil},
		{"Classifier", deps.Classifier == nil}, {"Files", deps.Files == nil}, {"Now", deps.Now == nil}, {"Logger", deps.Logger == nil}} {
		if c.nil_ {
			missing = append(missing, fmt.Errorf("desk: Deps.%s is required", c.name))
		}
	}
	if err := errors.Join(missing...); err != nil {
		return nil, err
	}
	cfg := deps.Config
	def := config.Default() // the one owner of every default value
	if cfg.Location == nil {
		loc, err := time.LoadLocation(def.Desk.Timezone)
		if err != nil {
			return nil, fmt.Errorf("loading %s: %w", def.Desk.Timezone, err)
		}
		cfg.Location = loc
	}
	if cfg.Prefix == "" {
		cfg.Prefix = def.Desk.TicketPrefix
	}
	if !ticket.ValidPrefix(cfg.Prefix) {
		return nil, fmt.Errorf("%w: ticket prefix %q", ticket.ErrInvalid, cfg.Prefix)
	}
	switch cfg.Language {
	case "":
		cfg.Language = def.Desk.Language
	case "es", "en":
	default:
		return nil, fmt.Errorf("%w: language %q (es or en)", ticket.ErrInvalid, cfg.Language)
	}
	if cfg.WarnAt <= 0 || cfg.WarnAt >= 1 {
		cfg.WarnAt = def.SLA.WarnAt
	}
	days := func(n int) time.Duration { return time.Duration(n) * deps.Calendar.DayLength() }
	if cfg.Survey.Delay <= 0 {
		cfg.Survey.Delay = def.Surveys.Delay
	}
	if cfg.Survey.ReopenAtOrBelow == 0 {
		cfg.Survey.ReopenAtOrBelow = def.Surveys.ReopenAtOrBelow
	}
	if cfg.Survey.RemindAfter <= 0 {
		cfg.Survey.RemindAfter = days(def.Surveys.RemindAfterDays)
	}
	if cfg.Survey.ExpireAfter <= 0 {
		cfg.Survey.ExpireAfter = days(def.Surveys.ExpireAfterDays)
	}
	if cfg.Operators.UnreachableAfter <= 0 {
		cfg.Operators.UnreachableAfter = def.Alerts.UnreachableAfter
	}
	if cfg.Operators.OutboxFailingAfter <= 0 {
		cfg.Operators.OutboxFailingAfter = def.Alerts.OutboxFailingAfter
	}
	if cfg.Operators.BatchEvery <= 0 {
		cfg.Operators.BatchEvery = def.Alerts.BatchEvery
	}
	if cfg.TriageResolution <= 0 {
		cfg.TriageResolution = def.Rules.TriageResolution
	}
	if cfg.NoticeAttachmentBytes == 0 {
		cfg.NoticeAttachmentBytes = def.Limits.NoticeAttachmentBytes
	}
	if cfg.FileLinkTTL <= 0 {
		cfg.FileLinkTTL = def.Limits.AttachmentLinkTTL
	}
	if cfg.MassThreshold == 0 {
		cfg.MassThreshold = def.MassIncident.Threshold
	}
	if cfg.MassWindow <= 0 {
		cfg.MassWindow = def.MassIncident.Window
	}
	if cfg.ReopenWithin == 0 {
		cfg.ReopenWithin = days(def.Desk.ReopenDays)
	}
	if cfg.UndeliverableFor <= 0 {
		cfg.UndeliverableFor = def.Limits.UndeliverableFor
	}
	d := &Desk{store: deps.Store, mail: deps.Mail, calendar: deps.Calendar, classify: deps.Classifier, files: deps.Files, now: deps.Now,
		log: deps.Logger, cfg: cfg, auth: cfg.AuthPolicy(), loads: map[string]*groupLoad{}}
	if !d.auth.Provider.Valid() {
		return nil, fmt.Errorf("%w: auth provider %q (rfc8601, microsoft365, google or none)", ticket.ErrInvalid, d.auth.Provider)
	}
	switch {
	case d.auth.Off:
		d.log.Warn("staff mail is believed WITHOUT checking that it is authentic (auth.require: false); anyone who forges a technician's From can change tickets and answer requesters as the desk")
	case d.auth.Provider == auth.None:
		d.log.Warn("auth.provider is none: no mail is authenticated, so no technician can act by mail (their mail is kept as unverified notes)")
	case d.auth.Provider == auth.RFC8601 && d.auth.TrustedAuthServID == "":
		d.log.Warn("auth.trusted_authserv_id is empty: no mail is authenticated, so no technician can act by mail; set it to your mail server's authserv-id")
	}
	return d, nil
}
