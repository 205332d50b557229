package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mesadeservicios/mesa/config"
	"github.com/mesadeservicios/mesa/internal/testpg"
	"github.com/mesadeservicios/mesa/store"
)

func TestMain(m *testing.M) {
	if os.Getenv("GO_TEST_RUN_AS_MESA") == "1" {
		// The chaos test runs the daemon as a separate process: this
		// binary, re-executed as mesa.
		main()
	}
	code := m.Run()
	testpg.Stop()
	os.Exit(code)
}

func runCLI(t *testing.T, env []string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb, env)
	return code, out.String(), errb.String()
}

func TestCheckDefaults(t *testing.T) {
	code, out, errs := runCLI(t, nil, "check")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errs)
	}
	for _, want := range []string{"url: sqlite:mesa.db", "listen: 127.0.0.1:8080", "timezone: America/Bogota", "language: es"} {
		if !strings.Contains(out, want) {
			t.Errorf("defaults do not show %q:\n%s", want, out)
		}
	}
}

func TestCheckBadFile(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("http:\n  lisen: :8080\nimap:\n  host: imap.x.co\n  username: u\n  tls: ssl\ndesk:\n  idioma: es\n"), 0o600)
	code, out, errs := runCLI(t, nil, "check", "--config", bad)
	if code != 2 {
		t.Fatalf("exit %d, want 2; stdout:\n%s", code, out)
	}
	lines := strings.Split(strings.TrimSpace(errs), "\n")
	if len(lines) != 4 { // the header and three errors
		t.Fatalf("got %d lines, want a header and 3 errors:\n%s", len(lines), errs)
	}
	for _, key := range []string{"http.lisen (line 2)", "imap.tls (line 6)", "desk.idioma (line 8)"} {
		if !strings.Contains(errs, key) {
			t.Errorf("errors do not name %q:\n%s", key, errs)
		}
	}
}

func TestCheckRedactsSecrets(t *testing.T) {
	code, out, _ := runCLI(t, []string{"MESA_SMTP_PASSWORD=hunter2", "MESA_DATABASE_URL=postgres://m:pw1@h/db"}, "check")
	if code != 0 || strings.Contains(out, "hunter2") || strings.Contains(out, "pw1") {
		t.Errorf("exit %d, secrets printed:\n%s", code, out)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{}, {"frobnicate"}, {"check", "--nope"}, {"check", "extra"}} {
		if code, _, _ := runCLI(t, nil, args...); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
	if code, out, _ := runCLI(t, nil, "version"); code != 0 || !strings.HasPrefix(out, "mesa ") {
		t.Errorf("version: exit %d, %q", code, out)
	}
}

func TestMigrateTwice(t *testing.T) {
	for name, url := range map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "m.db") },
		"postgres": func(t *testing.T) string { return testpg.NewDatabase(t) },
	} {
		t.Run(name, func(t *testing.T) {
			env := []string{"MESA_DATABASE_URL=" + url(t)}
			v := store.LatestVersion()
			code, out, errs := runCLI(t, env, "migrate")
			if code != 0 || out != fmt.Sprintf("applied %d migration(s); %s schema at version %d\n", v, name, v) {
				t.Fatalf("first: exit %d, %q %q", code, out, errs)
			}
			code, out, errs = runCLI(t, env, "migrate")
			if code != 0 || out != fmt.Sprintf("applied 0 migration(s); %s schema at version %d\n", name, v) {
				t.Fatalf("second: exit %d, %q %q", code, out, errs)
			}
		})
	}
}

func TestServeRefusesOutdatedSchema(t *testing.T) {
	env := []string{"MESA_DATABASE_URL=sqlite:" + filepath.Join(t.TempDir(), "m.db"),
		"MESA_DATABASE_AUTO_MIGRATE=false", "MESA_HTTP_LISTEN=127.0.0.1:0"}
	code, _, errs := runCLI(t, env, "serve")
	if code != 1 || !strings.Contains(errs, "mesa migrate") {
		t.Fatalf("exit %d, want 1 with a hint to run mesa migrate:\n%s", code, errs)
	}
}

func TestServeInProcess(t *testing.T) {
	cfg, err := config.Load("", []string{
		"MESA_DATABASE_URL=" + testpg.NewDatabase(t), "MESA_HTTP_LISTEN=127.0.0.1:0", "MESA_HTTP_ADMIN_LISTEN=127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Groups = []config.Group{{Key: "soporte", Name: "Soporte"}}
	cfg.People = []config.Person{{Email: "Ana@X.co", Name: "Ana", Role: "technician", Level: 1, Groups: []string{"soporte"}}}
	app, ctx, stop := startApp(t, cfg)
	resp, err := http.Get("http://" + app.AdminAddr() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Status string
		Checks map[string]string
	}
	json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != 200 || body.Status != "ok" || body.Checks["database"] != "up" {
		t.Errorf("healthz: %d %+v", resp.StatusCode, body)
	}
	p, err := app.db.PersonByEmail(ctx, "ana@x.co")
	if err != nil || p.Level != 1 || fmt.Sprint(p.Groups) != "[soporte]" {
		t.Errorf("people from config: got %+v, %v", p, err)
	}
	stop()
}
