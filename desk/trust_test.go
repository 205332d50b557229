package desk_test

// The adversarial suite of issue 13: every finding 1–5 and the survey
// parser of 8, as an outsider with nothing but mail would try it, each
// checked against the code before the fix (it failed there) — plus
// positive controls. Only APIs the old code had are used here;
// trust_provider_test.go holds the tests of the new settings.

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/desk"
	"github.com/mesadeservicios/mesa/mailin"
	"github.com/mesadeservicios/mesa/ticket"
)

// raw runs one message, given as header lines and a body, through intake.
func (e *staffEnv) raw(t *testing.T, headers []string, body string) desk.IntakeResult {
	t.Helper()
	e.n++
	e.now = e.now.Add(time.Minute)
	raw := strings.Join(headers, "\r\n") + "\r\n"
	if !strings.Contains(raw, "Message-ID:") {
		raw += "Message-ID: <adv" + strings.Repeat("y", e.n) + "@atacante.example>\r\n"
	}
	if !strings.Contains(raw, "Content-Type:") {
		raw += "Content-Type: text/plain; charset=utf-8\r\n"
	}
	raw += "\r\n" + body + "\r\n"
	in, err := mailin.Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.d.Intake(context.Background(), []byte(raw), in, ticket.Source{Mailbox: "INBOX"})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// ticketFor opens a ticket (the first of a desk is assigned to Carlos)
// and returns it with the assignment notice its assignee got.
func (e *staffEnv) ticketFor(t *testing.T, requester string) (*ticket.Ticket, *ticket.Inbound) {
	t.Helper()
	res := e.mail(t, requester, "No conecta la VPN", "", "", "Desde la casa el FortiClient no conecta.")
	tk, err := e.db.TicketByNumber(context.Background(), res.Ticket)
	if err != nil || tk.Assignee == "" {
		t.Fatalf("fixture: %+v %v", tk, err)
	}
	got := e.outbox(t, tk.Assignee)
	return tk, got[len(got)-1]
}

func (e *staffEnv) events(t *testing.T, tk *ticket.Ticket, kind ticket.EventKind) []ticket.Event {
	t.Helper()
	evs, err := e.db.Events(context.Background(), tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	var out []ticket.Event
	for _, ev := range evs {
		if ev.Kind == kind {
			out = append(out, ev)
		}
	}
	return out
}

// Finding 1: a mail From a technician's address without authentication,
// answering a ticket, is relayed to the requester as the desk's answer
// and sets the first response. Now it is an unverified note: nothing
// reaches the requester, no first response, and Carlos hears of it once
// an hour however often it is tried.
func TestForgedTechnicianAnswerRelaysNothing(t *testing.T) {
	e := newStaffEnv(t)
	ctx := context.Background()
	tk, assigned := e.ticketFor(t, "Ana <ana@entidad.gov.co>")
	before := len(e.outbox(t, "ana@entidad.gov.co"))
	for i := 0; i < 5; i++ {
		res := e.raw(t, []string{"From: Carlos <carlos@entidad.gov.co>", "To: mesa@entidad.gov.co",
			"Subject: RE: " + assigned.Subject, "In-Reply-To: <" + assigned.MessageID + ">",
			"Authentication-Results: mx.entidad.gov.co; spf=fail smtp.mailfrom=atacante.example; dmarc=fail header.from=entidad.gov.co"},
			"Estimada Ana: para restablecer la VPN ingrese su clave en https://entidad-gov-co.atacante.example/vpn")
		if res.Ticket != tk.Number {
			t.Fatalf("forged answer %d: got %+v", i, res)
		}
	}
	if got := e.outbox(t, "ana@entidad.gov.co"); len(got) != before {
		t.Fatalf("requester got %d more mails (%q), want none: a forged answer was relayed", len(got)-before, got[len(got)-1].Text)
	}
	after, _ := e.db.TicketByNumber(ctx, tk.Number)
	if after.FirstResponseAt != nil {
		t.Errorf("first response set to %v by a forged answer", after.FirstResponseAt)
	}
	notes := e.events(t, tk, ticket.EventNote)
	if len(notes) != 5 || !strings.Contains(notes[0].Body, "NO VERIFICADO") || !strings.Contains(notes[0].Body, "atacante.example/vpn") {
		t.Fatalf("notes: got %d (%+v), want 5 marked unverified with the text kept", len(notes), notes)
	}
	if got := e.events(t, tk, ticket.EventComment); len(got) != 0 {
		t.Errorf("comments visible to the requester: %+v", got)
	}
	rejected := 0
	for _, m := range e.outbox(t, "carlos@entidad.gov.co") {
		if strings.Contains(m.Text, "no lo autenticó") || strings.Contains(m.Subject, "no aplicados") {
			rejected++
		}
	}
	if rejected != 1 {
		t.Errorf("notices to carlos about the forged mail: got %d, want 1 in the hour", rejected)
	}
	// An hour later a new attempt gets one more notice.
	e.now = e.now.Add(time.Hour)
	e.raw(t, []string{"From: carlos@entidad.gov.co", "To: mesa@entidad.gov.co", "Subject: RE: " + assigned.Subject,
		"In-Reply-To: <" + assigned.MessageID + ">"}, "Otra vez.")
	rejected = 0
	for _, m := range e.outbox(t, "carlos@entidad.gov.co") {
		if strings.Contains(m.Subject, "no aplicados") {
			rejected++
		}
	}
	if rejected != 2 {
		t.Errorf("notices to carlos after another hour: got %d, want 2", rejected)
	}
}

// Positive control of finding 1: the same answer, authenticated, is
// relayed and is the first response.
func TestAuthenticatedAnswerIsRelayed(t *testing.T) {
	e := newStaffEnv(t)
	tk, assigned := e.ticketFor(t, "Ana <ana@entidad.gov.co>")
	before := len(e.outbox(t, "ana@entidad.gov.co"))
	e.mail(t, "Carlos <carlos@entidad.gov.co>", "RE: "+assigned.Subject, assigned.MessageID, trusted, "Ya quedó; reinicie el FortiClient.")
	got := e.outbox(t, "ana@entidad.gov.co")
	if len(got) != before+1 || !strings.Contains(got[len(got)-1].Text, "reinicie el FortiClient") {
		t.Fatalf("answer to the requester: got %d mails, want %d", len(got), before+1)
	}
	if after, _ := e.db.TicketByNumber(context.Background(), tk.Number); after.FirstResponseAt == nil {
		t.Error("an authenticated answer did not set the first response")
	}
}

// Finding 2: verdicts that must not authenticate a command — a lower
// header forged with the trusted authserv-id under the server's own fail,
// a bare dmarc=pass without header.from, a ";" in a comment, a quoted
// smtp.mailfrom — and OpenDKIM's pass with a ";" in its comment, which
// must.
func TestAuthResultsNotTrustedTooEasily(t *testing.T) {
	for _, tc := range []struct {
		name    string
		headers []string
		applied bool
	}{
		{"lower forged pass under the server's fail", []string{
			"Authentication-Results: mx.entidad.gov.co; spf=fail smtp.mailfrom=atacante.example; dmarc=fail header.from=entidad.gov.co",
			"Authentication-Results: mx.entidad.gov.co; dkim=pass header.d=entidad.gov.co; dmarc=pass header.from=entidad.gov.co"}, false},
		{"bare dmarc=pass", []string{"Authentication-Results: mx.entidad.gov.co; dmarc=pass"}, false},
		{"semicolon in a comment", []string{
			"Authentication-Results: mx.entidad.gov.co; dmarc=fail (p=reject; dmarc=pass header.from=entidad.gov.co) header.from=entidad.gov.co"}, false},
		{"quoted smtp.mailfrom", []string{
			`Authentication-Results: mx.entidad.gov.co; spf=pass smtp.mailfrom="x;dmarc=pass header.from=entidad.gov.co"@atacante.example; dmarc=fail header.from=entidad.gov.co`}, false},
		{"opendkim pass with a comment", []string{
			"Authentication-Results: mx.entidad.gov.co;\r\n\tdkim=pass (2048-bit key; unprotected) header.d=entidad.gov.co header.i=@entidad.gov.co header.s=sel"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newStaffEnv(t)
			tk, assigned := e.ticketFor(t, "ana@entidad.gov.co")
			e.raw(t, append([]string{"From: Carlos <carlos@entidad.gov.co>", "To: mesa@entidad.gov.co",
				"Subject: RE: " + assigned.Subject, "In-Reply-To: <" + assigned.MessageID + ">"}, tc.headers...),
				"#criticidad alta")
			after, _ := e.db.TicketByNumber(context.Background(), tk.Number)
			if got := after.Criticality == ticket.Alta; got != tc.applied {
				t.Errorf("command applied: got %v, want %v (criticality %s)", got, tc.applied, after.Criticality)
			}
		})
	}
}

// Finding 3: mail From the desk's own address (a list or group rewrote
// it) with Reply-To and X-Original-From a technician, and a DMARC pass
// for the desk's domain, must not act as the technician.
func TestDeskAliasDoesNotActAsTechnician(t *testing.T) {
	e := newStaffEnv(t)
	ctx := context.Background()
	tk, assigned := e.ticketFor(t, "ana@entidad.gov.co")
	before := len(e.outbox(t, "ana@entidad.gov.co"))
	e.raw(t, []string{"From: 'Carlos' via Mesa <mesa@entidad.gov.co>", "Reply-To: carlos@entidad.gov.co",
		"X-Original-From: Carlos <carlos@entidad.gov.co>", "To: mesa@entidad.gov.co",
		"Subject: RE: " + assigned.Subject, "In-Reply-To: <" + assigned.MessageID + ">",
		"Authentication-Results: mx.entidad.gov.co; dkim=pass header.d=entidad.gov.co; dmarc=pass header.from=entidad.gov.co"},
		"#cerrar Resuelto\nAna, ingrese a https://atacante.example para terminar.")
	after, _ := e.db.TicketByNumber(ctx, tk.Number)
	if after.State == ticket.Cerrado || after.FirstResponseAt != nil {
		t.Errorf("the desk alias acted as the technician: state %s, first response %v", after.State, after.FirstResponseAt)
	}
	if got := e.outbox(t, "ana@entidad.gov.co"); len(got) != before {
		t.Errorf("requester got %d more mails, want none", len(got)-before)
	}
}

// dsn is the header of a structured delivery report threading with
// inReplyTo (may be empty); dsnBody its body for a recipient, quoting a
// Message-ID (may be empty).
func dsn(inReplyTo string) []string {
	h := []string{"From: Mail Delivery System <MAILER-DAEMON@atacante.example>", "To: mesa@entidad.gov.co",
		"Subject: Undeliverable: No conecta la VPN", "MIME-Version: 1.0",
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\""}
	if inReplyTo != "" {
		h = append(h, "In-Reply-To: <"+inReplyTo+">")
	}
	return h
}

func dsnBody(recipient, quotedID, inReplyTo string) string {
	b := "--b\r\nContent-Type: text/plain\r\n\r\nDelivery has failed to these recipients.\r\n" +
		"--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.atacante.example\r\n\r\n" +
		"Final-Recipient: rfc822; " + recipient + "\r\nAction: failed\r\nStatus: 5.1.1\r\n" +
		"Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n\r\n--b\r\nContent-Type: text/rfc822-headers\r\n\r\n"
	if quotedID != "" {
		b += "Message-ID: <" + quotedID + ">\r\n"
	}
	if inReplyTo != "" {
		b += "In-Reply-To: <" + inReplyTo + ">\r\n"
	}
	return b + "To: " + recipient + "\r\n\r\n--b--"
}

// bounces reports whether automatic mail to addr is held now.
func (e *staffEnv) bounces(t *testing.T, addr string) bool {
	t.Helper()
	bad, _, _, err := e.pressure(addr)
	if err != nil {
		t.Fatal(err)
	}
	return bad
}

// Finding 4: a DSN-looking mail referring to the attacker's own ticket
// with Final-Recipient a technician marked the technician undeliverable
// for good. A report that does not quote a mail sent to that very
// recipient changes nothing.
func TestForgedBounceMarksNothing(t *testing.T) {
	e := newStaffEnv(t)
	ctx := context.Background()
	tk, assigned := e.ticketFor(t, "mallory@atacante.example")
	ack := e.outbox(t, "mallory@atacante.example")[0]
	for _, tc := range []struct {
		name     string
		headers  []string
		body     string
		quotedID string
	}{
		{"threads with the attacker's ticket", dsn(ack.MessageID), dsnBody("carlos@entidad.gov.co", "", ack.MessageID), ""},
		{"quotes the attacker's own acknowledgement", dsn(""), dsnBody("carlos@entidad.gov.co", ack.MessageID, ""), ""},
		{"free-form with the ticket's tag", []string{"From: MAILER-DAEMON@atacante.example", "To: mesa@entidad.gov.co",
			"Subject: Undeliverable: [" + tk.Number + "]", "In-Reply-To: <" + ack.MessageID + ">"},
			"Your message to carlos@entidad.gov.co couldn't be delivered. 550 5.1.1 user unknown", ""},
	} {
		res := e.raw(t, tc.headers, tc.body)
		if res.Disposition == desk.DispBounce {
			t.Errorf("%s: got %+v, want the report kept without effect", tc.name, res)
		}
		if e.bounces(t, "carlos@entidad.gov.co") {
			t.Fatalf("%s: carlos marked undeliverable by a forged report", tc.name)
		}
		if got := e.events(t, tk, ticket.EventMailFailed); len(got) != 0 {
			t.Errorf("%s: mail_failed recorded: %+v", tc.name, got)
		}
	}
	// Carlos's next assignment still goes.
	res := e.mail(t, "luis@entidad.gov.co", "No conecta la VPN", "", "", "Tampoco me conecta.")
	rows, _ := e.db.DueMail(ctx, e.now.Add(time.Hour), 1000)
	found := false
	for _, m := range rows {
		if strings.Contains(m.Subject, "Asignado") && strings.Contains(m.Subject, res.Ticket) {
			found = true
		}
	}
	if !found {
		t.Errorf("the assignment of %s after the forged bounces is not due (held?)", res.Ticket)
	}
	_ = assigned
}

// Positive control of finding 4: a report quoting the exact Message-ID of
// the mail to its Final-Recipient marks that address; the mark expires
// after UndeliverableFor (30 days by default) and authenticated mail from
// the address clears it at once.
func TestProvenBounceMarksUntilClearedOrExpired(t *testing.T) {
	e := newStaffEnv(t)
	tk, _ := e.ticketFor(t, "ana@entidad.gov.co")
	ack := e.outbox(t, "ana@entidad.gov.co")[0]
	res := e.raw(t, dsn(""), dsnBody("ana@entidad.gov.co", ack.MessageID, ""))
	if res.Disposition != desk.DispBounce || res.Ticket != tk.Number {
		t.Fatalf("proven bounce: got %+v", res)
	}
	if !e.bounces(t, "ana@entidad.gov.co") {
		t.Fatal("a proven permanent bounce did not mark the address")
	}
	// The same report for another recipient proves nothing.
	if res := e.raw(t, dsn(""), dsnBody("carlos@entidad.gov.co", ack.MessageID, "")); res.Disposition == desk.DispBounce ||
		e.bounces(t, "carlos@entidad.gov.co") {
		t.Errorf("a report naming another recipient than its mail's: %+v", res)
	}
	// Authenticated mail from the address clears the mark.
	e.mail(t, "ana@entidad.gov.co", "RE: ["+tk.Number+"]", ack.MessageID, trusted, "Gracias, ya funciona mi correo.")
	if e.bounces(t, "ana@entidad.gov.co") {
		t.Error("authenticated mail from the address did not clear its mark")
	}
	// A new mark expires after 30 days.
	e.raw(t, dsn(""), dsnBody("ana@entidad.gov.co", ack.MessageID, ""))
	if !e.bounces(t, "ana@entidad.gov.co") {
		t.Fatal("second proven bounce did not mark the address")
	}
	e.now = e.now.Add(31 * 24 * time.Hour)
	if e.bounces(t, "ana@entidad.gov.co") {
		t.Error("the mark did not expire after 30 days")
	}
}

// Finding 5: throttles turned into weapons. A requester who opens 15
// tickets in an hour gets 15 acknowledgements; a busy technician's 11th
// assignment notice goes; an outsider forging a technician's address
// provokes one notice an hour, and does not block the technician's real
// notices.
func TestThrottleProtectsWithoutSilencing(t *testing.T) {
	e := newStaffEnv(t)
	ctx := context.Background()
	var numbers []string
	// Fifteen different problems (the same one twice would join the
	// first ticket instead of opening another).
	for i, w := range []string{"certificado vencido", "contraseña rechazada", "token bloqueado", "instalador dañado",
		"portátil nuevo sin cliente", "acceso para contratista", "lentitud extrema", "desconexión cada hora",
		"perfil equivocado", "sin acceso a la carpeta de nómina", "doble factor sin mensajes", "licencia agotada",
		"error 403 en la intranet", "actualización pendiente", "permiso para el servidor de archivos"} {
		res := e.mail(t, "ana@entidad.gov.co", "VPN: "+w, "", "", "Caso "+strconv.Itoa(i)+" de la VPN: "+w+".")
		numbers = append(numbers, res.Ticket)
	}
	if distinct := slices.Compact(slices.Sorted(slices.Values(numbers))); len(distinct) != 15 {
		t.Fatalf("fixture: 15 requests opened %v, want 15 tickets", numbers)
	}
	for _, n := range numbers {
		ack, err := e.db.MailByDedupeKey(ctx, "ack:"+n)
		if err != nil || ack.State != ticket.OutboxPending {
			t.Errorf("acknowledgement of %s: got %v, want pending (the only copy of the status key)", n, stateOf(ack, err))
		}
	}
	// Carlos and Diana were assigned the 15: no assignment notice held.
	due := 0
	rows, _ := e.db.DueMail(ctx, e.now.Add(time.Hour), 1000)
	for _, m := range rows {
		if strings.Contains(m.Subject, "Asignado") {
			due++
		}
	}
	if due != 15 {
		t.Errorf("assignment notices due: got %d, want 15 (none held)", due)
	}
	// A forger writes 20 times as Diana into one of the tickets.
	tk, _ := e.db.TicketByNumber(ctx, numbers[0])
	before := len(e.outbox(t, "diana@entidad.gov.co"))
	for i := 0; i < 20; i++ {
		e.raw(t, []string{"From: diana@entidad.gov.co", "To: mesa@entidad.gov.co", "Subject: RE: [" + tk.Number + "] No conecta la VPN 0"},
			"#ayuda")
	}
	if got := len(e.outbox(t, "diana@entidad.gov.co")) - before; got != 1 {
		t.Errorf("mails to diana provoked by 20 forged mails: got %d, want 1", got)
	}
	// Diana's real assignment still goes.
	var carlos string
	for _, n := range numbers {
		if tk, _ := e.db.TicketByNumber(ctx, n); tk.Assignee == "carlos@entidad.gov.co" {
			carlos = n
		}
	}
	if _, err := e.d.Assign(ctx, carlos, "carlos@entidad.gov.co", "diana@entidad.gov.co"); err != nil {
		t.Fatal(err)
	}
	got := e.outbox(t, "diana@entidad.gov.co")
	if len(got) != before+2 || !strings.Contains(got[len(got)-1].Subject, carlos) {
		t.Fatalf("diana's assignment after the forged mails: got %d mails, want %d", len(got), before+2)
	}
	rows, _ = e.db.DueMail(ctx, e.now.Add(time.Hour), 1000)
	for _, m := range rows {
		if m.State == ticket.OutboxHeld {
			t.Errorf("held: %s to %v", m.Subject, m.To)
		}
	}
}

// Finding 8 (survey parser): sentences are not answers.
func TestSurveyReplyParserReadsSentencesAsSentences(t *testing.T) {
	for _, s := range []string{"No estaré hasta el 12", "hasta el 5 de enero", "No puedo hasta el lunes 3"} {
		if a, ok := desk.ParseSurveyReply(s); ok {
			t.Errorf("%q read as an answer: %+v", s, a)
		}
	}
	if a, ok := desk.ParseSurveyReply("No, 1 — sigue sin funcionar"); !ok || a.Rating != 1 || a.Solved == nil || *a.Solved {
		t.Errorf("a real answer: got %+v %v", a, ok)
	}
}

func stateOf(m *ticket.Outgoing, err error) string {
	if err != nil {
		return err.Error()
	}
	return string(m.State)
}

// Unauthenticated staff-address mail cannot provoke replies beyond one an
// hour, also when it opens tickets: a forger writing new requests as a
// technician makes the desk mail the technician once an hour.
func TestForgedStaffRequestsGetOneAcknowledgementAnHour(t *testing.T) {
	e := newStaffEnv(t)
	for i := 0; i < 5; i++ {
		e.raw(t, []string{"From: diana@entidad.gov.co", "To: mesa@entidad.gov.co", "Subject: Pedido " + strconv.Itoa(i)},
			"Necesito la silla número "+strconv.Itoa(i)+".")
	}
	if got := len(e.outbox(t, "diana@entidad.gov.co")); got != 1 {
		t.Errorf("mails to diana provoked by 5 forged requests: got %d, want 1", got)
	}
	// Her own authenticated requests are each acknowledged.
	for i := 0; i < 3; i++ {
		e.mail(t, "diana@entidad.gov.co", "Solicitud "+strconv.Itoa(i), "", trusted, "Necesito el monitor número "+strconv.Itoa(i)+".")
	}
	if got := len(e.outbox(t, "diana@entidad.gov.co")); got != 4 {
		t.Errorf("acknowledgements of diana's authenticated requests: got %d mails, want 1 + 3", got)
	}
}

// Found by the outside review: an address the desk merely knows (an
// active person with role requester), forged, quoting the subject tag of
// someone else's ticket, wrote into it and reached its assignee. A known
// non-staff address is a stranger to other people's tickets: it gets a
// ticket of its own.
func TestKnownRequesterQuotingATagIsAStranger(t *testing.T) {
	e := newStaffEnv(t)
	ctx := context.Background()
	if err := e.db.SavePerson(ctx, &ticket.Person{Email: "pedro@entidad.gov.co", Role: ticket.RoleRequester, Active: true}); err != nil {
		t.Fatal(err)
	}
	tk, _ := e.ticketFor(t, "Ana <ana@entidad.gov.co>")
	before := len(e.outbox(t, tk.Assignee))
	res := e.raw(t, []string{"From: pedro@entidad.gov.co", "To: mesa@entidad.gov.co", "Subject: Re: [" + tk.Number + "] No conecta la VPN"},
		"Ingeniero, ingrese a https://entidad-gov-co.atacante.example/login con su clave.")
	if res.Ticket == tk.Number {
		t.Fatalf("the forged mail threaded into %s: %+v", tk.Number, res)
	}
	if got := e.events(t, tk, ticket.EventComment); len(got) != 0 {
		t.Errorf("comments on Ana's ticket: %+v", got)
	}
	for _, m := range e.outbox(t, tk.Assignee)[before:] {
		if strings.Contains(m.Text, "atacante.example") {
			t.Errorf("the assignee got the forged text: %q", m.Subject)
		}
	}
}

// Found by the outside review: From naming two addresses of the domain,
// with a real DMARC pass for it, acted as the first. A domain's verdict
// cannot say which author wrote: no author acts.
func TestSeveralAuthorsNeverAct(t *testing.T) {
	e := newStaffEnv(t)
	tk, assigned := e.ticketFor(t, "Ana <ana@entidad.gov.co>")
	before := len(e.outbox(t, "ana@entidad.gov.co"))
	for _, from := range [][]string{
		{"From: carlos@entidad.gov.co, pedro@entidad.gov.co"},
		{"From: carlos@entidad.gov.co", "From: pedro@entidad.gov.co"},
	} {
		e.raw(t, append(from, "To: mesa@entidad.gov.co", "Subject: RE: "+assigned.Subject, "In-Reply-To: <"+assigned.MessageID+">",
			"Authentication-Results: mx.entidad.gov.co; dmarc=pass header.from=entidad.gov.co"),
			"#criticidad alta\n\nAna: ingrese en https://entidad-gov-co.atacante.example/vpn")
	}
	if got := e.outbox(t, "ana@entidad.gov.co"); len(got) != before {
		t.Fatalf("the requester got %d mails from a two-author From", len(got)-before)
	}
	after, _ := e.db.TicketByNumber(context.Background(), tk.Number)
	if after.Criticality != tk.Criticality {
		t.Errorf("criticality %s → %s by a two-author From", tk.Criticality, after.Criticality)
	}
}
