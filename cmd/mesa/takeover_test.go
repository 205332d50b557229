package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/emersion/go-sasl"

	"github.com/mesadeservicios/mesa/config"
	"github.com/mesadeservicios/mesa/internal/testpg"
	"github.com/mesadeservicios/mesa/internal/testsmtp"
	"github.com/mesadeservicios/mesa/store"
	"github.com/mesadeservicios/mesa/ticket"
)

// rotatingTokens is an identity provider that accepts each refresh token
// once (strict rotation) and issues access tokens that expire at once, so
// every IMAP connection refreshes.
type rotatingTokens struct {
	mu      sync.Mutex
	refresh string
	n       int
	access  map[string]bool
	refused []string
}

func (ts *rotatingTokens) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	ts.mu.Lock()
	defer ts.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if got := r.Form.Get("refresh_token"); got != ts.refresh {
		ts.refused = append(ts.refused, got)
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"error":"invalid_grant","error_description":"AADSTS70000: refresh token already used"}`))
		return
	}
	ts.n++
	ts.refresh = fmt.Sprintf("R%d", ts.n+1)
	access := fmt.Sprintf("A%d", ts.n)
	ts.access[access] = true
	json.NewEncoder(w).Encode(map[string]any{"access_token": access, "token_type": "Bearer", "expires_in": 1, "refresh_token": ts.refresh})
}

func (ts *rotatingTokens) valid(tok string) bool {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.access[tok]
}

// xoauthSession accepts only XOAUTH2 with an access token the provider issued.
type xoauthSession struct {
	*imapmemserver.UserSession
	ts *rotatingTokens
}

func (s xoauthSession) AuthenticateMechanisms() []string { return []string{"XOAUTH2"} }

func (s xoauthSession) Authenticate(string) (sasl.Server, error) {
	return saslServer(func(resp []byte) ([]byte, bool, error) {
		parts := strings.Split(string(resp), "\x01")
		if len(parts) < 2 || !s.ts.valid(strings.TrimPrefix(parts[1], "auth=Bearer ")) {
			return nil, false, errors.New("bad token")
		}
		return nil, true, s.UserSession.Login("mesa", "mesapw")
	}), nil
}

type saslServer func([]byte) ([]byte, bool, error)

func (f saslServer) Next(resp []byte) ([]byte, bool, error) { return f(resp) }

// TestStandbyUsesRotatedToken is the acceptance case of the shared refresh
// token: two instances on one PostgreSQL database read one XOAUTH2 mailbox
// whose provider accepts each refresh token once. Both start with the same
// refresh token file. The leader reads a mail (rotating the token) and is
// stopped; the standby takes the mailbox over and reads the next mail with
// the rotated token from the database, not its file's spent one.
func TestStandbyUsesRotatedToken(t *testing.T) {
	u := imapmemserver.NewUser("mesa", "mesapw")
	u.Create("INBOX", nil)
	ts := &rotatingTokens{refresh: "R1", access: map[string]bool{}}
	hs := httptest.NewServer(ts)
	defer hs.Close()
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return xoauthSession{imapmemserver.NewUserSession(u), ts}, nil, nil
		},
		Caps: imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapUIDPlus: {}, imap.CapMove: {}, "AUTH=XOAUTH2": {}}, InsecureAuth: true,
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	host, p, _ := net.SplitHostPort(ln.Addr().String())
	port, _ := strconv.Atoi(p)
	sink := testsmtp.Start(t, "")
	dsn := testpg.NewDatabase(t)
	instance := func(file string) *config.Config {
		path := filepath.Join(t.TempDir(), file)
		os.WriteFile(path, []byte("R1\n"), 0o600)
		cfg, err := config.Load("", loopbackEnv(dsn, "127.0.0.1:1", sink.Addr, "MESA_IMAP_HOST="))
		if err != nil {
			t.Fatal(err)
		}
		m := config.Mailbox{Name: "ti", Address: "mesa@entidad.gov.co", IMAP: config.Default().IMAP}
		m.Host, m.Port, m.TLS, m.InsecurePlaintext, m.Username = host, port, "none", true, "mesa@entidad.gov.co"
		m.Auth, m.OAuth2TokenURL, m.OAuth2ClientID, m.OAuth2ClientSecret, m.OAuth2RefreshTokenFile = "xoauth2", hs.URL, "mesa-app", "s", path
		cfg.Mailboxes = []config.Mailbox{m}
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	mail := func(i int) {
		// One requester per mail: two alike mails of one requester are one
		// ticket (duplicates), and this test is about the mailbox.
		raw := fmt.Sprintf("From: Usuario %d <usuario%d@entidad.gov.co>\r\nTo: mesa@entidad.gov.co\r\nSubject: Solicitud %d\r\nMessage-ID: <tk-%d@entidad.gov.co>\r\n"+
			"Content-Type: text/plain; charset=utf-8\r\n\r\nLa impresora %d no imprime.\r\n", i, i, i, i, i)
		if _, err := u.Append("INBOX", bytes.NewReader([]byte(raw)), &imap.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	leader, _, stopLeader := startApp(t, instance("a"))
	mail(1)
	waitFor(t, "the leader's ticket", func() bool {
		tks, _ := leader.db.ListTickets(t.Context(), store.TicketFilter{})
		return len(tks) == 1
	})
	standby, _, stopStandby := startApp(t, instance("b"))
	defer stopStandby()
	stopLeader() // the leader goes away; the standby takes the lease
	mail(2)
	waitFor(t, "the standby's ticket", func() bool {
		tks, _ := standby.db.ListTickets(t.Context(), store.TicketFilter{})
		return len(tks) == 2
	})
	tks, _ := standby.db.ListTickets(t.Context(), store.TicketFilter{})
	subjects := map[string]bool{}
	for _, tk := range tks {
		subjects[tk.Subject] = tk.State == ticket.Abierto || tk.State == ticket.EnProceso
	}
	if !subjects["Solicitud 1"] || !subjects["Solicitud 2"] {
		t.Errorf("tickets: %v", subjects)
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if len(ts.refused) != 0 {
		t.Errorf("the provider refused refresh tokens %v: an instance used a spent token", ts.refused)
	}
	if ts.n < 2 {
		t.Errorf("refreshes: got %d, want at least one per instance", ts.n)
	}
}
