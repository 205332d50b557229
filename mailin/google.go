package mailin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/jwt"
)

// GoogleMailScope is the scope of IMAP and SMTP access to Gmail.
const GoogleMailScope = "https://mail.google.com/"

// GoogleTokenURL is Google's token endpoint, used when the key file names
// none.
const GoogleTokenURL = "https://oauth2.googleapis.com/token"

// GoogleServiceAccount is a Google Workspace service account with
// domain-wide delegation, acting as Subject (the desk mailbox): the JWT
// bearer grant (RFC 7523) gives tokens for IMAP and SMTP XOAUTH2.
type GoogleServiceAccount struct {
	// KeyJSON is the service account's key file as downloaded from the
	// Google Cloud console (type service_account).
	KeyJSON  []byte
	Subject  string   // the mailbox to act as
	Scopes   []string // [GoogleMailScope]
	TokenURL string   // [the key file's token_uri, else GoogleTokenURL]
}

// googleKey is the part of a service-account key file mesa reads.
type googleKey struct {
	Type         string `json:"type"`
	ClientEmail  string `json:"client_email"`
	PrivateKeyID string `json:"private_key_id"`
	PrivateKey   string `json:"private_key"`
	TokenURI     string `json:"token_uri"`
}

// LoadGoogleServiceAccount reads a key file for subject.
func LoadGoogleServiceAccount(keyFile, subject string) (GoogleServiceAccount, error) {
	b, err := os.ReadFile(keyFile)
	if err != nil {
		return GoogleServiceAccount{}, fmt.Errorf("reading the service account key: %w", err)
	}
	return GoogleServiceAccount{KeyJSON: b, Subject: subject}, nil
}

// TokenSource returns a cached source of access tokens for the subject
// (the same one serves IMAP and SMTP). A subject the account may not act
// as answers invalid_grant or unauthorized_client, which the IMAP poller
// reports as needing re-authorisation.
func (g GoogleServiceAccount) TokenSource(ctx context.Context) (oauth2.TokenSource, error) {
	var k googleKey
	if err := json.Unmarshal(g.KeyJSON, &k); err != nil {
		return nil, fmt.Errorf("service account key is not JSON: %w", err)
	}
	switch {
	case k.Type != "service_account":
		return nil, fmt.Errorf("service account key: type is %q, want service_account", k.Type)
	case k.ClientEmail == "" || k.PrivateKey == "":
		return nil, errors.New("service account key lacks client_email or private_key")
	case strings.TrimSpace(g.Subject) == "":
		return nil, errors.New("a Google service account needs the mailbox to act as (the subject)")
	}
	cfg := &jwt.Config{Email: k.ClientEmail, PrivateKey: []byte(k.PrivateKey), PrivateKeyID: k.PrivateKeyID,
		Subject: g.Subject, Scopes: g.Scopes, TokenURL: g.TokenURL}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = []string{GoogleMailScope}
	}
	if cfg.TokenURL == "" {
		cfg.TokenURL = k.TokenURI
	}
	if cfg.TokenURL == "" {
		cfg.TokenURL = GoogleTokenURL
	}
	// Parse the key now: a broken key is a configuration error at start,
	// not a failure at the first connection.
	if _, err := parseRSAKey([]byte(k.PrivateKey)); err != nil {
		return nil, fmt.Errorf("service account private_key: %w", err)
	}
	return cfg.TokenSource(ctx), nil
}
