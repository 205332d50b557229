package mailout

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/mesadeservicios/mesa/config"
	"github.com/mesadeservicios/mesa/internal/i18n"
	"github.com/mesadeservicios/mesa/ticket"
)

// Store is what the outbox worker needs from storage.
type Store interface {
	ClaimMail(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*ticket.Outgoing, error)
	UpdateMail(ctx context.Context, m *ticket.Outgoing) error
	AddEvent(ctx context.Context, e *ticket.Event) error
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}

// Sender delivers one rendered mail. Its errors say whether a retry can
// help: a *SendError with Temporary set, or any other error (network,
// timeouts), are retried; a *SendError without it is final.
type Sender interface {
	Send(ctx context.Context, from string, to []string, raw []byte) error
}

// SendError is a server's answer to a mail (RFC 5321 §4.2): 4xx temporary,
// 5xx permanent.
type SendError struct {
	Code      int
	Msg       string
	Temporary bool
}

func (e *SendError) Error() string { return fmt.Sprintf("smtp %d: %s", e.Code, e.Msg) }

// WorkerOptions configure the outbox worker; zero fields take the defaults
// in brackets.
type WorkerOptions struct {
	Interval    time.Duration    // how often to look for due mail [1s]
	Batch       int              // mails sent per pass before looking again [20]
	Lease       time.Duration    // a claimed mail is left alone this long, plus 1 s per 64 KiB [2m]
	BaseBackoff time.Duration    // first retry delay, doubled each attempt [1m]
	MaxBackoff  time.Duration    // [1h]
	GiveUpAfter time.Duration    // a mail still failing this long after it was queued fails [config's limits.outbox_give_up_after]
	Logger      *slog.Logger     // [slog.Default()]
	Now         func() time.Time // [time.Now]
	// Recorder, when set, records the mail_sent and mail_failed events on
	// the ticket (desk.RecordMail, which also notifies the assignee of a
	// failure); otherwise the worker adds the events itself.
	Recorder Recorder
	// ReturnPath, when set, is the SMTP envelope sender (MAIL FROM) of an
	// outbox row, given its id: a per-message return path (VERP,
	// auth.VERP.ReturnPath), so that a delivery report names the row it
	// bounces. Nil: the row's From.
	ReturnPath func(id int64) string
	// Language is the desk's (config desk.language): the language of the
	// failure notes the worker writes on tickets [es].
	Language string
}

// Recorder records a send outcome on its ticket, in the caller's
// transaction.
type Recorder interface {
	RecordMail(ctx context.Context, ticketID int64, e *ticket.Event) error
}

// Worker sends the outbox.
type Worker struct {
	store  Store
	sender Sender
	o      WorkerOptions
	wake   chan struct{}

	mu    sync.Mutex
	stats WorkerStats
}

// WorkerStats counts what the worker did.
type WorkerStats struct{ Sent, Retried, Failed int }

// NewWorker returns a worker; o may be zero.
func NewWorker(s Store, sender Sender, o WorkerOptions) *Worker {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.Interval, time.Second)
	def(&o.Lease, 2*time.Minute)
	def(&o.BaseBackoff, time.Minute)
	def(&o.MaxBackoff, time.Hour)
	def(&o.GiveUpAfter, config.Default().Limits.OutboxGiveUpAfter)
	if o.Batch <= 0 {
		o.Batch = 20
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Language != "en" {
		o.Language = "es"
	}
	return &Worker{store: s, sender: sender, o: o, wake: make(chan struct{}, 1)}
}

// Wake asks the worker to look for due mail now.
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Stats returns a copy of the counters.
func (w *Worker) Stats() WorkerStats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stats
}

// Run sends due mail until ctx is done.
func (w *Worker) Run(ctx context.Context) error {
	t := time.NewTicker(w.o.Interval)
	defer t.Stop()
	for {
		for {
			n, err := w.Once(ctx)
			if err != nil {
				w.o.Logger.Error("outbox: cannot read due mail", "err", err)
				break
			}
			if n < w.o.Batch {
				break
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		case <-w.wake:
		}
	}
}

// Once sends up to Batch due mails and returns how many it handled. It
// claims them one at a time: the lease must outlast the slowest send (the
// SMTP dial and deadline, twice the timeout plus a second per 64 KiB), and a
// worker killed mid-send strands only the mail in its hands, for one lease,
// instead of a whole batch for the batch's worst case.
func (w *Worker) Once(ctx context.Context) (int, error) {
	n := 0
	for n < w.o.Batch {
		rows, err := w.store.ClaimMail(ctx, w.o.Now(), w.o.Lease, 1)
		if err != nil {
			return n, err
		}
		if len(rows) == 0 {
			break
		}
		w.send(ctx, rows[0])
		n++
	}
	return n, nil
}

func (w *Worker) send(ctx context.Context, m *ticket.Outgoing) {
	log := w.o.Logger.With("outbox_id", m.ID, "ticket_id", m.TicketID, "to", strings.Join(m.To, ","))
	from := m.From
	if w.o.ReturnPath != nil {
		from = w.o.ReturnPath(m.ID)
	}
	err := w.sender.Send(ctx, from, m.To, m.Raw)
	now := w.o.Now().UTC()
	m.Attempts++
	var ev *ticket.Event
	var se *SendError
	switch {
	case err == nil:
		m.State, m.SentAt, m.LastError = ticket.OutboxSent, &now, ""
		ev = &ticket.Event{Kind: ticket.EventMailSent, Actor: ticket.SystemActor, At: now, To: strings.Join(m.To, ", "), Body: m.Subject}
		w.count(func(s *WorkerStats) { s.Sent++ })
		log.Info("mail sent", "attempts", m.Attempts)
	case errors.As(err, &se) && !se.Temporary, now.Sub(m.CreatedAt) >= w.o.GiveUpAfter:
		m.State, m.LastError = ticket.OutboxFailed, err.Error()
		ev = &ticket.Event{Kind: ticket.EventMailFailed, Actor: ticket.SystemActor, At: now, To: strings.Join(m.To, ", "),
			Body: i18n.Tf(w.o.Language, "note.mail_failed", m.Subject, strings.Join(m.To, ", "), err)}
		w.count(func(s *WorkerStats) { s.Failed++ })
		log.Error("ALERT: mail failed for good; recorded on the ticket", "err", err, "attempts", m.Attempts)
	default:
		delay := w.o.BaseBackoff << min(m.Attempts-1, 20)
		m.NextAttemptAt, m.LastError = now.Add(min(delay, w.o.MaxBackoff)), err.Error()
		w.count(func(s *WorkerStats) { s.Retried++ })
		log.Warn("mail deferred", "err", err, "attempts", m.Attempts, "next_attempt", m.NextAttemptAt)
	}
	record := func() error {
		return w.store.InTx(ctx, func(ctx context.Context) error {
			if err := w.store.UpdateMail(ctx, m); err != nil {
				return err
			}
			if ev != nil && m.TicketID != 0 {
				ev.TicketID = m.TicketID
				if w.o.Recorder != nil {
					return w.o.Recorder.RecordMail(ctx, m.TicketID, ev)
				}
				return w.store.AddEvent(ctx, ev)
			}
			return nil
		})
	}
	// The database may be restarting, or the pool may hold connections it
	// broke: retry while the lease keeps the row ours (half of it), since a
	// sent mail whose outcome is not recorded is sent again when the lease
	// ends.
	giveUp := time.Now().Add(w.o.Lease / 2)
	for wait := 100 * time.Millisecond; ; wait = min(2*wait, 5*time.Second) {
		err = record()
		if err == nil || ctx.Err() != nil || time.Now().Add(wait).After(giveUp) {
			break
		}
		log.Warn("outbox: cannot record the outcome of a send; retrying", "err", err, "in", wait)
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
	}
	if err != nil {
		// The lease keeps the row from being sent again before it is
		// reconciled; a sent mail may be sent once more after it ends.
		log.Error("outbox: cannot record the outcome of a send", "err", err)
	}
}

func (w *Worker) count(f func(s *WorkerStats)) {
	w.mu.Lock()
	f(&w.stats)
	w.mu.Unlock()
}
