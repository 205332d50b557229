package mailout

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/mesadeservicios/mesa/internal/msgraph"
	"github.com/mesadeservicios/mesa/internal/testgraph"
	"github.com/mesadeservicios/mesa/ticket"
)

type tokenFunc func() (*oauth2.Token, error)

func (f tokenFunc) Token() (*oauth2.Token, error) { return f() }

func graphSender(t *testing.T, o msgraph.Options) (*testgraph.Server, *GraphSender) {
	t.Helper()
	fake := testgraph.New(t, testgraph.Options{ClientSecret: "s3cret"})
	fake.AddMailbox("mesa@entidad.gov.co")
	cc := &clientcredentials.Config{ClientID: fake.ClientID(), ClientSecret: "s3cret", TokenURL: fake.TokenURL(),
		Scopes: []string{msgraph.Scope}, AuthStyle: oauth2.AuthStyleInParams}
	o.BaseURL, o.HTTPClient, o.Logger = fake.URL(), fake.HTTPClient(), slog.New(slog.DiscardHandler)
	o.Tokens = tokenFunc(func() (*oauth2.Token, error) { return cc.Token(context.Background()) })
	o.Sleep = func(ctx context.Context, d time.Duration) error { return nil }
	client, err := msgraph.New(o)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewGraphSender(client, "mesa@entidad.gov.co")
	if err != nil {
		t.Fatal(err)
	}
	return fake, s
}

// TestGraphSenderExactBytes: the outbox worker sends through sendMail, past
// throttling and 503s, and Graph receives each row's exact bytes.
func TestGraphSenderExactBytes(t *testing.T) {
	ctx := context.Background()
	db, c, tid := setupOutbox(t, 3)
	fake, s := graphSender(t, msgraph.Options{})
	fake.Throttle(2, 3*time.Second)
	fake.Unavailable(2)
	w := NewWorker(db, s, WorkerOptions{Now: c.now, Logger: slog.New(slog.DiscardHandler)})
	if n, err := w.Once(ctx); n != 3 || err != nil {
		t.Fatalf("Once: got %d, %v; want 3, nil", n, err)
	}
	sent := fake.Sent("mesa@entidad.gov.co")
	if len(sent) != 3 {
		t.Fatalf("sendMail calls that delivered: got %d, want 3", len(sent))
	}
	for i, raw := range sent {
		want := "From: mesa@entidad.gov.co\r\nTo: ana@entidad.gov.co\r\nSubject: aviso " + string(rune('a'+i)) + "\r\n\r\nhola\r\n"
		if !bytes.Equal(raw, []byte(want)) {
			t.Errorf("mail %d: got %q, want %q", i, raw, want)
		}
	}
	if got := w.Stats(); got.Sent != 3 || got.Retried != 0 {
		t.Errorf("worker stats: got %+v, want 3 sent, none deferred", got)
	}
	if got := kinds(t, db, tid)[ticket.EventMailSent]; got != 3 {
		t.Errorf("mail_sent events: got %d, want 3", got)
	}
	if got := fake.Count("429") + fake.Count("503"); got != 4 {
		t.Errorf("faults answered: got %d, want 4", got)
	}
}

// TestGraphSenderRetrySendsSameBytes: throttled for longer than the client
// waits, the mail is deferred; the retry sends the same bytes once.
func TestGraphSenderRetrySendsSameBytes(t *testing.T) {
	ctx := context.Background()
	db, c, _ := setupOutbox(t, 1)
	fake, s := graphSender(t, msgraph.Options{MaxWait: time.Minute})
	fake.Throttle(1, 10*time.Minute) // more than MaxWait: no waiting it out in the worker
	w := NewWorker(db, s, WorkerOptions{Now: c.now, Logger: slog.New(slog.DiscardHandler)})
	w.Once(ctx)
	if got := w.Stats(); got.Retried != 1 || got.Sent != 0 || len(fake.Sent("mesa@entidad.gov.co")) != 0 {
		t.Fatalf("first pass: got %+v and %d sent; want deferred", got, len(fake.Sent("mesa@entidad.gov.co")))
	}
	c.add(2 * time.Hour)
	w.Once(ctx)
	sent := fake.Sent("mesa@entidad.gov.co")
	if len(sent) != 1 || !bytes.HasPrefix(sent[0], []byte("From: mesa@entidad.gov.co\r\nTo: ana@entidad.gov.co\r\nSubject: aviso a\r\n")) {
		t.Fatalf("after the retry: got %q, want the row's bytes once", sent)
	}
}

func TestGraphSenderRefusals(t *testing.T) {
	ctx := context.Background()
	fake, s := graphSender(t, msgraph.Options{})
	raw := []byte("From: mesa@entidad.gov.co\r\nTo: ana@entidad.gov.co\r\nSubject: x\r\n\r\nhola\r\n")
	for _, tc := range []struct {
		name      string
		to        []string
		raw       []byte
		temporary bool
		code      int
	}{
		{"envelope names someone the header does not", []string{"ana@entidad.gov.co", "otro@x.co"}, raw, false, 0},
		{"header names someone the envelope does not", []string{}, raw, false, 0},
		{"no header at all", []string{"ana@entidad.gov.co"}, []byte("hola"), false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.Send(ctx, "mesa@entidad.gov.co", tc.to, tc.raw)
			se, ok := err.(*SendError)
			if !ok || se.Temporary != tc.temporary || se.Code != tc.code {
				t.Fatalf("got %v, want a SendError temporary=%v code=%d", err, tc.temporary, tc.code)
			}
		})
	}
	if got := fake.Count("sendmail"); got != 0 {
		t.Errorf("sendMail calls for refused mail: got %d, want 0", got)
	}
	if err := s.Send(ctx, "mesa@entidad.gov.co", []string{"ANA@entidad.gov.co"}, raw); err != nil {
		t.Errorf("recipients compare without case: %v", err)
	}
	fake.RefuseTokens("invalid_client")
	err := s.Send(ctx, "mesa@entidad.gov.co", []string{"ana@entidad.gov.co"}, raw) // cached token: still works
	if err != nil {
		t.Errorf("with a cached token: %v", err)
	}
	fake.ExpireAccessTokens()
	err = s.Send(ctx, "mesa@entidad.gov.co", []string{"ana@entidad.gov.co"}, raw)
	if err == nil || !strings.Contains(err.Error(), "invalid_client") {
		t.Errorf("secret refused: got %v, want an error naming invalid_client (retried, not a lost mail)", err)
	}
	if _, ok := err.(*SendError); ok {
		t.Errorf("a refused credential must not fail the mail for good: got %#v", err)
	}
}
