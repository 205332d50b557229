// Package storetest is the conformance suite of package store: the same tests
// run against every dialect, so PostgreSQL and SQLite behave alike.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/store"
	"github.com/mesadeservicios/mesa/ticket"
)

// Opener returns a new, empty, unmigrated store for one test.
type Opener func(t *testing.T) *store.DB

// Run runs the suite. Each subtest gets its own database.
func Run(t *testing.T, open Opener) {
	migrated := func(t *testing.T) *store.DB {
		t.Helper()
		db := open(t)
		if _, err := db.Migrate(context.Background()); err != nil {
			t.Fatalf("migrate: %v", err)
		}
		return db
	}
	t.Run("MigrateTwice", func(t *testing.T) { testMigrateTwice(t, open(t)) })
	t.Run("ConcurrentNumbers", func(t *testing.T) { testConcurrentNumbers(t, migrated(t)) })
	t.Run("MessageDedupe", func(t *testing.T) { testMessageDedupe(t, migrated(t)) })
	t.Run("FailedTxLeavesNothing", func(t *testing.T) { testFailedTx(t, migrated(t)) })
	t.Run("TicketRoundTrip", func(t *testing.T) { testTicketRoundTrip(t, migrated(t)) })
	t.Run("TextSanitised", func(t *testing.T) { testTextSanitised(t, migrated(t)) })
	t.Run("EventsAndMessagesRoundTrip", func(t *testing.T) { testEventsMessages(t, migrated(t)) })
	t.Run("Outbox", func(t *testing.T) { testOutbox(t, migrated(t)) })
	t.Run("Cursor", func(t *testing.T) { testCursor(t, migrated(t)) })
	t.Run("PeopleAndGroups", func(t *testing.T) { testPeople(t, migrated(t)) })
	t.Run("SurveysAndJobRuns", func(t *testing.T) { testSurveysJobs(t, migrated(t)) })
	t.Run("NotFound", func(t *testing.T) { testNotFound(t, migrated(t)) })
	t.Run("SLAPendingAndManagers", func(t *testing.T) { testSLAPending(t, migrated(t)) })
	t.Run("DigestQueries", func(t *testing.T) { testDigestQueries(t, migrated(t)) })
	t.Run("ReportTickets", func(t *testing.T) { testReportTickets(t, migrated(t)) })
	t.Run("IntakeBookkeeping", func(t *testing.T) { testIntakeBookkeeping(t, migrated(t)) })
	t.Run("ManyParticipants", func(t *testing.T) { testManyParticipants(t, migrated(t)) })
	t.Run("Learning", func(t *testing.T) { testLearning(t, migrated(t)) })
	runOperations(t, open, migrated) // operations.go
	t.Run("GraphDeltaLinks", func(t *testing.T) { testDeltaLinks(t, migrated(t)) })
	t.Run("CopiesFilesAndKeys", func(t *testing.T) { testCopiesFilesKeys(t, migrated(t)) })
	t.Run("FirstMessages", func(t *testing.T) { testFirstMessages(t, migrated(t)) })
}

// testFirstMessages: the duplicate and repeated-request checks read the
// body of a ticket's first event when it is its creation, and only that,
// however many comments follow (with the same text or not).
func testFirstMessages(t *testing.T, db *store.DB) {
	ctx := context.Background()
	withHistory, noCreated, bare := newTicket(t, ctx, db, 2031), newTicket(t, ctx, db, 2031), newTicket(t, ctx, db, 2031)
	add := func(tk *ticket.Ticket, kind ticket.EventKind, body string) {
		t.Helper()
		if err := db.AddEvent(ctx, &ticket.Event{TicketID: tk.ID, Kind: kind, Actor: "ana@entidad.gov.co", At: at, Body: body}); err != nil {
			t.Fatal(err)
		}
	}
	add(withHistory, ticket.EventCreated, "la impresora no imprime")
	for i := 0; i < 30; i++ {
		add(withHistory, ticket.EventComment, fmt.Sprintf("sigue sin imprimir %d", i))
	}
	add(withHistory, ticket.EventComment, "texto repetido")
	add(noCreated, ticket.EventComment, "texto repetido") // its first event is no creation
	got, err := db.FirstMessages(ctx, []int64{withHistory.ID, noCreated.ID, bare.ID, 999999})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[withHistory.ID] != "la impresora no imprime" {
		t.Errorf("FirstMessages: got %v, want only ticket %d with its first message", got, withHistory.ID)
	}
	if got, err := db.FirstMessages(ctx, nil); err != nil || len(got) != 0 {
		t.Errorf("FirstMessages(nil): got %v %v, want an empty map", got, err)
	}
	for _, c := range []struct {
		body string
		want bool
	}{{"la impresora no imprime", true}, {"texto repetido", false}, {"sigue sin imprimir 3", false}} {
		got, err := db.RepeatedRequest(ctx, "ana@entidad.gov.co", c.body, at.Add(-time.Hour))
		if err != nil || got != c.want {
			t.Errorf("RepeatedRequest(%q): got %v %v, want %v", c.body, got, err, c.want)
		}
	}
	if got, _ := db.RepeatedRequest(ctx, "ana@entidad.gov.co", "la impresora no imprime", at.Add(time.Hour)); got {
		t.Errorf("RepeatedRequest after the ticket was created: got true, want false")
	}
	// The recent open tickets and their first messages in one query: the
	// same as RecentOpenTicketsOf and FirstMessages, in one round trip.
	if err := db.AddParticipants(ctx, bare.ID, "ana@entidad.gov.co"); err != nil {
		t.Fatal(err)
	}
	st0, _ := db.RoundTrips()
	ts, firsts, member, err := db.RecentOpenTicketsWithFirst(ctx, "ANA@entidad.gov.co", at.Add(-time.Hour))
	if st1, _ := db.RoundTrips(); err != nil || st1-st0 != 1 {
		t.Fatalf("RecentOpenTicketsWithFirst: %v, %d statements, want 1", err, st1-st0)
	}
	want, _ := db.RecentOpenTicketsOf(ctx, "ana@entidad.gov.co", at.Add(-time.Hour))
	if len(ts) != 3 || len(want) != 3 {
		t.Fatalf("RecentOpenTicketsWithFirst: got %d tickets, want the 3 of RecentOpenTicketsOf (%d)", len(ts), len(want))
	}
	for i := range ts {
		if !reflect.DeepEqual(ts[i], want[i]) {
			t.Errorf("ticket %d: got %+v, want %+v", i, *ts[i], *want[i])
		}
	}
	if len(firsts) != 1 || firsts[withHistory.ID] != "la impresora no imprime" {
		t.Errorf("RecentOpenTicketsWithFirst's first messages: got %v, want only ticket %d with its first message", firsts, withHistory.ID)
	}
	if len(member) != 1 || !member[bare.ID] {
		t.Errorf("RecentOpenTicketsWithFirst's tickets the requester takes part in: got %v, want only %d", member, bare.ID)
	}
	if ts, firsts, _, err := db.RecentOpenTicketsWithFirst(ctx, "ana@entidad.gov.co", at.Add(time.Hour)); err != nil || len(ts) != 0 || len(firsts) != 0 {
		t.Errorf("RecentOpenTicketsWithFirst after the tickets: got %d, %v, %v, want none", len(ts), firsts, err)
	}
	// The mass-incident check's count, bounded, and the last alert.
	n, last, err := db.MassPressure(ctx, ticket.Unclassified, at.Add(-time.Hour), 2)
	if err != nil || n != 2 || !last.IsZero() {
		t.Errorf("MassPressure up to 2: got %d %v %v, want 2 and no alert", n, last, err)
	}
	if err := db.SetMassAlert(ctx, ticket.Unclassified, at); err != nil {
		t.Fatal(err)
	}
	n, last, err = db.MassPressure(ctx, ticket.Unclassified, at.Add(-time.Hour), 10)
	if err != nil || n != 3 || !last.Equal(at) {
		t.Errorf("MassPressure up to 10: got %d %v %v, want 3 and the alert at %v", n, last, err, at)
	}
	if n, _, err := db.MassPressure(ctx, "ti.vpn", at.Add(-time.Hour), 10); err != nil || n != 0 {
		t.Errorf("MassPressure of another category: got %d %v, want 0", n, err)
	}
}

// testCopiesFilesKeys: participants in copy are set and taken off, a file
// is read back by its ID with the raw bytes of its message, and the link
// key is made once and the same on every later call.
func testCopiesFilesKeys(t *testing.T, db *store.DB) {
	ctx := context.Background()
	tk := newTicket(t, ctx, db, 2026)
	if err := db.AddParticipants(ctx, tk.ID, "ana@x.co", "beto@x.co"); err != nil {
		t.Fatal(err)
	}
	if err := db.SetCopy(ctx, tk.ID, "Beto@X.co", true); err != nil {
		t.Fatal(err)
	}
	if err := db.SetCopy(ctx, tk.ID, "carla@x.co", true); err != nil {
		t.Fatal(err)
	}
	if err := db.SetCopy(ctx, tk.ID, "carla@x.co", false); err != nil {
		t.Fatal(err)
	}
	ps, err := db.Participants(ctx, tk.ID)
	want := []ticket.Participant{{Email: "ana@x.co"}, {Email: "beto@x.co", Copy: true}, {Email: "carla@x.co"}}
	if err != nil || fmt.Sprint(ps) != fmt.Sprint(want) {
		t.Errorf("participants: got %v, %v; want %v", ps, err, want)
	}
	big := bytes.Repeat([]byte("x"), 3<<20)
	m := &ticket.RawMessage{Key: "<files@x>", Raw: big, ReceivedAt: at}
	if err := db.StoreMessage(ctx, m); err != nil {
		t.Fatal(err)
	}
	a := &ticket.Attachment{MessageID: m.ID, TicketID: tk.ID, Filename: "a.pdf", ContentType: "application/pdf", Size: 3, SHA256: "ab", Data: []byte("pdf")}
	if err := db.AddAttachment(ctx, a); err != nil {
		t.Fatal(err)
	}
	got, err := db.Attachment(ctx, a.ID)
	if err != nil || got.Filename != "a.pdf" || string(got.Data) != "pdf" || got.TicketID != tk.ID {
		t.Errorf("attachment: got %+v, %v", got, err)
	}
	if _, err := db.Attachment(ctx, a.ID+100); !errors.Is(err, ticket.ErrNotFound) {
		t.Errorf("missing attachment: got %v, want ErrNotFound", err)
	}
	if raw, err := db.MessageRaw(ctx, m.ID); err != nil || !bytes.Equal(raw, big) {
		t.Errorf("raw message by id: %d bytes, %v", len(raw), err)
	}
	k1, err := db.LinkKey(ctx, "links")
	if err != nil || len(k1) != 32 {
		t.Fatalf("link key: %d bytes, %v", len(k1), err)
	}
	k2, _ := db.LinkKey(ctx, "links")
	k3, _ := db.LinkKey(ctx, "other")
	if !bytes.Equal(k1, k2) || bytes.Equal(k1, k3) {
		t.Errorf("link keys: the same name must give the same key, another name another")
	}
}

// at is a fixed instant with microsecond precision, the finest PostgreSQL keeps.
var at = time.Date(2026, 3, 20, 21, 0, 0, 123456000, time.UTC)

func newTicket(t *testing.T, ctx context.Context, db *store.DB, year int) *ticket.Ticket {
	t.Helper()
	var tk *ticket.Ticket
	err := db.InTx(ctx, func(ctx context.Context) error {
		seq, err := db.NextTicketSeq(ctx, year)
		if err != nil {
			return err
		}
		tk = &ticket.Ticket{
			Number: ticket.Number{Prefix: "MS", Year: year, Seq: seq}.String(), Year: year, Seq: seq,
			Subject: "No funciona la impresora", Requester: "ana@entidad.gov.co", State: ticket.Abierto,
			Type: ticket.Incidente, Criticality: ticket.Media, Category: ticket.Unclassified,
			AccessKeyHash: ticket.HashAccessKey(fmt.Sprintf("k%d", seq)), CreatedAt: at, UpdatedAt: at,
		}
		return db.CreateTicket(ctx, tk)
	})
	if err != nil {
		t.Fatalf("creating ticket: %v", err)
	}
	return tk
}

func testMigrateTwice(t *testing.T, db *store.DB) {
	ctx := context.Background()
	if err := db.CheckSchema(ctx); !errors.Is(err, store.ErrSchemaOutdated) {
		t.Fatalf("empty database: got %v, want ErrSchemaOutdated", err)
	}
	n, err := db.Migrate(ctx)
	if err != nil || n != store.LatestVersion() || n == 0 {
		t.Fatalf("first migrate: got %d, %v; want %d applied", n, err, store.LatestVersion())
	}
	n, err = db.Migrate(ctx)
	if err != nil || n != 0 {
		t.Fatalf("second migrate: got %d, %v; want 0 applied", n, err)
	}
	if err := db.CheckSchema(ctx); err != nil {
		t.Fatalf("after migrate: %v", err)
	}
	if v, err := db.SchemaVersion(ctx); err != nil || v != store.LatestVersion() {
		t.Fatalf("version: got %d, %v", v, err)
	}
}

func testConcurrentNumbers(t *testing.T, db *store.DB) {
	ctx := context.Background()
	const workers, each = 8, 200
	var mu sync.Mutex
	seen := map[string]bool{}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				var num string
				err := db.InTx(ctx, func(ctx context.Context) error {
					seq, err := db.NextTicketSeq(ctx, 2026)
					if err != nil {
						return err
					}
					num = ticket.Number{Prefix: "MS", Year: 2026, Seq: seq}.String()
					return db.CreateTicket(ctx, &ticket.Ticket{Number: num, Year: 2026, Seq: seq,
						Subject: "x", Requester: "a@b.co", State: ticket.Abierto, Type: ticket.Incidente,
						Criticality: ticket.Media, Category: ticket.Unclassified, AccessKeyHash: num,
						CreatedAt: at, UpdatedAt: at})
				})
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				if seen[num] {
					errs <- fmt.Errorf("number %s allocated twice", num)
				}
				seen[num] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(seen) != workers*each {
		t.Fatalf("got %d distinct numbers, want %d", len(seen), workers*each)
	}
	if !seen["MS-2026-000001"] || !seen[fmt.Sprintf("MS-2026-%06d", workers*each)] {
		t.Errorf("numbers are not 1..%d without gaps", workers*each)
	}
	if seq, err := db.NextTicketSeq(ctx, 2027); err != nil || seq != 1 {
		t.Errorf("a new year starts at 1: got %d, %v", seq, err)
	}
}

func testMessageDedupe(t *testing.T, db *store.DB) {
	ctx := context.Background()
	first := &ticket.RawMessage{Key: "<abc@cliente.co>", MessageID: "abc@cliente.co", Mailbox: "INBOX",
		UIDValidity: 7, UID: 1, Raw: []byte("Subject: uno\r\n\r\nprimero\r\n"), ReceivedAt: at}
	if err := db.StoreMessage(ctx, first); err != nil || first.ID == 0 {
		t.Fatalf("first store: %v (id %d)", err, first.ID)
	}
	// Inside a transaction the duplicate must not abort it: the rest of the
	// transaction still commits.
	err := db.InTx(ctx, func(ctx context.Context) error {
		dup := &ticket.RawMessage{Key: "<abc@cliente.co>", Mailbox: "INBOX", UIDValidity: 8, UID: 5,
			Raw: []byte("otra cosa"), ReceivedAt: at.Add(time.Hour)}
		if err := db.StoreMessage(ctx, dup); !errors.Is(err, ticket.ErrAlreadyStored) {
			return fmt.Errorf("duplicate: got %v, want ErrAlreadyStored", err)
		}
		return db.StoreMessage(ctx, &ticket.RawMessage{Key: "sha256:00", Raw: []byte("x"), ReceivedAt: at})
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.MessageByKey(ctx, "<abc@cliente.co>")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Raw, first.Raw) || got.UID != 1 || got.UIDValidity != 7 {
		t.Errorf("duplicate changed the stored message: got uid %d/%d raw %q", got.UIDValidity, got.UID, got.Raw)
	}
	if _, err := db.MessageByKey(ctx, "sha256:00"); err != nil {
		t.Errorf("the transaction with the duplicate did not commit its other work: %v", err)
	}
}

func testFailedTx(t *testing.T, db *store.DB) {
	ctx := context.Background()
	boom := errors.New("boom")
	work := func(ctx context.Context) error {
		seq, err := db.NextTicketSeq(ctx, 2026)
		if err != nil {
			return err
		}
		tk := &ticket.Ticket{Number: "MS-2026-000001", Year: 2026, Seq: seq, Subject: "x", Requester: "a@b.co",
			State: ticket.Abierto, Type: ticket.Incidente, Criticality: ticket.Media, Category: "ti.vpn",
			AccessKeyHash: "k", CreatedAt: at, UpdatedAt: at}
		if err := db.CreateTicket(ctx, tk); err != nil {
			return err
		}
		if err := db.AddEvent(ctx, &ticket.Event{TicketID: tk.ID, Kind: ticket.EventCreated, Actor: "a@b.co", At: at}); err != nil {
			return err
		}
		if err := db.StoreMessage(ctx, &ticket.RawMessage{Key: "m1", Raw: []byte("x"), ReceivedAt: at, TicketID: tk.ID}); err != nil {
			return err
		}
		if err := db.EnqueueMail(ctx, &ticket.Outgoing{TicketID: tk.ID, DedupeKey: "ack-1", From: "mesa@x.co",
			To: []string{"a@b.co"}, Raw: []byte("x"), NextAttemptAt: at, CreatedAt: at}); err != nil {
			return err
		}
		if err := db.SaveCursor(ctx, ticket.Cursor{Mailbox: "INBOX", UIDValidity: 1, LastUID: 9, UpdatedAt: at}); err != nil {
			return err
		}
		return boom
	}
	if err := db.InTx(ctx, work); !errors.Is(err, boom) {
		t.Fatalf("got %v, want boom", err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("panic inside InTx was swallowed")
			}
		}()
		db.InTx(ctx, func(ctx context.Context) error {
			if err := work(ctx); err != boom {
				t.Errorf("work before panic: %v", err)
			}
			panic("handler bug")
		})
	}()
	if _, err := db.TicketByNumber(ctx, "MS-2026-000001"); !errors.Is(err, ticket.ErrNotFound) {
		t.Errorf("ticket: got %v, want ErrNotFound", err)
	}
	if _, err := db.MessageByKey(ctx, "m1"); !errors.Is(err, ticket.ErrNotFound) {
		t.Errorf("message: got %v, want ErrNotFound", err)
	}
	if _, err := db.MailByDedupeKey(ctx, "ack-1"); !errors.Is(err, ticket.ErrNotFound) {
		t.Errorf("outbox: got %v, want ErrNotFound", err)
	}
	if c, err := db.Cursor(ctx, "INBOX", 1); err != nil || c.LastUID != 0 {
		t.Errorf("cursor: got %d, %v; want 0", c.LastUID, err)
	}
	if seq, err := db.NextTicketSeq(ctx, 2026); err != nil || seq != 1 {
		t.Errorf("sequence after rollback: got %d, %v; want 1", seq, err)
	}
}

func testTicketRoundTrip(t *testing.T, db *store.DB) {
	ctx := context.Background()
	due, paused, closed := at.Add(26*time.Hour), at.Add(time.Hour), at.Add(48*time.Hour)
	in := &ticket.Ticket{
		Number: "MS-2026-000042", Year: 2026, Seq: 42,
		Subject:       "Goteras 🌧️ en la sede Chapinero — 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ñandú",
		Requester:     "josé.pérez@entidad.gov.co",
		RequesterName: "José Pérez 👷",
		State:         ticket.Retenido, Type: ticket.Requerimiento, Criticality: ticket.Alta,
		Category: "adm.inmuebles.cubierta", Group: "operaciones", Assignee: "carlos@entidad.gov.co",
		AccessKeyHash: ticket.HashAccessKey("Zk3-9x"), Solution: "Se cambió la teja 🧰", OriginMessageID: "CAF=xyz@mail.gmail.com",
		CreatedAt: at, UpdatedAt: at.Add(time.Minute), DueAt: &due, PausedAt: &paused, ClosedAt: &closed, FirstResponseAt: &paused,
	}
	if err := db.CreateTicket(ctx, in); err != nil {
		t.Fatal(err)
	}
	for _, get := range []func() (*ticket.Ticket, error){
		func() (*ticket.Ticket, error) { return db.TicketByID(ctx, in.ID) },
		func() (*ticket.Ticket, error) { return db.TicketByNumber(ctx, in.Number) },
	} {
		got, err := get()
		if err != nil {
			t.Fatal(err)
		}
		if !equalTicket(got, in) {
			t.Errorf("round trip:\n got %+v\nwant %+v", got, in)
		}
	}
	in.State, in.PausedAt, in.DueAt = ticket.EnProceso, nil, nil
	in.Assignee = ""
	if err := db.UpdateTicket(ctx, in); err != nil {
		t.Fatal(err)
	}
	got, err := db.TicketByID(ctx, in.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !equalTicket(got, in) {
		t.Errorf("after update:\n got %+v\nwant %+v", got, in)
	}
	list, err := db.ListTickets(ctx, store.TicketFilter{States: []ticket.State{ticket.EnProceso, ticket.Abierto}})
	if err != nil || len(list) != 1 || list[0].ID != in.ID {
		t.Errorf("list en_proceso: got %d tickets, %v", len(list), err)
	}
	list, err = db.ListTickets(ctx, store.TicketFilter{States: []ticket.State{ticket.Cerrado}})
	if err != nil || len(list) != 0 {
		t.Errorf("list cerrado: got %d tickets, %v", len(list), err)
	}
	dup := *in
	dup.ID = 0
	if err := db.CreateTicket(ctx, &dup); !errors.Is(err, store.ErrConflict) {
		t.Errorf("same number twice: got %v, want ErrConflict", err)
	}
	bad := *in
	bad.State = "resuelto"
	if err := db.CreateTicket(ctx, &bad); !errors.Is(err, ticket.ErrInvalid) {
		t.Errorf("invalid state: got %v, want ErrInvalid", err)
	}
}

func equalTicket(a, b *ticket.Ticket) bool {
	eqp := func(x, y *time.Time) bool { return (x == nil) == (y == nil) && (x == nil || x.Equal(*y)) }
	return a.ID == b.ID && a.Number == b.Number && a.Year == b.Year && a.Seq == b.Seq &&
		a.Subject == b.Subject && a.Requester == b.Requester && a.RequesterName == b.RequesterName &&
		a.State == b.State && a.Type == b.Type && a.Criticality == b.Criticality &&
		a.Category == b.Category && a.Group == b.Group && a.Assignee == b.Assignee &&
		a.AccessKeyHash == b.AccessKeyHash && a.Solution == b.Solution && a.CreatedAt.Equal(b.CreatedAt) &&
		a.OriginMessageID == b.OriginMessageID &&
		a.UpdatedAt.Equal(b.UpdatedAt) && eqp(a.DueAt, b.DueAt) && eqp(a.PausedAt, b.PausedAt) &&
		eqp(a.ClosedAt, b.ClosedAt) && eqp(a.FirstResponseAt, b.FirstResponseAt) && a.CreatedAt.Location() == time.UTC
}

func testTextSanitised(t *testing.T, db *store.DB) {
	ctx := context.Background()
	tk := newTicket(t, ctx, db, 2026)
	tk.Subject = "Petici\xf3n con\x00 NUL y 😀"
	if err := db.UpdateTicket(ctx, tk); err != nil {
		t.Fatalf("invalid UTF-8 and NUL must be stored, not rejected: %v", err)
	}
	got, err := db.TicketByID(ctx, tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := "Petici\uFFFDn con NUL y 😀"; got.Subject != want {
		t.Errorf("got %q, want %q", got.Subject, want)
	}
}

func testEventsMessages(t *testing.T, db *store.DB) {
	ctx := context.Background()
	tk := newTicket(t, ctx, db, 2026)
	events := []ticket.Event{
		{TicketID: tk.ID, Kind: ticket.EventCreated, Actor: "ana@entidad.gov.co", At: at, Data: `{"rules":["vpn"]}`},
		{TicketID: tk.ID, Kind: ticket.EventStateChanged, Actor: "carlos@entidad.gov.co", At: at.Add(time.Second),
			From: "abierto", To: "en_proceso", Body: "Tomo el caso 👍"},
	}
	for i := range events {
		if err := db.AddEvent(ctx, &events[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.AddEvent(ctx, &ticket.Event{TicketID: tk.ID, Kind: "borrado", At: at}); !errors.Is(err, ticket.ErrInvalid) {
		t.Errorf("unknown kind: got %v, want ErrInvalid", err)
	}
	got, err := db.Events(ctx, tk.ID)
	if err != nil || len(got) != 2 {
		t.Fatalf("events: got %d, %v", len(got), err)
	}
	for i := range got {
		if got[i] != events[i] && !(got[i].At.Equal(events[i].At) && eventsEqualButTime(got[i], events[i])) {
			t.Errorf("event %d: got %+v, want %+v", i, got[i], events[i])
		}
	}
	// Raw bytes are kept verbatim: CRLF, 8-bit, NUL and invalid UTF-8 included.
	raw := []byte("Subject: =?iso-8859-1?q?Petici=F3n?=\r\nX: \xf3\x00\r\n\r\ncuerpo \xff\xfe\r\n")
	m := &ticket.RawMessage{Key: "<k@x>", MessageID: "k@x", Mailbox: "INBOX", UIDValidity: 4294967295,
		UID: 4294967294, From: "ana@entidad.gov.co", Subject: "Petición", Raw: raw, ReceivedAt: at,
		TicketID: tk.ID, Disposition: "ticket"}
	if err := db.StoreMessage(ctx, m); err != nil {
		t.Fatal(err)
	}
	gm, err := db.MessageByKey(ctx, "<k@x>")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(gm.Raw, raw) || gm.UIDValidity != m.UIDValidity || gm.UID != m.UID || gm.TicketID != tk.ID ||
		gm.Subject != m.Subject || gm.From != m.From || !gm.ReceivedAt.Equal(at) || gm.Disposition != "ticket" {
		t.Errorf("message round trip: got %+v", gm)
	}
	// A large message is stored in chunks and comes back byte for byte.
	big := bytes.Repeat([]byte("0123456789abcdef\r\n\x00\xff"), 150000) // 3.3 MB
	bm := &ticket.RawMessage{Key: "<big@x>", Raw: big, ReceivedAt: at}
	if err := db.StoreMessage(ctx, bm); err != nil {
		t.Fatal(err)
	}
	if err := db.StoreMessage(ctx, &ticket.RawMessage{Key: "<big@x>", Raw: big, ReceivedAt: at}); !errors.Is(err, ticket.ErrAlreadyStored) {
		t.Errorf("large duplicate: got %v", err)
	}
	if got, err := db.MessageByKey(ctx, "<big@x>"); err != nil || !bytes.Equal(got.Raw, big) {
		t.Errorf("large message round trip: %d bytes, %v", len(got.Raw), err)
	}
	if err := db.SetMessageOutcome(ctx, m.ID, tk.ID, "reply", "by header"); err != nil {
		t.Fatal(err)
	}
	if back, _ := db.MessageByKey(ctx, "<k@x>"); back == nil || back.Disposition != "reply" || back.Reason != "by header" {
		t.Errorf("outcome: got %+v", back)
	}
	if id, err := db.TicketIDByMessageID(ctx, "k@x"); err != nil || id != tk.ID {
		t.Errorf("thread lookup: got %d, %v; want %d", id, err, tk.ID)
	}
	a := &ticket.Attachment{MessageID: m.ID, TicketID: tk.ID, Filename: "F-DE-10 diligenciado ñ.pdf",
		ContentType: "application/pdf", Size: 4, SHA256: "abcd", Data: []byte{0, 1, 2, 255}}
	if err := db.AddAttachment(ctx, a); err != nil {
		t.Fatal(err)
	}
	as, err := db.Attachments(ctx, tk.ID)
	if err != nil || len(as) != 1 || !bytes.Equal(as[0].Data, a.Data) || as[0].Filename != a.Filename || as[0].Size != 4 {
		t.Errorf("attachments: got %+v, %v", as, err)
	}
}

func eventsEqualButTime(a, b ticket.Event) bool {
	a.At, b.At = time.Time{}, time.Time{}
	return a == b
}

func testOutbox(t *testing.T, db *store.DB) {
	ctx := context.Background()
	tk := newTicket(t, ctx, db, 2026)
	mk := func(key string, next time.Time) *ticket.Outgoing {
		return &ticket.Outgoing{TicketID: tk.ID, DedupeKey: key, From: "mesa@entidad.gov.co",
			To: []string{"ana@entidad.gov.co", "jefe@entidad.gov.co"}, Subject: "[MS-2026-000001] Recibido ✅",
			MessageID: key + "@mesa", Raw: []byte("From: mesa\r\n\r\nhola\r\n"), NextAttemptAt: next, CreatedAt: at}
	}
	a, b, c := mk("ack:1", at), mk("ack:2", at.Add(time.Hour)), mk("ack:3", at.Add(-time.Minute))
	for _, m := range []*ticket.Outgoing{a, b, c} {
		if err := db.EnqueueMail(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.EnqueueMail(ctx, mk("ack:1", at)); !errors.Is(err, ticket.ErrAlreadyStored) {
		t.Errorf("same dedupe key: got %v, want ErrAlreadyStored", err)
	}
	if err := db.EnqueueMail(ctx, &ticket.Outgoing{DedupeKey: "x"}); !errors.Is(err, ticket.ErrInvalid) {
		t.Errorf("no recipient: got %v, want ErrInvalid", err)
	}
	due, err := db.DueMail(ctx, at, 10)
	if err != nil || len(due) != 2 || due[0].ID != a.ID || due[1].ID != c.ID {
		t.Fatalf("due at %v: got %d rows, %v", at, len(due), err)
	}
	got := due[0]
	if got.State != ticket.OutboxPending || len(got.To) != 2 || got.To[1] != "jefe@entidad.gov.co" ||
		got.Subject != a.Subject || !bytes.Equal(got.Raw, a.Raw) || got.MessageID != "ack:1@mesa" || got.TicketID != tk.ID {
		t.Errorf("outbox round trip: got %+v", got)
	}
	if id, err := db.TicketIDByMessageID(ctx, "ack:1@mesa"); err != nil || id != tk.ID {
		t.Errorf("thread by our Message-ID: got %d, %v", id, err)
	}
	sent := at.Add(time.Second)
	got.State, got.Attempts, got.SentAt = ticket.OutboxSent, 1, &sent
	if err := db.UpdateMail(ctx, got); err != nil {
		t.Fatal(err)
	}
	c.Attempts, c.LastError, c.NextAttemptAt = 1, "451 4.3.0 try later", at.Add(10*time.Minute)
	if err := db.UpdateMail(ctx, c); err != nil {
		t.Fatal(err)
	}
	due, err = db.DueMail(ctx, at.Add(5*time.Minute), 10)
	if err != nil || len(due) != 0 {
		t.Errorf("nothing is due after sending and deferring: got %d, %v", len(due), err)
	}
	back, err := db.MailByDedupeKey(ctx, "ack:3")
	if err != nil || back.LastError != "451 4.3.0 try later" || back.Attempts != 1 {
		t.Errorf("retry bookkeeping: got %+v, %v", back, err)
	}
	back, err = db.MailByDedupeKey(ctx, "ack:1")
	if err != nil || back.State != ticket.OutboxSent || back.SentAt == nil || !back.SentAt.Equal(sent) {
		t.Errorf("sent bookkeeping: got %+v, %v", back, err)
	}
}

func testCursor(t *testing.T, db *store.DB) {
	ctx := context.Background()
	for _, uid := range []uint32{5, 9, 7} {
		if err := db.SaveCursor(ctx, ticket.Cursor{Mailbox: "INBOX", UIDValidity: 100, LastUID: uid, UpdatedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	c, err := db.Cursor(ctx, "INBOX", 100)
	if err != nil || c.LastUID != 9 {
		t.Errorf("cursor never moves back: got %d, %v; want 9", c.LastUID, err)
	}
	c, err = db.Cursor(ctx, "INBOX", 101)
	if err != nil || c.LastUID != 0 {
		t.Errorf("new UIDVALIDITY starts at 0: got %d, %v", c.LastUID, err)
	}
}

func testPeople(t *testing.T, db *store.DB) {
	ctx := context.Background()
	for _, g := range []ticket.Group{{Key: "soporte", Name: "Soporte TI"}, {Key: "redes", Name: "Redes", Email: "redes@x.co"}} {
		if err := db.SaveGroup(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	p := &ticket.Person{Email: "Carlos.Mejia@Entidad.gov.co", Name: "Carlos Mejía", Role: ticket.RoleTechnician,
		Level: 2, Groups: []string{"redes", "soporte"}, Active: true}
	if err := db.SavePerson(ctx, p); err != nil {
		t.Fatal(err)
	}
	got, err := db.PersonByEmail(ctx, "carlos.mejia@entidad.gov.co")
	if err != nil || got.Name != "Carlos Mejía" || got.Level != 2 || !got.Active || len(got.Groups) != 2 || got.Groups[0] != "redes" {
		t.Fatalf("person: got %+v, %v", got, err)
	}
	p.Groups, p.Active = []string{"soporte"}, false
	if err := db.SavePerson(ctx, p); err != nil {
		t.Fatal(err)
	}
	got, err = db.PersonByEmail(ctx, "CARLOS.MEJIA@entidad.gov.co")
	if err != nil || got.Active || len(got.Groups) != 1 || got.ID != p.ID {
		t.Errorf("person update: got %+v, %v", got, err)
	}
	if err := db.SavePerson(ctx, &ticket.Person{Email: "x@y.co", Role: ticket.RoleManager, Groups: []string{"nope"}}); err == nil {
		t.Error("unknown group: got nil error")
	}
	if _, err := db.PersonByEmail(ctx, "x@y.co"); !errors.Is(err, ticket.ErrNotFound) {
		t.Errorf("failed SavePerson left a row: %v", err)
	}
	gs, err := db.Groups(ctx)
	if err != nil || len(gs) != 2 || gs[0].Key != "redes" || gs[0].Email != "redes@x.co" {
		t.Errorf("groups: got %+v, %v", gs, err)
	}
}

func testSurveysJobs(t *testing.T, db *store.DB) {
	ctx := context.Background()
	tk := newTicket(t, ctx, db, 2026)
	// Closed tickets without a survey for their closure, oldest first.
	closedAt := at.Add(-time.Hour)
	tk.State, tk.ClosedAt, tk.Solution = ticket.Cerrado, &closedAt, "Listo"
	if err := db.UpdateTicket(ctx, tk); err != nil {
		t.Fatal(err)
	}
	if c, err := db.ClosedWithoutSurvey(ctx, at.Add(-24*time.Hour), at, 10); err != nil || len(c) != 1 || c[0].ID != tk.ID {
		t.Fatalf("closed without survey: %v %v", c, err)
	}
	if c, _ := db.ClosedWithoutSurvey(ctx, at.Add(-24*time.Hour), closedAt.Add(-time.Second), 10); len(c) != 0 {
		t.Errorf("closed after the cutoff listed: %v", c)
	}
	s := &ticket.Survey{TicketID: tk.ID, Token: "tok-ñ", SentAt: at, ClosedAt: closedAt, MessageID: "enc.1@x"}
	if err := db.CreateSurvey(ctx, s); err != nil {
		t.Fatal(err)
	}
	if c, _ := db.ClosedWithoutSurvey(ctx, at.Add(-24*time.Hour), at, 10); len(c) != 0 {
		t.Errorf("surveyed closure still listed: %v", c)
	}
	if err := db.CreateSurvey(ctx, &ticket.Survey{TicketID: tk.ID, Token: "other", SentAt: at, ClosedAt: closedAt}); !errors.Is(err, ticket.ErrAlreadyStored) {
		t.Errorf("second survey for one closure: got %v, want ErrAlreadyStored", err)
	}
	if got, err := db.SurveyByMessageID(ctx, tk.ID, []string{"<nope@x>", "<enc.1@x>"}); err != nil || got.ID != s.ID || got.Status != ticket.SurveySent {
		t.Errorf("by message id: %+v %v", got, err)
	}
	if got, err := db.SurveysSentBefore(ctx, at.Add(time.Second), 10); err != nil || len(got) != 1 || !got[0].ClosedAt.Equal(closedAt) {
		t.Errorf("sent before: %+v %v", got, err)
	}
	if got, err := db.LatestSurvey(ctx, tk.ID); err != nil || got.ID != s.ID {
		t.Errorf("latest: %+v %v", got, err)
	}
	opened, answered, solved := at.Add(time.Hour), at.Add(2*time.Hour), false
	s.OpenedAt, s.AnsweredAt, s.Rating, s.Solved, s.Comment = &opened, &answered, 2, &solved, "Sigue fallando 😞"
	s.Status = ticket.SurveyAnswered
	if err := db.UpdateSurvey(ctx, s); err != nil {
		t.Fatal(err)
	}
	got, err := db.SurveyByToken(ctx, "tok-ñ")
	if err != nil || got.Rating != 2 || got.Solved == nil || *got.Solved || got.Comment != s.Comment ||
		!got.OpenedAt.Equal(opened) || !got.AnsweredAt.Equal(answered) || !got.SentAt.Equal(at) || got.Status != ticket.SurveyAnswered {
		t.Errorf("survey: got %+v, %v", got, err)
	}
	if got, err := db.SurveysSentBefore(ctx, at.Add(time.Second), 10); err != nil || len(got) != 0 {
		t.Errorf("answered survey still pending: %+v %v", got, err)
	}
	if _, err := db.SurveyByMessageID(ctx, tk.ID, []string{"enc.1@x"}); !errors.Is(err, ticket.ErrNotFound) {
		t.Errorf("answered survey found by message id: %v", err)
	}
	id, err := db.StartJobRun(ctx, "digest", at, at)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.StartJobRun(ctx, "digest", at, at.Add(time.Second)); !errors.Is(err, ticket.ErrAlreadyStored) {
		t.Errorf("second claim of the same run: got %v, want ErrAlreadyStored", err)
	}
	if err := db.FinishJobRun(ctx, id, at.Add(time.Minute), `{"mails":2}`, errors.New("smtp caído")); err != nil {
		t.Fatal(err)
	}
	runs, err := db.JobRuns(ctx, "digest", 5)
	if err != nil || len(runs) != 1 || runs[0].Status != "failed" || runs[0].Error != "smtp caído" || runs[0].FinishedAt == nil ||
		runs[0].Detail != `{"mails":2}` {
		t.Errorf("job runs: got %+v, %v", runs, err)
	}
}

func testNotFound(t *testing.T, db *store.DB) {
	ctx := context.Background()
	for name, err := range map[string]error{
		"ticket by id":     second(db.TicketByID(ctx, 999)),
		"ticket by number": second(db.TicketByNumber(ctx, "MS-2026-999999")),
		"message":          second(db.MessageByKey(ctx, "nope")),
		"survey":           second(db.SurveyByToken(ctx, "nope")),
		"thread":           second(db.TicketIDByMessageID(ctx, "nope@x")),
		"update":           db.UpdateTicket(ctx, &ticket.Ticket{ID: 999, Number: "MS-2026-000999", State: ticket.Abierto, Type: ticket.Incidente, Criticality: ticket.Baja, Category: "x", Requester: "a@b.co"}),
	} {
		if !errors.Is(err, ticket.ErrNotFound) {
			t.Errorf("%s: got %v, want ErrNotFound", name, err)
		}
	}
}

func second[T any](_ T, err error) error { return err }

func testIntakeBookkeeping(t *testing.T, db *store.DB) {
	ctx := context.Background()
	tk := newTicket(t, ctx, db, 2026)
	if err := db.AddParticipants(ctx, tk.ID, "Ana@Entidad.gov.co", "ana@entidad.gov.co", "jefe@entidad.gov.co"); err != nil {
		t.Fatal(err)
	}
	if err := db.AddParticipants(ctx, tk.ID, "jefe@entidad.gov.co", ""); err != nil {
		t.Fatalf("adding an existing participant again: %v", err)
	}
	for email, want := range map[string]bool{"ANA@entidad.gov.co": true, "jefe@entidad.gov.co": true, "otro@x.co": false} {
		if got, err := db.IsParticipant(ctx, tk.ID, email); err != nil || got != want {
			t.Errorf("IsParticipant(%s): got %v %v, want %v", email, got, err, want)
		}
	}
	for i := 1; i <= 3; i++ {
		n, err := db.RecordFailure(ctx, "INBOX", 7, 42, fmt.Sprintf("fallo %d", i), at)
		if err != nil || n != i {
			t.Fatalf("attempt %d: got %d %v", i, n, err)
		}
	}
	if n, _ := db.RecordFailure(ctx, "INBOX", 8, 42, "otra uidvalidity", at); n != 1 {
		t.Errorf("failures are per UIDVALIDITY: got %d", n)
	}
	// Starts recorded before parsing: a start followed by neither an outcome
	// nor a failure is a death of the process on that message.
	for i, want := range []int{0, 1, 2, 3} {
		if died, err := db.BeginAttempt(ctx, "INBOX", 9, 7, at); err != nil || died != want {
			t.Fatalf("start %d: got %d %v, want %d", i+1, died, err, want)
		}
	}
	if died, _ := db.BeginAttempt(ctx, "INBOX", 9, 8, at); died != 0 {
		t.Errorf("starts are per UID: got %d", died)
	}
	if err := db.FinishAttempt(ctx, "INBOX", 9, 7); err != nil {
		t.Fatal(err)
	}
	if died, _ := db.BeginAttempt(ctx, "INBOX", 9, 7, at); died != 0 {
		t.Errorf("after FinishAttempt: got %d deaths, want 0", died)
	}
	// A start that ends in a recorded failure is not a death.
	db.RecordFailure(ctx, "INBOX", 9, 7, "fallo", at)
	if died, _ := db.BeginAttempt(ctx, "INBOX", 9, 7, at); died != 0 {
		t.Errorf("after a recorded failure: got %d deaths, want 0", died)
	}
	if n, _ := db.RecordFailure(ctx, "INBOX", 9, 7, "fallo", at); n != 2 {
		t.Errorf("failures after starts: got %d, want 2", n)
	}
	// Finishing a message and starting the next in one call: the one
	// finished is forgotten, the next counted as BeginAttempt counts it,
	// and nothing of it stays when its transaction rolls back.
	db.BeginAttempt(ctx, "INBOX", 9, 20, at)
	db.BeginAttempt(ctx, "INBOX", 9, 20, at)
	for i, want := range []int{0, 1} {
		if died, err := db.FinishAndBegin(ctx, "INBOX", 9, 20, 21, at); err != nil || died != want {
			t.Fatalf("FinishAndBegin %d: got %d %v, want %d", i+1, died, err, want)
		}
	}
	if died, _ := db.BeginAttempt(ctx, "INBOX", 9, 20, at); died != 0 {
		t.Errorf("the message finished by FinishAndBegin: got %d deaths, want 0", died)
	}
	rollback := errors.New("rolled back")
	if err := db.InTx(ctx, func(ctx context.Context) error {
		if died, err := db.FinishAndBegin(ctx, "INBOX", 9, 20, 22, at); err != nil || died != 0 {
			t.Errorf("FinishAndBegin in a transaction: got %d %v, want 0", died, err)
		}
		return rollback
	}); !errors.Is(err, rollback) {
		t.Fatal(err)
	}
	if died, _ := db.BeginAttempt(ctx, "INBOX", 9, 20, at); died != 1 {
		t.Errorf("FinishAndBegin rolled back, the message it finished: got %d deaths, want 1 (its start of just before stays)", died)
	}
	if died, _ := db.BeginAttempt(ctx, "INBOX", 9, 22, at); died != 0 {
		t.Errorf("FinishAndBegin rolled back, the next message: got %d deaths, want 0", died)
	}
	m := &ticket.Outgoing{TicketID: tk.ID, DedupeKey: "ack", From: "mesa@x.co", To: []string{"ana@entidad.gov.co"},
		MessageID: "ack.1@mesa", Raw: []byte("x"), NextAttemptAt: at, CreatedAt: at}
	if err := db.EnqueueMail(ctx, m); err != nil {
		t.Fatal(err)
	}
	if got, err := db.MailByMessageID(ctx, "ack.1@mesa"); err != nil || got.ID != m.ID {
		t.Errorf("MailByMessageID: got %+v %v", got, err)
	}
	if got, err := db.MailByID(ctx, m.ID); err != nil || got.MessageID != "ack.1@mesa" || got.AnswersAutomatic {
		t.Errorf("MailByID: got %+v %v", got, err)
	}
	if _, err := db.MailByID(ctx, m.ID+1000); !errors.Is(err, ticket.ErrNotFound) {
		t.Errorf("MailByID of no row: got %v, want ErrNotFound", err)
	}
	// Only mail that answered automatic-looking mail counts for the loop
	// throttle: two such rows and one ordinary one.
	for i, auto := range []bool{true, true, false} {
		m2 := *m
		m2.ID, m2.DedupeKey, m2.AnswersAutomatic = 0, fmt.Sprintf("ack%d", i+2), auto
		if err := db.EnqueueMail(ctx, &m2); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.MailByID(ctx, m2.ID); got == nil || got.AnswersAutomatic != auto {
			t.Errorf("row %d: AnswersAutomatic not kept as %v", m2.ID, auto)
		}
	}
	db.MarkUndeliverable(ctx, "gone@x.co", "5.1.1", at)
	db.MarkUndeliverable(ctx, "old@x.co", "5.1.1", at.Add(-31*24*time.Hour))
	for _, c := range []struct {
		addr            string
		bad             bool
		hour, day, hmax int
	}{{"ANA@entidad.gov.co", false, 2, 2, 5}, {"ana@entidad.gov.co", false, 1, 2, 1}, {"gone@x.co", true, 0, 0, 5},
		{"old@x.co", false, 0, 0, 5}} {
		bad, h, d, err := db.MailPressure(ctx, c.addr, at.Add(-30*24*time.Hour), at.Add(-time.Hour), c.hmax, at.Add(-24*time.Hour), 10)
		if err != nil || bad != c.bad || h != c.hour || d != c.day {
			t.Errorf("MailPressure(%s): got %v %d %d %v, want %v %d %d", c.addr, bad, h, d, err, c.bad, c.hour, c.day)
		}
	}
	if err := db.ClearUndeliverable(ctx, "GONE@x.co"); err != nil {
		t.Fatal(err)
	}
	if bad, _, _, _ := db.MailPressure(ctx, "gone@x.co", at.Add(-30*24*time.Hour), at, 1, at, 1); bad {
		t.Error("gone@x.co still undeliverable after ClearUndeliverable")
	}
}

// 20,000 Cc addresses (16,384 and more failed intake: one INSERT of two
// parameters per address passed SQLite's 32,766 limit) are stored in chunks,
// duplicates in any case once.
func testManyParticipants(t *testing.T, db *store.DB) {
	ctx := context.Background()
	tk := newTicket(t, ctx, db, 2026)
	var emails []string
	for i := 0; i < 20000; i++ {
		emails = append(emails, fmt.Sprintf("Persona%05d@Entidad.gov.co", i))
	}
	emails = append(emails, "persona00000@entidad.gov.co", "PERSONA19999@entidad.gov.co")
	start := time.Now()
	if err := db.InTx(ctx, func(ctx context.Context) error { return db.AddParticipants(ctx, tk.ID, emails...) }); err != nil {
		t.Fatalf("20,000 participants: %v", err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("20,000 participants took %v", d)
	}
	for _, e := range []string{"persona00000@entidad.gov.co", "persona10000@entidad.gov.co", "persona19999@entidad.gov.co"} {
		if ok, err := db.IsParticipant(ctx, tk.ID, e); err != nil || !ok {
			t.Errorf("IsParticipant(%s): got %v %v, want true", e, ok, err)
		}
	}
	if ok, _ := db.IsParticipant(ctx, tk.ID, "persona20000@entidad.gov.co"); ok {
		t.Error("an address never added is a participant")
	}
}

// TB is what the helpers need of a test or benchmark.
type TB interface {
	Helper()
	Fatal(args ...any)
	TempDir() string
	Cleanup(func())
}

// SQLite opens a migrated SQLite store in a temporary directory, closed
// when the test ends: the fast store of other packages' tests.
func SQLite(t TB) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite", filepath.Join(t.TempDir(), "mesa.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}

// testSLAPending: only tickets whose next alert is due, earliest first,
// bounded; and a group's active managers.
func testSLAPending(t *testing.T, db *store.DB) {
	ctx := context.Background()
	var ids []int64
	for i, off := range []time.Duration{3 * time.Hour, time.Hour, 2 * time.Hour, 5 * time.Hour, -1} {
		tk := newTicket(t, ctx, db, 2026)
		if off >= 0 {
			next := at.Add(off)
			tk.SLANextAt, tk.SLAStage = &next, i%2
			if err := db.UpdateTicket(ctx, tk); err != nil {
				t.Fatal(err)
			}
		}
		ids = append(ids, tk.ID)
	}
	got, err := db.SLAPending(ctx, at.Add(3*time.Hour), 10)
	if err != nil || len(got) != 3 || got[0].ID != ids[1] || got[1].ID != ids[2] || got[2].ID != ids[0] || got[2].SLAStage != 0 || got[0].SLAStage != 1 {
		t.Fatalf("pending: %v %v", got, err)
	}
	if got, err := db.SLAPending(ctx, at.Add(3*time.Hour), 2); err != nil || len(got) != 2 {
		t.Errorf("limit: %d %v", len(got), err)
	}
	db.SaveGroup(ctx, ticket.Group{Key: "soporte"})
	for _, p := range []*ticket.Person{
		{Email: "b@x.co", Role: ticket.RoleManager, Groups: []string{"soporte"}, Active: true},
		{Email: "a@x.co", Role: ticket.RoleManager, Groups: []string{"soporte"}, Active: true},
		{Email: "c@x.co", Role: ticket.RoleManager, Groups: []string{"soporte"}, Active: false},
		{Email: "d@x.co", Role: ticket.RoleTechnician, Groups: []string{"soporte"}, Active: true},
	} {
		if err := db.SavePerson(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	if m, err := db.GroupManagers(ctx, "soporte"); err != nil || fmt.Sprint(m) != "[a@x.co b@x.co]" {
		t.Errorf("managers: %v %v", m, err)
	}
}

// testDigestQueries: open and closed tickets scoped by group, survey
// figures, people by role.
func testDigestQueries(t *testing.T, db *store.DB) {
	ctx := context.Background()
	for _, g := range []string{"a", "b"} {
		db.SaveGroup(ctx, ticket.Group{Key: g})
	}
	mk := func(group string, state ticket.State, closed *time.Time) *ticket.Ticket {
		tk := newTicket(t, ctx, db, 2026)
		tk.Group, tk.State, tk.ClosedAt = group, state, closed
		if err := db.UpdateTicket(ctx, tk); err != nil {
			t.Fatal(err)
		}
		return tk
	}
	c1, c2 := at.Add(time.Hour), at.Add(3*time.Hour)
	mk("a", ticket.EnProceso, nil)
	mk("a", ticket.AbiertoPorEncuesta, nil)
	mk("b", ticket.Retenido, nil)
	closedA := mk("a", ticket.Cerrado, &c1)
	mk("b", ticket.Cerrado, &c2)
	if got, err := db.OpenTicketsOf(ctx, []string{"a"}); err != nil || len(got) != 2 {
		t.Errorf("open of a: %d %v", len(got), err)
	}
	if got, err := db.OpenTicketsOf(ctx, nil); err != nil || len(got) != 3 {
		t.Errorf("open of all: %d %v", len(got), err)
	}
	if got, err := db.ClosedBetween(ctx, []string{"a", "b"}, at, at.Add(2*time.Hour)); err != nil || len(got) != 1 || got[0].ID != closedA.ID {
		t.Errorf("closed between: %v %v", got, err)
	}
	answered := at.Add(2 * time.Hour)
	for i, s := range []*ticket.Survey{
		{TicketID: closedA.ID, Token: "s1", SentAt: at, ClosedAt: c1, Status: ticket.SurveyAnswered, Rating: 4, AnsweredAt: &answered},
		{TicketID: closedA.ID, Token: "s2", SentAt: at, ClosedAt: c2, Status: ticket.SurveySent},
		{TicketID: closedA.ID, Token: "s3", SentAt: at, ClosedAt: at, Status: ticket.SurveySkipped},
	} {
		if err := db.CreateSurvey(ctx, s); err != nil {
			t.Fatalf("survey %d: %v", i, err)
		}
	}
	if sent, ans, sum, err := db.SurveyStats(ctx, []string{"a"}, at, at.Add(time.Hour)); err != nil || sent != 2 || ans != 1 || sum != 4 {
		t.Errorf("survey stats: %d %d %d %v", sent, ans, sum, err)
	}
	if sent, _, _, _ := db.SurveyStats(ctx, []string{"b"}, at, at.Add(time.Hour)); sent != 0 {
		t.Errorf("survey stats of b: %d", sent)
	}
	db.SavePerson(ctx, &ticket.Person{Email: "m@x.co", Role: ticket.RoleManager, Groups: []string{"a", "b"}, Active: true})
	db.SavePerson(ctx, &ticket.Person{Email: "t@x.co", Role: ticket.RoleTechnician, Groups: []string{"a"}, Active: true})
	if ps, err := db.PeopleWithRole(ctx, ticket.RoleManager); err != nil || len(ps) != 1 || ps[0].Email != "m@x.co" || len(ps[0].Groups) != 2 {
		t.Errorf("managers: %+v %v", ps, err)
	}
}

func testDeltaLinks(t *testing.T, db *store.DB) {
	ctx := context.Background()
	a, b := "graph:mesa@entidad.gov.co/inbox", "graph:ti@entidad.gov.co/inbox"
	if got, err := db.DeltaLink(ctx, a); err != nil || got != "" {
		t.Fatalf("before any save: got %q, %v; want empty, nil", got, err)
	}
	link1 := "https://graph.microsoft.com/v1.0/users/mesa/mailFolders('AQMk')/messages/delta?$deltatoken=one"
	link2 := "https://graph.microsoft.com/v1.0/users/mesa/mailFolders('AQMk')/messages/delta?$deltatoken=two"
	for _, l := range []string{link1, link2} {
		if err := db.SaveDeltaLink(ctx, a, l, at); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.SaveDeltaLink(ctx, b, link1, at); err != nil {
		t.Fatal(err)
	}
	if got, err := db.DeltaLink(ctx, a); err != nil || got != link2 {
		t.Errorf("after two saves: got %q, %v; want the second link", got, err)
	}
	if got, _ := db.DeltaLink(ctx, b); got != link1 {
		t.Errorf("mailboxes are kept apart: got %q, want %q", got, link1)
	}
	if err := db.SaveDeltaLink(ctx, a, "", at); err != nil {
		t.Fatal(err)
	}
	if got, err := db.DeltaLink(ctx, a); err != nil || got != "" {
		t.Errorf("after forgetting: got %q, %v; want empty", got, err)
	}
	if got, _ := db.DeltaLink(ctx, b); got != link1 {
		t.Errorf("forgetting one mailbox kept the other: got %q, want %q", got, link1)
	}
	if err := db.SaveDeltaLink(ctx, a, "", at); err != nil {
		t.Errorf("forgetting a missing link: %v", err)
	}
}
