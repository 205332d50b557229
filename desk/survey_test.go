package desk_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/desk"
	"github.com/mesadeservicios/mesa/mailin"
	"github.com/mesadeservicios/mesa/ticket"
)

var surveyLinkRE = regexp.MustCompile(`/encuesta/([A-Za-z0-9_-]+)`)

// surveyMails returns the survey mails queued to addr, as parsed.
func (e *slaEnv) mailsTo(t *testing.T, addr, subject string) []*ticket.Inbound {
	t.Helper()
	rows, err := e.db.DueMail(context.Background(), e.now.Add(365*24*time.Hour), 100000)
	if err != nil {
		t.Fatal(err)
	}
	var out []*ticket.Inbound
	for _, m := range rows {
		if m.To[0] == addr && strings.Contains(m.Subject, subject) {
			in, _ := mailin.Parse(m.Raw)
			out = append(out, in)
		}
	}
	return out
}

// closed opens a VPN ticket on Tuesday 24 March 2026 at 9:00 and closes it
// at 10:00.
func (e *slaEnv) closed(t *testing.T, requester, solution string) *ticket.Ticket {
	t.Helper()
	ctx := context.Background()
	e.at(3, 24, 9, 0)
	tk, err := e.d.Create(ctx, desk.NewTicket{Subject: "No conecta la VPN", Requester: requester, Body: "El FortiClient no conecta.",
		MessageID: "<orig-" + requester + ">"})
	if err != nil {
		t.Fatal(err)
	}
	e.at(3, 24, 10, 0)
	if tk, err = e.d.Transition(ctx, tk.Number, ticket.Cerrado, "carlos@entidad.gov.co", solution); err != nil {
		t.Fatal(err)
	}
	return tk
}

func (e *slaEnv) surveys(t *testing.T) desk.SurveyReport {
	t.Helper()
	rep, err := e.d.SendSurveys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func (e *slaEnv) state(t *testing.T, number string) *ticket.Ticket {
	t.Helper()
	tk, err := e.db.TicketByNumber(context.Background(), number)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func TestSurveyByLink(t *testing.T) {
	ctx := context.Background()
	e := newSLAEnv(t, nil, desk.Config{})
	tk := e.closed(t, "ana@entidad.gov.co", "Se restableció la contraseña de la VPN.")
	e.at(3, 24, 10, 59)
	if rep := e.surveys(t); rep.Sent != 0 {
		t.Fatalf("survey before the delay: %+v", rep)
	}
	e.at(3, 24, 11, 0)
	if rep := e.surveys(t); rep.Sent != 1 {
		t.Fatalf("survey after an hour: %+v", rep)
	}
	if rep := e.surveys(t); rep.Sent != 0 {
		t.Fatalf("second survey for one closure: %+v", rep)
	}
	mails := e.mailsTo(t, "ana@entidad.gov.co", "Encuesta")
	if len(mails) != 1 || !mails[0].AutoSubmitted || len(mails[0].InReplyTo) != 1 || mails[0].InReplyTo[0] != "orig-ana@entidad.gov.co" {
		t.Fatalf("survey mail: %+v", mails)
	}
	m := surveyLinkRE.FindStringSubmatch(mails[0].Text)
	if m == nil || len(m[1]) < 43 {
		t.Fatalf("no survey link with a 256-bit token:\n%s", mails[0].Text)
	}
	token := m[1]
	// Opening (a GET, maybe a mail scanner, maybe ten times) changes
	// nothing: not the ticket, not the survey.
	before := kinds(t, e.db, tk.ID, "")
	for i := 0; i < 3; i++ {
		page, err := e.d.OpenSurvey(ctx, token)
		if err != nil || page.Number != tk.Number || page.Solution != "Se restableció la contraseña de la VPN." {
			t.Fatalf("open: %+v %v", page, err)
		}
	}
	if got := e.state(t, tk.Number); got.State != ticket.Cerrado {
		t.Errorf("after opening: got %s, want cerrado (a GET changes nothing)", got.State)
	}
	if after := kinds(t, e.db, tk.ID, ""); len(after) != len(before) {
		t.Errorf("opening recorded events: got %v, want %v", after, before)
	}
	if sv, _ := e.db.SurveyByToken(ctx, ticket.HashAccessKey(token)); sv.OpenedAt != nil || sv.Status != ticket.SurveySent {
		t.Errorf("opening changed the survey: %+v", sv)
	}
	if err := e.d.AnswerSurvey(ctx, token, desk.SurveyAnswer{Rating: 6}); !errors.Is(err, ticket.ErrInvalid) {
		t.Errorf("rating 6: got %v", err)
	}
	yes := true
	e.at(3, 24, 11, 30)
	if err := e.d.AnswerSurvey(ctx, token, desk.SurveyAnswer{Rating: 5, Solved: &yes, Comment: "¡Gracias!"}); err != nil {
		t.Fatal(err)
	}
	got := e.state(t, tk.Number)
	if got.State != ticket.Cerrado || !got.ClosedAt.Equal(*tk.ClosedAt) || got.Solution != tk.Solution {
		t.Errorf("after a good answer: %s closed %v solution %q", got.State, got.ClosedAt, got.Solution)
	}
	// The answer walked the ticket through abierto_por_encuesta.
	if k := kinds(t, e.db, tk.ID, "state_changed"); len(k) < 2 || k[len(k)-2] != "state_changed:abierto_por_encuesta" || k[len(k)-1] != "state_changed:cerrado" {
		t.Errorf("states after the answer: got %v, want … abierto_por_encuesta, cerrado", k)
	}
	if sv, _ := e.db.SurveyByToken(ctx, ticket.HashAccessKey(token)); sv.OpenedAt == nil || !sv.OpenedAt.Equal(*sv.AnsweredAt) {
		t.Errorf("the answer is the opening: %+v", sv)
	}
	if n := len(e.mailsTo(t, "ana@entidad.gov.co", "Caso cerrado")); n != 1 {
		t.Errorf("closure notices: %d, want 1 (the answer must not close it again)", n)
	}
	if err := e.d.AnswerSurvey(ctx, token, desk.SurveyAnswer{Rating: 1}); !errors.Is(err, desk.ErrSurveyAnswered) {
		t.Errorf("second answer: got %v, want ErrSurveyAnswered", err)
	}
	if _, err := e.d.OpenSurvey(ctx, token); !errors.Is(err, desk.ErrSurveyAnswered) {
		t.Errorf("opening an answered survey: got %v", err)
	}
	if _, err := e.d.OpenSurvey(ctx, strings.Repeat("x", 43)); !errors.Is(err, desk.ErrSurveyUnknown) {
		t.Errorf("unknown token: got %v", err)
	}
	if rep := e.surveys(t); rep.Sent != 0 {
		t.Errorf("answered closure surveyed again: %+v", rep)
	}
	if len(e.mailsTo(t, "marta@entidad.gov.co", "Encuesta desfavorable")) != 0 {
		t.Error("a good answer notified the manager")
	}
}

func TestSurveyLowRatingReopens(t *testing.T) {
	ctx := context.Background()
	e := newSLAEnv(t, nil, desk.Config{})
	tk := e.closed(t, "ana@entidad.gov.co", "Listo.")
	e.at(3, 24, 11, 0)
	e.surveys(t)
	token := surveyLinkRE.FindStringSubmatch(e.mailsTo(t, "ana@entidad.gov.co", "Encuesta")[0].Text)[1]
	// Answered without opening first (the form was cached): still works.
	if err := e.d.AnswerSurvey(ctx, token, desk.SurveyAnswer{Rating: 2, Comment: "Me tocó llamar tres veces."}); err != nil {
		t.Fatal(err)
	}
	if got := e.state(t, tk.Number); got.State != ticket.EnProceso || got.ClosedAt != nil {
		t.Errorf("rating 2: %s", got.State)
	}
	if n := len(e.mailsTo(t, "marta@entidad.gov.co", "Encuesta desfavorable")); n != 1 {
		t.Errorf("manager notices: %d", n)
	}
}

// The acceptance case: "no" by mail reopens the ticket and tells the manager.
func TestSurveyAnsweredNoByMail(t *testing.T) {
	e := newSLAEnv(t, nil, desk.Config{})
	tk := e.closed(t, "ana@entidad.gov.co", "Listo.")
	e.at(3, 24, 11, 0)
	e.surveys(t)
	survey := e.mailsTo(t, "ana@entidad.gov.co", "Encuesta")[0]
	e.at(3, 24, 15, 0)
	raw := "From: Ana <ana@entidad.gov.co>\r\nTo: mesa@entidad.gov.co\r\nSubject: RE: " + survey.Subject +
		"\r\nMessage-ID: <ans-1@entidad.gov.co>\r\nIn-Reply-To: <" + survey.MessageID + ">\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n\r\nNo\r\nSigue sin conectar desde la casa.\r\n\r\n> Cerramos el caso\r\n"
	in, _ := mailin.Parse([]byte(raw))
	res, err := e.d.Intake(context.Background(), []byte(raw), in, ticket.Source{Mailbox: "INBOX", UID: 7})
	if err != nil || res.Ticket != tk.Number || !strings.Contains(res.Reason, "survey") {
		t.Fatalf("intake: %+v %v", res, err)
	}
	if got := e.state(t, tk.Number); got.State != ticket.EnProceso {
		t.Errorf("after «no» by mail: %s", got.State)
	}
	evs, _ := e.db.Events(context.Background(), tk.ID)
	var answered *ticket.Event
	for i := range evs {
		if evs[i].Kind == ticket.EventSurveyAnswered {
			answered = &evs[i]
		}
	}
	if answered == nil || answered.Body != "Sigue sin conectar desde la casa." || !strings.Contains(answered.Data, `"solved":false`) {
		t.Errorf("survey_answered event: %+v", answered)
	}
	notice := e.mailsTo(t, "marta@entidad.gov.co", "Encuesta desfavorable")
	if len(notice) != 1 || !strings.Contains(notice[0].Text, "Sigue sin conectar") {
		t.Errorf("manager notice: %+v", notice)
	}
	// A plain reply that is not an answer ("gracias por todo, ya funciona
	// bien, saludos cordiales y buen día a todo el equipo de la mesa…")
	// stays an ordinary comment.
	if _, ok := desk.ParseSurveyReply("Gracias por la atención, todo quedó funcionando perfectamente desde ayer en la tarde."); ok {
		t.Error("a sentence read as an answer")
	}
}

func TestSurveyReminderAndExpiry(t *testing.T) {
	ctx := context.Background()
	e := newSLAEnv(t, nil, desk.Config{})
	tk := e.closed(t, "ana@entidad.gov.co", "Listo.")
	e.at(3, 24, 11, 0)
	e.surveys(t)
	first := e.mailsTo(t, "ana@entidad.gov.co", "Encuesta")[0]
	token := surveyLinkRE.FindStringSubmatch(first.Text)[1]
	if _, err := e.d.OpenSurvey(ctx, token); err != nil { // opened (or scanned), never answered
		t.Fatal(err)
	}
	if got := e.state(t, tk.Number); got.State != ticket.Cerrado {
		t.Errorf("after opening: got %s, want cerrado", got.State)
	}
	e.at(3, 26, 10, 59) // 17h59 of business time
	if rep := e.surveys(t); rep.Reminded != 0 {
		t.Fatalf("early reminder: %+v", rep)
	}
	e.at(3, 26, 11, 0)
	if rep := e.surveys(t); rep.Reminded != 1 {
		t.Fatalf("reminder after two business days: %+v", rep)
	}
	e.at(3, 26, 12, 0)
	if rep := e.surveys(t); rep.Reminded != 0 {
		t.Fatalf("second reminder: %+v", rep)
	}
	mails := e.mailsTo(t, "ana@entidad.gov.co", "Encuesta")
	if len(mails) != 2 || len(mails[1].InReplyTo) != 1 || mails[1].InReplyTo[0] != first.MessageID || surveyLinkRE.MatchString(mails[1].Text) {
		t.Fatalf("reminder: %+v", mails)
	}
	e.at(3, 31, 11, 0) // five business days after sending (Wed 25–Tue 31)
	if rep := e.surveys(t); rep.Expired != 1 {
		t.Fatalf("expiry: %+v", rep)
	}
	if got := e.state(t, tk.Number); got.State != ticket.Cerrado || !got.ClosedAt.Equal(*tk.ClosedAt) {
		t.Errorf("after expiry: %s", got.State)
	}
	if err := e.d.AnswerSurvey(ctx, token, desk.SurveyAnswer{Rating: 4}); !errors.Is(err, desk.ErrSurveyExpired) {
		t.Errorf("answer after expiry: got %v", err)
	}
}

func TestNoSurvey(t *testing.T) {
	ctx := context.Background()
	e := newSLAEnv(t, nil, desk.Config{})
	e.closed(t, "no-reply@proveedor.com", "Listo.")
	e.closed(t, "luis@entidad.gov.co", ticket.OutOfScopePrefix+"Eso lo atiende su proveedor de internet.")
	tk := e.closed(t, "ana@entidad.gov.co", "Listo.")
	e.at(3, 24, 11, 0)
	if rep := e.surveys(t); rep.Sent != 1 || rep.Skipped != 2 {
		t.Fatalf("first run: %+v", rep)
	}
	// Reopened by the requester and closed again three days later: no
	// second survey within 7 days.
	e.at(3, 25, 9, 0)
	if _, err := e.d.Transition(ctx, tk.Number, ticket.EnProceso, "ana@entidad.gov.co", "Sigue fallando"); err != nil {
		t.Fatal(err)
	}
	e.at(3, 26, 9, 0)
	if _, err := e.d.Transition(ctx, tk.Number, ticket.Cerrado, "carlos@entidad.gov.co", "Ahora sí."); err != nil {
		t.Fatal(err)
	}
	e.at(3, 26, 11, 0)
	// No new survey, and the first one, about a closure undone since, is
	// expired instead of reminded.
	if rep := e.surveys(t); rep.Sent != 0 || rep.Skipped != 1 || rep.Reminded != 0 || rep.Expired != 1 {
		t.Fatalf("closed again within 7 days: %+v", rep)
	}
	if got := e.mailsTo(t, "ana@entidad.gov.co", "Encuesta"); len(got) != 1 {
		for _, m := range got {
			t.Logf("%s %s", m.MessageID, m.Subject)
		}
		t.Errorf("survey mails: %d", len(got))
	}
}

func TestParseSurveyReply(t *testing.T) {
	no, yes := false, true
	for _, c := range []struct {
		in     string
		rating int
		solved *bool
		ok     bool
	}{
		{"5", 5, nil, true},
		{"  \n4 — muy bien\nGracias", 4, nil, true},
		{"No", 0, &no, true},
		{"no, 1", 1, &no, true},
		{"Sí, 5", 5, &yes, true},
		{"10", 0, nil, false},
		{"noviembre", 0, nil, false},
		{"", 0, nil, false},
		{"Gracias", 0, nil, false},
		// Issue 13 item 8: sentences, not answers.
		{"No estaré hasta el 12", 0, nil, false},
		{"hasta el 5 de enero", 0, nil, false},
		{"5 de enero no puedo", 0, nil, false},
		{"No puedo hasta el lunes", 0, nil, false},
		{"Sí 5", 5, &yes, true},
		{"¡Sí!", 0, &yes, true},
		{"4/5", 4, nil, true},
		{"No.", 0, &no, true},
		{"3: regular", 3, nil, true},
	} {
		a, ok := desk.ParseSurveyReply(c.in)
		if ok != c.ok || a.Rating != c.rating || (a.Solved == nil) != (c.solved == nil) || (a.Solved != nil && *a.Solved != *c.solved) {
			t.Errorf("%q: got %+v %v", c.in, a, ok)
		}
	}
}

// FuzzParseSurveyReply: an answer is a rating of 1 to 5 and/or solved,
// read from a first line of at most 80 characters, in bounded time.
func FuzzParseSurveyReply(f *testing.F) {
	for _, s := range []string{"5", "no", "Sí, 3", "\n\n2\n", "ñ1ñ", "12345", "No estaré hasta el 12", "hasta el 5 de enero", "¡Sí!", "4/5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		start := time.Now()
		a, ok := desk.ParseSurveyReply(s)
		if d := time.Since(start); d > time.Second {
			t.Fatalf("%s on %d bytes", d, len(s))
		}
		if line, _, _ := strings.Cut(strings.TrimLeft(s, " \t\r\n"), "\n"); ok && len([]rune(strings.TrimSpace(line))) > 80 {
			t.Fatalf("a line of %d characters read as an answer", len([]rune(line)))
		}
		if a.Rating < 0 || a.Rating > 5 {
			t.Fatalf("rating %d from %q", a.Rating, s)
		}
		if ok != (a.Rating > 0 || a.Solved != nil) {
			t.Fatalf("ok %v with %+v from %q", ok, a, s)
		}
	})
}

// Pain point A4: an alert from an accepted monitoring sender opens a
// ticket without an acknowledgement (and, closed, without a survey); the
// same alert from anyone else is kept as automatic mail, not ticketed.
func TestAcceptedAutomatedSender(t *testing.T) {
	ctx := context.Background()
	e := newSLAEnv(t, nil, desk.Config{AcceptAutomatedFrom: []string{"@monitoring.example"}})
	e.at(3, 24, 9, 0)
	intake := func(from, id string) desk.IntakeResult {
		raw := "From: " + from + "\r\nTo: mesa@entidad.gov.co\r\nSubject: [ALERTA] VPN caída en el firewall\r\nMessage-ID: <" + id +
			">\r\nAuto-Submitted: auto-generated\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nEl túnel VPN no responde desde las 08:55.\r\n"
		in, _ := mailin.Parse([]byte(raw))
		res, err := e.d.Intake(ctx, []byte(raw), in, ticket.Source{Mailbox: "INBOX", UID: 1})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	res := intake("alerts@monitoring.example", "a1@monitoring.example")
	if res.Disposition != desk.DispTicket {
		t.Fatalf("accepted alert: %+v", res)
	}
	if n := len(e.mailsTo(t, "alerts@monitoring.example", "")); n != 0 {
		t.Errorf("mail to the monitoring system: %d", n)
	}
	tk := e.state(t, res.Ticket)
	if tk.Assignee == "" || len(e.mailsTo(t, tk.Assignee, "Asignado")) != 1 {
		t.Errorf("the assignee was not told: %q", tk.Assignee)
	}
	if res := intake("alerts@otro.example", "a2@otro.example"); res.Disposition != desk.DispAutoreply || res.Ticket != "" {
		t.Errorf("automatic mail from an unlisted sender: %+v", res)
	}
	e.d.Transition(ctx, tk.Number, ticket.Cerrado, tk.Assignee, "Se reinició el túnel.")
	e.at(3, 24, 12, 0)
	if rep := e.surveys(t); rep.Sent != 0 || rep.Skipped != 1 {
		t.Errorf("survey to a monitoring system: %+v", rep)
	}
}
