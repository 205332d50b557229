// Package health is the readiness policy behind web's /readyz: when the
// daemon counts as doing its work. Every configured mailbox has been
// reached, within MaxIntakeSilence, and its OAuth grant was not refused
// (a mailbox never reached is not ready: a wrong password or host must not
// look healthy); no outgoing mail has been due longer than MaxOutboxDelay.
// The HTTP handlers stay in web, which takes Policy.Report as its Ready
// func and shows only each check's status word.
package health

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Outbox reports the oldest mail due and not yet sent (store.DB).
type Outbox interface {
	OutboxStats(ctx context.Context, now time.Time) (map[string]int, time.Time, error)
}

// Intake is the state of one mailbox's intake (from mailin.Poller.Stats).
type Intake struct {
	Name                 string    // the mailbox, for the message; "" when there is one
	LastSuccess          time.Time // zero: never reached
	LastError            string
	NeedsReauthorization bool
}

// Default limits of a Policy.
const (
	DefaultMaxOutboxDelay   = 30 * time.Minute
	DefaultMaxIntakeSilence = 10 * time.Minute
)

// Policy decides readiness; zero fields take the defaults in brackets.
type Policy struct {
	// Outbox is checked when set (nil: no SMTP server is configured, mail
	// waits on purpose).
	Outbox Outbox
	// Intakes report each mailbox's state.
	Intakes          []func() Intake
	MaxOutboxDelay   time.Duration    // [DefaultMaxOutboxDelay]
	MaxIntakeSilence time.Duration    // [DefaultMaxIntakeSilence]
	Now              func() time.Time // [time.Now]
}

// Check words: what /readyz shows of each check. Anything more (error
// text, addresses, times) goes to the log and to /metrics, never into the
// answer.
const (
	StatusOK          = "ok"
	StatusDown        = "down"        // the database does not answer
	StatusError       = "error"       // the check itself failed
	StatusStuck       = "stuck"       // outbox: mail due longer than MaxOutboxDelay
	StatusSilent      = "silent"      // intake: no successful fetch within MaxIntakeSilence
	StatusReauthorize = "reauthorize" // intake: the OAuth grant was refused
	StatusUnreached   = "unreached"   // intake: the mailbox has never been reached
)

// Report is the outcome of every check: Checks maps a check's name
// (outbox, imap, imap <mailbox>) to its status word; Errs explains each
// failed one, for the log.
type Report struct {
	Checks map[string]string
	Errs   []error
}

// Ready reports whether every check passed.
func (r Report) Ready() bool { return len(r.Errs) == 0 }

// Check returns nil when the daemon is ready, or every reason it is not.
func (p Policy) Check(ctx context.Context) error {
	return errors.Join(p.Report(ctx).Errs...)
}

// Report runs every check.
func (p Policy) Report(ctx context.Context) Report {
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	maxOutbox, maxSilence := p.MaxOutboxDelay, p.MaxIntakeSilence
	if maxOutbox <= 0 {
		maxOutbox = DefaultMaxOutboxDelay
	}
	if maxSilence <= 0 {
		maxSilence = DefaultMaxIntakeSilence
	}
	r := Report{Checks: map[string]string{}}
	set := func(name, status string, err error) {
		r.Checks[name] = status
		if err != nil {
			r.Errs = append(r.Errs, err)
		}
	}
	t := now()
	if p.Outbox != nil {
		_, oldest, err := p.Outbox.OutboxStats(ctx, t)
		switch {
		case err != nil:
			set("outbox", StatusError, fmt.Errorf("outbox: %w", err))
		case !oldest.IsZero() && t.Sub(oldest) > maxOutbox:
			set("outbox", StatusStuck, fmt.Errorf("outbox: mail due since %s is not sent", oldest.Format(time.RFC3339)))
		default:
			set("outbox", StatusOK, nil)
		}
	}
	for _, intake := range p.Intakes {
		st := intake()
		what := "imap"
		if st.Name != "" {
			what += " " + st.Name
		}
		switch {
		case st.NeedsReauthorization:
			set(what, StatusReauthorize, fmt.Errorf("%s: the mailbox needs re-authorisation: %s", what, st.LastError))
		case st.LastSuccess.IsZero():
			why := st.LastError
			if why == "" {
				why = "no attempt reported yet"
			}
			set(what, StatusUnreached, fmt.Errorf("%s: the mailbox has never been reached: %s", what, why))
		case t.Sub(st.LastSuccess) > maxSilence:
			set(what, StatusSilent, fmt.Errorf("%s: no successful fetch since %s: %s", what, st.LastSuccess.Format(time.RFC3339), st.LastError))
		default:
			set(what, StatusOK, nil)
		}
	}
	return r
}
