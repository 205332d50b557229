package ticket

import "time"

// EventKind names what happened to a ticket. The events of a ticket, in
// order, are its audit trail.
type EventKind string

// The event kinds.
const (
	EventCreated            EventKind = "created"
	EventComment            EventKind = "comment" // visible to the requester
	EventNote               EventKind = "note"    // internal, technicians only
	EventStateChanged       EventKind = "state_changed"
	EventAssigned           EventKind = "assigned"
	EventEscalated          EventKind = "escalated"
	EventCategoryChanged    EventKind = "category_changed"
	EventCriticalityChanged EventKind = "criticality_changed"
	EventSLAPaused          EventKind = "sla_paused"
	EventSLAResumed         EventKind = "sla_resumed"
	EventSLAWarning         EventKind = "sla_warning"
	EventSLABreached        EventKind = "sla_breached"
	EventSLAStarted         EventKind = "sla_started"     // To: the due time (RFC 3339)
	EventSLADueChanged      EventKind = "sla_due_changed" // From, To: old and new due time
	EventSLAMet             EventKind = "sla_met"         // closed on time; To: the due time
	EventSurveySent         EventKind = "survey_sent"
	EventSurveyAnswered     EventKind = "survey_answered"
	EventMailSent           EventKind = "mail_sent"
	EventMailFailed         EventKind = "mail_failed"
	EventCopyAdded          EventKind = "copy_added"   // To: the address now in copy (#cc)
	EventCopyRemoved        EventKind = "copy_removed" // From: the address taken off (#sin_cc)
)

// EventKinds lists every kind.
var EventKinds = []EventKind{
	EventCreated, EventComment, EventNote, EventStateChanged, EventAssigned,
	EventEscalated, EventCategoryChanged, EventCriticalityChanged, EventSLAPaused,
	EventSLAResumed, EventSLAWarning, EventSLABreached, EventSurveySent,
	EventSurveyAnswered, EventMailSent, EventMailFailed, EventSLAStarted,
	EventSLADueChanged, EventSLAMet, EventCopyAdded, EventCopyRemoved,
}

// Valid reports whether k is a known kind.
func (k EventKind) Valid() bool {
	for _, x := range EventKinds {
		if k == x {
			return true
		}
	}
	return false
}

// SystemActor is the actor of events that mesa itself causes (SLA timers,
// the outbox, intake of a message from an unknown sender is attributed to the
// sender instead).
const SystemActor = "mesa"

// Event is one entry of a ticket's audit trail.
type Event struct {
	ID       int64
	TicketID int64
	Kind     EventKind
	Actor    string // e-mail address of the person, or SystemActor
	At       time.Time
	Body     string // comment text, note, solution
	From     string // previous value for *_changed, assigned and state_changed
	To       string // new value
	Data     string // JSON object with details (matched rules, message key), or empty
}

// Recategorization is a ticket a technician moved to another category, with
// the text that was misread: what the classifier learns candidate keywords
// from.
type Recategorization struct {
	Category string // the category it was moved to
	Subject  string
	Body     string // the first message
}
