package mailin_test

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/internal/testgraph"
	"github.com/mesadeservicios/mesa/mailin"
)

// TestGraphCertificateAssertion: the client assertion is RS256 with the
// certificate's x5t, aud the token URL, iss and sub the client id, valid
// five minutes, and the fake's token endpoint verifies its signature.
func TestGraphCertificateAssertion(t *testing.T) {
	cert, certPEM, keyPEM := testgraph.NewCertificate(t)
	fake := testgraph.New(t, testgraph.Options{Certificate: cert})
	creds := mailin.GraphCredentials{TenantID: fake.Tenant(), ClientID: fake.ClientID(), TokenURL: fake.TokenURL(),
		CertificatePEM: certPEM, KeyPEM: keyPEM}
	ts, err := creds.TokenSource(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // a fresh assertion (new jti) every time
		tok, err := ts.Token()
		if err != nil || tok.AccessToken == "" {
			t.Fatalf("token with a certificate: got %v, %v", tok, err)
		}
	}
	a := fake.LastAssertion()
	thumb := sha1.Sum(cert.Raw)
	if a.Header["alg"] != "RS256" || a.Header["x5t"] != base64.RawURLEncoding.EncodeToString(thumb[:]) || a.Header["typ"] != "JWT" {
		t.Errorf("assertion header: got %v", a.Header)
	}
	if a.Claims["aud"] != fake.TokenURL() || a.Claims["iss"] != fake.ClientID() || a.Claims["sub"] != fake.ClientID() {
		t.Errorf("assertion claims: got %v", a.Claims)
	}
	if exp, nbf := a.Claims["exp"].(float64), a.Claims["nbf"].(float64); exp-nbf != 300 {
		t.Errorf("assertion lifetime: got %vs, want 300s", exp-nbf)
	}
	if exp, err := creds.CertificateExpiry(); err != nil || !exp.Equal(cert.NotAfter) {
		t.Errorf("certificate expiry: got %v, %v; want %v", exp, err, cert.NotAfter)
	}

	// Another key, or a key that is not the certificate's, is refused.
	_, otherCert, otherKey := testgraph.NewCertificate(t)
	if _, err := (mailin.GraphCredentials{TenantID: "x", ClientID: "y", CertificatePEM: certPEM, KeyPEM: otherKey}).TokenSource(context.Background()); err == nil {
		t.Error("a key that is not the certificate's was accepted")
	}
	ts, err = mailin.GraphCredentials{TenantID: fake.Tenant(), ClientID: fake.ClientID(), TokenURL: fake.TokenURL(),
		CertificatePEM: otherCert, KeyPEM: otherKey}.TokenSource(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.Token(); err == nil || !strings.Contains(err.Error(), "invalid_client") {
		t.Errorf("an unregistered certificate: got %v, want invalid_client", err)
	}
	for _, bad := range []mailin.GraphCredentials{
		{TenantID: "t", ClientID: "c"},
		{TenantID: "t", ClientSecret: "s"},
		{TenantID: "t", ClientID: "c", ClientSecret: "s", CertificatePEM: certPEM, KeyPEM: keyPEM},
		{TenantID: "t", ClientID: "c", CertificatePEM: []byte("not pem"), KeyPEM: keyPEM},
	} {
		if _, err := bad.TokenSource(context.Background()); err == nil {
			t.Errorf("credentials %+v: got no error", bad)
		}
	}
}

// TestGraphNeedsReauthorization: when Entra refuses the app's secret
// (expired), the reader says so in its stats instead of failing quietly.
func TestGraphNeedsReauthorization(t *testing.T) {
	g := newGraphEnv(t, "sqlite")
	g.fake.RefuseTokens("invalid_client")
	r, _ := g.reader(t, nil)
	waitFor(t, 5*time.Second, "needs re-authorisation", func() bool { return r.Stats().NeedsReauthorization })
	if st := r.Stats(); !strings.Contains(st.LastError, "invalid_client") {
		t.Errorf("last error: got %q, want it to name invalid_client", st.LastError)
	}
	err := r.Sync(context.Background())
	if !errors.Is(err, mailin.ErrNeedsReauthorization) {
		t.Errorf("Sync: got %v, want ErrNeedsReauthorization", err)
	}
	g.fake.RefuseTokens("")
	sent := g.deliver(t, 0, 2)
	waitFor(t, 10*time.Second, "intake after the credentials are renewed", func() bool {
		return len(g.fake.Messages(graphUser, "Procesados")) == 2
	})
	g.checkExactlyOnce(t, sent)
	waitFor(t, 5*time.Second, "the flag to clear after a successful round", func() bool { return !r.Stats().NeedsReauthorization })
}
