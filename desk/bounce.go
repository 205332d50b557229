package desk

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/mesadeservicios/mesa/internal/i18n"
	"github.com/mesadeservicios/mesa/ticket"
)

// Delivery reports prove themselves. Anyone can send a mail that looks like
// one, so a report changes something only when it refers to a mail mesa
// sent to that very recipient: it is addressed to the per-message return
// path (VERP) of an outbox row, or it quotes the exact Message-ID of an
// outbox row (random, so not guessable) whose recipient is the report's
// Final-Recipient. A report that proves nothing is kept, quarantined, and
// changes nothing.

// bounce handles a delivery report: when it proves which mail bounced,
// that mail is marked failed and recorded on its ticket.
func (d *Desk) bounce(ctx context.Context, in *ticket.Inbound) (IntakeResult, int64, error) {
	out, rcpt, how, err := d.provenBounce(ctx, in)
	if err != nil {
		return IntakeResult{}, 0, err
	}
	if out == nil {
		d.log.Warn("delivery report proves nothing: changed nothing", "why", how, "recipient", in.Report.Recipient)
		return IntakeResult{Disposition: DispQuarantined, Reason: "delivery report that proves no mail of ours: " + how}, 0, nil
	}
	return d.bounced(ctx, out, in.Report, rcpt, how)
}

// provenBounce finds the outbox row a report proves, with the report's
// block for its recipient (nil for a free-form report), or says why none.
func (d *Desk) provenBounce(ctx context.Context, in *ticket.Inbound) (*ticket.Outgoing, *ticket.DSNRecipient, string, error) {
	r := in.Report
	named := func(addr string) (*ticket.DSNRecipient, bool) {
		addr = strings.ToLower(addr)
		for i := range r.Recipients {
			if rc := &r.Recipients[i]; rc.Final == addr || rc.Original == addr {
				return rc, true
			}
		}
		if len(r.Recipients) == 0 && (r.Recipient == "" || r.Recipient == addr) {
			return nil, true // free-form: the text named it, or nobody
		}
		return nil, false
	}
	// A per-message return path names its row.
	for _, a := range append(append([]ticket.Address(nil), in.To...), in.Cc...) {
		id, ok := d.cfg.VERP.Row(a.Email)
		if !ok {
			continue
		}
		out, err := d.store.MailByID(ctx, id)
		if errors.Is(err, ticket.ErrNotFound) {
			return nil, nil, "its return path names no outbox row", nil
		}
		if err != nil {
			return nil, nil, "", err
		}
		if len(out.To) != 1 {
			return nil, nil, "the mail of its return path had several recipients", nil
		}
		rc, ok := named(out.To[0])
		if !ok {
			return nil, nil, "it names a recipient that the mail of its return path was not sent to", nil
		}
		return out, rc, "by return path", nil
	}
	// Otherwise the exact Message-ID of a mail to its Final-Recipient.
	if len(r.Recipients) == 0 && r.Recipient == "" {
		return nil, nil, "it names no recipient", nil
	}
	why := "it quotes no Message-ID of ours"
	for _, id := range r.MessageIDs {
		out, err := d.store.MailByMessageID(ctx, strings.Trim(id, "<> "))
		if errors.Is(err, ticket.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, nil, "", err
		}
		why = "the mail it quotes was not sent to the recipient it names"
		if len(out.To) != 1 {
			continue
		}
		rc, ok := named(out.To[0])
		if !ok {
			continue
		}
		return out, rc, "by Message-ID and recipient", nil
	}
	return nil, nil, why, nil
}

// permanentRE finds a permanent failure status (RFC 3463 class 5).
var permanentRE = regexp.MustCompile(`\b5\.\d{1,3}\.\d{1,3}\b`)

// bounced marks an outbox mail failed and records it on its ticket. A
// permanent failure marks the address undeliverable for UndeliverableFor:
// further automatic mail to it is held; a staff address so marked is
// reported to the owners.
func (d *Desk) bounced(ctx context.Context, out *ticket.Outgoing, r *ticket.DeliveryReport, rc *ticket.DSNRecipient, how string) (IntakeResult, int64, error) {
	status, permanent := r.Status, permanentRE.MatchString(r.Status)
	if rc != nil {
		status = strings.Trim(rc.Status+"; "+rc.Diagnostic, "; ")
		if status == "" {
			status = r.Status
		}
		switch rc.Action {
		case "", "failed":
			permanent = rc.Permanent()
		default: // delayed, delivered, relayed, expanded: not a failure
			return IntakeResult{Disposition: DispBounce, Reason: "delivery report (" + rc.Action + "), " + how}, 0, nil
		}
	}
	out.State, out.LastError = ticket.OutboxFailed, "bounce: "+status
	if err := d.store.UpdateMail(ctx, out); err != nil {
		return IntakeResult{}, 0, err
	}
	if permanent {
		now := d.now().UTC()
		addr := out.To[0]
		if err := d.store.MarkUndeliverable(ctx, addr, status, now); err != nil {
			return IntakeResult{}, 0, err
		}
		if d.isStaff(ctx, addr) {
			if err := d.alertOperators(ctx, out, addr, status, now); err != nil {
				return IntakeResult{}, 0, err
			}
		}
	}
	if out.TicketID == 0 {
		return IntakeResult{Disposition: DispBounce, Reason: status + ", " + how}, 0, nil
	}
	t, err := d.store.TicketByID(ctx, out.TicketID)
	if err != nil {
		return IntakeResult{}, 0, err
	}
	_, err = d.change(ctx, t.Number, func(ctx context.Context, t *ticket.Ticket, now time.Time) error {
		return d.record(ctx, t, &ticket.Event{Kind: ticket.EventMailFailed, Actor: ticket.SystemActor, At: now,
			To: strings.Join(out.To, ", "), Body: i18n.Tf(d.cfg.Language, "desk.note.undelivered", strings.Join(out.To, ", "), status)})
	})
	return IntakeResult{Disposition: DispBounce, Ticket: t.Number, Reason: status + ", " + how}, t.ID, err
}

// alertOperators tells the owners that a staff address is now held by a
// bounce: a technician who silently stops getting assignments is worse
// than the bounce.
func (d *Desk) alertOperators(ctx context.Context, out *ticket.Outgoing, addr, status string, now time.Time) error {
	owners, err := d.store.PeopleWithRole(ctx, ticket.RoleOwner)
	if err != nil {
		return err
	}
	sent := 0
	for _, p := range owners {
		if !p.Active || strings.EqualFold(p.Email, addr) {
			continue
		}
		n := &ticket.Notice{To: p.Email, ToName: p.Name, Lang: d.cfg.Language, At: now,
			Payload: ticket.UndeliverableNotice{Address: addr, Status: status, Subject: out.Subject, Until: now.Add(d.cfg.UndeliverableFor)}}
		n.DedupeKey = fmt.Sprintf("%s:%s:%d:%s", n.Kind(), addr, out.ID, strings.ToLower(p.Email))
		if _, _, err := d.queue(ctx, n); err != nil {
			return err
		}
		sent++
	}
	d.log.Error("ALERT: a staff address bounces for good: automatic mail to it is held", "to", addr, "status", status,
		"outbox_id", out.ID, "owners_told", sent)
	return nil
}
