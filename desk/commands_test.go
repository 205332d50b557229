package desk_test

import (
	"context"
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

type staffEnv struct {
	d   *desk.Desk
	db  *store.DB
	now time.Time
	n   int
}

func newStaffEnv(t *testing.T) *staffEnv {
	t.Helper()
	ctx := context.Background()
	db := storetest.SQLite(t)
	db.SaveGroup(ctx, ticket.Group{Key: "infraestructura"})
	for _, p := range []*ticket.Person{
		{Email: "carlos@entidad.gov.co", Role: ticket.RoleTechnician, Level: 1, Groups: []string{"infraestructura"}, Active: true},
		{Email: "diana@entidad.gov.co", Role: ticket.RoleTechnician, Level: 2, Groups: []string{"infraestructura"}, Active: true},
	} {
		if err := db.SavePerson(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	eng, _ := rules.Default()
	cal, _ := sla.New(sla.Options{})
	r, err := mailout.New(mailout.Options{DeskName: "Mesa de Servicios", From: "mesa@entidad.gov.co", PublicURL: "https://mesa.x",
		Catalogue: eng, CommandHelp: desk.CommandHelp})
	if err != nil {
		t.Fatal(err)
	}
	e := &staffEnv{db: db, now: time.Date(2026, 3, 24, 14, 0, 0, 0, time.UTC)}
	e.d, err = desk.New(desk.Deps{Files: mailin.Decoder{}, Store: db, Mail: r, Calendar: cal, Classifier: eng, Logger: slog.New(slog.DiscardHandler),
		Now: func() time.Time { return e.now }, Config: desk.Config{RepliesPerHour: 10, RepliesPerDay: 40,
			Addresses: []string{"mesa@entidad.gov.co"}, TrustedAuthServID: "mx.entidad.gov.co"}})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// mail runs one message through intake.
func (e *staffEnv) mail(t *testing.T, from, subject, inReplyTo, authResults, body string) desk.IntakeResult {
	t.Helper()
	e.n++
	e.now = e.now.Add(time.Minute)
	raw := "From: " + from + "\r\nTo: mesa@entidad.gov.co\r\nSubject: " + subject + "\r\nMessage-ID: <s" + strings.Repeat("x", e.n) + "@entidad.gov.co>\r\n"
	if inReplyTo != "" {
		raw += "In-Reply-To: <" + inReplyTo + ">\r\n"
	}
	if authResults != "" {
		raw += "Authentication-Results: " + authResults + "\r\n"
	}
	raw += "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n"
	in, _ := mailin.Parse([]byte(raw))
	res, err := e.d.Intake(context.Background(), []byte(raw), in, ticket.Source{Mailbox: "file"})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// outbox returns the queued mails to an address, oldest first, as parsed.
func (e *staffEnv) outbox(t *testing.T, to string) []*ticket.Inbound {
	t.Helper()
	rows, err := e.db.DueMail(context.Background(), e.now.Add(time.Hour), 1000)
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

const trusted = "mx.entidad.gov.co; spf=pass smtp.mailfrom=entidad.gov.co; dkim=pass header.d=entidad.gov.co; dmarc=pass (p=reject) header.from=entidad.gov.co"

func TestTechnicianWorksATicketByMail(t *testing.T) {
	e := newStaffEnv(t)
	ctx := context.Background()
	res := e.mail(t, "Ana <ana@entidad.gov.co>", "No conecta la VPN", "", "", "Desde la casa el FortiClient no conecta.")
	tk, err := e.db.TicketByNumber(ctx, res.Ticket)
	if err != nil || tk.Assignee != "carlos@entidad.gov.co" || tk.Group != "infraestructura" {
		t.Fatalf("auto-assignment: %+v %v", tk, err)
	}
	assigned := e.outbox(t, "carlos@entidad.gov.co")
	if len(assigned) != 1 || !strings.Contains(assigned[0].Text, "FortiClient no conecta") || !strings.Contains(assigned[0].Text, "#cerrar") {
		t.Fatalf("assignment notice: %+v", assigned)
	}
	// Carlos answers the notice, with commands and a public answer.
	res = e.mail(t, "Carlos <carlos@entidad.gov.co>", "RE: "+assigned[0].Subject, assigned[0].MessageID, trusted,
		"#criticidad alta\n#nota Revisar regla del firewall\nYa habilitamos su acceso; reinicie el FortiClient.\n\n> mensaje citado")
	if res.Disposition != desk.DispReply || res.Ticket != tk.Number {
		t.Fatalf("staff reply: %+v", res)
	}
	tk, _ = e.db.TicketByNumber(ctx, tk.Number)
	if tk.Criticality != ticket.Alta {
		t.Errorf("criticality: %s", tk.Criticality)
	}
	toAna := e.outbox(t, "ana@entidad.gov.co")
	if len(toAna) != 2 || !strings.Contains(toAna[1].Text, "reinicie el FortiClient") || strings.Contains(toAna[1].Text, "firewall") ||
		strings.Contains(toAna[1].Text, "mensaje citado") {
		t.Fatalf("answer to the requester (ack + answer, no internal note): %d mails; last:\n%s", len(toAna), toAna[len(toAna)-1].Text)
	}
	results := e.outbox(t, "carlos@entidad.gov.co")
	if len(results) != 2 || !strings.Contains(results[1].Text, "✔ #criticidad alta") || !strings.Contains(results[1].Text, "✔ #nota") {
		t.Fatalf("command results: %+v", results[len(results)-1].Text)
	}

	// A spoofed #cerrar: right From, no verdict from the trusted server.
	for _, auth := range []string{"", "evil.example; dmarc=pass header.from=entidad.gov.co", "mx.entidad.gov.co; dmarc=fail header.from=entidad.gov.co"} {
		e.mail(t, "carlos@entidad.gov.co", "RE: ["+tk.Number+"] x", "", auth, "#cerrar Listo, se soluciona.")
		got, _ := e.db.TicketByNumber(ctx, tk.Number)
		if got.State == ticket.Cerrado {
			t.Fatalf("closed by an unauthenticated mail (auth %q)", auth)
		}
	}
	rejected := e.outbox(t, "carlos@entidad.gov.co")
	if !strings.Contains(rejected[len(rejected)-1].Subject, "Comandos no aplicados") {
		t.Errorf("no rejection notice: %q", rejected[len(rejected)-1].Subject)
	}
	// Escalation, a bad command with help, then the authenticated closure.
	e.mail(t, "carlos@entidad.gov.co", "RE: ["+tk.Number+"] x", "", trusted, "#escalar\n#foo")
	tk, _ = e.db.TicketByNumber(ctx, tk.Number)
	if tk.Assignee != "diana@entidad.gov.co" {
		t.Errorf("escalation: assignee %s", tk.Assignee)
	}
	results = e.outbox(t, "carlos@entidad.gov.co")
	last := results[len(results)-1].Text
	if !strings.Contains(last, "✔ #escalar") || !strings.Contains(last, "✘ #foo") || !strings.Contains(last, "Comandos disponibles") {
		t.Errorf("results with help:\n%s", last)
	}
	e.mail(t, "diana@entidad.gov.co", "RE: ["+tk.Number+"] x", "", trusted, "#cerrar Se habilitó la VPN y se probó la conexión.")
	tk, _ = e.db.TicketByNumber(ctx, tk.Number)
	if tk.State != ticket.Cerrado || tk.Solution != "Se habilitó la VPN y se probó la conexión." {
		t.Fatalf("closure: %s %q", tk.State, tk.Solution)
	}
	toAna = e.outbox(t, "ana@entidad.gov.co")
	if !strings.Contains(toAna[len(toAna)-1].Text, "Se habilitó la VPN") {
		t.Errorf("closure notice:\n%s", toAna[len(toAna)-1].Text)
	}
	kinds := map[ticket.EventKind]int{}
	evs, _ := e.db.Events(ctx, tk.ID)
	for _, ev := range evs {
		kinds[ev.Kind]++
	}
	if kinds[ticket.EventEscalated] != 1 || kinds[ticket.EventCriticalityChanged] != 1 || kinds[ticket.EventNote] != 4 {
		t.Errorf("audit trail: %v", kinds) // 1 #nota + 3 refused attempts
	}
}

func TestParseCommands(t *testing.T) {
	cmds, answer := desk.ParseCommands("\n#Categoría TI.VPN\n#CERRAR  Se cambió el tóner \nGracias por esperar.\n#no es comando")
	if len(cmds) != 2 || cmds[0].Name != "categoria" || cmds[0].Arg != "TI.VPN" || cmds[1].Name != "cerrar" || cmds[1].Arg != "Se cambió el tóner" {
		t.Errorf("commands: %+v", cmds)
	}
	if answer != "Gracias por esperar.\n#no es comando" {
		t.Errorf("answer: %q", answer)
	}
}

func TestReplyToClosedTicket(t *testing.T) {
	e := newStaffEnv(t)
	ctx := context.Background()
	res := e.mail(t, "ana@entidad.gov.co", "La silla está coja", "", "", "La silla del puesto 12 está coja.")
	num := res.Ticket
	if _, err := e.d.Transition(ctx, num, ticket.Cerrado, "carlos@entidad.gov.co", "Se cambió la rodachina."); err != nil {
		t.Fatal(err)
	}
	// Two business days later: reopened, the same ticket.
	e.now = e.now.Add(48 * time.Hour)
	res = e.mail(t, "ana@entidad.gov.co", "RE: ["+num+"] La silla está coja", "", "", "Sigue coja.")
	tk, _ := e.db.TicketByNumber(ctx, num)
	if res.Disposition != desk.DispReply || res.Ticket != num || tk.State != ticket.EnProceso || tk.ClosedAt != nil {
		t.Fatalf("reply within the window: %+v, state %s", res, tk.State)
	}
	if _, err := e.d.Transition(ctx, num, ticket.Cerrado, "carlos@entidad.gov.co", "Se cambió la silla."); err != nil {
		t.Fatal(err)
	}
	// Three weeks later: a new ticket that links the old one.
	e.now = e.now.Add(21 * 24 * time.Hour)
	res = e.mail(t, "ana@entidad.gov.co", "RE: ["+num+"] La silla está coja", "", "", "Otra vez coja.")
	if res.Disposition != desk.DispTicket || res.Ticket == num {
		t.Fatalf("late reply: %+v", res)
	}
	newer, _ := e.db.TicketByNumber(ctx, res.Ticket)
	evs, _ := e.db.Events(ctx, newer.ID)
	if !strings.Contains(evs[0].Data, `"related":"`+num+`"`) {
		t.Errorf("the new ticket does not link %s: %s", num, evs[0].Data)
	}
	if tk, _ := e.db.TicketByNumber(ctx, num); tk.State != ticket.Cerrado {
		t.Errorf("the old ticket reopened after the window")
	}
}

// TestAutoResponderPingPong: a responder without RFC 3834 headers answers
// every acknowledgement with a new mail, the same words each time; the
// first looked like a person's request, the repeats look automatic, and
// after the hourly limit of answers to them the desk holds its mail
// instead of sending it, and the loop ends.
func TestAutoResponderPingPong(t *testing.T) {
	e := newStaffEnv(t)
	ctx := context.Background()
	for i := 0; i < 15; i++ {
		e.mail(t, "robot@otra-entidad.gov.co", "Confirmación de recibo "+strings.Repeat("x", i), "", "", "Recibimos su correo.")
	}
	rows, _ := e.db.DueMail(ctx, e.now.Add(time.Hour), 100)
	sent := 0
	for _, m := range rows {
		if m.To[0] == "robot@otra-entidad.gov.co" {
			sent++
		}
	}
	if sent != 1+10 {
		t.Errorf("automatic mails due to the responder: %d, want the first acknowledgement and the hourly limit of 10", sent)
	}
}

func TestBouncedAddressIsHeld(t *testing.T) {
	e := newStaffEnv(t)
	ctx := context.Background()
	if err := e.db.MarkUndeliverable(ctx, "gone@entidad.gov.co", "5.1.1 user unknown", e.now); err != nil {
		t.Fatal(err)
	}
	res := e.mail(t, "gone@entidad.gov.co", "Impresora", "", "", "No imprime.")
	ack, err := e.db.MailByDedupeKey(ctx, "ack:"+res.Ticket)
	if err != nil || ack.State != ticket.OutboxHeld {
		t.Errorf("acknowledgement to a bouncing address: %+v %v", ack, err)
	}
}

// TestStillFailingReopensEveryPostClosureState: the requester's "it still
// fails" reopens the ticket from cerrado and from abierto_por_encuesta (a
// survey under way, as tickets opened by a survey GET before the scanner
// fix were left), keeping the ticket.
func TestStillFailingReopensEveryPostClosureState(t *testing.T) {
	for _, state := range []ticket.State{ticket.Cerrado, ticket.AbiertoPorEncuesta} {
		t.Run(string(state), func(t *testing.T) {
			e := newStaffEnv(t)
			ctx := context.Background()
			num := e.mail(t, "ana@entidad.gov.co", "La silla está coja", "", "", "La silla del puesto 12 está coja.").Ticket
			if _, err := e.d.Transition(ctx, num, ticket.Cerrado, "carlos@entidad.gov.co", "Se cambió la rodachina."); err != nil {
				t.Fatal(err)
			}
			tk, _ := e.db.TicketByNumber(ctx, num)
			if state != ticket.Cerrado {
				tk.State = state
				if err := e.db.UpdateTicket(ctx, tk); err != nil {
					t.Fatal(err)
				}
			}
			e.now = e.now.Add(24 * time.Hour)
			res := e.mail(t, "ana@entidad.gov.co", "RE: ["+num+"] La silla está coja", "", "", "Sigue coja.")
			tk, _ = e.db.TicketByNumber(ctx, num)
			if res.Disposition != desk.DispReply || res.Ticket != num || tk.State != ticket.EnProceso || tk.ClosedAt != nil {
				t.Fatalf("reply from %s: got %+v, state %s, want the same ticket en_proceso", state, res, tk.State)
			}
		})
	}
}
