package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/config"
	"github.com/mesadeservicios/mesa/mailin"
	"github.com/mesadeservicios/mesa/store"
	"github.com/mesadeservicios/mesa/ticket"
)

// opsEnv is the environment of a mesa on a fresh SQLite file, with the
// desk's two addresses.
func opsEnv(t *testing.T, extra ...string) ([]string, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "mesa.db")
	return append([]string{"MESA_DATABASE_URL=sqlite:" + path, "MESA_DESK_ADDRESSES=mesa@entidad.gov.co,soporte@entidad.gov.co",
		"USER=tester"}, extra...), path
}

// openDB opens the store the environment names, migrated.
func openDB(t *testing.T, env []string) *store.DB {
	t.Helper()
	cfg, err := config.Load("", env)
	if err != nil {
		t.Fatal(err)
	}
	db, err := openStore(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

func writeEML(t *testing.T, dir, name, raw string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(raw), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func mail(from, id, subject, body string) string {
	return "From: " + from + "\r\nTo: mesa@entidad.gov.co\r\nSubject: " + subject + "\r\nMessage-ID: <" + id + ">\r\n" +
		"Date: Mon, 16 Mar 2026 09:00:00 -0500\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n"
}

func ticketsFrom(t *testing.T, db *store.DB, email string) []*ticket.Ticket {
	t.Helper()
	tks, err := db.ListTickets(context.Background(), store.TicketFilter{Requester: email})
	if err != nil {
		t.Fatal(err)
	}
	return tks
}

func decodeLines(t *testing.T, out string) []opLine {
	t.Helper()
	var lines []opLine
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var x opLine
		if err := json.Unmarshal([]byte(l), &x); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		lines = append(lines, x)
	}
	return lines
}

// TestQuarantineReplay: a message the poller quarantined (intake failed
// too often) and one intake quarantined (mail "from self", an alias the
// desk wrongly lists as its own) are replayed after their cause is fixed:
// each becomes a ticket exactly once; replaying again does nothing.
func TestQuarantineReplay(t *testing.T) {
	ctx := context.Background()
	env, _ := opsEnv(t)
	db := openDB(t, env)
	dir := t.TempDir()

	// The poller's quarantine, as the daemon wires it.
	cfg, _ := config.Load("", env)
	d, err := buildDesk(cfg, db, slog.New(slog.DiscardHandler), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	polled := mail("Ana Rojas <ana@entidad.gov.co>", "poll-1@entidad.gov.co", "No imprime", "La impresora del piso 3 no imprime.")
	in, _ := mailin.Parse([]byte(polled))
	if err := d.QuarantineMail(ctx, []byte(polled), in, ticket.Source{Mailbox: "INBOX", UIDValidity: 9, UID: 41}, "intake failed 5 times: boom"); err != nil {
		t.Fatal(err)
	}
	// The old way answers duplicate and creates nothing: the reason for replay.
	pf := writeEML(t, dir, "polled.eml", polled)
	if code, out, _ := runCLI(t, env, "ingest", "--json", pf); code != 0 || !strings.Contains(out, `"duplicate"`) {
		t.Fatalf("ingest of a quarantined message: exit %d, %s; want duplicate", code, out)
	}
	self := mail("Soporte <soporte@entidad.gov.co>", "self-1@entidad.gov.co", "Cambio de clave", "Necesito cambiar la clave del correo.")
	sf := writeEML(t, dir, "self.eml", self)
	if code, out, errs := runCLI(t, env, "ingest", "--json", sf); code != 0 || !strings.Contains(out, `"quarantined"`) {
		t.Fatalf("ingest from self: exit %d, %s %s", code, out, errs)
	}

	code, out, errs := runCLI(t, env, "quarantine", "list", "--json")
	if code != 0 {
		t.Fatalf("list: exit %d: %s", code, errs)
	}
	var list []store.MessageInfo
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != 2 {
		t.Fatalf("list: got %s, %v; want 2 entries", out, err)
	}
	if list[0].Key != "<poll-1@entidad.gov.co>" || list[0].Reason != "intake failed 5 times: boom" || list[0].UID != 41 {
		t.Errorf("poller's entry: got %+v", list[0])
	}
	if code, out, _ := runCLI(t, env, "quarantine", "list"); code != 0 || !strings.Contains(out, "No imprime") ||
		!strings.Contains(out, "2 message(s) in quarantine") || !strings.HasPrefix(out, "ID") {
		t.Errorf("list table: %s", out)
	}
	if code, out, _ := runCLI(t, env, "quarantine", "show", fmt.Sprint(list[0].ID)); code != 0 ||
		!strings.Contains(out, "boom") || !strings.Contains(out, "Subject: No imprime") || strings.Contains(out, "piso 3") {
		t.Errorf("show (header only): %s", out)
	}

	// The poller's message, by key, with an actor.
	code, out, errs = runCLI(t, env, "quarantine", "replay", "--json", "--actor", "luisa@entidad.gov.co", "<poll-1@entidad.gov.co>")
	if code != 0 {
		t.Fatalf("replay: exit %d: %s %s", code, out, errs)
	}
	got := decodeLines(t, out)
	if len(got) != 1 || got[0].Outcome != "replayed" || got[0].Disposition != "ticket" || got[0].Ticket == "" {
		t.Fatalf("replay: got %+v", got)
	}
	ana := ticketsFrom(t, db, "ana@entidad.gov.co")
	if len(ana) != 1 || ana[0].Number != got[0].Ticket {
		t.Fatalf("tickets of ana: got %d, want 1 (%s)", len(ana), got[0].Ticket)
	}
	evs, _ := db.Events(ctx, ana[0].ID)
	noted := false
	for _, e := range evs {
		noted = noted || (e.Kind == ticket.EventNote && e.Actor == "luisa@entidad.gov.co" && strings.Contains(e.Body, "boom"))
	}
	if !noted {
		t.Errorf("no note by the actor on %s: %+v", ana[0].Number, evs)
	}
	if _, err := db.MailByDedupeKey(ctx, "ack:"+ana[0].Number); err != nil {
		t.Errorf("the replayed ticket's acknowledgement is not queued: %v", err)
	}
	// Again, by key and from the file: nothing more. (By its old id it is
	// not found: intake stored it again under a new one.)
	for _, arg := range []string{"<poll-1@entidad.gov.co>", pf} {
		code, out, _ = runCLI(t, env, "quarantine", "replay", "--json", arg)
		if l := decodeLines(t, out); code != 0 || len(l) != 1 || l[0].Outcome != "skipped" {
			t.Errorf("second replay of %s: exit %d, %+v; want skipped", arg, code, l)
		}
	}
	if n := len(ticketsFrom(t, db, "ana@entidad.gov.co")); n != 1 {
		t.Errorf("after replaying twice: %d tickets, want 1", n)
	}

	// From self, cause not fixed: quarantined again, still listed.
	code, out, _ = runCLI(t, env, "quarantine", "replay", "--json", "<self-1@entidad.gov.co>")
	if l := decodeLines(t, out); code != 0 || l[0].Outcome != "replayed" || l[0].Disposition != "quarantined" {
		t.Errorf("replay before the fix: %+v", l)
	}
	// The alias is no longer the desk's: the file replays into a ticket.
	fixed := append(env[:len(env):len(env)], "MESA_DESK_ADDRESSES=mesa@entidad.gov.co")
	code, out, errs = runCLI(t, fixed, "quarantine", "replay", "--json", sf)
	if l := decodeLines(t, out); code != 0 || l[0].Outcome != "replayed" || l[0].Disposition != "ticket" {
		t.Fatalf("replay after the fix: exit %d %+v %s", code, l, errs)
	}
	code, out, _ = runCLI(t, fixed, "quarantine", "replay", "--json", "<self-1@entidad.gov.co>")
	if l := decodeLines(t, out); code != 0 || l[0].Outcome != "skipped" {
		t.Errorf("replay after the ticket: %+v", l)
	}
	if n := len(ticketsFrom(t, db, "soporte@entidad.gov.co")); n != 1 {
		t.Errorf("soporte's tickets: got %d, want 1", n)
	}
	if left, _ := db.Quarantined(ctx, 0); len(left) != 0 {
		t.Errorf("quarantine after replays: %d left, want 0", len(left))
	}
	// A new file, never stored: ingested like `mesa ingest`.
	nf := writeEML(t, dir, "new.eml", mail("pedro@entidad.gov.co", "new-1@entidad.gov.co", "Sin red", "No hay red."))
	if code, out, _ := runCLI(t, env, "quarantine", "replay", "--json", nf); code != 0 || decodeLines(t, out)[0].Disposition != "ticket" {
		t.Errorf("replay of a new file: %s", out)
	}
	// Unknown targets fail with exit 1.
	if code, out, _ := runCLI(t, env, "quarantine", "replay", "--json", "99999"); code != 1 || decodeLines(t, out)[0].Outcome != "error" {
		t.Errorf("unknown id: exit %d %s", code, out)
	}
	// Who did what.
	acts, _ := db.Actions(ctx, 20)
	replays, host := 0, hostname()
	for _, a := range acts {
		if a.Action == "quarantine_replay" {
			replays++
			if a.Actor != "luisa@entidad.gov.co" && a.Actor != "tester@"+host {
				t.Errorf("actor %q, want --actor or tester@%s", a.Actor, host)
			}
		}
	}
	if replays != 4 {
		t.Errorf("recorded %d replays, want 4 (poller, self twice, new file)", replays)
	}
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "localhost"
	}
	return h
}

func TestQuarantineExport(t *testing.T) {
	ctx := context.Background()
	env, _ := opsEnv(t)
	db := openDB(t, env)
	raws := []string{mail("a@x.co", "q1@x.co", "uno", "1"), mail("b@x.co", "q2@x.co", "dos", "2")}
	for i, r := range raws {
		db.StoreMessage(ctx, &ticket.RawMessage{Key: fmt.Sprintf("<q%d@x.co>", i+1), Raw: []byte(r), ReceivedAt: time.Now(),
			Disposition: "quarantined", Reason: "x"})
	}
	out := filepath.Join(t.TempDir(), "cuarentena")
	if code, o, e := runCLI(t, env, "quarantine", "export", "--out", out); code != 0 {
		t.Fatalf("export: exit %d %s %s", code, o, e)
	}
	files, _ := filepath.Glob(filepath.Join(out, "*.eml"))
	if len(files) != 2 {
		t.Fatalf("exported %d files, want 2", len(files))
	}
	for i, f := range files {
		if b, _ := os.ReadFile(f); string(b) != raws[i] {
			t.Errorf("%s: not the raw bytes", f)
		}
	}
	one := filepath.Join(t.TempDir(), "uno.eml")
	if code, _, _ := runCLI(t, env, "quarantine", "export", "--out", one, "<q1@x.co>"); code != 0 {
		t.Fatal("export one")
	}
	if b, _ := os.ReadFile(one); string(b) != raws[0] {
		t.Error("single export: not the raw bytes")
	}
}

// TestOutboxAndUndeliverable: held and failed mail is listed, released or
// discarded; an undeliverable address is listed and cleared; each action
// is recorded, with a note on the ticket.
func TestOutboxAndUndeliverable(t *testing.T) {
	ctx := context.Background()
	env, _ := opsEnv(t)
	db := openDB(t, env)
	dir := t.TempDir()
	if code, _, e := runCLI(t, env, "ingest", writeEML(t, dir, "a.eml", mail("ana@entidad.gov.co", "o1@x", "VPN", "no conecta"))); code != 0 {
		t.Fatal(e)
	}
	tk := ticketsFrom(t, db, "ana@entidad.gov.co")[0]
	ack, err := db.MailByDedupeKey(ctx, "ack:"+tk.Number)
	if err != nil {
		t.Fatal(err)
	}
	ack.State, ack.LastError = ticket.OutboxHeld, "address bounces"
	db.UpdateMail(ctx, ack)
	failed := &ticket.Outgoing{TicketID: tk.ID, DedupeKey: "x", From: "mesa@entidad.gov.co", To: []string{"jefe@entidad.gov.co"},
		Subject: "Resumen", Raw: []byte("x"), State: ticket.OutboxFailed, Attempts: 5, LastError: "550 5.1.1 no such user",
		NextAttemptAt: time.Now(), CreatedAt: time.Now()}
	db.EnqueueMail(ctx, failed)
	db.MarkUndeliverable(ctx, "ana@entidad.gov.co", "5.1.1 user unknown", time.Now())

	code, out, _ := runCLI(t, env, "outbox", "list")
	if code != 0 || !strings.Contains(out, "held") || !strings.Contains(out, "550 5.1.1") || !strings.Contains(out, "2 mail(s)") {
		t.Errorf("outbox list: %s", out)
	}
	var entries []store.OutboxEntry
	_, out, _ = runCLI(t, env, "outbox", "list", "--json", "--state", "held")
	if json.Unmarshal([]byte(out), &entries); len(entries) != 1 || entries[0].ID != ack.ID || entries[0].Ticket != tk.Number {
		t.Errorf("outbox list --state held: %s", out)
	}
	if code, _, _ := runCLI(t, env, "outbox", "list", "--state", "lost"); code != 2 {
		t.Errorf("unknown state: exit %d, want 2", code)
	}
	code, out, _ = runCLI(t, env, "outbox", "retry", "--json", "--actor", "ops", fmt.Sprint(ack.ID))
	l := decodeLines(t, out)
	if code != 0 || l[0].Outcome != "retried" || !strings.Contains(l[0].Reason, "still marked undeliverable") {
		t.Errorf("retry: exit %d %+v", code, l)
	}
	if m, _ := db.MailByID(ctx, ack.ID); m.State != ticket.OutboxPending || m.Attempts != 0 {
		t.Errorf("after retry: %s, %d attempts", m.State, m.Attempts)
	}
	code, out, _ = runCLI(t, env, "outbox", "discard", "--json", fmt.Sprint(failed.ID), fmt.Sprint(failed.ID), "abc")
	l = decodeLines(t, out)
	if code != 1 || l[0].Outcome != "discarded" || l[1].Outcome != "skipped" || l[2].Outcome != "error" {
		t.Errorf("discard, again, bad id: exit %d %+v", code, l)
	}
	evs, _ := db.Events(ctx, tk.ID)
	if n := len(evs); n < 2 || evs[n-2].Kind != ticket.EventNote || evs[n-2].Actor != "ops" || !strings.Contains(evs[n-2].Body, "liberado") ||
		!strings.Contains(evs[n-1].Body, "descartado") {
		t.Errorf("ticket notes: got %+v", evs)
	}

	code, out, _ = runCLI(t, env, "undeliverable", "list")
	if code != 0 || !strings.Contains(out, "ana@entidad.gov.co") || !strings.Contains(out, "5.1.1 user unknown") {
		t.Errorf("undeliverable list: %s", out)
	}
	code, out, _ = runCLI(t, env, "undeliverable", "clear", "--json", "ANA@entidad.gov.co", "nadie@x.co")
	l = decodeLines(t, out)
	if code != 0 || l[0].Outcome != "cleared" || l[1].Outcome != "skipped" {
		t.Errorf("clear: exit %d %+v", code, l)
	}
	if _, bad, _ := db.IsUndeliverable(ctx, "ana@entidad.gov.co"); bad {
		t.Error("still undeliverable after clear")
	}
	acts, _ := db.Actions(ctx, 10)
	var kinds []string
	for _, a := range acts {
		kinds = append(kinds, a.Action+":"+a.Actor)
	}
	want := []string{"undeliverable_clear:tester@" + hostname(), "outbox_discard:tester@" + hostname(), "outbox_retry:ops"}
	if strings.Join(kinds, ",") != strings.Join(want, ",") {
		t.Errorf("actions: got %v, want %v", kinds, want)
	}
	if code, out, _ := runCLI(t, env, "actions"); code != 0 || !strings.Contains(out, "outbox_retry") {
		t.Errorf("mesa actions: %s", out)
	}
}

func TestMigrateDryRun(t *testing.T) {
	env, path := opsEnv(t)
	code, out, errs := runCLI(t, env, "migrate", "--dry-run")
	if code != 0 || !strings.Contains(out, "would apply 0001_init.sql") ||
		!strings.Contains(out, fmt.Sprintf("%d migration(s) pending", store.LatestVersion())) {
		t.Fatalf("dry run on an empty database: exit %d\n%s%s", code, out, errs)
	}
	db, err := store.OpenSQLiteReadOnly(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	tables, _ := db.Tables(context.Background())
	db.Close()
	if len(tables) != 0 {
		t.Errorf("the dry run created %v", tables)
	}
	if code, _, _ := runCLI(t, env, "migrate"); code != 0 {
		t.Fatal("migrate")
	}
	if code, out, _ := runCLI(t, env, "migrate", "--dry-run"); code != 0 || !strings.Contains(out, "0 migration(s) pending") {
		t.Errorf("dry run after migrate: %s", out)
	}
}

func TestOpsUsage(t *testing.T) {
	env, _ := opsEnv(t)
	for _, args := range [][]string{{"quarantine"}, {"outbox", "resend"}, {"quarantine", "replay"}, {"outbox", "retry"},
		{"undeliverable", "clear"}, {"export"}, {"backup"}, {"backup", "verify"}} {
		if code, _, errs := runCLI(t, env, args...); code != exitConfig || errs == "" {
			t.Errorf("mesa %s: exit %d, stderr %q; want 2 and a message", strings.Join(args, " "), code, errs)
		}
	}
}

// TestExport: everything about a person in one zip, with a Spanish
// README; another requester's mail on a shared ticket stays out.
func TestExport(t *testing.T) {
	ctx := context.Background()
	env, _ := opsEnv(t)
	db := openDB(t, env)
	dir := t.TempDir()
	att := "From: Ana Rojas <ana@entidad.gov.co>\r\nTo: mesa@entidad.gov.co\r\nSubject: Formato\r\nMessage-ID: <e1@x>\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
		"Adjunto el F-DE-10.\r\n--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"f de 10.pdf\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b--\r\n"
	other := mail("pedro@entidad.gov.co", "e2@x", "Otra cosa", "Privado de Pedro")
	loose := "From: ana@entidad.gov.co\r\nTo: mesa@entidad.gov.co\r\nSubject: Respuesta automática: fuera de la oficina\r\n" +
		"Auto-Submitted: auto-replied\r\nMessage-ID: <e3@x>\r\n\r\nVuelvo el lunes.\r\n"
	for i, r := range []string{att, other, loose} {
		if code, _, e := runCLI(t, env, "ingest", writeEML(t, dir, fmt.Sprintf("%d.eml", i), r)); code != 0 {
			t.Fatal(e)
		}
	}
	ana := ticketsFrom(t, db, "ana@entidad.gov.co")
	pedro := ticketsFrom(t, db, "pedro@entidad.gov.co")
	if len(ana) != 1 || len(pedro) != 1 {
		t.Fatalf("tickets: ana %d, pedro %d", len(ana), len(pedro))
	}
	db.AddParticipants(ctx, pedro[0].ID, "ana@entidad.gov.co")
	out := filepath.Join(t.TempDir(), "ana.zip")
	code, o, errs := runCLI(t, env, "export", "--email", "Ana@entidad.gov.co", "--out", out, "--actor", "dpo@entidad.gov.co")
	if code != 0 || !strings.Contains(o, "2 ticket(s)") {
		t.Fatalf("export: exit %d %s %s", code, o, errs)
	}
	zr, err := zip.OpenReader(out)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		files[f.Name] = b
	}
	readme := string(files["README.txt"])
	if !strings.Contains(readme, "Ley 1581 de 2012") || !strings.Contains(readme, "ana@entidad.gov.co") {
		t.Errorf("README.txt: %s", readme)
	}
	var sum exportSummary
	if err := json.Unmarshal(files["persona.json"], &sum); err != nil || sum.Tickets != 2 || sum.Attachments != 1 ||
		sum.SentMail != 1 || sum.Messages != 2 || sum.GeneratedBy != "dpo@entidad.gov.co" {
		t.Errorf("persona.json: %+v %v", sum, err)
	}
	adir := "solicitudes/" + ana[0].Number + "/"
	var found bool
	for name, b := range files {
		if strings.HasPrefix(name, adir+"mensajes/") && string(b) == att {
			found = true
		}
		if strings.HasPrefix(name, adir+"adjuntos/") && string(b) != "%PDF-1.4\n" {
			t.Errorf("attachment %s: %q", name, b)
		}
		if bytes.Contains(b, []byte("Privado de Pedro")) {
			t.Errorf("%s holds another person's mail", name)
		}
		if bytes.Contains(b, []byte(ana[0].AccessKeyHash)) {
			t.Errorf("%s holds the access key's hash", name)
		}
	}
	if !found {
		t.Errorf("the raw message is not in %s", adir)
	}
	if _, ok := files["solicitudes/"+pedro[0].Number+"/solicitud.json"]; !ok {
		t.Error("the ticket ana took part in is missing")
	}
	if !strings.Contains(string(files["correos_sin_solicitud.json"]), "fuera de la oficina") {
		t.Errorf("loose mail: %s", files["correos_sin_solicitud.json"])
	}
	if acts, _ := db.Actions(ctx, 1); len(acts) != 1 || acts[0].Action != "export" || acts[0].Target != "ana@entidad.gov.co" {
		t.Errorf("export not recorded: %+v", acts)
	}
	if code, _, _ := runCLI(t, env, "export", "--email", "ana@entidad.gov.co", "--out", out); code != exitConfig {
		t.Errorf("export over an existing file: exit %d, want 2", code)
	}
}

// TestRetentionPurge: raw mail and attachments of a ticket closed longer
// ago than the settings go; the ticket, its events and the metadata stay,
// with a note saying what went; open tickets keep everything.
func TestRetentionPurge(t *testing.T) {
	ctx := context.Background()
	env, _ := opsEnv(t)
	db := openDB(t, env)
	dir := t.TempDir()
	big := strings.Repeat("línea de un correo grande\r\n", 60000) // 1.6 MB: chunked
	for i, from := range []string{"ana@entidad.gov.co", "pedro@entidad.gov.co"} {
		r := mail(from, fmt.Sprintf("r%d@x", i), "Caso", big)
		if code, _, e := runCLI(t, env, "ingest", writeEML(t, dir, fmt.Sprintf("%d.eml", i), r)); code != 0 {
			t.Fatal(e)
		}
	}
	tk := ticketsFrom(t, db, "ana@entidad.gov.co")[0]
	closed := time.Now().AddDate(0, 0, -40)
	tk.State, tk.ClosedAt, tk.Solution, tk.SLANextAt = ticket.Cerrado, &closed, "Resuelto", nil
	if err := db.UpdateTicket(ctx, tk); err != nil {
		t.Fatal(err)
	}
	before, _ := db.Events(ctx, tk.ID)

	if code, out, _ := runCLI(t, env, "retention", "purge"); code != 0 || !strings.Contains(out, "everything is kept") {
		t.Errorf("purge without settings: %s", out)
	}
	ret := append(env[:len(env):len(env)], "MESA_RETENTION_RAW_MAIL_DAYS=30", "MESA_RETENTION_ATTACHMENTS_DAYS=30")
	code, out, _ := runCLI(t, ret, "retention", "purge", "--dry-run")
	if code != 0 || !strings.Contains(out, "would purge raw mail of 1 ticket(s)") {
		t.Errorf("dry run: %s", out)
	}
	if m, _ := db.MessageByKey(ctx, "<r0@x>"); len(m.Raw) == 0 {
		t.Fatal("the dry run purged")
	}
	code, out, errs := runCLI(t, ret, "retention", "purge", "--json")
	var rep purgeReport
	if json.Unmarshal([]byte(out), &rep); code != 0 || rep.RawTickets != 1 || rep.RawMessages != 1 || rep.RawBytes < int64(len(big)) {
		t.Fatalf("purge: exit %d %s %s", code, out, errs)
	}
	m, _ := db.MessageByKey(ctx, "<r0@x>")
	if len(m.Raw) != 0 || m.Subject != "Caso" || m.From != "ana@entidad.gov.co" {
		t.Errorf("purged message: %d bytes left, %q %q", len(m.Raw), m.Subject, m.From)
	}
	if m, _ := db.MessageByKey(ctx, "<r1@x>"); len(m.Raw) < len(big) {
		t.Error("the open ticket's mail was purged")
	}
	after, _ := db.Events(ctx, tk.ID)
	if len(after) != len(before)+1 || after[len(after)-1].Kind != ticket.EventNote || !strings.Contains(after[len(after)-1].Body, "retention.raw_mail_days") ||
		!strings.Contains(after[len(after)-1].Body, "Retención: se eliminó el correo original (1 elemento(s)") {
		t.Errorf("purge event: %+v", after[len(after)-1])
	}
	if back, err := db.TicketByID(ctx, tk.ID); err != nil || back.Solution != "Resuelto" {
		t.Errorf("the ticket did not survive: %v", err)
	}
	if code, out, _ := runCLI(t, ret, "retention", "purge", "--json"); code != 0 || !strings.Contains(out, `"raw_mail_tickets": 0`) {
		t.Errorf("second purge: %s", out)
	}
	// The daemon schedules the job only when retention is on.
	for _, tc := range []struct {
		env  []string
		want bool
	}{{ret, true}, {env, false}} {
		cfg, err := config.Load("", append(tc.env[:len(tc.env):len(tc.env)], "MESA_HTTP_LISTEN=127.0.0.1:0", "MESA_HTTP_ADMIN_LISTEN=127.0.0.1:0"))
		if err != nil {
			t.Fatal(err)
		}
		var logs bytes.Buffer
		app, err := Open(ctx, cfg, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		if err != nil {
			t.Fatal(err)
		}
		rctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		app.Run(rctx)
		cancel()
		app.Close()
		line := ""
		for _, l := range strings.Split(logs.String(), "\n") {
			if strings.Contains(l, "scheduler started") {
				line = l
			}
		}
		if got := strings.Contains(line, "retention"); got != tc.want || line == "" {
			t.Errorf("scheduled jobs %q: retention %v, want %v", line, got, tc.want)
		}
	}
}
