package ticket

import "time"

// Outgoing is a rendered mail waiting in the outbox. It is written in the same
// transaction as the change that causes it and holds the final bytes, so a
// retry sends exactly what was first rendered.
type Outgoing struct {
	ID            int64
	TicketID      int64 // 0 when the mail concerns no ticket (digests)
	DedupeKey     string
	From          string
	To            []string
	Subject       string
	MessageID     string // without angle brackets
	Raw           []byte // the complete RFC 5322 message
	State         OutboxState
	Attempts      int
	NextAttemptAt time.Time
	LastError     string
	CreatedAt     time.Time
	SentAt        *time.Time
}

// OutboxState is where an outbox row stands.
type OutboxState string

// The outbox states.
const (
	OutboxPending OutboxState = "pending"
	OutboxSent    OutboxState = "sent"
	OutboxFailed  OutboxState = "failed" // gave up after the last attempt
	OutboxHeld    OutboxState = "held"   // not sent: throttled or the address bounces; a person may release it
	// OutboxDiscarded: an operator decided it is never to be sent (`mesa outbox discard`).
	OutboxDiscarded OutboxState = "discarded"
)

// RawMessage is an inbound message kept verbatim, with the key that makes
// processing it idempotent: its Message-ID, or the SHA-256 of its bytes when
// it has none.
type RawMessage struct {
	ID          int64
	Key         string
	MessageID   string
	Mailbox     string
	UIDValidity uint32
	UID         uint32
	From        string
	Subject     string
	Raw         []byte
	ReceivedAt  time.Time
	TicketID    int64  // 0 when the message caused no ticket change
	Disposition string // what intake did with it: ticket, reply, autoreply, bounce, quarantined
	Reason      string // why it was quarantined, or a note about it
}

// Attachment is a file that came with an inbound message.
type Attachment struct {
	ID          int64
	MessageID   int64
	TicketID    int64
	Filename    string
	ContentType string
	Size        int64
	SHA256      string
	Data        []byte
}

// Cursor is how far the intake has read a mailbox: the last UID processed
// under one UIDVALIDITY (RFC 9051 §2.3.1.1).
type Cursor struct {
	Mailbox     string
	UIDValidity uint32
	LastUID     uint32
	UpdatedAt   time.Time
}

// Person is somebody the desk knows: a technician, manager or owner.
// Requesters need no record; they are known by their address.
type Person struct {
	ID     int64
	Email  string
	Name   string
	Role   Role
	Level  int // 1 or 2 for technicians, 0 otherwise
	Groups []string
	Active bool
	// AbsentUntil, while in the future, keeps new assignments away from
	// the person (#ausente); Substitute is who was offered their tickets.
	AbsentUntil *time.Time
	Substitute  string
	// NoDigest is the configuration's opt-out of the personal morning
	// digest (people[].digest: false); DigestChoice is the person's own
	// (#resumen "on", #sin_resumen "off", "" none), which wins.
	NoDigest     bool
	DigestChoice string
}

// Absent reports whether p is away at now.
func (p *Person) Absent(now time.Time) bool {
	return p.AbsentUntil != nil && now.Before(*p.AbsentUntil)
}

// WantsDigest reports whether p gets the personal morning digest.
func (p *Person) WantsDigest() bool {
	switch p.DigestChoice {
	case "on":
		return true
	case "off":
		return false
	}
	return !p.NoDigest
}

// Load is a technician's current load, for assignment.
type Load struct {
	Email        string
	Level        int
	Open         int   // tickets assigned and still open
	LastAssigned int64 // order of the latest assignment, 0 if never: ties go to the longest idle
	// AbsentUntil, while in the future, keeps new assignments away.
	AbsentUntil *time.Time
}

// Group is a team that owns categories, guide 4.9.
type Group struct {
	Key   string
	Name  string
	Email string
}

// Survey is the satisfaction survey sent after a ticket is closed (guide 5).
type Survey struct {
	ID         int64
	TicketID   int64
	Token      string
	SentAt     time.Time
	OpenedAt   *time.Time
	AnsweredAt *time.Time
	Rating     int // 1..5, 0 while unanswered
	Solved     *bool
	Comment    string
	ClosedAt   time.Time // the closure the survey asks about
	Status     SurveyStatus
	RemindedAt *time.Time
	MessageID  string // the survey mail's Message-ID, without brackets
}

// SurveyStatus is where a survey stands.
type SurveyStatus string

// The survey statuses.
const (
	SurveySent     SurveyStatus = "sent"
	SurveyAnswered SurveyStatus = "answered"
	SurveyExpired  SurveyStatus = "expired"
	SurveySkipped  SurveyStatus = "skipped" // no survey for this closure
)

// JobRun records one run of a scheduled job, so that a job scheduled for a
// given instant runs once even with several instances.
type JobRun struct {
	ID           int64
	Job          string
	ScheduledFor time.Time
	StartedAt    time.Time
	FinishedAt   *time.Time
	Status       string // running, ok, failed
	Error        string
	Detail       string // what the run did: counts as JSON
}

// Participant is an address that takes part in a ticket; Copy says it
// receives the ticket's public answers (desk.copy_participants).
type Participant struct {
	Email string
	Copy  bool
}
