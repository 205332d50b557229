package mailin_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/emersion/go-sasl"

	"github.com/mesadeservicios/mesa/mailin"
)

// oauthSession accepts only XOAUTH2 with the expected bearer token.
type oauthSession struct {
	*imapmemserver.UserSession
	want string
}

func (s oauthSession) AuthenticateMechanisms() []string { return []string{"XOAUTH2"} }

func (s oauthSession) Authenticate(mech string) (sasl.Server, error) {
	return saslFunc(func(resp []byte) ([]byte, bool, error) {
		parts := strings.Split(string(resp), "\x01")
		if len(parts) < 2 || parts[0] != "user=mesa@entidad.gov.co" || parts[1] != "auth=Bearer "+s.want {
			return nil, false, errors.New("bad token")
		}
		return nil, true, s.UserSession.Login("mesa", "mesapw")
	}), nil
}

type saslFunc func([]byte) ([]byte, bool, error)

func (f saslFunc) Next(resp []byte) ([]byte, bool, error) { return f(resp) }

// tokenServer rotates the refresh token on every use, or refuses the grant.
type tokenServer struct {
	mu      sync.Mutex
	refresh string
	n       int
	refuse  bool
}

func (ts *tokenServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	ts.mu.Lock()
	defer ts.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if ts.refuse || r.Form.Get("refresh_token") != ts.refresh || r.Form.Get("client_id") != "mesa-app" {
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"error":"invalid_grant","error_description":"AADSTS70000: the grant is expired"}`))
		return
	}
	ts.n++
	ts.refresh = "R" + string(rune('0'+ts.n+1))
	json.NewEncoder(w).Encode(map[string]any{"access_token": "A1", "token_type": "Bearer", "expires_in": 3600, "refresh_token": ts.refresh})
}

func TestXOAUTH2RefreshRotation(t *testing.T) {
	u := newUser(t, "INBOX")
	put(t, u, message(1, "VPN caída", "No conecta la VPN."))
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return oauthSession{imapmemserver.NewUserSession(u), "A1"}, nil, nil
		},
		Caps: imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapUIDPlus: {}, imap.CapMove: {}, "AUTH=XOAUTH2": {}}, InsecureAuth: true,
	})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	ts := &tokenServer{refresh: "R1"}
	hs := httptest.NewServer(ts)
	defer hs.Close()
	file := filepath.Join(t.TempDir(), "refresh")
	os.WriteFile(file, []byte("R1\n"), 0o600)
	src, err := mailin.OAuth2{TokenURL: hs.URL, ClientID: "mesa-app", ClientSecret: "s", RefreshTokenFile: file}.TokenSource(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, "sqlite")
	e.poller(t, ln.Addr().String(), func(o *mailin.Options) { o.Username, o.Tokens = "mesa@entidad.gov.co", src })
	waitFor(t, 10*time.Second, "the ticket through XOAUTH2", func() bool { return len(e.tickets(t)) == 1 })
	b, _ := os.ReadFile(file)
	if got := strings.TrimSpace(string(b)); got != "R2" {
		t.Errorf("refresh token file: got %q, want the rotated R2", got)
	}
	if st, _ := os.Stat(file); st.Mode().Perm() != 0o600 {
		t.Errorf("refresh token file mode %v", st.Mode().Perm())
	}
}

func TestXOAUTH2InvalidGrant(t *testing.T) {
	u := newUser(t, "INBOX")
	srv := startMem(t, "", u, nil)
	ts := &tokenServer{refuse: true}
	hs := httptest.NewServer(ts)
	defer hs.Close()
	src, err := mailin.OAuth2{TokenURL: hs.URL, ClientID: "mesa-app", ClientSecret: "s"}.TokenSource(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, "sqlite")
	p, _ := e.poller(t, srv.addr, func(o *mailin.Options) { o.Tokens = src })
	waitFor(t, 10*time.Second, "the re-authorisation alert", func() bool { return p.Stats().NeedsReauthorization })
	if !strings.Contains(p.Stats().LastError, "invalid_grant") {
		t.Errorf("last error: %q", p.Stats().LastError)
	}
	if e.logs.count("ALERT: the mailbox needs re-authorisation; intake is stopped until an operator renews the OAuth2 grant") < 1 {
		t.Error("no alert logged")
	}
}
