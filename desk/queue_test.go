package desk_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/desk"
	"github.com/mesadeservicios/mesa/mailin"
	"github.com/mesadeservicios/mesa/rules"
	"github.com/mesadeservicios/mesa/store"
	"github.com/mesadeservicios/mesa/store/storetest"
	"github.com/mesadeservicios/mesa/ticket"
)

// heldLog keeps the "mail held" alerts: their message and kind.
type heldLog struct {
	mu   sync.Mutex
	held []string // "kind: message"
}

func (h *heldLog) Enabled(context.Context, slog.Level) bool { return true }
func (h *heldLog) Handle(_ context.Context, r slog.Record) error {
	if !strings.Contains(r.Message, "mail held") {
		return nil
	}
	kind := ""
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "kind" {
			kind = a.Value.String()
		}
		return true
	})
	h.mu.Lock()
	h.held = append(h.held, kind+": "+r.Message)
	h.mu.Unlock()
	return nil
}
func (h *heldLog) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *heldLog) WithGroup(string) slog.Handler      { return h }

// queueEnv is a desk over SQLite with the fake renderer, wall-clock SLA
// time, and a technician x whose address is in trouble.
type queueEnv struct {
	d    *desk.Desk
	db   *store.DB
	mail *fakeMail
	log  *heldLog
	now  time.Time
	x    string
	deps desk.Deps
	n    int
}

var bogota, _ = time.LoadLocation("America/Bogota")

// oneGroup classifies every mail as a network failure of group soporte.
type oneGroup struct{}

func (oneGroup) Classify(rules.Message) rules.Result {
	return rules.Result{Category: "redes.red", Group: "soporte"}
}
func (oneGroup) Category(string) (*rules.Category, bool) { return nil, false }

// TestEveryKindHeldBySameRule sends one mail of every kind to an address
// that bounced for good, and shows each held, never sent, by the one hold
// rule (but the command results and the queue #mis_casos asks for: the
// authenticated command mail from the address clears its mark); mail to other people still goes. To an
// address that had RepliesPerHour answers to automatic-looking mail (a
// loop), none of these is held: the loop throttle holds only further
// answers to automatic-looking mail (issue 13 item 5; TestLoopThrottle).
func TestEveryKindHeldBySameRule(t *testing.T) {
	for _, tc := range []struct {
		name, reason string
		perHour      int
		trouble      func(e *queueEnv) // makes x an address in trouble, before each mail
		held         func(k ticket.NoticeKind) bool
	}{
		{"bounced", "the address bounced for good", 0, func(e *queueEnv) {
			if err := e.db.MarkUndeliverable(context.Background(), e.x, "5.1.1 no such user", e.now); err != nil {
				t.Fatal(err)
			}
		}, func(k ticket.NoticeKind) bool { return k != ticket.NoticeCommands && k != ticket.NoticeQueue }},
		{"looping auto-responder", "", 2, func(e *queueEnv) {
			// The responder answered every mail: two answers to it in the last hour.
			for i := 0; i < 2; i++ {
				loop := &ticket.Outgoing{DedupeKey: fmt.Sprintf("loop:%d:%d", e.now.UnixNano(), i), From: "mesa@entidad.gov.co",
					To: []string{e.x}, Subject: "loop", Raw: []byte("x"), CreatedAt: e.now, NextAttemptAt: e.now, AnswersAutomatic: true}
				if err := e.db.EnqueueMail(context.Background(), loop); err != nil {
					t.Fatal(err)
				}
			}
		}, func(ticket.NoticeKind) bool { return false }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newQueueEnv(t, tc.perHour)
			everyKind(t, e, func() { tc.trouble(e) })
			ctx := context.Background()
			seen := map[ticket.NoticeKind]bool{}
			for _, n := range e.mail.notices {
				m, err := e.db.MailByDedupeKey(ctx, n.DedupeKey)
				if err != nil {
					t.Fatalf("%s notice %s not in the outbox: %v", n.Kind(), n.DedupeKey, err)
				}
				switch {
				case n.To == e.x && tc.held(n.Kind()) && m.State != ticket.OutboxHeld:
					t.Errorf("%s to %s: got state %s, want held", n.Kind(), e.x, m.State)
				case n.To == "ulises@entidad.gov.co" && m.State != ticket.OutboxFailed:
					t.Errorf("%s to %s: got state %s, want failed (it bounced)", n.Kind(), n.To, m.State)
				case n.To != "ulises@entidad.gov.co" && (n.To != e.x || !tc.held(n.Kind())) && m.State != ticket.OutboxPending:
					t.Errorf("%s to %s: got state %s, want pending", n.Kind(), n.To, m.State)
				}
				if n.To == e.x {
					seen[n.Kind()] = true
				}
				if n.To == e.x && tc.held(n.Kind()) {
					if want := string(n.Kind()) + ": ALERT: automatic mail held: " + tc.reason; !slices.ContainsFunc(e.log.held, func(s string) bool {
						return strings.HasPrefix(s, want)
					}) {
						t.Errorf("no alert %q in %q", want, e.log.held)
					}
				}
			}
			for _, k := range ticket.NoticeKinds {
				if !seen[k] {
					t.Errorf("no %s mail to %s", k, e.x)
				}
			}
		})
	}
}

func newQueueEnv(t *testing.T, perHour int) *queueEnv {
	t.Helper()
	ctx := context.Background()
	e := &queueEnv{db: storetest.SQLite(t), mail: &fakeMail{}, log: &heldLog{}, x: "xavier@entidad.gov.co",
		now: time.Date(2026, 3, 24, 14, 0, 0, 0, time.UTC)}
	if err := e.db.SavePerson(ctx, &ticket.Person{Email: e.x, Role: ticket.RoleTechnician, Level: 1, Active: true}); err != nil {
		t.Fatal(err)
	}
	var err error
	e.deps = desk.Deps{Files: mailin.Decoder{}, Store: e.db, Mail: e.mail, Calendar: wallClock{}, Classifier: noCatalogue{}, Logger: slog.New(e.log),
		Now: func() time.Time { return e.now }, Config: desk.Config{RepliesPerHour: perHour, Addresses: []string{"mesa@entidad.gov.co"},
			TrustedAuthServID: "mx.entidad.gov.co", Survey: desk.SurveyOptions{RemindAfter: 18 * time.Hour},
			Operators: desk.OperatorOptions{Mailboxes: []desk.OperatorMailbox{{Name: "ti"}}}}}
	e.d, err = desk.New(e.deps)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// everyKind makes the desk send x one mail of every kind, each by its
// real path, calling trouble before each.
func everyKind(t *testing.T, e *queueEnv, trouble func()) {
	t.Helper()
	ctx := context.Background()
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	step := func(d time.Duration) { e.now = e.now.Add(d); trouble() }
	const y = "yolanda@entidad.gov.co"

	step(time.Minute)
	due := e.now.Add(20 * time.Hour)
	mine, err := e.d.Create(ctx, desk.NewTicket{Subject: "Impresora", Body: "No imprime", Requester: e.x}) // ack
	must(mine, err)
	other, err := e.d.Create(ctx, desk.NewTicket{Subject: "VPN", Body: "No conecta", Requester: y, DueAt: &due})
	must(other, err)
	step(time.Minute)
	must(e.d.Answer(ctx, mine.Number, "diana@entidad.gov.co", "Vamos en camino.")) // answer
	step(time.Minute)
	must(e.d.Transition(ctx, mine.Number, ticket.Retenido, "diana@entidad.gov.co", "Falta el inventario")) // held
	must(e.d.Transition(ctx, mine.Number, ticket.EnProceso, e.x, ""))
	step(time.Minute)
	must(e.d.Transition(ctx, mine.Number, ticket.Cerrado, "diana@entidad.gov.co", "Se cambió el tóner.")) // closed
	step(time.Minute)
	must(e.d.Assign(ctx, other.Number, "diana@entidad.gov.co", e.x)) // assigned
	step(time.Minute)
	must(e.d.Comment(ctx, other.Number, y, "Adjunto la captura.", false)) // requester
	step(time.Minute)
	if err := e.d.RecordMail(ctx, other.ID, &ticket.Event{Kind: ticket.EventMailFailed, Actor: ticket.SystemActor, At: e.now,
		To: y, Body: "No se pudo entregar a " + y}); err != nil { // failed
		t.Fatal(err)
	}
	for _, auth := range []string{"mx.entidad.gov.co; dmarc=pass header.from=entidad.gov.co", ""} { // commands, rejected
		step(time.Minute)
		raw := "From: " + e.x + "\r\nTo: mesa@entidad.gov.co\r\nSubject: RE: [" + other.Number + "] VPN\r\nMessage-ID: <cmd" +
			fmt.Sprint(len(auth)) + "@entidad.gov.co>\r\n"
		if auth != "" {
			raw += "Authentication-Results: " + auth + "\r\n"
		}
		raw += "Content-Type: text/plain; charset=utf-8\r\n\r\n#nota revisar el cableado\r\n"
		in, err := mailin.Parse([]byte(raw))
		must(in, err)
		res, err := e.d.Intake(ctx, []byte(raw), in, ticket.Source{Mailbox: "INBOX"})
		if err != nil || res.Disposition != desk.DispReply {
			t.Fatalf("commands: got %+v, %v", res, err)
		}
	}
	step(2 * time.Hour)
	if rep, err := e.d.SendSurveys(ctx); err != nil || rep.Sent != 1 { // survey
		t.Fatalf("surveys: got %+v, %v", rep, err)
	}
	step(25 * time.Hour)
	if rep, err := e.d.WatchSLA(ctx); err != nil || rep.Breached != 1 || rep.Mails != 1 { // sla_alert
		t.Fatalf("SLA watch: got %+v, %v", rep, err)
	}
	if rep, err := e.d.SendSurveys(ctx); err != nil || rep.Reminded != 1 { // survey_reminder
		t.Fatalf("reminders: got %+v, %v", rep, err)
	}
	step(time.Minute)
	must(e.d.Transition(ctx, other.Number, ticket.Cerrado, e.x, "Se reconfiguró la VPN."))
	step(2 * time.Hour)
	if rep, err := e.d.SendSurveys(ctx); err != nil || rep.Sent != 1 {
		t.Fatalf("surveys: got %+v, %v", rep, err)
	}
	token := ""
	for _, n := range e.mail.notices {
		if p, ok := n.Payload.(ticket.SurveyNotice); ok && n.To == y {
			token = p.Token
		}
	}
	step(time.Minute)
	no := false
	if err := e.d.AnswerSurvey(ctx, token, desk.SurveyAnswer{Rating: 1, Solved: &no}); err != nil { // survey_bad
		t.Fatal(err)
	}
	step(time.Minute)
	rawEmpty := "From: " + e.x + "\r\nTo: mesa@entidad.gov.co\r\nSubject: \r\nMessage-ID: <empty@entidad.gov.co>\r\n\r\n\r\n"
	inEmpty, err := mailin.Parse([]byte(rawEmpty))
	must(inEmpty, err)
	if res, err := e.d.Intake(ctx, []byte(rawEmpty), inEmpty, ticket.Source{Mailbox: "INBOX"}); err != nil || res.Disposition != desk.DispEmpty { // empty
		t.Fatalf("empty mail: got %+v, %v", res, err)
	}
	step(time.Minute)
	if err := e.d.RequestMyTickets(ctx, e.x); err != nil { // mine
		t.Fatal(err)
	}
	// The mails of working the desk by mail. x asks for its queue.
	intake := func(d *desk.Desk, from, subject, body string, auth bool) desk.IntakeResult {
		t.Helper()
		step(time.Minute)
		e.n++
		raw := "From: " + from + "\r\nTo: mesa@entidad.gov.co\r\nSubject: " + subject + "\r\nMessage-ID: <k" + fmt.Sprint(e.n) + "@entidad.gov.co>\r\n"
		if auth {
			raw += "Authentication-Results: mx.entidad.gov.co; dmarc=pass header.from=entidad.gov.co\r\n"
		}
		raw += "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n"
		in, err := mailin.Parse([]byte(raw))
		must(in, err)
		res, err := d.Intake(ctx, []byte(raw), in, ticket.Source{Mailbox: "INBOX"})
		must(res, err)
		return res
	}
	if res := intake(e.d, e.x, "Mis casos", "#mis_casos", true); res.Disposition != desk.DispCommands { // queue
		t.Fatalf("#mis_casos: got %+v", res)
	}
	// x writes twice about the same thing: the second mail joins the first.
	intake(e.d, e.x, "No hay red en el piso 3", "Desde esta mañana no hay red en el piso 3.", false)
	if res := intake(e.d, e.x, "No hay red en el piso 3", "Desde esta mañana no hay red en el piso 3.", false); res.Disposition != desk.DispReply { // linked
		t.Fatalf("the same mail twice: got %+v", res)
	}
	// With a catalogue that routes to x's group: a possible duplicate of
	// z's, then five tickets of one category (a mass incident).
	must(nil, e.db.SaveGroup(ctx, ticket.Group{Key: "soporte"}))
	must(nil, e.db.SavePerson(ctx, &ticket.Person{Email: e.x, Role: ticket.RoleTechnician, Level: 1, Groups: []string{"soporte"}, Active: true}))
	routed := e.deps
	routed.Classifier = oneGroup{}
	d2, err := desk.New(routed)
	must(d2, err)
	intake(d2, "zoe@entidad.gov.co", "La impresora no imprime", "La impresora del segundo piso no imprime.", false)
	if res := intake(d2, "zoe@entidad.gov.co", "Tóner de la impresora", "Se acabó el tóner de la impresora del segundo piso, necesitamos uno nuevo.", false); res.Disposition != desk.DispTicket { // duplicate
		t.Fatalf("a possible duplicate: got %+v", res)
	}
	for i := range 3 { // mass_incident
		intake(d2, fmt.Sprintf("p%d@entidad.gov.co", i), "Falla "+fmt.Sprint(i), "Algo distinto cada vez "+strings.Repeat("z", i+3), false)
	}
	// w goes away and offers its ticket to x.
	const w = "walter@entidad.gov.co"
	must(nil, e.db.SavePerson(ctx, &ticket.Person{Email: w, Role: ticket.RoleTechnician, Level: 1, Groups: []string{"soporte"}, Active: true}))
	must(e.d.Assign(ctx, other.Number, "diana@entidad.gov.co", w))
	until := e.now.In(bogota).AddDate(0, 0, 3).Format(time.DateOnly)
	if res := intake(e.d, w, "Vacaciones", "#ausente hasta "+until+" "+e.x, true); res.Disposition != desk.DispCommands { // away
		t.Fatalf("#ausente: got %+v", res)
	}

	step(time.Minute)
	if err := e.db.SavePerson(ctx, &ticket.Person{Email: e.x, Role: ticket.RoleManager, Active: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.d.SendDigests(ctx, "daily"); err != nil { // digest
		t.Fatal(err)
	}
	// The 1st of April (every day is a working day of wallClock): x, a
	// manager, gets March's report.
	step(time.Date(2026, 4, 1, 14, 0, 0, 0, time.UTC).Sub(e.now))
	if _, err := e.d.SendMonthlyReports(ctx, &fakeReporter{}); err != nil { // monthly_report
		t.Fatal(err)
	}
	// undeliverable: x, now an owner, hears that another technician's
	// address bounces (a report quoting the Message-ID of a mail to it).
	step(time.Minute)
	const z = "ulises@entidad.gov.co"
	if err := e.db.SavePerson(ctx, &ticket.Person{Email: e.x, Role: ticket.RoleOwner, Active: true}); err != nil {
		t.Fatal(err)
	}
	if err := e.db.SavePerson(ctx, &ticket.Person{Email: z, Role: ticket.RoleTechnician, Level: 1, Active: true}); err != nil {
		t.Fatal(err)
	}
	must(e.d.Assign(ctx, other.Number, "diana@entidad.gov.co", z))
	toZ := ""
	for _, n := range e.mail.notices {
		if n.To == z {
			m, err := e.db.MailByDedupeKey(ctx, n.DedupeKey)
			must(m, err)
			toZ = m.MessageID
		}
	}
	step(time.Minute)
	dsn := "From: MAILER-DAEMON@entidad.gov.co\r\nTo: mesa@entidad.gov.co\r\nSubject: Undelivered Mail Returned to Sender\r\n" +
		"Message-ID: <dsn-z@entidad.gov.co>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nNo se pudo entregar.\r\n" +
		"--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.entidad.gov.co\r\n\r\n" +
		"Final-Recipient: rfc822; " + z + "\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n" +
		"--b\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <" + toZ + ">\r\nTo: " + z + "\r\n\r\n--b--\r\n"
	in, err := mailin.Parse([]byte(dsn))
	must(in, err)
	if res, err := e.d.Intake(ctx, []byte(dsn), in, ticket.Source{Mailbox: "INBOX"}); err != nil || res.Disposition != desk.DispBounce {
		t.Fatalf("a proven bounce of a staff address: got %+v, %v", res, err)
	}
	// x becomes an operator (after the monthly report, which goes to managers).
	step(time.Minute)
	if err := e.db.SavePerson(ctx, &ticket.Person{Email: e.x, Role: ticket.RoleOperator, Active: true}); err != nil {
		t.Fatal(err)
	}
	for i, st := range []ticket.MailboxStatus{{Name: "ti", NeedsReauthorization: true, LastError: "invalid_grant", FailingSince: e.now}, // operator
		{Name: "ti", LastSuccess: e.now}} { // operator_resolved
		if i > 0 {
			step(time.Minute)
		}
		st.UpdatedAt = e.now
		if err := e.db.SaveMailboxStatus(ctx, st); err != nil {
			t.Fatal(err)
		}
		if _, err := e.d.OperatorAlerts(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// A ticket warned under category A, moved to B and back to A reaches the
// same warning (same due time) again: the watch records it, queues no
// second identical alert, and rolls back nothing — the other ticket of
// the batch is alerted and both are marked. (It used to fail the batch
// with ErrAlreadyStored, for ever.)
func TestSLAWatchAfterRecategorisationABA(t *testing.T) {
	ctx := context.Background()
	e := newSLAEnv(t, nil, desk.Config{AlertOutOfHours: true})
	e.at(3, 24, 9, 0) // Tuesday
	vpn, err := e.d.Create(ctx, desk.NewTicket{Subject: "No conecta la VPN", Requester: "ana@entidad.gov.co", Body: "El FortiClient no conecta."})
	if err != nil {
		t.Fatal(err)
	}
	if vpn.Category != "ti.vpn" || vpn.DueAt == nil || vpn.Assignee == "" {
		t.Fatalf("fixture: got %+v", vpn)
	}
	due := *vpn.DueAt
	e.now = vpn.SLAWarnAt.Add(time.Minute)
	if rep := e.watch(t); rep.Warned != 1 || rep.Mails != 1 {
		t.Fatalf("first warning: got %+v", rep)
	}
	for _, cat := range []string{"adm.muebles.silla", "ti.vpn"} {
		if _, err := e.d.Recategorize(ctx, vpn.Number, "carlos@entidad.gov.co", cat); err != nil {
			t.Fatal(err)
		}
	}
	back, _ := e.db.TicketByNumber(ctx, vpn.Number)
	if back.DueAt == nil || !back.DueAt.Equal(due) || back.SLANextAt == nil {
		t.Fatalf("after A→B→A: due %v (want %v), next %v", back.DueAt, due, back.SLANextAt)
	}
	// Another ticket, of another assignee, reaches its warning in the same run.
	other, err := e.d.Create(ctx, desk.NewTicket{Subject: "No conecta la VPN", Requester: "luis@entidad.gov.co", Body: "El FortiClient no conecta.",
		DueAt: func() *time.Time { d := e.now.Add(10 * time.Minute); return &d }()})
	if err != nil {
		t.Fatal(err)
	}
	if other.Assignee == vpn.Assignee {
		t.Fatalf("fixture: both tickets assigned to %s", vpn.Assignee)
	}
	e.now = e.now.Add(8 * time.Minute) // past its warning (7.5 min), before its due time
	before := len(e.alerts(t)[vpn.Assignee])
	rep, err := e.d.WatchSLA(ctx)
	if err != nil {
		t.Fatalf("watch after A→B→A: %v", err)
	}
	if rep.Warned != 2 || rep.Mails != 1 {
		t.Errorf("watch: got %+v, want 2 warned and 1 new mail (the other ticket's)", rep)
	}
	if got := len(e.alerts(t)[vpn.Assignee]); got != before {
		t.Errorf("alerts to %s: got %d, want still %d (the same alert is not sent twice)", vpn.Assignee, got, before)
	}
	if got := e.alerts(t)[other.Assignee]; len(got) != 1 || !strings.Contains(got[0].Text, other.Number) {
		t.Errorf("alert to %s: got %d mails", other.Assignee, len(got))
	}
	if got := kinds(t, e.db, vpn.ID, "sla_warning"); len(got) != 2 {
		t.Errorf("warnings of %s: got %v, want two (one per time it was due)", vpn.Number, got)
	}
	for _, tk := range []*ticket.Ticket{vpn, other} {
		if got, _ := e.db.TicketByNumber(ctx, tk.Number); got.SLANextAt == nil || !got.SLANextAt.Equal(*got.DueAt) {
			t.Errorf("%s after the watch: next alert %v, want the due time %v (warned, the run committed)", tk.Number, got.SLANextAt, got.DueAt)
		}
	}
}

// The desk decides each notice's language (EnglishFor: the requester's
// mail in the other language, staff's always in the desk's), threading and
// dedupe key; a note causes none.
func TestNoticeDecisions(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	db.SavePerson(ctx, &ticket.Person{Email: "carlos@entidad.gov.co", Role: ticket.RoleTechnician, Level: 1, Active: true})
	mail := &fakeMail{}
	now := time.Date(2026, 3, 24, 14, 0, 0, 0, time.UTC)
	d, err := desk.New(desk.Deps{Files: mailin.Decoder{}, Store: db, Mail: mail, Calendar: wallClock{}, Classifier: noCatalogue{}, Logger: slog.New(slog.DiscardHandler),
		Now: func() time.Time { return now }, Config: desk.Config{EnglishFor: []string{"@partner.org", "John@Entidad.gov.co"}}})
	if err != nil {
		t.Fatal(err)
	}
	for addr, want := range map[string]string{"ana@entidad.gov.co": "es", "mary@partner.org": "en", "john@entidad.gov.co": "en"} {
		mail.notices = nil
		tk, err := d.Create(ctx, desk.NewTicket{Subject: "VPN", Requester: addr, MessageID: "orig@x", MessageKey: "<orig@x>"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.Comment(ctx, tk.Number, "carlos@entidad.gov.co", "Revisar cableado", true); err != nil {
			t.Fatal(err)
		}
		if _, err := d.Assign(ctx, tk.Number, "diana@entidad.gov.co", "carlos@entidad.gov.co"); err != nil {
			t.Fatal(err)
		}
		if len(mail.notices) != 2 {
			t.Fatalf("%s: got %d notices, want the acknowledgement and the assignment (a note causes none)", addr, len(mail.notices))
		}
		ack, assigned := mail.notices[0], mail.notices[1]
		if ack.Kind() != ticket.NoticeAck || ack.To != addr || ack.Lang != want || ack.DedupeKey != "ack:"+tk.Number || ack.InReplyTo != "<orig@x>" {
			t.Errorf("%s: acknowledgement %+v, want to %s in %s", addr, ack, addr, want)
		}
		if assigned.Kind() != ticket.NoticeAssigned || assigned.To != "carlos@entidad.gov.co" || assigned.Lang != "es" {
			t.Errorf("%s: the technician's notice %+v, want in es", addr, assigned)
		}
	}
	if _, err := desk.New(desk.Deps{Files: mailin.Decoder{}, Store: db}); err == nil || !strings.Contains(err.Error(), "Deps.Mail is required") {
		t.Errorf("missing collaborators: got %v", err)
	}
}
