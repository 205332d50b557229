package main

import (
	"os"
	"strings"
	"testing"
)

// TestEveryCommandHasHelp walks the dispatch table: every command and
// subcommand, and every group, answers --help and -h with its usage on
// stdout, nothing on stderr, exit 0. A command added to the table without
// help fails here.
func TestEveryCommandHasHelp(t *testing.T) {
	table := commands()
	if len(table) < 10 {
		t.Fatalf("the dispatch table has %d commands, want at least serve, demo, migrate, check, ingest, rules …, sla …, version", len(table))
	}
	groups := map[string]bool{}
	for _, c := range table {
		if g, _, ok := strings.Cut(c.name, " "); ok {
			groups[g] = true
		}
		if len(c.summary) < 10 || c.make == nil {
			t.Errorf("mesa %s: no summary or no command in the table", c.name)
			continue
		}
		for _, flag := range []string{"--help", "-h"} {
			args := append(strings.Fields(c.name), flag)
			code, out, errs := runCLI(t, nil, args...)
			if code != exitOK || errs != "" || !strings.HasPrefix(out, "usage: mesa "+c.name) || !strings.Contains(out, c.summary[:10]) {
				t.Errorf("mesa %s: got exit %d, stdout %q, stderr %q; want 0 and its usage on stdout", strings.Join(args, " "), code, out, errs)
			}
			if !c.noConfig && !strings.Contains(out, "-config") {
				t.Errorf("mesa %s: the usage does not list --config:\n%s", strings.Join(args, " "), out)
			}
		}
		// Help wins over a missing argument or another flag.
		code, out, _ := runCLI(t, nil, append(strings.Fields(c.name), "--json", "--help")...)
		if code == exitOK && !strings.HasPrefix(out, "usage: mesa "+c.name) {
			t.Errorf("mesa %s --json --help: exit 0 without usage: %q", c.name, out)
		}
	}
	for g := range groups {
		for _, flag := range []string{"--help", "-h", "help"} {
			code, out, errs := runCLI(t, nil, g, flag)
			if code != exitOK || errs != "" || !strings.Contains(out, "mesa "+g+" ") {
				t.Errorf("mesa %s %s: got exit %d, stdout %q, stderr %q", g, flag, code, out, errs)
			}
		}
		if code, _, errs := runCLI(t, nil, g); code != exitConfig || !strings.Contains(errs, "missing subcommand") {
			t.Errorf("mesa %s: got exit %d, stderr %q; want 2 and missing subcommand", g, code, errs)
		}
	}
	for _, flag := range []string{"help", "--help", "-h"} {
		code, out, errs := runCLI(t, nil, flag)
		if code != exitOK || errs != "" {
			t.Errorf("mesa %s: exit %d, stderr %q", flag, code, errs)
		}
		for _, c := range table {
			if !strings.Contains(out, "mesa "+c.name) {
				t.Errorf("mesa %s does not list %q", flag, c.name)
			}
		}
	}
}

// TestUsageErrorsGoToStderr: a wrong flag prints the error and the usage
// on stderr, exit 2, nothing on stdout.
func TestUsageErrorsGoToStderr(t *testing.T) {
	code, out, errs := runCLI(t, nil, "sla", "holidays", "--nope")
	if code != exitConfig || out != "" || !strings.Contains(errs, "-nope") || !strings.Contains(errs, "usage: mesa sla holidays") {
		t.Errorf("got exit %d, stdout %q, stderr %q", code, out, errs)
	}
}

// TestCheckNeverPrintsSecrets: whatever shape the database URL has, and
// whether the configuration is valid or not, mesa check prints no
// password, on stdout or stderr; nor a secret read from a _file key.
func TestCheckNeverPrintsSecrets(t *testing.T) {
	dir := t.TempDir()
	pwFile := dir + "/imap-password"
	if err := writeTestFile(pwFile, "Fil3Secret\n"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, url string
		code      int
	}{
		{"userinfo", "postgres://mesa:Sup3rQz9w@db.x.co/mesa?sslmode=require", exitOK},
		{"query string", "postgres://db.x.co/mesa?user=mesa&password=Sup3rQz9w", exitOK},
		{"sslpassword", "postgres://mesa@db.x.co/mesa?sslpassword=Sup3rQz9w&sslmode=verify-full", exitOK},
		{"both", "postgresql://mesa:Sup3rQz9w@db.x.co/mesa?password=Sup3rQz9w", exitOK},
		{"unescaped slash: does not parse", "postgres://mesa:Sup3r/Qz9w@db.x.co/mesa", exitConfig},
		{"bad port: does not parse", "postgres://mesa:Sup3rQz9w@db.x.co:port/mesa", exitConfig},
		{"keyword form", "host=db.x.co user=mesa password=Sup3rQz9w", exitConfig},
		{"other scheme", "mysql://mesa:Sup3rQz9w@db.x.co/mesa", exitConfig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runCLI(t, []string{"MESA_DATABASE_URL=" + tc.url, "MESA_IMAP_PASSWORD_FILE=" + pwFile,
				"MESA_SMTP_PASSWORD=Smtp5ecret", "MESA_IMAP_OAUTH2_CLIENT_SECRET=OAuthS3cret"}, "check")
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tc.code, errs)
			}
			for _, leak := range []string{"Sup3r", "Qz9w", "Fil3Secret", "Smtp5ecret", "OAuthS3cret"} {
				if strings.Contains(out, leak) || strings.Contains(errs, leak) {
					t.Errorf("%q printed:\nstdout:\n%s\nstderr:\n%s", leak, out, errs)
				}
			}
			if tc.code == exitOK && !strings.Contains(out, "db.x.co") {
				t.Errorf("the redacted URL lost its host:\n%s", out)
			}
		})
	}
}

func writeTestFile(path, body string) error { return os.WriteFile(path, []byte(body), 0o600) }
