package desk

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode"

	"github.com/mesadeservicios/mesa/rules"
	"github.com/mesadeservicios/mesa/ticket"
)

// Command is one "#…" line at the top of a technician's reply.
type Command struct {
	Name string // folded: "categoria" for "#Categoría"
	Arg  string
	Line string // as written
}

// CommandHelp lists the commands, in Spanish, for the help text.
var CommandHelp = []string{
	"#estado en_proceso|retenido — cambia el estado del caso",
	"#retener <motivo> — pone el caso en retenido (el ANS se detiene)",
	"#asignar <correo|grupo> — asigna el caso a un técnico o al grupo",
	"#escalar — pasa el caso al segundo nivel del grupo",
	"#criticidad alta|media|baja — cambia la criticidad",
	"#categoria <clave> — cambia la categoría (por ejemplo ti.vpn)",
	"#nota <texto> — nota interna, nunca se envía al solicitante",
	"#cerrar <solución> — cierra el caso con la solución",
	"#fuera_de_alcance <orientación> — cierra el caso con la orientación (guía 4.1.8)",
	"#cc <correo> — el correo recibe copia de las respuestas y del cierre",
	"#sin_cc <correo> — el correo deja de recibir copias",
	"#solicitante <correo> — al comienzo de un correo nuevo a la mesa: abre el caso a nombre de esa persona",
	"#mis_casos — le enviamos sus casos abiertos, los de mayor riesgo de ANS primero",
	"#pendientes [grupo] — (gestores) los casos abiertos de sus grupos, o de uno",
	"#resumen / #sin_resumen — recibir o no su resumen de cada mañana",
	"#ausente hasta AAAA-MM-DD [reemplazo] — no recibe casos nuevos hasta esa fecha (inclusive); sus casos se ofrecen al reemplazo o al grupo (#ausente no: regresó)",
	"#tomar [MS-…] — toma este caso, o los casos indicados",
	"#unir MS-… — une ese caso a este: su historial, participantes y adjuntos pasan aquí y se cierra con la referencia",
	"#masivo MS-… MS-… — vincula esos casos bajo este (o bajo el primero): al cerrar este se cierran todos con la misma respuesta",
	"Los comandos que no tratan de un caso (#mis_casos, #pendientes, #resumen, #ausente, #tomar MS-…, #masivo) también sirven en un correo nuevo a la mesa.",
	"#ayuda — esta lista",
	"El texto que sigue a las líneas de comandos se envía al solicitante como respuesta.",
}

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

// staffAuthenticated reports whether a mail from sender may act as desk
// staff: the check every staff action by mail passes (commands, a ticket
// opened in someone else's name). It is the one place that decides it.
// The caller has established that sender is active staff.
func (d *Desk) staffAuthenticated(in *ticket.Inbound, sender string) bool {
	if d.cfg.AllowUnauthenticatedCommands {
		return true
	}
	_, domain, _ := strings.Cut(sender, "@")
	return Authenticated(in.AuthResults, d.cfg.TrustedAuthServID, domain)
}

// technicianReply handles a reply from desk staff: its commands, applied
// only when the mail is authenticated (refuseCommands), and its answer to
// the requester, with the mail's files.
func (d *Desk) technicianReply(ctx context.Context, m *inMail, text string, stored []ticket.Attachment) error {
	t, sender, key := m.thread, m.sender, m.msg.Key
	cmds, answer := ParseCommands(text)
	if len(cmds) > 0 {
		// Nothing is applied and nothing reaches the requester: anybody
		// can write a technician's address in From.
		if refused, err := d.refuseCommands(ctx, t, m, text); refused || err != nil {
			return err
		}
	}
	if answer == "" && len(stored) > 0 && len(cmds) == 0 {
		answer = "(Archivos adjuntos.)" // a mail with only files still answers
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
	errUnknownCommand = errors.New("comando desconocido")
)

func (d *Desk) apply(ctx context.Context, number, actor string, c Command) error {
	var err error
	switch c.Name {
	case "estado":
		to := ticket.State(strings.ToLower(strings.ReplaceAll(c.Arg, " ", "_")))
		if to != ticket.EnProceso && to != ticket.Retenido {
			return fmt.Errorf("%w: #estado acepta en_proceso o retenido (para cerrar use #cerrar)", ticket.ErrInvalid)
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
			return fmt.Errorf("%w: #fuera_de_alcance necesita la orientación de a dónde dirigirse", ticket.ErrSolutionRequired)
		}
		_, err = d.Transition(ctx, number, ticket.Cerrado, actor, ticket.OutOfScopePrefix+c.Arg)
	case "cc", "sin_cc", "sincc":
		return d.setCopy(ctx, number, actor, c.Arg, c.Name == "cc")
	case "solicitante":
		return fmt.Errorf("%w: #solicitante solo sirve al comienzo de un correo nuevo a la mesa (no en la respuesta a un caso)", ticket.ErrInvalid)
	case "ayuda", "help":
		return errHelp
	default:
		return fmt.Errorf("%w: #%s", errUnknownCommand, c.Name)
	}
	return err
}

// explain turns a use-case error into a sentence for the technician.
func explain(err error) string {
	switch {
	case errors.Is(err, ticket.ErrSolutionRequired):
		return "cerrar un caso requiere la solución o la orientación (guía 4.1.8)"
	case errors.Is(err, ticket.ErrInvalidTransition):
		return "el ciclo de vida no permite ese cambio de estado (" + err.Error() + ")"
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
		return fmt.Errorf("%w: %q no es una dirección de correo", ticket.ErrInvalid, arg)
	}
	email := strings.ToLower(a.Address)
	if d.isOwn(email) {
		return fmt.Errorf("%w: %s es una dirección de la mesa", ticket.ErrInvalid, email)
	}
	_, err = d.change(ctx, number, func(ctx context.Context, t *ticket.Ticket, now time.Time) error {
		if email == t.Requester {
			return fmt.Errorf("%w: %s es el solicitante, que siempre recibe las respuestas", ticket.ErrInvalid, email)
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
