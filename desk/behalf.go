package desk

import (
	"context"
	"net/mail"
	"strings"

	"github.com/mesadeservicios/mesa/internal/i18n"
	"github.com/mesadeservicios/mesa/rules"
	"github.com/mesadeservicios/mesa/ticket"
)

// Tickets in someone else's name (guide 4.1.2: a call to extension 1000,
// an employee's mail a technician passes on): a technician forwards the
// employee's mail to the desk, or writes "#solicitante <correo>" at the
// top of a new mail. Only authenticated staff may; from anyone else the
// mail is an ordinary request of its sender.

// behalf is what onBehalf found: whether the ticket is opened in someone
// else's name, how it was told, and the command lines that followed
// #solicitante (applied once the ticket exists).
type behalf struct {
	ok   bool
	how  string // "forward" or "#solicitante"
	cmds []Command
}

// onBehalf turns nt into a ticket in the employee's name when the sender
// is authenticated staff who forwarded the employee's mail or named them
// with #solicitante; nt is unchanged otherwise.
func (d *Desk) onBehalf(ctx context.Context, m *inMail, nt *NewTicket) (behalf, error) {
	cmds, rest := ParseCommands(m.in.Text)
	var who ticket.Address
	var b behalf
	switch {
	case len(cmds) > 0 && cmds[0].Name == "solicitante":
		a, err := mail.ParseAddress(cmds[0].Arg)
		if err != nil {
			return behalf{}, nil // an ordinary request: the line stays in its text
		}
		who, b.how, b.cmds = ticket.Address{Name: a.Name, Email: strings.ToLower(a.Address)}, "#solicitante", cmds[1:]
	case m.in.Forwarded != nil:
		who, b.how = m.in.Forwarded.From, "forward"
	default:
		return behalf{}, nil
	}
	who.Email = strings.ToLower(strings.TrimSpace(who.Email))
	if who.Email == "" || who.Email == m.sender || d.isOwn(who.Email) {
		return behalf{}, nil
	}
	if !d.isStaff(ctx, m.sender) || !d.staffAuthenticated(m) {
		return behalf{}, nil // not staff, or not proved to be: the sender's own request
	}
	nt.Requester, nt.RequesterName, nt.OpenedBy, b.ok = who.Email, who.Name, m.sender, true
	nt.Details["on_behalf"] = b.how
	switch b.how {
	case "#solicitante":
		nt.Body = rest
	case "forward":
		if f := m.in.Forwarded; strings.TrimSpace(f.Subject) != "" {
			nt.Subject = title(f.Subject, d.cfg.Prefix)
		}
		if f := m.in.Forwarded; f.Attached && strings.TrimSpace(f.Text) != "" {
			// The technician's words, then the employee's.
			nt.Body = strings.TrimSpace(m.in.Text + "\n\n" + f.Text)
		}
	}
	return b, nil
}

// behalfCommands applies the command lines that followed #solicitante,
// as the technician, and answers them.
func (d *Desk) behalfCommands(ctx context.Context, t *ticket.Ticket, m *inMail, b behalf) error {
	if !b.ok || len(b.cmds) == 0 {
		return nil
	}
	var results []string
	for _, c := range b.cmds {
		if err := d.apply(ctx, t.Number, m.sender, c); err != nil {
			results = append(results, "✘ "+c.Line+" — "+i18n.T(d.cfg.Language, "desk.cmd.not_applied")+": "+explain(err, d.cfg.Language))
			continue
		}
		results = append(results, "✔ "+c.Line)
	}
	return d.replyTo(ctx, t, m.sender, m.msg.Key, ticket.CommandsNotice{Lines: results})
}

// empty reports whether a mail says nothing: no subject (beyond reply
// prefixes), no text of the sender's own (quotes and signature removed),
// no files (small inline images, such as a signature's logo, do not
// count; a pasted screenshot does), and nothing cut off by the size limit.
func (m *inMail) empty() bool {
	if m.src.Truncated || strings.TrimSpace(replyPrefixRE.ReplaceAllString(m.in.Subject, "")) != "" {
		return false
	}
	for _, a := range m.in.Attachments {
		if !a.Inline || a.Size >= signatureImageBytes {
			return false
		}
	}
	// rules.Clean cuts a signature only after some text; a leading line
	// lets it cut one that opens the mail ("Cordialmente, Pedro").
	const lead = "\x01"
	text := strings.TrimPrefix(rules.Clean(lead+"\n"+m.in.Text), lead)
	return strings.TrimSpace(text) == ""
}

// signatureImageBytes is the size from which an inline image is taken for
// content (a screenshot) rather than a signature's logo.
const signatureImageBytes = 32 << 10

// emptyMail answers an empty mail with a short, polite request for a
// description, and opens no ticket. The raw message is kept with the
// disposition empty.
func (d *Desk) emptyMail(ctx context.Context, m *inMail) (IntakeResult, int64, error) {
	auto, err := d.looksAutomatic(ctx, m.in, m.sender, "")
	if err != nil {
		return IntakeResult{}, 0, err
	}
	n := &ticket.Notice{To: m.sender, ToName: m.in.From.Name, Lang: d.langFor(m.sender), InReplyTo: m.msg.Key,
		At: d.now().UTC(), DedupeKey: d.senderKey(ctx, m, "empty:"+m.msg.Key), Payload: ticket.EmptyNotice{Subject: m.in.Subject},
		AnswersAutomatic: auto}
	if _, _, err := d.queue(ctx, n); err != nil {
		return IntakeResult{}, 0, err
	}
	return IntakeResult{Disposition: DispEmpty, Reason: "empty mail (no subject, text or files): asked for a description, no ticket"}, 0, nil
}
