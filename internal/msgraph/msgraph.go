// Package msgraph is the small Microsoft Graph client mesa's Graph mailbox
// reader (mailin) and sender (mailout) share for one mailbox: it adds the
// bearer token, keeps at most MaxConcurrent requests in flight (Outlook
// allows four concurrent requests per app per mailbox), and answers 429 and
// 503 by waiting the Retry-After the server asked for, or a bounded
// exponential backoff, before trying again. Wire format and sources:
// internal/testgraph/testdata/README.md.
//
// It is not a general SDK: it does what the two adapters need and no more.
package msgraph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// DefaultBaseURL is Graph's v1.0 endpoint in the global cloud.
const DefaultBaseURL = "https://graph.microsoft.com/v1.0"

// Scope is the client-credentials scope of Graph: every application
// permission granted to the app (Mail.ReadWrite, Mail.Send).
const Scope = "https://graph.microsoft.com/.default"

// Options configure a Client; zero fields take the defaults in brackets.
type Options struct {
	BaseURL string // [DefaultBaseURL]
	// Tokens gives access tokens. The client caches a token until it
	// expires or Graph refuses it (401), and only then asks again, so the
	// source should not cache itself: a cached source would hand back the
	// refused token.
	Tokens        oauth2.TokenSource
	HTTPClient    *http.Client  // [a client whose transport waits 60s for response headers]
	MaxConcurrent int           // requests in flight at once [4]
	MaxAttempts   int           // tries of one request, the first included [6]
	BaseBackoff   time.Duration // first wait without Retry-After, doubled each try [1s]
	// MaxWait bounds the waiting for one request, all retries together; a
	// Retry-After longer than what is left ends the request with the
	// *Error, which says how long the server asked to wait [5m].
	MaxWait time.Duration
	Logger  *slog.Logger // [slog.Default()]
	// Sleep waits d or until ctx is done [a timer]; tests make it instant.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Client talks to Graph for one mailbox. It is safe for concurrent use.
type Client struct {
	o    Options
	base *url.URL
	sem  chan struct{}

	mu  sync.Mutex
	tok *oauth2.Token
}

// New checks o and fills in defaults.
func New(o Options) (*Client, error) {
	if o.Tokens == nil {
		return nil, errors.New("msgraph: Tokens is required")
	}
	if o.BaseURL == "" {
		o.BaseURL = DefaultBaseURL
	}
	base, err := url.Parse(strings.TrimSuffix(o.BaseURL, "/"))
	if err != nil || base.Host == "" || (base.Scheme != "https" && base.Scheme != "http") {
		return nil, fmt.Errorf("msgraph: base URL must be an absolute http(s) URL, got %q", o.BaseURL)
	}
	if o.HTTPClient == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.ResponseHeaderTimeout = 60 * time.Second
		o.HTTPClient = &http.Client{Transport: t}
	}
	if o.MaxConcurrent <= 0 {
		o.MaxConcurrent = 4
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 6
	}
	if o.BaseBackoff <= 0 {
		o.BaseBackoff = time.Second
	}
	if o.MaxWait <= 0 {
		o.MaxWait = 5 * time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	return &Client{o: o, base: base, sem: make(chan struct{}, o.MaxConcurrent)}, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Error is an error answer of Graph (https://learn.microsoft.com/graph/errors).
type Error struct {
	Status  int
	Code    string // error.code, e.g. syncStateNotFound, InvalidAuthenticationToken
	Message string
	// RetryAfter is the wait the server asked for (Retry-After), 0 if none.
	RetryAfter time.Duration
	// Location is the Location header (a 410 of delta names a fresh query).
	Location string
}

func (e *Error) Error() string {
	s := fmt.Sprintf("graph %d", e.Status)
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.RetryAfter > 0 {
		s += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	return s
}

// Temporary reports whether a later retry may succeed: throttling, a
// server error, or an authentication failure that a new token may cure.
func (e *Error) Temporary() bool {
	return e.Status == http.StatusTooManyRequests || e.Status >= 500 || e.Status == http.StatusUnauthorized
}

// StatusOf returns the HTTP status of a Graph error answer, 0 for any other
// error.
func StatusOf(err error) int {
	var ge *Error
	if errors.As(err, &ge) {
		return ge.Status
	}
	return 0
}

// Request is one call. URL is a path under the base URL ("/users/…") or an
// absolute URL Graph gave (an @odata.nextLink); an absolute URL must be on
// the base URL's scheme and host, so the token never goes elsewhere.
type Request struct {
	Method      string
	URL         string
	ContentType string // of Body
	Body        []byte
	Prefer      []string // Prefer header values, e.g. odata.maxpagesize=50
	// Idempotent requests are retried after a network error too; others
	// only after an answer that says the request was not processed (429,
	// 503), since a lost answer may hide a request that took effect.
	Idempotent bool
}

// Do sends r and returns the 2xx response; its body must be closed, and
// until it is the request counts as in flight. Any other answer, after the
// retries, is an *Error.
func (c *Client) Do(ctx context.Context, r Request) (*http.Response, error) {
	u, err := c.resolve(r.URL)
	if err != nil {
		return nil, err
	}
	var waited time.Duration
	refreshed := false
	for attempt := 1; ; attempt++ {
		resp, err := c.attempt(ctx, r, u)
		if err == nil {
			return resp, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var ge *Error
		isGraph := errors.As(err, &ge)
		switch {
		case isGraph && ge.Status == http.StatusUnauthorized && !refreshed:
			// The token expired early or was revoked: one retry with a new one.
			refreshed = true
			c.o.Logger.Debug("graph refused the access token; getting a new one", "code", ge.Code)
			continue
		case isGraph && !retryable(ge.Status):
			return nil, err
		case isGraph && !r.Idempotent && ge.Status != http.StatusTooManyRequests && ge.Status != http.StatusServiceUnavailable:
			return nil, err // a 500 or 504 may hide a request that took effect
		case !isGraph && !r.Idempotent:
			return nil, err
		case !isGraph && errors.Is(err, errToken):
			return nil, err
		}
		if attempt >= c.o.MaxAttempts {
			return nil, err
		}
		wait := c.o.BaseBackoff << min(attempt-1, 16)
		wait = wait/2 + rand.N(wait/2+1)
		if isGraph && ge.RetryAfter > 0 {
			wait = ge.RetryAfter
		}
		if waited+wait > c.o.MaxWait {
			return nil, err
		}
		c.o.Logger.Warn("graph request deferred", "method", r.Method, "path", u.Path, "err", err,
			"attempt", attempt, "wait", wait)
		if err := c.o.Sleep(ctx, wait); err != nil {
			return nil, err
		}
		waited += wait
	}
}

func retryable(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable, http.StatusGatewayTimeout,
		http.StatusBadGateway, http.StatusInternalServerError, 509:
		return true
	}
	return false
}

var errToken = errors.New("getting an access token")

func (c *Client) resolve(s string) (*url.URL, error) {
	if strings.HasPrefix(s, "/") {
		u, err := url.Parse(c.base.String() + s)
		if err != nil {
			return nil, fmt.Errorf("msgraph: bad path %q: %w", s, err)
		}
		return u, nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("msgraph: bad URL %q: %w", s, err)
	}
	if u.Scheme != c.base.Scheme || !strings.EqualFold(u.Host, c.base.Host) {
		return nil, fmt.Errorf("msgraph: refusing to follow %s://%s: not the Graph endpoint %s", u.Scheme, u.Host, c.base.Host)
	}
	return u, nil
}

// attempt sends r once, holding a place among MaxConcurrent while the
// request and its response body are in flight.
func (c *Client) attempt(ctx context.Context, r Request, u *url.URL) (*http.Response, error) {
	tok, err := c.token()
	if err != nil {
		return nil, err
	}
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	release := sync.OnceFunc(func() { <-c.sem })
	var body io.Reader
	if r.Body != nil {
		body = bytes.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, u.String(), body)
	if err != nil {
		release()
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	if r.ContentType != "" {
		req.Header.Set("Content-Type", r.ContentType)
	}
	if len(r.Prefer) > 0 {
		req.Header.Set("Prefer", strings.Join(r.Prefer, ", "))
	}
	resp, err := c.o.HTTPClient.Do(req)
	if err != nil {
		release()
		return nil, fmt.Errorf("%s %s: %w", r.Method, u.Path, err)
	}
	if resp.StatusCode/100 == 2 {
		resp.Body = &releasingBody{ReadCloser: resp.Body, release: release}
		return resp, nil
	}
	defer release()
	defer resp.Body.Close()
	ge := parseError(resp)
	if ge.Status == http.StatusUnauthorized {
		c.forget(tok.AccessToken)
	}
	return nil, ge
}

type releasingBody struct {
	io.ReadCloser
	release func()
}

func (b *releasingBody) Close() error {
	err := b.ReadCloser.Close()
	b.release()
	return err
}

func parseError(resp *http.Response) *Error {
	ge := &Error{Status: resp.StatusCode, Location: resp.Header.Get("Location"),
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var env struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(b, &env) == nil {
		ge.Code, ge.Message = env.Error.Code, env.Error.Message
	}
	if ge.Message == "" && ge.Code == "" {
		ge.Message = strings.TrimSpace(string(b[:min(len(b), 200)]))
	}
	return ge
}

// parseRetryAfter reads delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(min(n, 86400)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), 24*time.Hour)
	}
	return 0
}

func (c *Client) token() (*oauth2.Token, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tok.Valid() {
		return c.tok, nil
	}
	tok, err := c.o.Tokens.Token()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errToken, err)
	}
	c.tok = tok
	return tok, nil
}

// forget drops the cached token when it is the one Graph refused.
func (c *Client) forget(access string) {
	c.mu.Lock()
	if c.tok != nil && c.tok.AccessToken == access {
		c.tok = nil
	}
	c.mu.Unlock()
}

// IsTokenError reports whether err came from getting an access token (the
// identity provider), not from Graph itself.
func IsTokenError(err error) bool { return errors.Is(err, errToken) }

// GetJSON sends an idempotent GET and decodes the JSON answer into v.
func (c *Client) GetJSON(ctx context.Context, u string, prefer []string, v any) error {
	resp, err := c.Do(ctx, Request{Method: http.MethodGet, URL: u, Prefer: prefer, Idempotent: true})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(v); err != nil {
		return fmt.Errorf("decoding %s: %w", resp.Request.URL.Path, err)
	}
	return nil
}

// PostJSON sends in as JSON and decodes the answer into out (when not nil).
func (c *Client) PostJSON(ctx context.Context, u string, in, out any, idempotent bool) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	resp, err := c.Do(ctx, Request{Method: http.MethodPost, URL: u, ContentType: "application/json", Body: b, Idempotent: idempotent})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(out); err != nil {
		return fmt.Errorf("decoding %s: %w", resp.Request.URL.Path, err)
	}
	return nil
}

// UserPath is the path of a mailbox's resource: /users/{upn}/rest.
func UserPath(user string, rest ...string) string {
	p := "/users/" + url.PathEscape(user)
	for _, r := range rest {
		p += "/" + url.PathEscape(r)
	}
	return p
}
