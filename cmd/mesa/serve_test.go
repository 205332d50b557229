package main

import (
	"strings"
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/config"
	"github.com/mesadeservicios/mesa/internal/testimap"
	"github.com/mesadeservicios/mesa/internal/testpg"
	"github.com/mesadeservicios/mesa/internal/testsmtp"
	"github.com/mesadeservicios/mesa/mailin"
	"github.com/mesadeservicios/mesa/store"
	"github.com/mesadeservicios/mesa/ticket"
)

// TestServeReadsMailbox runs the whole daemon against a real Dovecot and
// PostgreSQL: a mail becomes a classified ticket with its acknowledgement
// queued, threaded to the original.
func TestServeReadsMailbox(t *testing.T) {
	srv := testimap.Start(t, "mesa")
	sink := testsmtp.Start(t, "")
	cfg, err := config.Load("", loopbackEnv(testpg.NewDatabase(t), srv.Addr, sink.Addr))
	if err != nil {
		t.Fatal(err)
	}
	app, ctx, stop := startApp(t, cfg)

	c := loginMesa(t, srv.Addr)
	defer c.Close()
	raw := "From: Ana Rojas <ana@entidad.gov.co>\r\nTo: mesa@entidad.gov.co\r\nSubject: No conecta la VPN\r\n" +
		"Message-ID: <vpn-1@entidad.gov.co>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
		"Desde la casa el FortiClient no conecta.\r\n"
	appendMail(t, c, raw)
	var list []*ticket.Ticket
	deadline := time.Now().Add(20 * time.Second)
	for len(list) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		tks, _ := app.db.ListTickets(ctx, store.TicketFilter{})
		list = tks
	}
	if len(list) != 1 {
		t.Fatalf("got %d tickets, want 1", len(list))
	}
	tk := list[0]
	if tk.Category != "ti.vpn" || tk.Requester != "ana@entidad.gov.co" || tk.DueAt == nil {
		t.Errorf("ticket: %+v", tk)
	}
	if ready := get(t, "http://"+app.AdminAddr()+"/readyz"); !strings.Contains(ready, `"ready"`) {
		t.Errorf("readyz: %s", ready)
	}
	// A run of the SLA watch, under its own name so that the scheduler's
	// own sla_check in this minute does not make it a skipped run.
	if err := app.jobs.RunNow(ctx, "manual_sla_check", app.watchSLA); err != nil {
		t.Fatal(err)
	}
	metrics := get(t, "http://"+app.AdminAddr()+"/metrics")
	for _, want := range []string{`mesa_messages_total{disposition="ticket"} 1`, `mesa_tickets{state="abierto"} 1`,
		`mesa_job_runs_total{job="manual_sla_check",outcome="ok"} 1`, `mesa_sla_alerts_total{kind="breach"} 0`,
		`mesa_imap_connected{mailbox="imap"} 1`, `mesa_http_request_duration_seconds_count{code="200",route="GET /readyz"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	ack, err := app.db.MailByDedupeKey(ctx, "ack:"+tk.Number)
	if err != nil {
		t.Fatal(err)
	}
	in, _ := mailin.Parse(ack.Raw)
	if len(in.InReplyTo) != 1 || in.InReplyTo[0] != "vpn-1@entidad.gov.co" || !strings.Contains(in.Subject, tk.Number) ||
		!strings.Contains(in.Text, "F-DE-10") {
		t.Errorf("acknowledgement: subject %q in-reply-to %v\n%s", in.Subject, in.InReplyTo, in.Text)
	}
	// The acknowledgement is sent, and the requester's reply to it lands on
	// the same ticket.
	var sent []byte
	for deadline := time.Now().Add(20 * time.Second); sent == nil && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if got := sink.Messages(); len(got) > 0 {
			sent = got[0]
		}
	}
	if sent == nil {
		t.Fatal("no acknowledgement reached the SMTP server")
	}
	back, _ := mailin.Parse(sent)
	if !strings.Contains(back.Subject, "["+tk.Number+"]") || len(back.To) != 1 || back.To[0].Email != "ana@entidad.gov.co" {
		t.Errorf("sent acknowledgement: %q to %v", back.Subject, back.To)
	}
	reply := "From: Ana Rojas <ana@entidad.gov.co>\r\nTo: mesa@entidad.gov.co\r\nSubject: RE: " + back.Subject + "\r\n" +
		"Message-ID: <vpn-2@entidad.gov.co>\r\nIn-Reply-To: <" + back.MessageID + ">\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n\r\nYa diligencié el F-DE-10.\r\n"
	appendMail(t, c, reply)
	var comments int
	for deadline := time.Now().Add(20 * time.Second); comments == 0 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		evs, _ := app.db.Events(ctx, tk.ID)
		for _, e := range evs {
			if e.Kind == ticket.EventComment && strings.Contains(e.Body, "F-DE-10") {
				comments++
			}
		}
	}
	if comments != 1 {
		t.Errorf("the reply did not land on %s", tk.Number)
	}
	stop()
}
