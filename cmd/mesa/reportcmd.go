package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/mesadeservicios/mesa/report"
	"github.com/mesadeservicios/mesa/store"
)

// reportSource reads the report's rows from the store.
type reportSource struct{ db *store.DB }

var _ report.Source = reportSource{}

// ReportRows implements report.Source.
func (s reportSource) ReportRows(ctx context.Context, groups []string, from, to time.Time) ([]report.Row, error) {
	ts, err := s.db.ReportTickets(ctx, groups, from, to)
	if err != nil {
		return nil, err
	}
	rows := make([]report.Row, len(ts))
	for i, t := range ts {
		rows[i] = report.Row{Ticket: t.Ticket, Rating: t.Rating}
	}
	return rows, nil
}

// reportCommand is `mesa report`: the follow-up report of a period as CSV
// (the ticket lines) or XLSX (a summary sheet and the ticket lines).
func reportCommand() command {
	var from, to, group, format, out *string
	return command{
		flags: func(fs *flag.FlagSet) {
			from = fs.String("from", "", "first day of the period, YYYY-MM-DD (inclusive)")
			to = fs.String("to", "", "last day of the period, YYYY-MM-DD (inclusive)")
			group = fs.String("group", "", "only the tickets of this group")
			format = fs.String("format", "", "csv or xlsx; empty: from the extension of --out")
			out = fs.String("out", "", "file to write; - for standard output")
		},
		run: func(ctx context.Context, e *env) int {
			fail := func(code int, format string, args ...any) int {
				fmt.Fprintf(e.stderr, "mesa report: "+format+"\n", args...)
				return code
			}
			if *out == "" {
				return fail(exitConfig, "--out FILE is required (- for standard output)")
			}
			f := strings.ToLower(*format)
			if f == "" {
				f = strings.TrimPrefix(strings.ToLower(filepath.Ext(*out)), ".")
			}
			if f != "csv" && f != "xlsx" {
				return fail(exitConfig, "--format must be csv or xlsx, got %q", f)
			}
			loc, _ := time.LoadLocation(e.cfg.Desk.Timezone) // validated by config
			start, end, err := report.Period(*from, *to, loc)
			if err != nil {
				return fail(exitConfig, "--from and --to: %v", err)
			}
			eng, err := loadRules(e.cfg)
			if err != nil {
				return fail(exitConfig, "%v", err)
			}
			var groups []string
			if *group != "" {
				known := map[string]bool{}
				for _, g := range e.cfg.Groups {
					known[g.Key] = true
				}
				for _, r := range catalogueRoutes(eng) {
					known[r.Group] = true
				}
				if !known[*group] {
					var keys []string
					for k := range known {
						if k != "" {
							keys = append(keys, k)
						}
					}
					sort.Strings(keys)
					return fail(exitConfig, "unknown group %q; known: %s", *group, strings.Join(keys, ", "))
				}
				groups = []string{*group}
			}
			cal, err := loadCalendar(e.cfg)
			if err != nil {
				return fail(exitConfig, "%v", err)
			}
			db, err := openStore(ctx, e.cfg)
			if err != nil {
				return fail(exitFail, "%v", err)
			}
			defer db.Close()
			if err := db.CheckSchema(ctx); err != nil {
				return fail(exitFail, "%v", err)
			}
			rows, err := reportSource{db}.ReportRows(ctx, groups, start, end)
			if err != nil {
				return fail(exitFail, "%v", err)
			}
			r, err := report.Build(rows, report.Options{From: start, To: end, Now: e.now(), Location: loc,
				Calendar: cal, CategoryName: eng.DisplayName, Groups: groups})
			if err != nil {
				return fail(exitFail, "%v", err)
			}
			write := r.WriteCSV
			if f == "xlsx" {
				write = r.WriteXLSX
			}
			if err := writeOut(*out, e.stdout, write); err != nil {
				return fail(exitFail, "%v", err)
			}
			if *out != "-" {
				fmt.Fprintf(e.stdout, "%s: %d tickets from %s to %s: %d opened, %d closed\n", *out, len(r.Lines),
					*from, *to, r.Total.Opened, r.Total.Closed)
			}
			return exitOK
		},
	}
}

// writeOut writes to path through a temporary file renamed into place, so
// that a failed report leaves no half-written file; "-" is stdout. The file
// is readable by its owner only (0600): it names technicians.
func writeOut(path string, stdout io.Writer, write func(io.Writer) error) error {
	if path == "-" {
		return write(stdout)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // after the rename, nothing to remove
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
