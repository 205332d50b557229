package mailout

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/mesadeservicios/mesa/internal/testsmtp"
	"github.com/mesadeservicios/mesa/store"
	"github.com/mesadeservicios/mesa/store/storetest"
	"github.com/mesadeservicios/mesa/ticket"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func setupOutbox(t *testing.T, n int) (*store.DB, *clock, int64) {
	t.Helper()
	ctx := context.Background()
	db := storetest.SQLite(t)
	c := &clock{t: time.Date(2026, 3, 24, 14, 0, 0, 0, time.UTC)}
	tk := &ticket.Ticket{Number: "MS-2026-000001", Year: 2026, Seq: 1, Subject: "x", Requester: "ana@entidad.gov.co",
		State: ticket.Abierto, Type: ticket.Incidente, Criticality: ticket.Media, Category: "ti.vpn", AccessKey: "k",
		CreatedAt: c.t, UpdatedAt: c.t}
	if err := db.CreateTicket(ctx, tk); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		raw := []byte("From: mesa@entidad.gov.co\r\nTo: ana@entidad.gov.co\r\nSubject: aviso " + string(rune('a'+i)) + "\r\n\r\nhola\r\n")
		if err := db.EnqueueMail(ctx, &ticket.Outgoing{TicketID: tk.ID, DedupeKey: "k" + string(rune('a'+i)), From: "mesa@entidad.gov.co",
			To: []string{"ana@entidad.gov.co"}, Subject: "aviso", MessageID: "m" + string(rune('a'+i)) + "@x", Raw: raw,
			NextAttemptAt: c.t, CreatedAt: c.t}); err != nil {
			t.Fatal(err)
		}
	}
	return db, c, tk.ID
}

func worker(t *testing.T, db *store.DB, c *clock, addr string) *Worker {
	t.Helper()
	s, err := NewSMTP(SMTPOptions{Addr: addr, TLS: "none", Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return NewWorker(db, s, WorkerOptions{Now: c.now, Logger: slog.New(slog.DiscardHandler)})
}

func kinds(t *testing.T, db *store.DB, id int64) map[ticket.EventKind]int {
	evs, err := db.Events(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	out := map[ticket.EventKind]int{}
	for _, e := range evs {
		out[e.Kind]++
	}
	return out
}

func TestWorkerSendsExactBytes(t *testing.T) {
	ctx := context.Background()
	db, c, tid := setupOutbox(t, 3)
	s := testsmtp.Start(t, "")
	w := worker(t, db, c, s.Addr)
	if n, err := w.Once(ctx); err != nil || n != 3 {
		t.Fatalf("once: %d %v", n, err)
	}
	got := s.Messages()
	if len(got) != 3 {
		t.Fatalf("sink got %d mails, want 3", len(got))
	}
	m, _ := db.MailByDedupeKey(ctx, "ka")
	if !bytes.Equal(bytes.TrimRight(got[0], "\r\n"), bytes.TrimRight(m.Raw, "\r\n")) {
		t.Errorf("sent bytes differ from the outbox:\n%q\n%q", got[0], m.Raw)
	}
	if m.State != ticket.OutboxSent || m.SentAt == nil || m.Attempts != 1 {
		t.Errorf("row: %+v", m)
	}
	if k := kinds(t, db, tid); k[ticket.EventMailSent] != 3 {
		t.Errorf("events: %v", k)
	}
	if n, _ := w.Once(ctx); n != 0 {
		t.Errorf("sent mail claimed again: %d", n)
	}
}

func TestWorkerRetriesTemporaryFailures(t *testing.T) {
	ctx := context.Background()
	db, c, _ := setupOutbox(t, 1)
	s := testsmtp.Start(t, "", &gosmtp.SMTPError{Code: 451, Message: "try later"}, &gosmtp.SMTPError{Code: 421, Message: "busy"})
	w := worker(t, db, c, s.Addr)
	w.Once(ctx)
	m, _ := db.MailByDedupeKey(ctx, "ka")
	if m.State != ticket.OutboxPending || m.Attempts != 1 || !m.NextAttemptAt.Equal(c.now().Add(time.Minute)) {
		t.Fatalf("after 451: %+v", m)
	}
	if n, _ := w.Once(ctx); n != 0 {
		t.Fatalf("retried before its backoff: %d", n)
	}
	c.add(time.Minute)
	w.Once(ctx)
	m, _ = db.MailByDedupeKey(ctx, "ka")
	if m.Attempts != 2 || !m.NextAttemptAt.Equal(c.now().Add(2*time.Minute)) {
		t.Fatalf("backoff doubles: %+v", m)
	}
	c.add(2 * time.Minute)
	w.Once(ctx)
	m, _ = db.MailByDedupeKey(ctx, "ka")
	if m.State != ticket.OutboxSent || len(s.Messages()) != 1 {
		t.Errorf("after recovery: %+v, sink %d", m, len(s.Messages()))
	}
}

func TestWorkerPermanentFailure(t *testing.T) {
	ctx := context.Background()
	db, c, tid := setupOutbox(t, 1)
	s := testsmtp.Start(t, "", &gosmtp.SMTPError{Code: 550, Message: "no such user"})
	w := worker(t, db, c, s.Addr)
	w.Once(ctx)
	m, _ := db.MailByDedupeKey(ctx, "ka")
	if m.State != ticket.OutboxFailed || m.SentAt != nil {
		t.Fatalf("after 550: %+v", m)
	}
	if k := kinds(t, db, tid); k[ticket.EventMailFailed] != 1 || k[ticket.EventMailSent] != 0 {
		t.Errorf("events: %v", k)
	}
	c.add(48 * time.Hour)
	if n, _ := w.Once(ctx); n != 0 {
		t.Errorf("a failed mail was retried")
	}
	evs, _ := db.Events(ctx, tid)
	if got := evs[len(evs)-1].Body; !strings.HasPrefix(got, "No se pudo enviar «") || !strings.Contains(got, "550") {
		t.Errorf("the failure note: %q", got)
	}
}

// TestWorkerFailureNoteInEnglish: with the desk in English, the note the
// worker writes on the ticket is English.
func TestWorkerFailureNoteInEnglish(t *testing.T) {
	ctx := context.Background()
	db, c, tid := setupOutbox(t, 1)
	s := testsmtp.Start(t, "", &gosmtp.SMTPError{Code: 550, Message: "no such user"})
	sender, err := NewSMTP(SMTPOptions{Addr: s.Addr, TLS: "none", Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	NewWorker(db, sender, WorkerOptions{Now: c.now, Logger: slog.New(slog.DiscardHandler), Language: "en"}).Once(ctx)
	evs, _ := db.Events(ctx, tid)
	var got string
	for _, ev := range evs {
		if ev.Kind == ticket.EventMailFailed {
			got = ev.Body
		}
	}
	if !strings.HasPrefix(got, "Could not send “") || !strings.Contains(got, "550") || strings.Contains(got, "No se pudo") {
		t.Errorf("the failure note in English: %q", got)
	}
}

func TestWorkerGivesUpAfterADay(t *testing.T) {
	ctx := context.Background()
	db, c, _ := setupOutbox(t, 1)
	w := worker(t, db, c, "127.0.0.1:1") // nothing listens: a network error, retried
	w.Once(ctx)
	m, _ := db.MailByDedupeKey(ctx, "ka")
	if m.State != ticket.OutboxPending || m.LastError == "" {
		t.Fatalf("network error: %+v", m)
	}
	c.add(25 * time.Hour)
	w.Once(ctx)
	m, _ = db.MailByDedupeKey(ctx, "ka")
	if m.State != ticket.OutboxFailed {
		t.Errorf("after 25 h: %+v", m)
	}
}

// TestSMTPDownThenUp: mail queued while the server is down is delivered,
// each exactly once, when it comes back.
func TestSMTPDownThenUp(t *testing.T) {
	ctx := context.Background()
	db, c, _ := setupOutbox(t, 5)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	w := worker(t, db, c, addr)
	for i := 0; i < 3; i++ {
		w.Once(ctx)
		c.add(10 * time.Minute)
	}
	s := testsmtp.Start(t, addr)
	for i := 0; i < 5; i++ {
		c.add(time.Hour)
		w.Once(ctx)
	}
	if got := len(s.Messages()); got != 5 {
		t.Fatalf("delivered %d, want 5", got)
	}
	if st := w.Stats(); st.Sent != 5 || st.Failed != 0 {
		t.Errorf("stats: %+v", st)
	}
}

func TestSMTPTooLargeForServer(t *testing.T) {
	ctx := context.Background()
	db, c, _ := setupOutbox(t, 1)
	s := testsmtp.Start(t, "")
	s.Server.MaxMessageBytes = 10 // advertised as SIZE 10
	w := worker(t, db, c, s.Addr)
	w.Once(ctx)
	m, _ := db.MailByDedupeKey(ctx, "ka")
	if m.State != ticket.OutboxFailed || len(s.Messages()) != 0 || !strings.Contains(m.LastError, "SIZE 10") {
		t.Errorf("oversized mail: %+v", m)
	}
}

func TestStartTLSRequired(t *testing.T) {
	s := testsmtp.Start(t, "") // no TLS configured: no STARTTLS offered
	sm, _ := NewSMTP(SMTPOptions{Addr: s.Addr, TLS: "starttls", Timeout: time.Second})
	err := sm.Send(context.Background(), "a@x.co", []string{"b@x.co"}, []byte("Subject: x\r\n\r\nx\r\n"))
	var se *SendError
	if !errors.As(err, &se) || se.Temporary || len(s.Messages()) != 0 {
		t.Errorf("got %v, want a permanent refusal to send in clear text", err)
	}
}

type recorder struct{ events []*ticket.Event }

func (r *recorder) RecordMail(_ context.Context, id int64, e *ticket.Event) error {
	r.events = append(r.events, e)
	return nil
}

func TestWorkerRecorder(t *testing.T) {
	ctx := context.Background()
	db, c, tid := setupOutbox(t, 1)
	s := testsmtp.Start(t, "", &gosmtp.SMTPError{Code: 550, Message: "no such user"})
	sender, _ := NewSMTP(SMTPOptions{Addr: s.Addr, TLS: "none"})
	rec := &recorder{}
	w := NewWorker(db, sender, WorkerOptions{Now: c.now, Logger: slog.New(slog.DiscardHandler), Recorder: rec})
	w.Once(ctx)
	if len(rec.events) != 1 || rec.events[0].Kind != ticket.EventMailFailed || rec.events[0].TicketID != tid ||
		!strings.Contains(rec.events[0].Body, "550") {
		t.Errorf("recorded: %+v", rec.events)
	}
	if k := kinds(t, db, tid); k[ticket.EventMailFailed] != 0 {
		t.Errorf("with a recorder the worker must not add the event itself: %v", k)
	}
}

func TestSMTPAuth(t *testing.T) {
	s := testsmtp.Start(t, "")
	s.Users = map[string]string{"mesa@entidad.gov.co": "s3creto"}
	raw := []byte("Subject: x\r\n\r\nx\r\n")
	for _, login := range []bool{false, true} {
		sm, _ := NewSMTP(SMTPOptions{Addr: s.Addr, TLS: "none", Username: "mesa@entidad.gov.co", Password: "s3creto", Login: login})
		if err := sm.Send(context.Background(), "mesa@entidad.gov.co", []string{"ana@entidad.gov.co"}, raw); err != nil {
			t.Fatalf("login=%v: %v", login, err)
		}
	}
	if got := s.Authenticated(); len(got) != 2 || got[0] != "PLAIN:mesa@entidad.gov.co" || got[1] != "LOGIN:mesa@entidad.gov.co" {
		t.Errorf("authenticated: %v", got)
	}
	bad, _ := NewSMTP(SMTPOptions{Addr: s.Addr, TLS: "none", Username: "mesa@entidad.gov.co", Password: "otra"})
	err := bad.Send(context.Background(), "mesa@entidad.gov.co", []string{"ana@entidad.gov.co"}, raw)
	var se *SendError
	if err == nil || errors.As(err, &se) && !se.Temporary {
		t.Errorf("wrong password must be a retryable error, got %v", err)
	}
	if len(s.Messages()) != 2 {
		t.Errorf("delivered %d, want 2", len(s.Messages()))
	}
}

// A worker killed mid-send leaves the mail it held to the next worker once
// its lease ends, and only that mail: the rest of the queue goes out at once.
func TestKilledWorkerStrandsOneMailForOneLease(t *testing.T) {
	ctx := context.Background()
	db, c, _ := setupOutbox(t, 3)
	held, err := db.ClaimMail(ctx, c.now(), 2*time.Minute, 1) // the dead worker's claim
	if err != nil || len(held) != 1 {
		t.Fatalf("claim: %v %v", held, err)
	}
	s := testsmtp.Start(t, "")
	w := worker(t, db, c, s.Addr)
	if n, err := w.Once(ctx); err != nil || n != 2 {
		t.Fatalf("first pass sent %d (%v), want the 2 unclaimed", n, err)
	}
	c.add(119 * time.Second)
	if n, _ := w.Once(ctx); n != 0 {
		t.Fatalf("the held mail was sent while its lease ran: %d", n)
	}
	c.add(2 * time.Second)
	if n, _ := w.Once(ctx); n != 1 {
		t.Fatalf("after the lease: %d sent, want 1", n)
	}
	m, _ := db.MailByDedupeKey(ctx, "k"+string(rune('a'+0)))
	if m.State != ticket.OutboxSent || len(s.Messages()) != 3 {
		t.Errorf("state %s, sink %d", m.State, len(s.Messages()))
	}
}

// flakyTx fails the first n transactions, as a restarting database or a
// pool of broken connections does.
type flakyTx struct {
	*store.DB
	mu sync.Mutex
	n  int
}

func (f *flakyTx) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	f.mu.Lock()
	fail := f.n > 0
	f.n--
	f.mu.Unlock()
	if fail {
		return errors.New("pq: the database system is starting up")
	}
	return f.DB.InTx(ctx, fn)
}

// A mail the SMTP server accepted while the database could not record it
// is recorded once the database answers, not sent again when its lease
// ends.
func TestOutcomeRecordedAfterDatabaseHiccup(t *testing.T) {
	ctx := context.Background()
	db, c, tid := setupOutbox(t, 1)
	s := testsmtp.Start(t, "")
	sender, err := NewSMTP(SMTPOptions{Addr: s.Addr, TLS: "none", Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	w := NewWorker(&flakyTx{DB: db, n: 3}, sender, WorkerOptions{Now: c.now, Logger: slog.New(slog.DiscardHandler)})
	if n, err := w.Once(ctx); err != nil || n != 1 {
		t.Fatalf("once: %d %v", n, err)
	}
	m, _ := db.MailByDedupeKey(ctx, "ka")
	if m.State != ticket.OutboxSent || m.Attempts != 1 || kinds(t, db, tid)[ticket.EventMailSent] != 1 {
		t.Fatalf("after the hiccup: state %s, attempts %d, events %v", m.State, m.Attempts, kinds(t, db, tid))
	}
	c.add(3 * time.Minute) // past the lease
	if n, _ := w.Once(ctx); n != 0 || len(s.Messages()) != 1 {
		t.Errorf("sent again: %d claimed, %d delivered", n, len(s.Messages()))
	}
}
