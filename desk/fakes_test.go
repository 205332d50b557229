package desk_test

import (
	"errors"
	"time"

	"github.com/mesadeservicios/mesa/desk"
	"github.com/mesadeservicios/mesa/rules"
	"github.com/mesadeservicios/mesa/ticket"
)

// Fakes of the desk's collaborators, each implementing the whole
// interface the desk declares.
var (
	_ desk.MailRenderer = (*fakeMail)(nil)
	_ desk.Calendar     = wallClock{}
	_ desk.Classifier   = noCatalogue{}
)

// fakeMail renders every notice as a one-line mail, or fails on the kinds
// in failOn; it keeps the notices it rendered.
type fakeMail struct {
	failOn  map[ticket.NoticeKind]bool
	notices []*ticket.Notice
}

func (f *fakeMail) Render(n *ticket.Notice) (*ticket.Outgoing, error) {
	if f.failOn[n.Kind()] {
		return nil, errors.New("template broken")
	}
	f.notices = append(f.notices, n)
	subject := string(n.Kind())
	if n.Ticket != nil {
		subject = "[" + n.Ticket.Number + "] " + subject
	}
	return &ticket.Outgoing{From: "mesa@entidad.gov.co", To: []string{n.To}, Subject: subject, Raw: []byte("x"),
		MessageID: subject + "." + n.DedupeKey + "@entidad.gov.co", State: ticket.OutboxPending}, nil
}

// wallClock counts SLA time in wall-clock time, always open.
type wallClock struct{}

func (wallClock) Due(start time.Time, d time.Duration) (time.Time, error) { return start.Add(d), nil }
func (wallClock) Extend(due, from, to time.Time) time.Time                { return due.Add(to.Sub(from)) }
func (wallClock) Between(from, to time.Time) time.Duration                { return to.Sub(from) }
func (wallClock) IsOpen(time.Time) bool                                   { return true }
func (wallClock) IsWorkday(time.Time) bool                                { return true }
func (wallClock) DayLength() time.Duration                                { return 24 * time.Hour }

// noCatalogue classifies nothing: every ticket is sin_clasificar.
type noCatalogue struct{}

func (noCatalogue) Classify(rules.Message) rules.Result {
	return rules.Result{Category: ticket.Unclassified}
}
func (noCatalogue) Category(string) (*rules.Category, bool) { return nil, false }
