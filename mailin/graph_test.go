package mailin_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/mesadeservicios/mesa/desk"
	"github.com/mesadeservicios/mesa/internal/msgraph"
	"github.com/mesadeservicios/mesa/internal/testgraph"
	"github.com/mesadeservicios/mesa/mailin"
	"github.com/mesadeservicios/mesa/store"
	"github.com/mesadeservicios/mesa/ticket"
)

var _ mailin.GraphState = (*store.DB)(nil)

const graphUser = "mesa@entidad.gov.co"

// sleeps records the waits the Graph client asked for and waits a
// fiftieth of each, so that a Retry-After of seconds costs milliseconds.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	t := time.NewTimer(d / 50)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (s *sleeps) atLeast(d time.Duration) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, x := range s.d {
		if x >= d {
			n++
		}
	}
	return n
}

type graphEnv struct {
	*env
	fake   *testgraph.Server
	client *msgraph.Client
	sleeps *sleeps

	committed sync.Map // Message-ID → true, once the desk's intake returned nil
	handled   atomic.Int64
	failFor   sync.Map // Message-ID → true: the handler fails
}

func newGraphEnv(t *testing.T, driver string) *graphEnv {
	t.Helper()
	fake := testgraph.New(t, testgraph.Options{ClientSecret: "s3cret"})
	fake.AddMailbox(graphUser)
	ts := mustTokens(t, fake)
	sl := &sleeps{}
	e := newEnv(t, driver)
	client, err := msgraph.New(msgraph.Options{BaseURL: fake.URL(), Tokens: ts, HTTPClient: fake.HTTPClient(),
		Sleep: sl.sleep, BaseBackoff: 20 * time.Millisecond, Logger: slog.New(e.logs)})
	if err != nil {
		t.Fatal(err)
	}
	return &graphEnv{env: e, fake: fake, client: client, sleeps: sl}
}

func (g *graphEnv) handle(ctx context.Context, raw []byte, in *ticket.Inbound, src ticket.Source) error {
	g.handled.Add(1)
	if _, bad := g.failFor.Load(in.MessageID); bad {
		return errors.New("the intake is failing for this message")
	}
	if err := g.desk.HandleMail(ctx, raw, in, src); err != nil {
		return err
	}
	g.committed.Store(in.MessageID, true)
	return nil
}

// reader starts a Graph reader over the desk; stop ends it and waits.
func (g *graphEnv) reader(t *testing.T, tweak func(o *mailin.GraphOptions)) (*mailin.Graph, func()) {
	t.Helper()
	o := mailin.GraphOptions{Client: g.client, User: graphUser, State: g.db, Handle: g.handle,
		Quarantine: g.desk.QuarantineMail, Logger: slog.New(g.logs), PollInterval: 30 * time.Millisecond,
		SweepInterval: time.Hour, PageSize: 7, MaxBackoff: 100 * time.Millisecond}
	if tweak != nil {
		tweak(&o)
	}
	r, err := mailin.NewGraph(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	var once sync.Once
	stop := func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return r, stop
}

// watchMoves fails the test when a message is moved before its intake
// committed.
func (g *graphEnv) watchMoves(t *testing.T) *atomic.Int64 {
	var early atomic.Int64
	g.fake.SetOnMove(func(raw []byte, folder string) {
		if folder != "Procesados" {
			return
		}
		in, _ := mailin.Parse(raw)
		if _, ok := g.committed.Load(in.MessageID); !ok {
			early.Add(1)
		}
	})
	return &early
}

func (g *graphEnv) deliver(t *testing.T, from, n int) map[string][]byte {
	t.Helper()
	sent := map[string][]byte{}
	for i := from; i < from+n; i++ {
		raw := message(i, fmt.Sprintf("Falla %d en el sistema", i), fmt.Sprintf("Mensaje número %d.", i))
		in, _ := mailin.Parse(raw)
		sent[in.MessageID] = raw
		g.fake.Deliver(graphUser, "Inbox", raw, time.Now())
	}
	return sent
}

// checkExactlyOnce asserts every message became one stored message with
// the delivered bytes, one ticket each, all of them moved to Procesados.
func (g *graphEnv) checkExactlyOnce(t *testing.T, sent map[string][]byte) {
	t.Helper()
	ctx := context.Background()
	if got := len(g.tickets(t)); got != len(sent) {
		t.Errorf("tickets: got %d, want %d (lost or duplicated)", got, len(sent))
	}
	for id, raw := range sent {
		m, err := g.db.MessageByKey(ctx, desk.MessageKey(id, raw))
		if err != nil {
			t.Errorf("message %s: %v", id, err)
			continue
		}
		if !bytes.Equal(m.Raw, raw) {
			t.Errorf("message %s: stored %d bytes differ from the %d delivered", id, len(m.Raw), len(raw))
		}
	}
	if got := len(g.fake.Messages(graphUser, "Inbox")); got != 0 {
		t.Errorf("inbox: got %d messages left, want 0", got)
	}
	if got := len(g.fake.Messages(graphUser, "Procesados")); got != len(sent) {
		t.Errorf("Procesados: got %d messages, want %d", got, len(sent))
	}
	if got := g.fake.MaxInFlight(graphUser); got > testgraph.MaxConcurrent {
		t.Errorf("concurrent requests to the mailbox: got %d, want at most %d", got, testgraph.MaxConcurrent)
	}
}

// TestGraphExactlyOnceUnderFaults delivers 60 messages in three waves
// while the fake throttles, answers 503s, expires the delta token and the
// access token: every message becomes exactly one ticket with its exact
// bytes, each is moved only after its intake committed, and the client
// never has more than four requests in flight.
func TestGraphExactlyOnceUnderFaults(t *testing.T) {
	for _, driver := range []string{"sqlite", "postgres"} {
		t.Run(driver, func(t *testing.T) {
			g := newGraphEnv(t, driver)
			early := g.watchMoves(t)
			g.fake.SetLatency(3 * time.Millisecond)
			g.fake.Throttle(3, 2*time.Second)
			sent := g.deliver(t, 0, 20)
			r, _ := g.reader(t, nil)
			waitFor(t, 30*time.Second, "the first wave", func() bool { return len(g.fake.Messages(graphUser, "Procesados")) == 20 })

			g.fake.ExpireDeltaTokens()
			g.fake.ExpireAccessTokens()
			for k, v := range g.deliver(t, 20, 20) {
				sent[k] = v
			}
			waitFor(t, 30*time.Second, "the second wave", func() bool { return len(g.fake.Messages(graphUser, "Procesados")) == 40 })

			g.fake.Unavailable(4)
			g.fake.Throttle(2, time.Second)
			for k, v := range g.deliver(t, 40, 20) {
				sent[k] = v
			}
			waitFor(t, 30*time.Second, "the third wave", func() bool { return len(g.fake.Messages(graphUser, "Procesados")) == 60 })

			g.checkExactlyOnce(t, sent)
			if n := early.Load(); n != 0 {
				t.Errorf("messages moved before their intake committed: got %d, want 0", n)
			}
			for kind, least := range map[string]int{"429": 5, "503": 4, "410": 1, "401": 1} {
				if got := g.fake.Count(kind); got < least {
					t.Errorf("fault %s injected: got %d answers, want at least %d", kind, got, least)
				}
			}
			if got := g.sleeps.atLeast(2 * time.Second); got < 3 {
				t.Errorf("waits of at least the 2s Retry-After: got %d, want 3", got)
			}
			if st := r.Stats(); st.Handled < 60 || st.Failed != 0 {
				t.Errorf("stats: got %+v, want at least 60 handled, none failed", st)
			}
		})
	}
}

// TestGraphConcurrencyBounded fetches bodies with more parallel workers
// than Exchange allows: the client's limit keeps the mailbox at four
// requests in flight, and the fake's own limit was never hit.
func TestGraphConcurrencyBounded(t *testing.T) {
	g := newGraphEnv(t, "sqlite")
	g.fake.SetLatency(20 * time.Millisecond)
	sent := g.deliver(t, 0, 24)
	g.reader(t, func(o *mailin.GraphOptions) { o.Parallel = 12; o.PageSize = 24 })
	waitFor(t, 30*time.Second, "all messages", func() bool { return len(g.fake.Messages(graphUser, "Procesados")) == 24 })
	g.checkExactlyOnce(t, sent)
	if got := g.fake.MaxInFlight(graphUser); got != testgraph.MaxConcurrent {
		t.Errorf("most requests in flight: got %d, want exactly %d (the limit, reached)", got, testgraph.MaxConcurrent)
	}
	if got := g.fake.Count("429"); got != 0 {
		t.Errorf("429 answers for concurrency: got %d, want 0", got)
	}
}

// TestGraphIntakeFailureLeavesMessage: a message whose intake fails stays
// in the inbox, unmoved, and is retried at the next sweep; one that keeps
// failing is quarantined after MaxAttempts, in the store and in the
// quarantine folder.
func TestGraphIntakeFailureLeavesMessage(t *testing.T) {
	g := newGraphEnv(t, "sqlite")
	sent := g.deliver(t, 0, 6)
	var flaky, bad string
	for id := range sent {
		switch {
		case flaky == "":
			flaky = id
		case bad == "":
			bad = id
		}
	}
	g.failFor.Store(flaky, true)
	g.failFor.Store(bad, true)
	early := g.watchMoves(t)
	r, stop := g.reader(t, func(o *mailin.GraphOptions) { o.MaxAttempts = 3; o.SweepInterval = 250 * time.Millisecond })
	waitFor(t, 10*time.Second, "the four good messages", func() bool { return len(g.fake.Messages(graphUser, "Procesados")) == 4 })
	left := g.fake.Messages(graphUser, "Inbox")
	if len(left) == 0 {
		t.Fatal("inbox after the first round is empty; the failing messages must stay")
	}
	for _, m := range left {
		in, _ := mailin.Parse(m.Raw)
		if in.MessageID != flaky && in.MessageID != bad {
			t.Errorf("inbox keeps %s, which did not fail", in.MessageID)
		}
	}
	g.failFor.Delete(flaky) // the desk recovers for one of them
	waitFor(t, 10*time.Second, "the recovered message and the quarantine", func() bool {
		return len(g.fake.Messages(graphUser, "Procesados")) == 5 && len(g.fake.Messages(graphUser, "Cuarentena")) == 1
	})
	stop()
	q := g.fake.Messages(graphUser, "Cuarentena")
	if in, _ := mailin.Parse(q[0].Raw); in.MessageID != bad {
		t.Errorf("quarantined: got %s, want %s", in.MessageID, bad)
	}
	m, err := g.db.MessageByKey(context.Background(), desk.MessageKey(bad, sent[bad]))
	if err != nil || m.Disposition != string(desk.DispQuarantined) || !bytes.Equal(m.Raw, sent[bad]) {
		t.Errorf("quarantined message in the store: got %+v, %v; want disposition quarantined with its bytes", m, err)
	}
	if n := early.Load(); n != 0 {
		t.Errorf("messages moved to Procesados before their intake committed: got %d, want 0", n)
	}
	if st := r.Stats(); st.Quarantined != 1 || st.Failed < 3 {
		t.Errorf("stats: got %+v, want 1 quarantined and at least 3 failures", st)
	}
	if got := len(g.fake.Messages(graphUser, "Inbox")); got != 0 {
		t.Errorf("inbox at the end: got %d, want 0", got)
	}
}

// TestGraphDeltaLinkResumedAfterRestart: the deltaLink is in the database;
// a new reader (a restart, or a standby taking over) resumes from it
// instead of listing the folder again.
func TestGraphDeltaLinkResumedAfterRestart(t *testing.T) {
	g := newGraphEnv(t, "postgres")
	sent := g.deliver(t, 0, 5)
	_, stop := g.reader(t, nil)
	waitFor(t, 10*time.Second, "the first five", func() bool { return len(g.fake.Messages(graphUser, "Procesados")) == 5 })
	waitFor(t, 10*time.Second, "a delta round after the moves", func() bool { return g.fake.Count("delta_token") >= 1 })
	stop()
	link, err := g.db.DeltaLink(context.Background(), "graph:"+graphUser+"/inbox")
	if err != nil || !strings.Contains(link, "$deltatoken=") || !strings.HasPrefix(link, g.fake.URL()) {
		t.Fatalf("saved delta link: got %q, %v; want a Graph deltaLink", link, err)
	}
	initial := g.fake.Count("delta_initial")
	for k, v := range g.deliver(t, 5, 3) {
		sent[k] = v
	}
	g.reader(t, nil)
	waitFor(t, 10*time.Second, "the three after the restart", func() bool { return len(g.fake.Messages(graphUser, "Procesados")) == 8 })
	if got := g.fake.Count("delta_initial"); got != initial {
		t.Errorf("full listings after the restart: got %d more, want 0 (resumed from the saved link)", got-initial)
	}
	g.checkExactlyOnce(t, sent)
}

// TestGraphResyncIsHarmless: moves fail, so handled messages stay in the
// inbox; then the delta token expires (410) and the full resync lists them
// all again. The intake recognises them: no duplicate ticket, and this
// time they are moved.
func TestGraphResyncIsHarmless(t *testing.T) {
	g := newGraphEnv(t, "sqlite")
	client, err := msgraph.New(msgraph.Options{BaseURL: g.fake.URL(), Tokens: mustTokens(t, g.fake),
		HTTPClient: g.fake.HTTPClient(), Sleep: g.sleeps.sleep, MaxAttempts: 2, BaseBackoff: time.Millisecond,
		Logger: slog.New(g.logs)})
	if err != nil {
		t.Fatal(err)
	}
	g.client = client
	sent := g.deliver(t, 0, 5)
	g.fake.FailMoves(10) // 5 moves × 2 attempts
	r, _ := g.reader(t, nil)
	waitFor(t, 10*time.Second, "five failed moves", func() bool { return r.Stats().MoveFailures == 5 })
	if got := len(g.fake.Messages(graphUser, "Inbox")); got != 5 {
		t.Fatalf("inbox after failed moves: got %d, want 5", got)
	}
	g.fake.ExpireDeltaTokens()
	waitFor(t, 10*time.Second, "the resync to move them", func() bool { return len(g.fake.Messages(graphUser, "Procesados")) == 5 })
	if got := g.fake.Count("410"); got < 1 {
		t.Errorf("410 answers: got %d, want at least 1", got)
	}
	if got := g.handled.Load(); got != 10 {
		t.Errorf("intake calls: got %d, want 10 (each message twice)", got)
	}
	g.checkExactlyOnce(t, sent)
}

func mustTokens(t *testing.T, fake *testgraph.Server) oauth2.TokenSource {
	t.Helper()
	ts, err := mailin.GraphCredentials{TenantID: fake.Tenant(), ClientID: fake.ClientID(), ClientSecret: "s3cret",
		TokenURL: fake.TokenURL()}.TokenSource(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// TestGraphMessageThatKillsTheProcess is TestMessageThatKillsTheProcess
// for a Graph mailbox: the attempt is committed before the message is
// parsed, so a message on which the process dies (the reader's goroutine
// ends in the middle of it, as if the process were killed) is quarantined
// unparsed after MaxStarts starts, in the store and in the quarantine
// folder; the messages beside it become tickets; no crash loop.
func TestGraphMessageThatKillsTheProcess(t *testing.T) {
	g := newGraphEnv(t, "sqlite")
	good1, killer, good2 := message(1, "Bueno uno: impresora", "No imprime."),
		message(2, "MATA EL PROCESO", "x"), message(3, "Bueno dos: silla", "La silla está coja.")
	for _, raw := range [][]byte{good1, killer, good2} {
		g.fake.Deliver(graphUser, "Inbox", raw, time.Now())
	}
	var seen atomic.Int32 // how often the handler saw the killer
	handle := func(ctx context.Context, raw []byte, in *ticket.Inbound, src ticket.Source) error {
		if in.Subject == "MATA EL PROCESO" {
			seen.Add(1)
			runtime.Goexit() // the process dies: no error, no failure recorded
		}
		return g.handle(ctx, raw, in, src)
	}
	// run starts a reader and reports whether it died before finished()
	// held.
	run := func(finished func() bool) (died bool) {
		r, err := mailin.NewGraph(mailin.GraphOptions{Client: g.client, User: graphUser, State: g.db, Handle: handle,
			Quarantine: g.desk.QuarantineMail, Logger: slog.New(g.logs), PollInterval: 30 * time.Millisecond,
			SweepInterval: time.Hour, MaxBackoff: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		return runUntilDeath(r.Run, finished)
	}
	for i := 1; i <= 3; i++ {
		if !run(func() bool { return false }) {
			t.Fatalf("start %d: the reader did not die on the message", i)
		}
	}
	if died := run(func() bool {
		return len(g.fake.Messages(graphUser, "Procesados")) == 2 && len(g.fake.Messages(graphUser, "Cuarentena")) == 1
	}); died {
		t.Fatal("the fourth start died again: a crash loop")
	}
	if n := seen.Load(); n != 3 {
		t.Errorf("the handler saw the message %d times, want 3", n)
	}
	if q := g.fake.Messages(graphUser, "Cuarentena"); len(q) != 1 || !bytes.Equal(q[0].Raw, killer) {
		t.Errorf("quarantine folder: got %d messages, want the killer alone", len(q))
	}
	if got := len(g.fake.Messages(graphUser, "Procesados")); got != 2 {
		t.Errorf("processed folder: got %d, want 2", got)
	}
	m, err := g.db.MessageByKey(context.Background(), desk.MessageKey("", killer))
	if err != nil || m.Disposition != string(desk.DispQuarantined) || !strings.Contains(m.Reason, "started 3 times without finishing") ||
		!bytes.Equal(m.Raw, killer) {
		t.Errorf("the killer is kept raw with a reason: got %+v, %v", m, err)
	}
	if n := len(g.tickets(t)); n != 2 {
		t.Errorf("got %d tickets, want the 2 good ones", n)
	}
}

// TestGraphShutdownIsNotADeath: four shutdowns that each interrupt the
// same message (SIGTERM while it is handled) count no death, so the fifth
// start handles it instead of quarantining it unparsed.
func TestGraphShutdownIsNotADeath(t *testing.T) {
	g := newGraphEnv(t, "sqlite")
	g.fake.Deliver(graphUser, "Inbox", message(1, "La impresora", "No imprime."), time.Now())
	reader := func(handle mailin.Handler) *mailin.Graph {
		r, err := mailin.NewGraph(mailin.GraphOptions{Client: g.client, User: graphUser, State: g.db, Handle: handle,
			Quarantine: g.desk.QuarantineMail, Logger: slog.New(g.logs), PollInterval: 30 * time.Millisecond,
			SweepInterval: time.Hour, MaxBackoff: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	var seen atomic.Int32
	for i := 1; i <= 4; i++ {
		ctx, cancel := context.WithCancel(context.Background())
		r := reader(func(context.Context, []byte, *ticket.Inbound, ticket.Source) error {
			seen.Add(1)
			cancel() // the shutdown reaches the handler, which gives up
			return context.Canceled
		})
		done := make(chan struct{})
		go func() { r.Run(ctx); close(done) }()
		select {
		case <-done:
		case <-time.After(3 * time.Second): // the handler was not called: the message was quarantined
			cancel()
			<-done
		}
	}
	if n := seen.Load(); n != 4 {
		t.Fatalf("the handler saw the message %d times in 4 interrupted starts, want 4 (%d quarantined)", n,
			len(g.fake.Messages(graphUser, "Cuarentena")))
	}
	if died := runUntilDeath(reader(g.handle).Run, func() bool { return len(g.fake.Messages(graphUser, "Procesados")) == 1 }); died {
		t.Fatal("the fifth start died")
	}
	if q, p := len(g.fake.Messages(graphUser, "Cuarentena")), len(g.fake.Messages(graphUser, "Procesados")); q != 0 || p != 1 {
		t.Errorf("after four shutdowns: %d quarantined, %d processed; want 0 and 1", q, p)
	}
}
