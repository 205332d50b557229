package main

import (
	"encoding/json"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/mesadeservicios/mesa/config"
	"github.com/mesadeservicios/mesa/internal/testimap"
	"github.com/mesadeservicios/mesa/internal/testpg"
	"github.com/mesadeservicios/mesa/internal/testsmtp"
	"github.com/mesadeservicios/mesa/store"
	"github.com/mesadeservicios/mesa/ticket"
)

// TestSeveralMailboxes: two Dovecot mailboxes (TI and Operaciones) and a
// third whose password is wrong, on PostgreSQL. The failing one does not
// stop the others: each good mailbox's mail becomes a ticket, Operaciones'
// unclassifiable mail goes to its default group, every mailbox has its own
// lease, /metrics has each under the label mailbox, and /readyz is not ready
// and names the mailbox that was never reached.
func TestSeveralMailboxes(t *testing.T) {
	dc := testimap.Start(t, "mesa", "operaciones")
	sink := testsmtp.Start(t, "")
	cfg, err := config.Load("", loopbackEnv(testpg.NewDatabase(t), "127.0.0.1:1", sink.Addr, "MESA_IMAP_HOST="))
	if err != nil {
		t.Fatal(err)
	}
	host, p, _ := net.SplitHostPort(dc.Addr)
	port, _ := strconv.Atoi(p)
	box := func(name, addr, user, password string) config.Mailbox {
		m := config.Mailbox{Name: name, Address: addr, IMAP: config.Default().IMAP}
		m.Host, m.Port, m.TLS, m.InsecurePlaintext, m.Username, m.Password = host, port, "none", true, user, password
		return m
	}
	ops := box("operaciones", "operaciones@entidad.gov.co", "operaciones", "operacionespw")
	ops.DefaultGroup = "operaciones"
	cfg.Mailboxes = []config.Mailbox{box("ti", "mesa@entidad.gov.co", "mesa", "mesapw"), ops,
		box("rota", "regional@entidad.gov.co", "mesa", "equivocada")}
	cfg.Groups = []config.Group{{Key: "operaciones", Name: "Operaciones"}, {Key: "infraestructura", Name: "Infraestructura"}}
	cfg.Desk.Addresses = []string{"mesa@entidad.gov.co", "operaciones@entidad.gov.co", "regional@entidad.gov.co"}
	cfg.Rules.ModelFile = "none"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	app, ctx, stop := startApp(t, cfg)
	defer stop()

	ti := loginMesa(t, dc.Addr)
	defer ti.Close()
	appendMail(t, ti, "From: Ana <ana@entidad.gov.co>\r\nTo: mesa@entidad.gov.co\r\nSubject: No conecta la VPN\r\nMessage-ID: <mb-1@entidad.gov.co>\r\n"+
		"Content-Type: text/plain; charset=utf-8\r\n\r\nDesde la casa el FortiClient no conecta.\r\n")
	oc := loginUser(t, dc.Addr, "operaciones")
	defer oc.Close()
	appendMail(t, oc, "From: Luis <luis@entidad.gov.co>\r\nTo: operaciones@entidad.gov.co\r\nSubject: Hola\r\nMessage-ID: <mb-2@entidad.gov.co>\r\n"+
		"Content-Type: text/plain; charset=utf-8\r\n\r\nQuisiera saber algo.\r\n")
	var tks []*ticket.Ticket
	waitFor(t, "a ticket from each good mailbox", func() bool {
		tks, _ = app.db.ListTickets(ctx, store.TicketFilter{})
		return len(tks) == 2
	})
	bySubject := map[string]*ticket.Ticket{}
	for _, tk := range tks {
		bySubject[tk.Subject] = tk
	}
	if tk := bySubject["No conecta la VPN"]; tk == nil || tk.Category != "ti.vpn" {
		t.Errorf("the TI mailbox's ticket: %+v", tk)
	}
	if tk := bySubject["Hola"]; tk == nil || tk.Category != ticket.Unclassified || tk.Group != "operaciones" {
		t.Errorf("the Operaciones mailbox's unclassified ticket: got %+v, want sin_clasificar in its default group operaciones", tk)
	}
	for _, tk := range tks {
		if evs, _ := app.db.Events(ctx, tk.ID); len(evs) == 0 || !strings.Contains(evs[0].Data, `"mailbox":"`) {
			t.Errorf("%s: the created event does not say which mailbox: %v", tk.Number, evs)
		}
	}

	waitFor(t, "the good mailboxes reached", func() bool {
		_, checks := readyz(t, app)
		return checks["imap ti"] == "ok" && checks["imap operaciones"] == "ok"
	})
	if status, checks := readyz(t, app); status != "not_ready" || checks["imap rota"] != "unreached" {
		t.Errorf("readyz: got %s %v, want not_ready because rota (unreached) was never reached", status, checks)
	}
	metrics := get(t, "http://"+app.AdminAddr()+"/metrics")
	for _, want := range []string{`mesa_imap_connected{mailbox="ti"} 1`, `mesa_imap_connected{mailbox="operaciones"} 1`,
		`mesa_imap_connected{mailbox="rota"} 0`, `mesa_imap_events_total{event="handled",mailbox="ti"} 1`,
		`mesa_imap_events_total{event="handled",mailbox="operaciones"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	// The good mailboxes keep working while the broken one retries.
	appendMail(t, ti, "From: Ana <ana@entidad.gov.co>\r\nTo: mesa@entidad.gov.co\r\nSubject: La impresora no imprime\r\nMessage-ID: <mb-3@entidad.gov.co>\r\n"+
		"Content-Type: text/plain; charset=utf-8\r\n\r\nLa impresora del piso 3 no imprime.\r\n")
	waitFor(t, "the third ticket", func() bool {
		tks, _ = app.db.ListTickets(ctx, store.TicketFilter{})
		return len(tks) == 3
	})
	// Without the broken mailbox the desk is ready.
	stop()
	cfg.Mailboxes = cfg.Mailboxes[:2]
	app, _, stop = startApp(t, cfg)
	waitFor(t, "ready with the two good mailboxes", func() bool {
		status, _ := readyz(t, app)
		return status == "ready"
	})
	stop()
}

// loginUser opens an IMAP session to Dovecot as user (password user+"pw").
func loginUser(t *testing.T, addr, user string) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Login(user, user+"pw").Wait(); err != nil {
		c.Close()
		t.Fatal(err)
	}
	return c
}

// readyz is the admin listener's /readyz answer: its status word and the
// word of each check.
func readyz(t *testing.T, app *App) (string, map[string]string) {
	t.Helper()
	var a struct {
		Status string            `json:"status"`
		Checks map[string]string `json:"checks"`
	}
	if err := json.Unmarshal([]byte(get(t, "http://"+app.AdminAddr()+"/readyz")), &a); err != nil {
		t.Fatalf("readyz: %v", err)
	}
	return a.Status, a.Checks
}
