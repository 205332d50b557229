package jobs_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/internal/testpg"
	"github.com/mesadeservicios/mesa/jobs"
	"github.com/mesadeservicios/mesa/store"
	"github.com/mesadeservicios/mesa/store/storetest"
)

var quiet = slog.New(slog.DiscardHandler)

func TestRunIsRecordedWithCounts(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	now := time.Date(2026, 3, 24, 13, 0, 30, 0, time.UTC)
	s := jobs.New(jobs.Options{Runs: db, Logger: quiet, Now: func() time.Time { return now }})
	err := s.RunNow(ctx, "sla_check", func(ctx context.Context) error {
		jobs.Count(ctx, "warned", 2)
		jobs.Count(ctx, "warned", 1)
		jobs.Count(ctx, "mails", 1)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The same minute again: already run.
	if err := s.RunNow(ctx, "sla_check", func(context.Context) error { t.Error("ran twice"); return nil }); !errors.Is(err, jobs.ErrSkipped) {
		t.Errorf("second run in the same minute: got %v, want ErrSkipped", err)
	}
	now = now.Add(time.Minute)
	boom := s.RunNow(ctx, "sla_check", func(context.Context) error { panic("nil map") })
	if boom == nil {
		t.Error("a panicking job reported no error")
	}
	runs, err := db.JobRuns(ctx, "sla_check", 10)
	if err != nil || len(runs) != 2 {
		t.Fatalf("runs: %+v %v", runs, err)
	}
	if runs[1].Status != "ok" || runs[1].Detail != `{"mails":1,"warned":3}` || !runs[1].ScheduledFor.Equal(now.Add(-time.Minute).Truncate(time.Minute)) {
		t.Errorf("first run: %+v", runs[1])
	}
	if runs[0].Status != "failed" || runs[0].Error == "" || runs[0].FinishedAt == nil {
		t.Errorf("panicking run: %+v", runs[0])
	}
}

// A run still going when the job comes due again is skipped, not queued.
func TestOverlappingRunIsSkipped(t *testing.T) {
	var observed []string
	var mu sync.Mutex
	s := jobs.New(jobs.Options{Logger: quiet, Observe: func(job, outcome string, _ time.Duration) {
		mu.Lock()
		observed = append(observed, outcome)
		mu.Unlock()
	}})
	started, release := make(chan struct{}), make(chan struct{})
	done := make(chan error)
	go func() {
		done <- s.RunNow(context.Background(), "digest", func(context.Context) error { close(started); <-release; return nil })
	}()
	<-started
	if err := s.RunNow(context.Background(), "digest", func(context.Context) error { return nil }); !errors.Is(err, jobs.ErrSkipped) {
		t.Errorf("overlapping run: got %v, want ErrSkipped", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(observed) != 2 || observed[0] != "skipped" || observed[1] != "ok" {
		t.Errorf("observed: %v", observed)
	}
}

// Two schedulers on one PostgreSQL, firing every second for over a second:
// the job runs once for the minute, by one of them.
func TestTwoSchedulersOnePostgres(t *testing.T) {
	ctx := context.Background()
	dsn := testpg.NewDatabase(t)
	var ran atomic.Int32
	var wg sync.WaitGroup
	// Start just after a minute's second 0 would split the window across
	// two minutes: wait if less than 3 s remain in this one (checked once
	// the databases are ready).
	// Both databases are migrated before the clock starts: the window is
	// for the schedulers, not for the schema.
	var dbs []*store.DB
	for i := 0; i < 2; i++ {
		db, err := store.Open(ctx, "postgres", dsn, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if _, err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		dbs = append(dbs, db)
	}
	if time.Until(time.Now().Truncate(time.Minute).Add(time.Minute)) < 3*time.Second {
		time.Sleep(3 * time.Second)
	}
	runCtx, cancel := context.WithTimeout(ctx, 1500*time.Millisecond)
	defer cancel()
	for _, db := range dbs {
		s := jobs.New(jobs.Options{Runs: db, Logger: quiet})
		if err := s.Add("sla_check", "* * * * * *", func(context.Context) error { ran.Add(1); return nil }); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() { defer wg.Done(); s.Run(runCtx) }()
	}
	wg.Wait()
	if n := ran.Load(); n != 1 {
		t.Errorf("the job ran %d times across two schedulers in one minute, want 1", n)
	}
}

func TestBadScheduleAndDisabled(t *testing.T) {
	s := jobs.New(jobs.Options{Logger: quiet})
	if err := s.Add("digest", "every tuesday", func(context.Context) error { return nil }); err == nil {
		t.Error("bad schedule: got nil error")
	}
	if err := s.Add("surveys", "", func(context.Context) error { return nil }); err != nil {
		t.Errorf("disabled job: %v", err)
	}
}
