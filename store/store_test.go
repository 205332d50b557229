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
