package main

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"regexp"
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
	"github.com/mesadeservicios/mesa/mailin"
	"github.com/mesadeservicios/mesa/store"
	"github.com/mesadeservicios/mesa/ticket"
)

// chaosConfig sizes the chaos run; make test runs the short form, make e2e
// the full one (MESA_CHAOS_MAILS=5000, MESA_CHAOS_KILL_EVERY=1s-5s,
// MESA_CHAOS_SMTP_OUTAGE=60s).
type chaosConfig struct {
	mails            int
	killMin, killMax time.Duration
	smtpOutage       time.Duration
}

func chaosConfigFromEnv(t *testing.T) chaosConfig {
	c := chaosConfig{mails: 400, killMin: 200 * time.Millisecond, killMax: time.Second, smtpOutage: 3 * time.Second}
	if v, err := strconv.Atoi(os.Getenv("MESA_CHAOS_MAILS")); err == nil && v > 0 {
		c.mails = v
	}
	if v, err := time.ParseDuration(os.Getenv("MESA_CHAOS_SMTP_OUTAGE")); err == nil {
		c.smtpOutage = v
	}
	if v := os.Getenv("MESA_CHAOS_KILL_EVERY"); v != "" {
		lo, hi, _ := strings.Cut(v, "-")
		a, err1 := time.ParseDuration(lo)
		b, err2 := time.ParseDuration(hi)
		if err1 != nil || err2 != nil || a <= 0 || b < a {
			t.Fatalf("MESA_CHAOS_KILL_EVERY=%q: want MIN-MAX, e.g. 1s-5s", v)
		}
		c.killMin, c.killMax = a, b
	}
	return c
}

// daemon is one mesa process of the chaos run.
type daemon struct {
	name, log string
	cmd       *exec.Cmd
	retired   bool // killed for good
}

// fleet runs the instances of mesa, each a separate process sharing one
// database, and kills them.
type fleet struct {
	t    *testing.T
	args []string
	env  []string

	mu    sync.Mutex
	ds    []*daemon
	kills int
}

func (f *fleet) start(d *daemon) {
	cmd := exec.Command(os.Args[0], f.args...)
	cmd.Env = f.env
	logf, err := os.OpenFile(d.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		f.t.Error(err)
		return
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		f.t.Error(err)
		return
	}
	d.cmd = cmd
}

func (f *fleet) kill(d *daemon) {
	if d.cmd != nil {
		d.cmd.Process.Signal(syscall.SIGKILL)
		d.cmd.Wait()
		d.cmd = nil
	}
}

// killOne SIGKILLs a random living instance and starts it again.
func (f *fleet) killOne() {
	f.mu.Lock()
	defer f.mu.Unlock()
	var live []*daemon
	for _, d := range f.ds {
		if !d.retired {
			live = append(live, d)
		}
	}
	if len(live) == 0 {
		return
	}
	d := live[rand.IntN(len(live))]
	f.kill(d)
	f.kills++
	f.start(d)
}

func (f *fleet) retire(d *daemon) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.kill(d)
	d.retired = true
}

// startFleet starts one instance of mesa per name, each a separate process
// logging to its own file. When the test ends they are killed, and if it
// failed the tail of each log is printed.
func startFleet(t *testing.T, args, env []string, names ...string) *fleet {
	f := &fleet{t: t, args: args, env: env}
	dir := t.TempDir()
	for _, name := range names {
		d := &daemon{name: name, log: dir + "/mesa-" + name + ".log"}
		f.ds = append(f.ds, d)
		f.start(d)
	}
	t.Cleanup(func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, d := range f.ds {
			f.kill(d)
			if t.Failed() {
				b, _ := os.ReadFile(d.log)
				t.Logf("instance %s log (last 3000 bytes):\n%s", d.name, b[max(0, len(b)-3000):])
			}
		}
	})
	return f
}

// chaosDesk is the desk's configuration for the chaos run: one technician
// in every group, so that every ticket is assigned, and a manager.
const chaosDesk = `people:
  - {email: carlos@entidad.gov.co, name: Carlos, role: technician, level: 1, groups: [soporte, desarrollo, infraestructura, redes, servicios, mantenimiento, bienes, documental]}
  - {email: gestora@entidad.gov.co, name: Gestora, role: manager, groups: [soporte, infraestructura]}
groups:
  - {key: soporte, name: Soporte}
  - {key: desarrollo, name: Desarrollo}
  - {key: infraestructura, name: Infraestructura}
  - {key: redes, name: Redes}
  - {key: servicios, name: Servicios}
  - {key: mantenimiento, name: Mantenimiento}
  - {key: bienes, name: Bienes}
  - {key: documental, name: Documental}
auth:
  trusted_authserv_id: mx.entidad.gov.co
`

// TestChaosKill is the end-to-end proof that no message is lost or handled
// twice whatever fails. Two instances of mesa, separate processes on one
// PostgreSQL, read a real Dovecot while a driver appends new requests,
// requesters' replies, technicians' commands, automatic replies, bounces of
// mesa's acknowledgements, malformed and oversized mail, and duplicates of
// earlier Message-IDs. Meanwhile an instance is SIGKILLed at random and
// restarted, Dovecot is restarted twice, PostgreSQL once, the SMTP server
// refuses connections for a while, and at four fifths of the run one
// instance is killed for good: the other must take over the mailbox and the
// jobs. Then it checks: one ticket per distinct request; every reply and
// command on its ticket exactly once; every acknowledgement delivered (and
// how many twice); the INBOX empty and every message moved exactly once,
// quarantined ones with a reason; no outbox row left pending; every
// ticket's SLA timeline consistent; the jobs run after the takeover.
func TestChaosKill(t *testing.T) {
	cc := chaosConfigFromEnv(t)
	n := cc.mails
	dc := testimap.Start(t, "mesa")
	sink := testsmtp.Start(t, "")
	pgc := testpg.StartCluster(t)
	dsn := pgc.NewDatabase(t)
	dir := t.TempDir()
	cfgPath := dir + "/mesa.yaml"
	if err := os.WriteFile(cfgPath, []byte(chaosDesk), 0o600); err != nil {
		t.Fatal(err)
	}
	const maxBytes = 256 << 10
	f := startFleet(t, []string{"serve", "--config", cfgPath}, processEnv(loopbackEnv(dsn, dc.Addr, sink.Addr,
		"MESA_LIMITS_REPLIES_PER_SENDER_PER_HOUR=100000", "MESA_LIMITS_REPLIES_PER_SENDER_PER_DAY=100000",
		"MESA_LIMITS_MAX_MESSAGE_BYTES="+strconv.Itoa(maxBytes), "MESA_LOG_LEVEL=warn")), "A", "B")

	stopKiller := make(chan struct{})
	var killerDone sync.WaitGroup
	killerDone.Add(1)
	go func() {
		defer killerDone.Done()
		for {
			select {
			case <-stopKiller:
				return
			case <-time.After(cc.killMin + rand.N(cc.killMax-cc.killMin+1)):
			}
			f.killOne()
		}
	}()
	stopKilling := sync.OnceFunc(func() { close(stopKiller); killerDone.Wait() })
	defer stopKilling()

	c := loginMesa(t, dc.Addr)
	defer func() { c.Close() }()

	var sinkMu sync.Mutex
	sinks := []*testsmtp.Sink{sink}
	allSinks := func() []*testsmtp.Sink {
		sinkMu.Lock()
		defer sinkMu.Unlock()
		return append([]*testsmtp.Sink(nil), sinks...)
	}
	var smtpBack sync.WaitGroup
	// What the driver learns from the acknowledgements that reached the SMTP
	// server: which requests have a ticket, and the Message-IDs to bounce.
	type ack struct{ number, messageID, to string }
	acked := map[int]ack{}
	var ackOrder []int
	scanned := map[*testsmtp.Sink]int{}
	scanAcks := func() {
		for _, sk := range allSinks() {
			msgs := sk.Messages()
			for _, m := range msgs[scanned[sk]:] {
				in, _ := mailin.Parse(m)
				num, ok := ticket.FindNumber(in.Subject, "MS")
				if !ok || !strings.Contains(in.Subject, "Recibido:") || len(in.InReplyTo) == 0 {
					continue
				}
				j := requestIndex(in.InReplyTo[0])
				if _, seen := acked[j]; j >= 0 && !seen {
					acked[j] = ack{number: num.String(), messageID: in.MessageID, to: in.To[0].Email}
					ackOrder = append(ackOrder, j)
				}
			}
			scanned[sk] = len(msgs)
		}
	}

	type reply struct {
		req   int
		token string
	}
	var replies, commands []reply
	var bounced []int
	bouncedSet := map[int]bool{}
	cmdSeq := map[int]int{}
	requests, duplicates, automatic, malformed, oversized := 0, 0, 0, 0, 0
	dovecotRestarts, pgRestarts := 0, 0
	var retiredAt time.Time
	for i := 0; i < n; i++ {
		switch i {
		case n / 3, 2 * n / 3:
			// Dovecot restarted under mesa's feet (between two appends, so
			// that the driver never wonders whether one landed).
			c.Close()
			dc.Restart(t)
			dovecotRestarts++
			c = loginMesa(t, dc.Addr)
		case 2 * n / 5:
			pgc.Restart(t)
			pgRestarts++
		case n / 2:
			sinks[0].Server.Close()
			smtpBack.Add(1)
			go func() {
				defer smtpBack.Done()
				time.Sleep(cc.smtpOutage)
				s := testsmtp.Start(t, sink.Addr)
				sinkMu.Lock()
				sinks = append(sinks, s)
				sinkMu.Unlock()
			}()
		case 4 * n / 5:
			// One instance dies for good; the other must carry on alone.
			stopKilling()
			f.retire(f.ds[0])
			retiredAt = time.Now()
		}
		if i%20 == 0 {
			scanAcks()
		}
		pick := func() (int, bool) {
			if len(ackOrder) == 0 {
				return 0, false
			}
			return ackOrder[rand.IntN(len(ackOrder))], true
		}
		switch k := i % 20; {
		case (k == 3 || k == 13) && len(ackOrder) > 0:
			j, _ := pick()
			tok := fmt.Sprintf("chaos-reply-%d", i)
			appendMail(t, c, fmt.Sprintf("From: Empleado %d <empleado%d@entidad.gov.co>\r\nTo: mesa@entidad.gov.co\r\nSubject: RE: No imprime la impresora %d\r\n"+
				"Message-ID: <reply-%d@entidad.gov.co>\r\nIn-Reply-To: <req-%d@entidad.gov.co>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"+
				"Sigue igual, dato adicional %s.\r\n\r\n> La impresora del piso no imprime.\r\n", j, j, j, i, j, tok))
			replies = append(replies, reply{j, tok})
		case (k == 5 || k == 15) && len(ackOrder) > 0:
			j, _ := pick()
			tok := fmt.Sprintf("chaos-cmd-%d", i)
			body := "#nota " + tok + "\r\n"
			switch cmdSeq[j] {
			case 0:
				body += "#retener esperando repuesto\r\n"
			case 1:
				body += "#estado en_proceso\r\n"
			case 2:
				body += "#criticidad alta\r\n"
			}
			cmdSeq[j]++
			a := acked[j]
			appendMail(t, c, fmt.Sprintf("From: Carlos <carlos@entidad.gov.co>\r\nTo: mesa@entidad.gov.co\r\nSubject: RE: [%s] Asignado\r\n"+
				"Message-ID: <cmd-%d@entidad.gov.co>\r\nIn-Reply-To: <req-%d@entidad.gov.co>\r\n"+
				"Authentication-Results: mx.entidad.gov.co; dkim=pass header.d=entidad.gov.co; dmarc=pass header.from=entidad.gov.co\r\n"+
				"Content-Type: text/plain; charset=utf-8\r\n\r\n%s", a.number, i, j, body))
			commands = append(commands, reply{j, tok})
		case k == 7 && requests > 0:
			appendMail(t, c, request(rand.IntN(requests))) // the same mail again, as a resend or a second delivery
			duplicates++
		case k == 8:
			appendMail(t, c, fmt.Sprintf("From: ana%d@entidad.gov.co\r\nTo: mesa@entidad.gov.co\r\nSubject: Respuesta automática: fuera de la oficina\r\n"+
				"Message-ID: <auto-%d@entidad.gov.co>\r\nAuto-Submitted: auto-replied\r\n\r\nEstoy de vacaciones.\r\n", i, i))
			automatic++
		case k == 9:
			appendMail(t, c, fmt.Sprintf("esto no es un correo %d\r\n\r\n\x00\xff", i))
			malformed++
		case k == 11 && len(ackOrder) > len(bounced):
			j := -1
			for _, x := range ackOrder {
				if !bouncedSet[x] {
					j = x
					break
				}
			}
			bouncedSet[j] = true
			bounced = append(bounced, j)
			appendMail(t, c, bounceOf(i, acked[j].messageID, acked[j].to))
		case i%100 == 19:
			// Larger than limits.max_message_bytes: a ticket from the header.
			appendMail(t, c, strings.Replace(request(requests), "no imprime.\r\n", "no imprime.\r\n"+strings.Repeat("adjunto en línea ", maxBytes/16)+"\r\n", 1))
			requests++
			oversized++
		default:
			appendMail(t, c, request(requests))
			requests++
		}
		time.Sleep(time.Duration(rand.IntN(30)) * time.Millisecond)
	}
	stopKilling()
	smtpBack.Wait()

	// Let the surviving instance finish: INBOX empty, the outbox drained
	// and a scheduled job run after the takeover.
	db, err := store.Open(context.Background(), "postgres", dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	raw, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	ctx := context.Background()
	// Mail refused during the outage is retried after 1, 2, 4… minutes.
	settleStart := time.Now()
	deadline := settleStart.Add(13 * time.Minute)
	reported := false
	jobsAfter := 0
	for {
		inbox := count(t, c, "INBOX")
		stats, _, _ := db.OutboxStats(ctx, time.Now())
		raw.QueryRowContext(ctx, `SELECT COUNT(*) FROM job_runs WHERE job = 'sla_check' AND status = 'ok' AND started_at > $1`, retiredAt).Scan(&jobsAfter)
		if inbox == 0 && stats["pending"] == 0 && jobsAfter > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not settled: %d in INBOX, outbox %v, %d sla_check runs since the takeover", inbox, stats, jobsAfter)
		}
		if !reported && time.Since(settleStart) > 3*time.Minute {
			reported = true
			t.Logf("after 3 minutes: %d in INBOX, outbox %v; pending rows:\n%s", inbox, stats, pendingRows(t, dsn))
		}
		time.Sleep(200 * time.Millisecond)
	}
	settled := time.Since(settleStart).Round(time.Second)
	stats, _, _ := db.OutboxStats(ctx, time.Now())

	tickets, err := db.ListTickets(ctx, store.TicketFilter{Limit: 1000000})
	if err != nil {
		t.Fatal(err)
	}
	processed, processedCopies := distinctIn(t, c, "Procesados")
	quarantined, quarantinedCopies := distinctIn(t, c, "Cuarentena")
	disp := map[string]int{}
	queryRows(t, raw, `SELECT disposition, COUNT(*) FROM messages GROUP BY disposition`, func(r *sql.Rows) error {
		var d string
		var k int
		err := r.Scan(&d, &k)
		disp[d] = k
		return err
	})
	var noReason int
	raw.QueryRowContext(ctx, `SELECT COUNT(*) FROM messages WHERE disposition = 'quarantined' AND reason = ''`).Scan(&noReason)
	// The ticket of each request, by the request's Message-ID.
	ticketOf := map[int]int64{}
	queryRows(t, raw, `SELECT message_id, ticket_id FROM messages WHERE disposition = 'ticket'`, func(r *sql.Rows) error {
		var id string
		var tid int64
		err := r.Scan(&id, &tid)
		ticketOf[requestIndex(id)] = tid
		return err
	})
	// Where each reply and command token landed.
	tokenRE := regexp.MustCompile(`chaos-(?:reply|cmd)-\d+`)
	landed := map[string][]int64{}
	queryRows(t, raw, `SELECT ticket_id, kind, body FROM events WHERE (kind = 'comment' OR kind = 'note') AND body LIKE '%chaos-%'`, func(r *sql.Rows) error {
		var tid int64
		var kind, body string
		err := r.Scan(&tid, &kind, &body)
		for _, tok := range tokenRE.FindAllString(body, -1) {
			if kind == "comment" && strings.HasPrefix(tok, "chaos-reply-") || kind == "note" && strings.HasPrefix(tok, "chaos-cmd-") {
				landed[tok] = append(landed[tok], tid)
			}
		}
		return err
	})
	misplaced := 0
	for _, list := range [][]reply{replies, commands} {
		for _, r := range list {
			if got := landed[r.token]; len(got) != 1 || got[0] != ticketOf[r.req] {
				misplaced++
				if misplaced <= 5 {
					t.Errorf("%s (request %d, ticket %d) landed on tickets %v", r.token, r.req, ticketOf[r.req], got)
				}
			}
		}
	}
	// Acknowledgements: every one delivered, and how many twice.
	delivered := map[string]int{}
	for _, sk := range allSinks() {
		for _, m := range sk.Messages() {
			if id := messageIDLineRE.FindSubmatch(m[:min(len(m), 8000)]); id != nil {
				delivered[string(id[1])]++
			}
		}
	}
	acks, undelivered, twice := 0, 0, 0
	ackState := map[string]string{}
	queryRows(t, raw, `SELECT message_id, state FROM outbox WHERE dedupe_key LIKE 'ack:%'`, func(r *sql.Rows) error {
		var id, state string
		err := r.Scan(&id, &state)
		acks++
		ackState[id] = state
		switch k := delivered[id]; {
		case k == 0:
			undelivered++
		case k > 1:
			twice++
		}
		return err
	})
	sentTwice := 0
	for _, k := range delivered {
		if k > 1 {
			sentTwice++
		}
	}
	badBounces := 0
	for _, j := range bounced {
		if st := ackState[acked[j].messageID]; st != string(ticket.OutboxFailed) {
			badBounces++
			if badBounces <= 5 {
				t.Errorf("bounced acknowledgement of request %d is %q, want failed", j, st)
			}
		}
	}
	// The SLA timeline of every ticket.
	inconsistent := 0
	for _, tk := range tickets {
		evs, err := db.Events(ctx, tk.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := checkSLATimeline(tk, evs); err != nil {
			inconsistent++
			if inconsistent <= 5 {
				t.Errorf("ticket %s: %v", tk.Number, err)
			}
		}
	}
	var running int
	raw.QueryRowContext(ctx, `SELECT COUNT(*) FROM job_runs WHERE status = 'running'`).Scan(&running)

	f.mu.Lock()
	kills := f.kills
	f.mu.Unlock()
	t.Logf("chaos: %d mails (%d requests of which %d oversized, %d replies, %d commands, %d bounces, %d duplicates, %d automatic, %d malformed); "+
		"2 instances, %d SIGKILLs (kill every %s–%s), instance A killed for good at mail %d, %d Dovecot restarts, %d PostgreSQL restart, SMTP down %s",
		n, requests, oversized, len(replies), len(commands), len(bounced), duplicates, automatic, malformed,
		kills, cc.killMin, cc.killMax, 4*n/5, dovecotRestarts, pgRestarts, cc.smtpOutage)
	t.Logf("result: settled %s after the last append; %d tickets; %d distinct messages moved to Procesados (+%d copies: %d duplicates appended, the rest moved twice), %d to Cuarentena (+%d); stored by disposition %v; "+
		"replies/commands misplaced or repeated %d; acknowledgements %d, undelivered %d, delivered twice %d; mails delivered twice (any kind) %d; "+
		"outbox %v; SLA timelines inconsistent %d; sla_check runs after the takeover %d; job runs left 'running' by a kill %d",
		settled, len(tickets), processed, processedCopies, duplicates, quarantined, quarantinedCopies, disp, misplaced, acks, undelivered, twice, sentTwice, stats, inconsistent, jobsAfter, running)

	if disp["ticket"] != requests || disp["reply"] != len(replies)+len(commands) || disp["autoreply"] != automatic ||
		disp["quarantined"] != malformed || disp["bounce"] != len(bounced) {
		t.Errorf("stored once each: %v, want ticket %d, reply %d, autoreply %d, quarantined %d, bounce %d",
			disp, requests, len(replies)+len(commands), automatic, malformed, len(bounced))
	}
	if len(tickets) != requests {
		t.Errorf("tickets: %d, want one per distinct request: %d", len(tickets), requests)
	}
	if processed+quarantined != n-duplicates {
		t.Errorf("moved: %d distinct processed + %d quarantined, want %d", processed, quarantined, n-duplicates)
	}
	if noReason > 0 {
		t.Errorf("%d quarantined messages without a reason", noReason)
	}
	if acks != requests || undelivered > 0 {
		t.Errorf("acknowledgements: %d queued for %d requests, %d never delivered", acks, requests, undelivered)
	}
	if kills == 0 {
		t.Error("no instance was ever killed: the test proves nothing")
	}
	if len(ackOrder) > 0 && (len(replies) == 0 || len(commands) == 0 || len(bounced) == 0) {
		t.Errorf("the mix lacks replies (%d), commands (%d) or bounces (%d)", len(replies), len(commands), len(bounced))
	}
}

// messageIDLineRE finds the Message-ID header of raw mail.
var messageIDLineRE = regexp.MustCompile(`(?im)^Message-ID:\s*<([^<>\s]+)>`)

// requestIndex is j of the Message-ID req-j@entidad.gov.co, or -1.
func requestIndex(id string) int {
	s, ok := strings.CutPrefix(strings.Trim(id, "<>"), "req-")
	if !ok {
		return -1
	}
	s, ok = strings.CutSuffix(s, "@entidad.gov.co")
	j, err := strconv.Atoi(s)
	if !ok || err != nil {
		return -1
	}
	return j
}

// bounceOf is an RFC 3464 report that mail messageID to rcpt failed for good.
func bounceOf(i int, messageID, rcpt string) string {
	return fmt.Sprintf("From: Mail Delivery System <MAILER-DAEMON@entidad.gov.co>\r\nTo: mesa@entidad.gov.co\r\n"+
		"Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn-%d@entidad.gov.co>\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"+
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"dsn\"\r\n\r\n"+
		"--dsn\r\nContent-Type: text/plain\r\n\r\nNo se pudo entregar su mensaje.\r\n"+
		"--dsn\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.entidad.gov.co\r\n\r\n"+
		"Final-Recipient: rfc822; %s\r\nAction: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 user unknown\r\n"+
		"--dsn\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: mesa@entidad.gov.co\r\nTo: %s\r\nMessage-ID: <%s>\r\n--dsn--\r\n",
		i, rcpt, rcpt, messageID)
}

// checkSLATimeline checks a ticket's SLA events against each other and the
// ticket: the clock starts once, before anything else happens to it; pauses
// and resumptions alternate and match the state; each change of due time
// starts from the due time before it, follows a change of criticality or
// category, and the last due time stated is the ticket's.
func checkSLATimeline(tk *ticket.Ticket, evs []ticket.Event) error {
	var due string
	started, paused := false, false
	changes := 0
	var last time.Time
	for _, e := range evs {
		// Changes to the ticket are made under its row lock, in order; the
		// outcome of a send is recorded with the time the send ended,
		// beside them.
		if e.Kind != ticket.EventMailSent && e.Kind != ticket.EventMailFailed {
			if e.At.Before(last) {
				return fmt.Errorf("event %s at %s before the one before it (%s)", e.Kind, e.At, last)
			}
			last = e.At
		}
		switch e.Kind {
		case ticket.EventCriticalityChanged, ticket.EventCategoryChanged:
			changes++
		case ticket.EventSLAStarted:
			if started {
				return fmt.Errorf("the SLA clock started twice")
			}
			started, due = true, e.To
		case ticket.EventSLAPaused, ticket.EventSLAResumed, ticket.EventSLADueChanged, ticket.EventSLAWarning, ticket.EventSLABreached, ticket.EventSLAMet:
			if !started {
				return fmt.Errorf("%s before sla_started", e.Kind)
			}
		}
		switch e.Kind {
		case ticket.EventSLAPaused:
			if paused {
				return fmt.Errorf("paused twice")
			}
			paused = true
		case ticket.EventSLAResumed:
			if !paused {
				return fmt.Errorf("resumed while running")
			}
			paused, due = false, e.To
		case ticket.EventSLADueChanged:
			if e.From != due {
				return fmt.Errorf("due changed from %s, but it was %s", e.From, due)
			}
			if changes == 0 {
				return fmt.Errorf("due changed without a change of criticality or category")
			}
			changes--
			due = e.To
		}
	}
	if !started {
		return fmt.Errorf("no sla_started")
	}
	if paused != (tk.State == ticket.Retenido) {
		return fmt.Errorf("state %s but the clock is paused=%v", tk.State, paused)
	}
	have := ""
	if tk.DueAt != nil {
		have = tk.DueAt.UTC().Format(time.RFC3339)
	}
	if !paused && have != due {
		return fmt.Errorf("due time %s, the timeline says %s", have, due)
	}
	return nil
}

func queryRows(t *testing.T, db *sql.DB, q string, scan func(*sql.Rows) error) {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			t.Fatal(err)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
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

// distinctIn counts the distinct messages in a mailbox (by Message-ID, or
// by the whole header when there is none) and the copies beyond the first:
// Dovecot's MOVE is a copy and an expunge, and a server stopped between the
// two leaves the message in both mailboxes, so mesa sees it again (and
// stores nothing new: it is a duplicate) and moves it a second time.
func distinctIn(t *testing.T, c *imapclient.Client, mailbox string) (distinct, copies int) {
	t.Helper()
	if sd, err := c.Select(mailbox, &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil || sd.NumMessages == 0 {
		return 0, 0 // not created yet
	}
	defer func() { c.Unselect().Wait() }()
	header := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, Peek: true}
	msgs, err := c.Fetch(imap.SeqSet{imap.SeqRange{Start: 1, Stop: 0}}, &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{header}}).Collect()
	if err != nil {
		t.Fatalf("reading %s: %v", mailbox, err)
	}
	seen := map[string]bool{}
	for _, m := range msgs {
		var h []byte
		for _, b := range m.BodySection {
			h = b.Bytes
		}
		key := string(h)
		if id := messageIDLineRE.FindSubmatch(h); id != nil {
			key = string(id[1])
		}
		if seen[key] {
			copies++
		}
		seen[key] = true
	}
	return len(seen), copies
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
