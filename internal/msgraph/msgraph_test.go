package msgraph_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/mesadeservicios/mesa/internal/msgraph"
	"github.com/mesadeservicios/mesa/internal/testgraph"
)

type tokenFunc func() (*oauth2.Token, error)

func (f tokenFunc) Token() (*oauth2.Token, error) { return f() }

type waits struct {
	mu sync.Mutex
	d  []time.Duration
}

func (w *waits) sleep(ctx context.Context, d time.Duration) error {
	w.mu.Lock()
	w.d = append(w.d, d)
	w.mu.Unlock()
	return ctx.Err()
}

func setup(t *testing.T, o msgraph.Options) (*testgraph.Server, *msgraph.Client, *waits) {
	t.Helper()
	fake := testgraph.New(t, testgraph.Options{ClientSecret: "s3cret"})
	fake.AddMailbox("mesa@entidad.gov.co")
	cc := &clientcredentials.Config{ClientID: fake.ClientID(), ClientSecret: "s3cret", TokenURL: fake.TokenURL(),
		Scopes: []string{msgraph.Scope}, AuthStyle: oauth2.AuthStyleInParams}
	w := &waits{}
	o.BaseURL, o.HTTPClient, o.Sleep, o.Logger = fake.URL(), fake.HTTPClient(), w.sleep, slog.New(slog.DiscardHandler)
	o.Tokens = tokenFunc(func() (*oauth2.Token, error) { return cc.Token(context.Background()) })
	c, err := msgraph.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return fake, c, w
}

func getInbox(ctx context.Context, c *msgraph.Client) error {
	var f map[string]any
	return c.GetJSON(ctx, msgraph.UserPath("mesa@entidad.gov.co", "mailFolders", "inbox"), nil, &f)
}

// TestConcurrencyLimit: twenty goroutines at once keep the mailbox at four
// requests in flight; a client allowed eight is seen above four by the
// fake, so the check is one that can fail.
func TestConcurrencyLimit(t *testing.T) {
	for _, tc := range []struct {
		limit   int
		wantMax func(int) bool
	}{{0, func(n int) bool { return n == 4 }}, {8, func(n int) bool { return n > 4 }}} {
		fake, c, _ := setup(t, msgraph.Options{MaxConcurrent: tc.limit})
		fake.SetLatency(30 * time.Millisecond)
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() { getInbox(context.Background(), c) })
		}
		wg.Wait()
		if got := fake.MaxInFlight("mesa@entidad.gov.co"); !tc.wantMax(got) {
			t.Errorf("MaxConcurrent %d: the fake saw %d requests in flight", tc.limit, got)
		}
	}
}

// TestRetryAfterHonoured: a 429 is retried after exactly the wait the
// server asked for; a 503 without Retry-After after a backoff.
func TestRetryAfterHonoured(t *testing.T) {
	fake, c, w := setup(t, msgraph.Options{BaseBackoff: 100 * time.Millisecond})
	fake.Throttle(2, 7*time.Second)
	if err := getInbox(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	fake.Unavailable(1)
	if err := getInbox(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if len(w.d) != 3 || w.d[0] != 7*time.Second || w.d[1] != 7*time.Second || w.d[2] < 50*time.Millisecond || w.d[2] > 100*time.Millisecond {
		t.Errorf("waits: got %v, want [7s 7s 50ms..100ms]", w.d)
	}
}

// TestWaitBounded: throttled for longer than MaxWait, the request ends
// with the 429 instead of blocking.
func TestWaitBounded(t *testing.T) {
	fake, c, w := setup(t, msgraph.Options{MaxWait: time.Minute})
	fake.Throttle(1, 10*time.Minute)
	err := getInbox(context.Background(), c)
	var ge *msgraph.Error
	if !errors.As(err, &ge) || ge.Status != 429 || ge.RetryAfter != 10*time.Minute || !ge.Temporary() {
		t.Fatalf("got %v, want a temporary 429 with Retry-After 10m", err)
	}
	if len(w.d) != 0 {
		t.Errorf("waits: got %v, want none", w.d)
	}
	fake, c, _ = setup(t, msgraph.Options{MaxAttempts: 3})
	fake.Unavailable(10)
	if err := getInbox(context.Background(), c); msgraph.StatusOf(err) != 503 {
		t.Errorf("after MaxAttempts: got %v, want the 503", err)
	}
	if got := fake.Count("503"); got != 3 {
		t.Errorf("attempts: got %d, want 3", got)
	}
}

// TestExpiredTokenRenewed: a 401 drops the cached token and retries once
// with a new one.
func TestExpiredTokenRenewed(t *testing.T) {
	fake, c, _ := setup(t, msgraph.Options{})
	if err := getInbox(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if err := getInbox(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if got := fake.Count("token"); got != 1 {
		t.Fatalf("token requests for two calls: got %d, want 1 (cached)", got)
	}
	fake.ExpireAccessTokens()
	if err := getInbox(context.Background(), c); err != nil {
		t.Fatalf("after the token expired: %v", err)
	}
	if got, got401 := fake.Count("token"), fake.Count("401"); got != 2 || got401 != 1 {
		t.Errorf("after expiry: got %d token requests and %d 401s, want 2 and 1", got, got401)
	}
}

// TestNoTokenToOtherHosts: a link to another host (a tampered nextLink)
// is refused before any request carries the token there.
func TestNoTokenToOtherHosts(t *testing.T) {
	_, c, _ := setup(t, msgraph.Options{})
	for _, u := range []string{"https://evil.example/v1.0/users/x/messages", "http://evil.example/v1.0/users/x"} {
		var v any
		err := c.GetJSON(context.Background(), u, nil, &v)
		if err == nil || msgraph.StatusOf(err) != 0 {
			t.Errorf("%s: got %v, want a refusal before sending", u, err)
		}
	}
}
