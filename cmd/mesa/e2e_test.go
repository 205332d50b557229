package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"mime"
	"net/smtp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/mesadeservicios/mesa/config"
	"github.com/mesadeservicios/mesa/internal/testimap"
	"github.com/mesadeservicios/mesa/internal/testpg"
	"github.com/mesadeservicios/mesa/mailin"
	"github.com/mesadeservicios/mesa/ticket"
)

// TestEndToEndThroughPostfix runs the whole path with real servers: the
// requester writes through Postfix, Dovecot delivers to the desk's mailbox,
// mesa opens the ticket and sends its acknowledgement through Postfix into
// the requester's Dovecot mailbox; her reply lands on the ticket; the
// technician closes it by mail, and only with an authenticated message.
func TestEndToEndThroughPostfix(t *testing.T) {
	dc := testimap.StartWithLMTP(t, "mesa", "ana", "carlos")
	pf := testimap.StartPostfix(t, dc, "entidad.gov.co", "mesa", "ana", "carlos")
	cfg, err := config.Load("", loopbackEnv(testpg.NewDatabase(t), dc.Addr, pf.Addr, "MESA_AUTH_TRUSTED_AUTHSERV_ID=mx.entidad.gov.co"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Groups = []config.Group{{Key: "infraestructura", Name: "Infraestructura"}}
	cfg.People = []config.Person{{Email: "carlos@entidad.gov.co", Name: "Carlos", Role: "technician", Level: 1, Groups: []string{"infraestructura"}}}
	app, _, stop := startApp(t, cfg)

	send := func(from, subject, extra, body string) {
		t.Helper()
		msg := "From: " + from + "\r\nTo: mesa@entidad.gov.co\r\nSubject: " + subject + "\r\n" + extra +
			"Content-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n"
		if err := smtp.SendMail(pf.Addr, nil, from, []string{"mesa@entidad.gov.co"}, []byte(msg)); err != nil {
			t.Fatalf("sending through postfix: %v", err)
		}
	}
	send("ana@entidad.gov.co", "No conecta la VPN", "Message-ID: <e2e-1@entidad.gov.co>\r\n", "Desde la casa el FortiClient no conecta.")

	ack := waitMail(t, dc.Addr, "ana", "Recibido")
	num, ok := ticket.FindNumber(ack.Subject, "MS")
	if !ok {
		t.Fatalf("no ticket number in %q", ack.Subject)
	}
	if len(ack.InReplyTo) != 1 || ack.InReplyTo[0] != "e2e-1@entidad.gov.co" {
		t.Errorf("acknowledgement does not thread with the original: %v", ack.InReplyTo)
	}
	send("ana@entidad.gov.co", "RE: "+ack.Subject, "Message-ID: <e2e-2@entidad.gov.co>\r\nIn-Reply-To: <"+ack.MessageID+">\r\n",
		"Ya adjunté el F-DE-10.\r\n\r\n> cita")
	tk := waitTicket(t, app, num.String(), func(tk *ticket.Ticket, evs []ticket.Event) bool {
		for _, e := range evs {
			if e.Kind == ticket.EventComment && strings.Contains(e.Body, "F-DE-10") {
				return true
			}
		}
		return false
	})

	notice := waitMail(t, dc.Addr, "carlos", "Asignado")
	// A forged #cerrar (no verdict of the organisation's server) changes nothing.
	send("carlos@entidad.gov.co", "RE: "+notice.Subject, "Message-ID: <e2e-3@entidad.gov.co>\r\nIn-Reply-To: <"+notice.MessageID+">\r\n",
		"#cerrar Listo.")
	waitMail(t, dc.Addr, "carlos", "Comandos no aplicados")
	send("carlos@entidad.gov.co", "RE: "+notice.Subject, "Message-ID: <e2e-4@entidad.gov.co>\r\nIn-Reply-To: <"+notice.MessageID+">\r\n"+
		"Authentication-Results: mx.entidad.gov.co; dkim=pass header.d=entidad.gov.co; dmarc=pass header.from=entidad.gov.co\r\n",
		"#cerrar Se habilitó la VPN.")
	waitTicket(t, app, tk.Number, func(tk *ticket.Ticket, _ []ticket.Event) bool { return tk.State == ticket.Cerrado })
	closed := waitMail(t, dc.Addr, "ana", "Caso cerrado")
	if !strings.Contains(closed.Text, "Se habilitó la VPN.") {
		t.Errorf("closure notice:\n%s", closed.Text)
	}
	stop()
}

// waitMail waits for a message whose subject contains want in user's INBOX.
func waitMail(t *testing.T, addr, user, want string) *ticket.Inbound {
	t.Helper()
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(user, user+"pw").Wait(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := c.Select("INBOX", nil).Wait(); err == nil {
			var all imap.UIDSet
			all.AddRange(1, 0)
			section := &imap.FetchItemBodySection{Peek: true}
			msgs, _ := c.Fetch(all, &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{section}}).Collect()
			for i := len(msgs) - 1; i >= 0; i-- {
				in, _ := mailin.Parse(msgs[i].FindBodySection(section))
				if strings.Contains(in.Subject, want) {
					return in
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no mail with %q reached %s's mailbox within 30 s", want, user)
	return nil
}

func waitTicket(t *testing.T, app *App, number string, ok func(*ticket.Ticket, []ticket.Event) bool) *ticket.Ticket {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		tk, err := app.db.TicketByNumber(context.Background(), number)
		if err == nil {
			evs, _ := app.db.Events(context.Background(), tk.ID)
			if ok(tk, evs) {
				return tk
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("ticket %s did not reach the expected state within 30 s", number)
	return nil
}

// TestSLABreachReachesTheMailbox (and the survey after it): a VPN incident (8 business hours) written
// on Friday 20 March 2026 at 16:00 is warned on Tuesday at 13:00 and breached
// at 15:00 (Monday 23 is a holiday); the breach alert goes through the
// outbox and Postfix into the assignee's and the manager's mailboxes.
func TestSLABreachReachesTheMailbox(t *testing.T) {
	bog, _ := time.LoadLocation("America/Bogota")
	var mu sync.Mutex
	now := time.Date(2026, 3, 20, 16, 0, 0, 0, bog)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	setNow := func(t time.Time) { mu.Lock(); now = t; mu.Unlock() }

	dc := testimap.StartWithLMTP(t, "mesa", "ana", "carlos", "marta")
	pf := testimap.StartPostfix(t, dc, "entidad.gov.co", "mesa", "ana", "carlos", "marta")
	cfg, err := config.Load("", loopbackEnv(testpg.NewDatabase(t), dc.Addr, pf.Addr,
		"MESA_JOBS_SLA_CHECK=", "MESA_JOBS_SURVEYS=")) // the test runs the jobs itself
	if err != nil {
		t.Fatal(err)
	}
	cfg.Groups = []config.Group{{Key: "infraestructura", Name: "Infraestructura"}}
	cfg.People = []config.Person{
		{Email: "carlos@entidad.gov.co", Name: "Carlos", Role: "technician", Level: 1, Groups: []string{"infraestructura"}},
		{Email: "marta@entidad.gov.co", Name: "Marta", Role: "manager", Groups: []string{"infraestructura"}}}
	app, ctx, stop := startAppWith(t, cfg, Options{Now: clock})
	defer stop()

	msg := "From: ana@entidad.gov.co\r\nTo: mesa@entidad.gov.co\r\nSubject: No conecta la VPN\r\nMessage-ID: <sla-1@entidad.gov.co>\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n\r\nDesde la casa el FortiClient no conecta.\r\n"
	if err := smtp.SendMail(pf.Addr, nil, "ana@entidad.gov.co", []string{"mesa@entidad.gov.co"}, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	ack := waitMail(t, dc.Addr, "ana", "Recibido")
	num, _ := ticket.FindNumber(ack.Subject, "MS")
	tk := waitTicket(t, app, num.String(), func(*ticket.Ticket, []ticket.Event) bool { return true })
	if tk.Assignee != "carlos@entidad.gov.co" || !tk.DueAt.Equal(time.Date(2026, 3, 24, 15, 0, 0, 0, bog)) {
		t.Fatalf("ticket: assignee %q due %v", tk.Assignee, tk.DueAt.In(bog))
	}
	for _, step := range []struct {
		at             time.Time
		warned, breach int
	}{
		{time.Date(2026, 3, 23, 16, 0, 0, 0, bog), 0, 0}, // the holiday: nothing
		{time.Date(2026, 3, 24, 13, 0, 0, 0, bog), 1, 0},
		{time.Date(2026, 3, 24, 15, 0, 0, 0, bog), 0, 1},
		{time.Date(2026, 3, 24, 16, 0, 0, 0, bog), 0, 0},
	} {
		setNow(step.at)
		// The watch skips a ticket another transaction holds (FOR UPDATE
		// SKIP LOCKED: the outbox worker recording the last alert's
		// delivery) and takes it on its next run, as the minute job does.
		warned, breached := 0, 0
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			rep, err := app.desk.WatchSLA(ctx)
			if err != nil {
				t.Fatalf("watch at %v: %v", step.at, err)
			}
			warned, breached = warned+rep.Warned, breached+rep.Breached
			if warned >= step.warned && breached >= step.breach || time.Now().After(deadline) {
				break
			}
		}
		if warned != step.warned || breached != step.breach {
			t.Fatalf("watch at %v: warned %d, breached %d; want %d, %d", step.at, warned, breached, step.warned, step.breach)
		}
	}
	warn := waitMail(t, dc.Addr, "carlos", "Aviso de ANS")
	alert := waitMail(t, dc.Addr, "carlos", "Alerta de ANS")
	lead := waitMail(t, dc.Addr, "marta", "Alerta de ANS")
	for _, m := range []*ticket.Inbound{warn, alert, lead} {
		if !strings.Contains(m.Text, tk.Number) || !m.AutoSubmitted {
			t.Errorf("alert %q lacks the ticket or Auto-Submitted:\n%s", m.Subject, m.Text)
		}
	}
	if !strings.Contains(alert.Text, "VENCIDO") {
		t.Errorf("breach alert:\n%s", alert.Text)
	}

	// Closed late; an hour later the survey reaches the requester, who
	// answers "no" by mail: the ticket reopens and the manager hears of it.
	if _, err := app.desk.Transition(ctx, tk.Number, ticket.Cerrado, "carlos@entidad.gov.co", "Se restableció la VPN."); err != nil {
		t.Fatal(err)
	}
	setNow(time.Date(2026, 3, 24, 17, 0, 0, 0, bog))
	if rep, err := app.desk.SendSurveys(ctx); err != nil || rep.Sent != 1 {
		t.Fatalf("surveys: %+v %v", rep, err)
	}
	survey := waitMail(t, dc.Addr, "ana", "Encuesta de satisfacción")
	if !strings.Contains(survey.Text, "/encuesta/") {
		t.Errorf("survey mail without its link:\n%s", survey.Text)
	}
	answer := "From: ana@entidad.gov.co\r\nTo: mesa@entidad.gov.co\r\nSubject: " + mime.QEncoding.Encode("utf-8", "RE: "+survey.Subject) +
		"\r\nMessage-ID: <sla-2@entidad.gov.co>\r\nIn-Reply-To: <" + survey.MessageID + ">\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n\r\nno\r\nSigue sin conectar.\r\n"
	if err := smtp.SendMail(pf.Addr, nil, "ana@entidad.gov.co", []string{"mesa@entidad.gov.co"}, []byte(answer)); err != nil {
		t.Fatal(err)
	}
	waitTicket(t, app, tk.Number, func(tk *ticket.Ticket, _ []ticket.Event) bool { return tk.State == ticket.EnProceso })
	bad := waitMail(t, dc.Addr, "marta", "Encuesta desfavorable")
	if !strings.Contains(bad.Text, "Sigue sin conectar.") {
		t.Errorf("manager's survey notice:\n%s", bad.Text)
	}
}

// TestEndToEndFilesAndCopies: through Postfix and Dovecot, a request with
// a PDF and a colleague in Cc reaches the technician with the PDF
// attached (and its download link); the technician's answer reaches the
// requester and, as a copy, the colleague.
func TestEndToEndFilesAndCopies(t *testing.T) {
	dc := testimap.StartWithLMTP(t, "mesa", "ana", "carlos", "beto")
	pf := testimap.StartPostfix(t, dc, "entidad.gov.co", "mesa", "ana", "carlos", "beto")
	cfg, err := config.Load("", loopbackEnv(testpg.NewDatabase(t), dc.Addr, pf.Addr, "MESA_AUTH_TRUSTED_AUTHSERV_ID=mx.entidad.gov.co"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Groups = []config.Group{{Key: "infraestructura", Name: "Infraestructura"}}
	cfg.People = []config.Person{{Email: "carlos@entidad.gov.co", Name: "Carlos", Role: "technician", Level: 1, Groups: []string{"infraestructura"}}}
	_, _, stop := startApp(t, cfg)
	defer stop()

	pdf := []byte("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
	msg := "From: Ana <ana@entidad.gov.co>\r\nTo: mesa@entidad.gov.co\r\nCc: Beto <beto@entidad.gov.co>\r\nSubject: No conecta la VPN\r\n" +
		"Message-ID: <e2e-files-1@entidad.gov.co>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\n" +
		"--zz\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nDesde la casa el FortiClient no conecta. Adjunto el F-DE-10.\r\n" +
		"--zz\r\nContent-Type: application/pdf; name=\"F-DE-10 Ana.pdf\"\r\nContent-Transfer-Encoding: base64\r\n" +
		"Content-Disposition: attachment; filename=\"F-DE-10 Ana.pdf\"\r\n\r\n" + base64.StdEncoding.EncodeToString(pdf) + "\r\n--zz--\r\n"
	if err := smtp.SendMail(pf.Addr, nil, "ana@entidad.gov.co", []string{"mesa@entidad.gov.co", "beto@entidad.gov.co"}, []byte(msg)); err != nil {
		t.Fatalf("sending through postfix: %v", err)
	}
	ack := waitMail(t, dc.Addr, "ana", "Recibido")
	if strings.Contains(ack.Text, "F-DE-10") {
		t.Errorf("the acknowledgement asks for the form the request brought:\n%s", ack.Text)
	}
	notice := waitMail(t, dc.Addr, "carlos", "Asignado")
	if len(notice.Attachments) != 1 || notice.Attachments[0].Filename != "F-DE-10 Ana.pdf" || !bytes.Equal(notice.Attachments[0].Data, pdf) ||
		!strings.Contains(notice.Text, "/adjuntos/") {
		t.Fatalf("the assignment notice does not carry the PDF: %+v\n%s", notice.Attachments, notice.Text)
	}
	reply := "From: carlos@entidad.gov.co\r\nTo: mesa@entidad.gov.co\r\nSubject: RE: " + notice.Subject + "\r\n" +
		"Message-ID: <e2e-files-2@entidad.gov.co>\r\nIn-Reply-To: <" + notice.MessageID + ">\r\n" +
		"Authentication-Results: mx.entidad.gov.co; dkim=pass header.d=entidad.gov.co; dmarc=pass header.from=entidad.gov.co\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n\r\nReinstale el FortiClient 7.2 y vuelva a intentar.\r\n"
	if err := smtp.SendMail(pf.Addr, nil, "carlos@entidad.gov.co", []string{"mesa@entidad.gov.co"}, []byte(reply)); err != nil {
		t.Fatalf("sending through postfix: %v", err)
	}
	answer := waitMail(t, dc.Addr, "ana", "RE: No conecta")
	cp := waitMail(t, dc.Addr, "beto", "RE: No conecta")
	for who, m := range map[string]*ticket.Inbound{"requester": answer, "colleague": cp} {
		if !strings.Contains(m.Text, "Reinstale el FortiClient 7.2") {
			t.Errorf("the %s's copy of the answer:\n%s", who, m.Text)
		}
	}
	if !strings.Contains(cp.Text, "en copia") {
		t.Errorf("the colleague's mail does not say it is a copy:\n%s", cp.Text)
	}
}
