package desk

import (
	"context"
	"strings"
	"time"

	"github.com/mesadeservicios/mesa/auth"
	"github.com/mesadeservicios/mesa/internal/i18n"
	"github.com/mesadeservicios/mesa/ticket"
)

// The sender-trust model (docs/DESIGN-NOTES.md, "Who a mail speaks for"):
// a mail speaks for its From address, authenticated when the configured
// provider vouches for it (package auth). Every staff action by mail —
// commands, an answer relayed to the requester, a change of state, the
// first response — needs the identity that passed authentication to be
// the staff member who acts. Mail from a staff address that is not
// authenticated is kept as an internal note marked unverified, relays
// nothing, and its address hears of it at most once an hour.

// Identity is who a mail speaks for.
type Identity struct {
	// Address is the address mesa attributes the mail to (lower case).
	Address string
	// Authenticated is set when the mail platform vouched for Address.
	Authenticated bool
	// Rule names the rule that decided (auth.Rule*).
	Rule string
}

// identity is the one decision of who a mail speaks for, with why; every
// staff path calls it.
func (d *Desk) identity(in *ticket.Inbound) (Identity, string) {
	v := d.auth.Explain(in)
	return Identity{Address: v.Identity, Authenticated: v.Authenticated, Rule: v.Rule}, v.Reason
}

// AuthPolicy is the authentication policy of a desk configuration: Auth
// when its provider is set, otherwise rfc8601 with TrustedAuthServID (and
// AllowUnauthenticatedCommands as auth.require: false). The desk's own
// Addresses never act for anyone. `mesa auth explain` uses the same.
func (c Config) AuthPolicy() auth.Policy {
	p := c.Auth
	if p.Provider == "" {
		p.Provider = auth.RFC8601
	}
	if p.TrustedAuthServID == "" {
		p.TrustedAuthServID = c.TrustedAuthServID
	}
	p.Off = p.Off || c.AllowUnauthenticatedCommands
	p.Own = append(append([]string(nil), p.Own...), c.Addresses...)
	return p
}

// UnverifiedData marks, in a note's data, staff-address mail that was not
// authenticated.
const UnverifiedData = `{"unverified":true}`

// unverifiedStaffMail keeps mail from a staff address that is not
// authenticated (or speaks for someone else) as an internal note marked
// unverified: no command applies, nothing reaches the requester, the first
// response is not set. The address is told once an hour at most.
func (d *Desk) unverifiedStaffMail(ctx context.Context, m *inMail, text string, id Identity, why string) (IntakeResult, int64, error) {
	_, err := d.change(ctx, m.thread.Number, func(ctx context.Context, t *ticket.Ticket, now time.Time) error {
		return d.record(ctx, t, &ticket.Event{Kind: ticket.EventNote, Actor: m.sender, At: now, Data: UnverifiedData,
			Body: i18n.Tf(d.cfg.Language, "desk.note.unverified_mail", m.sender, why, text)})
	})
	if err != nil {
		return IntakeResult{}, 0, err
	}
	d.log.Warn("staff mail not authenticated: kept as an unverified note", "ticket", m.thread.Number, "from", m.sender,
		"rule", id.Rule, "reason", why)
	if err := d.unverifiedNotice(ctx, m.thread, m, []string{
		i18n.T(d.cfg.Language, "desk.unverified.kept"), i18n.T(d.cfg.Language, "desk.unverified.advice"),
	}); err != nil {
		return IntakeResult{}, 0, err
	}
	return IntakeResult{Disposition: DispReply, Ticket: m.thread.Number,
		Reason: m.how + ", from a staff address, NOT authenticated (" + id.Rule + "): kept as an unverified note"}, m.thread.ID, nil
}

// unverifiedNotice tells a staff address that mail in its name was not
// authenticated and changed nothing (t is nil for mail about no ticket).
// One notice per address and hour, whatever the path (an answer, a
// command in a reply, desk commands in a new mail): a forger cannot make
// the desk mail a technician (nor fill the technician's throttle) by
// writing often.
func (d *Desk) unverifiedNotice(ctx context.Context, t *ticket.Ticket, m *inMail, lines []string) error {
	now := d.now().UTC()
	n := &ticket.Notice{Ticket: t, To: m.sender, Lang: d.cfg.Language, InReplyTo: m.msg.Key, At: now,
		Payload: ticket.CommandsNotice{Rejected: true, Lines: lines}}
	n.DedupeKey = unverifiedKey(m.sender, now)
	_, _, err := d.queue(ctx, n)
	return err
}

// unverifiedKey is the dedupe key of every mail that unauthenticated
// staff-address mail provokes (a refusal, the acknowledgement of a ticket
// it opened): one per address and hour in all.
func unverifiedKey(addr string, at time.Time) string {
	return "unverified:" + addr + ":" + at.UTC().Format("2006-01-02T15")
}

// senderKey is the dedupe key of a notice a mail provokes to its own
// sender: key, except for mail from a staff address that is not
// authenticated as it, whose notices share unverifiedKey (one an hour).
func (d *Desk) senderKey(ctx context.Context, m *inMail, key string) string {
	if !d.staffAuthenticated(m) && d.isStaff(ctx, m.sender) {
		return unverifiedKey(m.sender, d.now())
	}
	return key
}

// looksAutomatic says whether mail that opens a ticket looks automatic
// though mailin found no header saying so: its sender is a no-reply,
// notification or mailer address, or it repeats word for word a request
// the same sender opened in the last day (an auto-responder without
// RFC 3834 headers). An answer to such mail is what a loop is made of, and
// only such answers count for the loop throttle; distinct requests of a
// person are always acknowledged.
func (d *Desk) looksAutomatic(ctx context.Context, in *ticket.Inbound, sender, body string) (bool, error) {
	if in.Automatic != "" || in.NullReturnPath || noSurveyRE.MatchString(strings.ToLower(sender)) {
		return true, nil
	}
	return d.store.RepeatedRequest(ctx, sender, body, d.now().Add(-24*time.Hour))
}
