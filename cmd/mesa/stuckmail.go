package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mesadeservicios/mesa/desk"
	"github.com/mesadeservicios/mesa/internal/i18n"
	"github.com/mesadeservicios/mesa/mailin"
	"github.com/mesadeservicios/mesa/store"
	"github.com/mesadeservicios/mesa/ticket"
)

// The stuck-mail commands: mail intake kept aside (quarantine), outgoing
// mail held or given up (outbox), and addresses that bounce
// (undeliverable). Lists print a table, or a JSON array with --json;
// actions print one line per target, or one JSON object per line. Every
// action is recorded in operator_actions with its actor, and as an
// internal note on the ticket it concerns.

// opLine is one line of an action's output; its JSON names are an
// interface scripts rely on.
type opLine struct {
	Target string `json:"target"`
	// Outcome: replayed, retried, discarded, cleared, exported, skipped
	// (nothing to do) or error.
	Outcome     string `json:"outcome"`
	Disposition string `json:"disposition,omitempty"` // replay: what intake did this time
	Ticket      string `json:"ticket,omitempty"`
	Reason      string `json:"reason,omitempty"`
}

// opFlags are the flags every stuck-mail command takes.
type opFlags struct {
	json  *bool
	actor *string
}

func (o *opFlags) add(fs *flag.FlagSet, actor bool) {
	o.json = fs.Bool("json", false, "JSON for scripts")
	if actor {
		actorFlag(fs, &o.actor)
	}
}

// printLines prints action results and returns the exit code: 1 when any
// target failed.
func printLines(e *env, asJSON bool, lines []opLine) int {
	code := exitOK
	for _, l := range lines {
		if l.Outcome == "error" {
			code = exitFail
		}
		if asJSON {
			b, _ := json.Marshal(l)
			fmt.Fprintln(e.stdout, string(b))
			continue
		}
		fmt.Fprintln(e.stdout, strings.Join(strings.Fields(strings.Join([]string{l.Target + ":", l.Outcome, l.Disposition, l.Ticket, l.Reason}, " ")), " "))
	}
	return code
}

// record writes an operator action, and a note on its ticket when it has
// one, in the caller's transaction.
func record(ctx context.Context, db *store.DB, a store.OperatorAction, note string) error {
	if err := db.RecordAction(ctx, &a); err != nil {
		return err
	}
	if a.TicketID == 0 || note == "" {
		return nil
	}
	data, _ := json.Marshal(map[string]any{"operator_action": a.Action, "target": a.Target})
	return db.AddEvent(ctx, &ticket.Event{TicketID: a.TicketID, Kind: ticket.EventNote, Actor: a.Actor, At: a.At,
		Body: note, Data: string(data)})
}

func detail(kv ...any) string {
	m := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[fmt.Sprint(kv[i])] = kv[i+1]
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func quarantineList() command {
	var o opFlags
	return command{flags: func(fs *flag.FlagSet) { o.add(fs, false) }, run: func(ctx context.Context, e *env) int {
		db, ok := openOps(ctx, e, "quarantine list")
		if !ok {
			return exitFail
		}
		defer db.Close()
		list, err := db.Quarantined(ctx, 0)
		if err != nil {
			fmt.Fprintln(e.stderr, "mesa quarantine list:", err)
			return exitFail
		}
		if *o.json {
			writeJSON(e.stdout, nonNilSlice(list))
			return exitOK
		}
		rows := make([][]string, 0, len(list))
		for _, m := range list {
			rows = append(rows, []string{strconv.FormatInt(m.ID, 10), localTime(e, m.ReceivedAt), m.From, m.Subject,
				strconv.FormatInt(m.Size, 10), m.Reason})
		}
		table(e.stdout, []string{"ID", "RECEIVED", "FROM", "SUBJECT", "BYTES", "REASON"}, rows)
		fmt.Fprintf(e.stdout, "%d message(s) in quarantine\n", len(list))
		return exitOK
	}}
}

// findMessage resolves a quarantine argument: a message id or a dedupe
// key (<message-id> or sha256:…).
func findMessage(ctx context.Context, db *store.DB, arg string) (*ticket.RawMessage, error) {
	if id, err := strconv.ParseInt(arg, 10, 64); err == nil {
		m, err := db.MessageByID(ctx, id)
		if errors.Is(err, ticket.ErrNotFound) {
			err = fmt.Errorf("%w (a replayed message is stored again under a new id: use its key)", err)
		}
		return m, err
	}
	return db.MessageByKey(ctx, arg)
}

func quarantineShow() command {
	var o opFlags
	var raw *bool
	return command{args: true, flags: func(fs *flag.FlagSet) {
		o.add(fs, false)
		raw = fs.Bool("raw", false, "print the message's raw bytes instead")
	}, run: func(ctx context.Context, e *env) int {
		if len(e.args) != 1 {
			fmt.Fprintln(e.stderr, "mesa quarantine show: give one message id or key")
			return exitConfig
		}
		db, ok := openOps(ctx, e, "quarantine show")
		if !ok {
			return exitFail
		}
		defer db.Close()
		m, err := findMessage(ctx, db, e.args[0])
		if err != nil {
			fmt.Fprintln(e.stderr, "mesa quarantine show:", err)
			return exitFail
		}
		if *raw {
			e.stdout.Write(m.Raw)
			return exitOK
		}
		info, err := db.MessageInfoByID(ctx, m.ID)
		if err != nil {
			fmt.Fprintln(e.stderr, "mesa quarantine show:", err)
			return exitFail
		}
		head, _, _ := bytes.Cut(m.Raw, []byte("\r\n\r\n"))
		if len(head) == len(m.Raw) {
			head, _, _ = bytes.Cut(m.Raw, []byte("\n\n"))
		}
		if *o.json {
			writeJSON(e.stdout, struct {
				store.MessageInfo
				Header string `json:"header"`
			}{info, string(head)})
			return exitOK
		}
		fmt.Fprintf(e.stdout, "id:          %d\nkey:         %s\nreceived:    %s\nmailbox:     %s (uid %d)\nfrom:        %s\n"+
			"subject:     %s\nbytes:       %d\ndisposition: %s\nreason:      %s\n\n%s\n",
			info.ID, info.Key, localTime(e, info.ReceivedAt), info.Mailbox, info.UID, info.From, info.Subject, info.Size,
			info.Disposition, info.Reason, strings.TrimRight(string(head), "\r\n"))
		return exitOK
	}}
}

// quarantineReplay runs intake again on quarantined messages, by id or
// key, or on .eml files: the stored row is removed and intake runs in the
// same transaction, so the message ends up processed exactly once (or
// quarantined again, with the new reason). A message that is no longer
// quarantined is skipped: replaying twice creates nothing twice.
func quarantineReplay() command {
	var o opFlags
	return command{args: true, flags: func(fs *flag.FlagSet) { o.add(fs, true) }, run: func(ctx context.Context, e *env) int {
		if len(e.args) == 0 {
			fmt.Fprintln(e.stderr, "mesa quarantine replay: give message ids, keys or .eml files (see mesa quarantine list)")
			return exitConfig
		}
		db, ok := openOps(ctx, e, "quarantine replay")
		if !ok {
			return exitFail
		}
		defer db.Close()
		d, err := buildDesk(e.cfg, db, newLogger(e.cfg.Log, e.stderr), e.now)
		if err != nil {
			fmt.Fprintln(e.stderr, "mesa quarantine replay:", err)
			return exitConfig
		}
		actor := actorOf(*o.actor, e.environ)
		var lines []opLine
		for _, arg := range e.args {
			l, err := replay(ctx, db, d, arg, actor)
			if err != nil {
				l = opLine{Target: arg, Outcome: "error", Reason: err.Error()}
			}
			lines = append(lines, l)
		}
		return printLines(e, *o.json, lines)
	}}
}

func replay(ctx context.Context, db *store.DB, d *desk.Desk, arg, actor string) (opLine, error) {
	line := opLine{Target: arg}
	var fileRaw []byte
	if st, err := os.Stat(arg); err == nil && st.Mode().IsRegular() {
		if fileRaw, err = os.ReadFile(arg); err != nil {
			return line, err
		}
	}
	err := db.InTx(ctx, func(ctx context.Context) error {
		var stored *ticket.RawMessage
		var err error
		raw, src := fileRaw, ticket.Source{Mailbox: "file", ReceivedAt: time.Now()}
		if fileRaw != nil {
			in, _ := mailin.Parse(fileRaw)
			stored, err = db.MessageByKey(ctx, desk.MessageKey(in.MessageID, fileRaw))
			if errors.Is(err, ticket.ErrNotFound) {
				stored, err = nil, nil
			}
		} else {
			stored, err = findMessage(ctx, db, arg)
		}
		if err != nil {
			return err
		}
		origReason := ""
		if stored != nil {
			if stored.Disposition != string(desk.DispQuarantined) || stored.TicketID != 0 {
				line.Outcome, line.Disposition = "skipped", stored.Disposition
				line.Reason = "not in quarantine: already processed"
				if stored.TicketID != 0 {
					if t, err := db.TicketByID(ctx, stored.TicketID); err == nil {
						line.Ticket = t.Number
					}
				}
				return nil
			}
			if err := db.DeleteQuarantined(ctx, stored.ID); err != nil {
				return err
			}
			origReason = stored.Reason
			if raw == nil {
				raw = stored.Raw
				src = ticket.Source{Mailbox: stored.Mailbox, UIDValidity: stored.UIDValidity, UID: stored.UID, ReceivedAt: stored.ReceivedAt}
			}
		}
		in, _ := mailin.Parse(raw) // broken MIME is still ingested, best effort
		res, err := d.Intake(ctx, raw, in, src)
		if err != nil {
			return err
		}
		line.Outcome, line.Disposition, line.Ticket, line.Reason = "replayed", string(res.Disposition), res.Ticket, res.Reason
		a := store.OperatorAction{At: time.Now(), Actor: actor, Action: "quarantine_replay", Target: desk.MessageKey(in.MessageID, raw),
			Detail: detail("disposition", res.Disposition, "ticket", res.Ticket, "quarantine_reason", origReason, "from_file", fileRaw != nil)}
		note := ""
		if res.Ticket != "" {
			t, err := db.TicketByNumber(ctx, res.Ticket)
			if err != nil {
				return err
			}
			a.TicketID = t.ID
			note = "Correo reprocesado desde la cuarentena por " + actor + "."
			if origReason != "" {
				note += " Motivo de la cuarentena: " + origReason
			}
		}
		return record(ctx, db, a, note)
	})
	return line, err
}

func quarantineExport() command {
	var o opFlags
	var out *string
	return command{args: true, flags: func(fs *flag.FlagSet) {
		o.add(fs, true)
		out = fs.String("out", "", "file (one message) or directory to write .eml files to")
	}, run: func(ctx context.Context, e *env) int {
		if *out == "" {
			fmt.Fprintln(e.stderr, "mesa quarantine export: --out FILE.eml or DIR is required")
			return exitConfig
		}
		db, ok := openOps(ctx, e, "quarantine export")
		if !ok {
			return exitFail
		}
		defer db.Close()
		args := e.args
		if len(args) == 0 {
			list, err := db.Quarantined(ctx, 0)
			if err != nil {
				fmt.Fprintln(e.stderr, "mesa quarantine export:", err)
				return exitFail
			}
			for _, m := range list {
				args = append(args, strconv.FormatInt(m.ID, 10))
			}
		}
		st, statErr := os.Stat(*out)
		toDir := len(args) != 1 || (statErr == nil && st.IsDir())
		if toDir {
			if err := os.MkdirAll(*out, 0o700); err != nil {
				fmt.Fprintln(e.stderr, "mesa quarantine export:", err)
				return exitFail
			}
		}
		actor := actorOf(*o.actor, e.environ)
		var lines []opLine
		for _, arg := range args {
			m, err := findMessage(ctx, db, arg)
			path := *out
			if err == nil && toDir {
				path = filepath.Join(*out, strconv.FormatInt(m.ID, 10)+".eml")
			}
			if err == nil {
				err = os.WriteFile(path, m.Raw, 0o600)
			}
			if err == nil {
				err = record(ctx, db, store.OperatorAction{At: time.Now(), Actor: actor, Action: "quarantine_export",
					Target: m.Key, TicketID: m.TicketID, Detail: detail("file", path)}, "")
			}
			if err != nil {
				lines = append(lines, opLine{Target: arg, Outcome: "error", Reason: err.Error()})
				continue
			}
			lines = append(lines, opLine{Target: arg, Outcome: "exported", Reason: path})
		}
		return printLines(e, *o.json, lines)
	}}
}

func outboxList() command {
	var o opFlags
	var states *string
	return command{flags: func(fs *flag.FlagSet) {
		o.add(fs, false)
		states = fs.String("state", "held,failed", "comma-separated states: pending, held, failed, sent, discarded, or all")
	}, run: func(ctx context.Context, e *env) int {
		var want []ticket.OutboxState
		for _, s := range strings.Split(*states, ",") {
			switch s = strings.TrimSpace(s); s {
			case "all":
				want = append(want, ticket.OutboxPending, ticket.OutboxHeld, ticket.OutboxFailed, ticket.OutboxSent, ticket.OutboxDiscarded)
			case string(ticket.OutboxPending), string(ticket.OutboxHeld), string(ticket.OutboxFailed), string(ticket.OutboxSent), string(ticket.OutboxDiscarded):
				want = append(want, ticket.OutboxState(s))
			default:
				fmt.Fprintf(e.stderr, "mesa outbox list: unknown state %q\n", s)
				return exitConfig
			}
		}
		db, ok := openOps(ctx, e, "outbox list")
		if !ok {
			return exitFail
		}
		defer db.Close()
		list, err := db.OutboxEntries(ctx, want, 0)
		if err != nil {
			fmt.Fprintln(e.stderr, "mesa outbox list:", err)
			return exitFail
		}
		if *o.json {
			writeJSON(e.stdout, nonNilSlice(list))
			return exitOK
		}
		rows := make([][]string, 0, len(list))
		for _, m := range list {
			rows = append(rows, []string{strconv.FormatInt(m.ID, 10), string(m.State), m.Ticket, strings.Join(m.To, ","),
				m.Subject, strconv.Itoa(m.Attempts), localTime(e, m.CreatedAt), m.LastError})
		}
		table(e.stdout, []string{"ID", "STATE", "TICKET", "TO", "SUBJECT", "ATTEMPTS", "CREATED", "LAST ERROR"}, rows)
		fmt.Fprintf(e.stdout, "%d mail(s)\n", len(list))
		return exitOK
	}}
}

func outboxRetry() command   { return outboxAction("retry") }
func outboxDiscard() command { return outboxAction("discard") }

// outboxAction releases (retry) or drops (discard) outbox rows by id.
func outboxAction(verb string) command {
	var o opFlags
	return command{args: true, flags: func(fs *flag.FlagSet) { o.add(fs, true) }, run: func(ctx context.Context, e *env) int {
		name := "outbox " + verb
		if len(e.args) == 0 {
			fmt.Fprintf(e.stderr, "mesa %s: give outbox ids (see mesa outbox list)\n", name)
			return exitConfig
		}
		db, ok := openOps(ctx, e, name)
		if !ok {
			return exitFail
		}
		defer db.Close()
		actor := actorOf(*o.actor, e.environ)
		var lines []opLine
		for _, arg := range e.args {
			line := opLine{Target: arg}
			id, err := strconv.ParseInt(arg, 10, 64)
			if err != nil {
				lines = append(lines, opLine{Target: arg, Outcome: "error", Reason: "not an outbox id"})
				continue
			}
			err = db.InTx(ctx, func(ctx context.Context) error {
				now := time.Now()
				var m *ticket.Outgoing
				var err error
				var note string
				if verb == "retry" {
					m, err = db.RetryMail(ctx, id, now)
					line.Outcome = "retried"
					note = i18n.Tf(e.cfg.Desk.Language, "note.mail_released", id, actor)
				} else {
					m, err = db.DiscardMail(ctx, id, now)
					line.Outcome = "discarded"
					note = i18n.Tf(e.cfg.Desk.Language, "note.mail_discarded", id, actor)
				}
				if errors.Is(err, store.ErrNotStuck) {
					line.Outcome, line.Reason = "skipped", err.Error()
					return nil
				}
				if err != nil {
					return err
				}
				line.Reason = "was " + string(m.State) + ", to " + strings.Join(m.To, ",")
				if verb == "retry" {
					for _, to := range m.To {
						if _, bad, _ := db.IsUndeliverable(ctx, to); bad {
							line.Reason += "; " + to + " is still marked undeliverable (mesa undeliverable clear)"
						}
					}
				}
				return record(ctx, db, store.OperatorAction{At: now, Actor: actor, Action: "outbox_" + verb, Target: arg,
					TicketID: m.TicketID, Detail: detail("was", m.State, "to", m.To, "subject", m.Subject, "last_error", m.LastError)}, note)
			})
			if err != nil {
				line.Outcome, line.Reason = "error", err.Error()
			}
			lines = append(lines, line)
		}
		return printLines(e, *o.json, lines)
	}}
}

func undeliverableList() command {
	var o opFlags
	return command{flags: func(fs *flag.FlagSet) { o.add(fs, false) }, run: func(ctx context.Context, e *env) int {
		db, ok := openOps(ctx, e, "undeliverable list")
		if !ok {
			return exitFail
		}
		defer db.Close()
		list, err := db.UndeliverableAddresses(ctx)
		if err != nil {
			fmt.Fprintln(e.stderr, "mesa undeliverable list:", err)
			return exitFail
		}
		if *o.json {
			writeJSON(e.stdout, nonNilSlice(list))
			return exitOK
		}
		rows := make([][]string, 0, len(list))
		for _, u := range list {
			rows = append(rows, []string{u.Email, localTime(e, u.Since), strconv.Itoa(u.Held), u.Reason})
		}
		table(e.stdout, []string{"ADDRESS", "SINCE", "HELD", "REASON"}, rows)
		fmt.Fprintf(e.stdout, "%d address(es)\n", len(list))
		return exitOK
	}}
}

func undeliverableClear() command {
	var o opFlags
	return command{args: true, flags: func(fs *flag.FlagSet) { o.add(fs, true) }, run: func(ctx context.Context, e *env) int {
		if len(e.args) == 0 {
			fmt.Fprintln(e.stderr, "mesa undeliverable clear: give addresses (see mesa undeliverable list)")
			return exitConfig
		}
		db, ok := openOps(ctx, e, "undeliverable clear")
		if !ok {
			return exitFail
		}
		defer db.Close()
		actor := actorOf(*o.actor, e.environ)
		var lines []opLine
		for _, addr := range e.args {
			line := opLine{Target: addr, Outcome: "cleared"}
			err := db.InTx(ctx, func(ctx context.Context) error {
				reason, _, err := db.IsUndeliverable(ctx, addr)
				if err != nil {
					return err
				}
				if err := db.ClearUndeliverable(ctx, addr); err != nil {
					return err
				}
				line.Reason = "held mail stays held: release it with mesa outbox retry"
				return record(ctx, db, store.OperatorAction{At: time.Now(), Actor: actor, Action: "undeliverable_clear",
					Target: strings.ToLower(strings.TrimSpace(addr)), Detail: detail("reason", reason)}, "")
			})
			if errors.Is(err, ticket.ErrNotFound) {
				line.Outcome, line.Reason = "skipped", "not marked undeliverable"
			} else if err != nil {
				line.Outcome, line.Reason = "error", err.Error()
			}
			lines = append(lines, line)
		}
		return printLines(e, *o.json, lines)
	}}
}

// actionsList prints the operations trail.
func actionsList() command {
	var o opFlags
	var limit *int
	return command{flags: func(fs *flag.FlagSet) {
		o.add(fs, false)
		limit = fs.Int("limit", 50, "how many, newest first")
	}, run: func(ctx context.Context, e *env) int {
		db, ok := openOps(ctx, e, "actions")
		if !ok {
			return exitFail
		}
		defer db.Close()
		list, err := db.Actions(ctx, *limit)
		if err != nil {
			fmt.Fprintln(e.stderr, "mesa actions:", err)
			return exitFail
		}
		if *o.json {
			writeJSON(e.stdout, nonNilSlice(list))
			return exitOK
		}
		rows := make([][]string, 0, len(list))
		for _, a := range list {
			rows = append(rows, []string{localTime(e, a.At), a.Actor, a.Action, a.Target, a.Detail})
		}
		table(e.stdout, []string{"AT", "ACTOR", "ACTION", "TARGET", "DETAIL"}, rows)
		return exitOK
	}}
}

func nonNilSlice[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
