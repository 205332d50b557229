package mailin_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"github.com/mesadeservicios/mesa/desk"
	"github.com/mesadeservicios/mesa/internal/testimap"
	"github.com/mesadeservicios/mesa/internal/testpg"
	"github.com/mesadeservicios/mesa/mailin"
	"github.com/mesadeservicios/mesa/rules"
	"github.com/mesadeservicios/mesa/sla"
	"github.com/mesadeservicios/mesa/store"
	"github.com/mesadeservicios/mesa/ticket"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testpg.Stop()
	os.Exit(code)
}

// logCounter counts log records by message, to check that an alert fires
// once.
type logCounter struct {
	mu   sync.Mutex
	n    map[string]int
	errs []string
}

func (l *logCounter) Enabled(context.Context, slog.Level) bool { return true }
func (l *logCounter) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	l.n[r.Message]++
	if r.Level >= slog.LevelWarn && len(l.errs) < 20 {
		var b strings.Builder
		b.WriteString(r.Message)
		r.Attrs(func(a slog.Attr) bool { b.WriteString(" " + a.String()); return true })
		l.errs = append(l.errs, b.String())
	}
	l.mu.Unlock()
	return nil
}

// dump logs the first warnings and errors when a test fails.
func (l *logCounter) dump(t *testing.T) {
	if !t.Failed() {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.errs {
		t.Log(e)
	}
}
func (l *logCounter) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logCounter) WithGroup(string) slog.Handler      { return l }
func (l *logCounter) count(msg string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n[msg]
}

type env struct {
	db   *store.DB
	desk *desk.Desk
	logs *logCounter
}

func newEnv(t *testing.T, driver string) *env {
	t.Helper()
	ctx := context.Background()
	dsn := filepath.Join(t.TempDir(), "m.db")
	if driver == "postgres" {
		dsn = testpg.NewDatabase(t)
	}
	db, err := store.Open(ctx, driver, dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	eng, _ := rules.Default()
	cal, _ := sla.New(sla.Options{})
	logs := &logCounter{n: map[string]int{}}
	d, err := desk.New(desk.Deps{Files: mailin.Decoder{}, Store: db, Mail: mustRenderer(t), Classifier: eng, Calendar: cal, Logger: slog.New(logs),
		Now: time.Now, Config: desk.Config{Addresses: []string{"mesa@entidad.gov.co"}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logs.dump(t) })
	return &env{db: db, desk: d, logs: logs}
}

func (e *env) poller(t *testing.T, addr string, tweak func(o *mailin.Options)) (*mailin.Poller, func()) {
	t.Helper()
	o := mailin.Options{Addr: addr, TLS: "none", Username: "mesa", Password: "mesapw", State: e.db,
		Handle: e.desk.HandleMail, Quarantine: e.desk.QuarantineMail, Logger: slog.New(e.logs),
		SweepInterval: time.Hour, MaxBackoff: 200 * time.Millisecond}
	if tweak != nil {
		tweak(&o)
	}
	p, err := mailin.NewPoller(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	stop := func() { cancel(); <-done }
	t.Cleanup(stop)
	return p, stop
}

func (e *env) tickets(t *testing.T) []*ticket.Ticket {
	t.Helper()
	list, err := e.db.ListTickets(context.Background(), store.TicketFilter{Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func message(i int, subject, body string) []byte {
	return []byte(fmt.Sprintf("From: Empleado %d <empleado%d@entidad.gov.co>\r\nTo: mesa@entidad.gov.co\r\n"+
		"Subject: %s\r\nMessage-ID: <m%d.%d@entidad.gov.co>\r\nDate: Tue, 24 Mar 2026 09:00:00 -0500\r\n"+
		"Content-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n", i, i, subject, i, time.Now().UnixNano(), body))
}

func dialClient(t *testing.T, addr string) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Login("mesa", "mesapw").Wait(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func appendTo(t *testing.T, c *imapclient.Client, mailbox string, raw []byte) {
	t.Helper()
	cmd := c.Append(mailbox, int64(len(raw)), nil)
	cmd.Write(raw)
	cmd.Close()
	if _, err := cmd.Wait(); err != nil {
		t.Fatalf("append: %v", err)
	}
}

// count returns the messages in mailbox, 0 when it does not exist (yet).
func count(t *testing.T, c *imapclient.Client, mailbox string) uint32 {
	t.Helper()
	st, err := c.Status(mailbox, &imap.StatusOptions{NumMessages: true}).Wait()
	if err != nil {
		return 0
	}
	return *st.NumMessages
}

// TestDovecotThousandMessages appends 1,000 messages while the poller idles:
// 1,000 tickets, none twice, all moved to Procesados.
func TestDovecotThousandMessages(t *testing.T) {
	srv := testimap.Start(t, "mesa")
	e := newEnv(t, "postgres")
	e.poller(t, srv.Addr, nil)
	c := dialClient(t, srv.Addr)
	waitFor(t, 10*time.Second, "the poller to create Procesados", func() bool {
		_, err := c.Status("Procesados", &imap.StatusOptions{NumMessages: true}).Wait()
		return err == nil
	})
	const n = 1000
	for i := 0; i < n; i++ {
		appendTo(t, c, "INBOX", message(i, fmt.Sprintf("La impresora %d no imprime", i), "Sale papel atascado."))
	}
	waitFor(t, 90*time.Second, "1,000 tickets", func() bool { return len(e.tickets(t)) >= n })
	time.Sleep(300 * time.Millisecond)
	list := e.tickets(t)
	seen := map[string]bool{}
	for _, tk := range list {
		if seen[tk.Subject] {
			t.Fatalf("two tickets for %q", tk.Subject)
		}
		seen[tk.Subject] = true
	}
	if len(list) != n {
		t.Fatalf("got %d tickets, want %d", len(list), n)
	}
	waitFor(t, 10*time.Second, "the INBOX to empty", func() bool { return count(t, c, "INBOX") == 0 })
	if got := count(t, c, "Procesados"); got != n {
		t.Errorf("Procesados holds %d, want %d", got, n)
	}
}

// TestDovecotCrashBetweenCommitAndMove cuts the connection right after the
// first commit, before the move: after reconnecting, the message is
// recognised and moved, and there is one ticket.
func TestDovecotCrashBetweenCommitAndMove(t *testing.T) {
	srv := testimap.Start(t, "mesa")
	proxy := testimap.NewProxy(t, srv.Addr)
	e := newEnv(t, "sqlite")
	var cut atomic.Bool
	p, _ := e.poller(t, proxy.Addr, func(o *mailin.Options) {
		o.SweepInterval = 200 * time.Millisecond
		o.Handle = func(ctx context.Context, raw []byte, in *ticket.Inbound, src ticket.Source) error {
			err := e.desk.HandleMail(ctx, raw, in, src)
			if err == nil && cut.CompareAndSwap(false, true) {
				proxy.Cut() // committed; the move will never reach the server
			}
			return err
		}
	})
	c := dialClient(t, srv.Addr)
	appendTo(t, c, "INBOX", message(1, "VPN caída", "No conecta la VPN desde la casa."))
	waitFor(t, 20*time.Second, "the message to reach Procesados", func() bool { return count(t, c, "Procesados") == 1 })
	if n := len(e.tickets(t)); n != 1 {
		t.Fatalf("got %d tickets, want 1", n)
	}
	if !cut.Load() || p.Stats().Reconnects < 1 {
		t.Errorf("the connection was not cut (cut=%v, reconnects=%d)", cut.Load(), p.Stats().Reconnects)
	}
}

// TestDovecotSilentDrop freezes the connection during IDLE: the read
// deadline notices, the poller reconnects and picks up new mail.
func TestDovecotSilentDrop(t *testing.T) {
	srv := testimap.Start(t, "mesa")
	proxy := testimap.NewProxy(t, srv.Addr)
	e := newEnv(t, "sqlite")
	p, _ := e.poller(t, proxy.Addr, func(o *mailin.Options) {
		o.IdleRestart, o.ReadTimeout = time.Second, 2*time.Second
	})
	c := dialClient(t, srv.Addr)
	appendTo(t, c, "INBOX", message(1, "Silla coja", "La silla está coja."))
	waitFor(t, 10*time.Second, "the first ticket", func() bool { return len(e.tickets(t)) == 1 })
	time.Sleep(300 * time.Millisecond) // idling now
	proxy.Freeze()
	appendTo(t, c, "INBOX", message(2, "Gotera", "Hay una gotera encima del puesto."))
	start := time.Now()
	waitFor(t, 20*time.Second, "the second ticket after the silent drop", func() bool { return len(e.tickets(t)) == 2 })
	if p.Stats().Reconnects < 1 {
		t.Errorf("no reconnect after the drop")
	}
	t.Logf("new mail picked up %s after the silent drop", time.Since(start).Round(10*time.Millisecond))
}

// memServer is go-imap's in-memory server with optional faults.
type memServer struct {
	srv  *imapserver.Server
	user *imapmemserver.User
	addr string
}

type faultySession struct {
	*imapmemserver.UserSession
	failMoves *atomic.Bool
}

func (s faultySession) Move(w *imapserver.MoveWriter, numSet imap.NumSet, dest string) error {
	if s.failMoves.Load() {
		return &imap.Error{Type: imap.StatusResponseTypeNo, Text: "move refused (test)"}
	}
	return s.UserSession.Move(w, numSet, dest)
}

func (s faultySession) Store(w *imapserver.FetchWriter, numSet imap.NumSet, flags *imap.StoreFlags, options *imap.StoreOptions) error {
	if s.failMoves.Load() {
		return &imap.Error{Type: imap.StatusResponseTypeNo, Text: "store refused (test)"}
	}
	return s.UserSession.Store(w, numSet, flags, options)
}

func startMem(t *testing.T, addr string, user *imapmemserver.User, failMoves *atomic.Bool) *memServer {
	t.Helper()
	if failMoves == nil {
		failMoves = &atomic.Bool{}
	}
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return faultySession{imapmemserver.NewUserSession(user), failMoves}, nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapUIDPlus: {}, imap.CapMove: {}},
		InsecureAuth: true,
	})
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ { // the previous server's port may take a moment to free
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	m := &memServer{srv: srv, user: user, addr: ln.Addr().String()}
	t.Cleanup(func() { srv.Close() })
	return m
}

func newUser(t *testing.T, mailboxes ...string) *imapmemserver.User {
	u := imapmemserver.NewUser("mesa", "mesapw")
	for _, mb := range mailboxes {
		if err := u.Create(mb, nil); err != nil {
			t.Fatal(err)
		}
	}
	return u
}

func put(t *testing.T, u *imapmemserver.User, raw []byte) {
	t.Helper()
	if _, err := u.Append("INBOX", bytes.NewReader(raw), &imap.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
}

func (m *memServer) count(t *testing.T, mailbox string) uint32 {
	t.Helper()
	st, err := m.user.Status(mailbox, &imap.StatusOptions{NumMessages: true})
	if err != nil {
		return 0
	}
	return *st.NumMessages
}

// TestMoveRefused: the server answers NO to MOVE and STORE. After ten cycles
// there is still one ticket, and one alert.
func TestMoveRefused(t *testing.T) {
	var fail atomic.Bool
	fail.Store(true)
	u := newUser(t, "INBOX")
	put(t, u, message(1, "Teams no abre", "Teams se queda cargando."))
	srv := startMem(t, "", u, &fail)
	e := newEnv(t, "sqlite")
	p, _ := e.poller(t, srv.addr, func(o *mailin.Options) { o.SweepInterval = 10 * time.Millisecond })
	waitFor(t, 20*time.Second, "ten move attempts", func() bool { return p.Stats().MoveFailures >= 10 })
	if n := len(e.tickets(t)); n != 1 {
		t.Fatalf("got %d tickets, want 1", n)
	}
	if n := e.logs.count("processed message cannot be moved; it stays in the mailbox and is skipped as a duplicate"); n != 1 {
		t.Errorf("got %d alerts, want 1", n)
	}
	fail.Store(false)
	waitFor(t, 10*time.Second, "the move once the server accepts it", func() bool { return srv.count(t, "Procesados") == 1 })
	if n := len(e.tickets(t)); n != 1 {
		t.Errorf("got %d tickets after recovery, want 1", n)
	}
}

// TestUIDValidityChange: the server restarts with a new UIDVALIDITY and the
// old messages under the same UIDs plus one new: one new ticket.
func TestUIDValidityChange(t *testing.T) {
	u1 := newUser(t, "INBOX")
	var msgs [][]byte
	for i := 1; i <= 3; i++ {
		msgs = append(msgs, message(i, fmt.Sprintf("Wifi caído %d", i), "No hay wifi en el piso."))
		put(t, u1, msgs[i-1])
	}
	srv := startMem(t, "", u1, nil)
	e := newEnv(t, "sqlite")
	e.poller(t, srv.addr, func(o *mailin.Options) { o.IdleRestart, o.SweepInterval = 200*time.Millisecond, 200*time.Millisecond })
	waitFor(t, 10*time.Second, "three tickets", func() bool { return len(e.tickets(t)) == 3 })
	addr := srv.addr
	srv.srv.Close()

	u2 := newUser(t, "Otra", "INBOX") // INBOX gets another UIDVALIDITY
	for _, m := range msgs {
		put(t, u2, m)
	}
	put(t, u2, message(4, "Silla rota", "La silla está rota."))
	srv2 := startMem(t, addr, u2, nil)
	waitFor(t, 20*time.Second, "the new message after the restart", func() bool { return srv2.count(t, "INBOX") == 0 })
	list := e.tickets(t)
	if len(list) != 4 || list[0].Subject != "Silla rota" {
		t.Fatalf("got %d tickets (newest %q), want 4 with the new one", len(list), list[0].Subject)
	}
}

// TestPoisonMessage: a message whose handling panics sits between two good
// ones. The good ones become tickets in the same pass; the poison one is
// retried, then quarantined with its reason, and the daemon lives on.
func TestPoisonMessage(t *testing.T) {
	u := newUser(t, "INBOX")
	put(t, u, message(1, "Bueno uno: impresora", "No imprime."))
	put(t, u, message(2, "VENENO", "x"))
	// The real poison of pain point C2: no From, a date in 2050, invalid
	// UTF-8 in a header and in a body declared utf-8, a bogus ticket tag.
	poison := []byte("Subject: Petici\xf3n [MS-2099-999999]\r\nDate: Sat, 1 Apr 2050 10:00:00 +0000\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n\r\nCaf\xe8 sin remitente\r\n")
	put(t, u, poison)
	put(t, u, message(3, "Bueno dos: silla", "La silla está coja."))
	srv := startMem(t, "", u, nil)
	e := newEnv(t, "sqlite")
	e.poller(t, srv.addr, func(o *mailin.Options) {
		o.SweepInterval, o.MaxAttempts = 30*time.Millisecond, 3
		o.Handle = func(ctx context.Context, raw []byte, in *ticket.Inbound, src ticket.Source) error {
			if in.Subject == "VENENO" {
				panic("handler bug")
			}
			return e.desk.HandleMail(ctx, raw, in, src)
		}
	})
	waitFor(t, 10*time.Second, "the poison message in quarantine", func() bool { return srv.count(t, "Cuarentena") == 1 })
	waitFor(t, 10*time.Second, "the others processed", func() bool { return srv.count(t, "Procesados") == 3 })
	if n := len(e.tickets(t)); n != 2 {
		t.Errorf("got %d tickets, want the 2 good ones", n)
	}
	// The sender-less message was kept, raw, and quarantined by intake itself.
	m, err := e.db.MessageByKey(context.Background(), desk.MessageKey("", poison))
	if err != nil || m.Disposition != "quarantined" || m.Reason != "no sender address" || !bytes.Equal(m.Raw, poison) {
		t.Errorf("sender-less message: got %+v, %v", m, err)
	}
	if e.logs.count("message quarantined") != 1 {
		t.Errorf("want one quarantine alert, got %d", e.logs.count("message quarantined"))
	}
}

// TestOversizedMessageStub: a message above the size limit becomes a ticket
// stub with a notice, from its header only; the original is kept.
func TestOversizedMessageStub(t *testing.T) {
	u := newUser(t, "INBOX")
	big := message(1, "Video del daño en la sala", "Adjunto video.\r\n"+strings.Repeat("x", 200<<10))
	put(t, u, big)
	srv := startMem(t, "", u, nil)
	e := newEnv(t, "sqlite")
	e.poller(t, srv.addr, func(o *mailin.Options) { o.MaxSize = 100 << 10 })
	waitFor(t, 10*time.Second, "the stub ticket", func() bool { return len(e.tickets(t)) == 1 })
	tk := e.tickets(t)[0]
	evs, _ := e.db.Events(context.Background(), tk.ID)
	if tk.Subject != "Video del daño en la sala" || len(evs) == 0 || !strings.Contains(evs[0].Body, "supera el límite de tamaño") {
		t.Errorf("stub: %q %+v", tk.Subject, evs)
	}
	waitFor(t, 10*time.Second, "the original kept in Procesados", func() bool { return srv.count(t, "Procesados") == 1 })
}

// TestServerWithoutMove: a server without MOVE and UIDPLUS still works.
func TestServerWithoutMove(t *testing.T) {
	u := newUser(t, "INBOX")
	put(t, u, message(1, "Silla rota", "La silla está rota."))
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return imapmemserver.NewUserSession(u), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}},
		InsecureAuth: true,
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	e := newEnv(t, "sqlite")
	e.poller(t, ln.Addr().String(), nil)
	m := &memServer{user: u}
	waitFor(t, 10*time.Second, "the message moved by COPY + STORE + EXPUNGE", func() bool { return m.count(t, "Procesados") == 1 && m.count(t, "INBOX") == 0 })
	if n := len(e.tickets(t)); n != 1 {
		t.Errorf("got %d tickets, want 1", n)
	}
}

// TestTwoPollersOneMailbox: two pollers on one mailbox and one database
// (a lease that failed, a manual fetch during a run) never make a ticket
// twice.
func TestTwoPollersOneMailbox(t *testing.T) {
	srv := testimap.Start(t, "mesa")
	e := newEnv(t, "postgres")
	e.poller(t, srv.Addr, nil)
	e.poller(t, srv.Addr, nil)
	c := dialClient(t, srv.Addr)
	const n = 50
	for i := 0; i < n; i++ {
		appendTo(t, c, "INBOX", message(i, fmt.Sprintf("Impresora %d", i), "No imprime."))
	}
	waitFor(t, 30*time.Second, "the INBOX to empty", func() bool { return count(t, c, "INBOX") == 0 })
	if got := len(e.tickets(t)); got != n {
		t.Fatalf("got %d tickets, want %d", got, n)
	}
}

// TestDovecotRestart: the server restarts mid-run; the poller reconnects
// and carries on, without duplicates.
func TestDovecotRestart(t *testing.T) {
	srv := testimap.Start(t, "mesa")
	e := newEnv(t, "sqlite")
	p, _ := e.poller(t, srv.Addr, nil)
	c := dialClient(t, srv.Addr)
	appendTo(t, c, "INBOX", message(1, "Antes del reinicio", "La impresora no imprime."))
	waitFor(t, 10*time.Second, "the first ticket", func() bool { return len(e.tickets(t)) == 1 })
	srv.Restart(t)
	c = dialClient(t, srv.Addr)
	appendTo(t, c, "INBOX", message(2, "Después del reinicio", "El wifi no funciona."))
	waitFor(t, 20*time.Second, "the second ticket", func() bool { return len(e.tickets(t)) == 2 })
	if p.Stats().Reconnects < 1 {
		t.Errorf("no reconnect recorded")
	}
	waitFor(t, 10*time.Second, "an empty INBOX", func() bool { return count(t, c, "INBOX") == 0 })
	if n := len(e.tickets(t)); n != 2 {
		t.Errorf("got %d tickets, want 2", n)
	}
}

// TestMessageThatKillsTheProcess: the attempt is committed before the
// message is parsed, so a message on which the process dies (here: the
// poller's goroutine ends in the middle of it, as if the process were
// killed) is quarantined unparsed after MaxStarts starts, never a crash
// loop; the messages after it are processed. On both stores: with
// PostgreSQL the killer's start is recorded by the transaction of the
// message before it in one statement (store.DB.FinishAndBegin).
func TestMessageThatKillsTheProcess(t *testing.T) {
	for _, driver := range []string{"sqlite", "postgres"} {
		t.Run(driver, func(t *testing.T) { testMessageThatKillsTheProcess(t, driver) })
	}
}

func testMessageThatKillsTheProcess(t *testing.T, driver string) {
	u := newUser(t, "INBOX")
	put(t, u, message(1, "Bueno uno: impresora", "No imprime."))
	killer := message(2, "MATA EL PROCESO", "x")
	put(t, u, killer)
	put(t, u, message(3, "Bueno dos: silla", "La silla está coja."))
	srv := startMem(t, "", u, nil)
	e := newEnv(t, driver)
	var seen atomic.Int32 // how often the handler saw the killer
	run := func(finished func() bool) (died bool) {
		o := mailin.Options{Addr: srv.addr, TLS: "none", Username: "mesa", Password: "mesapw", State: e.db,
			Quarantine: e.desk.QuarantineMail, Logger: slog.New(e.logs), SweepInterval: time.Hour, MaxBackoff: 50 * time.Millisecond,
			Handle: func(ctx context.Context, raw []byte, in *ticket.Inbound, src ticket.Source) error {
				if in.Subject == "MATA EL PROCESO" {
					seen.Add(1)
					runtime.Goexit() // the process dies: no error, no failure recorded
				}
				return e.desk.HandleMail(ctx, raw, in, src)
			}}
		p, err := mailin.NewPoller(o)
		if err != nil {
			t.Fatal(err)
		}
		return runUntilDeath(p.Run, finished)
	}
	for i := 1; i <= 3; i++ {
		if !run(func() bool { return false }) {
			t.Fatalf("start %d: the handler did not die on the message", i)
		}
	}
	if died := run(func() bool { return srv.count(t, "Procesados") == 2 && srv.count(t, "Cuarentena") == 1 }); died {
		t.Fatal("the fourth start died again: a crash loop")
	}
	if n := seen.Load(); n != 3 {
		t.Errorf("the handler saw the message %d times, want 3", n)
	}
	if got := srv.count(t, "Cuarentena"); got != 1 {
		t.Errorf("quarantine folder: got %d, want 1", got)
	}
	if got := srv.count(t, "Procesados"); got != 2 {
		t.Errorf("processed folder: got %d, want 2", got)
	}
	m, err := e.db.MessageByKey(context.Background(), desk.MessageKey("", killer))
	if err != nil || m.Disposition != "quarantined" || !strings.Contains(m.Reason, "started 3 times without finishing") ||
		!bytes.Equal(m.Raw, killer) {
		t.Errorf("the killer is kept raw with a reason: got %+v, %v", m, err)
	}
	if n := len(e.tickets(t)); n != 2 {
		t.Errorf("got %d tickets, want the 2 good ones", n)
	}
}

// runUntilDeath runs a reader until its goroutine dies in the middle of
// a message (it ends without Run returning: as if the process were
// killed), or until finished() holds or 10 s pass; it reports whether it
// died.
func runUntilDeath(run func(context.Context) error, finished func() bool) (died bool) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ended, returned := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(ended)
		_ = run(ctx)
		close(returned)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case <-ended:
			select {
			case <-returned:
				return false
			default:
				return true
			}
		case <-time.After(20 * time.Millisecond):
			if finished() || time.Now().After(deadline) {
				cancel()
				<-ended
				return false
			}
		}
	}
}

// The store is the poller's State.
var _ mailin.State = (*store.DB)(nil)

// TestNextStartInTheTransactionBefore: with PostgreSQL, the start of each
// message of a batch after the first is recorded by the transaction of
// the message before it (store.DB.FinishAndBegin), so a batch of four
// costs one BeginAttempt of its own instead of four, and every message is
// handled once, with no attempt left counted.
func TestNextStartInTheTransactionBefore(t *testing.T) {
	u := newUser(t, "INBOX")
	for i := 1; i <= 4; i++ {
		put(t, u, message(i, fmt.Sprintf("Solicitud %d", i), "La impresora no imprime."))
	}
	srv := startMem(t, "", u, nil)
	e := newEnv(t, "postgres")
	var mu sync.Mutex
	calls := map[string]int{}
	e.db.TraceStatements(func(q string, _ time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case strings.HasPrefix(q, "INSERT INTO intake_failures"):
			calls["begin"]++
		case strings.HasPrefix(q, "WITH finished AS (DELETE FROM intake_failures"):
			calls["finish and begin"]++
		case strings.HasPrefix(q, "DELETE FROM intake_failures"):
			calls["finish"]++
		}
	})
	var uidValidity atomic.Uint32
	p, err := mailin.NewPoller(mailin.Options{Addr: srv.addr, TLS: "none", Username: "mesa", Password: "mesapw", State: e.db,
		Logger: slog.New(e.logs), SweepInterval: time.Hour,
		Handle: func(ctx context.Context, raw []byte, in *ticket.Inbound, src ticket.Source) error {
			uidValidity.Store(src.UIDValidity)
			return e.desk.HandleMail(ctx, raw, in, src)
		}})
	if err != nil {
		t.Fatal(err)
	}
	if runUntilDeath(p.Run, func() bool { return srv.count(t, "Procesados") == 4 }) {
		t.Fatal("the poller died")
	}
	mu.Lock()
	got := fmt.Sprint(calls)
	mu.Unlock()
	if want := fmt.Sprint(map[string]int{"begin": 1, "finish and begin": 3, "finish": 1}); got != want {
		t.Errorf("attempt statements: got %s, want %s", got, want)
	}
	if n := len(e.tickets(t)); n != 4 {
		t.Errorf("got %d tickets, want 4", n)
	}
	for uid := uint32(1); uid <= 4; uid++ {
		if died, err := e.db.BeginAttempt(context.Background(), "INBOX", uidValidity.Load(), uid, time.Now()); err != nil || died != 0 {
			t.Errorf("message %d afterwards: got %d unfinished starts (%v), want 0", uid, died, err)
		}
	}
}
