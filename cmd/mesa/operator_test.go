package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/mesadeservicios/mesa/config"
	"github.com/mesadeservicios/mesa/internal/testimap"
	"github.com/mesadeservicios/mesa/internal/testsmtp"
	"github.com/mesadeservicios/mesa/mailin"
)

// TestOperatorAlerts creates each condition of the operator alerts for
// real and checks the mail it causes, through the one queue, to the owner
// and the operator: a mailbox whose OAuth2 grant is refused
// (re-authorisation; /readyz not ready), its client secret expiring in 5
// days (the 7-day warning), outgoing mail failing (SMTP 451), mail held for
// a technician whose address bounced, a message quarantined, and the
// Dovecot mailbox stopped (unreachable) and started again (resolved). Each
// alert is queued once however often the job runs; the renewed secret sends
// its "resolved" mail.
func TestOperatorAlerts(t *testing.T) {
	ctx := context.Background()
	dc := testimap.Start(t, "mesa")
	sink := testsmtp.Start(t, "", &gosmtp.SMTPError{Code: 451, Message: "4.3.0 try later"})
	refuse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"error":"invalid_grant","error_description":"AADSTS50173: the grant has expired"}`))
	}))
	defer refuse.Close()
	dbPath := filepath.Join(t.TempDir(), "mesa.db")
	cfg, err := config.Load("", loopbackEnv("sqlite:"+dbPath, "127.0.0.1:1", sink.Addr, "MESA_IMAP_HOST=",
		"MESA_JOBS_OPERATOR_ALERTS=", "MESA_JOBS_SLA_CHECK=", "MESA_ALERTS_UNREACHABLE_AFTER=2s", "MESA_ALERTS_OUTBOX_FAILING_AFTER=1s"))
	if err != nil {
		t.Fatal(err)
	}
	host, p, _ := net.SplitHostPort(dc.Addr)
	port, _ := strconv.Atoi(p)
	ti := config.Mailbox{Name: "ti", Address: "mesa@entidad.gov.co", IMAP: config.Default().IMAP}
	ti.Host, ti.Port, ti.TLS, ti.InsecurePlaintext, ti.Username, ti.Password = host, port, "none", true, "mesa", "mesapw"
	caja := ti
	caja.Name, caja.Address, caja.Auth, caja.OAuth2TokenURL, caja.OAuth2ClientID = "caja", "caja@entidad.gov.co", "xoauth2", refuse.URL, "mesa-app"
	expires := time.Now().AddDate(0, 0, 5).Format(time.DateOnly)
	caja.OAuth2SecretExpires = expires
	cfg.Mailboxes = []config.Mailbox{ti, caja}
	cfg.Desk.Addresses = []string{"mesa@entidad.gov.co", "caja@entidad.gov.co"}
	cfg.Groups = []config.Group{{Key: "infraestructura", Name: "Infraestructura"}}
	cfg.People = []config.Person{
		{Email: "carlos@entidad.gov.co", Name: "Carlos", Role: "technician", Level: 1, Groups: []string{"infraestructura"}},
		{Email: "olga@entidad.gov.co", Name: "Olga", Role: "owner"},
		{Email: "oscar@entidad.gov.co", Name: "Óscar", Role: "operator"}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	app, _, stop := startApp(t, cfg)

	// Carlos's address bounced for good: his assignment notice is held.
	if err := app.db.MarkUndeliverable(ctx, "carlos@entidad.gov.co", "5.1.1 user unknown", time.Now()); err != nil {
		t.Fatal(err)
	}
	c := loginMesa(t, dc.Addr)
	appendMail(t, c, "From: Ana <ana@entidad.gov.co>\r\nTo: mesa@entidad.gov.co\r\nSubject: No conecta la VPN\r\nMessage-ID: <op-1@entidad.gov.co>\r\n"+
		"Content-Type: text/plain; charset=utf-8\r\n\r\nDesde la casa el FortiClient no conecta.\r\n")
	// Mail from the desk's own address is quarantined.
	appendMail(t, c, "From: mesa@entidad.gov.co\r\nTo: mesa@entidad.gov.co\r\nSubject: Bucle\r\nMessage-ID: <op-2@entidad.gov.co>\r\n"+
		"Content-Type: text/plain; charset=utf-8\r\n\r\nUn correo de la propia mesa.\r\n")
	c.Close()
	waitFor(t, "the ticket, the held assignment, the quarantine, the refused grant and the failed acknowledgement", func() bool {
		st, _ := app.db.MailboxStatuses(ctx)
		held, _ := app.db.HeldMailAfter(ctx, 0, 10)
		q, _ := app.db.QuarantinedAfter(ctx, 0, 10)
		failing, _ := app.db.FailingMail(ctx, time.Now(), 10)
		return st["caja"].NeedsReauthorization && len(held) == 1 && len(q) == 1 && len(failing) == 1
	})
	if status, checks := readyz(t, app); status != "not_ready" || checks["imap caja"] != "reauthorize" {
		t.Errorf("readyz: got %s %v, want not_ready because caja needs re-authorisation (reauthorize)", status, checks)
	}
	time.Sleep(1100 * time.Millisecond) // the acknowledgement has failed for outbox_failing_after
	for i := 0; i < 3; i++ {            // once per condition, however often the job runs
		if _, err := app.desk.OperatorAlerts(ctx); err != nil {
			t.Fatal(err)
		}
	}
	subjects := func(prefix string) map[string]string {
		t.Helper()
		out := map[string]string{}
		for _, to := range []string{"olga@entidad.gov.co", "oscar@entidad.gov.co"} {
			m, err := app.db.MailByDedupeKey(ctx, prefix+":"+to)
			if err != nil {
				t.Errorf("no mail %s to %s: %v", prefix, to, err)
				continue
			}
			in, _ := mailin.Parse(m.Raw)
			out[to] = in.Subject + "\n" + in.Text
		}
		return out
	}
	for prefix, want := range map[string][]string{
		"op:reauth:caja:1":                   {"ALERTA: el buzón caja necesita una nueva autorización", "invalid_grant"},
		"op:secret:caja:" + expires + ":7:1": {"vence en 5 días", expires},
		"op:outbox:1":                        {"ALERTA: el correo saliente falla", "4.3.0 try later"},
		"op:held:carlos@entidad.gov.co:1":    {"ALERTA: correo retenido para carlos@entidad.gov.co", "Asignado"},
		"op:batch:1":                         {"Correo en cuarentena o retenido: 1", "En cuarentena: mesa@entidad.gov.co — \"Bucle\""},
	} {
		for to, got := range subjects(prefix) {
			for _, w := range want {
				if !strings.Contains(got, w) {
					t.Errorf("%s to %s lacks %q:\n%s", prefix, to, w, got)
				}
			}
		}
	}
	countOp := func() int {
		rows, _ := app.db.DueMail(ctx, time.Now().Add(time.Hour), 1000)
		n := 0
		sent := sink.Messages()
		for _, r := range rows {
			if strings.HasPrefix(r.DedupeKey, "op") {
				n++
			}
		}
		for _, raw := range sent {
			if in, _ := mailin.Parse(raw); in != nil && (in.To[0].Email == "olga@entidad.gov.co" || in.To[0].Email == "oscar@entidad.gov.co") {
				n++
			}
		}
		return n
	}
	if n := countOp(); n != 10 {
		t.Errorf("operator mails: got %d, want 10 (5 conditions × 2 people, each once)", n)
	}

	// The Dovecot mailbox goes away: unreachable after 2 s; back: resolved.
	dc.Stop()
	waitFor(t, "ti failing", func() bool {
		st, _ := app.db.MailboxStatuses(ctx)
		return !st["ti"].FailingSince.IsZero()
	})
	time.Sleep(2100 * time.Millisecond)
	if _, err := app.desk.OperatorAlerts(ctx); err != nil {
		t.Fatal(err)
	}
	for to, got := range subjects("op:unreachable:ti:1") {
		if !strings.Contains(got, "ALERTA: el buzón ti no responde") {
			t.Errorf("unreachable alert to %s:\n%s", to, got)
		}
	}
	dc.Restart(t)
	waitFor(t, "ti reached again", func() bool {
		st, _ := app.db.MailboxStatuses(ctx)
		return st["ti"].FailingSince.IsZero() && !st["ti"].LastSuccess.IsZero()
	})
	if _, err := app.desk.OperatorAlerts(ctx); err != nil {
		t.Fatal(err)
	}
	for to, got := range subjects("op-resolved:unreachable:ti:1") {
		if !strings.Contains(got, "Resuelto: el buzón ti no responde") || !strings.Contains(got, "responde de nuevo") {
			t.Errorf("resolved mail to %s:\n%s", to, got)
		}
	}
	stop()

	// The secret is renewed: the warning's condition clears, once.
	cfg.Mailboxes[1].OAuth2SecretExpires = time.Now().AddDate(2, 0, 0).Format(time.DateOnly)
	app, _, stop = startApp(t, cfg)
	defer stop()
	for i := 0; i < 2; i++ {
		if _, err := app.desk.OperatorAlerts(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for to, got := range subjects("op-resolved:secret:caja:" + expires + ":7:1") {
		if !strings.Contains(got, "Resuelto: Aviso: el secreto") || !strings.Contains(got, "fue renovado") {
			t.Errorf("secret resolved to %s:\n%s", to, got)
		}
	}
}
