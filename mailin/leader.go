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

// Reader reads one mailbox until ctx is done: the IMAP Poller or the
// Microsoft Graph reader.
type Reader interface {
	Run(ctx context.Context) error
	Stats() Stats
}

var (
	_ Reader = (*Poller)(nil)
	_ Reader = (*Graph)(nil)
)

// Leader reads one mailbox on one instance at a time: it takes the
// mailbox's lease, runs the mailbox's Reader while it holds it, and stops
// the reader when the lease is lost; instances without the lease stand by
// in Acquire and take over when the holder dies. Each mailbox has its own
// Leader, under its own lease.
type Leader struct {
	reader Reader
	leases Leases
	name   string
	retry  time.Duration
	log    *slog.Logger
}

// LeaderOptions configure a Leader; zero fields take the defaults in
// brackets.
type LeaderOptions struct {
	// Name is the lease's name ["imap:" username "/" mailbox of a
	// *Poller; the Graph reader's Name, "graph:" user "/" folder]:
	// instances reading the same mailbox must use the same name.
	Name string
	// Retry is the pause after a failed attempt to take the lease [5s].
	Retry  time.Duration
	Logger *slog.Logger // [the reader's]
}

// NewLeader returns the leader of r's mailbox.
func NewLeader(r Reader, leases Leases, o LeaderOptions) *Leader {
	l := &Leader{reader: r, leases: leases, name: o.Name, retry: o.Retry, log: o.Logger}
	switch r := r.(type) {
	case *Poller:
		if l.name == "" {
			l.name = LeaseName(r.o.Username, r.o.Mailbox)
		}
		if l.log == nil {
			l.log = r.o.Logger
		}
	case *Graph:
		if l.name == "" {
			l.name = r.o.Name
		}
		if l.log == nil {
			l.log = r.o.Logger
		}
	}
	if l.name == "" {
		l.name = "mailbox" // a Reader of another kind: give it a Name
	}
	if l.log == nil {
		l.log = slog.Default()
	}
	if l.retry <= 0 {
		l.retry = 5 * time.Second
	}
	return l
}

// LeaseName is the lease of a user's mailbox.
func LeaseName(username, mailbox string) string { return "imap:" + username + "/" + mailbox }

// Name is the lease's name.
func (l *Leader) Name() string { return l.name }

// Reader is the mailbox's reader, for its Stats.
func (l *Leader) Reader() Reader { return l.reader }

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
		l.log.Info("reading the mailbox", "lease", l.name)
		pctx, cancel := context.WithCancel(ctx)
		go func() {
			select {
			case <-lost:
				l.log.Error("mailbox lease lost: stopping intake on this instance", "lease", l.name)
				cancel()
			case <-pctx.Done():
			}
		}()
		l.reader.Run(pctx)
		cancel()
		release()
	}
}
