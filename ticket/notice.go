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
	NoticeOperator       NoticeKind = "operator"          // an operator alert, to owners and operators
	NoticeOperatorOK     NoticeKind = "operator_resolved" // its condition cleared
)

// NoticeKinds lists every kind.
var NoticeKinds = []NoticeKind{NoticeAck, NoticeAnswer, NoticeRequester, NoticeHeld, NoticeClosed, NoticeAssigned,
	NoticeFailed, NoticeCommands, NoticeRejected, NoticeSLAAlert, NoticeDigest, NoticeSurvey, NoticeSurveyReminder,
	NoticeSurveyBad, NoticeMine, NoticeOperator, NoticeOperatorOK}

// NoticePayload is the typed content of a notice: one of the *Notice
// types below (the set is closed).
type NoticePayload interface{ noticeKind() NoticeKind }

// AckNotice acknowledges a new ticket.
type AckNotice struct {
	Attachments []string // documents the category requires (guide 4.2.1.x)
	OutOfHours  bool     // received outside business hours
}

// AnswerNotice carries a technician's answer.
type AnswerNotice struct{ Actor, Body string }

// RequesterNotice carries a message of the requester (or a participant in
// copy) to the assignee.
type RequesterNotice struct{ From, Body string }

// HeldNotice says the ticket is on hold and why.
type HeldNotice struct{ Reason string }

// ClosedNotice carries the solution, or the orientation of a ticket out
// of scope (guide 4.1.8).
type ClosedNotice struct {
	Solution   string // without OutOfScopePrefix
	OutOfScope bool
}

// AssignedNotice tells a technician of an assignment.
type AssignedNotice struct{ Body string }

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

func (AckNotice) noticeKind() NoticeKind       { return NoticeAck }
func (AnswerNotice) noticeKind() NoticeKind    { return NoticeAnswer }
func (RequesterNotice) noticeKind() NoticeKind { return NoticeRequester }
func (HeldNotice) noticeKind() NoticeKind      { return NoticeHeld }
func (ClosedNotice) noticeKind() NoticeKind    { return NoticeClosed }
func (AssignedNotice) noticeKind() NoticeKind  { return NoticeAssigned }
func (FailedNotice) noticeKind() NoticeKind    { return NoticeFailed }
func (SLAAlertNotice) noticeKind() NoticeKind  { return NoticeSLAAlert }
func (DigestNotice) noticeKind() NoticeKind    { return NoticeDigest }
func (SurveyBadNotice) noticeKind() NoticeKind { return NoticeSurveyBad }
func (MineNotice) noticeKind() NoticeKind      { return NoticeMine }

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
