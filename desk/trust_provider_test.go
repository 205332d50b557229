package desk_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/auth"
	"github.com/mesadeservicios/mesa/desk"
	"github.com/mesadeservicios/mesa/mailin"
	"github.com/mesadeservicios/mesa/mailout"
	"github.com/mesadeservicios/mesa/rules"
	"github.com/mesadeservicios/mesa/sla"
	"github.com/mesadeservicios/mesa/ticket"
)

// pressure is the store's view of addr for the hold rule, now.
func (e *staffEnv) pressure(addr string) (bool, int, int, error) {
	return e.db.MailPressure(context.Background(), addr, e.now.Add(-30*24*time.Hour), e.now.Add(-time.Hour), 10, e.now.Add(-24*time.Hour), 40)
}

// withConfig rebuilds the env's desk over the same store with cfg.
func (e *staffEnv) withConfig(t *testing.T, cfg desk.Config) {
	t.Helper()
	eng, _ := rules.Default()
	cal, _ := sla.New(sla.Options{})
	r, err := mailout.New(mailout.Options{DeskName: "Mesa de Servicios", From: "mesa@entidad.gov.co", PublicURL: "https://mesa.x",
		Catalogue: eng, CommandHelp: desk.CommandHelp})
	if err != nil {
		t.Fatal(err)
	}
	cfg.RepliesPerHour, cfg.RepliesPerDay, cfg.Addresses = 10, 40, []string{"mesa@entidad.gov.co"}
	e.d, err = desk.New(desk.Deps{Files: mailin.Decoder{}, Store: e.db, Mail: r, Calendar: cal, Classifier: eng, Logger: slog.New(slog.DiscardHandler),
		Now: func() time.Time { return e.now }, Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
}

// Positive controls: under each provider a properly authenticated
// command and answer work, and the same mail without the provider's
// proof is an unverified note.
func TestAuthenticatedCommandUnderEachProvider(t *testing.T) {
	const tenant = "11111111-2222-3333-4444-555555555555"
	for _, tc := range []struct {
		name    string
		policy  auth.Policy
		good    []string
		bad     []string
		applies bool
	}{
		{"rfc8601", auth.Policy{TrustedAuthServID: "mx.entidad.gov.co"},
			[]string{"Authentication-Results: mx.entidad.gov.co; dmarc=pass (p=none dis=none) header.from=entidad.gov.co"},
			[]string{"Authentication-Results: mx.entidad.gov.co; dmarc=fail header.from=entidad.gov.co"}, true},
		{"microsoft365 internal", auth.Policy{Provider: auth.Microsoft365, TenantID: tenant},
			[]string{"X-MS-Exchange-Organization-AuthAs: Internal", "X-MS-Exchange-CrossTenant-Id: " + tenant},
			[]string{"X-MS-Exchange-Organization-AuthAs: Anonymous", "Authentication-Results: spf=fail; dmarc=fail action=quarantine header.from=entidad.gov.co;compauth=fail reason=000"}, true},
		{"microsoft365 eop", auth.Policy{Provider: auth.Microsoft365},
			[]string{"Authentication-Results: spf=pass smtp.mailfrom=entidad.gov.co; dkim=pass header.d=entidad.gov.co;dmarc=pass action=none header.from=entidad.gov.co;compauth=pass reason=100"},
			[]string{"Authentication-Results: dmarc=pass action=none header.from=entidad.gov.co;compauth=fail reason=001"}, true},
		{"google", auth.Policy{Provider: auth.Google},
			[]string{"Authentication-Results: mx.google.com; dkim=pass header.i=@entidad.gov.co header.s=google; dmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=entidad.gov.co"},
			[]string{"Authentication-Results: mx.google.com; dmarc=fail (p=QUARANTINE) header.from=entidad.gov.co"}, true},
		{"none", auth.Policy{Provider: auth.None},
			[]string{"X-MS-Exchange-Organization-AuthAs: Internal", "Authentication-Results: mx.entidad.gov.co; dmarc=pass header.from=entidad.gov.co"},
			nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newStaffEnv(t)
			e.withConfig(t, desk.Config{Auth: tc.policy})
			ctx := context.Background()
			for _, proof := range [][]string{tc.bad, tc.good} {
				if proof == nil {
					continue
				}
				good := &proof[0] == &tc.good[0]
				tk, assigned := e.ticketFor(t, "ana@entidad.gov.co")
				before := len(e.outbox(t, "ana@entidad.gov.co"))
				e.raw(t, append([]string{"From: " + tk.Assignee, "To: mesa@entidad.gov.co",
					"Subject: RE: " + assigned.Subject, "In-Reply-To: <" + assigned.MessageID + ">"}, proof...),
					"#criticidad alta\nYa quedó habilitada su VPN.")
				after, _ := e.db.TicketByNumber(ctx, tk.Number)
				relayed := len(e.outbox(t, "ana@entidad.gov.co")) > before
				want := good && tc.applies
				if (after.Criticality == ticket.Alta) != want || relayed != want || (after.FirstResponseAt != nil) != want {
					t.Errorf("good proof %v: command applied %v, answer relayed %v, first response %v; want all %v",
						good, after.Criticality == ticket.Alta, relayed, after.FirstResponseAt != nil, want)
				}
			}
		})
	}
}

// With VERP, a report addressed to a mail's return path proves that mail;
// a return path with a wrong MAC, or another row's return path for a
// recipient that row was not sent to, proves nothing. A proven bounce of a
// staff address alerts the owners.
func TestVERPBounce(t *testing.T) {
	e := newStaffEnv(t)
	ctx := context.Background()
	verp := auth.VERP{Address: "mesa@entidad.gov.co", Secret: []byte("0123456789abcdef")}
	e.withConfig(t, desk.Config{TrustedAuthServID: "mx.entidad.gov.co", VERP: verp})
	if err := e.db.SavePerson(ctx, &ticket.Person{Email: "olga@entidad.gov.co", Role: ticket.RoleOwner, Active: true}); err != nil {
		t.Fatal(err)
	}
	_, _ = e.ticketFor(t, "ana@entidad.gov.co")
	rows, _ := e.db.DueMail(ctx, e.now.Add(time.Hour), 100)
	var toCarlos, toAna *ticket.Outgoing
	for _, m := range rows {
		switch m.To[0] {
		case "carlos@entidad.gov.co":
			toCarlos = m
		case "ana@entidad.gov.co":
			toAna = m
		}
	}
	report := func(to, rcpt string) desk.IntakeResult {
		return e.raw(t, []string{"From: MAILER-DAEMON@mx.entidad.gov.co", "To: " + to, "Subject: Undelivered Mail Returned to Sender",
			"MIME-Version: 1.0", "Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\""},
			"--b\r\nContent-Type: text/plain\r\n\r\nNo.\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"+
				"Final-Recipient: rfc822; "+rcpt+"\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n--b--")
	}
	forged := strings.Replace(verp.ReturnPath(toCarlos.ID), ".", "x", 3)
	for _, c := range []struct{ to, rcpt string }{
		{forged, "carlos@entidad.gov.co"},
		{verp.ReturnPath(toAna.ID), "carlos@entidad.gov.co"},
		{verp.ReturnPath(toCarlos.ID + 1000), "carlos@entidad.gov.co"},
	} {
		if res := report(c.to, c.rcpt); res.Disposition == desk.DispBounce || e.bounces(t, "carlos@entidad.gov.co") {
			t.Errorf("report to %s for %s: got %+v, want nothing marked", c.to, c.rcpt, res)
		}
	}
	if res := report(verp.ReturnPath(toCarlos.ID), "carlos@entidad.gov.co"); res.Disposition != desk.DispBounce || !e.bounces(t, "carlos@entidad.gov.co") {
		t.Fatalf("report to the return path of the mail to carlos: got %+v, want carlos marked", res)
	}
	alerts := e.outbox(t, "olga@entidad.gov.co")
	if len(alerts) != 1 || !strings.Contains(alerts[0].Subject, "carlos@entidad.gov.co") || !strings.Contains(alerts[0].Text, "5.1.1") {
		t.Fatalf("operator alert: got %d mails", len(alerts))
	}
}

// The loop throttle still protects: a no-reply sender's requests are
// answered (an acknowledgement, then "added to your ticket" as the
// repeats join the first) up to the hourly limit, then held.
func TestLoopThrottleHoldsAnswersToAutomaticMail(t *testing.T) {
	e := newStaffEnv(t)
	ctx := context.Background()
	for i := 0; i < 12; i++ {
		e.mail(t, "no-reply@proveedor.example", "Pedido "+strings.Repeat("x", i), "", "", "Su pedido número "+strings.Repeat("1", i+1)+" fue despachado.")
	}
	rows, err := e.db.OutboxEntries(ctx, []ticket.OutboxState{ticket.OutboxHeld}, 0)
	if err != nil {
		t.Fatal(err)
	}
	held := 0
	for _, r := range rows {
		if len(r.To) == 1 && r.To[0] == "no-reply@proveedor.example" {
			held++
		}
	}
	if sent := len(e.outbox(t, "no-reply@proveedor.example")); held != 2 || sent != 10 {
		t.Errorf("answers to the no-reply sender: got %d held, %d due, want 2 held after the hourly limit of 10", held, sent)
	}
}
