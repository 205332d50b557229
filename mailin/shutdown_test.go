package mailin_test

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/mailin"
	"github.com/mesadeservicios/mesa/store"
	"github.com/mesadeservicios/mesa/ticket"
)

// A shutdown (SIGTERM cancels the readers' context, signal.NotifyContext)
// is not a death: the crash guard must not count one against the message
// being handled, nor against the next one whose start the message before
// already committed (FinishAndBegin). Three restarts or deploys at those
// moments would otherwise quarantine an innocent message unparsed. (Found
// by an outside review of the intake changes.)

// cancelAfterCommit is the store as the poller sees it, cancelling the
// run right after the first transaction commits.
type cancelAfterCommit struct {
	*store.DB
	after func()
}

func (s *cancelAfterCommit) InTx(ctx context.Context, fn func(context.Context) error) error {
	err := s.DB.InTx(ctx, fn)
	if err == nil && s.after != nil {
		s.after()
		s.after = nil
	}
	return err
}

func TestShutdownIsNotADeath(t *testing.T) {
	run := func(t *testing.T, driver string, state func(*store.DB, func()) mailin.State, handle func(cancel func(), src ticket.Source)) (*env, uint32) {
		u := newUser(t, "INBOX")
		for i := 1; i <= 3; i++ {
			put(t, u, message(i, "Solicitud", "La impresora no imprime."))
		}
		srv := startMem(t, "", u, nil)
		e := newEnv(t, driver)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var uv atomic.Uint32
		p, err := mailin.NewPoller(mailin.Options{Addr: srv.addr, TLS: "none", Username: "mesa", Password: "mesapw",
			State: state(e.db, cancel), Logger: slog.New(e.logs), SweepInterval: time.Hour,
			Handle: func(ctx context.Context, raw []byte, in *ticket.Inbound, src ticket.Source) error {
				uv.Store(src.UIDValidity)
				handle(cancel, src)
				return e.desk.HandleMail(ctx, raw, in, src)
			}})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { p.Run(ctx); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatal("the poller did not stop")
		}
		return e, uv.Load()
	}
	deaths := func(t *testing.T, e *env, uv, uid uint32) int {
		died, err := e.db.BeginAttempt(context.Background(), "INBOX", uv, uid, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return died
	}
	t.Run("just after a commit that began the next message", func(t *testing.T) {
		e, uv := run(t, "postgres", func(db *store.DB, cancel func()) mailin.State { return &cancelAfterCommit{DB: db, after: cancel} },
			func(func(), ticket.Source) {})
		if uv == 0 {
			t.Fatal("no message was handled")
		}
		for uid := uint32(2); uid <= 3; uid++ {
			if n := deaths(t, e, uv, uid); n != 0 {
				t.Errorf("message %d after a shutdown: %d deaths, want 0", uid, n)
			}
		}
	})
	for _, driver := range []string{"sqlite", "postgres"} {
		t.Run("while handling, "+driver, func(t *testing.T) {
			e, uv := run(t, driver, func(db *store.DB, _ func()) mailin.State { return db },
				func(cancel func(), src ticket.Source) {
					if src.UID == 2 {
						cancel() // SIGTERM while message 2 is handled
					}
				})
			if n := deaths(t, e, uv, 2); n != 0 {
				t.Errorf("message 2 after a shutdown in its handling: %d deaths, want 0", n)
			}
		})
	}
}
