package desk

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode"

	"github.com/mesadeservicios/mesa/internal/i18n"
	"github.com/mesadeservicios/mesa/rules"
	"github.com/mesadeservicios/mesa/ticket"
)

// Command is one "#…" line at the top of a technician's reply.
type Command struct {
	Name string // folded: "categoria" for "#Categoría"
	Arg  string
	Line string // as written
}

// HelpKeys are the catalogue keys (internal/i18n) of the help list, one
// line each, in order.
var HelpKeys = []string{
	"desk.help.estado", "desk.help.retener", "desk.help.asignar", "desk.help.escalar", "desk.help.criticidad",
	"desk.help.categoria", "desk.help.nota", "desk.help.cerrar", "desk.help.fuera_de_alcance", "desk.help.cc",
	"desk.help.sin_cc", "desk.help.solicitante", "desk.help.mis_casos", "desk.help.pendientes", "desk.help.resumen",
	"desk.help.ausente", "desk.help.tomar", "desk.help.unir", "desk.help.masivo", "desk.help.new_mail",
	"desk.help.ayuda", "desk.help.answer",
}

// Help lists the commands in lang (es or en), for the help text: what
// #ayuda answers and the assignment notice shows (mailout's
// Options.CommandHelpFor).
func Help(lang string) []string {
	out := make([]string, len(HelpKeys))
	for i, k := range HelpKeys {
		out[i] = i18n.T(lang, k)
	}
	return out
}

// CommandHelp is Help in Spanish, the default language.
var CommandHelp = Help("es")

// ParseCommands splits a technician's reply into the command lines at its
// top and the public answer that follows them.
func ParseCommands(text string) ([]Command, string) {
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	var cmds []Command
	i := 0
	for ; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		if l == "" {
			continue
		}
		if !strings.HasPrefix(l, "#") || len(l) < 2 {
			break
		}
		name, arg := l[1:], ""
		if j := strings.IndexFunc(name, unicode.IsSpace); j >= 0 {
			name, arg = name[:j], name[j:]
		}
		folded := rules.Fold(name)
		if folded == "" || strings.IndexFunc(folded, unicode.IsSpace) >= 0 {
			break // "# 1", "#!!": text, not a command
		}
		cmds = append(cmds, Command{Name: folded, Arg: strings.TrimSpace(arg), Line: l})
	}
	return cmds, strings.TrimSpace(strings.Join(lines[i:], "\n"))
}

// staffAuthenticated reports whether mail may act as desk staff: the
// check every staff action by mail passes (commands, an answer relayed to
// the requester, a ticket opened in someone else's name). It is the one
// place that decides it: the identity that passed authentication
// (identity, decided on the mail as received) must be the one that acts,
// so a From of a desk alias with Reply-To a technician acts for nobody.
// The caller has established that m.sender is active staff.
func (d *Desk) staffAuthenticated(m *inMail) bool {
	return m.id.Authenticated && m.id.Address != "" && m.id.Address == m.sender
}

// technicianReply handles a reply from desk staff whose identity is
// authenticated (staffMail decides): its commands, refused all the same
// when the sender is not proved or no longer active (refuseCommands), and
// its answer to the requester, with the mail's files.
func (d *Desk) technicianReply(ctx context.Context, m *inMail, text string, stored []ticket.Attachment) error {
	t, sender, key := m.thread, m.sender, m.msg.Key
	cmds, answer := ParseCommands(text)
	if len(cmds) > 0 || !d.staffAuthenticated(m) {
		// Nothing is applied and nothing reaches the requester: anybody
		// can write a technician's address in From.
		if refused, err := d.refuseCommands(ctx, t, m, text); refused || err != nil {
			return err
		}
	}
	if answer == "" && len(stored) > 0 && len(cmds) == 0 {
		answer = i18n.T(d.langFor(t.Requester), "desk.comment.files_only") // a mail with only files still answers
	}
	if answer != "" {
		files, err := d.noticeFiles(ctx, stored)
		if err != nil {
			return err
		}
		if _, err := d.commentWith(ctx, t.Number, sender, answer, ticket.EventComment, true, files); err != nil {
			return err
		}
	}
	if len(cmds) == 0 {
		return nil
	}
	results := d.commandLines(ctx, t.Number, sender, key, cmds)
	if len(results) == 0 {
		return nil // every command answered with its own mail
	}
	return d.replyTo(ctx, t, sender, key, ticket.CommandsNotice{Lines: results})
}

var (
	errHelp           = errors.New("help")
	errUnknownCommand = errors.New("unknown command")
)

func (d *Desk) apply(ctx context.Context, number, actor string, c Command) error {
	var err error
	lang := d.cfg.Language
	switch c.Name {
	case "estado":
		to := ticket.State(strings.ToLower(strings.ReplaceAll(c.Arg, " ", "_")))
		if to != ticket.EnProceso && to != ticket.Retenido {
			return shown(ticket.ErrInvalid, i18n.T(lang, "desk.cmd.estado_usage"))
		}
		_, err = d.Transition(ctx, number, to, actor, "")
	case "retener":
		_, err = d.Transition(ctx, number, ticket.Retenido, actor, c.Arg)
	case "asignar":
		_, err = d.Assign(ctx, number, actor, c.Arg)
	case "escalar":
		_, err = d.change(ctx, number, func(ctx context.Context, t *ticket.Ticket, now time.Time) error {
			return d.escalate(ctx, t, actor, now)
		})
	case "criticidad":
		_, err = d.SetCriticality(ctx, number, actor, ticket.Criticality(rules.Fold(c.Arg)))
	case "categoria":
		_, err = d.Recategorize(ctx, number, actor, strings.ToLower(c.Arg))
	case "nota":
		_, err = d.Comment(ctx, number, actor, c.Arg, true)
	case "cerrar":
		_, err = d.Transition(ctx, number, ticket.Cerrado, actor, c.Arg)
	case "fuera_de_alcance", "fueradealcance":
		if strings.TrimSpace(c.Arg) == "" {
			return shown(ticket.ErrSolutionRequired, i18n.T(lang, "desk.cmd.out_of_scope_usage"))
		}
		_, err = d.Transition(ctx, number, ticket.Cerrado, actor, ticket.OutOfScopePrefix+c.Arg)
	case "cc", "sin_cc", "sincc":
		return d.setCopy(ctx, number, actor, c.Arg, c.Name == "cc")
	case "solicitante":
		return shown(ticket.ErrInvalid, i18n.T(lang, "desk.cmd.requester_usage"))
	case "ayuda", "help":
		return errHelp
	default:
		return shownAs(fmt.Errorf("%w: #%s", errUnknownCommand, c.Name), i18n.Tf(lang, "desk.cmd.unknown", "#"+c.Name))
	}
	return err
}

// shownError is a use-case error with the text people read of it (a
// command's answer), already in their language. Error and Unwrap are
// err's, so errors.Is finds its kind (ticket.ErrInvalid…) and logs and
// the command line see what they always saw.
type shownError struct {
	err  error
	text string
}

func (e *shownError) Error() string { return e.err.Error() }
func (e *shownError) Unwrap() error { return e.err }

// shown is an error of kind whose text, in the reader's language, explain
// shows alone; its Error is "kind: text", as fmt.Errorf("%w: %s") makes it.
func shown(kind error, text string) error {
	return &shownError{err: fmt.Errorf("%w: %s", kind, text), text: text}
}

// shownAs is err (its Error unchanged: an English text of the use case)
// shown to people as text.
func shownAs(err error, text string) error { return &shownError{err: err, text: text} }

// explain turns a use-case error into a sentence for the technician, in
// lang: the text of a shownError (without the wrapping of the use case,
// "changing ticket …: invalid value: "), or a sentence for the kind.
func explain(err error, lang string) string {
	var se *shownError
	switch {
	case errors.As(err, &se):
		return se.text
	case errors.Is(err, ticket.ErrSolutionRequired):
		return i18n.T(lang, "desk.cmd.solution_required")
	case errors.Is(err, ticket.ErrInvalidTransition):
		return i18n.Tf(lang, "desk.cmd.invalid_transition", err.Error())
	}
	return err.Error()
}

// replyTo answers a technician's mail (key: its dedupe key, which the
// answer threads with) with the results of its commands or their refusal;
// t is nil for a mail about no ticket.
func (d *Desk) replyTo(ctx context.Context, t *ticket.Ticket, to, key string, p ticket.CommandsNotice) error {
	n := &ticket.Notice{Ticket: t, To: to, Lang: d.cfg.Language, InReplyTo: key, At: d.now().UTC(), Payload: p}
	n.DedupeKey = string(n.Kind()) + ":" + key
	_, _, err := d.queue(ctx, n)
	return err
}

// setCopy puts an address in copy of a ticket's public answers (#cc) or
// takes it off (#sin_cc), recording who did it.
func (d *Desk) setCopy(ctx context.Context, number, actor, arg string, on bool) error {
	a, err := mail.ParseAddress(strings.TrimSpace(arg))
	if err != nil || len(a.Address) > 254 {
		return shown(ticket.ErrInvalid, i18n.Tf(d.cfg.Language, "desk.cmd.not_an_address", arg))
	}
	email := strings.ToLower(a.Address)
	if d.isOwn(email) {
		return shown(ticket.ErrInvalid, i18n.Tf(d.cfg.Language, "desk.cmd.own_address", email))
	}
	_, err = d.change(ctx, number, func(ctx context.Context, t *ticket.Ticket, now time.Time) error {
		if email == t.Requester {
			return shown(ticket.ErrInvalid, i18n.Tf(d.cfg.Language, "desk.cmd.is_requester", email))
		}
		if err := d.store.SetCopy(ctx, t.ID, email, on); err != nil {
			return err
		}
		e := &ticket.Event{Kind: ticket.EventCopyAdded, Actor: actor, At: now, To: email}
		if !on {
			e = &ticket.Event{Kind: ticket.EventCopyRemoved, Actor: actor, At: now, From: email}
		}
		return d.record(ctx, t, e)
	})
	return err
}
