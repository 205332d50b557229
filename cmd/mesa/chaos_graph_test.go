package main

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/internal/testgraph"
	"github.com/mesadeservicios/mesa/internal/testpg"
	"github.com/mesadeservicios/mesa/mailin"
	"github.com/mesadeservicios/mesa/store"
	"github.com/mesadeservicios/mesa/ticket"
)

// TestChaosGraph is TestChaosKill's exactly-once proof against the fake
// Microsoft Graph: two instances of mesa, separate processes on one
// PostgreSQL, read the mailbox by delta query (imap.provider graph) and
// send by sendMail (smtp.provider graph) while a driver delivers requests,
// requesters' replies, technicians' commands, automatic replies, malformed
// mail and second deliveries of earlier Message-IDs. During the run the
// tenant throttles (429 with Retry-After), answers 503, drops the delta
// sync state (410 Gone: a full resync) and invalidates every access token
// (401: a new token), and an instance is SIGKILLed and restarted
// (MESA_CHAOS_GRAPH_KILLS times, 2 by default; MESA_CHAOS_KILL_EVERY adds
// random kills as in TestChaosKill). Then: one ticket per distinct request,
// every reply and command on its ticket once, the inbox empty and every
// message in Procesados or Cuarentena, no outbox row pending, every
// acknowledgement sent by sendMail, and any sent twice reported (a kill
// between Graph's 202 and the outbox commit resends: at most one per kill,
// since each instance's worker sends one mail at a time).
// MESA_CHAOS_GRAPH_MAILS sizes the run (200).
func TestChaosGraph(t *testing.T) {
	n, plannedKills := 200, 2
	if v, err := strconv.Atoi(os.Getenv("MESA_CHAOS_GRAPH_MAILS")); err == nil && v > 0 {
		n = v
	}
	if v, err := strconv.Atoi(os.Getenv("MESA_CHAOS_GRAPH_KILLS")); err == nil && v >= 0 {
		plannedKills = v
	}
	var killMin, killMax time.Duration
	if v := os.Getenv("MESA_CHAOS_KILL_EVERY"); v != "" {
		cc := chaosConfigFromEnv(t)
		killMin, killMax = cc.killMin, cc.killMax
	}
	const user = "mesa@entidad.gov.co"
	gs := testgraph.New(t, testgraph.Options{ClientSecret: "s3cret"})
	gs.AddMailbox(user)
	gs.SetLatency(2 * time.Millisecond) // requests overlap, as on a real network
	dsn := testpg.NewDatabase(t)
	// The schema first: two instances starting at once on an empty
	// database race to create it, and the loser exits (a start-up matter
	// TestChaosKill's random kills hide; this run has only a few kills).
	if db, err := store.Open(context.Background(), "postgres", dsn, nil); err != nil {
		t.Fatal(err)
	} else if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	} else {
		db.Close()
	}
	cfgPath := t.TempDir() + "/mesa.yaml"
	if err := os.WriteFile(cfgPath, []byte(chaosDesk), 0o600); err != nil {
		t.Fatal(err)
	}
	f := startFleet(t, []string{"serve", "--config", cfgPath}, processEnv(loopbackEnv(dsn, "127.0.0.1:1", "127.0.0.1:1",
		"MESA_IMAP_HOST=", "MESA_IMAP_USERNAME=", "MESA_IMAP_PASSWORD=", "MESA_SMTP_HOST=",
		"MESA_IMAP_PROVIDER=graph", "MESA_IMAP_TENANT_ID="+gs.Tenant(), "MESA_IMAP_CLIENT_ID="+gs.ClientID(),
		"MESA_IMAP_CLIENT_SECRET=s3cret", "MESA_IMAP_USER="+user, "MESA_IMAP_GRAPH_URL="+gs.URL(),
		"MESA_IMAP_OAUTH2_TOKEN_URL="+gs.TokenURL(), "MESA_IMAP_POLL_INTERVAL=1s", "MESA_SMTP_PROVIDER=graph",
		"MESA_LIMITS_REPLIES_PER_SENDER_PER_HOUR=100000", "MESA_LIMITS_REPLIES_PER_SENDER_PER_DAY=100000",
		"MESA_LOG_LEVEL=warn")), "A", "B")

	stopKiller := make(chan struct{})
	var killerDone sync.WaitGroup
	if killMax > 0 {
		killerDone.Add(1)
		go func() {
			defer killerDone.Done()
			for {
				select {
				case <-stopKiller:
					return
				case <-time.After(killMin + rand.N(killMax-killMin+1)):
				}
				f.killOne()
			}
		}()
	}
	stopKilling := sync.OnceFunc(func() { close(stopKiller); killerDone.Wait() })
	defer stopKilling()

	// What the driver learns from the acknowledgements sent: which requests
	// have a ticket (and its number).
	acked := map[int]string{}
	var ackOrder []int
	scanned := 0
	scanAcks := func() {
		sent := gs.Sent(user)
		for _, raw := range sent[scanned:] {
			in, _ := mailin.Parse(raw)
			num, ok := ticket.FindNumber(in.Subject, "MS")
			if !ok || !strings.Contains(in.Subject, "Recibido:") || len(in.InReplyTo) == 0 {
				continue
			}
			if j := requestIndex(in.InReplyTo[0]); j >= 0 && acked[j] == "" {
				acked[j] = num.String()
				ackOrder = append(ackOrder, j)
			}
		}
		scanned = len(sent)
	}
	deliver := func(raw string) { gs.Deliver(user, "inbox", []byte(raw), time.Now()) }
	type reply struct {
		req   int
		token string
	}
	var replies, commands []reply
	cmdSeq := map[int]int{}
	requests, duplicates, automatic, malformed := 0, 0, 0, 0
	killAt := map[int]bool{}
	for k := 1; k <= plannedKills; k++ {
		killAt[k*n/(plannedKills+1)+n/20] = true
	}
	// hit waits until the fake has answered kind (the fault injected just
	// before reached mesa), delivering nothing meanwhile.
	hit := func(kind string) {
		t.Helper()
		deadline := time.Now().Add(90 * time.Second)
		for gs.Count(kind) == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("the fake never answered %s within 90 s of the fault", kind)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	for i := 0; i < n; i++ {
		switch i {
		case 10:
			// Both instances up and the first acknowledgement sent, so that
			// replies and commands have tickets to go to.
			deadline := time.Now().Add(90 * time.Second)
			for scanAcks(); len(ackOrder) == 0; scanAcks() {
				if time.Now().After(deadline) {
					t.Fatal("no acknowledgement within 90 s of the first requests")
				}
				time.Sleep(100 * time.Millisecond)
			}
		case n / 5:
			gs.Throttle(5, time.Second) // each request retries past five 429s within its attempts
			hit("429")
		case 2 * n / 5:
			gs.ExpireDeltaTokens() // the next round gets 410 Gone and resyncs
			hit("410")
		case n / 2:
			gs.Unavailable(3)
		case 7 * n / 10:
			gs.ExpireAccessTokens() // 401 InvalidAuthenticationToken: a new token
			hit("401")
		}
		if killAt[i] {
			f.killOne()
		}
		if i%10 == 0 {
			scanAcks()
		}
		pick := func() int { return ackOrder[rand.IntN(len(ackOrder))] }
		switch k := i % 20; {
		case (k == 3 || k == 13) && len(ackOrder) > 0:
			j, tok := pick(), fmt.Sprintf("chaos-reply-%d", i)
			deliver(fmt.Sprintf("From: Empleado %d <empleado%d@entidad.gov.co>\r\nTo: mesa@entidad.gov.co\r\nSubject: RE: No imprime la impresora %d\r\n"+
				"Message-ID: <reply-%d@entidad.gov.co>\r\nIn-Reply-To: <req-%d@entidad.gov.co>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"+
				"Sigue igual, dato adicional %s.\r\n\r\n> La impresora del piso no imprime.\r\n", j, j, j, i, j, tok))
			replies = append(replies, reply{j, tok})
		case (k == 5 || k == 15) && len(ackOrder) > 0:
			j, tok := pick(), fmt.Sprintf("chaos-cmd-%d", i)
			body := "#nota " + tok + "\r\n"
			switch cmdSeq[j] {
			case 0:
				body += "#retener esperando repuesto\r\n"
			case 1:
				body += "#estado en_proceso\r\n"
			}
			cmdSeq[j]++
			deliver(fmt.Sprintf("From: Carlos <carlos@entidad.gov.co>\r\nTo: mesa@entidad.gov.co\r\nSubject: RE: [%s] Asignado\r\n"+
				"Message-ID: <cmd-%d@entidad.gov.co>\r\nIn-Reply-To: <req-%d@entidad.gov.co>\r\n"+
				"Authentication-Results: mx.entidad.gov.co; dkim=pass header.d=entidad.gov.co; dmarc=pass header.from=entidad.gov.co\r\n"+
				"Content-Type: text/plain; charset=utf-8\r\n\r\n%s", acked[j], i, j, body))
			commands = append(commands, reply{j, tok})
		case k == 7 && requests > 0:
			deliver(request(rand.IntN(requests))) // the same mail again: a second delivery
			duplicates++
		case k == 8:
			deliver(fmt.Sprintf("From: ana%d@entidad.gov.co\r\nTo: mesa@entidad.gov.co\r\nSubject: Respuesta automática: fuera de la oficina\r\n"+
				"Message-ID: <auto-%d@entidad.gov.co>\r\nAuto-Submitted: auto-replied\r\n\r\nEstoy de vacaciones.\r\n", i, i))
			automatic++
		case k == 9:
			deliver(fmt.Sprintf("esto no es un correo %d\r\n\r\n\x00\xff", i))
			malformed++
		default:
			deliver(request(requests))
			requests++
		}
		time.Sleep(time.Duration(20+rand.IntN(60)) * time.Millisecond)
	}
	stopKilling()

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
	settleStart := time.Now()
	deadline := settleStart.Add(8 * time.Minute)
	for {
		inbox := len(gs.Messages(user, "Inbox"))
		stats, _, _ := db.OutboxStats(ctx, time.Now())
		var acks int
		raw.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE dedupe_key LIKE 'ack:%'`).Scan(&acks)
		if inbox == 0 && stats["pending"] == 0 && acks >= requests {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not settled: %d in the inbox, outbox %v, %d acknowledgements for %d requests; pending rows:\n%s",
				inbox, stats, acks, requests, pendingRows(t, dsn))
		}
		time.Sleep(200 * time.Millisecond)
	}
	settled := time.Since(settleStart).Round(time.Second)
	stats, _, _ := db.OutboxStats(ctx, time.Now())

	tickets, err := db.ListTickets(ctx, store.TicketFilter{Limit: 1000000})
	if err != nil {
		t.Fatal(err)
	}
	distinct := func(folder string) (int, int) {
		seen, copies := map[string]bool{}, 0
		for _, m := range gs.Messages(user, folder) {
			key := string(m.Raw)
			if id := messageIDLineRE.FindSubmatch(m.Raw); id != nil {
				key = string(id[1])
			}
			if seen[key] {
				copies++
			}
			seen[key] = true
		}
		return len(seen), copies
	}
	processed, processedCopies := distinct("Procesados")
	quarantined, quarantinedCopies := distinct("Cuarentena")
	disp := map[string]int{}
	queryRows(t, raw, `SELECT disposition, COUNT(*) FROM messages GROUP BY disposition`, func(r *sql.Rows) error {
		var d string
		var k int
		err := r.Scan(&d, &k)
		disp[d] = k
		return err
	})
	ticketOf := map[int]int64{}
	queryRows(t, raw, `SELECT message_id, ticket_id FROM messages WHERE disposition = 'ticket'`, func(r *sql.Rows) error {
		var id string
		var tid int64
		err := r.Scan(&id, &tid)
		ticketOf[requestIndex(id)] = tid
		return err
	})
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
	// Acknowledgements: every one sent by sendMail, and how many twice.
	sentByID := map[string]int{}
	for _, m := range gs.Sent(user) {
		if id := messageIDLineRE.FindSubmatch(m[:min(len(m), 8000)]); id != nil {
			sentByID[string(id[1])]++
		}
	}
	acks, unsent, twice := 0, 0, 0
	queryRows(t, raw, `SELECT message_id, state FROM outbox WHERE dedupe_key LIKE 'ack:%'`, func(r *sql.Rows) error {
		var id, state string
		err := r.Scan(&id, &state)
		acks++
		switch k := sentByID[id]; {
		case k == 0:
			unsent++
			if unsent <= 5 {
				t.Errorf("acknowledgement %s (outbox state %s) never sent", id, state)
			}
		case k > 1:
			twice++
			t.Logf("acknowledgement %s sent %d times (a kill between sendMail's 202 and the outbox commit)", id, k)
		}
		return err
	})
	sentTwice := 0
	for _, k := range sentByID {
		if k > 1 {
			sentTwice++
		}
	}
	f.mu.Lock()
	kills := f.kills
	f.mu.Unlock()
	t.Logf("chaos graph: %d mails (%d requests, %d replies, %d commands, %d duplicates, %d automatic, %d malformed); 2 instances, %d SIGKILLs; "+
		"the fake answered %d×429, %d×503, %d×410, %d×401; at most %d requests in flight to the mailbox",
		n, requests, len(replies), len(commands), duplicates, automatic, malformed, kills,
		gs.Count("429"), gs.Count("503"), gs.Count("410"), gs.Count("401"), gs.MaxInFlight(user))
	t.Logf("result: settled %s after the last delivery; %d tickets; %d distinct in Procesados (+%d copies), %d in Cuarentena (+%d); stored by disposition %v; "+
		"replies/commands misplaced or repeated %d; acknowledgements %d, never sent %d, sent twice %d; mails sent twice (any kind) %d; outbox %v",
		settled, len(tickets), processed, processedCopies, quarantined, quarantinedCopies, disp, misplaced, acks, unsent, twice, sentTwice, stats)

	if disp["ticket"] != requests || disp["reply"] != len(replies)+len(commands) || disp["autoreply"] != automatic || disp["quarantined"] != malformed {
		t.Errorf("stored once each: %v, want ticket %d, reply %d, autoreply %d, quarantined %d",
			disp, requests, len(replies)+len(commands), automatic, malformed)
	}
	if len(tickets) != requests {
		t.Errorf("tickets: %d, want one per distinct request: %d", len(tickets), requests)
	}
	if processed+quarantined != n-duplicates || processedCopies != duplicates || quarantinedCopies != 0 {
		t.Errorf("moved: %d distinct processed (+%d copies) + %d quarantined (+%d), want %d distinct and the %d second deliveries as copies",
			processed, processedCopies, quarantined, quarantinedCopies, n-duplicates, duplicates)
	}
	if acks != requests || unsent > 0 {
		t.Errorf("acknowledgements: %d queued for %d requests, %d never sent", acks, requests, unsent)
	}
	if sentTwice > kills {
		t.Errorf("mails sent twice: %d, want at most one per kill (%d)", sentTwice, kills)
	}
	if stats["pending"] != 0 || stats["failed"] != 0 {
		t.Errorf("outbox after settling: %v, want nothing pending or failed", stats)
	}
	if kills < plannedKills {
		t.Errorf("SIGKILLs: got %d, want at least %d", kills, plannedKills)
	}
	for _, kind := range []string{"429", "410", "401"} {
		if gs.Count(kind) == 0 {
			t.Errorf("the fake never answered %s: the fault was not in the run", kind)
		}
	}
	// One reader per mailbox (the leader), and each instance's worker
	// sends one mail at a time: the leader's reader and sender share four
	// requests in flight, the standby's worker adds at most one.
	if got := gs.MaxInFlight(user); got > testgraph.MaxConcurrent+1 {
		t.Errorf("requests in flight to the mailbox: got %d, want at most %d", got, testgraph.MaxConcurrent+1)
	}
	if len(ackOrder) > 0 && (len(replies) == 0 || len(commands) == 0) {
		t.Errorf("the mix lacks replies (%d) or commands (%d)", len(replies), len(commands))
	}
}
