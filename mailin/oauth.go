package mailin

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// xoauth2 is the SASL XOAUTH2 mechanism of Microsoft 365 and Google
// ("user=" user ^A "auth=Bearer " token ^A ^A). go-sasl has none: it has
// OAUTHBEARER, which Exchange Online does not offer.
type xoauth2 struct{ user, token string }

func (c *xoauth2) Start() (string, []byte, error) {
	return "XOAUTH2", []byte("user=" + c.user + "\x01auth=Bearer " + c.token + "\x01\x01"), nil
}

// Next answers the server's error challenge (a base64 JSON) with an empty
// response, as the mechanism requires; the server then fails the command.
func (c *xoauth2) Next([]byte) ([]byte, error) { return []byte{}, nil }

var _ sasl.Client = (*xoauth2)(nil)

// ErrNeedsReauthorization is returned when the identity provider refused
// the grant (invalid_grant: revoked, expired or rotated-away refresh token):
// no retry helps until an operator authorises mesa again.
var ErrNeedsReauthorization = errors.New("mailbox needs re-authorisation")

// OAuth2 configures XOAUTH2 tokens: client credentials (app-only, Microsoft
// 365) when RefreshTokenFile is empty, otherwise a delegated refresh token
// kept in that file, rewritten whenever the provider rotates it.
//
// mailin owns the mailbox's identity, so it owns the provider defaults too:
// the token source it returns is the one the daemon also hands to mailout
// for SMTP XOAUTH2, as a plain oauth2.TokenSource (mailout imports nothing
// of mailin). Microsoft's one scope covers IMAP and SMTP alike.
type OAuth2 struct {
	// Tenant, when set, is a Microsoft 365 (Entra ID) tenant: TokenURL and
	// Scopes default to Microsoft's (MicrosoftTokenURL, MicrosoftScope).
	Tenant           string
	TokenURL         string
	ClientID         string
	ClientSecret     string
	Scopes           []string
	RefreshTokenFile string
	// Tokens, when set with RefreshTokenFile, keeps the refresh token in
	// the database under TokensName, shared by every instance: the one
	// that takes the mailbox over refreshes with the newest token, not
	// with its own file's copy. The file still receives every rotated
	// token (a single instance behaves as before) and seeds the database;
	// a token in the file that the database never held is an operator's
	// new grant and replaces the stored one.
	Tokens     TokenStore
	TokensName string // [the mailbox's name; required with Tokens]
	// Google, when set, is a Google Workspace service account acting as
	// the mailbox (oauth2_provider: google): its JWT bearer grant gives the
	// tokens, and every field above is ignored.
	Google *GoogleServiceAccount
}

// TokenStore keeps refresh tokens where every instance sees them
// (store.DB.RotateRefreshToken): fn runs with the newest stored token ("" when
// none) and whether candidate was ever stored, while no other instance
// runs it for name, and the token it returns is committed before
// RotateRefreshToken returns.
type TokenStore interface {
	RotateRefreshToken(ctx context.Context, name, candidate string, fn func(stored string, candidateSeen bool) (string, error)) error
}

// MicrosoftScope is the scope of Exchange Online's IMAP and SMTP access
// (IMAP.AccessAsApp, SMTP.SendAsApp or their delegated forms).
const MicrosoftScope = "https://outlook.office365.com/.default"

// MicrosoftTokenURL is the v2.0 token endpoint of a Microsoft tenant (a
// tenant ID or domain).
func MicrosoftTokenURL(tenant string) string {
	return "https://login.microsoftonline.com/" + url.PathEscape(tenant) + "/oauth2/v2.0/token"
}

// withDefaults fills in the provider's endpoint and scope for a tenant.
func (o OAuth2) withDefaults() OAuth2 {
	if o.Tenant == "" {
		return o
	}
	if o.TokenURL == "" {
		o.TokenURL = MicrosoftTokenURL(o.Tenant)
	}
	if len(o.Scopes) == 0 {
		o.Scopes = []string{MicrosoftScope}
	}
	return o
}

// TokenSource returns the source of access tokens described by o.
func (o OAuth2) TokenSource(ctx context.Context) (oauth2.TokenSource, error) {
	if o.Google != nil {
		return o.Google.TokenSource(ctx)
	}
	o = o.withDefaults()
	if o.TokenURL == "" || o.ClientID == "" {
		return nil, errors.New("oauth2 needs token_url and client_id")
	}
	if o.RefreshTokenFile == "" {
		cc := &clientcredentials.Config{ClientID: o.ClientID, ClientSecret: o.ClientSecret, TokenURL: o.TokenURL,
			Scopes: o.Scopes, AuthStyle: oauth2.AuthStyleInParams}
		return cc.TokenSource(ctx), nil
	}
	cfg := &oauth2.Config{ClientID: o.ClientID, ClientSecret: o.ClientSecret, Scopes: o.Scopes,
		Endpoint: oauth2.Endpoint{TokenURL: o.TokenURL, AuthStyle: oauth2.AuthStyleInParams}}
	if o.Tokens != nil {
		if o.TokensName == "" {
			return nil, errors.New("oauth2: a shared refresh token needs the mailbox's name")
		}
		// A standby may have no file yet: the database has the token.
		return &sharedSource{ctx: ctx, cfg: cfg, path: o.RefreshTokenFile, store: o.Tokens, name: o.TokensName}, nil
	}
	b, err := os.ReadFile(o.RefreshTokenFile)
	if err != nil {
		return nil, fmt.Errorf("reading refresh token: %w", err)
	}
	refresh := strings.TrimSpace(string(b))
	if refresh == "" {
		return nil, fmt.Errorf("refresh token file %s is empty", o.RefreshTokenFile)
	}
	src := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: refresh})
	return &persistingSource{src: src, path: o.RefreshTokenFile, last: refresh}, nil
}

// persistingSource writes a rotated refresh token to its file before the
// access token that came with it is used: a crash right after the rotation
// must not leave only the old, now invalid, refresh token on disk.
type persistingSource struct {
	mu   sync.Mutex
	src  oauth2.TokenSource
	path string
	last string
}

func (p *persistingSource) Token() (*oauth2.Token, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	tok, err := p.src.Token()
	if err != nil {
		return nil, err
	}
	if tok.RefreshToken != "" && tok.RefreshToken != p.last {
		if err := writeAtomic(p.path, tok.RefreshToken+"\n"); err != nil {
			return nil, fmt.Errorf("persisting the rotated refresh token: %w", err)
		}
		p.last = tok.RefreshToken
	}
	return tok, nil
}

// sharedSource refreshes with the newest refresh token of the database,
// one instance at a time, and stores a rotated one (then writes it to the
// local file) before the access token that came with it is used.
type sharedSource struct {
	ctx   context.Context
	cfg   *oauth2.Config
	path  string
	store TokenStore
	name  string

	mu  sync.Mutex
	cur *oauth2.Token
}

func (p *sharedSource) Token() (*oauth2.Token, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur.Valid() {
		return p.cur, nil
	}
	candidate := ""
	if b, err := os.ReadFile(p.path); err == nil {
		candidate = strings.TrimSpace(string(b))
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("reading refresh token: %w", err)
	}
	ctx, cancel := context.WithTimeout(p.ctx, time.Minute)
	defer cancel()
	var tok *oauth2.Token
	next := ""
	err := p.store.RotateRefreshToken(ctx, p.name, candidate, func(stored string, candidateSeen bool) (string, error) {
		use := stored
		if candidate != "" && (stored == "" || !candidateSeen) {
			use = candidate // the first start, or an operator's new grant in the file
		}
		if use == "" {
			return "", fmt.Errorf("no refresh token for %s: neither the database nor %s has one", p.name, p.path)
		}
		t, err := p.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: use}).Token()
		if err != nil {
			return "", err
		}
		tok, next = t, t.RefreshToken
		if next == "" {
			next = use // the provider did not rotate it
		}
		return next, nil
	})
	if err != nil {
		return nil, err
	}
	if next != candidate {
		if err := writeAtomic(p.path, next+"\n"); err != nil {
			return nil, fmt.Errorf("persisting the rotated refresh token: %w", err)
		}
	}
	p.cur = tok
	return tok, nil
}

func writeAtomic(path, content string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".refresh-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.WriteString(content); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// isInvalidGrant tells a refused grant from a passing failure.
func isInvalidGrant(err error) bool {
	var re *oauth2.RetrieveError
	return errors.As(err, &re) && (re.ErrorCode == "invalid_grant" || re.ErrorCode == "unauthorized_client" || re.ErrorCode == "invalid_client")
}
