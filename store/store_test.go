package store_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/internal/testpg"
	"github.com/mesadeservicios/mesa/store"
	"github.com/mesadeservicios/mesa/store/storetest"
	"github.com/mesadeservicios/mesa/ticket"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testpg.Stop()
	os.Exit(code)
}

func TestSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) *store.DB {
		db, err := store.Open(context.Background(), "sqlite", filepath.Join(t.TempDir(), "mesa.db"), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}

func TestPostgres(t *testing.T) {
	storetest.Run(t, func(t *testing.T) *store.DB {
		db, err := store.Open(context.Background(), "postgres", testpg.NewDatabase(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}

func TestPostgresLeaseTakeover(t *testing.T) {
	ctx := context.Background()
	url := testpg.NewDatabase(t)
	a, err := store.Open(ctx, "postgres", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := store.Open(ctx, "postgres", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	la, err := a.AcquireLease(ctx, "imap:INBOX", 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan *store.Lease, 1)
	go func() {
		lb, err := b.AcquireLease(ctx, "imap:INBOX", 50*time.Millisecond)
		if err == nil {
			got <- lb
		}
	}()
	select {
	case <-got:
		t.Fatal("the standby got the lease while the active instance held it")
	case <-time.After(300 * time.Millisecond):
	}
	other, err := b.AcquireLease(ctx, "imap:Otro", 50*time.Millisecond)
	if err != nil {
		t.Fatalf("a different lease must be free: %v", err)
	}
	other.Release()
	la.Release() // the active instance stops (or dies: its connection closes)
	select {
	case lb := <-got:
		lb.Release()
	case <-time.After(5 * time.Second):
		t.Fatal("the standby did not take over")
	}
}

// While a ticket is being changed (its row locked), the SLA watch's read
// skips it instead of reading a version it would later write over.
func TestPostgresSLAPendingSkipsLockedTickets(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, "postgres", testpg.NewDatabase(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 24, 15, 0, 0, 0, time.UTC)
	var ids []int64
	for i := 0; i < 2; i++ {
		err := db.InTx(ctx, func(ctx context.Context) error {
			seq, err := db.NextTicketSeq(ctx, 2026)
			if err != nil {
				return err
			}
			tk := &ticket.Ticket{Number: ticket.Number{Prefix: "MS", Year: 2026, Seq: seq}.String(), Year: 2026, Seq: seq,
				Subject: "x", Requester: "a@b.co", State: ticket.EnProceso, Type: ticket.Incidente, Criticality: ticket.Media,
				Category: ticket.Unclassified, AccessKeyHash: "h", CreatedAt: at, UpdatedAt: at, SLANextAt: &at}
			if err := db.CreateTicket(ctx, tk); err != nil {
				return err
			}
			ids = append(ids, tk.ID)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	locked, release, done := make(chan struct{}), make(chan struct{}), make(chan error)
	go func() {
		done <- db.InTx(ctx, func(ctx context.Context) error {
			if _, err := db.TicketByID(ctx, ids[0]); err != nil { // FOR UPDATE
				return err
			}
			close(locked)
			<-release
			return nil
		})
	}()
	<-locked
	var got []*ticket.Ticket
	err = db.InTx(ctx, func(ctx context.Context) error {
		got, err = db.SLAPending(ctx, at, 10)
		return err
	})
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err != nil || len(got) != 1 || got[0].ID != ids[1] {
		t.Fatalf("pending while ticket %d is locked: %v %v", ids[0], got, err)
	}
}
