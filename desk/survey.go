package desk

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/mesadeservicios/mesa/internal/i18n"
	"github.com/mesadeservicios/mesa/ticket"
)

// Satisfaction surveys (guide section 5). One survey per closure, mailed a
// while after it; the requester answers on a one-page form (the link's
// token is single-use, 256 random bits, stored as a SHA-256 hash) or by
// replying to the mail with a number from 1 to 5. Opening the page (a GET)
// changes nothing: mail scanners such as Safe Links open every link, many
// times, before the person does. The answer (the form's POST, or a mail)
// walks the ticket through abierto_por_encuesta to its outcome, in one
// transaction (docs/DESIGN-NOTES.md, "Links that survive scanners").

// SurveyStore is what surveys need from storage.
type SurveyStore interface {
	CreateSurvey(ctx context.Context, s *ticket.Survey) error
	UpdateSurvey(ctx context.Context, s *ticket.Survey) error
	SurveyByToken(ctx context.Context, tokenHash string) (*ticket.Survey, error)
	SurveyByMessageID(ctx context.Context, ticketID int64, ids []string) (*ticket.Survey, error)
	LatestSurvey(ctx context.Context, ticketID int64) (*ticket.Survey, error)
	SurveysSentBefore(ctx context.Context, t time.Time, limit int) ([]*ticket.Survey, error)
	ClosedWithoutSurvey(ctx context.Context, after, before time.Time, limit int) ([]*ticket.Ticket, error)
	TicketByID(ctx context.Context, id int64) (*ticket.Ticket, error)
}

// SurveyRenderer renders the survey mails: the invitation (token is the
// link's; reminder: the second mail, which threads with the first) and the
// notice of a bad answer to a manager or the assignee.
type SurveyRenderer interface {
	Survey(t *ticket.Ticket, token string, reminder bool, inReplyTo string, at time.Time) (*ticket.Outgoing, error)
	SurveyAlert(to string, t *ticket.Ticket, s *ticket.Survey, at time.Time) (*ticket.Outgoing, error)
}

// SurveyOptions configure surveys; zero fields take config.Default()'s
// surveys section, days counted in the calendar's business days.
type SurveyOptions struct {
	Delay           time.Duration // after closure
	ReopenAtOrBelow int           // a rating at or below reopens; negative: none does
	RemindAfter     time.Duration // business time
	ExpireAfter     time.Duration // business time
	Disabled        bool
}

// Survey errors the page shows.
var (
	ErrSurveyUnknown  = errors.New("survey link unknown")
	ErrSurveyAnswered = errors.New("survey already answered")
	ErrSurveyExpired  = errors.New("survey expired")
)

// SurveyReport is what one run of the surveys job did.
type SurveyReport struct{ Sent, Skipped, Reminded, Expired int }

// SurveyAnswer is the requester's answer.
type SurveyAnswer struct {
	Rating  int   // 1..5; 0 only by mail when the answer is just "no"
	Solved  *bool // "¿Se resolvió su solicitud?"
	Comment string
}

// SurveyPage is what the survey page shows.
type SurveyPage struct {
	Number, Subject, Solution string
	ClosedAt                  time.Time
}

func (d *Desk) surveyStore() (SurveyStore, error) {
	if d.cfg.Survey.Disabled {
		return nil, fmt.Errorf("%w: surveys are not configured", ErrSurveyUnknown)
	}
	return d.store, nil
}

// noSurveyRE matches addresses that are machines, not people.
var noSurveyRE = regexp.MustCompile(`(?i)^(no-?reply|do-?not-?reply|mailer-daemon|postmaster|bounces?|notifications?|alert(a|as|s)?|monitor(eo|ing)?)[@+._-]`)

// SendSurveys is the surveys job: it mails the survey of every closure older
// than the delay, reminds once after RemindAfter and expires after
// ExpireAfter (a ticket left in abierto_por_encuesta goes back to cerrado).
func (d *Desk) SendSurveys(ctx context.Context) (SurveyReport, error) {
	var rep SurveyReport
	ss, err := d.surveyStore()
	if err != nil {
		return rep, err
	}
	now := d.now().UTC()
	closed, err := ss.ClosedWithoutSurvey(ctx, now.Add(-30*24*time.Hour), now.Add(-d.cfg.Survey.Delay), 500)
	if err != nil {
		return rep, err
	}
	for _, t := range closed {
		sent, err := d.sendSurvey(ctx, ss, t, now)
		if err != nil {
			return rep, err
		}
		if sent {
			rep.Sent++
		} else {
			rep.Skipped++
		}
	}
	// Reminders and expiry: a prefilter in wall-clock time, then business time.
	pending, err := ss.SurveysSentBefore(ctx, now.Add(-24*time.Hour), 1000)
	if err != nil {
		return rep, err
	}
	for _, s := range pending {
		age := d.businessSince(s.SentAt)
		t, err := ss.TicketByID(ctx, s.TicketID)
		if err != nil {
			return rep, err
		}
		superseded := t.ClosedAt == nil || !t.ClosedAt.Equal(s.ClosedAt) // reopened since: the question is moot
		switch {
		case age >= d.cfg.Survey.ExpireAfter || superseded:
			if err := d.expireSurvey(ctx, ss, s, now); err != nil {
				return rep, err
			}
			rep.Expired++
		case age >= d.cfg.Survey.RemindAfter && s.RemindedAt == nil:
			if err := d.remindSurvey(ctx, ss, s, now); err != nil {
				return rep, err
			}
			rep.Reminded++
		}
	}
	return rep, nil
}

// sendSurvey mails the survey of t's closure, or records why not.
func (d *Desk) sendSurvey(ctx context.Context, ss SurveyStore, t *ticket.Ticket, now time.Time) (bool, error) {
	s := &ticket.Survey{TicketID: t.ID, SentAt: now, ClosedAt: *t.ClosedAt, Status: ticket.SurveySent}
	why := ""
	switch {
	case strings.HasPrefix(t.Solution, ticket.OutOfScopePrefix):
		why = "cerrado como fuera de alcance"
	case d.isOwn(t.Requester) || noSurveyRE.MatchString(t.Requester) || d.acceptsAutomated(t.Requester):
		why = "el solicitante es una dirección automática"
	default:
		if _, kind, err := d.store.ParentOf(ctx, t.ID); err == nil && kind == linkMerged {
			why = "unido a otro caso: la encuesta llega cuando ese se cierre"
			break
		} else if err != nil && !errors.Is(err, ticket.ErrNotFound) {
			return false, err
		}
		if last, err := ss.LatestSurvey(ctx, t.ID); err == nil && last.SentAt.After(t.ClosedAt.Add(-7*24*time.Hour)) {
			why = "reabierto y cerrado de nuevo antes de 7 días de la encuesta anterior"
		} else if err != nil && !errors.Is(err, ticket.ErrNotFound) {
			return false, err
		}
	}
	err := d.store.InTx(ctx, func(ctx context.Context) error {
		if why != "" {
			s.Status, s.Token = ticket.SurveySkipped, fmt.Sprintf("skipped:%d:%d", t.ID, t.ClosedAt.UnixNano())
			return ss.CreateSurvey(ctx, s)
		}
		token, hash := newLinkToken()
		s.Token = hash
		m, _, err := d.queue(ctx, d.surveyNotice(t, ticket.SurveyNotice{Token: token}, "",
			fmt.Sprintf("survey:%s:%d", t.Number, t.ClosedAt.Unix()), now))
		if err != nil {
			return err
		}
		if m != nil {
			s.MessageID = m.MessageID
		}
		if err := ss.CreateSurvey(ctx, s); err != nil {
			return err
		}
		return d.store.AddEvent(ctx, &ticket.Event{TicketID: t.ID, Kind: ticket.EventSurveySent, Actor: ticket.SystemActor, At: now})
	})
	if errors.Is(err, ticket.ErrAlreadyStored) {
		return false, nil // another instance did it
	}
	if err != nil {
		return false, err
	}
	if why != "" {
		d.log.Info("no survey", "ticket", t.Number, "reason", why)
	}
	return why == "", nil
}

func (d *Desk) remindSurvey(ctx context.Context, ss SurveyStore, s *ticket.Survey, now time.Time) error {
	return d.store.InTx(ctx, func(ctx context.Context) error {
		t, err := ss.TicketByID(ctx, s.TicketID)
		if err != nil {
			return err
		}
		// The token is kept only hashed: the reminder threads with the
		// first mail, whose link still works, and takes an answer by mail.
		s.RemindedAt = &now
		if err := ss.UpdateSurvey(ctx, s); err != nil {
			return err
		}
		_, _, err = d.queue(ctx, d.surveyNotice(t, ticket.SurveyNotice{Reminder: true}, "<"+s.MessageID+">",
			fmt.Sprintf("survey-reminder:%d", s.ID), now))
		return err
	})
}

func (d *Desk) expireSurvey(ctx context.Context, ss SurveyStore, s *ticket.Survey, now time.Time) error {
	return d.store.InTx(ctx, func(ctx context.Context) error {
		s.Status = ticket.SurveyExpired
		if err := ss.UpdateSurvey(ctx, s); err != nil {
			return err
		}
		t, err := ss.TicketByID(ctx, s.TicketID)
		if err != nil {
			return err
		}
		if t.State != ticket.AbiertoPorEncuesta {
			return nil
		}
		_, err = d.change(ctx, t.Number, func(ctx context.Context, t *ticket.Ticket, now time.Time) error {
			return d.step(ctx, t, ticket.Cerrado, ticket.SystemActor, i18n.T(d.cfg.Language, "desk.note.survey_expired"), now)
		})
		return err
	})
}

// surveyNotice is the survey mail to t's requester; it threads with
// inReplyTo, or with the mail that opened the ticket.
func (d *Desk) surveyNotice(t *ticket.Ticket, p ticket.SurveyNotice, inReplyTo, key string, now time.Time) *ticket.Notice {
	if inReplyTo == "" && t.OriginMessageID != "" {
		inReplyTo = "<" + t.OriginMessageID + ">"
	}
	return &ticket.Notice{Ticket: t, To: t.Requester, ToName: t.RequesterName, Lang: d.langFor(t.Requester),
		InReplyTo: inReplyTo, DedupeKey: key, At: now, Payload: p}
}

// newLinkToken returns a link token (256 bits, URL-safe) for surveys and
// Mis solicitudes, and the hash the store keeps.
func newLinkToken() (token, hash string) {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, ticket.HashAccessKey(token)
}

// OpenSurvey shows the survey of a link. It changes nothing — not the
// ticket, not the survey — however often it is called: a GET of the link
// is as likely a scanner as the requester.
func (d *Desk) OpenSurvey(ctx context.Context, token string) (*SurveyPage, error) {
	ss, err := d.surveyStore()
	if err != nil {
		return nil, err
	}
	s, t, err := d.liveSurvey(ctx, ss, token)
	if err != nil {
		return nil, err
	}
	return &SurveyPage{Number: t.Number, Subject: t.Subject, Solution: strings.TrimPrefix(t.Solution, ticket.OutOfScopePrefix), ClosedAt: s.ClosedAt}, nil
}

// liveSurvey finds the survey of a token and its ticket, or says why the
// link no longer works.
func (d *Desk) liveSurvey(ctx context.Context, ss SurveyStore, token string) (*ticket.Survey, *ticket.Ticket, error) {
	if len(token) < 20 || len(token) > 100 {
		return nil, nil, ErrSurveyUnknown
	}
	s, err := ss.SurveyByToken(ctx, ticket.HashAccessKey(token))
	if errors.Is(err, ticket.ErrNotFound) {
		return nil, nil, ErrSurveyUnknown
	}
	if err != nil {
		return nil, nil, err
	}
	switch s.Status {
	case ticket.SurveyAnswered:
		return nil, nil, ErrSurveyAnswered
	case ticket.SurveyExpired:
		return nil, nil, ErrSurveyExpired
	case ticket.SurveySent:
	default:
		return nil, nil, ErrSurveyUnknown
	}
	t, err := ss.TicketByID(ctx, s.TicketID)
	if err != nil {
		return nil, nil, err
	}
	return s, t, nil
}

// SurveyReopens tells whether an answer is bad enough to reopen its ticket
// and warn the managers: "not solved", or a rating at or below the
// configured threshold. The survey page says so with the same rule.
func (d *Desk) SurveyReopens(a SurveyAnswer) bool {
	return (a.Solved != nil && !*a.Solved) || (a.Rating > 0 && a.Rating <= d.cfg.Survey.ReopenAtOrBelow)
}

// AnswerSurvey records the answer given on the page. The link works once.
func (d *Desk) AnswerSurvey(ctx context.Context, token string, a SurveyAnswer) error {
	if a.Rating < 1 || a.Rating > 5 {
		return shown(ticket.ErrInvalid, i18n.T(d.cfg.Language, "desk.survey.bad_rating"))
	}
	ss, err := d.surveyStore()
	if err != nil {
		return err
	}
	return d.store.InTx(ctx, func(ctx context.Context) error {
		s, t, err := d.liveSurvey(ctx, ss, token)
		if err != nil {
			return err
		}
		return d.answer(ctx, ss, s, t, a, t.Requester)
	})
}

// answer records a, moves the ticket and warns the managers of a bad one.
func (d *Desk) answer(ctx context.Context, ss SurveyStore, s *ticket.Survey, t *ticket.Ticket, a SurveyAnswer, actor string) error {
	now := d.now().UTC()
	if s.OpenedAt == nil {
		s.OpenedAt = &now // the first answer is the first sign of the person
	}
	s.AnsweredAt, s.Rating, s.Solved, s.Comment, s.Status = &now, a.Rating, a.Solved, strings.TrimSpace(a.Comment), ticket.SurveyAnswered
	if err := ss.UpdateSurvey(ctx, s); err != nil {
		return err
	}
	bad := d.SurveyReopens(a)
	data, _ := json.Marshal(map[string]any{"rating": a.Rating, "solved": a.Solved, "reopens": bad})
	current := t.ClosedAt != nil && t.ClosedAt.Equal(s.ClosedAt) // not reopened since
	t, err := d.change(ctx, t.Number, func(ctx context.Context, t *ticket.Ticket, now time.Time) error {
		if current && t.State == ticket.Cerrado {
			// The requester is answering the survey: abierto_por_encuesta
			// (guide 4.6), entered by the answer itself, never by a GET.
			if err := d.step(ctx, t, ticket.AbiertoPorEncuesta, actor, "", now); err != nil {
				return err
			}
		}
		if err := d.record(ctx, t, &ticket.Event{Kind: ticket.EventSurveyAnswered, Actor: actor, At: now,
			Body: s.Comment, To: fmt.Sprint(a.Rating), Data: string(data)}); err != nil {
			return err
		}
		switch {
		case bad && current && (t.State == ticket.Cerrado || t.State == ticket.AbiertoPorEncuesta):
			note := i18n.T(d.cfg.Language, "desk.note.reopened_by_survey")
			if s.Comment != "" {
				note += ": " + s.Comment
			}
			return d.step(ctx, t, ticket.EnProceso, actor, note, now)
		case t.State == ticket.AbiertoPorEncuesta:
			return d.step(ctx, t, ticket.Cerrado, actor, "", now)
		}
		return nil
	})
	if err != nil || !bad {
		return err
	}
	people, err := d.assigneeAndManagers(ctx, t, true)
	if err != nil {
		return err
	}
	for _, p := range people {
		n := &ticket.Notice{Ticket: t, To: p, Lang: d.cfg.Language, At: now, DedupeKey: fmt.Sprintf("survey-bad:%d:%s", s.ID, p),
			Payload: ticket.SurveyBadNotice{Survey: s, Reopened: t.State == ticket.EnProceso}}
		if _, _, err := d.queue(ctx, n); err != nil {
			return err
		}
	}
	return nil
}

// surveyTokenRE reads one answer token at the start of a line: a rating
// from 1 to 5 (also "4/5"), or sí/si/yes/no; the caller checks that no
// letter or digit continues it.
var surveyTokenRE = regexp.MustCompile(`(?i)^(?:([1-5])(?:\s*/\s*5)?|(s[ií]|yes)|(no))`)

// ParseSurveyReply reads an answer by mail from the first line with text:
// a number from 1 to 5, and/or "sí"/"no" (was it solved). The line must
// be made of answers, and words may follow only after punctuation
// ("4 — muy bien", "no, 1"): "No estaré hasta el 12" is a sentence whose
// "no" negates a verb, and "hasta el 5 de enero" a date, not answers. ok
// is false when the line says neither: the mail is then an ordinary reply.
func ParseSurveyReply(text string) (SurveyAnswer, bool) {
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if len([]rune(line)) > 80 {
			return SurveyAnswer{}, false // a sentence, not an answer
		}
		return parseSurveyLine(strings.TrimLeft(line, "¡¿\"'«(*"))
	}
	return SurveyAnswer{}, false
}

// continues reports whether s starts with a letter or digit that would
// continue the token before it.
func continues(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return s != "" && (unicode.IsLetter(r) || unicode.IsDigit(r))
}

func parseSurveyLine(rest string) (SurveyAnswer, bool) {
	var a SurveyAnswer
	for tokens := 0; ; tokens++ {
		m := surveyTokenRE.FindStringSubmatchIndex(rest)
		if m == nil || tokens == 3 {
			return SurveyAnswer{}, false // no answer, or words after one: a sentence
		}
		if continues(rest[m[1]:]) {
			return SurveyAnswer{}, false // "noviembre", "10"
		}
		switch {
		case m[2] >= 0:
			a.Rating = int(rest[m[2]] - '0')
		case m[4] >= 0:
			v := true
			a.Solved = &v
		default:
			f := false
			a.Solved = &f
		}
		rest = strings.TrimLeft(rest[m[1]:], " \t")
		if rest == "" {
			return a, true
		}
		if r, _ := utf8.DecodeRuneInString(rest); unicode.IsPunct(r) || unicode.IsSymbol(r) {
			// After punctuation, another answer ("no, 1") or a comment.
			rest = strings.TrimLeftFunc(rest, func(r rune) bool { return unicode.IsPunct(r) || unicode.IsSymbol(r) || unicode.IsSpace(r) })
			if m := surveyTokenRE.FindStringIndex(rest); m == nil || m[1] < len(rest) && continues(rest[m[1]:]) {
				return a, true
			}
		}
		// Otherwise another answer must follow ("Sí 5").
	}
}

// surveyReply answers a survey from the requester's mail when it replies
// to the survey mail and reads as an answer; handled is false otherwise.
func (d *Desk) surveyReply(ctx context.Context, t *ticket.Ticket, in *ticket.Inbound, sender, text string) (bool, error) {
	ss, err := d.surveyStore()
	if err != nil || sender != t.Requester {
		return false, nil
	}
	s, err := ss.SurveyByMessageID(ctx, t.ID, append(append([]string(nil), in.InReplyTo...), in.References...))
	if errors.Is(err, ticket.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	a, ok := ParseSurveyReply(text)
	if !ok {
		return false, nil
	}
	rest := strings.SplitN(strings.TrimSpace(text), "\n", 2)
	if len(rest) == 2 {
		a.Comment = strings.TrimSpace(rest[1])
	}
	return true, d.answer(ctx, ss, s, t, a, sender)
}
