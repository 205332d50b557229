package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"

	"github.com/mesadeservicios/mesa/config"
	"github.com/mesadeservicios/mesa/store"
)

// backupCommand is `mesa backup --out FILE`: a consistent copy of the
// whole store while mesa runs. SQLite: VACUUM INTO (a SQLite file, restored
// by putting it in place of the database). PostgreSQL: pg_dump in its
// custom format (restored with pg_restore); pg_dump must be installed and
// at least as new as the server. The file appears under its name only
// when complete.
func backupCommand() command {
	var out *string
	return command{flags: func(fs *flag.FlagSet) {
		out = fs.String("out", "", "file to write the backup to (must not exist)")
	}, run: func(ctx context.Context, e *env) int {
		if *out == "" {
			fmt.Fprintln(e.stderr, "mesa backup: --out FILE is required")
			return exitConfig
		}
		if _, err := os.Stat(*out); err == nil {
			fmt.Fprintf(e.stderr, "mesa backup: %s already exists; choose a new name\n", *out)
			return exitConfig
		}
		driver, _, err := config.ParseDatabaseURL(e.cfg.Database.URL)
		if err != nil {
			fmt.Fprintln(e.stderr, "mesa backup:", err)
			return exitConfig
		}
		partial := *out + ".partial"
		os.Remove(partial)
		if driver == "postgres" {
			err = pgDump(ctx, e.cfg.Database.URL, partial, e.stderr)
		} else {
			err = sqliteSnapshot(ctx, e.cfg, partial)
		}
		if err == nil {
			err = os.Rename(partial, *out)
		}
		if err != nil {
			os.Remove(partial)
			fmt.Fprintln(e.stderr, "mesa backup:", err)
			return exitFail
		}
		rep, err := verifyBackup(ctx, *out)
		if err != nil {
			fmt.Fprintf(e.stderr, "mesa backup: wrote %s but cannot read it back: %v\n", *out, err)
			return exitFail
		}
		fmt.Fprintf(e.stdout, "backup written to %s\n", *out)
		rep.print(e.stdout)
		return exitOK
	}}
}

func sqliteSnapshot(ctx context.Context, cfg *config.Config, path string) error {
	db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	return db.SnapshotSQLite(ctx, path)
}

// pgDump runs pg_dump -Fc on the database. The password travels in
// PGPASSWORD, not on the command line (which every local user can read),
// and lib/pq-only parameters are dropped from the URL, which libpq would
// refuse.
func pgDump(ctx context.Context, rawURL, out string, stderr io.Writer) error {
	bin, err := exec.LookPath("pg_dump")
	if err != nil {
		return errors.New("pg_dump is not installed: install the PostgreSQL client (Debian: apt-get install postgresql-client), " +
			"at least the server's major version, or back up with your usual PostgreSQL tooling")
	}
	conn, pw, err := libpqURL(rawURL)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, bin, "--format=custom", "--no-owner", "--no-privileges", "--file="+out, "--dbname="+conn)
	cmd.Env = append(os.Environ(), "PGPASSWORD="+pw, "PGCONNECT_TIMEOUT=10")
	var msg bytes.Buffer
	cmd.Stderr = io.MultiWriter(&msg, stderr)
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("pg_dump: %w: %s", err, strings.TrimSpace(msg.String()))
	}
	return nil
}

// libpqURL splits mesa's database URL into a URL libpq accepts, without
// the password, and the password.
func libpqURL(raw string) (string, string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", "", fmt.Errorf("database.url: %w", err)
	}
	pw, _ := u.User.Password()
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	q := u.Query()
	for _, k := range []string{"binary_parameters", "disable_prepared_binary_result"} {
		q.Del(k)
	}
	u.RawQuery = q.Encode()
	return u.String(), pw, nil
}

// backupVerify is `mesa backup verify FILE`: it reads a backup without
// changing it and prints its format, schema version and row counts.
func backupVerify() command {
	return command{args: true, run: func(ctx context.Context, e *env) int {
		if len(e.args) != 1 {
			fmt.Fprintln(e.stderr, "mesa backup verify: give one backup file")
			return exitConfig
		}
		rep, err := verifyBackup(ctx, e.args[0])
		if err != nil {
			fmt.Fprintln(e.stderr, "mesa backup verify:", err)
			return exitFail
		}
		rep.print(e.stdout)
		if rep.Version > store.LatestVersion() {
			fmt.Fprintf(e.stdout, "warning: made by a newer mesa (schema %d); restore it with that version or later\n", rep.Version)
		}
		return exitOK
	}}
}

// backupReport is what verify found in a backup.
type backupReport struct {
	Path, Format string
	Version      int
	Counts       map[string]int64
}

func (r backupReport) print(w io.Writer) {
	fmt.Fprintf(w, "%s: %s backup, schema version %d (this mesa: %d)\n", r.Path, r.Format, r.Version, store.LatestVersion())
	names := make([]string, 0, len(r.Counts))
	for n := range r.Counts {
		names = append(names, n)
	}
	sort.Strings(names)
	rows := make([][]string, 0, len(names))
	for _, n := range names {
		rows = append(rows, []string{n, strconv.FormatInt(r.Counts[n], 10)})
	}
	table(w, []string{"TABLE", "ROWS"}, rows)
}

// verifyBackup reads a SQLite snapshot or a pg_dump custom-format file.
// It fails when the file is neither, is damaged, or holds no mesa schema.
func verifyBackup(ctx context.Context, path string) (backupReport, error) {
	rep := backupReport{Path: path}
	f, err := os.Open(path)
	if err != nil {
		return rep, err
	}
	magic := make([]byte, 16)
	n, _ := io.ReadFull(f, magic)
	f.Close()
	switch {
	case bytes.HasPrefix(magic[:n], []byte("SQLite format 3\x00")):
		rep.Format = "sqlite"
		db, err := store.OpenSQLiteReadOnly(ctx, path)
		if err != nil {
			return rep, err
		}
		defer db.Close()
		if bad, err := db.QuickCheck(ctx); err != nil {
			return rep, err
		} else if len(bad) > 0 {
			return rep, fmt.Errorf("%s is damaged: %s", path, strings.Join(bad, "; "))
		}
		if rep.Version, err = db.AppliedVersion(ctx); err != nil {
			return rep, err
		}
		if rep.Counts, err = db.RowCounts(ctx); err != nil {
			return rep, err
		}
	case bytes.HasPrefix(magic[:n], []byte("PGDMP")):
		rep.Format = "pg_dump"
		if rep.Version, rep.Counts, err = readPGDump(ctx, path); err != nil {
			return rep, err
		}
	default:
		return rep, fmt.Errorf("%s is neither a SQLite snapshot nor a pg_dump custom-format file", path)
	}
	if rep.Version == 0 {
		return rep, fmt.Errorf("%s holds no mesa schema (no schema_migrations)", path)
	}
	return rep, nil
}

// readPGDump streams the data of a custom-format dump through pg_restore
// (no database needed) and counts the rows of each table's COPY block; the
// highest version in schema_migrations is the schema version.
func readPGDump(ctx context.Context, path string) (int, map[string]int64, error) {
	bin, err := exec.LookPath("pg_restore")
	if err != nil {
		return 0, nil, errors.New("pg_restore is not installed (Debian: apt-get install postgresql-client)")
	}
	cmd := exec.CommandContext(ctx, bin, "--data-only", "--file=-", path)
	var msg bytes.Buffer
	cmd.Stderr = &msg
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return 0, nil, err
	}
	if err := cmd.Start(); err != nil {
		return 0, nil, fmt.Errorf("pg_restore: %w", err)
	}
	counts := map[string]int64{}
	version, table := 0, ""
	r := bufio.NewReaderSize(stdout, 1<<20)
	for {
		line, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A long row (raw mail in hex): count it once, skip the rest.
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = r.ReadSlice('\n')
			}
			if table != "" {
				counts[table]++
			}
			if err != nil {
				break
			}
			continue
		}
		if err != nil {
			break
		}
		s := string(bytes.TrimRight(line, "\r\n"))
		switch {
		case table == "" && strings.HasPrefix(s, "COPY "):
			name, _, _ := strings.Cut(strings.TrimPrefix(s, "COPY "), " ")
			if i := strings.LastIndexByte(name, '.'); i >= 0 {
				name = name[i+1:]
			}
			table = strings.Trim(name, `"`)
			counts[table] += 0
		case table != "" && s == `\.`:
			table = ""
		case table != "":
			counts[table]++
			if table == "schema_migrations" {
				v, _, _ := strings.Cut(s, "\t")
				if n, err := strconv.Atoi(v); err == nil && n > version {
					version = n
				}
			}
		}
	}
	if err := cmd.Wait(); err != nil {
		return 0, nil, fmt.Errorf("pg_restore cannot read %s: %w: %s", path, err, strings.TrimSpace(msg.String()))
	}
	return version, counts, nil
}
