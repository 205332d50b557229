package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mesadeservicios/mesa/internal/testpg"
	"github.com/mesadeservicios/mesa/store"
)

// seedBackup ingests mail into the store env names: plain ones, one with
// an attachment and one of 2.5 MB (stored in chunks). It returns the keys.
func seedBackup(t *testing.T, env []string) []string {
	t.Helper()
	dir := t.TempDir()
	raws := []string{
		mail("Ana <ana@entidad.gov.co>", "b1@x", "No conecta la VPN", "Desde la casa no conecta."),
		"From: pedro@entidad.gov.co\r\nTo: mesa@entidad.gov.co\r\nSubject: Formato\r\nMessage-ID: <b2@x>\r\nMIME-Version: 1.0\r\n" +
			"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nAdjunto.\r\n--b\r\n" +
			"Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"x.bin\"\r\n" +
			"Content-Transfer-Encoding: base64\r\n\r\nAAECA/8=\r\n--b--\r\n",
		mail("luz@entidad.gov.co", "b3@x", "Registro grande", strings.Repeat("dato \xc3\xb1 en el registro\r\n", 110000)),
	}
	var files []string
	for i, r := range raws {
		files = append(files, writeEML(t, dir, fmt.Sprintf("%d.eml", i), r))
	}
	if code, out, errs := runCLI(t, env, append([]string{"ingest"}, files...)...); code != 0 || strings.Count(out, " ticket ") != 3 {
		t.Fatalf("seeding: exit %d %s %s", code, out, errs)
	}
	return []string{"<b1@x>", "<b2@x>", "<b3@x>"}
}

// sameStore compares what matters in two stores: every table's row count,
// the tickets, their events, and the raw mail byte for byte.
func sameStore(t *testing.T, a, b *store.DB, keys []string) {
	t.Helper()
	ctx := context.Background()
	ca, err := a.RowCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cb, err := b.RowCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(ca) != fmt.Sprint(cb) {
		t.Errorf("row counts differ:\noriginal %v\nrestored %v", ca, cb)
	}
	ta, _ := a.ListTickets(ctx, store.TicketFilter{})
	tb, _ := b.ListTickets(ctx, store.TicketFilter{})
	if len(ta) != 3 || len(ta) != len(tb) {
		t.Fatalf("tickets: %d original, %d restored", len(ta), len(tb))
	}
	for i := range ta {
		if js(ta[i]) != js(tb[i]) {
			t.Errorf("ticket %s differs:\n%+v\n%+v", ta[i].Number, ta[i], tb[i])
		}
		ea, _ := a.Events(ctx, ta[i].ID)
		eb, _ := b.Events(ctx, tb[i].ID)
		if len(ea) == 0 || js(ea) != js(eb) {
			t.Errorf("events of %s differ:\n%v\n%v", ta[i].Number, ea, eb)
		}
		aa, _ := a.Attachments(ctx, ta[i].ID)
		ab, _ := b.Attachments(ctx, tb[i].ID)
		if js(aa) != js(ab) {
			t.Errorf("attachments of %s differ", ta[i].Number)
		}
	}
	for _, k := range keys {
		ma, err := a.MessageByKey(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		mb, err := b.MessageByKey(ctx, k)
		if err != nil {
			t.Fatalf("restored %s: %v", k, err)
		}
		if len(ma.Raw) == 0 || !bytes.Equal(ma.Raw, mb.Raw) {
			t.Errorf("raw mail %s: %d bytes original, %d restored, equal %v", k, len(ma.Raw), len(mb.Raw), bytes.Equal(ma.Raw, mb.Raw))
		}
	}
}

func TestBackupRestoreSQLite(t *testing.T) {
	env, _ := opsEnv(t)
	keys := seedBackup(t, env)
	out := filepath.Join(t.TempDir(), "mesa-backup.db")
	code, o, errs := runCLI(t, env, "backup", "--out", out)
	if code != 0 || !strings.Contains(o, "sqlite backup, schema version") || !strings.Contains(o, "tickets") {
		t.Fatalf("backup: exit %d %s %s", code, o, errs)
	}
	if code, _, errs := runCLI(t, env, "backup", "--out", out); code != exitConfig || !strings.Contains(errs, "already exists") {
		t.Errorf("backup over an existing file: exit %d %s", code, errs)
	}
	code, o, _ = runCLI(t, env, "backup", "verify", out)
	if code != 0 || !strings.Contains(o, fmt.Sprintf("schema version %d", store.LatestVersion())) || !regexpRows(o, "tickets", 3) {
		t.Errorf("verify: exit %d\n%s", code, o)
	}
	// Restore: the snapshot becomes the database of a new instance.
	restored := filepath.Join(t.TempDir(), "restored.db")
	b, _ := os.ReadFile(out)
	os.WriteFile(restored, b, 0o600)
	renv := append(env[:len(env):len(env)], "MESA_DATABASE_URL=sqlite:"+restored)
	sameStore(t, openDB(t, env), openDB(t, renv), keys)
	// The restored desk goes on numbering after the restored tickets.
	nf := writeEML(t, t.TempDir(), "n.eml", mail("nuevo@entidad.gov.co", "n1@x", "Otro", "x"))
	if code, o, _ := runCLI(t, renv, "ingest", nf); code != 0 || !strings.Contains(o, "-000004") {
		t.Errorf("intake after restore: %s", o)
	}

	garbage := filepath.Join(t.TempDir(), "x.db")
	os.WriteFile(garbage, []byte("not a backup"), 0o600)
	if code, _, errs := runCLI(t, env, "backup", "verify", garbage); code != exitFail || !strings.Contains(errs, "neither") {
		t.Errorf("verify garbage: exit %d %s", code, errs)
	}
	// A damaged snapshot fails verify.
	bad := append([]byte(nil), b...)
	for i := len(bad) / 2; i < len(bad)/2+8192 && i < len(bad); i++ {
		bad[i] ^= 0xff
	}
	damaged := filepath.Join(t.TempDir(), "damaged.db")
	os.WriteFile(damaged, bad, 0o600)
	if code, _, _ := runCLI(t, env, "backup", "verify", damaged); code != exitFail {
		t.Errorf("verify of a damaged snapshot: exit %d, want 1", code)
	}
}

func TestBackupRestorePostgres(t *testing.T) {
	if _, err := exec.LookPath("pg_dump"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("pg_dump is not installed (apt-get install postgresql-client)")
		}
		t.Skip("pg_dump is not installed")
	}
	env, _ := opsEnv(t)
	env = append(env, "MESA_DATABASE_URL="+testpg.NewDatabase(t))
	keys := seedBackup(t, env)
	out := filepath.Join(t.TempDir(), "mesa.dump")
	code, o, errs := runCLI(t, env, "backup", "--out", out)
	if code != 0 || !strings.Contains(o, "pg_dump backup") || !regexpRows(o, "tickets", 3) || !regexpRows(o, "message_chunks", 3) {
		t.Fatalf("backup: exit %d %s %s", code, o, errs)
	}
	if code, o, _ := runCLI(t, env, "backup", "verify", out); code != 0 ||
		!strings.Contains(o, fmt.Sprintf("schema version %d", store.LatestVersion())) || !regexpRows(o, "events", -1) {
		t.Errorf("verify: exit %d %s", code, o)
	}
	// Restore into an empty database, as docs/OPERATIONS.md says.
	target := testpg.NewDatabase(t)
	conn, _, _ := libpqURL(target)
	if b, err := exec.Command("pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--dbname="+conn, out).CombinedOutput(); err != nil {
		t.Fatalf("pg_restore: %v: %s", err, b)
	}
	renv := append(env[:len(env):len(env)], "MESA_DATABASE_URL="+target)
	sameStore(t, openDB(t, env), openDB(t, renv), keys)
	nf := writeEML(t, t.TempDir(), "n.eml", mail("nuevo@entidad.gov.co", "n1@x", "Otro", "x"))
	if code, o, errs := runCLI(t, renv, "ingest", nf); code != 0 || !strings.Contains(o, "-000004") {
		t.Errorf("intake after restore: %s %s", o, errs)
	}
}

// js is v as JSON: pointers followed, times in RFC 3339.
func js(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// regexpRows reports whether the verify table shows table with n rows
// (n < 0: any count).
func regexpRows(out, table string, n int) bool {
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) == 2 && f[0] == table && (n < 0 || f[1] == fmt.Sprint(n)) {
			return true
		}
	}
	return false
}
