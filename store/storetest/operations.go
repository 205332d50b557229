package storetest

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/store"
	"github.com/mesadeservicios/mesa/ticket"
)

func runOperations(t *testing.T, open, migrated Opener) {
	t.Run("Quarantine", func(t *testing.T) { testQuarantine(t, migrated(t)) })
	t.Run("OutboxOperations", func(t *testing.T) { testOutboxOperations(t, migrated(t)) })
	t.Run("Undeliverable", func(t *testing.T) { testUndeliverable(t, migrated(t)) })
	t.Run("RetentionPurge", func(t *testing.T) { testRetentionPurge(t, migrated(t)) })
	t.Run("PersonExport", func(t *testing.T) { testPersonExport(t, migrated(t)) })
	t.Run("MigrationsDryRunAndCounts", func(t *testing.T) { testDryRunCounts(t, open(t)) })
}

func testQuarantine(t *testing.T, db *store.DB) {
	ctx := context.Background()
	big := bytes.Repeat([]byte("cuarentena\r\n"), 200000) // 2.4 MB: chunked
	q1 := &ticket.RawMessage{Key: "<q1@x>", MessageID: "q1@x", Mailbox: "INBOX", UID: 7, From: "ana@x.co",
		Subject: "falla", Raw: []byte("Subject: falla\r\n\r\nx\r\n"), ReceivedAt: at, Disposition: "quarantined", Reason: "boom"}
	q2 := &ticket.RawMessage{Key: "<q2@x>", Raw: big, ReceivedAt: at.Add(time.Second), Disposition: "quarantined", Reason: "big"}
	ok := &ticket.RawMessage{Key: "<ok@x>", Raw: []byte("x"), ReceivedAt: at, Disposition: "autoreply"}
	for _, m := range []*ticket.RawMessage{q1, q2, ok} {
		if err := db.StoreMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	list, err := db.Quarantined(ctx, 0)
	if err != nil || len(list) != 2 {
		t.Fatalf("quarantine: got %d, %v; want 2", len(list), err)
	}
	if list[0].Key != "<q1@x>" || list[0].Reason != "boom" || list[0].UID != 7 || list[0].Size != int64(len(q1.Raw)) ||
		list[1].Size != int64(len(big)) {
		t.Errorf("quarantine entries: got %+v", list)
	}
	if got, err := db.MessageByID(ctx, q2.ID); err != nil || !bytes.Equal(got.Raw, big) {
		t.Errorf("chunked message by id: %v", err)
	}
	if err := db.DeleteQuarantined(ctx, ok.ID); !errors.Is(err, store.ErrNotStuck) {
		t.Errorf("deleting a processed message: got %v, want ErrNotStuck", err)
	}
	if err := db.DeleteQuarantined(ctx, q2.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.MessageByKey(ctx, "<q2@x>"); !errors.Is(err, ticket.ErrNotFound) {
		t.Errorf("after delete: got %v, want ErrNotFound", err)
	}
	// The key is free again: a replay can store it.
	if err := db.StoreMessage(ctx, &ticket.RawMessage{Key: "<q2@x>", Raw: big, ReceivedAt: at}); err != nil {
		t.Errorf("storing the replayed message: %v", err)
	}
	a := &store.OperatorAction{At: at, Actor: "ops@host", Action: "quarantine_replay", Target: "<q2@x>", Detail: `{"x":1}`}
	if err := db.RecordAction(ctx, a); err != nil || a.ID == 0 {
		t.Fatalf("record action: %v", err)
	}
	acts, err := db.Actions(ctx, 10)
	if err != nil || len(acts) != 1 || acts[0].Actor != "ops@host" || acts[0].Target != "<q2@x>" || !acts[0].At.Equal(at) {
		t.Errorf("actions: got %+v, %v", acts, err)
	}
}

func testOutboxOperations(t *testing.T, db *store.DB) {
	ctx := context.Background()
	tk := newTicket(t, ctx, db, 2026)
	mk := func(key string, st ticket.OutboxState) *ticket.Outgoing {
		m := &ticket.Outgoing{TicketID: tk.ID, DedupeKey: key, From: "mesa@x.co", To: []string{"ana@x.co"}, Subject: key,
			Raw: []byte("hola"), State: st, Attempts: 5, LastError: "550", NextAttemptAt: at, CreatedAt: at}
		if err := db.EnqueueMail(ctx, m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	held, failed, sent, pending := mk("h", ticket.OutboxHeld), mk("f", ticket.OutboxFailed), mk("s", ticket.OutboxSent), mk("p", ticket.OutboxPending)
	list, err := db.OutboxEntries(ctx, nil, 0)
	if err != nil || len(list) != 2 || list[0].ID != held.ID || list[1].ID != failed.ID || list[0].Ticket != tk.Number ||
		list[0].Size != 4 || list[1].LastError != "550" {
		t.Fatalf("held and failed: got %+v, %v", list, err)
	}
	now := at.Add(time.Hour)
	if before, err := db.RetryMail(ctx, held.ID, now); err != nil || before.State != ticket.OutboxHeld {
		t.Fatalf("retry held: got %+v, %v", before, err)
	}
	m, _ := db.MailByID(ctx, held.ID)
	if m.State != ticket.OutboxPending || m.Attempts != 0 || !m.NextAttemptAt.Equal(now) || m.LastError != "" {
		t.Errorf("after retry: got %+v", m)
	}
	if due, _ := db.DueMail(ctx, now, 10); len(due) != 2 {
		t.Errorf("the released mail is due: got %d due rows, want 2", len(due))
	}
	if _, err := db.RetryMail(ctx, sent.ID, now); !errors.Is(err, store.ErrNotStuck) {
		t.Errorf("retry sent: got %v, want ErrNotStuck", err)
	}
	if _, err := db.DiscardMail(ctx, failed.ID, now); err != nil {
		t.Fatal(err)
	}
	if _, err := db.DiscardMail(ctx, pending.ID, now); err != nil {
		t.Fatal(err)
	}
	if _, err := db.DiscardMail(ctx, failed.ID, now); !errors.Is(err, store.ErrNotStuck) {
		t.Errorf("discard twice: got %v, want ErrNotStuck", err)
	}
	if due, _ := db.DueMail(ctx, now, 10); len(due) != 1 || due[0].ID != held.ID {
		t.Errorf("discarded mail is not due: got %d rows", len(due))
	}
	if _, err := db.RetryMail(ctx, 99999, now); !errors.Is(err, ticket.ErrNotFound) {
		t.Errorf("retry unknown: got %v, want ErrNotFound", err)
	}
	if d, _ := db.OutboxEntries(ctx, []ticket.OutboxState{ticket.OutboxDiscarded}, 0); len(d) != 2 {
		t.Errorf("discarded rows: got %d, want 2", len(d))
	}
}

func testUndeliverable(t *testing.T, db *store.DB) {
	ctx := context.Background()
	db.MarkUndeliverable(ctx, "Gone@X.co", "5.1.1 user unknown", at)
	db.EnqueueMail(ctx, &ticket.Outgoing{DedupeKey: "k", From: "m@x.co", To: []string{"gone@x.co"}, Raw: []byte("x"),
		State: ticket.OutboxHeld, NextAttemptAt: at, CreatedAt: at})
	list, err := db.UndeliverableAddresses(ctx)
	if err != nil || len(list) != 1 || list[0].Email != "gone@x.co" || list[0].Held != 1 || !list[0].Since.Equal(at) {
		t.Fatalf("undeliverable: got %+v, %v", list, err)
	}
	if reason, bad, err := db.IsUndeliverable(ctx, "GONE@x.co"); err != nil || !bad || reason != "5.1.1 user unknown" {
		t.Errorf("IsUndeliverable: got %q %v %v", reason, bad, err)
	}
	if err := db.ClearUndeliverable(ctx, " GONE@x.co "); err != nil {
		t.Fatal(err)
	}
	if err := db.ClearUndeliverable(ctx, "gone@x.co"); !errors.Is(err, ticket.ErrNotFound) {
		t.Errorf("clear twice: got %v, want ErrNotFound", err)
	}
	if bad, _, _, _ := db.MailPressure(ctx, "gone@x.co", at, 5, at, 5); bad {
		t.Error("a cleared address still counts as undeliverable")
	}
}

func testRetentionPurge(t *testing.T, db *store.DB) {
	ctx := context.Background()
	closed, open := newTicket(t, ctx, db, 2026), newTicket(t, ctx, db, 2026)
	when := at.Add(-48 * time.Hour)
	closed.State, closed.ClosedAt, closed.Solution = ticket.Cerrado, &when, "listo"
	if err := db.UpdateTicket(ctx, closed); err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("z"), 3<<20)
	for i, m := range []*ticket.RawMessage{
		{Key: "<c1@x>", Raw: []byte("uno"), ReceivedAt: at, TicketID: closed.ID, Disposition: "ticket"},
		{Key: "<c2@x>", Raw: big, ReceivedAt: at, TicketID: closed.ID, Disposition: "reply"},
		{Key: "<o1@x>", Raw: []byte("abierto"), ReceivedAt: at, TicketID: open.ID, Disposition: "ticket"},
	} {
		if err := db.StoreMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			db.AddAttachment(ctx, &ticket.Attachment{MessageID: m.ID, TicketID: closed.ID, Filename: "a.pdf", Size: 4,
				SHA256: "s", Data: []byte("%PDF")})
		}
	}
	if ids, err := db.ClosedForPurge(ctx, store.PurgeRawMail, at.Add(-72*time.Hour), 10); err != nil || len(ids) != 0 {
		t.Errorf("closed after the cut-off: got %v, %v; want none", ids, err)
	}
	ids, err := db.ClosedForPurge(ctx, store.PurgeRawMail, at, 10)
	if err != nil || len(ids) != 1 || ids[0] != closed.ID {
		t.Fatalf("closed before the cut-off: got %v, %v; want [%d]", ids, err, closed.ID)
	}
	rows, n, err := db.Purge(ctx, store.PurgeRawMail, closed.ID, at)
	if err != nil || rows != 2 || n != int64(3+len(big)) {
		t.Fatalf("purge raw: got %d rows %d bytes, %v; want 2 rows %d bytes", rows, n, err, 3+len(big))
	}
	if m, _ := db.MessageByKey(ctx, "<c2@x>"); m == nil || len(m.Raw) != 0 || m.Disposition != "reply" {
		t.Errorf("purged message: got %+v", m)
	}
	if m, _ := db.MessageByKey(ctx, "<o1@x>"); m == nil || string(m.Raw) != "abierto" {
		t.Error("the open ticket's mail was purged")
	}
	if ids, _ := db.ClosedForPurge(ctx, store.PurgeRawMail, at, 10); len(ids) != 0 {
		t.Errorf("purged twice: candidates %v", ids)
	}
	if rows, _, _ := db.Purge(ctx, store.PurgeRawMail, closed.ID, at); rows != 0 {
		t.Errorf("second purge: got %d rows, want 0", rows)
	}
	if rows, n, err := db.Purge(ctx, store.PurgeAttachments, closed.ID, at); err != nil || rows != 1 || n != 4 {
		t.Errorf("purge attachments: got %d %d %v", rows, n, err)
	}
	as, _ := db.Attachments(ctx, closed.ID)
	if len(as) != 1 || len(as[0].Data) != 0 || as[0].SHA256 != "s" || as[0].Size != 4 {
		t.Errorf("purged attachment keeps its metadata only: got %+v", as)
	}
	info, _ := db.MessageInfoByID(ctx, ids0(db, ctx, "<c1@x>"))
	if !info.Purged {
		t.Errorf("message info does not say purged: %+v", info)
	}
}

func ids0(db *store.DB, ctx context.Context, key string) int64 {
	m, err := db.MessageByKey(ctx, key)
	if err != nil {
		return 0
	}
	return m.ID
}

func testPersonExport(t *testing.T, db *store.DB) {
	ctx := context.Background()
	mine, other, part := newTicket(t, ctx, db, 2026), newTicket(t, ctx, db, 2026), newTicket(t, ctx, db, 2026)
	other.Requester = "otro@x.co"
	part.Requester = "otro@x.co"
	db.UpdateTicket(ctx, other)
	db.UpdateTicket(ctx, part)
	db.AddParticipants(ctx, part.ID, "ANA@entidad.gov.co")
	got, err := db.TicketsOfPerson(ctx, "Ana@Entidad.gov.co")
	if err != nil || len(got) != 2 || got[0].ID != mine.ID || got[1].ID != part.ID {
		t.Fatalf("tickets of ana: got %d, %v; want %d and %d", len(got), err, mine.ID, part.ID)
	}
	db.StoreMessage(ctx, &ticket.RawMessage{Key: "<m@x>", Raw: []byte("m"), ReceivedAt: at, TicketID: mine.ID, From: "ana@entidad.gov.co"})
	db.StoreMessage(ctx, &ticket.RawMessage{Key: "<a@x>", Raw: []byte("auto"), ReceivedAt: at, From: "Ana@entidad.gov.co", Disposition: "autoreply"})
	db.StoreMessage(ctx, &ticket.RawMessage{Key: "<b@x>", Raw: []byte("b"), ReceivedAt: at, From: "otro@x.co"})
	if ms, err := db.MessagesOfTicket(ctx, mine.ID); err != nil || len(ms) != 1 || string(ms[0].Raw) != "m" {
		t.Errorf("messages of ticket: got %d, %v", len(ms), err)
	}
	if ms, err := db.MessagesFromWithoutTicket(ctx, "ana@entidad.gov.co"); err != nil || len(ms) != 1 || string(ms[0].Raw) != "auto" {
		t.Errorf("messages without ticket: got %d, %v", len(ms), err)
	}
	for i, to := range [][]string{{"ana@entidad.gov.co"}, {"jefe@x.co", "ANA@entidad.gov.co"}, {"xana@entidad.gov.co"}, {"ana_x@entidad.gov.co"}} {
		db.EnqueueMail(ctx, &ticket.Outgoing{DedupeKey: string(rune('a' + i)), From: "m@x.co", To: to, Raw: []byte("x"),
			NextAttemptAt: at, CreatedAt: at})
	}
	if ms, err := db.MailTo(ctx, "ana@entidad.gov.co"); err != nil || len(ms) != 2 {
		t.Errorf("mail to ana: got %d, %v; want 2", len(ms), err)
	}
}

func testDryRunCounts(t *testing.T, db *store.DB) {
	ctx := context.Background()
	pending, err := db.PendingMigrations(ctx)
	if err != nil || len(pending) != store.LatestVersion() {
		t.Fatalf("empty database: got %v, %v; want %d pending", pending, err, store.LatestVersion())
	}
	// The dry run changed nothing: not even schema_migrations exists.
	if tables, _ := db.Tables(ctx); len(tables) != 0 {
		t.Errorf("dry run created tables: %v", tables)
	}
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if pending, err := db.PendingMigrations(ctx); err != nil || len(pending) != 0 {
		t.Errorf("migrated: got %v, %v; want none pending", pending, err)
	}
	newTicket(t, ctx, db, 2026)
	counts, err := db.RowCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if counts["tickets"] != 1 || counts["schema_migrations"] != int64(store.LatestVersion()) || counts["events"] != 0 {
		t.Errorf("row counts: got %v", counts)
	}
	if v, err := db.AppliedVersion(ctx); err != nil || v != store.LatestVersion() {
		t.Errorf("applied version: got %d, %v", v, err)
	}
}
