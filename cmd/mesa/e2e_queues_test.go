package main

import (
	"context"
	"fmt"
	"mime"
	"net/smtp"
	"sort"
	"strings"
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

// TestDeskByMailEndToEnd works the desk by mail through Postfix and
// Dovecot (issue 16): a technician's #ausente keeps new tickets away from
// her; five "no hay red" mails make one mass-incident alert; #mis_casos
// answers with the queue in SLA order; the alert's #masivo line links the
// five and one #cerrar answers all five requesters.
func TestDeskByMailEndToEnd(t *testing.T) {
	requesters := []string{"r1", "r2", "r3", "r4", "r5"}
	users := append([]string{"mesa", "ana", "carlos", "diana", "marta"}, requesters...)
	dc := testimap.StartWithLMTP(t, users...)
	pf := testimap.StartPostfix(t, dc, "entidad.gov.co", users...)
	cfg, err := config.Load("", loopbackEnv(testpg.NewDatabase(t), dc.Addr, pf.Addr, "MESA_AUTH_TRUSTED_AUTHSERV_ID=mx.entidad.gov.co",
		"MESA_JOBS_SLA_CHECK=", "MESA_JOBS_SURVEYS="))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Groups = []config.Group{{Key: "redes", Name: "Redes"}, {Key: "infraestructura", Name: "Infraestructura"}}
	cfg.People = []config.Person{
		{Email: "carlos@entidad.gov.co", Name: "Carlos", Role: "technician", Level: 1, Groups: []string{"redes", "infraestructura"}},
		{Email: "diana@entidad.gov.co", Name: "Diana", Role: "technician", Level: 1, Groups: []string{"redes"}},
		{Email: "marta@entidad.gov.co", Name: "Marta", Role: "manager", Groups: []string{"redes"}}}
	app, _, stop := startApp(t, cfg)
	defer stop()

	const authOK = "Authentication-Results: mx.entidad.gov.co; dkim=pass header.d=entidad.gov.co; dmarc=pass header.from=entidad.gov.co\r\n"
	n := 0
	send := func(from, subject, extra, body string) {
		t.Helper()
		n++
		msg := fmt.Sprintf("From: %s@entidad.gov.co\r\nTo: mesa@entidad.gov.co\r\nSubject: %s\r\nMessage-ID: <q%d@entidad.gov.co>\r\n%s"+
			"Content-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n", from, subject, n, extra, body)
		if err := smtp.SendMail(pf.Addr, nil, from+"@entidad.gov.co", []string{"mesa@entidad.gov.co"}, []byte(msg)); err != nil {
			t.Fatalf("sending through postfix: %v", err)
		}
	}

	// Diana is away for a week: no new tickets for her.
	bog, _ := time.LoadLocation("America/Bogota")
	send("diana", "Vacaciones", authOK, "#ausente hasta "+time.Now().In(bog).AddDate(0, 0, 7).Format(time.DateOnly))
	if got := waitMail(t, dc.Addr, "diana", "Resultado de sus comandos"); !strings.Contains(got.Text, "✔ #ausente") {
		t.Fatalf("#ausente answer:\n%s", got.Text)
	}

	// Ana's VPN (infraestructura), then five people without network.
	send("ana", "No conecta la VPN", "", "Desde la casa el FortiClient no conecta.")
	anaAck := waitMail(t, dc.Addr, "ana", "Recibido")
	for i, r := range requesters {
		send(r, "No hay red", "", fmt.Sprintf("En la oficina %d del piso 3 no hay red desde hace un rato.", 300+i))
	}
	var numbers []string
	numberOf := map[string]string{} // requester → ticket: mail may arrive in any order
	for _, r := range requesters {
		ack := waitMail(t, dc.Addr, r, "Recibido")
		num, ok := ticket.FindNumber(ack.Subject, "MS")
		if !ok {
			t.Fatalf("no number in %q", ack.Subject)
		}
		numbers = append(numbers, num.String())
		numberOf[r] = num.String()
	}
	sort.Strings(numbers)
	for _, num := range numbers {
		tk := waitTicket(t, app, num, func(*ticket.Ticket, []ticket.Event) bool { return true })
		if tk.Category != "ti.redes" || tk.Assignee != "carlos@entidad.gov.co" {
			t.Errorf("%s: category %s, assignee %q; want ti.redes to carlos (diana is away)", num, tk.Category, tk.Assignee)
		}
	}

	// One alert to each of the group's technicians and managers.
	alert := waitMail(t, dc.Addr, "carlos", "incidente masivo")
	waitMail(t, dc.Addr, "marta", "incidente masivo")
	for _, num := range numbers {
		if !strings.Contains(alert.Text, num) {
			t.Errorf("the alert lacks %s:\n%s", num, alert.Text)
		}
	}

	// #mis_casos: carlos's six tickets, by SLA risk (due time).
	send("carlos", "Mis casos", authOK, "#mis_casos")
	queue := waitMail(t, dc.Addr, "carlos", "Sus casos abiertos")
	anaNum, _ := ticket.FindNumber(anaAck.Subject, "MS")
	var mine []*ticket.Ticket
	for _, num := range append([]string{anaNum.String()}, numbers...) {
		tk, err := app.db.TicketByNumber(context.Background(), num)
		if err != nil {
			t.Fatal(err)
		}
		mine = append(mine, tk)
	}
	sort.SliceStable(mine, func(i, j int) bool { return mine[i].DueAt.Before(*mine[j].DueAt) })
	last := -1
	for _, tk := range mine {
		at := strings.Index(queue.Text, tk.Number)
		if at < 0 || at < last {
			t.Fatalf("queue not in SLA order (%s due %v at %d, after %d):\n%s", tk.Number, tk.DueAt.In(bog), at, last, queue.Text)
		}
		last = at
	}

	// The alert's line links the five under the first; one closure answers all.
	line := ""
	for _, l := range strings.Split(alert.Text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "#masivo ") {
			line = strings.TrimSpace(l)
		}
	}
	if line == "" {
		t.Fatalf("no #masivo line in the alert:\n%s", alert.Text)
	}
	reply := "In-Reply-To: <" + alert.MessageID + ">\r\n" + authOK
	send("carlos", mime.QEncoding.Encode("utf-8", "RE: "+alert.Subject), reply, line)
	if got := waitMail(t, dc.Addr, "carlos", "Resultado de comandos"); !strings.Contains(got.Text, "✔ #masivo") {
		t.Fatalf("#masivo answer:\n%s", got.Text)
	}
	send("carlos", mime.QEncoding.Encode("utf-8", "RE: "+alert.Subject), reply, "#cerrar Se reinició el switch del piso 3.")
	for _, r := range requesters {
		closed := waitMail(t, dc.Addr, r, "Caso cerrado")
		if !strings.Contains(closed.Text, "Se reinició el switch del piso 3.") || !strings.Contains(closed.Subject, numberOf[r]) {
			t.Errorf("%s's closure %q:\n%s", r, closed.Subject, closed.Text)
		}
	}
	for _, num := range numbers {
		waitTicket(t, app, num, func(tk *ticket.Ticket, _ []ticket.Event) bool { return tk.State == ticket.Cerrado })
	}
	if got := countMail(t, dc.Addr, "carlos", "incidente masivo"); got != 1 {
		t.Errorf("mass-incident alerts to carlos: got %d, want 1", got)
	}
}

// countMail counts the messages whose subject contains want in user's
// INBOX.
func countMail(t *testing.T, addr, user, want string) int {
	t.Helper()
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(user, user+"pw").Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	var all imap.UIDSet
	all.AddRange(1, 0)
	section := &imap.FetchItemBodySection{Peek: true}
	msgs, err := c.Fetch(all, &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{section}}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range msgs {
		if in, _ := mailin.Parse(m.FindBodySection(section)); in != nil && strings.Contains(in.Subject, want) {
			n++
		}
	}
	return n
}
