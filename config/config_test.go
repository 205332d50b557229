package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "mesa.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func problems(t *testing.T, err error) Problems {
	t.Helper()
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("got %v (%T), want Problems", err, err)
	}
	return ps
}

func TestDefaultsAreValid(t *testing.T) {
	cfg, err := Load("", nil)
	if err != nil {
		t.Fatalf("defaults: %v", err)
	}
	if cfg.Database.URL != "sqlite:mesa.db" || cfg.HTTP.Listen != "127.0.0.1:8080" ||
		cfg.Desk.Timezone != "America/Bogota" || cfg.Desk.Language != "es" {
		t.Errorf("got %+v %+v %+v", cfg.Database, cfg.HTTP, cfg.Desk)
	}
}

func TestExampleFileIsValid(t *testing.T) {
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load("../mesa.example.yaml", []string{"MESA_IMAP_PASSWORD_FILE=" + pw, "MESA_SMTP_PASSWORD_FILE=" + pw})
	if err != nil {
		t.Fatalf("mesa.example.yaml: %v", err)
	}
	if cfg.IMAP.Host == "" || len(cfg.People) == 0 || len(cfg.Groups) == 0 {
		t.Errorf("example should show IMAP, people and groups; got %+v", cfg)
	}
}

func TestThreeErrorsAtOnce(t *testing.T) {
	p := writeFile(t, `database:
  url: sqlite:x.db
imap:
  host: imap.example.gov.co
  username: mesa
  tls: ssl
  prot: 993
smtp:
  hots: smtp.example.gov.co
`)
	_, err := Load(p, nil)
	ps := problems(t, err)
	if len(ps) != 3 {
		t.Fatalf("got %d problems, want 3:\n%v", len(ps), err)
	}
	want := map[string]int{"imap.tls": 6, "imap.prot": 7, "smtp.hots": 9}
	for _, p := range ps {
		if line, ok := want[p.Key]; !ok || line != p.Line {
			t.Errorf("unexpected problem %v; want keys and lines %v", p, want)
		}
	}
}

func TestInvalidValuesNameTheirKeysAndLines(t *testing.T) {
	p := writeFile(t, `imap:
  host: imap.example.gov.co
  username: mesa
  tls: ssl
desk:
  language: fr
  ticket_prefix: ms
sla:
  start: "17:00"
  end: "08:00"
`)
	_, err := Load(p, nil)
	ps := problems(t, err)
	got := map[string]int{}
	for _, p := range ps {
		got[p.Key] = p.Line
	}
	for key, line := range map[string]int{"imap.tls": 4, "desk.language": 6, "desk.ticket_prefix": 7, "sla.end": 10} {
		if got[key] != line {
			t.Errorf("%s: got line %d, want %d (all: %v)", key, got[key], line, err)
		}
	}
	if len(ps) != 4 {
		t.Errorf("got %d problems, want 4:\n%v", len(ps), err)
	}
}

func TestTypeErrorHasLine(t *testing.T) {
	p := writeFile(t, "imap:\n  port: novecientos\n")
	_, err := Load(p, nil)
	ps := problems(t, err)
	if len(ps) != 1 || ps[0].Line != 2 || ps[0].Key != "imap.port" || !strings.Contains(ps[0].Msg, "into int") {
		t.Fatalf("got %v", err)
	}
}

func TestEnvOverrides(t *testing.T) {
	p := writeFile(t, "imap:\n  host: file.example\n  username: mesa\n")
	secret := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(secret, []byte("s3creto\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(p, []string{
		"PATH=/bin",
		"MESA_DATABASE_URL=postgres://mesa:pw@127.0.0.1:5432/mesa?sslmode=disable",
		"MESA_IMAP_HOST=env.example",
		"MESA_IMAP_PORT=1143",
		"MESA_IMAP_PASSWORD_FILE=" + secret,
		"MESA_IMAP_POLL_INTERVAL=45s",
		"MESA_DESK_ADDRESSES=mesa@entidad.gov.co, soporte@entidad.gov.co",
		"MESA_SLA_WARN_AT=0.5",
		"MESA_DATABASE_AUTO_MIGRATE=false",
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.IMAP.Host != "env.example" || cfg.IMAP.Port != 1143 || cfg.IMAP.Password != "s3creto" ||
		cfg.IMAP.PollInterval != 45*time.Second || cfg.SLA.WarnAt != 0.5 || cfg.Database.AutoMigrate {
		t.Errorf("got imap %+v sla %+v db %+v", cfg.IMAP, cfg.SLA, cfg.Database)
	}
	if len(cfg.Desk.Addresses) != 2 || cfg.Desk.Addresses[1] != "soporte@entidad.gov.co" {
		t.Errorf("addresses: got %q", cfg.Desk.Addresses)
	}
}

func TestEnvErrors(t *testing.T) {
	_, err := Load("", []string{"MESA_IMAP_PORT=abc", "MESA_IMAP_HOTS=x", "MESA_SLA_WARN_AT=mucho"})
	ps := problems(t, err)
	got := map[string]bool{}
	for _, p := range ps {
		got[p.Key] = true
	}
	for _, k := range []string{"MESA_IMAP_PORT", "MESA_IMAP_HOTS", "MESA_SLA_WARN_AT"} {
		if !got[k] {
			t.Errorf("no problem for %s in:\n%v", k, err)
		}
	}
}

func TestSecretFileAndSecretTogether(t *testing.T) {
	_, err := Load("", []string{"MESA_SMTP_PASSWORD=a", "MESA_SMTP_PASSWORD_FILE=/nonexistent"})
	if err == nil || !strings.Contains(err.Error(), "smtp.password_file") {
		t.Fatalf("got %v, want a problem naming smtp.password_file", err)
	}
}

func TestRedacted(t *testing.T) {
	cfg := Default()
	cfg.IMAP.Password = "imap-secret"
	cfg.SMTP.Password = "smtp-secret"
	cfg.Database.URL = "postgres://mesa:db-secret@db:5432/mesa"
	out, err := cfg.YAML()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"imap-secret", "smtp-secret", "db-secret"} {
		if strings.Contains(string(out), s) {
			t.Errorf("printed configuration contains %q:\n%s", s, out)
		}
	}
	if !strings.Contains(string(out), Redacted) || !strings.Contains(string(out), "mesa:(redacted)@db:5432") {
		t.Errorf("no redaction marks in:\n%s", out)
	}
	if cfg.IMAP.Password != "imap-secret" {
		t.Error("Redacted changed the original")
	}
}

func TestPeopleAndGroups(t *testing.T) {
	p := writeFile(t, `groups:
  - key: soporte
    name: Soporte TI
people:
  - email: ana@entidad.gov.co
    role: technician
    level: 3
    groups: [soporte, redes]
  - email: ANA@entidad.gov.co
    role: jefe
`)
	_, err := Load(p, nil)
	ps := problems(t, err)
	got := map[string]int{}
	for _, p := range ps {
		got[p.Key] = p.Line
	}
	for key, line := range map[string]int{"people[0].level": 7, "people[0].groups[1]": 0, "people[1].email": 9, "people[1].role": 10} {
		l, ok := got[key]
		if !ok || (line != 0 && l != line) {
			t.Errorf("%s: got line %d (present %v), want %d; all:\n%v", key, l, ok, line, err)
		}
	}
}

func TestJobsSchedules(t *testing.T) {
	_, err := Load("", []string{"MESA_JOBS_DIGEST=cada lunes", "MESA_JOBS_SURVEYS=CRON_TZ=America/Bogota 0 0 9 * * MON-FRI"})
	ps := problems(t, err)
	if len(ps) != 1 || ps[0].Key != "jobs.digest" {
		t.Fatalf("got %v, want one problem on jobs.digest", err)
	}
}

func TestParseDatabaseURL(t *testing.T) {
	tests := []struct{ in, driver, dsn string }{
		{"sqlite:mesa.db", "sqlite", "mesa.db"},
		{"sqlite:///var/lib/mesa/mesa.db", "sqlite", "/var/lib/mesa/mesa.db"},
		{"postgres://u@h/db", "postgres", "postgres://u@h/db"},
		{"postgresql://u@h/db", "postgres", "postgresql://u@h/db"},
	}
	for _, tc := range tests {
		d, dsn, err := ParseDatabaseURL(tc.in)
		if err != nil || d != tc.driver || dsn != tc.dsn {
			t.Errorf("%q: got %q %q %v, want %q %q", tc.in, d, dsn, err, tc.driver, tc.dsn)
		}
	}
	for _, bad := range []string{"", "mysql://x", "sqlite:", "mesa.db"} {
		if _, _, err := ParseDatabaseURL(bad); err == nil {
			t.Errorf("%q: got nil error", bad)
		}
	}
}

// TestMailboxes: a list of mailboxes, each with the imap settings inline,
// defaults filled, secrets from files and redacted, and every problem
// reported with its key.
func TestMailboxes(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "pw")
	os.WriteFile(secret, []byte("s3cret\n"), 0o600)
	file := filepath.Join(dir, "mesa.yaml")
	os.WriteFile(file, []byte(`desk:
  addresses: [mesa@entidad.gov.co, operaciones@entidad.gov.co]
groups:
  - key: operaciones
mailboxes:
  - name: ti
    address: mesa@entidad.gov.co
    host: imap.entidad.gov.co
    username: mesa
    password_file: `+secret+`
  - name: operaciones
    address: operaciones@entidad.gov.co
    host: imap.entidad.gov.co
    username: operaciones
    password: otra
    default_group: operaciones
    oauth2_secret_expires: 2027-06-30
`), 0o600)
	cfg, err := Load(file, nil)
	if err != nil {
		t.Fatal(err)
	}
	list := cfg.MailboxList()
	if len(list) != 2 || list[0].Name != "ti" || list[0].Password != "s3cret" || list[0].TLS != "implicit" || list[0].Mailbox != "INBOX" ||
		list[0].ProcessedMailbox != "Procesados" || list[0].PollInterval != 30*time.Second || list[0].Legacy {
		t.Errorf("first mailbox: %+v", list[0])
	}
	if list[1].DefaultGroup != "operaciones" || list[1].OAuth2SecretExpires != "2027-06-30" {
		t.Errorf("second mailbox: %+v", list[1])
	}
	out, _ := cfg.YAML()
	if strings.Contains(string(out), "s3cret") || strings.Contains(string(out), "otra") {
		t.Errorf("a mailbox's password printed:\n%s", out)
	}
	// The imap section alone is one mailbox, under its old lease and cursor.
	legacy, err := Load("", []string{"MESA_IMAP_HOST=imap.entidad.gov.co", "MESA_IMAP_USERNAME=mesa"})
	if err != nil {
		t.Fatal(err)
	}
	if l := legacy.MailboxList(); len(l) != 1 || !l[0].Legacy || l[0].Name != LegacyMailboxName || l[0].Address != "mesadeservicios@localhost" {
		t.Errorf("imap section as a mailbox: %+v", l)
	}

	os.WriteFile(file, []byte(`imap:
  host: imap.entidad.gov.co
  username: mesa
mailboxes:
  - name: ti
    address: no es correo
    username: mesa
    provider: graph
    default_group: nadie
    oauth2_secret_expires: 30/06/2027
    bogus: 1
  - name: ti
    address: mesa@entidad.gov.co
    host: h
    username: u
  - name: Mal Nombre
    address: mesa@entidad.gov.co
    host: h
    username: u
`), 0o600)
	_, err = Load(file, nil)
	for _, want := range []string{"mailboxes (line 4): set together with imap.host", "mailboxes[2].name (line 16): must be lower-case",
		"mailboxes[0].address (line 6): must be the desk address", "mailboxes[0].tenant_id: provider graph needs the Microsoft 365 tenant",
		"mailboxes[0].user: provider graph needs the mailbox's address", "mailboxes[0].oauth2_secret_expires (line 10): must be a date",
		"mailboxes[0].bogus (line 11): unknown key", "mailboxes[1].name (line 12): duplicate mailbox"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v, want a problem %q", err, want)
		}
	}
}
