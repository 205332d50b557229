package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"time"

	"github.com/mesadeservicios/mesa/config"
	"github.com/mesadeservicios/mesa/internal/i18n"
	"github.com/mesadeservicios/mesa/jobs"
	"github.com/mesadeservicios/mesa/store"
	"github.com/mesadeservicios/mesa/ticket"
)

// purgeReport says what a retention pass removed (or, dry, would remove).
type purgeReport struct {
	RawTickets  int   `json:"raw_mail_tickets"`
	RawMessages int   `json:"raw_mail_messages"`
	RawBytes    int64 `json:"raw_mail_bytes"`
	AttTickets  int   `json:"attachment_tickets"`
	AttRows     int   `json:"attachments"`
	AttBytes    int64 `json:"attachment_bytes"`
}

// purgeBatch bounds the tickets read per query; each ticket is purged in
// its own short transaction.
const purgeBatch = 200

// purgeRetention removes raw mail and attachment data of tickets closed
// longer ago than retention.* days, ticket by ticket: the bytes go, the
// ticket, its events and each message's and file's metadata stay, and a
// note on the ticket says what was removed and why. A dry run only
// counts the tickets concerned.
func purgeRetention(ctx context.Context, db *store.DB, r config.Retention, lang string, now time.Time, actor string, dry bool) (purgeReport, error) {
	var rep purgeReport
	for _, k := range []struct {
		kind    store.PurgeKind
		days    int
		key     string
		what    string // i18n key of what is removed
		tickets *int
		rows    *int
		bytes   *int64
	}{
		{store.PurgeRawMail, r.RawMailDays, "retention.raw_mail_days", "note.retention.raw_mail", &rep.RawTickets, &rep.RawMessages, &rep.RawBytes},
		{store.PurgeAttachments, r.AttachmentsDays, "retention.attachments_days", "note.retention.attachments", &rep.AttTickets, &rep.AttRows, &rep.AttBytes},
	} {
		if k.days <= 0 {
			continue
		}
		before := now.AddDate(0, 0, -k.days)
		if dry {
			ids, err := db.ClosedForPurge(ctx, k.kind, before, 1<<30)
			if err != nil {
				return rep, err
			}
			*k.tickets = len(ids)
			continue
		}
		for {
			ids, err := db.ClosedForPurge(ctx, k.kind, before, purgeBatch)
			if err != nil {
				return rep, err
			}
			for _, id := range ids {
				err := db.InTx(ctx, func(ctx context.Context) error {
					n, b, err := db.Purge(ctx, k.kind, id, now)
					if err != nil || n == 0 {
						return err
					}
					*k.tickets, *k.rows, *k.bytes = *k.tickets+1, *k.rows+n, *k.bytes+b
					data, _ := json.Marshal(map[string]any{"retention": k.kind, "rows": n, "bytes": b, "setting": k.key, "days": k.days})
					return db.AddEvent(ctx, &ticket.Event{TicketID: id, Kind: ticket.EventNote, Actor: actor, At: now, Data: string(data),
						Body: i18n.Tf(lang, "note.retention", i18n.T(lang, k.what), n, b, k.days, k.key)})
				})
				if err != nil {
					return rep, err
				}
			}
			if len(ids) < purgeBatch {
				break
			}
		}
	}
	if !dry && (rep.RawTickets > 0 || rep.AttTickets > 0) {
		b, _ := json.Marshal(rep)
		if err := db.RecordAction(ctx, &store.OperatorAction{At: now, Actor: actor, Action: "retention_purge", Detail: string(b)}); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// scheduleRetention adds the daily purge when retention is configured.
func (a *App) scheduleRetention() error {
	if !a.cfg.Retention.Enabled() || a.cfg.Jobs.Retention == "" {
		return nil
	}
	return a.jobs.Add("retention", a.cfg.Jobs.Retention, func(ctx context.Context) error {
		rep, err := purgeRetention(ctx, a.db, a.cfg.Retention, a.cfg.Desk.Language, time.Now(), ticket.SystemActor, false)
		jobs.Count(ctx, "raw_mail_tickets", rep.RawTickets)
		jobs.Count(ctx, "attachment_tickets", rep.AttTickets)
		return err
	})
}

// retentionPurge is `mesa retention purge [--dry-run]`: the daily job, run
// now.
func retentionPurge() command {
	var o opFlags
	var dry *bool
	return command{flags: func(fs *flag.FlagSet) {
		o.add(fs, true)
		dry = fs.Bool("dry-run", false, "count the tickets concerned and change nothing")
	}, run: func(ctx context.Context, e *env) int {
		if !e.cfg.Retention.Enabled() {
			fmt.Fprintln(e.stdout, "retention.raw_mail_days and retention.attachments_days are 0: everything is kept; nothing to purge")
			return exitOK
		}
		db, ok := openOps(ctx, e, "retention purge")
		if !ok {
			return exitFail
		}
		defer db.Close()
		rep, err := purgeRetention(ctx, db, e.cfg.Retention, e.cfg.Desk.Language, time.Now(), actorOf(*o.actor, e.environ), *dry)
		if *o.json {
			writeJSON(e.stdout, rep)
		} else {
			verb := "purged"
			if *dry {
				verb = "would purge"
			}
			fmt.Fprintf(e.stdout, "%s raw mail of %d ticket(s) (%d messages, %d bytes) and attachments of %d ticket(s) (%d files, %d bytes)\n",
				verb, rep.RawTickets, rep.RawMessages, rep.RawBytes, rep.AttTickets, rep.AttRows, rep.AttBytes)
		}
		if err != nil {
			fmt.Fprintln(e.stderr, "mesa retention purge:", err)
			return exitFail
		}
		return exitOK
	}}
}
