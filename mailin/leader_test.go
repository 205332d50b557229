package mailin_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/internal/testimap"
	"github.com/mesadeservicios/mesa/mailin"
	"github.com/mesadeservicios/mesa/ticket"
)

// oneLease is a lease held by one leader at a time; lose ends the
// holder's tenure as a broken database connection would.
type oneLease struct {
	token    chan struct{}
	mu       sync.Mutex
	lost     chan struct{}
	names    []string
	released int
}

func newOneLease() *oneLease {
	l := &oneLease{token: make(chan struct{}, 1)}
	l.token <- struct{}{}
	return l
}

func (l *oneLease) Acquire(ctx context.Context, name string) (<-chan struct{}, func(), error) {
	select {
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	case <-l.token:
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.names = append(l.names, name)
	lost := make(chan struct{})
	l.lost = lost
	var once sync.Once
	return lost, func() {
		once.Do(func() {
			l.mu.Lock()
			l.released++
			l.mu.Unlock()
			l.token <- struct{}{}
		})
	}, nil
}

func (l *oneLease) lose() {
	l.mu.Lock()
	defer l.mu.Unlock()
	close(l.lost)
}

// TestLeaderTakesOverWhenTheLeaseIsLost: of two leaders of one mailbox,
// one reads while the other stands by; when the holder loses the lease
// its poller stops, the lease is released and the other one reads on.
func TestLeaderTakesOverWhenTheLeaseIsLost(t *testing.T) {
	srv := testimap.Start(t, "mesa")
	e := newEnv(t, "sqlite")
	var mu sync.Mutex
	handledBy := map[string]string{} // Message-ID → leader
	leases := newOneLease()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	for _, who := range []string{"a", "b"} {
		p, err := mailin.NewPoller(mailin.Options{Addr: srv.Addr, TLS: "none", Username: "mesa", Password: "mesapw", State: e.db,
			Logger: slog.New(e.logs), SweepInterval: time.Hour, MaxBackoff: 200 * time.Millisecond,
			Handle: func(ctx context.Context, raw []byte, in *ticket.Inbound, src ticket.Source) error {
				if err := e.desk.HandleMail(ctx, raw, in, src); err != nil {
					return err
				}
				mu.Lock()
				handledBy[in.MessageID] = who
				mu.Unlock()
				return nil
			}})
		if err != nil {
			t.Fatal(err)
		}
		l := mailin.NewLeader(p, leases, mailin.LeaderOptions{})
		if l.Name() != "imap:mesa/INBOX" {
			t.Errorf("lease name: got %q, want imap:mesa/INBOX", l.Name())
		}
		wg.Add(1)
		go func() { defer wg.Done(); l.Run(ctx) }()
		if who == "a" {
			waitFor(t, 5*time.Second, "a to take the lease", func() bool { leases.mu.Lock(); defer leases.mu.Unlock(); return len(leases.names) == 1 })
		}
	}
	c := dialClient(t, srv.Addr)
	by := func(id string) string { mu.Lock(); defer mu.Unlock(); return handledBy[id] }
	first := message(1, "La impresora no imprime", "No imprime.")
	appendTo(t, c, "INBOX", first)
	waitFor(t, 20*time.Second, "the first message", func() bool { return len(e.tickets(t)) == 1 })
	in, _ := mailin.Parse(first)
	if got := by(in.MessageID); got != "a" {
		t.Fatalf("first message handled by %q, want a (the holder)", got)
	}
	leases.lose()
	waitFor(t, 10*time.Second, "b to take the lease", func() bool { leases.mu.Lock(); defer leases.mu.Unlock(); return len(leases.names) == 2 })
	second := message(2, "No conecta la VPN", "Sin VPN.")
	appendTo(t, c, "INBOX", second)
	waitFor(t, 20*time.Second, "the second message", func() bool { return len(e.tickets(t)) == 2 })
	in, _ = mailin.Parse(second)
	if got := by(in.MessageID); got != "b" {
		t.Errorf("second message handled by %q, want b (a lost the lease)", got)
	}
	leases.mu.Lock()
	if leases.released != 1 {
		t.Errorf("got %d releases, want 1 (a's, after its poller stopped)", leases.released)
	}
	leases.mu.Unlock()
}
