package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/config"
	"github.com/mesadeservicios/mesa/desk"
	"github.com/mesadeservicios/mesa/mailin"
	"github.com/mesadeservicios/mesa/mailout"
	"github.com/mesadeservicios/mesa/rules"
	"github.com/mesadeservicios/mesa/sla"
	"github.com/mesadeservicios/mesa/store"
)

func TestSLADue(t *testing.T) {
	tests := []struct {
		args []string
		want string
		code int
	}{
		{[]string{"--from", "2026-03-20T16:00:00-05:00", "--hours", "2.5"}, "2026-03-24T09:30:00-05:00\n", 0},
		{[]string{"--from", "2026-03-20T21:00:00Z", "--hours", "2.5"}, "2026-03-24T09:30:00-05:00\n", 0},
		{[]string{"--from", "2026-03-20T16:00:00-05:00", "--category", "ti.vpn"}, "2026-03-24T15:00:00-05:00\n", 0},
		{[]string{"--from", "2026-03-20T16:00:00-05:00", "--category", "ti.respaldo"}, "2026-03-26T16:00:00-05:00\n", 0},
		{[]string{"--from", "2026-03-20T16:00:00-05:00", "--category", "adm.inmuebles.electrico", "--criticidad", "alta"}, "2026-03-24T09:30:00-05:00\n", 0},
		{[]string{"--from", "2026-03-20T16:00:00-05:00", "--category", "ti.servidores"}, "", 1},
		{[]string{"--from", "2026-03-20T16:00:00-05:00", "--category", "ti.nope"}, "", 2},
		{[]string{"--from", "ayer", "--hours", "1"}, "", 2},
		{[]string{"--from", "2026-03-20T16:00:00-05:00"}, "", 2},
	}
	for _, tc := range tests {
		code, out, errs := runCLI(t, []string{"TZ=Asia/Tokyo"}, append([]string{"sla", "due"}, tc.args...)...)
		if code != tc.code || out != tc.want {
			t.Errorf("%q: exit %d %q (%s), want %d %q", tc.args, code, out, errs, tc.code, tc.want)
		}
	}
}

func TestSLAHolidays(t *testing.T) {
	code, out, _ := runCLI(t, nil, "sla", "holidays", "2026")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 19 || lines[0] != "2026-01-01" || lines[10] != "2026-07-13" || lines[18] != "2026-12-25" {
		t.Errorf("exit %d, %d lines:\n%s", code, len(lines), out)
	}
	code, out, _ = runCLI(t, []string{"MESA_SLA_EXTRA_HOLIDAYS=2026-12-24,2027-01-02"}, "sla", "holidays", "--names", "2026")
	if code != 0 || !strings.Contains(out, "2026-12-24\tsla.extra_holidays") || strings.Contains(out, "2027") ||
		!strings.Contains(out, "2026-03-23\tDía de San José") {
		t.Errorf("with extras: exit %d\n%s", code, out)
	}
	for _, bad := range [][]string{{"sla", "holidays"}, {"sla", "holidays", "dosmil"}, {"sla", "holidays", "1950"}, {"sla"}} {
		if code, _, _ := runCLI(t, nil, bad...); code != 2 {
			t.Errorf("%q: exit %d, want 2", bad, code)
		}
	}
}

func TestRulesTestJSON(t *testing.T) {
	dir := "../../rules/testdata/corpus"
	code, out, errs := runCLI(t, nil, "rules", "test", "--json", filepath.Join(dir, "001-ti-soporte.eml"), filepath.Join(dir, "084-ti-firewall.eml"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines, want one object per file:\n%s", len(lines), out)
	}
	var first map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"file", "category", "type", "criticidad", "score", "matched"} {
		if _, ok := first[k]; !ok {
			t.Errorf("missing field %q in %s", k, lines[0])
		}
	}
	if first["category"] != "ti.soporte" || first["type"] != "incidente" {
		t.Errorf("got %s", lines[0])
	}
	if !strings.Contains(errs, "accuracy train") {
		t.Errorf("labels beside the corpus should give an accuracy line on stderr, got %q", errs)
	}
	if code, _, _ := runCLI(t, nil, "rules", "test", "nonexistent.eml"); code != 2 {
		t.Errorf("missing file: exit %d, want 2", code)
	}
}

func TestRulesSuggest(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.db")
	db, err := store.Open(ctx, "sqlite", path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	eng, _ := rules.Default()
	r, err := mailout.New(mailout.Options{DeskName: "Mesa de Servicios", From: "mesa@entidad.gov.co", PublicURL: "https://mesa.x"})
	if err != nil {
		t.Fatal(err)
	}
	cal, _ := sla.New(sla.Options{})
	d, err := desk.New(desk.Deps{Files: mailin.Decoder{}, Store: db, Mail: r, Classifier: eng, Calendar: cal, Logger: slog.New(slog.DiscardHandler),
		Now: func() time.Time { return time.Date(2026, 3, 24, 14, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{"El tablet del kiosko digital quedó congelado", "El kiosko digital de la entrada no responde", "Kiosko digital apagado"} {
		tk, err := d.Create(ctx, desk.NewTicket{Subject: "ayuda", Requester: "a@x.co", Body: body})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.Recategorize(ctx, tk.Number, "tec@x.co", "ti.soporte"); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	code, out, errs := runCLI(t, []string{"MESA_DATABASE_URL=sqlite:" + path}, "rules", "suggest", "--top", "3")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "ti.soporte (3 tickets") || !strings.Contains(out, "kiosko") || !strings.Contains(out, "digital") {
		t.Errorf("got:\n%s", out)
	}
}

func TestCheckReportsBrokenRulesFile(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "reglas.yaml")
	if err := os.WriteFile(bad, []byte("threshold: 2\ncategories:\n  - key: ti.vpn\n    name: VPN\n    area: tic\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errs := runCLI(t, []string{"MESA_RULES_FILE=" + bad}, "check")
	if code != 2 || !strings.Contains(errs, "reglas.yaml:3") || !strings.Contains(errs, "area") {
		t.Errorf("exit %d, want 2 naming the file and line:\n%s", code, errs)
	}
}

func TestDKIMKeyLoading(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	path := filepath.Join(t.TempDir(), "dkim.pem")
	os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
	cfg := config.Default()
	cfg.SMTP.DKIMKeyFile, cfg.SMTP.DKIMSelector = path, "mesa2026"
	o, err := dkimOptions(cfg, "mesa@entidad.gov.co")
	if err != nil || o.Domain != "entidad.gov.co" || o.Selector != "mesa2026" || o.Signer == nil {
		t.Fatalf("got %+v, %v", o, err)
	}
	os.WriteFile(path, []byte("no es una llave"), 0o600)
	if _, err := dkimOptions(cfg, "mesa@entidad.gov.co"); err == nil || !strings.Contains(err.Error(), "PEM") {
		t.Errorf("bad key file: %v", err)
	}
	cfg.SMTP.DKIMKeyFile = ""
	if o, err := dkimOptions(cfg, "mesa@entidad.gov.co"); o != nil || err != nil {
		t.Errorf("no key: %v %v", o, err)
	}
}
