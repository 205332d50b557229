package mailout

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/mesadeservicios/mesa/internal/i18n"
	"github.com/mesadeservicios/mesa/ticket"
)

// The mails of working the desk by mail: queues, mass-incident alerts,
// absences and departures, and the answers to commands about no ticket.

// listItem is one ticket in a list mail.
type listItem struct {
	Number, Subject, State, Criticality, Due, Left, Assignee, Requester, Created string
	HasDue, Paused, Overdue, NoResponse                                          bool
}

// maxListed bounds the tickets a list mail shows.
const maxListed = 100

func (r *Renderer) item(t *ticket.Ticket, lang string) listItem {
	it := listItem{Number: t.Number, Subject: t.Subject, State: i18n.T(lang, string(t.State)),
		Criticality: strings.ToLower(i18n.T(lang, string(t.Criticality))), Assignee: t.Assignee, Requester: t.Requester,
		Due: "—", Created: formatDate(t.CreatedAt.In(r.opts.Location), lang), NoResponse: t.FirstResponseAt == nil}
	if it.Assignee == "" {
		it.Assignee = i18n.T(lang, "mail.nobody")
	}
	if t.DueAt != nil {
		it.Due = formatDate(t.DueAt.In(r.opts.Location), lang)
	}
	return it
}

// hoursMinutes shows business time: "3 h 05 min", "45 min".
func hoursMinutes(d time.Duration) string {
	d = d.Abs().Round(time.Minute)
	h, m := int(d.Hours()), int(math.Mod(d.Minutes(), 60))
	if h == 0 {
		return fmt.Sprintf("%d min", m)
	}
	return fmt.Sprintf("%d h %02d min", h, m)
}

// execute runs the template kind.lang.txt.
func (r *Renderer) execute(kind, lang string, d any) (string, error) {
	var body bytes.Buffer
	if err := r.tmpl[lang].ExecuteTemplate(&body, kind+"."+lang+".txt", d); err != nil {
		return "", fmt.Errorf("rendering %s: %w", kind, err)
	}
	return body.String(), nil
}

// mail builds a rendered mail about no ticket (ticket: one to thread
// with, or nil).
func (r *Renderer) mail(n *ticket.Notice, kind, subject, body string) (*ticket.Outgoing, error) {
	id := r.messageID(kind, n.At)
	if n.Ticket != nil {
		id = r.messageID(strings.ToLower(n.Ticket.Number)+"."+kind, n.At)
	}
	raw, err := r.build(n.To, n.ToName, subject, id, n.InReplyTo, body, n.At, "auto-generated", nil)
	if err != nil {
		return nil, err
	}
	m := &ticket.Outgoing{From: r.opts.From, To: []string{n.To}, Subject: subject, MessageID: id, Raw: raw, State: ticket.OutboxPending}
	if n.Ticket != nil {
		m.TicketID = n.Ticket.ID
	}
	return m, nil
}

// queueMail renders a list of open tickets by SLA risk.
func (r *Renderer) queueMail(n *ticket.Notice, lang string, p ticket.QueueNotice) (*ticket.Outgoing, error) {
	d := struct {
		Scope, Desk  string
		Groups       []string
		Items        []listItem
		More         int
		ShowAssignee bool
	}{Scope: p.Scope, Desk: r.opts.DeskName, Groups: p.Groups, ShowAssignee: p.Scope == ticket.QueuePending}
	overdue := 0
	for i, q := range p.Items {
		if q.HasDue && !q.Paused && q.Remaining <= 0 {
			overdue++
		}
		if i >= maxListed {
			d.More++
			continue
		}
		it := r.item(q.Ticket, lang)
		it.HasDue, it.Paused, it.Overdue, it.Left = q.HasDue, q.Paused, q.Remaining <= 0, hoursMinutes(q.Remaining)
		d.Items = append(d.Items, it)
	}
	body, err := r.execute("queue", lang, d)
	if err != nil {
		return nil, err
	}
	var subject string
	switch p.Scope {
	case ticket.QueueMorning:
		subject = i18n.Tf(lang, "mail.subject.queue_morning", len(p.Items), overdue)
	case ticket.QueuePending:
		scope := i18n.T(lang, "mail.queue.whole_desk")
		if len(p.Groups) > 0 {
			scope = strings.Join(p.Groups, ", ")
		}
		subject = i18n.Tf(lang, "mail.subject.queue_pending", scope, len(p.Items), overdue)
	default:
		subject = i18n.Tf(lang, "mail.subject.queue_mine", len(p.Items), overdue)
	}
	return r.mail(n, "queue", subject, body)
}

// massMail renders the one alert of a burst of tickets of a category.
func (r *Renderer) massMail(n *ticket.Notice, lang string, p ticket.MassIncidentNotice) (*ticket.Outgoing, error) {
	if len(p.Tickets) == 0 {
		return nil, fmt.Errorf("mailout: a mass-incident notice without tickets")
	}
	cat := p.Category
	if r.opts.Catalogue != nil {
		if name := r.opts.Catalogue.DisplayName(cat); name != "" {
			cat = name
		}
	}
	d := struct {
		Category, Command, Parent, Desk string
		Minutes                         int
		Items                           []listItem
	}{Category: cat, Command: p.Command, Parent: p.Tickets[0].Number, Desk: r.opts.DeskName, Minutes: int(p.Window.Minutes())}
	for _, t := range p.Tickets[:min(len(p.Tickets), maxListed)] {
		d.Items = append(d.Items, r.item(t, lang))
	}
	body, err := r.execute("mass_incident", lang, d)
	if err != nil {
		return nil, err
	}
	subject := fmt.Sprintf("[%s] %s", p.Tickets[0].Number, i18n.Tf(lang, "mail.subject.mass_incident", len(p.Tickets), cat))
	return r.mail(n, "mass", subject, body)
}

// awayMail renders an absent person's tickets offered, or a departed
// person's tickets given back to their groups.
func (r *Renderer) awayMail(n *ticket.Notice, lang string, p ticket.AwayNotice) (*ticket.Outgoing, error) {
	d := struct {
		Person, Until, Numbers, Desk string
		Departed                     bool
		Items                        []listItem
	}{Person: p.Person, Desk: r.opts.DeskName, Departed: p.Departed}
	var numbers []string
	for _, t := range p.Tickets[:min(len(p.Tickets), maxListed)] {
		d.Items = append(d.Items, r.item(t, lang))
		numbers = append(numbers, t.Number)
	}
	d.Numbers = strings.Join(numbers, " ")
	subject := i18n.Tf(lang, "mail.subject.away_departed", p.Person, len(p.Tickets))
	if !p.Departed {
		if p.Until == nil {
			return nil, fmt.Errorf("mailout: an absence notice without its end")
		}
		d.Until = formatDay(p.Until.In(r.opts.Location), lang)
		subject = i18n.Tf(lang, "mail.subject.away_absent", p.Person, len(p.Tickets), d.Until)
	}
	body, err := r.execute("away", lang, d)
	if err != nil {
		return nil, err
	}
	return r.mail(n, "away", subject, body)
}

// deskCommands renders the results of commands about no ticket.
func (r *Renderer) deskCommands(n *ticket.Notice, lang string, p ticket.CommandsNotice) (*ticket.Outgoing, error) {
	kind := string(n.Kind())
	body, err := r.execute(kind, lang, data{Desk: r.opts.DeskName, Lines: p.Lines})
	if err != nil {
		return nil, err
	}
	return r.mail(n, kind, i18n.T(lang, "mail.subject."+kind+"_desk"), body)
}

// formatDay shows a date without the time.
func formatDay(t time.Time, lang string) string {
	if lang == "en" {
		return t.Format("Monday, January 2, 2006")
	}
	return fmt.Sprintf("%s %d de %s de %d", daysES[t.Weekday()], t.Day(), monthsES[t.Month()], t.Year())
}
