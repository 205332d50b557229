package main

import (
	"context"
	"net/smtp"
	"strings"
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/config"
	"github.com/mesadeservicios/mesa/internal/testimap"
	"github.com/mesadeservicios/mesa/internal/testpg"
	"github.com/mesadeservicios/mesa/ticket"
)

// TestEndToEndRealBounceThroughPostfix: a delivery report that Postfix
// itself writes, not one written here. Pedro's address is still in the
// relay's table but his mailbox is gone (Postfix accepts his mail, Dovecot
// refuses it at LMTP with 550 5.1.1, as a remote server would). He writes
// to the desk; mesa's acknowledgement leaves through Postfix with its
// per-message return path (VERP); Postfix cannot deliver it and sends its
// own DSN to that return path, which Postfix and Dovecot deliver into the
// desk's mailbox (the +tag is the address extension). mesa reads Postfix's
// report, proves it by the return path, marks the acknowledgement failed,
// records the failure on the ticket and holds the address.
func TestEndToEndRealBounceThroughPostfix(t *testing.T) {
	dc := testimap.StartWithLMTP(t, "mesa")
	pf := testimap.StartPostfix(t, dc, "entidad.gov.co", "mesa", "pedro")
	cfg, err := config.Load("", loopbackEnv(testpg.NewDatabase(t), dc.Addr, pf.Addr,
		"MESA_AUTH_VERP=true", "MESA_AUTH_BOUNCE_SECRET=e2e-real-bounce-secret-0123"))
	if err != nil {
		t.Fatal(err)
	}
	app, ctx, stop := startApp(t, cfg)
	defer stop()
	const pedro = "pedro@entidad.gov.co"
	raw := "From: =?utf-8?q?Pedro_G=C3=B3mez?= <" + pedro + ">\r\nTo: mesa@entidad.gov.co\r\nSubject: =?utf-8?q?No_puedo_entrar_al_aplicativo_de_n=C3=B3mina?=\r\n" +
		"Message-ID: <rb-1@entidad.gov.co>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
		"Buenas tardes, desde ayer el aplicativo de nómina no me deja entrar con mi usuario.\r\n"
	if err := smtp.SendMail(pf.Addr, nil, pedro, []string{"mesa@entidad.gov.co"}, []byte(raw)); err != nil {
		t.Fatalf("sending through postfix: %v", err)
	}
	var tk *ticket.Ticket
	var failed []ticket.Event
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline) && failed == nil; time.Sleep(200 * time.Millisecond) {
		m, err := app.db.MessageByKey(ctx, "<rb-1@entidad.gov.co>")
		if err != nil || m.TicketID == 0 {
			continue
		}
		if tk, err = app.db.TicketByID(ctx, m.TicketID); err != nil {
			t.Fatal(err)
		}
		evs, _ := app.db.Events(ctx, tk.ID)
		for _, ev := range evs {
			if ev.Kind == ticket.EventMailFailed {
				failed = append(failed, ev)
			}
		}
	}
	if tk == nil {
		m, err := app.db.MessageByKey(ctx, "<rb-1@entidad.gov.co>")
		if err == nil {
			t.Logf("the requester's mail: %s (%s)", m.Disposition, m.Reason)
		}
		t.Fatal("Postfix's log:\n" + pf.Log() + "\nno ticket for the requester's mail within 60 s")
	}
	if len(failed) != 1 {
		t.Fatalf("%s: %d mail_failed events within 60 s, want 1 (the acknowledgement bounced by Postfix)", tk.Number, len(failed))
	}
	if !strings.Contains(failed[0].Body, pedro) || !strings.Contains(failed[0].Body, "5.") {
		t.Errorf("the failure recorded: %q, want the address and Postfix's 5.x.x status", failed[0].Body)
	}
	reason, held, err := app.db.IsUndeliverable(context.Background(), pedro)
	if err != nil || !held {
		t.Errorf("%s not held after a permanent bounce (%v)", pedro, err)
	}
	t.Logf("Postfix's report, as recorded: %s; held: %s", failed[0].Body, reason)
	// The report itself is filed on the ticket as a delivery report, and
	// no ticket was made from MAILER-DAEMON.
	msgs, err := app.db.MessagesOfTicket(ctx, tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	var report *ticket.RawMessage
	for _, m := range msgs {
		if m.Disposition == "bounce" {
			report = m
		}
	}
	if report == nil || !strings.Contains(strings.ToLower(report.From), "mailer-daemon") {
		t.Errorf("no delivery report from Postfix's MAILER-DAEMON filed on %s (%d messages)", tk.Number, len(msgs))
	}
	if n, err := app.db.RowCounts(ctx); err != nil || n["tickets"] != 1 {
		t.Errorf("tickets: %d (%v), want 1", n["tickets"], err)
	}
}
