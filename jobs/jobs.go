// Package jobs runs mesa's scheduled work (the SLA watch, digests, survey
// reminders) on cron schedules. A job is a plain func(ctx) error, testable
// without the scheduler. Each scheduled instant runs once across every
// instance sharing the database: the run is claimed by inserting its
// (job, minute) row, which only one instance can do; a run still going when
// the next instant comes makes that instant skipped, not queued.
package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/mesadeservicios/mesa/ticket"
)

// Func is a job: it does one run's work.
type Func func(ctx context.Context) error

// Runs records job runs; store.DB implements it. StartJobRun fails with
// ticket.ErrAlreadyStored when the run was claimed already.
type Runs interface {
	StartJobRun(ctx context.Context, job string, scheduledFor, now time.Time) (int64, error)
	FinishJobRun(ctx context.Context, id int64, now time.Time, detail string, runErr error) error
}

// Options configure a Scheduler.
type Options struct {
	Runs     Runs
	Location *time.Location // schedules without CRON_TZ= run in it; America/Bogota
	Logger   *slog.Logger
	Now      func() time.Time
	// Observe, when set, is told of every run's end: job, outcome ("ok",
	// "failed", "skipped") and duration, for metrics.
	Observe func(job, outcome string, d time.Duration)
}

// Scheduler runs jobs on their schedules.
type Scheduler struct {
	opts Options
	cron *cron.Cron
	mu   sync.Mutex
	busy map[string]bool
	jobs []string
}

// New returns a scheduler; add jobs with Add, then Run it.
func New(opts Options) *Scheduler {
	if opts.Location == nil {
		opts.Location, _ = time.LoadLocation("America/Bogota")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	parser := cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
	return &Scheduler{opts: opts, busy: map[string]bool{},
		cron: cron.New(cron.WithLocation(opts.Location), cron.WithParser(parser))}
}

// Add schedules fn under name. An empty spec leaves the job disabled.
func (s *Scheduler) Add(name, spec string, fn Func) error {
	if spec == "" {
		s.opts.Logger.Info("job disabled", "job", name)
		return nil
	}
	if _, err := s.cron.AddFunc(spec, func() { s.RunNow(context.Background(), name, fn) }); err != nil {
		return fmt.Errorf("job %s: schedule %q: %w", name, spec, err)
	}
	s.jobs = append(s.jobs, name)
	return nil
}

// Run runs the schedules until ctx is done, then waits for running jobs.
func (s *Scheduler) Run(ctx context.Context) {
	s.opts.Logger.Info("scheduler started", "jobs", s.jobs, "zone", s.opts.Location.String())
	s.cron.Start()
	<-ctx.Done()
	<-s.cron.Stop().Done()
}

// ErrSkipped is returned by RunNow when the run did not happen: the job is
// still running here, or another instance claimed this instant.
var ErrSkipped = errors.New("run skipped")

// RunNow runs a job once for the current minute: it claims the run,
// calls fn with a context that collects counts (see Count), and records
// the outcome. It recovers a panicking job.
func (s *Scheduler) RunNow(ctx context.Context, name string, fn Func) (err error) {
	s.mu.Lock()
	if s.busy[name] {
		s.mu.Unlock()
		s.opts.Logger.Warn("job still running: this run is skipped", "job", name)
		s.observe(name, "skipped", 0)
		return fmt.Errorf("%s: %w (still running)", name, ErrSkipped)
	}
	s.busy[name] = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.busy, name)
		s.mu.Unlock()
	}()

	start := s.opts.Now()
	slot := start.Truncate(time.Minute)
	id := int64(0)
	if s.opts.Runs != nil {
		id, err = s.opts.Runs.StartJobRun(ctx, name, slot, start)
		if errors.Is(err, ticket.ErrAlreadyStored) {
			s.opts.Logger.Debug("job run claimed by another instance", "job", name, "slot", slot)
			s.observe(name, "skipped", 0)
			return fmt.Errorf("%s: %w (claimed elsewhere)", name, ErrSkipped)
		}
		if err != nil {
			s.opts.Logger.Error("cannot claim the job run", "job", name, "err", err)
			s.observe(name, "failed", 0)
			return err
		}
	}
	c := &counts{m: map[string]int{}}
	func() {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("%s panicked: %v", name, p)
			}
		}()
		err = fn(context.WithValue(ctx, countsKey{}, c))
	}()
	end := s.opts.Now()
	detail := c.json()
	outcome := "ok"
	if err != nil {
		outcome = "failed"
		s.opts.Logger.Error("job failed", "job", name, "err", err, "took", end.Sub(start))
	} else {
		s.opts.Logger.Info("job done", "job", name, "counts", detail, "took", end.Sub(start))
	}
	if s.opts.Runs != nil {
		// The outcome is recorded even when the job's context is done.
		if ferr := s.opts.Runs.FinishJobRun(context.WithoutCancel(ctx), id, end, detail, err); ferr != nil {
			s.opts.Logger.Error("cannot record the job run", "job", name, "err", ferr)
		}
	}
	s.observe(name, outcome, end.Sub(start))
	return err
}

func (s *Scheduler) observe(job, outcome string, d time.Duration) {
	if s.opts.Observe != nil {
		s.opts.Observe(job, outcome, d)
	}
}

type countsKey struct{}

type counts struct {
	mu sync.Mutex
	m  map[string]int
}

func (c *counts) json() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) == 0 {
		return ""
	}

	b, _ := json.Marshal(c.m) // map keys are sorted by encoding/json
	return string(b)
}

// Count adds n to a named count of the current run (warned, breached,
// mails…); the counts are recorded with the run. Outside a run it does
// nothing.
func Count(ctx context.Context, name string, n int) {
	if c, ok := ctx.Value(countsKey{}).(*counts); ok {
		c.mu.Lock()
		c.m[name] += n
		c.mu.Unlock()
	}
}
