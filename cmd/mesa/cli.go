package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/mesadeservicios/mesa/config"
	"github.com/mesadeservicios/mesa/mailout"
	"github.com/mesadeservicios/mesa/store"
)

// Exit codes.
const (
	exitOK     = 0
	exitFail   = 1 // the command ran and failed
	exitConfig = 2 // bad usage or configuration
)

const usage = `mesa — Mesa de Servicios: the service desk run from its mailbox

Usage:
  mesa serve   [--config FILE]   run the daemon (migrates first unless database.auto_migrate: false)
  mesa migrate [--config FILE]   apply pending database migrations
  mesa check   [--config FILE]   print the effective configuration (secrets redacted), or every error
  mesa demo    [--http ADDR]     the whole daemon on an in-process mail system, seeded, with a demo page
  mesa ingest  [--config FILE] [--json] FILE.eml…
                                 run intake on mail files (migration, replaying quarantine)
  mesa rules test [--json] [--labels FILE] FILE.eml…
                                 classify mail: category, type, criticidad, score, matched rules
  mesa rules suggest [--top N]   words that recur in mail technicians recategorised, per category
  mesa rules train [--corpus DIR] [--history FILE.csv] [--corrections] --out FILE
                                 train a model (rules.model_file) from the corpus, a history, corrections
  mesa rules report [--weeks N]  override rate per category and week, confusions, the model's age
  mesa sla due --from RFC3339 (--hours H | --category KEY [--criticidad C])
                                 the due instant, counted in business hours
  mesa sla holidays YEAR         the closed days of YEAR, one ISO date per line
  mesa report  --from DATE --to DATE [--group G] [--format csv|xlsx] --out FILE
                                 the follow-up report of the days DATE to DATE (both inclusive, YYYY-MM-DD):
                                 one line per ticket; xlsx adds a summary by category, group and technician
  mesa bench intake [--messages N] [--latency K] [--size BYTES] [--large-mb MB]
                                 append mail to a throwaway Dovecot and measure intake into PostgreSQL;
                                 only in bin/mesa-bench, which make bench builds (-tags bench)
  mesa version                   print the version, commit and build date
  mesa healthcheck [--ready] [--url URL]
                                 probe the running daemon's /healthz (or /readyz): exit 0 healthy, 1 not
  mesa migrate --dry-run         list pending migrations, change nothing
  mesa quarantine list|show KEY|replay KEY…|export KEY --out FILE.eml
                                 mail intake kept aside; replay runs intake again (also on .eml files)
  mesa outbox list [--state S]|retry ID…|discard ID…
                                 held and failed outgoing mail
  mesa undeliverable list|clear ADDR…
                                 addresses whose mail bounced permanently
  mesa backup --out FILE         consistent online backup (SQLite: VACUUM INTO; PostgreSQL: pg_dump -Fc)
  mesa backup verify FILE        check a backup: schema version and row counts
  mesa retention purge [--dry-run]
                                 remove raw mail / attachments past retention.* (the daily job does it too)
  mesa export --email ADDR --out FILE.zip
                                 everything mesa holds about a person (Ley 1581 consultas)
  The stuck-mail commands take --json and --actor WHO (default $SUDO_USER or $USER, @hostname).

FILE defaults to $MESA_CONFIG; with neither, mesa runs on its defaults.
Every key can be overridden as MESA_<SECTION>_<KEY>; see mesa.example.yaml.
`

// noBench answers `mesa bench` in the production binary.
const noBench = `mesa bench is not part of this binary: the intake benchmark starts throwaway
Dovecot and PostgreSQL servers, so it is built apart, as bin/mesa-bench:
  make bench                                    every benchmark, written into docs/BENCHMARKS.md
  go build -tags bench -o bin/mesa-bench ./cmd/mesa && bin/mesa-bench bench intake --help
`

// run is the whole command line, in-process for tests.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, environ []string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitConfig
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "version", "--version":
		fmt.Fprintln(stdout, versionLine())
		return exitOK
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	case "rules", "sla", "bench":
		if cmd == "bench" && benchIntakeCommand == nil {
			fmt.Fprint(stderr, noBench)
			return exitConfig
		}
		if len(args) == 1 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			fmt.Fprint(stdout, usage)
			return exitOK
		}
		if len(args) == 0 {
			fmt.Fprintf(stderr, "mesa %s: missing subcommand\n\n%s", cmd, usage)
			return exitConfig
		}
		cmd, args = cmd+" "+args[0], args[1:]
	}
	var c command
	switch cmd {
	case "check":
		c = command{run: runCheck}
	case "migrate":
		c = migrateCommand() // opscmd.go: --dry-run
	case "serve":
		c = command{run: func(ctx context.Context, e *env) int { return serve(ctx, e.cfg, e.stderr, e.environ) }}
	case "ingest":
		c = ingest()
	case "report":
		c = reportCommand()
	case "demo":
		c = demoCommand()
	case "bench intake":
		c = benchIntakeCommand()
	case "rules test":
		c = rulesTest()
	case "rules suggest":
		c = rulesSuggest()
	case "rules train":
		c = rulesTrain()
	case "rules report":
		c = rulesReport()
	case "sla due":
		c = slaDue()
	case "sla holidays":
		c = slaHolidays()
	default:
		if oc, ok := opsCommand(cmd, args); ok { // opscmd.go
			c, args, cmd = oc.command, oc.args, oc.name
			break
		}
		fmt.Fprintf(stderr, "mesa: unknown command %q\n\n%s", cmd, usage)
		return exitConfig
	}
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", getenv(environ, "MESA_CONFIG"), "configuration file (YAML)")
	if c.flags != nil {
		c.flags(fs)
	}
	if err := fs.Parse(args); err != nil {
		return exitConfig
	}
	if fs.NArg() > 0 && !c.args {
		fmt.Fprintf(stderr, "mesa %s: unexpected argument %q\n", cmd, fs.Arg(0))
		return exitConfig
	}
	cfg, err := config.Load(*path, environ)
	if err != nil {
		var ps config.Problems
		if errors.As(err, &ps) {
			fmt.Fprintf(stderr, "mesa: %d configuration error(s)%s:\n", len(ps), inFile(*path))
			for _, p := range ps {
				fmt.Fprintln(stderr, "  "+p.Error())
			}
		} else {
			fmt.Fprintln(stderr, "mesa:", err)
		}
		return exitConfig
	}
	return c.run(ctx, &env{cfg: cfg, path: *path, args: fs.Args(), stdout: stdout, stderr: stderr, now: time.Now, environ: environ})
}

// command is one subcommand: its own flags, and whether it takes arguments.
type command struct {
	flags func(fs *flag.FlagSet)
	args  bool
	run   func(ctx context.Context, e *env) int
}

// env is what a subcommand runs with.
type env struct {
	cfg            *config.Config
	path           string
	args           []string
	stdout, stderr io.Writer
	now            func() time.Time // the clock the desk runs on
	environ        []string
}

func runCheck(_ context.Context, e *env) int {
	// The catalogue and the calendar are part of the configuration: check
	// them too, so that a broken rules.file fails here and not at start.
	var problems []string
	var warnings config.Problems
	if eng, err := loadRules(e.cfg); err != nil {
		problems = append(problems, "rules.file: "+err.Error())
	} else {
		errs, warns := e.cfg.CheckOrganisation(catalogueRoutes(eng))
		for _, p := range errs {
			problems = append(problems, p.Error())
		}
		warnings = warns
	}
	if _, err := loadCalendar(e.cfg); err != nil {
		problems = append(problems, "sla: "+err.Error())
	}
	if _, err := mailout.New(mailout.Options{From: e.cfg.Desk.Addresses[0], Language: e.cfg.Desk.Language,
		TemplateDir: e.cfg.Templates.Dir}); err != nil {
		problems = append(problems, "templates.dir: "+err.Error())
	}
	if _, err := dkimOptions(e.cfg, e.cfg.Desk.Addresses[0]); err != nil {
		problems = append(problems, err.Error())
	}
	if len(problems) > 0 {
		fmt.Fprintf(e.stderr, "mesa: %d configuration error(s)%s:\n", len(problems), inFile(e.path))
		for _, p := range problems {
			fmt.Fprintln(e.stderr, "  "+p)
		}
		printWarnings(e.stderr, e.path, warnings)
		return exitConfig
	}
	printWarnings(e.stderr, e.path, warnings)
	out, err := e.cfg.YAML()
	if err != nil {
		fmt.Fprintln(e.stderr, "mesa check:", err)
		return exitFail
	}
	fmt.Fprintf(e.stdout, "# effective configuration%s, secrets redacted\n%s", inFile(e.path), out)
	return exitOK
}

func migrate(ctx context.Context, e *env) int {
	cfg, stdout, stderr := e.cfg, e.stdout, e.stderr
	db, err := openStore(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "mesa migrate:", err)
		return exitFail
	}
	defer db.Close()
	n, err := db.Migrate(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "mesa migrate:", err)
		return exitFail
	}
	v, err := db.SchemaVersion(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "mesa migrate:", err)
		return exitFail
	}
	fmt.Fprintf(stdout, "applied %d migration(s); %s schema at version %d\n", n, db.Driver(), v)
	return exitOK
}

func serve(ctx context.Context, cfg *config.Config, stderr io.Writer, environ []string) int {
	log := newLogger(cfg.Log, stderr)
	logOrganisation(log, cfg)
	app, err := Open(ctx, cfg, Options{Logger: log})
	if err != nil {
		log.Error("cannot start", "err", err)
		return exitFail
	}
	defer app.Close()
	defer notifySystemd(ctx, app, environ, log)()
	if err := app.Run(ctx); err != nil {
		log.Error("stopped with error", "err", err)
		return exitFail
	}
	return exitOK
}

func openStore(ctx context.Context, cfg *config.Config) (*store.DB, error) {
	driver, dsn, err := config.ParseDatabaseURL(cfg.Database.URL)
	if err != nil {
		return nil, err
	}
	return store.Open(ctx, driver, dsn, &store.Options{MaxOpenConns: cfg.Database.MaxOpenConns})
}

func newLogger(c config.Log, w io.Writer) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(c.Level)) // validated by config
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func inFile(path string) string {
	if path == "" {
		return " (no file: defaults and environment)"
	}
	return " in " + path
}

func getenv(env []string, key string) string {
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			return v
		}
	}
	return ""
}
