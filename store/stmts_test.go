package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/internal/testpg"
	"github.com/mesadeservicios/mesa/ticket"
)

// Reads outside a transaction go through the statement cache, which stays
// bounded, and which survives PostgreSQL restarting under it: after at
// most one failure per pooled connection, the same cached statements work.
func TestPreparedStatementsSurviveRestart(t *testing.T) {
	ctx := context.Background()
	pg := testpg.StartCluster(t)
	db, err := Open(ctx, "postgres", pg.NewDatabase(t), &Options{MaxOpenConns: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	read := func() error {
		_, err := db.TicketByNumber(ctx, "MS-2026-000001")
		if errors.Is(err, ticket.ErrNotFound) {
			return nil
		}
		return err
	}
	if err := read(); err != nil {
		t.Fatal(err)
	}
	cached := db.nstmts.Load()
	if cached == 0 {
		t.Fatal("a read outside a transaction was not prepared")
	}
	pg.Restart(t)
	failures := 0
	for i := 0; i < 10 && read() != nil; i++ {
		failures++
	}
	t.Logf("reads failed after the restart: %d", failures)
	if err := read(); err != nil || failures > 3 {
		t.Fatalf("after the restart: %d failures, then %v", failures, err)
	}
	if db.nstmts.Load() != cached {
		t.Errorf("the same read was prepared again: %d statements, was %d", db.nstmts.Load(), cached)
	}
	// Inside a transaction a statement without parameters is not
	// prepared (a migration's text may hold several statements).
	before := db.nstmts.Load()
	db.InTx(ctx, func(ctx context.Context) error { return db.queryRow(ctx, "SELECT 123456").Scan(new(int)) })
	if db.nstmts.Load() != before {
		t.Error("a read inside a transaction was cached")
	}
	// Queries with a variable text never grow the cache past its bound.
	for i := 0; i < maxStmts+20; i++ {
		var n int
		if err := db.queryRow(ctx, fmt.Sprintf("SELECT %d", i)).Scan(&n); err != nil || n != i {
			t.Fatalf("query %d: %d %v", i, n, err)
		}
	}
	if got := db.nstmts.Load(); got > maxStmts {
		t.Errorf("%d statements cached, bound %d", got, maxStmts)
	}
}

// Statements with parameters inside a transaction are prepared once and
// reused by later transactions (PostgreSQL then plans them once per
// connection: intake's transactions spent about as long planning as
// executing), and a transaction never waits for a second connection to
// prepare one: with the pool's only connection held by the transaction,
// the statement runs unprepared, at once.
func TestPreparedStatementsInTransactions(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name  string
		conns int
		want  int32 // statements cached by the transactions
	}{{"pool of 3", 3, 1}, {"pool of 1, held by the transaction", 1, 0}} {
		t.Run(c.name, func(t *testing.T) {
			db, err := Open(ctx, "postgres", testpg.NewDatabase(t), &Options{MaxOpenConns: c.conns})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			before := db.nstmts.Load()
			for i := 0; i < 3; i++ {
				start := time.Now()
				var n int
				err := db.InTx(ctx, func(ctx context.Context) error {
					return db.get(ctx, &n, "SELECT 1 + ?::int", i)
				})
				if err != nil || n != 1+i {
					t.Fatalf("transaction %d: got %d %v, want %d", i, n, err, 1+i)
				}
				if d := time.Since(start); d > 2*time.Second {
					t.Errorf("transaction %d took %s: it waited for a connection", i, d)
				}
			}
			if got := db.nstmts.Load() - before; got != c.want {
				t.Errorf("statements cached: got %d, want %d", got, c.want)
			}
		})
	}
}
