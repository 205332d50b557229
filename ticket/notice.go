package ticket

import "time"

// A Notice is one mail the desk decided to send: what kind, to whom, in
// which language, under which dedupe key, about which ticket, with what
// facts. Package desk decides every notice and queues it through one
// function (the same hold rules for every kind); package mailout only
// renders a notice into subject, body and MIME.
type Notice struct {
	To, ToName string
	Lang       string // "es" or "en"
	// DedupeKey makes the notice queued at most once: a second notice with
	// the same key is skipped, never an error.
	DedupeKey string
	// Ticket is the ticket the mail is about; nil for a mail about none
	// (a digest, a "Mis solicitudes" link, an SLA alert listing several).
	Ticket *Ticket
	// InReplyTo is a Message-ID in angle brackets the mail threads with;
	// anything else (empty, a "sha256:" key) threads with nothing.
	InReplyTo string
	At        time.Time
	// AnswersAutomatic is set when the notice answers inbound mail from
	// its recipient that looks automatic (an auto-responder that does not
	// say so): only such notices are counted and held by the loop
	// throttle.
	AnswersAutomatic bool
	// Payload holds the facts of the kind of notice; its type says the
	// kind.
	Payload NoticePayload
}

// Kind is the notice's kind, from its payload.
func (n *Notice) Kind() NoticeKind {
	if n.Payload == nil {
		return ""
	}
	return n.Payload.noticeKind()
}

// NoticeKind names a kind of notice. Its string is also the name of the
// notice's template in mailout.
type NoticeKind string

// The notice kinds.
const (
	NoticeAck            NoticeKind = "ack"               // the acknowledgement of a new ticket, to the requester
	NoticeAnswer         NoticeKind = "answer"            // a technician's answer, to the requester
	NoticeRequester      NoticeKind = "requester"         // the requester's message, to the assignee
	NoticeHeld           NoticeKind = "held"              // the ticket is on hold, to the requester
	NoticeClosed         NoticeKind = "closed"            // the closure, to the requester
	NoticeAssigned       NoticeKind = "assigned"          // an assignment, to the technician
	NoticeFailed         NoticeKind = "failed"            // a mail of the ticket bounced, to the assignee
	NoticeCommands       NoticeKind = "commands"          // the results of a technician's commands
	NoticeRejected       NoticeKind = "rejected"          // commands refused: the mail was not authenticated
	NoticeSLAAlert       NoticeKind = "sla_alert"         // SLA warnings and breaches, to staff
	NoticeDigest         NoticeKind = "digest"            // a manager's digest
	NoticeSurvey         NoticeKind = "survey"            // the satisfaction survey, to the requester
	NoticeSurveyReminder NoticeKind = "survey_reminder"   // its one reminder
	NoticeSurveyBad      NoticeKind = "survey_bad"        // an unfavourable answer, to staff
	NoticeMine           NoticeKind = "mine"              // a "Mis solicitudes" link
	NoticeUndeliverable  NoticeKind = "undeliverable"     // a staff address bounces for good, to the owners (operator alert)
	NoticeEmpty          NoticeKind = "empty"             // an empty mail: please describe the request (no ticket)
	NoticeQueue          NoticeKind = "queue"             // open tickets by SLA risk: #mis_casos, #pendientes, the morning digest
	NoticeDuplicate      NoticeKind = "duplicate"         // a new ticket may repeat another of its requester, to its assignee
	NoticeLinked         NoticeKind = "linked"            // the requester's mail was added to their open ticket
	NoticeMassIncident   NoticeKind = "mass_incident"     // many tickets of one category at once, to its group
	NoticeAway           NoticeKind = "away"              // an absent or departed person's open tickets
	NoticeMonthlyReport  NoticeKind = "monthly_report"    // a manager's monthly follow-up report, the XLSX attached
	NoticeOperator       NoticeKind = "operator"          // an operator alert, to owners and operators
	NoticeOperatorOK     NoticeKind = "operator_resolved" // its condition cleared
)

// NoticeKinds lists every kind.
var NoticeKinds = []NoticeKind{NoticeAck, NoticeAnswer, NoticeRequester, NoticeHeld, NoticeClosed, NoticeAssigned,
	NoticeFailed, NoticeCommands, NoticeRejected, NoticeSLAAlert, NoticeDigest, NoticeSurvey, NoticeSurveyReminder,
	NoticeSurveyBad, NoticeMine, NoticeEmpty, NoticeQueue, NoticeDuplicate, NoticeLinked, NoticeMassIncident, NoticeAway,
	NoticeMonthlyReport, NoticeUndeliverable, NoticeOperator, NoticeOperatorOK}

// NoticePayload is the typed content of a notice: one of the *Notice
// types below (the set is closed).
type NoticePayload interface{ noticeKind() NoticeKind }

// AckNotice acknowledges a new ticket.
type AckNotice struct {
	// MissingForms are the forms the category requires (guide 4.2.1.x)
	// that the request did not bring; empty when they came.
	MissingForms []string
	OutOfHours   bool // received outside business hours
}

// AnswerNotice carries a technician's answer, with the files of the
// technician's mail. Copy marks the copy to a participant (To/Cc of the
// request, or #cc) rather than the mail to the requester.
type AnswerNotice struct {
	Actor, Body string
	Files       []NoticeFile
	Copy        bool
}

// RequesterNotice carries a message of the requester (or a participant in
// copy) to the assignee, with the files it brought.
type RequesterNotice struct {
	From, Body string
	Files      []NoticeFile
}

// NoticeFile is a file a notice passes on: attached (Data set) and, in
// every case, offered by a download link whose signed token is Token
// (the renderer makes the URL).
type NoticeFile struct {
	Name, ContentType string
	Size              int64
	Data              []byte // nil: too large to attach, the link only
	Token             string
	Expires           time.Time // when the link stops working
}

// HeldNotice says the ticket is on hold and why.
type HeldNotice struct{ Reason string }

// ClosedNotice carries the solution, or the orientation of a ticket out
// of scope (guide 4.1.8). Copy marks the copy to a participant.
type ClosedNotice struct {
	Solution   string // without OutOfScopePrefix
	OutOfScope bool
	Copy       bool
}

// AssignedNotice tells a technician of an assignment, with the
// requester's files. Candidates, for a sin_clasificar ticket sent to
// triage, are the categories the classifier found most likely, best first,
// each offered as a `#categoria <key>` line.
type AssignedNotice struct {
	Body       string
	Candidates []Candidate
	Files      []NoticeFile
}

// EmptyNotice answers a mail with no subject, no text and no files: no
// ticket was opened, please describe the request. Subject is the mail's
// subject, if any.
type EmptyNotice struct{ Subject string }

// FailedNotice tells the assignee a mail could not be delivered.
type FailedNotice struct{ Body string }

// CommandsNotice answers a technician's commands, or refuses them.
type CommandsNotice struct {
	Lines    []string
	Rejected bool // not authenticated: nothing was applied
}

// SLAAlertNotice lists the tickets that reached their warning and those
// that breached.
type SLAAlertNotice struct{ Warned, Breached []*Ticket }

// DigestNotice carries a manager's digest.
type DigestNotice struct{ Digest *Digest }

// SurveyNotice invites the requester to the survey (Token: the link's),
// or reminds them (no token: only its hash is kept).
type SurveyNotice struct {
	Token    string
	Reminder bool
}

// SurveyBadNotice tells staff of an unfavourable answer.
type SurveyBadNotice struct {
	Survey   *Survey
	Reopened bool // the answer reopened the ticket
}

// MineNotice carries a "Mis solicitudes" link's token.
type MineNotice struct{ Token string }

// UndeliverableNotice tells the desk's operators (owners) that a proven
// delivery report marked a staff address undeliverable: automatic mail to
// it is held until it sends authenticated mail or the mark expires.
type UndeliverableNotice struct {
	Address string // the staff address
	Status  string // what the report said
	Subject string // the subject of the mail that bounced
	Until   time.Time
}

// The conditions of operator alerts (OperatorNotice.Condition).
const (
	CondReauth      = "reauth"      // a mailbox needs re-authorisation
	CondSecret      = "secret"      // a client secret or certificate expires soon
	CondUnreachable = "unreachable" // a mailbox unreachable for a while
	CondOutbox      = "outbox"      // outgoing mail failing for a while
	CondHeld        = "held"        // mail held for a staff address
	CondBatch       = "batch"       // the hour's quarantined messages and mail held for requesters
)

// OperatorNotice is an operator alert (guide 4.9.1: the process owner;
// and people with role operator), or the news that its condition cleared.
type OperatorNotice struct {
	Condition string    // one of the Cond* constants
	About     string    // the mailbox or the address concerned; "" for the outbox
	Since     time.Time // when the condition began
	Detail    string    // the last error, the reason
	Days      int       // CondSecret: days left (0 or less: expired)
	Expires   time.Time // CondSecret: the expiry date
	Items     []string  // CondBatch: one line per message or held mail
	Resolved  bool
}

func (o OperatorNotice) noticeKind() NoticeKind {
	if o.Resolved {
		return NoticeOperatorOK
	}
	return NoticeOperator
}

// Condition is the record of an operator alert's condition: raised once
// per episode, cleared once.
type Condition struct {
	Key       string // e.g. reauth:ti, held:carlos@entidad.gov.co
	Group     string // conditions of a group supersede each other
	Episode   int
	Open      bool
	Detail    string
	RaisedAt  time.Time
	ClearedAt *time.Time
}

// The scopes of a QueueNotice.
const (
	QueueMine    = "mine"    // #mis_casos: the sender's tickets
	QueuePending = "pending" // #pendientes: a manager's groups, or one group
	QueueMorning = "morning" // the personal morning digest
)

// QueueItem is one open ticket in a queue, with its SLA standing.
type QueueItem struct {
	Ticket *Ticket
	// Remaining is the business time left to the due time, negative when
	// past due; meaningless without a due time (HasDue false).
	Remaining time.Duration
	HasDue    bool
	Paused    bool // retenido: the clock is stopped
}

// QueueNotice lists open tickets, most at risk first.
type QueueNotice struct {
	Scope  string   // QueueMine, QueuePending or QueueMorning
	Groups []string // the groups of a QueuePending list; none: the whole desk
	Items  []QueueItem
}

// DuplicateNotice tells the assignee of a new ticket that it may repeat
// another open ticket of the same requester.
type DuplicateNotice struct {
	Other string  // the other ticket's number
	Score float64 // the text similarity, 0–1
}

// LinkedNotice tells a requester that their mail was added to their open
// ticket about the same thing instead of opening a new one.
type LinkedNotice struct{}

// MassIncidentNotice is the one alert of a burst of tickets of a
// category, with the command that links them under the first.
type MassIncidentNotice struct {
	Category string
	Window   time.Duration
	Tickets  []*Ticket
	Command  string // the line to send back, e.g. "#masivo MS-2026-000002 MS-2026-000003"
}

// AwayNotice lists the open tickets of a person who is away (#ausente:
// offered to the recipient) or gone from the configuration (Departed:
// given back to their groups; Assignee shows who took each).
type AwayNotice struct {
	Person   string
	Until    *time.Time // the first day back (absence)
	Departed bool
	Tickets  []*Ticket
}

// MonthTotals are the figures of one month of the desk (or of some
// groups), as the follow-up report counts them: tickets opened and closed
// in the month, the SLA compliance of the closures that had a due time,
// the first response of the tickets opened, the satisfaction of the
// closures with an answered survey.
type MonthTotals struct {
	Opened, Closed int
	Compliance     Compliance
	FirstResponse  Durations // business time
	Answered       int       // closures with a rating
	Rating         float64   // their mean, 1–5
}

// MonthlyReportNotice carries a manager's report of a month: its totals
// for the body and the report itself (XLSX) as File, attached.
type MonthlyReportNotice struct {
	Year   int
	Month  time.Month
	Groups []string // the manager's groups; none: the whole desk
	Totals MonthTotals
	File   NoticeFile
}

func (MonthlyReportNotice) noticeKind() NoticeKind { return NoticeMonthlyReport }

func (QueueNotice) noticeKind() NoticeKind        { return NoticeQueue }
func (DuplicateNotice) noticeKind() NoticeKind    { return NoticeDuplicate }
func (LinkedNotice) noticeKind() NoticeKind       { return NoticeLinked }
func (MassIncidentNotice) noticeKind() NoticeKind { return NoticeMassIncident }
func (AwayNotice) noticeKind() NoticeKind         { return NoticeAway }

func (AckNotice) noticeKind() NoticeKind           { return NoticeAck }
func (AnswerNotice) noticeKind() NoticeKind        { return NoticeAnswer }
func (RequesterNotice) noticeKind() NoticeKind     { return NoticeRequester }
func (HeldNotice) noticeKind() NoticeKind          { return NoticeHeld }
func (ClosedNotice) noticeKind() NoticeKind        { return NoticeClosed }
func (AssignedNotice) noticeKind() NoticeKind      { return NoticeAssigned }
func (FailedNotice) noticeKind() NoticeKind        { return NoticeFailed }
func (SLAAlertNotice) noticeKind() NoticeKind      { return NoticeSLAAlert }
func (DigestNotice) noticeKind() NoticeKind        { return NoticeDigest }
func (SurveyBadNotice) noticeKind() NoticeKind     { return NoticeSurveyBad }
func (MineNotice) noticeKind() NoticeKind          { return NoticeMine }
func (EmptyNotice) noticeKind() NoticeKind         { return NoticeEmpty }
func (UndeliverableNotice) noticeKind() NoticeKind { return NoticeUndeliverable }

func (c CommandsNotice) noticeKind() NoticeKind {
	if c.Rejected {
		return NoticeRejected
	}
	return NoticeCommands
}

func (s SurveyNotice) noticeKind() NoticeKind {
	if s.Reminder {
		return NoticeSurveyReminder
	}
	return NoticeSurvey
}

// OutOfScopePrefix starts the solution of a ticket closed as out of scope
// (guide 4.1.8); the closure notice shows the rest as an orientation.
const OutOfScopePrefix = "Fuera del alcance de la Mesa de Servicios. Orientación: "
