package desk

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/mesadeservicios/mesa/internal/i18n"
	"github.com/mesadeservicios/mesa/ticket"
)

// Commands about the sender, a queue or several tickets (issue 16): they
// work in a new mail to the desk (no ticket) as well as in a reply to a
// ticket's mail. One table entry and one handler per command.

// cmdCall is one desk command: who sent it, its argument, the dedupe key
// of the mail (answers thread with it) and the ticket replied to ("":
// a mail about no ticket).
type cmdCall struct {
	p      *ticket.Person
	arg    string
	key    string
	number string
}

// ownMail is what a handler returns when it answered with its own mail
// (a queue): no results mail is needed for it.
const ownMail = "\x00"

// deskCommand runs a desk command; it returns what to add to the
// command's result line ("" nothing, ownMail: answered by its own mail).
type deskCommand func(d *Desk, ctx context.Context, c cmdCall) (string, error)

var deskCommands = map[string]deskCommand{
	"mis_casos":   (*Desk).cmdMine,
	"pendientes":  (*Desk).cmdPending,
	"resumen":     func(d *Desk, ctx context.Context, c cmdCall) (string, error) { return d.cmdDigest(ctx, c, "on") },
	"sin_resumen": func(d *Desk, ctx context.Context, c cmdCall) (string, error) { return d.cmdDigest(ctx, c, "off") },
	"ausente":     (*Desk).cmdAway,
	"tomar":       (*Desk).cmdTake,
	"masivo":      (*Desk).cmdMass,
	"vincular":    (*Desk).cmdMass,
	"unir":        (*Desk).cmdMerge,
}

// DispCommands is the disposition of a staff mail to the desk that held
// only desk commands (#mis_casos…): answered, no ticket.
const DispCommands Disposition = "commands"

// runCommand applies one command line of a technician: a desk command,
// or a command on the ticket number. It returns what to add to the
// result line.
func (d *Desk) runCommand(ctx context.Context, number, actor, key string, c Command) (string, error) {
	h, ok := deskCommands[c.Name]
	if !ok {
		return "", d.apply(ctx, number, actor, c)
	}
	p, err := d.store.PersonByEmail(ctx, actor)
	if err != nil {
		return "", err
	}
	return h(d, ctx, cmdCall{p: p, arg: c.Arg, key: key, number: number})
}

// commandLines runs commands and returns their result lines (nil when
// every one answered with its own mail and none failed).
func (d *Desk) commandLines(ctx context.Context, number, actor, key string, cmds []Command) []string {
	var results []string
	help, own := false, 0
	for _, c := range cmds {
		info, err := d.runCommand(ctx, number, actor, key, c)
		switch {
		case errors.Is(err, errHelp):
			help = true
		case err != nil:
			results = append(results, fmt.Sprintf("✘ %s — %s: %s", c.Line, i18n.T(d.cfg.Language, "desk.cmd.not_applied"), explain(err, d.cfg.Language)))
			help = help || errors.Is(err, errUnknownCommand)
		case info == ownMail:
			own++
		case info != "":
			results = append(results, fmt.Sprintf("✔ %s — %s", c.Line, info))
		default:
			results = append(results, fmt.Sprintf("✔ %s", c.Line))
		}
	}
	if help {
		results = append(append(results, "", i18n.T(d.cfg.Language, "desk.cmd.help_title")), Help(d.cfg.Language)...)
	}
	return results
}

// deskMail handles a new mail (no ticket) from desk staff made only of
// desk commands; ok is false when the mail is something else (it becomes
// a ticket, or another handler's).
func (d *Desk) deskMail(ctx context.Context, m *inMail, body string) (IntakeResult, bool, error) {
	cmds, _ := ParseCommands(comment(body, d.cfg.Language))
	if len(cmds) == 0 {
		return IntakeResult{}, false, nil
	}
	for _, c := range cmds {
		if _, ok := deskCommands[c.Name]; !ok {
			return IntakeResult{}, false, nil
		}
	}
	p, err := d.store.PersonByEmail(ctx, m.sender)
	if errors.Is(err, ticket.ErrNotFound) || err == nil && p.Role == ticket.RoleRequester {
		return IntakeResult{}, false, nil
	}
	if err != nil {
		return IntakeResult{}, false, err
	}
	res := IntakeResult{Disposition: DispCommands, Reason: "desk commands"}
	if refused, err := d.refuseCommands(ctx, nil, m, body); refused || err != nil {
		res.Reason = "desk commands refused"
		return res, true, err
	}
	if lines := d.commandLines(ctx, "", m.sender, m.msg.Key, cmds); len(lines) > 0 {
		err = d.replyTo(ctx, nil, m.sender, m.msg.Key, ticket.CommandsNotice{Lines: lines})
	}
	return res, true, err
}

// refuseCommands refuses the commands of a mail when its sender is no
// longer active staff or the mail is not authenticated as its sender
// (staffAuthenticated): nothing is applied, a note records it on t (when
// there is one) and the sender is told why — about unauthenticated mail
// at most once an hour (unverifiedNotice), so a forger cannot make the
// desk mail a technician at will.
func (d *Desk) refuseCommands(ctx context.Context, t *ticket.Ticket, m *inMail, text string) (bool, error) {
	p, err := d.store.PersonByEmail(ctx, m.sender)
	if err != nil && !errors.Is(err, ticket.ErrNotFound) {
		return false, err
	}
	lang := d.cfg.Language
	var why []string
	unverified := false
	switch {
	case p != nil && !p.Active:
		why = []string{i18n.T(lang, "desk.cmd.inactive")}
	default:
		if d.staffAuthenticated(m) {
			return false, nil
		}
		unverified = true
		why = []string{i18n.T(lang, "desk.cmd.unverified"), i18n.T(lang, "desk.unverified.advice")}
	}
	if t != nil {
		e := &ticket.Event{Kind: ticket.EventNote, Actor: m.sender, Body: i18n.Tf(lang, "desk.note.commands_refused", why[0], text)}
		if unverified {
			e.Data = UnverifiedData
			e.Body = i18n.Tf(lang, "desk.note.unverified", e.Body, m.idWhy)
		}
		if _, err := d.change(ctx, t.Number, func(ctx context.Context, t *ticket.Ticket, now time.Time) error {
			e.At = now
			return d.record(ctx, t, e)
		}); err != nil {
			return false, err
		}
	}
	d.log.Warn("commands refused", "ticket", numberOf(t), "from", m.sender, "reason", why[0], "rule", m.id.Rule)
	if unverified {
		return true, d.unverifiedNotice(ctx, t, m, why)
	}
	return true, d.replyTo(ctx, t, m.sender, m.msg.Key, ticket.CommandsNotice{Rejected: true, Lines: why})
}

// refuseFormer refuses the commands of a deactivated person in a reply
// to a ticket (ok false when the sender is not one).
func (d *Desk) refuseFormer(ctx context.Context, m *inMail, text string) (bool, error) {
	p, err := d.store.PersonByEmail(ctx, m.sender)
	if errors.Is(err, ticket.ErrNotFound) || err == nil && (p.Active || p.Role == ticket.RoleRequester) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return d.refuseCommands(ctx, m.thread, m, text)
}

func numberOf(t *ticket.Ticket) string {
	if t == nil {
		return ""
	}
	return t.Number
}

// remaining is the business time from now (or the pause) to t's due time,
// negative when past due; ok is false without a due time.
func (d *Desk) remaining(t *ticket.Ticket, now time.Time) (time.Duration, bool) {
	if t.DueAt == nil {
		return 0, false
	}
	if t.PausedAt != nil {
		now = *t.PausedAt
	}
	if now.Before(*t.DueAt) {
		return d.calendar.Between(now, *t.DueAt), true
	}
	return -d.calendar.Between(*t.DueAt, now), true
}

// queueItems orders open tickets by SLA risk: running clocks first, the
// least business time left (most overdue) first, then the due time; then
// tickets without a due time, oldest first; tickets on hold last. Tickets
// waiting for their survey (solved) are left out.
func (d *Desk) queueItems(ts []*ticket.Ticket, now time.Time) []ticket.QueueItem {
	items := make([]ticket.QueueItem, 0, len(ts))
	for _, t := range ts {
		if t.State == ticket.AbiertoPorEncuesta || t.State == ticket.Cerrado {
			continue
		}
		left, has := d.remaining(t, now)
		items = append(items, ticket.QueueItem{Ticket: t, Remaining: left, HasDue: has, Paused: t.PausedAt != nil})
	}
	rank := func(it ticket.QueueItem) int {
		switch {
		case it.Paused:
			return 2
		case !it.HasDue:
			return 1
		}
		return 0
	}
	sort.SliceStable(items, func(i, j int) bool {
		a, b := items[i], items[j]
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra < rb
		}
		if a.HasDue && b.HasDue && a.Remaining != b.Remaining {
			return a.Remaining < b.Remaining
		}
		if a.HasDue && b.HasDue && !a.Ticket.DueAt.Equal(*b.Ticket.DueAt) {
			return a.Ticket.DueAt.Before(*b.Ticket.DueAt)
		}
		return a.Ticket.CreatedAt.Before(b.Ticket.CreatedAt)
	})
	return items
}

// MyQueue is the open tickets assigned to email, by SLA risk.
func (d *Desk) MyQueue(ctx context.Context, email string) ([]ticket.QueueItem, error) {
	ts, err := d.store.OpenTicketsAssignedTo(ctx, email)
	if err != nil {
		return nil, err
	}
	return d.queueItems(ts, d.now()), nil
}

// sendQueue mails a queue to a person.
func (d *Desk) sendQueue(ctx context.Context, to, key string, p ticket.QueueNotice) (bool, error) {
	n := &ticket.Notice{To: to, Lang: d.cfg.Language, At: d.now().UTC(), DedupeKey: "queue:" + p.Scope + ":" + key, Payload: p}
	if strings.HasPrefix(key, "<") {
		n.InReplyTo = key // the answer to a command threads with its mail
	}
	_, queued, err := d.queue(ctx, n)
	return queued, err
}

// cmdMine answers #mis_casos with the sender's open tickets by SLA risk.
func (d *Desk) cmdMine(ctx context.Context, c cmdCall) (string, error) {
	items, err := d.MyQueue(ctx, c.p.Email)
	if err != nil {
		return "", err
	}
	_, err = d.sendQueue(ctx, c.p.Email, c.key, ticket.QueueNotice{Scope: ticket.QueueMine, Items: items})
	return ownMail, err
}

// cmdPending answers #pendientes [grupo], for managers and owners: the
// open tickets of their groups (or of one of them; without groups, the
// whole desk), by SLA risk.
func (d *Desk) cmdPending(ctx context.Context, c cmdCall) (string, error) {
	lang := d.cfg.Language
	if c.p.Role != ticket.RoleManager && c.p.Role != ticket.RoleOwner {
		return "", shown(ticket.ErrInvalid, i18n.T(lang, "desk.cmd.managers_only"))
	}
	groups := c.p.Groups
	if g := strings.ToLower(strings.TrimSpace(c.arg)); g != "" {
		if len(groups) > 0 && !slices.Contains(groups, g) {
			return "", shown(ticket.ErrInvalid, i18n.Tf(lang, "desk.cmd.not_your_group", g))
		}
		groups = []string{g}
	}
	ts, err := d.store.OpenTicketsOf(ctx, groups)
	if err != nil {
		return "", err
	}
	_, err = d.sendQueue(ctx, c.p.Email, c.key, ticket.QueueNotice{Scope: ticket.QueuePending, Groups: groups,
		Items: d.queueItems(ts, d.now())})
	return ownMail, err
}

// cmdDigest is #resumen (on) and #sin_resumen (off): the sender's choice
// about the personal morning digest, which outranks the configuration.
func (d *Desk) cmdDigest(ctx context.Context, c cmdCall, choice string) (string, error) {
	if err := d.store.SetDigestChoice(ctx, c.p.Email, choice); err != nil {
		return "", err
	}
	return i18n.T(d.cfg.Language, "desk.cmd.digest_"+choice), nil
}

// SendMorningDigests mails each active technician who wants it (not away,
// not opted out) the list of their open tickets by SLA risk; nobody with
// an empty queue gets one, and none goes out on a day that is not a
// working day of the calendar (weekends, holidays). It is the
// personal_digest job's work.
func (d *Desk) SendMorningDigests(ctx context.Context) (int, error) {
	now := d.now()
	if !d.calendar.IsWorkday(now) {
		return 0, nil
	}
	techs, err := d.store.PeopleWithRole(ctx, ticket.RoleTechnician)
	if err != nil {
		return 0, err
	}
	day := now.In(d.cfg.Location).Format(time.DateOnly)
	sent := 0
	for _, p := range techs {
		if !p.WantsDigest() || p.Absent(now) {
			continue
		}
		items, err := d.MyQueue(ctx, p.Email)
		if err != nil {
			return sent, err
		}
		if len(items) == 0 {
			continue
		}
		queued, err := d.sendQueue(ctx, p.Email, strings.ToLower(p.Email)+":"+day, ticket.QueueNotice{Scope: ticket.QueueMorning, Items: items})
		if err != nil {
			return sent, err
		}
		if queued {
			sent++
		}
	}
	return sent, nil
}
