package mailin_test

import (
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
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"github.com/mesadeservicios/mesa/mailin"
)

// googleTokenServer is Google's token endpoint for the JWT bearer grant
// (RFC 7523 §2.1): it verifies the assertion with the service account's
// public key and records its header and claims.
type googleTokenServer struct {
	pub *rsa.PublicKey
	url string

	mu     sync.Mutex
	header map[string]any
	claims map[string]any
	n      int
	errs   []string
}

func (s *googleTokenServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fail := func(msg string) {
		s.errs = append(s.errs, msg)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(400)
		w.Write([]byte(`{"error":"invalid_grant","error_description":"` + msg + `"}`))
	}
	r.ParseForm()
	if r.Form.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		fail("grant_type " + r.Form.Get("grant_type"))
		return
	}
	parts := strings.Split(r.Form.Get("assertion"), ".")
	if len(parts) != 3 {
		fail("not a JWT")
		return
	}
	var h, c map[string]any
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	cb, _ := base64.RawURLEncoding.DecodeString(parts[1])
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	json.Unmarshal(hb, &h)
	json.Unmarshal(cb, &c)
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(s.pub, crypto.SHA256, sum[:], sig); err != nil {
		fail("Invalid JWT Signature.")
		return
	}
	s.header, s.claims = h, c
	s.n++
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"access_token": "ya29.google", "expires_in": 3599, "token_type": "Bearer"})
}

func serviceAccountKey(t *testing.T, tokenURL string) ([]byte, *rsa.PrivateKey) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	b, _ := json.Marshal(map[string]string{"type": "service_account", "project_id": "mesa-entidad",
		"private_key_id": "0123456789abcdef", "client_email": "mesa-lector@mesa-entidad.iam.gserviceaccount.com",
		"client_id": "1234567890", "private_key": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"token_uri": tokenURL})
	return b, key
}

// TestGoogleServiceAccount: the JWT bearer assertion names the service
// account (iss), the mailbox (sub), https://mail.google.com/ (scope) and
// the token endpoint (aud), signed RS256 with the account's key; the token
// then opens the mailbox by IMAP XOAUTH2 and the message becomes a ticket.
func TestGoogleServiceAccount(t *testing.T) {
	ts := &googleTokenServer{}
	hs := httptest.NewServer(ts)
	defer hs.Close()
	ts.url = hs.URL + "/token"
	keyJSON, key := serviceAccountKey(t, ts.url)
	ts.pub = &key.PublicKey
	file := filepath.Join(t.TempDir(), "sa.json")
	os.WriteFile(file, keyJSON, 0o600)
	sa, err := mailin.LoadGoogleServiceAccount(file, "mesa@entidad.gov.co")
	if err != nil {
		t.Fatal(err)
	}
	src, err := sa.TokenSource(context.Background())
	if err != nil {
		t.Fatal(err)
	}

	u := newUser(t, "INBOX")
	put(t, u, message(1, "Correo caído", "No llega el correo."))
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return oauthSession{imapmemserver.NewUserSession(u), "ya29.google"}, nil, nil
		},
		Caps: imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapUIDPlus: {}, imap.CapMove: {}, "AUTH=XOAUTH2": {}}, InsecureAuth: true,
	})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	e := newEnv(t, "sqlite")
	e.poller(t, ln.Addr().String(), func(o *mailin.Options) { o.Username, o.Tokens = "mesa@entidad.gov.co", src })
	waitFor(t, 10*time.Second, "the ticket through a service account", func() bool { return len(e.tickets(t)) == 1 })

	ts.mu.Lock()
	defer ts.mu.Unlock()
	if len(ts.errs) > 0 {
		t.Fatalf("token endpoint refused: %v", ts.errs)
	}
	if ts.header["alg"] != "RS256" || ts.header["kid"] != "0123456789abcdef" {
		t.Errorf("assertion header: got %v, want RS256 with the key id", ts.header)
	}
	for k, want := range map[string]string{"iss": "mesa-lector@mesa-entidad.iam.gserviceaccount.com",
		"sub": "mesa@entidad.gov.co", "scope": "https://mail.google.com/", "aud": ts.url} {
		if ts.claims[k] != want {
			t.Errorf("claim %s: got %v, want %q", k, ts.claims[k], want)
		}
	}
	iat, _ := ts.claims["iat"].(float64)
	exp, _ := ts.claims["exp"].(float64)
	if exp-iat <= 0 || exp-iat > 3600 || time.Since(time.Unix(int64(iat), 0)) > time.Minute+10*time.Second {
		t.Errorf("assertion times: iat %v exp %v, want now and at most an hour", iat, exp)
	}
	if ts.n != 1 {
		t.Errorf("token requests: got %d, want 1 (the token is cached)", ts.n)
	}
}

func TestGoogleServiceAccountBadKeys(t *testing.T) {
	good, _ := serviceAccountKey(t, "http://127.0.0.1:1/token")
	var m map[string]string
	json.Unmarshal(good, &m)
	with := func(k, v string) []byte {
		c := map[string]string{}
		for a, b := range m {
			c[a] = b
		}
		c[k] = v
		b, _ := json.Marshal(c)
		return b
	}
	for _, tc := range []struct {
		name    string
		key     []byte
		subject string
	}{
		{"not JSON", []byte("{"), "mesa@entidad.gov.co"},
		{"an OAuth client, not a service account", with("type", "authorized_user"), "mesa@entidad.gov.co"},
		{"no private key", with("private_key", ""), "mesa@entidad.gov.co"},
		{"a broken private key", with("private_key", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), "mesa@entidad.gov.co"},
		{"no subject", good, " "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := (mailin.GoogleServiceAccount{KeyJSON: tc.key, Subject: tc.subject}).TokenSource(context.Background()); err == nil {
				t.Error("got no error")
			}
		})
	}
	if _, err := mailin.LoadGoogleServiceAccount(filepath.Join(t.TempDir(), "missing.json"), "x@y.co"); err == nil {
		t.Error("a missing key file: got no error")
	}
}
