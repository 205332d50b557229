// Package health is the readiness policy behind web's /readyz: when the
// daemon counts as doing its work. Every configured mailbox has been
// reached, within MaxIntakeSilence, and its OAuth grant was not refused
// (a mailbox never reached is not ready: a wrong password or host must not
// look healthy); no outgoing mail has been due longer than MaxOutboxDelay. The
// HTTP handlers stay in web, which takes Policy.Check as its Ready func.
package health

import (
	"context"
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

// Check returns nil when the daemon is ready, or the first reason it is
// not.
func (p Policy) Check(ctx context.Context) error {
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
	t := now()
	if p.Outbox != nil {
		_, oldest, err := p.Outbox.OutboxStats(ctx, t)
		if err != nil {
			return err
		}
		if !oldest.IsZero() && t.Sub(oldest) > maxOutbox {
			return fmt.Errorf("outbox: mail due since %s is not sent", oldest.Format(time.RFC3339))
		}
	}
	for _, intake := range p.Intakes {
		st := intake()
		what := "imap"
		if st.Name != "" {
			what += " " + st.Name
		}
		if st.NeedsReauthorization {
			return fmt.Errorf("%s: the mailbox needs re-authorisation: %s", what, st.LastError)
		}
		if st.LastSuccess.IsZero() {
			why := st.LastError
			if why == "" {
				why = "no attempt reported yet"
			}
			return fmt.Errorf("%s: the mailbox has never been reached: %s", what, why)
		}
		if t.Sub(st.LastSuccess) > maxSilence {
			return fmt.Errorf("%s: no successful fetch since %s: %s", what, st.LastSuccess.Format(time.RFC3339), st.LastError)
		}
	}
	return nil
}
