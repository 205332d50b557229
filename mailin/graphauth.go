package mailin

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"os"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// GraphScope is the client-credentials scope for Microsoft Graph: all the
// application permissions granted to the app (Mail.ReadWrite, Mail.Send).
const GraphScope = "https://graph.microsoft.com/.default"

// GraphCredentials are an app registration's credentials in a Microsoft
// Entra tenant, for the client-credentials grant (app-only): a client
// secret, or a certificate whose private key signs a client assertion
// (https://learn.microsoft.com/entra/identity-platform/certificate-credentials).
type GraphCredentials struct {
	TenantID     string
	ClientID     string
	ClientSecret string
	// CertificatePEM and KeyPEM, when set instead of ClientSecret, are the
	// certificate registered with the app (PEM "CERTIFICATE") and its RSA
	// private key (PKCS#1 or PKCS#8 PEM).
	CertificatePEM []byte
	KeyPEM         []byte
	TokenURL       string   // [https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token]
	Scopes         []string // [GraphScope]
	// Now is the clock of the assertion's iat/nbf/exp [time.Now].
	Now func() time.Time
}

// LoadGraphCertificate reads a certificate file and its key file (the key
// may also be in the certificate file, then keyFile may equal certFile).
func LoadGraphCertificate(certFile, keyFile string) (cert, key []byte, err error) {
	if cert, err = os.ReadFile(certFile); err != nil {
		return nil, nil, fmt.Errorf("reading client certificate: %w", err)
	}
	if key, err = os.ReadFile(keyFile); err != nil {
		return nil, nil, fmt.Errorf("reading client key: %w", err)
	}
	return cert, key, nil
}

// TokenSource returns a source that runs the grant at every call: it does
// not cache, since msgraph.Client caches and must be able to get a new
// token when Graph refuses one. Wrap it in oauth2.ReuseTokenSource for any
// other use.
func (g GraphCredentials) TokenSource(ctx context.Context) (oauth2.TokenSource, error) {
	if g.ClientID == "" || (g.TenantID == "" && g.TokenURL == "") {
		return nil, errors.New("graph credentials need tenant_id and client_id")
	}
	if g.TokenURL == "" {
		g.TokenURL = "https://login.microsoftonline.com/" + url.PathEscape(g.TenantID) + "/oauth2/v2.0/token"
	}
	if len(g.Scopes) == 0 {
		g.Scopes = []string{GraphScope}
	}
	if g.Now == nil {
		g.Now = time.Now
	}
	cc := &clientcredentials.Config{ClientID: g.ClientID, TokenURL: g.TokenURL, Scopes: g.Scopes,
		AuthStyle: oauth2.AuthStyleInParams}
	switch {
	case len(g.CertificatePEM) > 0 || len(g.KeyPEM) > 0:
		if g.ClientSecret != "" {
			return nil, errors.New("graph credentials: give a client secret or a certificate, not both")
		}
		a, err := newAssertion(g.CertificatePEM, g.KeyPEM)
		if err != nil {
			return nil, err
		}
		return &assertionSource{ctx: ctx, cc: cc, a: a, now: g.Now}, nil
	case g.ClientSecret != "":
		cc.ClientSecret = g.ClientSecret
		return tokenFunc(func() (*oauth2.Token, error) { return cc.Token(ctx) }), nil
	}
	return nil, errors.New("graph credentials need a client secret or a client certificate and key")
}

type tokenFunc func() (*oauth2.Token, error)

func (f tokenFunc) Token() (*oauth2.Token, error) { return f() }

// assertion signs client assertions with a certificate's key.
type assertion struct {
	key      *rsa.PrivateKey
	x5t      string // base64url SHA-1 of the certificate's DER
	x5tS256  string // base64url SHA-256 of the same
	notAfter time.Time
}

func newAssertion(certPEM, keyPEM []byte) (*assertion, error) {
	var cert *x509.Certificate
	var key *rsa.PrivateKey
	for _, b := range [][]byte{certPEM, keyPEM} {
		for rest := b; ; {
			var blk *pem.Block
			blk, rest = pem.Decode(rest)
			if blk == nil {
				break
			}
			switch blk.Type {
			case "CERTIFICATE":
				if cert == nil {
					c, err := x509.ParseCertificate(blk.Bytes)
					if err != nil {
						return nil, fmt.Errorf("parsing client certificate: %w", err)
					}
					cert = c
				}
			case "RSA PRIVATE KEY":
				k, err := x509.ParsePKCS1PrivateKey(blk.Bytes)
				if err != nil {
					return nil, fmt.Errorf("parsing client key: %w", err)
				}
				key = k
			case "PRIVATE KEY":
				k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
				if err != nil {
					return nil, fmt.Errorf("parsing client key: %w", err)
				}
				rk, ok := k.(*rsa.PrivateKey)
				if !ok {
					return nil, fmt.Errorf("client key is %T; Entra client assertions are signed with RSA", k)
				}
				key = rk
			}
		}
	}
	if cert == nil {
		return nil, errors.New("no PEM CERTIFICATE in the client certificate file")
	}
	if key == nil {
		return nil, errors.New("no RSA private key (PEM RSA PRIVATE KEY or PRIVATE KEY) in the client key file")
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok || !pub.Equal(&key.PublicKey) {
		return nil, errors.New("the client key does not belong to the client certificate")
	}
	s1, s256 := sha1.Sum(cert.Raw), sha256.Sum256(cert.Raw)
	return &assertion{key: key, x5t: base64.RawURLEncoding.EncodeToString(s1[:]),
		x5tS256: base64.RawURLEncoding.EncodeToString(s256[:]), notAfter: cert.NotAfter}, nil
}

// sign returns a JWT (RFC 7519) for the token endpoint aud, signed RS256
// (RFC 7518 §3.3), valid five minutes.
func (a *assertion) sign(clientID, aud string, now time.Time) (string, error) {
	var jti [16]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return "", err
	}
	jti[6] = jti[6]&0x0f | 0x40 // a version 4 UUID, as Entra's examples use
	jti[8] = jti[8]&0x3f | 0x80
	header, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "x5t": a.x5t, "x5t#S256": a.x5tS256})
	claims, _ := json.Marshal(map[string]any{
		"aud": aud, "iss": clientID, "sub": clientID,
		"jti": fmt.Sprintf("%x-%x-%x-%x-%x", jti[0:4], jti[4:6], jti[6:8], jti[8:10], jti[10:]),
		"nbf": now.Unix(), "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
	})
	signing := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(claims)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, a.key, crypto.SHA256, sum[:])
	if err != nil {
		return "", fmt.Errorf("signing the client assertion: %w", err)
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// assertionSource runs the grant with a fresh assertion at every call.
type assertionSource struct {
	ctx context.Context
	cc  *clientcredentials.Config
	a   *assertion
	now func() time.Time
}

func (s *assertionSource) Token() (*oauth2.Token, error) {
	jwt, err := s.a.sign(s.cc.ClientID, s.cc.TokenURL, s.now())
	if err != nil {
		return nil, err
	}
	cc := *s.cc
	cc.EndpointParams = url.Values{
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {jwt},
	}
	return cc.Token(s.ctx)
}

// CertificateExpiry returns when the client certificate of g expires, for
// an operator alert before it does; zero when g uses a secret.
func (g GraphCredentials) CertificateExpiry() (time.Time, error) {
	if len(g.CertificatePEM) == 0 {
		return time.Time{}, nil
	}
	a, err := newAssertion(g.CertificatePEM, g.KeyPEM)
	if err != nil {
		return time.Time{}, err
	}
	return a.notAfter, nil
}

// parseRSAKey reads an RSA private key from PEM (PKCS#8 or PKCS#1).
func parseRSAKey(b []byte) (*rsa.PrivateKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, errors.New("no PEM block")
	}
	if k, err := x509.ParsePKCS1PrivateKey(blk.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, err
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("key is %T, want RSA", k)
	}
	return rk, nil
}
