package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/emersion/go-sasl"

	"github.com/mesadeservicios/mesa/config"
	"github.com/mesadeservicios/mesa/internal/testgraph"
	"github.com/mesadeservicios/mesa/internal/testsmtp"
	"github.com/mesadeservicios/mesa/mailin"
	"github.com/mesadeservicios/mesa/store"
)

// graphMailbox is a mailboxes entry read through the fake Graph gs as user.
func graphMailbox(gs *testgraph.Server, name, user, secret string) config.Mailbox {
	m := config.Mailbox{Name: name, Address: user, IMAP: config.Default().IMAP}
	m.Provider, m.TenantID, m.ClientID, m.ClientSecret, m.User = "graph", gs.Tenant(), gs.ClientID(), secret, user
	m.GraphURL, m.OAuth2TokenURL, m.PollInterval = gs.URL(), gs.TokenURL(), time.Second
	return m
}

// TestGraphMailboxEndToEnd wires provider graph per mailbox and
// smtp.provider graph: a mail delivered to the Graph mailbox ti becomes a
// ticket, moves to Procesados, and its acknowledgement leaves by sendMail
// through ti's own client (within its four requests in flight). A second
// Graph mailbox, caja, whose app secret the tenant refuses, does not stop
// ti; it makes /readyz not ready and /metrics say so under its label, and
// the operator alert about it leaves through ti's sendMail.
func TestGraphMailboxEndToEnd(t *testing.T) {
	ctx := context.Background()
	gs := testgraph.New(t, testgraph.Options{ClientSecret: "s3cret"})
	gs.AddMailbox("mesa@entidad.gov.co")
	gs.SetLatency(5 * time.Millisecond)
	refused := testgraph.New(t, testgraph.Options{ClientSecret: "viejo"})
	refused.AddMailbox("caja@entidad.gov.co")
	refused.RefuseTokens("invalid_client")

	dbPath := filepath.Join(t.TempDir(), "mesa.db")
	cfg, err := config.Load("", loopbackEnv("sqlite:"+dbPath, "127.0.0.1:1", "127.0.0.1:1", "MESA_IMAP_HOST=", "MESA_SMTP_HOST=",
		"MESA_JOBS_OPERATOR_ALERTS=", "MESA_JOBS_SLA_CHECK="))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Mailboxes = []config.Mailbox{graphMailbox(gs, "ti", "mesa@entidad.gov.co", "s3cret"),
		graphMailbox(refused, "caja", "caja@entidad.gov.co", "viejo")}
	cfg.Desk.Addresses = []string{"mesa@entidad.gov.co", "caja@entidad.gov.co"}
	cfg.SMTP.Provider = "graph"
	cfg.People = []config.Person{{Email: "olga@entidad.gov.co", Name: "Olga", Role: "owner"}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	app, _, _ := startApp(t, cfg)

	gs.Deliver("mesa@entidad.gov.co", "inbox", []byte("From: Ana <ana@entidad.gov.co>\r\nTo: mesa@entidad.gov.co\r\n"+
		"Subject: No imprime la impresora del piso 3\r\nMessage-ID: <g-1@entidad.gov.co>\r\nDate: Mon, 16 Mar 2026 09:00:00 -0500\r\n"+
		"Content-Type: text/plain; charset=utf-8\r\n\r\nLa impresora del piso 3 no imprime.\r\n"), time.Now())
	sentTo := func(to, subject string) int {
		n := 0
		for _, raw := range gs.Sent("mesa@entidad.gov.co") {
			in, err := mailin.Parse(raw)
			if err == nil && len(in.To) > 0 && strings.EqualFold(in.To[0].Email, to) && strings.Contains(in.Subject, subject) {
				n++
			}
		}
		return n
	}
	waitFor(t, "the ticket, its move to Procesados and the acknowledgement by sendMail", func() bool {
		tks, _ := app.db.ListTickets(ctx, store.TicketFilter{})
		return len(tks) == 1 && len(gs.Messages("mesa@entidad.gov.co", "Procesados")) == 1 &&
			sentTo("ana@entidad.gov.co", "Recibido") == 1
	})
	if n := len(gs.Messages("mesa@entidad.gov.co", "Inbox")); n != 0 {
		t.Errorf("inbox after the ticket: got %d messages, want 0", n)
	}
	if n := gs.MaxInFlight("mesa@entidad.gov.co"); n > testgraph.MaxConcurrent {
		t.Errorf("requests in flight to the mailbox: got %d, want at most %d", n, testgraph.MaxConcurrent)
	}

	waitFor(t, "caja's refused grant recorded", func() bool {
		st, _ := app.db.MailboxStatuses(ctx)
		return st["caja"].NeedsReauthorization && !st["ti"].LastSuccess.IsZero()
	})
	if status, checks := readyz(t, app); status != "not_ready" || checks["imap caja"] != "reauthorize" || checks["imap ti"] != "ok" {
		t.Errorf("readyz: got %s %v, want not_ready because caja needs re-authorisation, ti ok", status, checks)
	}
	metrics := get(t, "http://"+app.AdminAddr()+"/metrics")
	for _, want := range []string{`mesa_imap_needs_reauthorization{mailbox="caja"} 1`, `mesa_imap_needs_reauthorization{mailbox="ti"} 0`,
		`mesa_imap_connected{mailbox="ti"} 1`, `mesa_imap_connected{mailbox="caja"} 0`, `mesa_imap_events_total{event="handled",mailbox="ti"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	for range 2 { // once however often the job runs
		if _, err := app.desk.OperatorAlerts(ctx); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the re-authorisation alert by sendMail", func() bool {
		return sentTo("olga@entidad.gov.co", "el buzón caja necesita una nueva autorización") == 1
	})
	time.Sleep(500 * time.Millisecond)
	if n := sentTo("olga@entidad.gov.co", "caja"); n != 1 {
		t.Errorf("alerts about caja: got %d, want 1", n)
	}
	if n := len(refused.Sent("caja@entidad.gov.co")); n != 0 {
		t.Errorf("mail sent as caja: got %d, want 0 (smtp.provider graph sends as the mailbox serving smtp.from)", n)
	}
}

// jwtTokens is Google's token endpoint for the JWT bearer grant (RFC 7523):
// it verifies the assertion's signature with the service account's key
// and grants a token to the subject it names.
type jwtTokens struct {
	pub *rsa.PublicKey
	mu  sync.Mutex
	sub []string
	bad []string
}

func (s *jwtTokens) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	s.mu.Lock()
	defer s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	parts := strings.Split(r.Form.Get("assertion"), ".")
	var claims map[string]any
	ok := r.Form.Get("grant_type") == "urn:ietf:params:oauth:grant-type:jwt-bearer" && len(parts) == 3
	if ok {
		cb, _ := base64.RawURLEncoding.DecodeString(parts[1])
		sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
		sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
		ok = json.Unmarshal(cb, &claims) == nil && rsa.VerifyPKCS1v15(s.pub, crypto.SHA256, sum[:], sig) == nil &&
			claims["scope"] == mailin.GoogleMailScope
	}
	if !ok {
		s.bad = append(s.bad, r.Form.Get("assertion"))
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"error":"invalid_grant","error_description":"Invalid JWT Signature."}`))
		return
	}
	sub, _ := claims["sub"].(string)
	s.sub = append(s.sub, sub)
	json.NewEncoder(w).Encode(map[string]any{"access_token": "ya29." + sub, "expires_in": 3599, "token_type": "Bearer"})
}

// googleSession accepts only XOAUTH2 for mesa@entidad.gov.co with the
// token Google granted to that subject.
type googleSession struct{ *imapmemserver.UserSession }

func (s googleSession) AuthenticateMechanisms() []string { return []string{"XOAUTH2"} }

func (s googleSession) Authenticate(string) (sasl.Server, error) {
	return saslServer(func(resp []byte) ([]byte, bool, error) {
		if string(resp) != "user=mesa@entidad.gov.co\x01auth=Bearer ya29.mesa@entidad.gov.co\x01\x01" {
			return nil, false, imapserver.ErrAuthFailed
		}
		return nil, true, s.UserSession.Login("mesa", "mesapw")
	}), nil
}

// TestGoogleServiceAccountMailbox wires oauth2_provider google: mesa gets
// a token for the mailbox by the service account's JWT bearer grant (the
// mailbox as subject) and uses it for IMAP XOAUTH2 and SMTP XOAUTH2.
func TestGoogleServiceAccountMailbox(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ts := &jwtTokens{pub: &key.PublicKey}
	hs := httptest.NewServer(ts)
	defer hs.Close()
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	keyJSON, _ := json.Marshal(map[string]string{"type": "service_account", "project_id": "mesa-entidad", "private_key_id": "k1",
		"client_email": "mesa-lector@mesa-entidad.iam.gserviceaccount.com", "client_id": "1",
		"private_key": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), "token_uri": hs.URL + "/token"})
	keyFile := filepath.Join(t.TempDir(), "sa.json")
	if err := os.WriteFile(keyFile, keyJSON, 0o600); err != nil {
		t.Fatal(err)
	}

	u := imapmemserver.NewUser("mesa", "mesapw")
	u.Create("INBOX", nil)
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return googleSession{imapmemserver.NewUserSession(u)}, nil, nil
		},
		Caps: imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapUIDPlus: {}, imap.CapMove: {}, "AUTH=XOAUTH2": {}}, InsecureAuth: true,
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	sink := testsmtp.Start(t, "")
	sink.Bearer = func(user, token string) bool {
		return user == "mesa@entidad.gov.co" && token == "ya29.mesa@entidad.gov.co"
	}

	host, p, _ := net.SplitHostPort(ln.Addr().String())
	port, _ := strconv.Atoi(p)
	cfg, err := config.Load("", loopbackEnv("sqlite:"+filepath.Join(t.TempDir(), "mesa.db"), ln.Addr().String(), sink.Addr,
		"MESA_IMAP_USERNAME=mesa@entidad.gov.co", "MESA_IMAP_PASSWORD=", "MESA_IMAP_AUTH=xoauth2", "MESA_IMAP_OAUTH2_PROVIDER=google",
		"MESA_IMAP_OAUTH2_SERVICE_ACCOUNT_FILE="+keyFile, "MESA_IMAP_PORT="+strconv.Itoa(port), "MESA_IMAP_HOST="+host,
		"MESA_SMTP_AUTH=xoauth2", "MESA_SMTP_USERNAME=mesa@entidad.gov.co"))
	if err != nil {
		t.Fatal(err)
	}
	app, _, _ := startApp(t, cfg)
	raw := "From: Ana <ana@entidad.gov.co>\r\nTo: mesa@entidad.gov.co\r\nSubject: El correo no sincroniza\r\n" +
		"Message-ID: <gg-1@entidad.gov.co>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nEl celular no sincroniza el correo.\r\n"
	if _, err := u.Append("INBOX", bytes.NewReader([]byte(raw)), &imap.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the ticket by IMAP XOAUTH2 and its acknowledgement by SMTP XOAUTH2", func() bool {
		tks, _ := app.db.ListTickets(t.Context(), store.TicketFilter{})
		return len(tks) == 1 && len(sink.Messages()) == 1
	})
	if got := sink.Authenticated(); len(got) == 0 || got[0] != "XOAUTH2:mesa@entidad.gov.co" {
		t.Errorf("SMTP authentication: got %v, want XOAUTH2:mesa@entidad.gov.co", got)
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if len(ts.bad) != 0 {
		t.Errorf("the token endpoint refused %d assertions", len(ts.bad))
	}
	if len(ts.sub) == 0 || ts.sub[0] != "mesa@entidad.gov.co" {
		t.Errorf("subjects granted: got %v, want the mailbox mesa@entidad.gov.co", ts.sub)
	}
}
