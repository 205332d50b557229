package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
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

// usageHead and usageTail frame the command list of `mesa help`, which
// is made from the dispatch table.
const usageHead = `mesa — Mesa de Servicios: the service desk run from its mailbox

Usage:
`

const usageTail = `
FILE defaults to $MESA_CONFIG; with neither, mesa runs on its defaults.
Every key can be overridden as MESA_<SECTION>_<KEY>; see mesa.example.yaml.
mesa COMMAND --help explains a command and its flags. The stuck-mail commands
(quarantine, outbox, undeliverable) take --json, and those that change
something --actor WHO (default $SUDO_USER or $USER, @hostname).
`

// noBench answers `mesa bench` in the production binary.
const noBench = `mesa bench is not part of this binary: the intake benchmark starts throwaway
Dovecot and PostgreSQL servers, so it is built apart, as bin/mesa-bench:
  make bench                                    every benchmark, written into docs/BENCHMARKS.md
  go build -tags bench -o bin/mesa-bench ./cmd/mesa && bin/mesa-bench bench intake --help
`

// commandSpec is one entry of the dispatch table.
type commandSpec struct {
	name     string // "serve", or "group sub" as in "rules test"
	synopsis string // what follows the name on the usage line
	summary  string // what it does, in one or two lines
	// noConfig: the command reads no configuration and has no --config.
	noConfig bool
	make     func() command
}

// commands is the dispatch table: every command and subcommand of the
// binary. Each gets --help (and -h) from run, and appears in `mesa help`;
// TestEveryCommandHasHelp walks it.
func commands() []commandSpec {
	cs := []commandSpec{
		{name: "serve", synopsis: "[--config FILE]", summary: "run the daemon (migrates first unless database.auto_migrate: false);\n" +
			"SIGHUP reads the TLS certificate again, SIGTERM stops gracefully",
			make: func() command {
				return command{run: func(ctx context.Context, e *env) int { return serve(ctx, e.cfg, e.stderr, e.environ) }}
			}},
		{name: "migrate", synopsis: "[--config FILE] [--dry-run]", summary: "apply pending database migrations; --dry-run lists them and changes nothing",
			make: migrateCommand},
		{name: "check", synopsis: "[--config FILE]", summary: "print the effective configuration (secrets redacted), or every error",
			make: func() command { return command{run: runCheck} }},
		{name: "demo", synopsis: "[--http ADDR]", summary: "the whole daemon on an in-process mail system, seeded, with a demo page",
			make: demoCommand},
		{name: "ingest", synopsis: "[--config FILE] [--json] FILE.eml…", summary: "run intake on mail files (migration, replaying quarantine)",
			make: ingest},
		{name: "report", synopsis: "--from DATE --to DATE [--group G] [--format csv|xlsx] --out FILE",
			summary: "the follow-up report of the days DATE to DATE (both inclusive, YYYY-MM-DD):\n" +
				"one line per ticket; xlsx adds a summary by category, group and technician",
			make: reportCommand},
		{name: "rules test", synopsis: "[--json] [--labels FILE] FILE.eml…", summary: "classify mail: category, type, criticidad, score, matched rules",
			make: rulesTest},
		{name: "rules suggest", synopsis: "[--top N]", summary: "words that recur in mail technicians recategorised, per category",
			make: rulesSuggest},
		{name: "rules train", synopsis: "[--corpus DIR] [--history FILE.csv] [--corrections] --out FILE",
			summary: "train a model (rules.model_file) from the corpus, a history, corrections", make: rulesTrain},
		{name: "rules report", synopsis: "[--weeks N]", summary: "override rate per category and week, confusions, the model's age",
			make: rulesReport},
		{name: "sla due", synopsis: "--from RFC3339 (--hours H | --category KEY [--criticidad C])",
			summary: "the due instant, counted in business hours", make: slaDue},
		{name: "sla holidays", synopsis: "[--names] YEAR", summary: "the closed days of YEAR, one ISO date per line", make: slaHolidays},
		{name: "healthcheck", synopsis: "[--ready] [--url URL] [--timeout D]",
			summary: "probe the running daemon's /healthz (or /readyz) on http.admin_listen: exit 0 healthy, 1 not",
			make:    healthcheck},
		{name: "quarantine list", synopsis: "[--json]", summary: "mail intake kept aside, with its reason", make: quarantineList},
		{name: "quarantine show", synopsis: "[--json] [--raw] KEY", summary: "one quarantined message and its reason; --raw prints its bytes", make: quarantineShow},
		{name: "quarantine replay", synopsis: "[--json] [--actor WHO] KEY…|FILE.eml…",
			summary: "run intake again on quarantined mail (or .eml files); a message ends up processed once", make: quarantineReplay},
		{name: "quarantine export", synopsis: "[--json] [--actor WHO] --out FILE.eml|DIR KEY…", summary: "write quarantined messages as .eml files", make: quarantineExport},
		{name: "outbox list", synopsis: "[--state S] [--json]", summary: "held and failed outgoing mail", make: outboxList},
		{name: "outbox retry", synopsis: "[--json] [--actor WHO] ID…", summary: "release held or failed outgoing mail to be sent again", make: outboxRetry},
		{name: "outbox discard", synopsis: "[--json] [--actor WHO] ID…", summary: "drop held or failed outgoing mail, never sent", make: outboxDiscard},
		{name: "undeliverable list", synopsis: "[--json]", summary: "addresses whose mail bounced permanently", make: undeliverableList},
		{name: "undeliverable clear", synopsis: "[--json] [--actor WHO] ADDR…", summary: "mail these addresses again (their bounce is forgotten)",
			make: undeliverableClear},
		{name: "backup", synopsis: "--out FILE", summary: "consistent online backup (SQLite: VACUUM INTO; PostgreSQL: pg_dump -Fc)",
			make: backupCommand},
		{name: "backup verify", synopsis: "FILE", summary: "check a backup: schema version and row counts", make: backupVerify},
		{name: "retention purge", synopsis: "[--dry-run] [--json] [--actor WHO]",
			summary: "remove raw mail / attachments past retention.* (the daily job does it too)", make: retentionPurge},
		{name: "export", synopsis: "--email ADDR --out FILE.zip", summary: "everything mesa holds about a person (Ley 1581 consultas)",
			make: exportCommand},
		{name: "actions", synopsis: "[--limit N] [--json]", summary: "the operations trail (who replayed, retried, discarded, cleared, purged what), newest first",
			make: actionsList},
		{name: "version", summary: "print the version, commit and build date", noConfig: true, make: func() command {
			return command{run: func(_ context.Context, e *env) int {
				fmt.Fprintln(e.stdout, versionLine())
				return exitOK
			}}
		}},
	}
	if benchIntakeCommand != nil {
		cs = append(cs, commandSpec{name: "bench intake", synopsis: "[--messages N] [--latency K] [--size BYTES] [--large-mb MB]",
			summary: "append mail to a throwaway Dovecot and measure intake into PostgreSQL (bin/mesa-bench only)",
			make:    benchIntakeCommand})
	}
	return cs
}

// usage is the text of `mesa help`, or of one group (rules, sla) when
// group is set.
func usage(group string) string {
	var b strings.Builder
	b.WriteString(usageHead)
	for _, c := range commands() {
		if g, _, _ := strings.Cut(c.name, " "); group != "" && g != group {
			continue
		}
		fmt.Fprintf(&b, "  mesa %s\n", strings.TrimSpace(c.name+" "+c.synopsis))
		for _, l := range strings.Split(c.summary, "\n") {
			fmt.Fprintf(&b, "        %s\n", l)
		}
	}
	if group == "" && benchIntakeCommand == nil {
		b.WriteString("  mesa bench …\n        benchmarks: only in bin/mesa-bench, which make bench builds (-tags bench)\n")
	}
	b.WriteString(usageTail)
	return b.String()
}

func isHelp(arg string) bool {
	return arg == "-h" || arg == "--help" || arg == "-help" || arg == "help"
}

// run is the whole command line, in-process for tests.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, environ []string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage(""))
		return exitConfig
	}
	switch args[0] {
	case "--version":
		args[0] = "version"
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, usage(""))
		return exitOK
	}
	table := commands()
	find := func(name string) *commandSpec {
		for i := range table {
			if table[i].name == name {
				return &table[i]
			}
		}
		return nil
	}
	groups := map[string]bool{}
	for _, c := range table {
		if g, _, ok := strings.Cut(c.name, " "); ok {
			groups[g] = true
		}
	}
	name := args[0]
	args = args[1:]
	if name == "bench" && benchIntakeCommand == nil {
		if len(args) > 0 && isHelp(args[len(args)-1]) || len(args) == 1 && isHelp(args[0]) {
			fmt.Fprint(stdout, noBench)
			return exitOK
		}
		fmt.Fprint(stderr, noBench)
		return exitConfig
	}
	// A group (rules, quarantine …) takes a subcommand; one that is also a
	// command of its own (backup) runs that when no subcommand follows.
	if groups[name] {
		plain := find(name) != nil
		switch {
		case len(args) == 0:
			fmt.Fprintf(stderr, "mesa %s: missing subcommand\n\n%s", name, usage(name))
			return exitConfig
		case find(name+" "+args[0]) != nil:
			name, args = name+" "+args[0], args[1:]
		case isHelp(args[0]) && plain:
			args = []string{"--help"}
		case isHelp(args[0]):
			fmt.Fprint(stdout, usage(name))
			return exitOK
		case !plain:
			fmt.Fprintf(stderr, "mesa %s: unknown subcommand %q\n\n%s", name, args[0], usage(name))
			return exitConfig
		}
	}
	spec := find(name)
	if spec == nil {
		fmt.Fprintf(stderr, "mesa: unknown command %q\n\n%s", name, usage(""))
		return exitConfig
	}
	c := spec.make()
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var path *string
	if !spec.noConfig {
		path = fs.String("config", getenv(environ, "MESA_CONFIG"), "configuration file (YAML)")
	}
	if c.flags != nil {
		c.flags(fs)
	}
	// The usage goes to stdout when asked for (--help, exit 0), to stderr
	// after a usage error (exit 2).
	var help strings.Builder
	fs.Usage = func() {
		fmt.Fprintf(&help, "usage: mesa %s\n\n", strings.TrimSpace(name+" "+spec.synopsis))
		for _, l := range strings.Split(spec.summary, "\n") {
			fmt.Fprintf(&help, "  %s\n", l)
		}
		var flags strings.Builder
		fs.SetOutput(&flags)
		fs.PrintDefaults()
		fs.SetOutput(stderr)
		if flags.Len() > 0 {
			fmt.Fprintf(&help, "\nflags:\n%s", flags.String())
		}
		if groups[name] {
			help.WriteString("\nsubcommands:\n")
			for _, c := range table {
				if g, _, ok := strings.Cut(c.name, " "); ok && g == name {
					fmt.Fprintf(&help, "  mesa %s\n", strings.TrimSpace(c.name+" "+c.synopsis))
				}
			}
		}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, help.String())
			return exitOK
		}
		fmt.Fprint(stderr, help.String())
		return exitConfig
	}
	if fs.NArg() > 0 && !c.args {
		fmt.Fprintf(stderr, "mesa %s: unexpected argument %q\n", name, fs.Arg(0))
		return exitConfig
	}
	if spec.noConfig {
		return c.run(ctx, &env{args: fs.Args(), stdout: stdout, stderr: stderr, now: time.Now, environ: environ})
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
	// SIGHUP reads the TLS certificate again (systemctl reload).
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	app, err := Open(ctx, cfg, Options{Logger: log, Reload: hup})
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
