package mailin

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/store/storetest"
	"github.com/mesadeservicios/mesa/ticket"
)

// TestHandleThenFinishOneTransaction: with the store as State, the
// handler's writes and the clearing of the attempt counter commit together
// in one transaction, or not at all (the handler fails, or its goroutine
// dies as when the process is killed); the attempt recorded before stays
// counted whenever the message was not handled.
func TestHandleThenFinishOneTransaction(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 12, 1, 14, 0, 0, 0, time.UTC)
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	errHandler := errors.New("handler failed")
	for _, c := range []struct {
		name      string
		outcome   string // what the handler does after writing: "ok", "fail", "die"
		wantErr   error
		wantSaved bool // the handler's write is kept
		wantDied  int  // BeginAttempt afterwards: earlier starts not finished
	}{
		{"handled", "ok", nil, true, 0},
		{"handler fails", "fail", errHandler, false, 1},
		{"process dies in the handler", "die", nil, false, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			db := storetest.SQLite(t)
			const box, uv, uid = "INBOX", 7, 42
			if died, err := db.BeginAttempt(ctx, box, uv, uid, at); err != nil || died != 0 {
				t.Fatalf("first BeginAttempt: got %d %v, want 0", died, err)
			}
			_, tx0 := db.RoundTrips()
			var err error
			ended := make(chan struct{})
			go func() {
				defer close(ended)
				err = handleThenFinish(ctx, db, log, func(ctx context.Context) error {
					if err := db.SaveCursor(ctx, ticket.Cursor{Mailbox: box, UIDValidity: uv, LastUID: 99, UpdatedAt: at}); err != nil {
						return err
					}
					switch c.outcome {
					case "fail":
						return errHandler
					case "die":
						runtime.Goexit()
					}
					return nil
				}, func(ctx context.Context) error { return db.FinishAttempt(ctx, box, uv, uid) })
			}()
			<-ended
			if !errors.Is(err, c.wantErr) {
				t.Errorf("handleThenFinish: got %v, want %v", err, c.wantErr)
			}
			if _, tx1 := db.RoundTrips(); tx1-tx0 != 1 {
				t.Errorf("transactions: got %d, want 1 (handler and counter together)", tx1-tx0)
			}
			// A transaction left open by the dead goroutine would hold
			// SQLite's write lock: this write would wait 10 s and fail.
			wctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			defer cancel()
			died, err := db.BeginAttempt(wctx, box, uv, uid, at)
			if err != nil || died != c.wantDied {
				t.Errorf("BeginAttempt afterwards: got %d %v, want %d", died, err, c.wantDied)
			}
			cur, err := db.Cursor(ctx, box, uv)
			if saved := err == nil && cur.LastUID == 99; saved != c.wantSaved {
				t.Errorf("the handler's write kept: got %v (%+v, %v), want %v", saved, cur, err, c.wantSaved)
			}
		})
	}
}

// fakeState is a State without transactions.
type fakeState struct {
	State
	finishErr error
	finished  int
}

func (s *fakeState) FinishAttempt(context.Context, string, uint32, uint32) error {
	s.finished++
	return s.finishErr
}

// TestHandleThenFinishWithoutTransactions: a State that runs no
// transactions clears the counter after the handler, only when it
// succeeded, and a failure to clear does not fail a handled message.
func TestHandleThenFinishWithoutTransactions(t *testing.T) {
	ctx := context.Background()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	st := &fakeState{finishErr: errors.New("disk full")}
	finish := func(ctx context.Context) error { return st.FinishAttempt(ctx, "INBOX", 1, 1) }
	if err := handleThenFinish(ctx, st, log, func(context.Context) error { return nil }, finish); err != nil {
		t.Errorf("handled, counter not cleared: got %v, want nil", err)
	}
	if st.finished != 1 || !strings.Contains(logs.String(), "cannot clear the attempt counter") {
		t.Errorf("got %d clears and log %q, want 1 and a warning", st.finished, logs.String())
	}
	boom := errors.New("boom")
	if err := handleThenFinish(ctx, st, log, func(context.Context) error { return boom }, finish); !errors.Is(err, boom) || st.finished != 1 {
		t.Errorf("handler failed: got %v and %d clears, want boom and still 1", err, st.finished)
	}
}
