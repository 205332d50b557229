package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/desk"
	"github.com/mesadeservicios/mesa/mailin"
	"github.com/mesadeservicios/mesa/mailout"
	"github.com/mesadeservicios/mesa/rules"
	"github.com/mesadeservicios/mesa/sla"
	"github.com/mesadeservicios/mesa/store"
)

// TestRulesTrainReproducesEmbedded: `mesa rules train` on the shipped
// corpus, with the embedded model's date, writes the embedded model byte
// for byte.
func TestRulesTrainReproducesEmbedded(t *testing.T) {
	m, err := rules.DefaultModel()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "model.bin")
	code, stdout, errs := runCLI(t, nil, "rules", "train", "--date", m.Meta.Trained, "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, rules.DefaultModelBytes()) {
		t.Errorf("mesa rules train wrote %d bytes that differ from the embedded model (%d bytes)", len(got), len(rules.DefaultModelBytes()))
	}
	if !strings.Contains(stdout, "cross-validated: category") {
		t.Errorf("stdout does not describe the model:\n%s", stdout)
	}
}

// smallCorpus copies the first n mails of the shipped corpus into a
// directory laid out as one (labels.tsv, corpus/).
func smallCorpus(t *testing.T, n int) string {
	t.Helper()
	ls, err := rules.ReadLabels(os.DirFS("../../rules/testdata"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "corpus"), 0o755)
	var tsv strings.Builder
	tsv.WriteString("file\tcategory\ttype\tcriticidad\tpersona\n")
	for _, l := range ls[:n] {
		raw, err := os.ReadFile(filepath.Join("../../rules/testdata/corpus", l.File))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, "corpus", filepath.Base(l.File)), raw, 0o644)
		fmt.Fprintf(&tsv, "%s\t%s\t%s\t%s\t%s\n", filepath.Base(l.File), l.Category, l.Type, l.Criticality, l.Persona)
	}
	os.WriteFile(filepath.Join(dir, "labels.tsv"), []byte(tsv.String()), 0o644)
	return dir
}

func TestRulesTrainHistoryAndUse(t *testing.T) {
	dir := smallCorpus(t, 40)
	hist := filepath.Join(dir, "historia.csv")
	os.WriteFile(hist, []byte("subject,description,category,type,criticidad\n"+
		"\"La impre no sirve\",\"la impresora del piso 2 no imprime\",ti.soporte,incidente,media\n"+
		"ayuda,\"necesito acceso a la VPN para trabajar desde casa\",ti.vpn,requerimiento,baja\n"+
		"gotera,\"cae agua del techo en la sala\",adm.inmuebles.cubierta,,\n"), 0o644)
	out := filepath.Join(dir, "m.bin")
	code, stdout, errs := runCLI(t, nil, "rules", "train", "--corpus", dir, "--history", hist, "--with-test-split", "--date", "2026-05-04", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(stdout, "model trained 2026-05-04 on 43 mails (corpus 40, history 3)") {
		t.Errorf("stdout:\n%s", stdout)
	}
	code, stdout, errs = runCLI(t, []string{"MESA_RULES_MODEL_FILE=" + out, "MESA_RULES_MIN_CONFIDENCE=0.001"},
		"rules", "test", "--json", filepath.Join(dir, "corpus"))
	if code != 0 {
		t.Fatalf("rules test with the new model: exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 40 {
		t.Fatalf("got %d lines, want 40", len(lines))
	}
	var first struct {
		Category   string             `json:"category"`
		Confidence *float64           `json:"confidence"`
		Features   map[string][]any   `json:"features"`
		Candidates []rules.Candidate  `json:"candidates"`
		Matched    []string           `json:"matched"`
		Extra      map[string]float64 `json:"-"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	if first.Confidence == nil || *first.Confidence <= 0 || *first.Confidence > 1 || len(first.Features["category"]) == 0 || len(first.Candidates) != 3 {
		t.Errorf("want confidence in (0, 1], category features and three candidates: %s", lines[0])
	}
	// At a minimum confidence above 1 everything is sin_clasificar.
	_, stdout, _ = runCLI(t, []string{"MESA_RULES_MODEL_FILE=" + out, "MESA_RULES_MIN_CONFIDENCE=1"}, "rules", "test", "--json", filepath.Join(dir, "corpus"))
	if n := strings.Count(stdout, `"category":"sin_clasificar"`); n < 35 {
		t.Errorf("min_confidence 1: %d of 40 sin_clasificar, want nearly all", n)
	}

	bad := filepath.Join(dir, "mala.csv")
	os.WriteFile(bad, []byte("asunto,texto,ti.nada\nb,c,ti.vpn,urgente\n"), 0o644)
	code, _, errs = runCLI(t, nil, "rules", "train", "--corpus", dir, "--history", bad, "--out", out)
	if code != 2 || !strings.Contains(errs, "mala.csv:1") || !strings.Contains(errs, "ti.nada") || !strings.Contains(errs, "mala.csv:2") {
		t.Errorf("bad history: exit %d, want 2 naming each line:\n%s", code, errs)
	}
	if code, _, _ := runCLI(t, nil, "rules", "train", "--corpus", dir); code != 2 {
		t.Errorf("no --out: exit %d, want 2", code)
	}
	if code, _, errs := runCLI(t, []string{"MESA_RULES_MODEL_FILE=" + hist}, "rules", "test", filepath.Join(dir, "corpus")); code != 2 || !strings.Contains(errs, "rules.model_file") {
		t.Errorf("a CSV as model: exit %d, want 2 naming rules.model_file: %s", code, errs)
	}
}

func TestRulesReportAndCorrections(t *testing.T) {
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
	now := time.Now()
	cal, _ := sla.New(sla.Options{})
	r, err := mailout.New(mailout.Options{From: "mesa@entidad.gov.co"})
	if err != nil {
		t.Fatal(err)
	}
	d, err := desk.New(desk.Deps{Files: mailin.Decoder{}, Store: db, Mail: r, Calendar: cal, Classifier: eng, Logger: slog.New(slog.DiscardHandler),
		Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	mails := []struct{ subject, body, moveTo string }{
		{"ayuda", "El kiosko digital de la entrada no responde", "ti.soporte"},
		{"ayuda", "Kiosko digital apagado desde ayer", "ti.soporte"},
		{"La impresora no imprime", "sale la hoja en blanco", ""},
		{"VPN", "no me conecta la vpn desde la casa", ""},
	}
	for _, m := range mails {
		tk, err := d.Create(ctx, desk.NewTicket{Subject: m.subject, Requester: "a@x.co", Body: m.body})
		if err != nil {
			t.Fatal(err)
		}
		if m.moveTo != "" {
			if _, err := d.Recategorize(ctx, tk.Number, "tec@x.co", m.moveTo); err != nil {
				t.Fatal(err)
			}
		}
	}
	db.Close()
	env := []string{"MESA_DATABASE_URL=sqlite:" + path}
	code, out, errs := runCLI(t, env, "rules", "report")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	y, w := now.In(time.FixedZone("COT", -5*3600)).ISOWeek()
	for _, want := range []string{"model age:", "4 tickets, 2 recategorised: override rate 50.0 %", "sin_clasificar",
		fmt.Sprintf("%d-W%02d   50.0 %%  (2 of 4)", y, w), "2  sin_clasificar → ti.soporte"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}

	dir := smallCorpus(t, 20)
	code, out, errs = runCLI(t, env, "rules", "train", "--corpus", dir, "--corrections", "--with-test-split", "--date", "2026-05-04", "--out", filepath.Join(dir, "m.bin"))
	if code != 0 || !strings.Contains(out, "(corpus 20, corrections 2)") {
		t.Errorf("train --corrections: exit %d, %s\n%s", code, out, errs)
	}
}
