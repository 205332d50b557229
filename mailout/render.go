// Package mailout renders the mail mesa sends and sends it. Package desk
// decides every mail (a ticket.Notice: kind, recipient, language, dedupe
// key, payload); mailout only turns a notice into subject, body and MIME
// (Render), and sends the stored bytes (Worker). Mail is rendered when its
// outbox row is written, so a retry sends exactly the same bytes.
package mailout

import (
	"bytes"
	"crypto/rand"
	"embed"
	"fmt"
	"html"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"text/template"
	"time"

	"github.com/emersion/go-msgauth/dkim"
	gomail "github.com/wneessen/go-mail"

	"github.com/mesadeservicios/mesa/config"
	"github.com/mesadeservicios/mesa/internal/i18n"
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
	Language  string         // es or en; config.Default()'s desk.language
	Location  *time.Location // zone dates are shown in; config.Default()'s desk.timezone
	Catalogue Catalogue      // nil: category keys are shown as they are
	// CommandHelp lists the technicians' mail commands, for the assignment
	// notice.
	CommandHelp []string
	// CommandHelpFor, when set, lists them in a language (desk.Help) and
	// wins over CommandHelp: the notice shows the list in its own language.
	CommandHelpFor func(lang string) []string
	// DKIM, when set, signs every mail when it is rendered (RFC 6376).
	DKIM *dkim.SignOptions
	// TemplateDir holds templates that replace the embedded ones file by
	// file (ack.es.txt, closed.en.txt, …); empty: the embedded ones.
	TemplateDir string
	// WarnPercent is the SLA warning threshold shown in alerts;
	// config.Default()'s sla.warn_at.
	WarnPercent int
	// PrivacyURL, the agency's personal-data policy (Ley 1581 de 2012), is
	// linked from the acknowledgement; empty: no link.
	PrivacyURL string
}

// Renderer turns notices into outbox mail. It implements
// desk.MailRenderer.
type Renderer struct {
	opts   Options
	domain string
	tmpl   map[string]*template.Template // by language: the digest's helpers differ

	mu  sync.Mutex
	seq int64 // makes Message-IDs unique within an instant
}

// messageID is a new Message-ID for a mail of the given kind rendered at
// at: unique within an instant by a per-renderer sequence, and with 80
// random bits, so that nobody can guess the Message-ID of a mail sent to
// someone else (a delivery report proves itself by quoting it exactly).
func (r *Renderer) messageID(kind string, at time.Time) string {
	r.mu.Lock()
	r.seq++
	n := r.seq
	r.mu.Unlock()
	return fmt.Sprintf("%s.%d.%d.%s@%s", kind, at.UnixNano(), n, strings.ToLower(rand.Text()[:16]), r.domain)
}

// New parses the templates of opts.Language.
func New(opts Options) (*Renderer, error) {
	def := config.Default() // the one owner of every default value
	if opts.Language == "" {
		opts.Language = def.Desk.Language
	}
	if opts.Location == nil {
		loc, err := time.LoadLocation(def.Desk.Timezone)
		if err != nil {
			return nil, err
		}
		opts.Location = loc
	}
	if opts.WarnPercent == 0 {
		opts.WarnPercent = int(def.SLA.WarnAt*100 + 0.5)
	}
	_, domain, ok := strings.Cut(opts.From, "@")
	if !ok || domain == "" {
		return nil, fmt.Errorf("mailout: from address %q has no domain", opts.From)
	}
	if opts.Language != "es" && opts.Language != "en" {
		return nil, fmt.Errorf("mailout: language must be es or en, got %q", opts.Language)
	}
	tmpl := map[string]*template.Template{}
	for _, lang := range []string{"es", "en"} {
		t, err := parseTemplates(opts, lang)
		if err != nil {
			return nil, err
		}
		tmpl[lang] = t
	}
	return &Renderer{opts: opts, domain: domain, tmpl: tmpl}, nil
}

// parseTemplates parses the embedded templates, with the helpers of lang,
// and the overrides of opts.TemplateDir.
func parseTemplates(opts Options, lang string) (*template.Template, error) {
	t, err := template.New("mail").Funcs(digestFuncs(lang, opts.Location)).ParseFS(templateFiles, "templates/*.txt")
	if err != nil {
		return nil, fmt.Errorf("mailout: templates: %w", err)
	}
	if opts.TemplateDir == "" {
		return t, nil
	}
	files, err := filepath.Glob(filepath.Join(opts.TemplateDir, "*.txt"))
	if err != nil {
		return nil, fmt.Errorf("mailout: templates.dir: %w", err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		if t.Lookup(name) == nil {
			return nil, fmt.Errorf("mailout: templates.dir: %s replaces no template (known: ack, answer, assigned, away, closed, commands, digest, duplicate, empty, failed, files, held, linked, mass_incident, mine, monthly_report, operator, operator_resolved, queue, rejected, requester, sla_alert, survey, survey_bad; .es.txt or .en.txt)", name)
		}
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("mailout: templates.dir: %w", err)
		}
		if _, err := t.New(name).Parse(string(b)); err != nil {
			return nil, fmt.Errorf("mailout: templates.dir: %s: %w", name, err)
		}
	}
	return t, nil

}

// data is what every template can use.
type data struct {
	Name, Desk, Number, Subject, Category, Criticality, Due, StatusURL, Attachments string
	Actor, Requester, Body, Type                                                    string
	OutOfScope, OutOfHours, Reminder, Reopened, Copy                                bool
	URL, Solved, Other, PrivacyURL                                                  string
	Rating, Percent                                                                 int
	Lines, Help                                                                     []string
	// Triage and Candidates: a sin_clasificar ticket's assignment.
	Triage     bool
	Candidates []candidate
	// Files are the files a notice passes on (attached or linked), and
	// FilesUntil when their links stop working.
	Files      []fileItem
	FilesUntil string
}

// fileItem is one file in a notice's list.
type fileItem struct {
	Name, Size, URL string
	Attached        bool
}

// files lists a notice's files with their download links.
func (r *Renderer) files(d *data, fs []ticket.NoticeFile, lang string) {
	for _, f := range fs {
		d.Files = append(d.Files, fileItem{Name: f.Name, Size: humanSize(f.Size), Attached: f.Data != nil,
			URL: strings.TrimRight(r.opts.PublicURL, "/") + "/adjuntos/" + url.PathEscape(f.Token)})
		if !f.Expires.IsZero() {
			d.FilesUntil = formatDate(f.Expires.In(r.opts.Location), lang)
		}
	}
}

// humanSize shows a size in bytes as people read it.
func humanSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KB", (n+1<<9)>>10)
	}
	return fmt.Sprintf("%d B", n)
}

// candidate is a triage candidate as the assignment notice lists it.
type candidate struct {
	Rank                  int
	Key, Name, Confidence string
}

// candidates lists a triage notice's candidates: named from the catalogue
// when the notice has no name, the confidence in whole percent.
func (r *Renderer) candidates(cs []ticket.Candidate) []candidate {
	var out []candidate
	for i, c := range cs {
		name := c.Name
		if name == "" && r.opts.Catalogue != nil {
			name = r.opts.Catalogue.DisplayName(c.Category)
		}
		if name == "" {
			name = c.Category
		}
		conf := fmt.Sprintf("%d %%", int(math.Round(c.Confidence*100)))
		if c.Confidence < 0.005 {
			conf = "< 1 %"
		}
		out = append(out, candidate{Rank: i + 1, Key: c.Category, Name: name, Confidence: conf})
	}
	return out
}

func (r *Renderer) base(t *ticket.Ticket, lang string) data {
	d := data{Name: t.RequesterName, Desk: r.opts.DeskName, Number: t.Number, Subject: t.Subject,
		Category: t.Category, Criticality: string(t.Criticality), Requester: t.Requester, Type: string(t.Type),
		StatusURL: r.statusURL(t), PrivacyURL: r.opts.PrivacyURL,
		Help: r.opts.CommandHelp}
	if r.opts.CommandHelpFor != nil {
		d.Help = r.opts.CommandHelpFor(lang)
	}
	if r.opts.Catalogue != nil {
		d.Category = r.opts.Catalogue.DisplayName(t.Category)
	}
	if t.DueAt != nil {
		d.Due = formatDate(t.DueAt.In(r.opts.Location), lang)
	}
	return d
}

// Render renders a notice desk decided: subject, text and HTML, headers,
// the DKIM signature. It implements desk.MailRenderer.
func (r *Renderer) Render(n *ticket.Notice) (*ticket.Outgoing, error) {
	lang := n.Lang
	if lang == "" {
		lang = r.opts.Language
	}
	if lang != "es" && lang != "en" {
		return nil, fmt.Errorf("mailout: %s notice in language %q (es or en)", n.Kind(), lang)
	}
	switch p := n.Payload.(type) {
	case ticket.SLAAlertNotice:
		return r.slaAlert(n, lang, p)
	case ticket.DigestNotice:
		return r.digest(n, lang, p.Digest)
	case ticket.MineNotice:
		return r.myTicketsLink(n, lang, p)
	case ticket.UndeliverableNotice:
		return r.undeliverable(n, lang, p)
	case ticket.OperatorNotice:
		return r.operator(n, lang, p)
	case ticket.EmptyNotice:
		return r.empty(n, lang)
	case ticket.QueueNotice:
		return r.queueMail(n, lang, p)
	case ticket.MassIncidentNotice:
		return r.massMail(n, lang, p)
	case ticket.AwayNotice:
		return r.awayMail(n, lang, p)
	case ticket.MonthlyReportNotice:
		return r.monthlyReport(n, lang, p)
	case ticket.CommandsNotice:
		if n.Ticket == nil {
			return r.deskCommands(n, lang, p)
		}
	}
	t := n.Ticket
	if t == nil {
		return nil, fmt.Errorf("mailout: a %s notice needs its ticket", n.Kind())
	}
	d, name, auto := r.base(t, lang), string(n.Kind()), "auto-generated"
	var attach []ticket.NoticeFile
	switch p := n.Payload.(type) {
	case ticket.AckNotice:
		d.Attachments, d.OutOfHours, auto = strings.Join(p.MissingForms, "; "), p.OutOfHours, "auto-replied"
	case ticket.AnswerNotice:
		d.Actor, d.Body, d.Copy, attach = p.Actor, p.Body, p.Copy, p.Files
	case ticket.RequesterNotice:
		d.Requester, d.Body, attach = p.From, p.Body, p.Files // the requester or a participant in copy
	case ticket.HeldNotice:
		d.Body = p.Reason
	case ticket.ClosedNotice:
		d.OutOfScope, d.Body, d.Copy = p.OutOfScope, p.Solution, p.Copy
	case ticket.AssignedNotice:
		d.Body, attach = p.Body, p.Files
		d.Triage, d.Candidates = t.Category == ticket.Unclassified || len(p.Candidates) > 0, r.candidates(p.Candidates)
	case ticket.FailedNotice:
		d.Body = p.Body
	case ticket.DuplicateNotice:
		d.Other, d.Percent = p.Other, int(p.Score*100+0.5)
	case ticket.LinkedNotice:
	case ticket.CommandsNotice:
		d.Lines, auto = p.Lines, "auto-replied"
	case ticket.SurveyNotice:
		// The reminder threads with the first mail, whose link still works.
		name, d.Reminder = string(ticket.NoticeSurvey), p.Reminder
		if p.Token != "" {
			d.URL = strings.TrimRight(r.opts.PublicURL, "/") + "/encuesta/" + url.PathEscape(p.Token)
		}
	case ticket.SurveyBadNotice:
		s := p.Survey
		d.Rating, d.Body, d.Actor, d.Reopened = s.Rating, s.Comment, t.Assignee, p.Reopened
		d.Solved = i18n.T(lang, "mail.survey.unanswered")
		switch {
		case s.Solved != nil && *s.Solved:
			d.Solved = i18n.T(lang, "mail.yes")
		case s.Solved != nil:
			d.Solved = i18n.T(lang, "mail.no")
		}
	default:
		return nil, fmt.Errorf("mailout: no rendering for a %q notice", n.Kind())
	}
	if d.Copy {
		// The greeting is for the person in copy, and the ticket's key is
		// the requester's.
		d.Name, d.StatusURL = "", strings.TrimRight(r.opts.PublicURL, "/")+"/t/"+url.PathEscape(t.Number)
	}
	r.files(&d, attach, lang)
	return r.render(name, lang, t, d, n.To, n.ToName, n.InReplyTo, auto, n.At, attach)
}

// empty renders the answer to an empty mail, which opened no ticket.
func (r *Renderer) empty(n *ticket.Notice, lang string) (*ticket.Outgoing, error) {
	d := data{Desk: r.opts.DeskName, Name: n.ToName}
	var body bytes.Buffer
	if err := r.tmpl[lang].ExecuteTemplate(&body, "empty."+lang+".txt", d); err != nil {
		return nil, fmt.Errorf("rendering empty: %w", err)
	}
	subject := i18n.Tf(lang, "mail.subject.empty", r.opts.DeskName)
	id := r.messageID("empty", n.At)
	raw, err := r.build(n.To, n.ToName, subject, id, n.InReplyTo, body.String(), n.At, "auto-replied", nil)
	if err != nil {
		return nil, err
	}
	return &ticket.Outgoing{From: r.opts.From, To: []string{n.To}, Subject: subject, MessageID: id, Raw: raw, State: ticket.OutboxPending}, nil
}

// myTicketsLink renders the mail with a "Mis solicitudes" link.
func (r *Renderer) myTicketsLink(n *ticket.Notice, lang string, p ticket.MineNotice) (*ticket.Outgoing, error) {
	d := data{Desk: r.opts.DeskName, URL: strings.TrimRight(r.opts.PublicURL, "/") + "/mis-solicitudes/" + url.PathEscape(p.Token)}
	var body bytes.Buffer
	if err := r.tmpl[lang].ExecuteTemplate(&body, "mine."+lang+".txt", d); err != nil {
		return nil, fmt.Errorf("rendering mine: %w", err)
	}
	subject := i18n.Tf(lang, "mail.subject.mine", r.opts.DeskName)
	id := r.messageID("mine", n.At)
	raw, err := r.build(n.To, n.ToName, subject, id, n.InReplyTo, body.String(), n.At, "auto-generated", nil)
	if err != nil {
		return nil, err
	}
	return &ticket.Outgoing{From: r.opts.From, To: []string{n.To}, Subject: subject, MessageID: id, Raw: raw, State: ticket.OutboxPending}, nil
}

// undeliverable renders the operators' alert that a staff address bounces.
func (r *Renderer) undeliverable(n *ticket.Notice, lang string, p ticket.UndeliverableNotice) (*ticket.Outgoing, error) {
	d := data{Desk: r.opts.DeskName, Requester: p.Address, Subject: p.Subject, Body: p.Status,
		Due: formatDate(p.Until.In(r.opts.Location), lang)}
	var body bytes.Buffer
	if err := r.tmpl[lang].ExecuteTemplate(&body, "undeliverable."+lang+".txt", d); err != nil {
		return nil, fmt.Errorf("rendering undeliverable: %w", err)
	}
	subject := i18n.Tf(lang, "mail.subject.undeliverable", p.Address)
	id := r.messageID("undeliverable", n.At)
	raw, err := r.build(n.To, n.ToName, subject, id, n.InReplyTo, body.String(), n.At, "auto-generated", nil)
	if err != nil {
		return nil, err
	}
	return &ticket.Outgoing{From: r.opts.From, To: []string{n.To}, Subject: subject, MessageID: id, Raw: raw, State: ticket.OutboxPending}, nil
}

// operator renders an operator alert or its resolution.
func (r *Renderer) operator(n *ticket.Notice, lang string, p ticket.OperatorNotice) (*ticket.Outgoing, error) {
	when := func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return formatDate(t.In(r.opts.Location), lang)
	}
	d := struct {
		Desk, Condition, About, Since, Detail, Expires string
		Days                                           int
		Items                                          []string
	}{Desk: r.opts.DeskName, Condition: p.Condition, About: p.About, Since: when(p.Since), Detail: p.Detail, Days: p.Days,
		Items: p.Items, Expires: p.Expires.Format(time.DateOnly)}
	name := string(n.Kind())
	var body bytes.Buffer
	if err := r.tmpl[lang].ExecuteTemplate(&body, name+"."+lang+".txt", d); err != nil {
		return nil, fmt.Errorf("rendering %s: %w", name, err)
	}
	var subject string
	switch p.Condition {
	case ticket.CondSecret:
		subject = i18n.Tf(lang, "mail.subject.operator.secret", p.About, p.Days)
	case ticket.CondOutbox:
		subject = i18n.Tf(lang, "mail.subject.operator.outbox", "")
	case ticket.CondBatch:
		subject = i18n.Tf(lang, "mail.subject.operator.batch", len(p.Items), "")
	default:
		subject = i18n.Tf(lang, "mail.subject.operator."+p.Condition, p.About)
	}
	if p.Resolved {
		subject = i18n.Tf(lang, "mail.subject.operator_resolved", strings.TrimPrefix(strings.TrimPrefix(subject, "ALERTA: "), "ALERT: "))
	}
	id := r.messageID(name, n.At)
	raw, err := r.build(n.To, n.ToName, subject, id, n.InReplyTo, body.String(), n.At, "auto-generated", nil)
	if err != nil {
		return nil, err
	}
	return &ticket.Outgoing{From: r.opts.From, To: []string{n.To}, Subject: subject, MessageID: id, Raw: raw, State: ticket.OutboxPending}, nil
}

// alertItem is one ticket in an SLA alert.
type alertItem struct{ Number, Subject, Criticality, Due, Assignee string }

// slaAlert renders the one mail a person gets when tickets reach their SLA
// warning or breach it: both lists, breaches first.
func (r *Renderer) slaAlert(n *ticket.Notice, lang string, p ticket.SLAAlertNotice) (*ticket.Outgoing, error) {
	warned, breached := p.Warned, p.Breached
	items := func(ts []*ticket.Ticket) []alertItem {
		var out []alertItem
		for _, t := range ts {
			it := alertItem{Number: t.Number, Subject: t.Subject, Criticality: string(t.Criticality), Assignee: t.Assignee}
			if it.Assignee == "" {
				it.Assignee = i18n.T(lang, "mail.nobody")
			}
			if t.DueAt != nil {
				it.Due = formatDate(t.DueAt.In(r.opts.Location), lang)
			}
			out = append(out, it)
		}
		return out
	}
	d := struct {
		Desk             string
		Warned, Breached []alertItem
		WarnPercent      int
	}{Desk: r.opts.DeskName, Warned: items(warned), Breached: items(breached), WarnPercent: r.opts.WarnPercent}
	var body bytes.Buffer
	if err := r.tmpl[lang].ExecuteTemplate(&body, "sla_alert."+lang+".txt", d); err != nil {
		return nil, fmt.Errorf("rendering sla_alert: %w", err)
	}
	subject := i18n.Tf(lang, "mail.subject.sla_warned", len(warned))
	if len(breached) > 0 {
		subject = i18n.Tf(lang, "mail.subject.sla_breached", len(breached), len(warned))
	}
	if all := append(append([]*ticket.Ticket{}, breached...), warned...); len(all) == 1 {
		subject = fmt.Sprintf("[%s] %s", all[0].Number, subject) // one ticket: it threads with the ticket's mail
	}
	id := r.messageID("sla", n.At)
	raw, err := r.build(n.To, n.ToName, subject, id, n.InReplyTo, body.String(), n.At, "auto-generated", nil)
	if err != nil {
		return nil, err
	}
	return &ticket.Outgoing{From: r.opts.From, To: []string{n.To}, Subject: subject, MessageID: id, Raw: raw, State: ticket.OutboxPending}, nil
}

// statusURL links to the ticket's status page: with its key when the key
// is known (the acknowledgement, rendered as the ticket is created; the
// store keeps only a hash), otherwise the page asks for it.
func (r *Renderer) statusURL(t *ticket.Ticket) string {
	u := strings.TrimRight(r.opts.PublicURL, "/") + "/t/" + url.PathEscape(t.Number)
	if t.AccessKey != "" {
		u += "?clave=" + url.QueryEscape(t.AccessKey)
	}
	return u
}

func (r *Renderer) render(kind, lang string, t *ticket.Ticket, d data, to, toName, inReplyTo, auto string, at time.Time, files []ticket.NoticeFile) (*ticket.Outgoing, error) {
	var body bytes.Buffer
	if err := r.tmpl[lang].ExecuteTemplate(&body, kind+"."+lang+".txt", d); err != nil {
		return nil, fmt.Errorf("rendering %s: %w", kind, err)
	}
	format, err := i18n.Text(lang, "mail.subject."+kind)
	if err != nil {
		return nil, fmt.Errorf("rendering %s: %w", kind, err)
	}
	subject := fmt.Sprintf("[%s] %s", t.Number, fmt.Sprintf(format, t.Subject))
	id := r.messageID(strings.ToLower(t.Number)+"."+kind, at)
	raw, err := r.build(to, toName, subject, id, inReplyTo, body.String(), at, auto, files)
	if err != nil {
		return nil, err
	}
	return &ticket.Outgoing{TicketID: t.ID, From: r.opts.From, To: []string{to}, Subject: subject, MessageID: id,
		Raw: raw, State: ticket.OutboxPending}, nil
}

// build writes a complete message. inReplyTo is a dedupe key "<id>" or
// empty. Every mail carries Auto-Submitted (RFC 3834) and
// X-Auto-Response-Suppress so that responders do not answer it.
// inlineImage is a picture shown in the HTML part (Content-ID: name).
type inlineImage struct {
	name, alt string
	png       []byte
}

func (r *Renderer) build(to, toName, subject, messageID, inReplyTo, body string, at time.Time, auto string, files []ticket.NoticeFile, images ...inlineImage) ([]byte, error) {
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
	if err := m.ReplyTo(r.opts.From); err != nil {
		return nil, fmt.Errorf("reply-to: %w", err)
	}
	m.SetGenHeader(gomail.HeaderXAutoResponseSuppress, "All")
	m.SetBodyString(gomail.TypeTextPlain, body)
	htmlBody := textToHTML(body)
	for _, img := range images {
		tag := `<p><img src="cid:` + img.name + `" alt="` + html.EscapeString(img.alt) + `"></p>`
		htmlBody = strings.Replace(htmlBody, "</body>", tag+"</body>", 1)
		if err := m.EmbedReader(img.name, bytes.NewReader(img.png), gomail.WithFileContentType(gomail.ContentType("image/png"))); err != nil {
			return nil, fmt.Errorf("embedding %s: %w", img.name, err)
		}
	}
	m.AddAlternativeString(gomail.TypeTextHTML, htmlBody)
	for _, f := range files {
		if f.Data == nil {
			continue // too large: the body has its link
		}
		ct := f.ContentType
		if ct == "" || strings.ContainsAny(ct, "\r\n") {
			ct = "application/octet-stream"
		}
		if err := m.AttachReader(f.Name, bytes.NewReader(f.Data), gomail.WithFileContentType(gomail.ContentType(ct))); err != nil {
			return nil, fmt.Errorf("attaching %s: %w", f.Name, err)
		}
	}
	var buf bytes.Buffer
	if _, err := m.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("writing message: %w", err)
	}
	if r.opts.DKIM == nil {
		return buf.Bytes(), nil
	}
	// Signed once, here: a retry sends the same signed bytes.
	var signed bytes.Buffer
	if err := dkim.Sign(&signed, &buf, r.opts.DKIM); err != nil {
		return nil, fmt.Errorf("dkim signing: %w", err)
	}
	return signed.Bytes(), nil
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

var urlRE = regexp.MustCompile(`https?://[^\s<>"]+`)

// textToHTML gives the HTML alternative of a text template: the same words,
// escaped once, paragraphs kept, addresses as links. Writing each template
// twice would let the two versions drift apart.
func textToHTML(text string) string {
	var b strings.Builder
	b.WriteString("<!DOCTYPE html><html><body style=\"font-family:sans-serif\">")
	for _, para := range strings.Split(strings.TrimSpace(text), "\n\n") {
		lines := strings.Split(para, "\n")
		for i, l := range lines {
			esc := html.EscapeString(l)
			esc = urlRE.ReplaceAllStringFunc(esc, func(u string) string {
				return `<a href="` + u + `">` + u + `</a>`
			})
			if strings.HasPrefix(l, "  ") {
				esc = "&nbsp;&nbsp;" + strings.TrimLeft(esc, " ")
			}
			lines[i] = esc
		}
		b.WriteString("<p>" + strings.Join(lines, "<br>\n") + "</p>\n")
	}
	b.WriteString("</body></html>\n")
	return b.String()
}
