package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/mesadeservicios/mesa/desk"
	"github.com/mesadeservicios/mesa/mailin"
	"github.com/mesadeservicios/mesa/ticket"
)

// ingestLine is one line of `mesa ingest --json`; its field names are an
// interface operators and checks rely on.
type ingestLine struct {
	File        string `json:"file"`
	Disposition string `json:"disposition"`
	Ticket      string `json:"ticket,omitempty"`
	Reason      string `json:"reason,omitempty"`
}

func ingest() command {
	var asJSON *bool
	return command{
		args:  true,
		flags: func(fs *flag.FlagSet) { asJSON = fs.Bool("json", false, "one JSON object per file") },
		run: func(ctx context.Context, e *env) int {
			files, err := emlFiles(e.args)
			if err != nil || len(files) == 0 {
				fmt.Fprintln(e.stderr, "mesa ingest: give .eml files or directories that hold them", err)
				return exitConfig
			}
			db, err := openStore(ctx, e.cfg)
			if err != nil {
				fmt.Fprintln(e.stderr, "mesa ingest:", err)
				return exitFail
			}
			defer db.Close()
			if e.cfg.Database.AutoMigrate {
				if _, err := db.Migrate(ctx); err != nil {
					fmt.Fprintln(e.stderr, "mesa ingest:", err)
					return exitFail
				}
			}
			if err := db.CheckSchema(ctx); err != nil {
				fmt.Fprintln(e.stderr, "mesa ingest:", err)
				return exitFail
			}
			log := newLogger(e.cfg.Log, e.stderr)
			if *asJSON {
				log = slog.New(slog.DiscardHandler)
			}
			d, err := buildDesk(e.cfg, db, log, e.now)
			if err != nil {
				fmt.Fprintln(e.stderr, "mesa ingest:", err)
				return exitConfig
			}
			enc := json.NewEncoder(e.stdout)
			enc.SetEscapeHTML(false)
			code := exitOK
			for _, f := range files {
				line := ingestLine{File: f}
				raw, err := os.ReadFile(f)
				if err == nil {
					in, _ := mailin.Parse(raw) // broken MIME is still ingested, best effort
					var res desk.IntakeResult
					res, err = d.Intake(ctx, raw, in, ticket.Source{Mailbox: "file", ReceivedAt: time.Now()})
					line.Disposition, line.Ticket, line.Reason = string(res.Disposition), res.Ticket, res.Reason
				}
				if err != nil {
					code = exitFail
					line.Disposition, line.Reason = "error", err.Error()
				}
				if *asJSON {
					enc.Encode(line)
				} else {
					fmt.Fprintf(e.stdout, "%s: %s %s %s\n", f, line.Disposition, line.Ticket, line.Reason)
				}
			}
			return code
		},
	}
}
