package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestIngestCorpus runs `mesa ingest --json` on every file of the mailin
// corpus, as an operator would, and compares each disposition with its
// golden file; then ingests the corpus again: everything is a duplicate.
func TestIngestCorpus(t *testing.T) {
	src := "../../mailin/testdata/corpus"
	dir := t.TempDir()
	files, _ := filepath.Glob(filepath.Join(src, "*"))
	// The corpus tags tickets of 2026; renumber them to this year's.
	year := "MS-" + strconv.Itoa(time.Now().In(mustBogota(t)).Year()) + "-"
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b = []byte(strings.ReplaceAll(string(b), "MS-2026-", year))
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := []string{"MESA_DATABASE_URL=sqlite:" + filepath.Join(t.TempDir(), "m.db")}
	code, out, errs := runCLI(t, env, "ingest", "--config", "../../mailin/testdata/mesa.yaml", "--json", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 40 {
		t.Fatalf("got %d lines", len(lines))
	}
	for _, l := range lines {
		var got ingestLine
		if err := json.Unmarshal([]byte(l), &got); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		var want struct{ Disposition string }
		b, err := os.ReadFile(strings.TrimSuffix(got.File, ".eml") + ".golden.json")
		if err != nil {
			t.Fatal(err)
		}
		json.Unmarshal(b, &want)
		if got.Disposition != want.Disposition {
			t.Errorf("%s: got %s (%s), want %s", filepath.Base(got.File), got.Disposition, got.Reason, want.Disposition)
		}
		if got.Disposition == "ticket" && !strings.HasPrefix(got.Ticket, year) {
			t.Errorf("%s: ticket %q", filepath.Base(got.File), got.Ticket)
		}
	}
	code, out, _ = runCLI(t, env, "ingest", "--config", "../../mailin/testdata/mesa.yaml", "--json", dir)
	if code != 0 || strings.Count(out, `"disposition":"duplicate"`) != len(lines) {
		t.Errorf("second run: exit %d, want every file a duplicate:\n%s", code, out)
	}
}

func mustBogota(t *testing.T) *time.Location {
	loc, err := time.LoadLocation("America/Bogota")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
