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
	expires int // expires_in of the access tokens [3600]
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
	expires := ts.expires
	if expires == 0 {
		expires = 3600
	}
	json.NewEncoder(w).Encode(map[string]any{"access_token": "A1", "token_type": "Bearer", "expires_in": expires, "refresh_token": ts.refresh})
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

// TestSharedRefreshToken: two instances (two token sources over one
// database, each with its own file holding the first token) and a provider
// that accepts each refresh token once. The first rotates; the second,
// taking the mailbox over with its stale file, refreshes with the rotated
// token from the database; an operator's new grant written to a file wins.
func TestSharedRefreshToken(t *testing.T) {
	for _, driver := range []string{"sqlite", "postgres"} {
		t.Run(driver, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t, driver)
			ts := &tokenServer{refresh: "R1", expires: 1} // every Token() refreshes
			hs := httptest.NewServer(ts)
			defer hs.Close()
			dir := t.TempDir()
			source := func(file string) (func() error, string) {
				path := filepath.Join(dir, file)
				os.WriteFile(path, []byte("R1\n"), 0o600)
				src, err := mailin.OAuth2{TokenURL: hs.URL, ClientID: "mesa-app", ClientSecret: "s", RefreshTokenFile: path,
					Tokens: e.db, TokensName: "soporte"}.TokenSource(ctx)
				if err != nil {
					t.Fatal(err)
				}
				return func() error { _, err := src.Token(); return err }, path
			}
			first, firstFile := source("a")
			second, secondFile := source("b")
			read := func(path string) string { b, _ := os.ReadFile(path); return strings.TrimSpace(string(b)) }
			if err := first(); err != nil {
				t.Fatalf("first instance: %v", err)
			}
			if got := read(firstFile); got != "R2" {
				t.Errorf("first instance's file: got %q, want R2", got)
			}
			// The leader is killed; the standby's file still says R1, which
			// the provider no longer accepts.
			if err := second(); err != nil {
				t.Fatalf("standby after takeover: %v (it must use the rotated token from the database)", err)
			}
			if got, want := read(secondFile), "R3"; got != want {
				t.Errorf("standby's file: got %q, want %q", got, want)
			}
			// The first instance comes back with R2 in its file: stale too.
			if err := first(); err != nil {
				t.Fatalf("first instance again: %v", err)
			}
			if ts.n != 3 {
				t.Errorf("refreshes: got %d, want 3", ts.n)
			}
			// An operator authorises mesa again: a new grant in one file.
			ts.mu.Lock()
			ts.refresh = "G1"
			ts.mu.Unlock()
			os.WriteFile(secondFile, []byte("G1\n"), 0o600)
			if err := second(); err != nil {
				t.Fatalf("after the new grant: %v", err)
			}
			if err := first(); err != nil {
				t.Fatalf("the other instance after the new grant: %v", err)
			}
		})
	}
}
