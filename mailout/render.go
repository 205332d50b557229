// Package mailout renders the mail mesa sends. Mail is rendered when its
// outbox row is written, so a retry sends exactly the same bytes. (Sending
// over SMTP arrives with the outbound issue.)
package mailout

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"text/template"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/mesadeservicios/mesa/ticket"
)

//go:embed templates/*.txt
var templateFiles embed.FS

// Catalogue names categories for people.
type Catalogue interface {
	DisplayName(key string) string
}

// Options configure a Renderer.
type Options struct {
	DeskName  string         // "Mesa de Servicios"
	From      string         // the desk's address, From of every mail
	PublicURL string         // base of status links, e.g. https://mesa.entidad.gov.co
	Language  string         // es (default) or en
	Location  *time.Location // zone dates are shown in; America/Bogota
	Catalogue Catalogue      // nil: category keys are shown as they are
}

// Renderer turns ticket events into outbox mail. It implements
// desk.Notifier.
type Renderer struct {
	opts   Options
	domain string
	tmpl   *template.Template
}

// New parses the templates of opts.Language.
func New(opts Options) (*Renderer, error) {
	if opts.Language == "" {
		opts.Language = "es"
	}
	if opts.Location == nil {
		loc, err := time.LoadLocation("America/Bogota")
		if err != nil {
			return nil, err
		}
		opts.Location = loc
	}
	_, domain, ok := strings.Cut(opts.From, "@")
	if !ok || domain == "" {
		return nil, fmt.Errorf("mailout: from address %q has no domain", opts.From)
	}
	t, err := template.ParseFS(templateFiles, "templates/*."+opts.Language+".txt")
	if err != nil {
		return nil, fmt.Errorf("mailout: templates for language %q: %w", opts.Language, err)
	}
	return &Renderer{opts: opts, domain: domain, tmpl: t}, nil
}

type ackData struct {
	Name, Desk, Number, Subject, Category, Criticality, Due, StatusURL, Attachments string
}

var subjects = map[string]map[string]string{
	"ack": {"es": "Recibido: %s", "en": "Received: %s"},
}

// Notify renders the mail an event causes: for now, the acknowledgement of a
// new ticket to its requester.
func (r *Renderer) Notify(_ context.Context, t *ticket.Ticket, e *ticket.Event) ([]*ticket.Outgoing, error) {
	if e.Kind != ticket.EventCreated {
		return nil, nil
	}
	var details struct {
		MessageKey     string `json:"message_key"`
		Classification struct {
			Attachments []string `json:"attachments_required"`
		} `json:"classification"`
	}
	if e.Data != "" {
		json.Unmarshal([]byte(e.Data), &details) // best effort: only threading and hints
	}
	d := ackData{Name: t.RequesterName, Desk: r.opts.DeskName, Number: t.Number, Subject: t.Subject,
		Category: t.Category, Criticality: string(t.Criticality),
		StatusURL:   strings.TrimRight(r.opts.PublicURL, "/") + "/estado?numero=" + url.QueryEscape(t.Number) + "&clave=" + url.QueryEscape(t.AccessKey),
		Attachments: strings.Join(details.Classification.Attachments, "; ")}
	if r.opts.Catalogue != nil {
		d.Category = r.opts.Catalogue.DisplayName(t.Category)
	}
	if t.DueAt != nil {
		d.Due = formatDate(t.DueAt.In(r.opts.Location), r.opts.Language)
	}
	var body bytes.Buffer
	if err := r.tmpl.ExecuteTemplate(&body, "ack."+r.opts.Language+".txt", d); err != nil {
		return nil, fmt.Errorf("rendering acknowledgement: %w", err)
	}
	subject := fmt.Sprintf("[%s] %s", t.Number, fmt.Sprintf(subjects["ack"][r.opts.Language], t.Subject))
	id := fmt.Sprintf("%s.ack.%d@%s", strings.ToLower(t.Number), e.ID, r.domain)
	raw, err := r.build(t.Requester, t.RequesterName, subject, id, details.MessageKey, body.String(), e.At, "auto-replied")
	if err != nil {
		return nil, err
	}
	return []*ticket.Outgoing{{TicketID: t.ID, DedupeKey: "ack:" + t.Number, From: r.opts.From, To: []string{t.Requester},
		Subject: subject, MessageID: id, Raw: raw, State: ticket.OutboxPending}}, nil
}

// build writes a complete message. inReplyTo is a dedupe key "<id>" or
// empty. Every mail carries Auto-Submitted (RFC 3834) and
// X-Auto-Response-Suppress so that responders do not answer it.
func (r *Renderer) build(to, toName, subject, messageID, inReplyTo, body string, at time.Time, auto string) ([]byte, error) {
	m := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := m.FromFormat(r.opts.DeskName, r.opts.From); err != nil {
		return nil, fmt.Errorf("from: %w", err)
	}
	if err := m.AddToFormat(toName, to); err != nil {
		return nil, fmt.Errorf("to %s: %w", to, err)
	}
	m.Subject(subject)
	m.SetMessageIDWithValue(messageID)
	m.SetDateWithValue(at)
	if strings.HasPrefix(inReplyTo, "<") {
		// Message-IDs are written raw, never as encoded words (RFC 5322 §3.6.4).
		m.SetGenHeaderPreformatted(gomail.HeaderInReplyTo, inReplyTo)
		m.SetGenHeaderPreformatted(gomail.HeaderReferences, inReplyTo)
	}
	m.SetGenHeader("Auto-Submitted", auto)
	m.SetGenHeader(gomail.HeaderXAutoResponseSuppress, "All")
	m.SetBodyString(gomail.TypeTextPlain, body)
	var buf bytes.Buffer
	if _, err := m.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("writing message: %w", err)
	}
	return buf.Bytes(), nil
}

var (
	daysES   = []string{"domingo", "lunes", "martes", "miércoles", "jueves", "viernes", "sábado"}
	monthsES = []string{"", "enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"}
)

// formatDate shows a date as people of the desk read it.
func formatDate(t time.Time, lang string) string {
	if lang == "en" {
		return t.Format("Monday, January 2, 2006, 3:04 PM")
	}
	h := t.Hour() % 12
	if h == 0 {
		h = 12
	}
	ampm := "a.m."
	if t.Hour() >= 12 {
		ampm = "p.m."
	}
	return fmt.Sprintf("%s %d de %s de %d, %d:%02d %s", daysES[t.Weekday()], t.Day(), monthsES[t.Month()], t.Year(), h, t.Minute(), ampm)
}
