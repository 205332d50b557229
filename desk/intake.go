package desk

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/mesadeservicios/mesa/rules"
	"github.com/mesadeservicios/mesa/ticket"
)

// IntakeStore is what intake needs from storage beyond Store.
type IntakeStore interface {
	StoreMessage(ctx context.Context, m *ticket.RawMessage) error
	SetMessageOutcome(ctx context.Context, id, ticketID int64, disposition, reason string) error
	AddAttachment(ctx context.Context, a *ticket.Attachment) error
	TicketIDByMessageID(ctx context.Context, messageID string) (int64, error)
	TicketByID(ctx context.Context, id int64) (*ticket.Ticket, error)
	AddParticipants(ctx context.Context, ticketID int64, emails ...string) error
	IsParticipant(ctx context.Context, ticketID int64, email string) (bool, error)
	PersonByEmail(ctx context.Context, email string) (*ticket.Person, error)
	MailByMessageID(ctx context.Context, id string) (*ticket.Outgoing, error)
	LatestMail(ctx context.Context, ticketID int64, to string) (*ticket.Outgoing, error)
	UpdateMail(ctx context.Context, m *ticket.Outgoing) error
	MarkUndeliverable(ctx context.Context, addr, reason string, at time.Time) error
}

// Disposition is what intake did with a message.
type Disposition string

// The dispositions; their names are part of `mesa ingest --json`.
const (
	DispTicket      Disposition = "ticket"      // a new ticket
	DispReply       Disposition = "reply"       // added to an existing ticket
	DispAutoreply   Disposition = "autoreply"   // automatic mail: stored, never answered
	DispBounce      Disposition = "bounce"      // delivery failure of one of our mails
	DispQuarantined Disposition = "quarantined" // kept for a person to review
	DispDuplicate   Disposition = "duplicate"   // already processed: nothing changed
)

// IntakeResult says what intake did with a message.
type IntakeResult struct {
	Disposition Disposition
	Ticket      string // number of the ticket it created or went to
	Reason      string
}

// MessageKey is the dedupe key of a message: its Message-ID in angle
// brackets, or the SHA-256 of its raw bytes when it has none (two different
// messages without Message-ID never collide; the same one read twice does).
func MessageKey(messageID string, raw []byte) string {
	if id := strings.Trim(strings.TrimSpace(messageID), "<>"); id != "" {
		return "<" + id + ">"
	}
	sum := sha256.Sum256(raw)
	return "sha256:" + hex.EncodeToString(sum[:])
}

var (
	// Reply and forward prefixes of many languages, stacked (pain point F1);
	// a bare "XX:" is never taken for one.
	replyPrefixRE = regexp.MustCompile(`(?i)^\s*((re|rv|fw|fwd|aw|wg|sv|vs|antw|r|tr|rif|res|enc)(\[\d+\])?\s*:\s*)+`)
)

// Intake turns one inbound message into what it means for the desk: a new
// ticket, a reply to one, an automatic reply, a bounce, or a message to
// quarantine, all in one transaction with the raw bytes. A message already
// stored changes nothing (duplicate). The mailbox cursor is the poller's
// business: correctness rests on the dedupe key, the cursor only saves
// work, so it is saved once per batch rather than in every transaction.
func (d *Desk) Intake(ctx context.Context, raw []byte, in *ticket.Inbound, src ticket.Source) (IntakeResult, error) {
	var res IntakeResult
	err := d.store.InTx(ctx, func(ctx context.Context) error {
		var err error
		res, err = d.intake(ctx, raw, in, src)
		return err
	})
	if err != nil {
		return IntakeResult{}, fmt.Errorf("intake of %s: %w", MessageKey(in.MessageID, raw), err)
	}
	d.log.Info("message processed", "disposition", res.Disposition, "ticket", res.Ticket, "reason", res.Reason,
		"message_id", in.MessageID, "imap_uid", src.UID)
	return res, nil
}

func (d *Desk) intake(ctx context.Context, raw []byte, in *ticket.Inbound, src ticket.Source) (IntakeResult, error) {
	if d.istore == nil {
		return IntakeResult{}, errors.New("desk has no intake store")
	}
	received := src.ReceivedAt
	if received.IsZero() {
		received = d.now()
	}
	msg := &ticket.RawMessage{Key: MessageKey(in.MessageID, raw), MessageID: in.MessageID, Mailbox: src.Mailbox,
		UIDValidity: src.UIDValidity, UID: src.UID, From: in.From.Email, Subject: in.Subject, Raw: raw,
		ReceivedAt: received.UTC()}
	if err := d.istore.StoreMessage(ctx, msg); errors.Is(err, ticket.ErrAlreadyStored) {
		return IntakeResult{Disposition: DispDuplicate, Reason: "already processed"}, nil
	} else if err != nil {
		return IntakeResult{}, err
	}
	res, ticketID, err := d.decide(ctx, msg, in, src)
	if err != nil {
		return IntakeResult{}, err
	}
	if ticketID != 0 {
		for _, a := range in.Attachments {
			size, sum := a.Size, a.SHA256
			if sum == "" {
				size, sum = int64(len(a.Data)), sha(a.Data)
			}
			// A large file stays in the raw message only (Data is nil): the
			// row indexes it by name, size and hash.
			if err := d.istore.AddAttachment(ctx, &ticket.Attachment{MessageID: msg.ID, TicketID: ticketID,
				Filename: ticket.SafeFilename(a.Filename), ContentType: a.ContentType, Size: size,
				SHA256: sum, Data: a.Data}); err != nil {
				return IntakeResult{}, err
			}
		}
	}
	return res, d.istore.SetMessageOutcome(ctx, msg.ID, ticketID, string(res.Disposition), res.Reason)
}

func (d *Desk) decide(ctx context.Context, msg *ticket.RawMessage, in *ticket.Inbound, src ticket.Source) (IntakeResult, int64, error) {
	sender := strings.ToLower(in.From.Email)
	quarantine := func(reason string) (IntakeResult, int64, error) {
		return IntakeResult{Disposition: DispQuarantined, Reason: reason}, 0, nil
	}
	if in.Report != nil {
		return d.bounce(ctx, in.Report)
	}
	if d.isOwn(sender) {
		// A list or Google Group that rewrote From to the desk's address
		// (DMARC) names the real sender in X-Original-From or Reply-To.
		for _, a := range append([]ticket.Address{in.OriginalFrom}, in.ReplyTo...) {
			if e := strings.ToLower(a.Email); e != "" && !d.isOwn(e) {
				sender, in.From = e, ticket.Address{Name: a.Name, Email: e}
				break
			}
		}
		if d.isOwn(sender) {
			return quarantine("from self: the sender is one of the desk's own addresses")
		}
	}
	if sender == "" {
		return quarantine("no sender address")
	}
	thread, how, err := d.thread(ctx, in, sender)
	if err != nil {
		return IntakeResult{}, 0, err
	}
	automated := in.Automatic != ""
	if automated && thread == nil && d.acceptsAutomated(sender) {
		// A monitoring alert or a web form the desk takes (pain point A4):
		// a ticket, without an acknowledgement nobody would read.
		t, err := d.Create(ctx, NewTicket{Subject: title(in.Subject, d.prefix), Body: in.Text, Requester: sender,
			MessageID: in.MessageID, RequesterName: in.From.Name,
			Details: map[string]any{"message_key": msg.Key, AutomatedDetail: true}})
		if err != nil {
			return IntakeResult{}, 0, err
		}
		return IntakeResult{Disposition: DispTicket, Ticket: t.Number, Reason: "automatic mail from an accepted sender"}, t.ID, nil
	}
	if automated {
		if thread == nil {
			return IntakeResult{Disposition: DispAutoreply, Reason: "automatic reply, no ticket"}, 0, nil
		}
		// Recorded for the technicians; never reopens, never answered.
		_, err := d.change(ctx, thread.Number, func(ctx context.Context, t *ticket.Ticket, now time.Time) error {
			return d.record(ctx, t, &ticket.Event{Kind: ticket.EventNote, Actor: sender, At: now,
				Body: "Respuesta automática recibida: " + in.Subject})
		})
		return IntakeResult{Disposition: DispAutoreply, Ticket: thread.Number, Reason: "automatic reply " + how}, thread.ID, err
	}
	body := in.Text
	if src.Truncated {
		body = fmt.Sprintf("[Mensaje de %.1f MB: supera el límite de tamaño; se leyó solo su encabezado y el original completo se conserva en el buzón de la mesa.]\n\n%s",
			float64(src.Size)/(1<<20), body)
	}
	if thread != nil && (thread.State == ticket.Cerrado || thread.State == ticket.AbiertoPorEncuesta) {
		// An answer to the survey mail ("4", "no") is the survey's answer.
		if ok, err := d.surveyReply(ctx, thread, in, sender, rules.Clean(body)); err != nil || ok {
			return IntakeResult{Disposition: DispReply, Ticket: thread.Number, Reason: how + ", survey answer"}, thread.ID, err
		}
	}
	details := map[string]any{"message_key": msg.Key}
	reopen := false
	if thread != nil && thread.State == ticket.Cerrado && !d.isStaff(ctx, sender) {
		if thread.ClosedAt != nil && d.businessSince(*thread.ClosedAt) <= d.reopen {
			reopen = true // "it still fails": back to en_proceso
		} else {
			// Too late to reopen: a new ticket that links the old one.
			details["related"] = thread.Number
			how = "reply to " + thread.Number + ", closed before the reopen window"
			thread = nil
		}
	}
	if thread == nil {
		if n, ok := ticket.FindNumber(in.Subject, d.prefix); ok && how == "" {
			details["mentions"] = n.String()
		}
		t, err := d.Create(ctx, NewTicket{Subject: title(in.Subject, d.prefix), Body: body, Requester: sender, MessageID: in.MessageID,
			RequesterName: in.From.Name, Details: details})
		if err != nil {
			return IntakeResult{}, 0, err
		}
		var participants []string
		for _, a := range append(append([]ticket.Address{in.From}, in.Cc...), in.To...) {
			if e := strings.ToLower(a.Email); e != "" && !d.isOwn(e) {
				participants = append(participants, e)
			}
		}
		if err := d.istore.AddParticipants(ctx, t.ID, participants...); err != nil {
			return IntakeResult{}, 0, err
		}
		return IntakeResult{Disposition: DispTicket, Ticket: t.Number, Reason: how}, t.ID, nil
	}
	comment := rules.Clean(body)
	if strings.TrimSpace(comment) == "" {
		comment = body
	}
	if strings.TrimSpace(comment) == "" {
		comment = "(mensaje sin texto)"
	}
	if sender != thread.Requester {
		if p, err := d.istore.PersonByEmail(ctx, sender); err == nil && p.Active && p.Role != ticket.RoleRequester {
			// Desk staff: commands and an answer for the requester.
			if err := d.technicianReply(ctx, thread, in, sender, comment, msg.Key); err != nil {
				return IntakeResult{}, 0, err
			}
			return IntakeResult{Disposition: DispReply, Ticket: thread.Number, Reason: how + ", from staff"}, thread.ID, nil
		} else if err != nil && !errors.Is(err, ticket.ErrNotFound) {
			return IntakeResult{}, 0, err
		}
	}
	_, err = d.change(ctx, thread.Number, func(ctx context.Context, t *ticket.Ticket, now time.Time) error {
		if err := d.record(ctx, t, &ticket.Event{Kind: ticket.EventComment, Actor: sender, At: now, Body: comment}); err != nil {
			return err
		}
		if t.State == ticket.Retenido && sender == t.Requester {
			// The requester answered what the desk was waiting for.
			return d.step(ctx, t, ticket.EnProceso, sender, "", now)
		}
		if reopen && t.State == ticket.Cerrado {
			return d.step(ctx, t, ticket.EnProceso, sender, "Reabierto por respuesta del solicitante", now)
		}
		return nil
	})
	if err != nil {
		return IntakeResult{}, 0, err
	}
	if err := d.istore.AddParticipants(ctx, thread.ID, sender); err != nil {
		return IntakeResult{}, 0, err
	}
	return IntakeResult{Disposition: DispReply, Ticket: thread.Number, Reason: how}, thread.ID, nil
}

// thread finds the ticket a message continues: first by In-Reply-To and
// References against every Message-ID of a ticket (ours and the
// participants'), then by the subject tag when the sender takes part in that
// ticket or is desk staff. how says which matched.
func (d *Desk) thread(ctx context.Context, in *ticket.Inbound, sender string) (*ticket.Ticket, string, error) {
	ids := append(append([]string(nil), in.InReplyTo...), in.References...)
	for i := len(ids) - 1; i >= 0; i-- { // the most recent reference first
		id, err := d.istore.TicketIDByMessageID(ctx, strings.Trim(ids[i], "<> "))
		if errors.Is(err, ticket.ErrNotFound) || id == 0 {
			continue
		}
		if err != nil {
			return nil, "", err
		}
		t, err := d.istore.TicketByID(ctx, id)
		if err != nil {
			return nil, "", err
		}
		return t, "by header", nil
	}
	n, ok := ticket.FindNumber(in.Subject, d.prefix)
	if !ok {
		return nil, "", nil
	}
	t, err := d.store.TicketByNumber(ctx, n.String())
	if errors.Is(err, ticket.ErrNotFound) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	member, err := d.istore.IsParticipant(ctx, t.ID, sender)
	if err != nil {
		return nil, "", err
	}
	if !member {
		p, err := d.istore.PersonByEmail(ctx, sender)
		if err != nil && !errors.Is(err, ticket.ErrNotFound) {
			return nil, "", err
		}
		member = p != nil && p.Active
	}
	if !member {
		// A stranger quoting a number never writes into someone else's
		// ticket (pain point F4); the new ticket mentions it.
		return nil, "", nil
	}
	return t, "by subject tag", nil
}

// bounce links a delivery failure report to the mail it bounces, marks that
// mail failed and records it on its ticket. An unmatched report is
// quarantined, never ticketed.
func (d *Desk) bounce(ctx context.Context, r *ticket.DeliveryReport) (IntakeResult, int64, error) {
	for _, id := range r.MessageIDs {
		out, err := d.istore.MailByMessageID(ctx, strings.Trim(id, "<> "))
		if errors.Is(err, ticket.ErrNotFound) {
			continue
		}
		if err != nil {
			return IntakeResult{}, 0, err
		}
		return d.bounced(ctx, out, r.Status)
	}
	// The report quotes only the headers of our mail: its In-Reply-To
	// leads to the ticket, whose latest mail to the failed recipient is the
	// one that bounced.
	for _, id := range r.ThreadIDs {
		tid, err := d.istore.TicketIDByMessageID(ctx, id)
		if errors.Is(err, ticket.ErrNotFound) {
			continue
		}
		if err != nil {
			return IntakeResult{}, 0, err
		}
		out, err := d.istore.LatestMail(ctx, tid, r.Recipient)
		if errors.Is(err, ticket.ErrNotFound) {
			continue
		}
		if err != nil {
			return IntakeResult{}, 0, err
		}
		return d.bounced(ctx, out, r.Status)
	}
	return IntakeResult{Disposition: DispQuarantined, Reason: "delivery report for no mail of ours"}, 0, nil
}

// permanentRE finds a permanent failure status (RFC 3463 class 5).
var permanentRE = regexp.MustCompile(`\b5\.\d{1,3}\.\d{1,3}\b`)

// bounced marks an outbox mail failed and records it on its ticket. A
// permanent failure marks the address undeliverable: further automatic
// mail to it is held.
func (d *Desk) bounced(ctx context.Context, out *ticket.Outgoing, status string) (IntakeResult, int64, error) {
	out.State, out.LastError = ticket.OutboxFailed, "bounce: "+status
	if err := d.istore.UpdateMail(ctx, out); err != nil {
		return IntakeResult{}, 0, err
	}
	if permanentRE.MatchString(status) && len(out.To) == 1 {
		if err := d.istore.MarkUndeliverable(ctx, out.To[0], status, d.now().UTC()); err != nil {
			return IntakeResult{}, 0, err
		}
	}
	if out.TicketID == 0 {
		return IntakeResult{Disposition: DispBounce, Reason: status}, 0, nil
	}
	t, err := d.istore.TicketByID(ctx, out.TicketID)
	if err != nil {
		return IntakeResult{}, 0, err
	}
	_, err = d.change(ctx, t.Number, func(ctx context.Context, t *ticket.Ticket, now time.Time) error {
		return d.record(ctx, t, &ticket.Event{Kind: ticket.EventMailFailed, Actor: ticket.SystemActor, At: now,
			To: strings.Join(out.To, ", "), Body: fmt.Sprintf("No se pudo entregar a %s: %s", strings.Join(out.To, ", "), status)})
	})
	return IntakeResult{Disposition: DispBounce, Ticket: t.Number, Reason: status}, t.ID, err
}

// isStaff reports whether addr is an active technician, manager or owner.
func (d *Desk) isStaff(ctx context.Context, addr string) bool {
	p, err := d.istore.PersonByEmail(ctx, addr)
	return err == nil && p.Active && p.Role != ticket.RoleRequester
}

// businessSince is the business time from t until now (wall-clock time
// without a calendar).
func (d *Desk) businessSince(t time.Time) time.Duration {
	now := d.now()
	if d.calendar != nil {
		return d.calendar.Between(t, now)
	}
	return now.Sub(t)
}

// AutomatedDetail marks, in the created event's details, a ticket opened
// by automatic mail from an accepted sender: no acknowledgement, no survey.
const AutomatedDetail = "automated"

// acceptsAutomated reports whether addr is on the accept_automated_from
// list (an address, or "@domain").
func (d *Desk) acceptsAutomated(addr string) bool {
	addr = strings.ToLower(addr)
	for _, a := range d.automated {
		a = strings.ToLower(strings.TrimSpace(a))
		if a != "" && (a == addr || strings.HasPrefix(a, "@") && strings.HasSuffix(addr, a)) {
			return true
		}
	}
	return false
}

func (d *Desk) isOwn(addr string) bool {
	for _, a := range d.addresses {
		if strings.EqualFold(a, addr) {
			return true
		}
	}
	return false
}

// title makes a new ticket's title from a subject: without reply and
// forward prefixes, and without a tag of ours (the ticket gets its own
// number, never two).
func title(subject, prefix string) string {
	s := subject
	if n, ok := ticket.FindNumber(s, prefix); ok {
		s = strings.NewReplacer("["+n.String()+"]", " ", n.String(), " ").Replace(s)
	}
	s = replyPrefixRE.ReplaceAllString(s, "")
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return strings.TrimSpace(subject)
	}
	return s
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// HandleMail is Intake shaped as the mailbox poller's handler.
func (d *Desk) HandleMail(ctx context.Context, raw []byte, in *ticket.Inbound, src ticket.Source) error {
	_, err := d.Intake(ctx, raw, in, src)
	return err
}

// QuarantineMail keeps a message that could not be processed, with the
// reason. A message already stored keeps its first record.
func (d *Desk) QuarantineMail(ctx context.Context, raw []byte, in *ticket.Inbound, src ticket.Source, reason string) error {
	received := src.ReceivedAt
	if received.IsZero() {
		received = d.now()
	}
	err := d.istore.StoreMessage(ctx, &ticket.RawMessage{Key: MessageKey(in.MessageID, raw), MessageID: in.MessageID,
		Mailbox: src.Mailbox, UIDValidity: src.UIDValidity, UID: src.UID, From: in.From.Email, Subject: in.Subject,
		Raw: raw, ReceivedAt: received.UTC(), Disposition: string(DispQuarantined), Reason: reason})
	if err != nil && !errors.Is(err, ticket.ErrAlreadyStored) {
		return err
	}
	return nil
}
