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

	"github.com/mesadeservicios/mesa/internal/i18n"
	"github.com/mesadeservicios/mesa/rules"
	"github.com/mesadeservicios/mesa/ticket"
)

// IntakeStore is what intake needs from storage beyond TxStore.
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
	MailByID(ctx context.Context, id int64) (*ticket.Outgoing, error)
	ClearUndeliverable(ctx context.Context, addr string) error
	RepeatedRequest(ctx context.Context, requester, body string, since time.Time) (bool, error)
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
	DispEmpty       Disposition = "empty"       // no subject, text or files: asked for a description, no ticket
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
	received := src.ReceivedAt
	if received.IsZero() {
		received = d.now()
	}
	msg := &ticket.RawMessage{Key: MessageKey(in.MessageID, raw), MessageID: in.MessageID, Mailbox: src.Mailbox,
		UIDValidity: src.UIDValidity, UID: src.UID, From: in.From.Email, Subject: in.Subject, Raw: raw,
		ReceivedAt: received.UTC()}
	if err := d.store.StoreMessage(ctx, msg); errors.Is(err, ticket.ErrAlreadyStored) {
		return IntakeResult{Disposition: DispDuplicate, Reason: "already processed"}, nil
	} else if err != nil {
		return IntakeResult{}, err
	}
	m := &inMail{msg: msg, in: in, src: src}
	res, ticketID, err := d.decide(ctx, m)
	if err != nil {
		return IntakeResult{}, err
	}
	// The handlers that pass files on store them first; the others' are
	// stored here.
	if _, err := d.storeFiles(ctx, m, ticketID); err != nil {
		return IntakeResult{}, err
	}
	return res, d.store.SetMessageOutcome(ctx, msg.ID, ticketID, string(res.Disposition), res.Reason)
}

// inMail is a message on its way through intake, with what decide found
// out about it.
type inMail struct {
	msg    *ticket.RawMessage
	in     *ticket.Inbound
	src    ticket.Source
	sender string         // the real sender, lower case
	thread *ticket.Ticket // the ticket it continues; nil: none
	how    string         // how thread was found
	id     Identity       // who it speaks for (identity), decided on the mail as received
	idWhy  string
	// filesStored is set once its files are stored on the ticket.
	filesStored bool
	// member is set when the sender is known to be a participant of
	// thread already (participants are never removed).
	member bool
}

// decide dispatches a stored message to the handler of what it is: a
// delivery report, automatic mail, a survey answer, mail from staff, a
// reply, or a new ticket.
func (d *Desk) decide(ctx context.Context, m *inMail) (IntakeResult, int64, error) {
	in := m.in
	// What the network input says: facts mailin found (ticket.Inbound). A
	// subject like "Vacaciones" over a body of commands (#ausente…) is a
	// person writing, not a vacation responder.
	cmds, _ := ParseCommands(rules.Clean(in.Text))
	automated := in.Automatic != "" && !(strings.HasPrefix(in.Automatic, "subject") && len(cmds) > 0)

	if in.Report != nil {
		return d.bounce(ctx, in)
	}
	// Who the mail speaks for is decided on the mail as received, before
	// realSender substitutes a rewritten From.
	id, idWhy := d.identity(in)
	sender, why := d.realSender(in)
	if why != "" {
		return IntakeResult{Disposition: DispQuarantined, Reason: why}, 0, nil
	}
	if id.Authenticated && id.Address == sender {
		// Authenticated mail from an address proves it works: a bounce
		// mark on it no longer holds mail.
		if err := d.store.ClearUndeliverable(ctx, sender); err != nil && !errors.Is(err, ticket.ErrNotFound) {
			return IntakeResult{}, 0, err
		}
	}
	thread, how, err := d.thread(ctx, in, sender)
	if err != nil {
		return IntakeResult{}, 0, err
	}
	m.sender, m.thread, m.how, m.id, m.idWhy = sender, thread, how, id, idWhy
	body := m.body(d.cfg.Language)
	switch {
	case automated:
		return d.automatic(ctx, m)
	case thread == nil && m.empty():
		return d.emptyMail(ctx, m)
	case thread == nil:
		return d.fresh(ctx, m, body)
	}
	if thread.State == ticket.Cerrado || thread.State == ticket.AbiertoPorEncuesta {
		// An answer to the survey mail ("4", "no") is the survey's answer.
		if ok, err := d.surveyReply(ctx, thread, in, sender, rules.Clean(body)); err != nil || ok {
			return IntakeResult{Disposition: DispReply, Ticket: thread.Number, Reason: how + ", survey answer"}, thread.ID, err
		}
	}
	reopen := false
	if postClosure(thread.State) && !d.isStaff(ctx, sender) {
		if thread.ClosedAt == nil || d.businessSince(*thread.ClosedAt) > d.cfg.ReopenWithin {
			// Too late to reopen: a new ticket that links the old one.
			m.how, m.thread = "reply to "+thread.Number+", closed before the reopen window", nil
			return d.newTicket(ctx, m, body, map[string]any{"related": thread.Number})
		}
		reopen = true // "it still fails": back to en_proceso
	}
	staff, err := d.staffSender(ctx, sender, thread)
	switch {
	case err != nil:
		return IntakeResult{}, 0, err
	case staff:
		return d.staffMail(ctx, m, cleanText(body))
	}
	if cmds, _ := ParseCommands(comment(body, d.cfg.Language)); len(cmds) > 0 && sender != thread.Requester {
		// A deactivated person's commands are refused, never a comment.
		if refused, err := d.refuseFormer(ctx, m, comment(body, d.cfg.Language)); refused || err != nil {
			return IntakeResult{Disposition: DispReply, Ticket: thread.Number, Reason: how + ", commands of a deactivated person refused"}, thread.ID, err
		}
	}
	return d.reply(ctx, m, comment(body, d.cfg.Language), reopen)
}

// realSender is the sender of a message, or why it is quarantined. A
// list or Google Group that rewrote From to the desk's address (DMARC)
// names the real sender in X-Original-From or Reply-To.
func (d *Desk) realSender(in *ticket.Inbound) (string, string) {
	sender := strings.ToLower(in.From.Email)
	if d.isOwn(sender) {
		for _, a := range append([]ticket.Address{in.OriginalFrom}, in.ReplyTo...) {
			if e := strings.ToLower(a.Email); e != "" && !d.isOwn(e) {
				sender, in.From = e, ticket.Address{Name: a.Name, Email: e}
				break
			}
		}
		if d.isOwn(sender) {
			return "", "from self: the sender is one of the desk's own addresses"
		}
	}
	if sender == "" {
		return "", "no sender address"
	}
	return sender, ""
}

// body is the message's text, with a notice (in lang) when only its
// header was read.
func (m *inMail) body(lang string) string {
	if !m.src.Truncated {
		return m.in.Text
	}
	return i18n.Tf(lang, "desk.note.oversize", float64(m.src.Size)/(1<<20), m.in.Text)
}

// comment is what a reply adds to its ticket: the text without quotes
// and signature, or all of it, never nothing (a placeholder in lang).
func comment(body, lang string) string {
	c := cleanText(body)
	if c == "" {
		c = i18n.T(lang, "desk.comment.no_text")
	}
	return c
}

// cleanText is the text of a mail without quotes and signature, or all of
// it, or "" when it has none: what staff wrote, which is relayed to the
// requester only when there is something (files alone get their own
// line, technicianReply).
func cleanText(body string) string {
	c := rules.Clean(body)
	if strings.TrimSpace(c) == "" {
		c = body
	}
	if strings.TrimSpace(c) == "" {
		return ""
	}
	return c
}

// staffSender reports whether sender, not t's requester, is active desk
// staff (whose mail carries commands and answers).
func (d *Desk) staffSender(ctx context.Context, sender string, t *ticket.Ticket) (bool, error) {
	if sender == t.Requester {
		return false, nil
	}
	p, err := d.store.PersonByEmail(ctx, sender)
	if errors.Is(err, ticket.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return p.Active && p.Role != ticket.RoleRequester, nil
}

// automatic handles automatic mail: from an accepted sender and in no
// thread, a ticket without an acknowledgement; in a thread, a note for the
// technicians that never reopens and is never answered; otherwise nothing.
func (d *Desk) automatic(ctx context.Context, m *inMail) (IntakeResult, int64, error) {
	in := m.in
	if m.thread == nil && d.acceptsAutomated(m.sender) {
		// A monitoring alert or a web form the desk takes (pain point A4).
		t, err := d.Create(ctx, NewTicket{Subject: title(in.Subject, d.cfg.Prefix), Body: in.Text, Requester: m.sender,
			MessageID: in.MessageID, RequesterName: in.From.Name, MessageKey: m.msg.Key, Automated: true})
		if err != nil {
			return IntakeResult{}, 0, err
		}
		return IntakeResult{Disposition: DispTicket, Ticket: t.Number, Reason: "automatic mail from an accepted sender"}, t.ID, nil
	}
	if m.thread == nil {
		return IntakeResult{Disposition: DispAutoreply, Reason: "automatic reply, no ticket"}, 0, nil
	}
	_, err := d.change(ctx, m.thread.Number, func(ctx context.Context, t *ticket.Ticket, now time.Time) error {
		return d.record(ctx, t, &ticket.Event{Kind: ticket.EventNote, Actor: m.sender, At: now,
			Body: i18n.Tf(d.cfg.Language, "desk.note.autoreply", in.Subject)})
	})
	return IntakeResult{Disposition: DispAutoreply, Ticket: m.thread.Number, Reason: "automatic reply " + m.how}, m.thread.ID, err
}

// newTicket opens a ticket for a message that continues none, with its
// files. The people in To and Cc (never the desk) become participants in
// copy. Staff who forward an employee's mail, or write #solicitante,
// open it in the employee's name.
func (d *Desk) newTicket(ctx context.Context, m *inMail, body string, details map[string]any) (IntakeResult, int64, error) {
	in := m.in
	if details == nil {
		details = map[string]any{}
	}
	if n, ok := ticket.FindNumber(in.Subject, d.cfg.Prefix); ok && m.how == "" {
		details["mentions"] = n.String()
	}
	auto, err := d.looksAutomatic(ctx, in, m.sender, body)
	if err != nil {
		return IntakeResult{}, 0, err
	}
	route := d.cfg.Routes[m.src.Mailbox]
	if len(d.cfg.Routes) > 1 {
		details["mailbox"] = m.src.Mailbox // which door the mail came through
	}
	nt := NewTicket{Subject: title(in.Subject, d.cfg.Prefix), Body: body, Requester: m.sender, MessageID: in.MessageID,
		RequesterName: in.From.Name, MessageKey: m.msg.Key, Details: details, LooksAutomatic: auto,
		UnverifiedStaff: !d.staffAuthenticated(m) && d.isStaff(ctx, m.sender), DefaultGroup: route.DefaultGroup}
	for _, a := range in.Attachments {
		size, sum := a.Size, a.SHA256
		if sum == "" {
			size, sum = int64(len(a.Data)), sha(a.Data)
		}
		nt.Files = append(nt.Files, ticket.Attachment{MessageID: m.msg.ID, Filename: ticket.SafeFilename(a.Filename),
			ContentType: a.ContentType, Size: size, SHA256: sum, Data: a.Data})
	}
	behalf, err := d.onBehalf(ctx, m, &nt)
	if err != nil {
		return IntakeResult{}, 0, err
	}
	t, err := d.Create(ctx, nt)
	if err != nil {
		return IntakeResult{}, 0, err
	}
	m.filesStored = true // Create stored them
	if err := d.store.AddParticipants(ctx, t.ID, t.Requester); err != nil {
		return IntakeResult{}, 0, err
	}
	if !behalf.ok {
		// The people the requester wrote to along with the desk.
		for _, a := range append(append([]ticket.Address(nil), in.To...), in.Cc...) {
			if e := strings.ToLower(a.Email); e != "" && !d.isOwn(e) && e != t.Requester {
				if err := d.store.SetCopy(ctx, t.ID, e, true); err != nil {
					return IntakeResult{}, 0, err
				}
			}
		}
	}
	if err := d.behalfCommands(ctx, t, m, behalf); err != nil {
		return IntakeResult{}, 0, err
	}
	if err := d.massCheck(ctx, t); err != nil {
		return IntakeResult{}, 0, err
	}
	reason := m.how
	if behalf.ok {
		reason = strings.TrimSpace(reason + " opened by " + m.sender + " for " + t.Requester + " (" + behalf.how + ")")
	}
	return IntakeResult{Disposition: DispTicket, Ticket: t.Number, Reason: reason}, t.ID, nil
}

// staffMail handles desk staff's mail to a ticket: commands and an answer
// for the requester, with the mail's files.
func (d *Desk) staffMail(ctx context.Context, m *inMail, text string) (IntakeResult, int64, error) {
	// The identity that passed authentication must be the one that acts:
	// a From of the desk's own (Reply-To a technician) acts for nobody.
	if !d.staffAuthenticated(m) {
		return d.unverifiedStaffMail(ctx, m, text, m.id, m.idWhy)
	}
	files, err := d.storeFiles(ctx, m, m.thread.ID)
	if err != nil {
		return IntakeResult{}, 0, err
	}
	if err := d.technicianReply(ctx, m, text, files); err != nil {
		return IntakeResult{}, 0, err
	}
	return IntakeResult{Disposition: DispReply, Ticket: m.thread.Number, Reason: m.how + ", from staff"}, m.thread.ID, nil
}

// reply adds a message of the requester or a participant to its ticket:
// it resumes a ticket on hold for the requester, and reopens a closed one
// when decide says so (within the reopen window).
func (d *Desk) reply(ctx context.Context, m *inMail, text string, reopen bool) (IntakeResult, int64, error) {
	_, err := d.change(ctx, m.thread.Number, func(ctx context.Context, t *ticket.Ticket, now time.Time) error {
		stored, err := d.storeFiles(ctx, m, t.ID)
		if err != nil {
			return err
		}
		files, err := d.noticeFiles(ctx, stored) // they reach the assignee
		if err != nil {
			return err
		}
		if err := d.recordWith(ctx, t, &ticket.Event{Kind: ticket.EventComment, Actor: m.sender, At: now, Body: text},
			eventFacts{files: files}); err != nil {
			return err
		}
		if t.State == ticket.Retenido && m.sender == t.Requester {
			// The requester answered what the desk was waiting for.
			return d.step(ctx, t, ticket.EnProceso, m.sender, "", now)
		}
		if reopen && postClosure(t.State) {
			return d.step(ctx, t, ticket.EnProceso, m.sender, i18n.T(d.cfg.Language, "desk.note.reopened_by_reply"), now)
		}
		return nil
	})
	if err != nil {
		return IntakeResult{}, 0, err
	}
	if !m.member {
		if err := d.store.AddParticipants(ctx, m.thread.ID, m.sender); err != nil {
			return IntakeResult{}, 0, err
		}
	}
	return IntakeResult{Disposition: DispReply, Ticket: m.thread.Number, Reason: m.how}, m.thread.ID, nil
}

// postClosure reports whether s is a state after the closure, which a
// requester's "it still fails" reopens: cerrado, and abierto_por_encuesta
// (the survey under way).
func postClosure(s ticket.State) bool { return s == ticket.Cerrado || s == ticket.AbiertoPorEncuesta }

// thread finds the ticket a message continues: first by In-Reply-To and
// References against every Message-ID of a ticket (ours and the
// participants'), then by the subject tag when the sender takes part in that
// ticket or is desk staff. how says which matched.
func (d *Desk) thread(ctx context.Context, in *ticket.Inbound, sender string) (*ticket.Ticket, string, error) {
	ids := append(append([]string(nil), in.InReplyTo...), in.References...)
	for i := len(ids) - 1; i >= 0; i-- { // the most recent reference first
		id, err := d.store.TicketIDByMessageID(ctx, strings.Trim(ids[i], "<> "))
		if errors.Is(err, ticket.ErrNotFound) || id == 0 {
			continue
		}
		if err != nil {
			return nil, "", err
		}
		t, err := d.store.TicketByID(ctx, id)
		if err != nil {
			return nil, "", err
		}
		if t.State == ticket.Cerrado {
			// A reply to a ticket merged into another goes to that one.
			if p, err := d.mergedParent(ctx, t); err != nil || p != t {
				return p, "by header, merged", err
			}
		}
		return t, "by header", nil
	}
	n, ok := ticket.FindNumber(in.Subject, d.cfg.Prefix)
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
	member, err := d.store.IsParticipant(ctx, t.ID, sender)
	if err != nil {
		return nil, "", err
	}
	if !member {
		p, err := d.store.PersonByEmail(ctx, sender)
		if err != nil && !errors.Is(err, ticket.ErrNotFound) {
			return nil, "", err
		}
		// Only active staff, whose mail is then checked as staff mail;
		// an address that is merely known (a requester of another ticket)
		// is a stranger here.
		member = p != nil && p.Active && p.Role != ticket.RoleRequester
	}
	if !member {
		// A stranger quoting a number never writes into someone else's
		// ticket (pain point F4); the new ticket mentions it.
		return nil, "", nil
	}
	return t, "by subject tag", nil
}

// isStaff reports whether addr is an active technician, manager or owner.
func (d *Desk) isStaff(ctx context.Context, addr string) bool {
	p, err := d.store.PersonByEmail(ctx, addr)
	return err == nil && p.Active && p.Role != ticket.RoleRequester
}

// businessSince is the business time from t until now (wall-clock time
// without a calendar).
func (d *Desk) businessSince(t time.Time) time.Duration {
	return d.calendar.Between(t, d.now())
}

// AutomatedDetail marks, in the created event's details, a ticket opened
// by automatic mail from an accepted sender: no acknowledgement, no survey.
const AutomatedDetail = "automated"

// acceptsAutomated reports whether addr is on the accept_automated_from
// list (an address, or "@domain").
func (d *Desk) acceptsAutomated(addr string) bool {
	addr = strings.ToLower(addr)
	for _, a := range d.cfg.AcceptAutomatedFrom {
		a = strings.ToLower(strings.TrimSpace(a))
		if a != "" && (a == addr || strings.HasPrefix(a, "@") && strings.HasSuffix(addr, a)) {
			return true
		}
	}
	return false
}

func (d *Desk) isOwn(addr string) bool {
	for _, a := range d.cfg.Addresses {
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
	err := d.store.StoreMessage(ctx, &ticket.RawMessage{Key: MessageKey(in.MessageID, raw), MessageID: in.MessageID,
		Mailbox: src.Mailbox, UIDValidity: src.UIDValidity, UID: src.UID, From: in.From.Email, Subject: in.Subject,
		Raw: raw, ReceivedAt: received.UTC(), Disposition: string(DispQuarantined), Reason: reason})
	if err != nil && !errors.Is(err, ticket.ErrAlreadyStored) {
		return err
	}
	return nil
}
