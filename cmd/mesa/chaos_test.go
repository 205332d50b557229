package main

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	_ "github.com/lib/pq"

	"github.com/mesadeservicios/mesa/internal/testimap"
	"github.com/mesadeservicios/mesa/internal/testpg"
	"github.com/mesadeservicios/mesa/internal/testsmtp"
	"github.com/mesadeservicios/mesa/store"
	"github.com/mesadeservicios/mesa/ticket"
)

// TestChaosKill appends a mix of mail to a real Dovecot while the daemon,
// a separate process, is killed with SIGKILL at random and restarted,
// Dovecot is restarted twice and the SMTP server is away for a while
// (MESA_CHAOS_SMTP_OUTAGE, 3 s by default); then
// it checks that nothing was lost or done twice: one ticket per distinct
// request, duplicates and automatic mail recognised, malformed mail
// quarantined, the INBOX empty and every message moved exactly once, one
// acknowledgement per ticket reached the SMTP server. MESA_CHAOS_MAILS
// sets how many mails (300 by default, as make test runs it).
func TestChaosKill(t *testing.T) {
	n := 300
	if v, err := strconv.Atoi(os.Getenv("MESA_CHAOS_MAILS")); err == nil && v > 0 {
		n = v
	}
	dc := testimap.Start(t, "mesa")
	host, port, _ := net.SplitHostPort(dc.Addr)
	sink := testsmtp.Start(t, "")
	shost, sport, _ := net.SplitHostPort(sink.Addr)
	dsn := testpg.NewDatabase(t)
	// Only mesa's own variables: it refuses unknown MESA_* names.
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "GO_TEST_RUN_AS_MESA=1", "MESA_DATABASE_URL=" + dsn, "MESA_HTTP_LISTEN=127.0.0.1:0",
		"MESA_IMAP_HOST=" + host, "MESA_IMAP_PORT=" + port, "MESA_IMAP_TLS=none", "MESA_IMAP_INSECURE_PLAINTEXT=true",
		"MESA_IMAP_USERNAME=mesa", "MESA_IMAP_PASSWORD=mesapw", "MESA_DESK_ADDRESSES=mesa@entidad.gov.co",
		"MESA_SMTP_HOST=" + shost, "MESA_SMTP_PORT=" + sport, "MESA_SMTP_TLS=none", "MESA_SMTP_INSECURE_PLAINTEXT=true",
		"MESA_LIMITS_REPLIES_PER_SENDER_PER_HOUR=100000", "MESA_LIMITS_REPLIES_PER_SENDER_PER_DAY=100000", "MESA_LOG_LEVEL=warn"}

	var mu sync.Mutex
	var proc *exec.Cmd
	logPath := t.TempDir() + "/mesa.log"
	defer func() {
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("daemon log (last 3000 bytes):\n%s", b[max(0, len(b)-3000):])
		}
	}()
	start := func() {
		cmd := exec.Command(os.Args[0], "serve")
		cmd.Env = env
		logf, _ := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		proc = cmd
	}
	kill := func() {
		proc.Process.Signal(syscall.SIGKILL)
		proc.Wait()
	}
	mu.Lock()
	start()
	mu.Unlock()
	defer func() { mu.Lock(); kill(); mu.Unlock() }()

	stopKiller := make(chan struct{})
	kills := 0
	var killerDone sync.WaitGroup
	killerDone.Add(1)
	go func() {
		defer killerDone.Done()
		for {
			select {
			case <-stopKiller:
				return
			case <-time.After(time.Duration(150+rand.IntN(550)) * time.Millisecond):
			}
			mu.Lock()
			kill()
			kills++
			start()
			mu.Unlock()
		}
	}()

	var c *imapclient.Client
	dial := func() {
		var err error
		if c, err = imapclient.DialInsecure(dc.Addr, nil); err != nil {
			t.Fatal(err)
		}
		if err := c.Login("mesa", "mesapw").Wait(); err != nil {
			t.Fatal(err)
		}
	}
	dial()
	defer func() { c.Close() }()
	// The SMTP server goes away for a while in the middle of the run.
	outage := 3 * time.Second
	if v, err := time.ParseDuration(os.Getenv("MESA_CHAOS_SMTP_OUTAGE")); err == nil {
		outage = v
	}
	sinks := []*testsmtp.Sink{sink}
	var smtpBack sync.WaitGroup
	appendMail := func(raw string) {
		cmd := c.Append("INBOX", int64(len(raw)), nil)
		cmd.Write([]byte(raw))
		cmd.Close()
		if _, err := cmd.Wait(); err != nil {
			t.Fatal(err)
		}
	}
	requests, duplicates, automatic, malformed := 0, 0, 0, 0
	dovecotRestarts := 0
	for i := 0; i < n; i++ {
		switch i {
		case n / 3, 2 * n / 3:
			// Dovecot restarted under mesa's feet (between two appends, so
			// that the driver never wonders whether one landed).
			c.Close()
			dc.Restart(t)
			dovecotRestarts++
			dial()
		case n / 2:
			sinks[0].Server.Close()
			smtpBack.Add(1)
			go func() {
				defer smtpBack.Done()
				time.Sleep(outage)
				sinks = append(sinks, testsmtp.Start(t, sink.Addr))
			}()
		}
		switch {
		case i%10 == 7 && requests > 0:
			j := rand.IntN(requests) // the same mail again, as a resend or a second delivery
			appendMail(request(j))
			duplicates++
		case i%10 == 8:
			appendMail(fmt.Sprintf("From: ana%d@entidad.gov.co\r\nTo: mesa@entidad.gov.co\r\nSubject: Respuesta automática: fuera de la oficina\r\n"+
				"Message-ID: <auto-%d@entidad.gov.co>\r\nAuto-Submitted: auto-replied\r\n\r\nEstoy de vacaciones.\r\n", i, i))
			automatic++
		case i%10 == 9:
			appendMail(fmt.Sprintf("esto no es un correo %d\r\n\r\n\x00\xff", i))
			malformed++
		default:
			appendMail(request(requests))
			requests++
		}
		time.Sleep(time.Duration(rand.IntN(30)) * time.Millisecond)
	}
	close(stopKiller)
	killerDone.Wait()
	smtpBack.Wait()

	// Let the last instance finish: INBOX empty and the outbox drained.
	db, err := store.Open(context.Background(), "postgres", dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	// Mail refused during the outage is retried after 1, 2, 4… minutes, and
	// a row an instance was sending when it was killed waits for its
	// 10-minute lease: settling may take that long.
	settleStart := time.Now()
	deadline := settleStart.Add(13 * time.Minute)
	reported := false
	for {
		inbox := count(t, c, "INBOX")
		stats, _, _ := db.OutboxStats(ctx, time.Now())
		if inbox == 0 && stats["pending"] == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not settled: %d in INBOX, outbox %v", inbox, stats)
		}
		if !reported && time.Since(settleStart) > 3*time.Minute {
			reported = true
			t.Logf("after 3 minutes: %d in INBOX, outbox %v; pending rows:\n%s", inbox, stats, pendingRows(t, dsn))
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("settled %s after the last append", time.Since(settleStart).Round(time.Second))
	tickets, err := db.ListTickets(ctx, store.TicketFilter{Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	processed, quarantined := count(t, c, "Procesados"), count(t, c, "Cuarentena")
	raw, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	disp := map[string]int{}
	rows, err := raw.QueryContext(ctx, `SELECT disposition, COUNT(*) FROM messages GROUP BY disposition`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var d string
		var k int
		rows.Scan(&d, &k)
		disp[d] = k
	}
	rows.Close()
	acks := map[string]int{}
	var delivered [][]byte
	for _, sk := range sinks {
		delivered = append(delivered, sk.Messages()...)
	}
	for _, m := range delivered {
		if n, ok := ticket.FindNumber(string(m[:min(len(m), 4000)]), "MS"); ok && strings.Contains(string(m), "Auto-Submitted: auto-replied") {
			acks[n.String()]++
		}
	}
	twice := 0
	for _, k := range acks {
		if k > 1 {
			twice++
		}
	}
	t.Logf("chaos: %d mails (%d requests, %d duplicates, %d automatic, %d malformed), %d SIGKILLs, %d Dovecot restarts, SMTP down %s; "+
		"%d tickets, %d moved to Procesados, %d to Cuarentena, stored by disposition %v, %d acknowledgements (%d tickets acknowledged twice)",
		n, requests, duplicates, automatic, malformed, kills, dovecotRestarts, outage, len(tickets), processed, quarantined, disp, len(acks), twice)
	if disp["ticket"] != requests || disp["autoreply"] != automatic || disp["quarantined"] != malformed {
		t.Errorf("stored once each: %v, want ticket %d, autoreply %d, quarantined %d", disp, requests, automatic, malformed)
	}
	if len(tickets) != requests {
		t.Errorf("tickets: %d, want one per distinct request: %d", len(tickets), requests)
	}
	if processed+quarantined != n {
		t.Errorf("moved: %d processed + %d quarantined, want %d", processed, quarantined, n)
	}
	if len(acks) != requests {
		t.Errorf("acknowledged tickets: %d, want %d", len(acks), requests)
	}
	if kills == 0 {
		t.Error("the daemon was never killed: the test proves nothing")
	}
}

func request(j int) string {
	return fmt.Sprintf("From: Empleado %d <empleado%d@entidad.gov.co>\r\nTo: mesa@entidad.gov.co\r\nSubject: No imprime la impresora %d\r\n"+
		"Message-ID: <req-%d@entidad.gov.co>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nLa impresora del piso %d no imprime.\r\n", j, j, j, j, j%9)
}

// count is the number of messages in a mailbox.
func count(t *testing.T, c *imapclient.Client, mailbox string) int {
	t.Helper()
	st, err := c.Status(mailbox, &imap.StatusOptions{NumMessages: true}).Wait()
	if err != nil {
		return 0 // not created yet
	}
	return int(*st.NumMessages)
}

// pendingRows describes the outbox rows still pending, for the log.
func pendingRows(t *testing.T, dsn string) string {
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		return err.Error()
	}
	defer db.Close()
	rows, err := db.Query(`SELECT id, attempts, next_attempt_at, last_error FROM outbox WHERE state = 'pending' ORDER BY id LIMIT 20`)
	if err != nil {
		return err.Error()
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id, attempts int
		var next time.Time
		var last string
		rows.Scan(&id, &attempts, &next, &last)
		fmt.Fprintf(&b, "  #%d attempts %d next %s %s\n", id, attempts, next.Format(time.TimeOnly), last)
	}
	return b.String()
}
