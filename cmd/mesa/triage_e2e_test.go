package main

import (
	"net/smtp"
	"strings"
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/config"
	"github.com/mesadeservicios/mesa/internal/testimap"
	"github.com/mesadeservicios/mesa/internal/testpg"
	"github.com/mesadeservicios/mesa/rules"
	"github.com/mesadeservicios/mesa/ticket"
)

// TestTriageEndToEnd: a vague mail ("ayuda, lo de ayer") written through
// Postfix is sin_clasificar for the shipped model; it reaches the
// first-level technician of the triage group (the group of ti.soporte)
// in his Dovecot mailbox with the triage due time and three candidate
// categories, each with its #categoria line; his authenticated
// "#categoria ti.soporte" recategorises it.
func TestTriageEndToEnd(t *testing.T) {
	bog, _ := time.LoadLocation("America/Bogota")
	now := time.Date(2026, 3, 24, 8, 0, 0, 0, bog) // Tuesday: 2h30m of triage ends at 10:30
	dc := testimap.StartWithLMTP(t, "mesa", "ana", "tomas")
	pf := testimap.StartPostfix(t, dc, "entidad.gov.co", "mesa", "ana", "tomas")
	cfg, err := config.Load("", loopbackEnv(testpg.NewDatabase(t), dc.Addr, pf.Addr, "MESA_AUTH_TRUSTED_AUTHSERV_ID=mx.entidad.gov.co",
		"MESA_JOBS_SLA_CHECK=", "MESA_JOBS_SURVEYS="))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Groups = []config.Group{{Key: "soporte", Name: "Soporte"}}
	cfg.People = []config.Person{{Email: "tomas@entidad.gov.co", Name: "Tomás", Role: "technician", Level: 1, Groups: []string{"soporte"}}}
	app, _, stop := startAppWith(t, cfg, Options{Now: func() time.Time { return now }})
	defer stop()

	send := func(from, subject, extra, body string) {
		t.Helper()
		msg := "From: " + from + "\r\nTo: mesa@entidad.gov.co\r\nSubject: " + subject + "\r\n" + extra +
			"Content-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n"
		if err := smtp.SendMail(pf.Addr, nil, from, []string{"mesa@entidad.gov.co"}, []byte(msg)); err != nil {
			t.Fatalf("sending through postfix: %v", err)
		}
	}
	send("ana@entidad.gov.co", "ayuda", "Message-ID: <triage-1@entidad.gov.co>\r\n", "ayuda, lo de ayer")

	notice := waitMail(t, dc.Addr, "tomas", "Asignado")
	num, ok := ticket.FindNumber(notice.Subject, "MS")
	if !ok {
		t.Fatalf("no ticket number in %q", notice.Subject)
	}
	tk := waitTicket(t, app, num.String(), func(*ticket.Ticket, []ticket.Event) bool { return true })
	if due := time.Date(2026, 3, 24, 10, 30, 0, 0, bog); tk.Category != ticket.Unclassified || tk.Group != "soporte" ||
		tk.Assignee != "tomas@entidad.gov.co" || tk.DueAt == nil || !tk.DueAt.Equal(due) {
		t.Fatalf("ticket: %s group %q assignee %q due %v, want %s soporte tomas %v", tk.Category, tk.Group, tk.Assignee, tk.DueAt,
			ticket.Unclassified, due)
	}
	text := strings.ReplaceAll(notice.Text, "\r\n", "\n")
	for _, want := range []string{"TRIAJE", "Vence:        martes 24 de marzo de 2026, 10:30 a.m.", "ayuda, lo de ayer", "1. ", "2. ", "3. ", "(confianza "} {
		if !strings.Contains(text, want) {
			t.Errorf("assignment notice lacks %q:\n%s", want, text)
		}
	}
	var commands []string
	for _, l := range strings.Split(text, "\n") {
		if c, ok := strings.CutPrefix(l, "     #categoria "); ok {
			commands = append(commands, c)
		}
	}
	if len(commands) != 3 {
		t.Fatalf("want three #categoria lines, got %q:\n%s", commands, text)
	}
	cat, err := rules.Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range commands {
		if _, ok := cat.Category(c); !ok {
			t.Errorf("candidate %q is not a category of the catalogue", c)
		}
	}

	// Tomás copies a line into his (authenticated) reply.
	send("tomas@entidad.gov.co", "RE: "+notice.Subject, "Message-ID: <triage-2@entidad.gov.co>\r\nIn-Reply-To: <"+notice.MessageID+">\r\n"+
		"Authentication-Results: mx.entidad.gov.co; dkim=pass header.d=entidad.gov.co; dmarc=pass header.from=entidad.gov.co\r\n",
		"#categoria ti.soporte")
	tk = waitTicket(t, app, tk.Number, func(tk *ticket.Ticket, _ []ticket.Event) bool { return tk.Category == "ti.soporte" })
	if tk.Group != "soporte" || tk.Assignee != "tomas@entidad.gov.co" || tk.DueAt == nil {
		t.Errorf("recategorised: group %q assignee %q due %v", tk.Group, tk.Assignee, tk.DueAt)
	}
	result := waitMail(t, dc.Addr, "tomas", "Resultado de comandos")
	if !strings.Contains(result.Text, "✔ #categoria ti.soporte") {
		t.Errorf("command result:\n%s", result.Text)
	}
}
