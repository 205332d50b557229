package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mesadeservicios/mesa/store"
)

// migrateCommand is `mesa migrate`, with --dry-run listing what would be
// applied.
func migrateCommand() command {
	var dry *bool
	return command{
		flags: func(fs *flag.FlagSet) { dry = fs.Bool("dry-run", false, "list pending migrations and change nothing") },
		run: func(ctx context.Context, e *env) int {
			if !*dry {
				return migrate(ctx, e)
			}
			db, err := openStore(ctx, e.cfg)
			if err != nil {
				fmt.Fprintln(e.stderr, "mesa migrate:", err)
				return exitFail
			}
			defer db.Close()
			v, err := db.AppliedVersion(ctx)
			if err != nil {
				fmt.Fprintln(e.stderr, "mesa migrate:", err)
				return exitFail
			}
			pending, err := db.PendingMigrations(ctx)
			if err != nil {
				fmt.Fprintln(e.stderr, "mesa migrate:", err)
				return exitFail
			}
			fmt.Fprintf(e.stdout, "%s schema at version %d; this mesa needs %d\n", db.Driver(), v, store.LatestVersion())
			if v > store.LatestVersion() {
				fmt.Fprintln(e.stdout, "the database is newer than this mesa: upgrade mesa, do not run it against this database")
				return exitFail
			}
			for _, p := range pending {
				fmt.Fprintln(e.stdout, "would apply", p)
			}
			fmt.Fprintf(e.stdout, "%d migration(s) pending; nothing changed (dry run)\n", len(pending))
			return exitOK
		},
	}
}

// healthcheck probes a running mesa over HTTP: the container image's
// HEALTHCHECK and monitoring scripts, with no shell or curl needed.
func healthcheck() command {
	var rawURL *string
	var ready *bool
	var timeout *time.Duration
	return command{
		flags: func(fs *flag.FlagSet) {
			rawURL = fs.String("url", "", "URL to probe (default: /healthz on http.admin_listen, 127.0.0.1 for a wildcard host)")
			ready = fs.Bool("ready", false, "probe /readyz (the desk does its work) instead of /healthz (the process answers)")
			timeout = fs.Duration("timeout", 5*time.Second, "give up after this long")
		},
		run: func(ctx context.Context, e *env) int {
			u := *rawURL
			if u == "" {
				path := "/healthz"
				if *ready {
					path = "/readyz"
				}
				if e.cfg.HTTP.AdminListen == "" {
					fmt.Fprintln(e.stderr, "mesa healthcheck: http.admin_listen is empty, so mesa serves no health endpoint; set it, or give --url")
					return exitConfig
				}
				u = "http://" + probeAddr(e.cfg.HTTP.AdminListen) + path
			}
			ctx, cancel := context.WithTimeout(ctx, *timeout)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
			if err != nil {
				fmt.Fprintln(e.stderr, "mesa healthcheck:", err)
				return exitConfig
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				fmt.Fprintln(e.stderr, "mesa healthcheck: unhealthy:", err)
				return exitFail
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			if resp.StatusCode != http.StatusOK {
				fmt.Fprintf(e.stderr, "mesa healthcheck: unhealthy: %s answered %d %s\n", u, resp.StatusCode, strings.TrimSpace(string(body)))
				return exitFail
			}
			fmt.Fprintf(e.stdout, "healthy: %s %s\n", u, strings.TrimSpace(string(body)))
			return exitOK
		},
	}
}

// probeAddr turns a listen address into one to connect to: a wildcard
// host (":8080", "0.0.0.0:8080", "[::]:8080") becomes loopback.
func probeAddr(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// actorFlag adds --actor, defaulting to who runs the command: $SUDO_USER
// (the person behind sudo) or $USER, at the host's name.
func actorFlag(fs *flag.FlagSet, p **string) {
	*p = fs.String("actor", "", "who is acting, recorded in the trail (default $SUDO_USER or $USER, @hostname)")
}

func actorOf(flagValue string, environ []string) string {
	if flagValue = strings.TrimSpace(flagValue); flagValue != "" {
		return flagValue
	}
	who := getenv(environ, "SUDO_USER")
	if who == "" {
		who = getenv(environ, "USER")
	}
	if who == "" {
		who = getenv(environ, "LOGNAME")
	}
	if who == "" {
		who = fmt.Sprintf("uid%d", os.Getuid())
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	return who + "@" + host
}

// openOps opens the store for an operator command; it refuses a schema
// this mesa does not match, as serve does.
func openOps(ctx context.Context, e *env, name string) (*store.DB, bool) {
	db, err := openStore(ctx, e.cfg)
	if err != nil {
		fmt.Fprintf(e.stderr, "mesa %s: %v\n", name, err)
		return nil, false
	}
	if err := db.CheckSchema(ctx); err != nil {
		db.Close()
		fmt.Fprintf(e.stderr, "mesa %s: %v\n", name, err)
		return nil, false
	}
	return db, true
}

// table prints rows under a header, aligned.
func table(w io.Writer, header []string, rows [][]string) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		for i := range r {
			r[i] = oneLine(r[i], 60)
		}
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	tw.Flush()
}

// oneLine keeps a cell on one line and at most n runes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func writeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// localTime shows an instant in the desk's time zone.
func localTime(e *env, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	loc, err := time.LoadLocation(e.cfg.Desk.Timezone)
	if err != nil {
		loc = time.UTC
	}
	return t.In(loc).Format("2006-01-02 15:04")
}
