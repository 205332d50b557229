package mailin

import (
	"context"
	"log/slog"
	"time"
)

// Leases grants named leases, each held by one instance at a time among
// instances sharing a database (store.DB's advisory locks, through a small
// adapter where the daemon is wired). Acquire blocks until the lease is
// held or ctx is done; lost is closed when the lease is lost (the holding
// connection failed), and release gives it up.
type Leases interface {
	Acquire(ctx context.Context, name string) (lost <-chan struct{}, release func(), err error)
}

// Leader reads one mailbox on one instance at a time: it takes the
// mailbox's lease, runs the mailbox's Poller while it holds it, and stops
// the poller when the lease is lost; instances without the lease stand by
// in Acquire and take over when the holder dies. Each mailbox has its own
// Leader, under its own lease.
type Leader struct {
	poller *Poller
	leases Leases
	name   string
	retry  time.Duration
	log    *slog.Logger
}

// LeaderOptions configure a Leader; zero fields take the defaults in
// brackets.
type LeaderOptions struct {
	// Name is the lease's name ["imap:" username "/" mailbox of the
	// poller]: instances reading the same mailbox must use the same name.
	Name string
	// Retry is the pause after a failed attempt to take the lease [5s].
	Retry  time.Duration
	Logger *slog.Logger // [the poller's]
}

// NewLeader returns the leader of p's mailbox.
func NewLeader(p *Poller, leases Leases, o LeaderOptions) *Leader {
	l := &Leader{poller: p, leases: leases, name: o.Name, retry: o.Retry, log: o.Logger}
	if l.name == "" {
		l.name = LeaseName(p.o.Username, p.o.Mailbox)
	}
	if l.retry <= 0 {
		l.retry = 5 * time.Second
	}
	if l.log == nil {
		l.log = p.o.Logger
	}
	return l
}

// LeaseName is the lease of a user's mailbox.
func LeaseName(username, mailbox string) string { return "imap:" + username + "/" + mailbox }

// Name is the lease's name.
func (l *Leader) Name() string { return l.name }

// Poller is the mailbox's poller, for its Stats.
func (l *Leader) Poller() *Poller { return l.poller }

// Run reads the mailbox whenever this instance holds its lease, until ctx
// is done.
func (l *Leader) Run(ctx context.Context) {
	for ctx.Err() == nil {
		lost, release, err := l.leases.Acquire(ctx, l.name)
		if err != nil {
			if ctx.Err() == nil {
				l.log.Error("cannot take the mailbox lease", "err", err, "lease", l.name)
				select {
				case <-ctx.Done():
				case <-time.After(l.retry):
				}
			}
			continue
		}
		l.log.Info("reading the mailbox", "mailbox", l.poller.o.Mailbox, "imap", l.poller.o.Addr)
		pctx, cancel := context.WithCancel(ctx)
		go func() {
			select {
			case <-lost:
				l.log.Error("mailbox lease lost: stopping intake on this instance", "lease", l.name)
				cancel()
			case <-pctx.Done():
			}
		}()
		l.poller.Run(pctx)
		cancel()
		release()
	}
}
