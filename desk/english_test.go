package desk_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/desk"
	"github.com/mesadeservicios/mesa/mailin"
	"github.com/mesadeservicios/mesa/mailout"
	"github.com/mesadeservicios/mesa/rules"
	"github.com/mesadeservicios/mesa/sla"
	"github.com/mesadeservicios/mesa/store"
	"github.com/mesadeservicios/mesa/store/storetest"
	"github.com/mesadeservicios/mesa/ticket"
)

// enEnv is a desk configured in English (desk.language: en), wired as
// cmd/mesa wires it: the renderer in English with the help list by
// language.
type enEnv struct {
	d   *desk.Desk
	db  *store.DB
	now time.Time
	n   int
}

func newEnEnv(t *testing.T) *enEnv { t.Helper(); return newLangEnv(t, "en", nil) }

// newLangEnv is a desk in lang whose requesters of englishFor read the
// other language.
func newLangEnv(t *testing.T, lang string, englishFor []string) *enEnv {
	t.Helper()
	ctx := context.Background()
	db := storetest.SQLite(t)
	db.SaveGroup(ctx, ticket.Group{Key: "infraestructura"})
	for _, p := range []*ticket.Person{
		{Email: "carlos@entidad.gov.co", Role: ticket.RoleTechnician, Level: 1, Groups: []string{"infraestructura"}, Active: true},
		{Email: "marta@entidad.gov.co", Role: ticket.RoleManager, Groups: []string{"infraestructura"}, Active: true},
	} {
		if err := db.SavePerson(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	eng, _ := rules.Default()
	cal, _ := sla.New(sla.Options{})
	r, err := mailout.New(mailout.Options{DeskName: "Service Desk", From: "mesa@entidad.gov.co", PublicURL: "https://mesa.x",
		Language: lang, Catalogue: eng, CommandHelpFor: desk.Help})
	if err != nil {
		t.Fatal(err)
	}
	e := &enEnv{db: db, now: time.Date(2026, 3, 24, 14, 0, 0, 0, time.UTC)} // a Tuesday, 9:00 in Bogotá
	e.d, err = desk.New(desk.Deps{Files: mailin.Decoder{}, Store: db, Mail: r, Calendar: cal, Classifier: eng,
		Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return e.now },
		Config: desk.Config{Language: lang, EnglishFor: englishFor, RepliesPerHour: 10, RepliesPerDay: 40,
			Addresses: []string{"mesa@entidad.gov.co"}, TrustedAuthServID: "mx.entidad.gov.co"}})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// mail runs one message through intake, with extra header lines and the
// source it came from.
func (e *enEnv) mail(t *testing.T, from, subject, inReplyTo, headers, body string, src ticket.Source) desk.IntakeResult {
	t.Helper()
	e.n++
	e.now = e.now.Add(time.Minute)
	raw := "From: " + from + "\r\nTo: mesa@entidad.gov.co\r\nSubject: " + subject + "\r\nMessage-ID: <en" + strings.Repeat("x", e.n) + "@entidad.gov.co>\r\n"
	if inReplyTo != "" {
		raw += "In-Reply-To: <" + inReplyTo + ">\r\n"
	}
	raw += headers + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n"
	in, _ := mailin.Parse([]byte(raw))
	if src.Mailbox == "" {
		src.Mailbox = "file"
	}
	res, err := e.d.Intake(context.Background(), []byte(raw), in, src)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// outbox is every mail queued to an address, oldest first.
func (e *enEnv) outbox(t *testing.T, to string) []*ticket.Inbound {
	t.Helper()
	rows, err := e.db.DueMail(context.Background(), e.now.Add(365*24*time.Hour), 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []*ticket.Inbound
	for _, m := range rows {
		if m.To[0] == to {
			in, _ := mailin.Parse(m.Raw)
			out = append(out, in)
		}
	}
	return out
}

func (e *enEnv) last(t *testing.T, to string) *ticket.Inbound {
	t.Helper()
	all := e.outbox(t, to)
	if len(all) == 0 {
		t.Fatalf("no mail to %s", to)
	}
	return all[len(all)-1]
}

// events is the bodies of t's events of a kind, in order.
func (e *enEnv) events(t *testing.T, number string, kind ticket.EventKind) []string {
	t.Helper()
	tk, err := e.db.TicketByNumber(context.Background(), number)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := e.db.Events(context.Background(), tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		if ev.Kind == kind {
			out = append(out, ev.Body)
		}
	}
	return out
}

// has checks that text holds every want and none of the Spanish texts of
// the same messages.
func has(t *testing.T, what, text string, want, spanish []string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("%s: missing %q in:\n%s", what, w, text)
		}
	}
	for _, s := range spanish {
		if strings.Contains(text, s) {
			t.Errorf("%s: Spanish %q in an English desk's text:\n%s", what, s, text)
		}
	}
}

// A desk configured in English writes in English everywhere it used to
// write hard-coded Spanish: the answers to commands and their errors, the
// help list (in #ayuda's answer and in the assignment notice), the
// notices and notes of unverified staff mail, the notes on a ticket (an
// oversize mail, an automatic reply, a reopening by reply or by survey).
func TestEnglishDeskWritesEnglish(t *testing.T) {
	ctx := context.Background()
	e := newEnEnv(t)
	const carlos, ana = "carlos@entidad.gov.co", "ana@entidad.gov.co"

	// A request too big to read whole: only its header was read.
	res := e.mail(t, "Ana <"+ana+">", "The VPN does not connect", "", "", "FortiClient does not connect from home.",
		ticket.Source{Truncated: true, Size: 30 << 20})
	if res.Disposition != desk.DispTicket {
		t.Fatalf("intake: %+v", res)
	}
	number := res.Ticket
	created := e.events(t, number, ticket.EventCreated)
	if len(created) != 1 {
		t.Fatalf("created events: %q", created)
	}
	has(t, "oversize note", created[0], []string{"[Message of 30.0 MB: over the size limit; only its header was read", "FortiClient does not connect"},
		[]string{"Mensaje de", "supera el límite"})

	// The assignment notice shows the help list in English.
	assigned := e.outbox(t, carlos)
	if len(assigned) != 1 {
		t.Fatalf("assignment notices: %d, want 1", len(assigned))
	}
	has(t, "assignment notice", assigned[0].Text,
		[]string{"#nota <text> — internal note, never sent to the requester", "#cerrar <solution> — closes the ticket with the solution"},
		[]string{"nota interna, nunca se envía", "cierra el caso con la solución"})

	// Commands that fail, and #ayuda: the answer is in English.
	e.mail(t, "Carlos <"+carlos+">", "RE: "+assigned[0].Subject, assigned[0].MessageID, "Authentication-Results: "+trusted+"\r\n",
		"#estado cerrado\n#cc mesa@entidad.gov.co\n#asignar nadie@entidad.gov.co\n#categoria no.such\n#foo\n#fuera_de_alcance\n#tomar XX-1",
		ticket.Source{})
	answer := e.last(t, carlos)
	has(t, "command answer", answer.Subject, []string{"Command results"}, []string{"Resultado de comandos"})
	has(t, "command answer", answer.Text, []string{
		"✘ #estado cerrado — not applied: #estado takes en_proceso or retenido (to close, use #cerrar)",
		"✘ #cc mesa@entidad.gov.co — not applied: mesa@entidad.gov.co is an address of the desk",
		"✘ #asignar nadie@entidad.gov.co — not applied: nadie@entidad.gov.co is not an active technician of the desk",
		`✘ #categoria no.such — not applied: unknown category "no.such"`,
		"✘ #foo — not applied: unknown command: #foo",
		"✘ #fuera_de_alcance — not applied: #fuera_de_alcance needs the guidance on where to turn instead",
		`✘ #tomar XX-1 — not applied: "XX-1" is not a ticket number`,
		"Available commands:",
		"#ayuda — this list",
		"The text after the command lines is sent to the requester as the answer.",
	}, []string{"no aplicado", "acepta en_proceso", "es una dirección de la mesa", "comando desconocido", "Comandos disponibles",
		"esta lista", "necesita la orientación", "no es un número de caso", "invalid value:", "changing ticket"})

	// The same errors keep their kinds and, for the use cases that always
	// spoke English to logs and the command line, their Error.
	if _, err := e.d.Assign(ctx, number, carlos, "nadie@entidad.gov.co"); !errors.Is(err, ticket.ErrInvalid) ||
		!strings.Contains(err.Error(), "nadie@entidad.gov.co is not an active technician of the desk") {
		t.Errorf("Assign to a stranger: got %v, want ErrInvalid with its text", err)
	}
	if err := e.d.RequestMyTickets(ctx, "not an address"); !errors.Is(err, ticket.ErrInvalid) || !strings.Contains(err.Error(), "invalid e-mail address") ||
		strings.Contains(err.Error(), "no válida") {
		t.Errorf("RequestMyTickets of a bad address: got %v, want ErrInvalid in English", err)
	}

	// Unauthenticated mail from a staff address: an unverified note and
	// one notice, in English.
	e.mail(t, "Carlos <"+carlos+">", "RE: "+assigned[0].Subject, assigned[0].MessageID, "", "Already solved, please close it.", ticket.Source{})
	notes := e.events(t, number, ticket.EventNote)
	if len(notes) == 0 {
		t.Fatal("no unverified note")
	}
	has(t, "unverified note", notes[len(notes)-1],
		[]string{"⚠ NOT VERIFIED: this mail came with the address of carlos@entidad.gov.co but the mail server did not authenticate it", "Reason: ", "Already solved"},
		[]string{"NO VERIFICADO", "Motivo:", "no lo autenticó"})
	refusal := e.last(t, carlos)
	has(t, "unverified notice", refusal.Subject, []string{"Commands not applied"}, []string{"no aplicados"})
	has(t, "unverified notice", refusal.Text,
		[]string{"Your mail was not applied: the agency's mail server did not authenticate it (DMARC/DKIM)", "If you sent it, write from your work account"},
		[]string{"Su mensaje no se aplicó", "Si usted lo envió"})

	// Unauthenticated desk commands in a new mail, an hour later (one
	// notice an hour): refused in English.
	e.now = e.now.Add(time.Hour)
	if res := e.mail(t, "Carlos <"+carlos+">", "queue", "", "", "#mis_casos", ticket.Source{}); res.Disposition != desk.DispCommands {
		t.Fatalf("desk commands: %+v", res)
	}
	has(t, "refused desk commands", e.last(t, carlos).Text,
		[]string{"The commands were not applied: the mail did not pass the authentication check (DMARC/DKIM)", "If you sent it, write from your work account"},
		[]string{"Los comandos no se aplicaron", "Si usted lo envió"})

	// An automatic reply in the thread: a note in English.
	ack := e.outbox(t, ana)[0]
	e.mail(t, "Ana <"+ana+">", "Out of office: "+ack.Subject, ack.MessageID, "Auto-Submitted: auto-replied\r\n", "I am away until Monday.", ticket.Source{})
	notes = e.events(t, number, ticket.EventNote)
	has(t, "auto-reply note", notes[len(notes)-1], []string{"Automatic reply received: Out of office"}, []string{"Respuesta automática"})

	// Closed, then the requester says it still fails: reopened, noted in
	// English.
	if _, err := e.d.Transition(ctx, number, ticket.Cerrado, carlos, "Reinstalled the client."); err != nil {
		t.Fatal(err)
	}
	e.mail(t, "Ana <"+ana+">", "RE: "+ack.Subject, ack.MessageID, "", "It still fails.", ticket.Source{})
	states := e.events(t, number, ticket.EventStateChanged)
	has(t, "reopened by reply", states[len(states)-1], []string{"Reopened by the requester's reply"}, []string{"Reabierto"})

	// Closed again; the survey goes out an hour later and a rating of 1
	// reopens the ticket, noted in English.
	if _, err := e.d.Transition(ctx, number, ticket.Cerrado, carlos, "Replaced the certificate."); err != nil {
		t.Fatal(err)
	}
	e.now = e.now.Add(2 * time.Hour)
	if rep, err := e.d.SendSurveys(ctx); err != nil || rep.Sent != 1 {
		t.Fatalf("surveys: %+v %v", rep, err)
	}
	var token string
	for _, m := range e.outbox(t, ana) {
		if s := surveyLinkRE.FindStringSubmatch(m.Text); s != nil {
			token = s[1]
		}
	}
	if token == "" {
		t.Fatal("no survey link")
	}
	if err := e.d.AnswerSurvey(ctx, token, desk.SurveyAnswer{Rating: 9}); !errors.Is(err, ticket.ErrInvalid) ||
		!strings.Contains(err.Error(), "the rating goes from 1 to 5") {
		t.Errorf("rating 9: got %v, want ErrInvalid in English", err)
	}
	if err := e.d.AnswerSurvey(ctx, token, desk.SurveyAnswer{Rating: 1, Comment: "Still broken."}); err != nil {
		t.Fatal(err)
	}
	states = e.events(t, number, ticket.EventStateChanged)
	has(t, "reopened by survey", states[len(states)-1], []string{"Reopened by the satisfaction survey: Still broken."}, []string{"Reabierto", "encuesta"})
}

// With the desk in Spanish (the default) the same help list and answers
// are the Spanish ones, as before: Help("es") is CommandHelp.
func TestHelpInBothLanguages(t *testing.T) {
	es, en := desk.Help("es"), desk.Help("en")
	if len(es) != len(desk.HelpKeys) || len(en) != len(es) {
		t.Fatalf("help lines: es %d, en %d, want %d", len(es), len(en), len(desk.HelpKeys))
	}
	for i := range es {
		if es[i] != desk.CommandHelp[i] {
			t.Errorf("line %d: Help(es) %q, CommandHelp %q", i, es[i], desk.CommandHelp[i])
		}
		if strings.HasPrefix(es[i], "⟦") || strings.HasPrefix(en[i], "⟦") || es[i] == en[i] {
			t.Errorf("line %d: es %q, en %q, want both, and different", i, es[i], en[i])
		}
		// Each line names the same command in both languages.
		if c := strings.Fields(es[i])[0]; strings.HasPrefix(c, "#") && !strings.HasPrefix(en[i], c) {
			t.Errorf("line %d: en %q does not start with %s", i, en[i], c)
		}
	}
	if es[0] != "#estado en_proceso|retenido — cambia el estado del caso" {
		t.Errorf("first line: got %q, want the Spanish as it was", es[0])
	}
}

// On a Spanish desk a requester of english_for reads English and the
// technicians Spanish: the assignment notice's help list follows the
// notice's language, not the renderer's.
func TestStaffReadTheDesksLanguage(t *testing.T) {
	e := newLangEnv(t, "es", []string{"ana@entidad.gov.co"})
	e.mail(t, "Ana <ana@entidad.gov.co>", "The VPN does not connect", "", "", "FortiClient does not connect from home.", ticket.Source{})
	assigned := e.outbox(t, "carlos@entidad.gov.co")
	if len(assigned) != 1 {
		t.Fatalf("assignment notices: %d, want 1", len(assigned))
	}
	has(t, "assignment notice to staff", assigned[0].Text, []string{"#nota <texto> — nota interna, nunca se envía al solicitante"},
		[]string{"internal note, never sent"})
	ack := e.outbox(t, "ana@entidad.gov.co")
	if len(ack) != 1 || !strings.Contains(ack[0].Subject, "Received") {
		t.Errorf("acknowledgement to an english_for requester: %+v, want it in English", ack)
	}
}
