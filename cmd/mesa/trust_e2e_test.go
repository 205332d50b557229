package main

import (
	"context"
	"net/smtp"
	"strings"
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/auth"
	"github.com/mesadeservicios/mesa/config"
	"github.com/mesadeservicios/mesa/internal/testimap"
	"github.com/mesadeservicios/mesa/internal/testpg"
	"github.com/mesadeservicios/mesa/ticket"
)

// TestEndToEndForgeriesThroughPostfix (issue 13): through Postfix and
// Dovecot, a forged technician answer reaches nobody but the technician
// (as one notice), a forged delivery report marks nobody, and a real
// authenticated command works. Mail leaves with its per-message return
// path (VERP).
func TestEndToEndForgeriesThroughPostfix(t *testing.T) {
	dc := testimap.StartWithLMTP(t, "mesa", "ana", "carlos")
	pf := testimap.StartPostfix(t, dc, "entidad.gov.co", "mesa", "ana", "carlos")
	const secret = "e2e-bounce-secret-0123456789"
	cfg, err := config.Load("", loopbackEnv(testpg.NewDatabase(t), dc.Addr, pf.Addr, "MESA_AUTH_TRUSTED_AUTHSERV_ID=mx.entidad.gov.co",
		"MESA_AUTH_VERP=true", "MESA_AUTH_BOUNCE_SECRET="+secret))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Groups = []config.Group{{Key: "infraestructura", Name: "Infraestructura"}}
	cfg.People = []config.Person{{Email: "carlos@entidad.gov.co", Name: "Carlos", Role: "technician", Level: 1, Groups: []string{"infraestructura"}}}
	app, ctx, stop := startApp(t, cfg)
	defer stop()
	send := func(from, raw string) {
		t.Helper()
		if err := smtp.SendMail(pf.Addr, nil, from, []string{"mesa@entidad.gov.co"}, []byte(raw)); err != nil {
			t.Fatalf("sending through postfix: %v", err)
		}
	}
	processed := func(id string) *ticket.RawMessage {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if m, err := app.db.MessageByKey(context.Background(), "<"+id+">"); err == nil && m.Disposition != "" {
				return m
			}
		}
		t.Fatalf("message <%s> not processed within 30 s", id)
		return nil
	}
	send("ana@entidad.gov.co", "From: ana@entidad.gov.co\r\nTo: mesa@entidad.gov.co\r\nSubject: No conecta la VPN\r\n"+
		"Message-ID: <tr-1@entidad.gov.co>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nDesde la casa el FortiClient no conecta.\r\n")
	ack := waitMail(t, dc.Addr, "ana", "Recibido")
	num, _ := ticket.FindNumber(ack.Subject, "MS")
	row, err := app.db.MailByMessageID(ctx, ack.MessageID)
	if err != nil {
		t.Fatal(err)
	}
	verp := auth.VERP{Address: "mesa@entidad.gov.co", Secret: []byte(secret)}
	if want := verp.ReturnPath(row.ID); ack.ReturnPath != want {
		t.Errorf("return path of the acknowledgement: got %q, want %q (VERP)", ack.ReturnPath, want)
	}
	notice := waitMail(t, dc.Addr, "carlos", "Asignado")

	// A forged answer as Carlos, with a phishing link: nothing reaches Ana.
	send("carlos@entidad.gov.co", "From: Carlos <carlos@entidad.gov.co>\r\nTo: mesa@entidad.gov.co\r\nSubject: RE: "+notice.Subject+"\r\n"+
		"Message-ID: <tr-2@atacante.example>\r\nIn-Reply-To: <"+notice.MessageID+">\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"+
		"Ana, ingrese su clave en https://entidad-gov-co.atacante.example/vpn\r\n")
	waitMail(t, dc.Addr, "carlos", "Comandos no aplicados")
	tk, _ := app.db.TicketByNumber(ctx, num.String())
	if tk.FirstResponseAt != nil {
		t.Errorf("first response set by the forged answer")
	}
	rows, _ := app.db.DueMail(ctx, time.Now().Add(24*time.Hour), 100)
	for _, m := range rows {
		if m.To[0] == "ana@entidad.gov.co" {
			t.Errorf("mail queued to ana after the forged answer: %s", m.Subject)
		}
	}
	evs, _ := app.db.Events(ctx, tk.ID)
	unverified := false
	for _, e := range evs {
		if e.Kind == ticket.EventComment && e.Actor == "carlos@entidad.gov.co" {
			t.Errorf("the forged answer is a public comment: %q", e.Body)
		}
		unverified = unverified || e.Kind == ticket.EventNote && strings.Contains(e.Body, "NO VERIFICADO")
	}
	if !unverified {
		t.Error("no unverified note of the forged answer")
	}

	// A forged bounce for Carlos, threading with the attacker's view of the
	// ticket (Ana's acknowledgement): it marks nobody.
	send("mailer-daemon@atacante.example", "From: Mail Delivery System <MAILER-DAEMON@atacante.example>\r\nTo: mesa@entidad.gov.co\r\n"+
		"Subject: Undeliverable: No conecta la VPN\r\nMessage-ID: <tr-3@atacante.example>\r\nIn-Reply-To: <"+ack.MessageID+">\r\nMIME-Version: 1.0\r\n"+
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nFailed.\r\n"+
		"--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.atacante.example\r\n\r\nFinal-Recipient: rfc822; carlos@entidad.gov.co\r\n"+
		"Action: failed\r\nStatus: 5.1.1\r\n\r\n--b\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <"+ack.MessageID+">\r\n\r\n--b--\r\n")
	if m := processed("tr-3@atacante.example"); m.Disposition != "quarantined" {
		t.Errorf("forged bounce: got disposition %s (%s), want quarantined", m.Disposition, m.Reason)
	}
	if bad, _, _, _ := app.db.MailPressure(ctx, "carlos@entidad.gov.co", time.Now().Add(-30*24*time.Hour), time.Now(), 1, time.Now(), 1); bad {
		t.Fatal("carlos marked undeliverable by a forged bounce")
	}

	// A real, authenticated command works.
	send("carlos@entidad.gov.co", "From: Carlos <carlos@entidad.gov.co>\r\nTo: mesa@entidad.gov.co\r\nSubject: RE: "+notice.Subject+"\r\n"+
		"Message-ID: <tr-4@entidad.gov.co>\r\nIn-Reply-To: <"+notice.MessageID+">\r\n"+
		"Authentication-Results: mx.entidad.gov.co; dkim=pass header.d=entidad.gov.co; dmarc=pass header.from=entidad.gov.co\r\n"+
		"Content-Type: text/plain; charset=utf-8\r\n\r\n#criticidad alta\r\nYa quedó habilitada su VPN.\r\n")
	waitTicket(t, app, num.String(), func(tk *ticket.Ticket, _ []ticket.Event) bool {
		return tk.Criticality == ticket.Alta && tk.FirstResponseAt != nil
	})
	answer := waitMail(t, dc.Addr, "ana", "RE:")
	if !strings.Contains(answer.Text, "Ya quedó habilitada su VPN.") {
		t.Errorf("answer to ana:\n%s", answer.Text)
	}
	waitMail(t, dc.Addr, "carlos", "Resultado de comandos")
}
