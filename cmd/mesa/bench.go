//go:build bench

// The intake benchmark is built only with -tags bench (bin/mesa-bench, by
// make bench): it starts the test servers of internal/testimap and
// internal/testpg, which the production binary must not link.

package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/mesadeservicios/mesa/internal/testimap"
	"github.com/mesadeservicios/mesa/internal/testpg"
	"github.com/mesadeservicios/mesa/mailin"
	"github.com/mesadeservicios/mesa/store"
	"github.com/mesadeservicios/mesa/ticket"
)

// benchIntakeCommand is `mesa bench intake` in this build.
var benchIntakeCommand = bench

// benchRunner lets the test-server helpers run outside `go test`.
type benchRunner struct {
	cleanups []func()
	failed   error
}

func (r *benchRunner) Helper() {}
func (r *benchRunner) Fatalf(format string, args ...any) {
	r.failed = fmt.Errorf(format, args...)
	panic(r)
}
func (r *benchRunner) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }
func (r *benchRunner) close() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
	testpg.Stop()
}

func bench() command {
	var n, lat, size, largeMB, senders, statements *int
	var cpuprofile *string
	var prefill *bool
	return command{
		flags: func(fs *flag.FlagSet) {
			n = fs.Int("messages", 2000, "messages appended for the throughput run")
			lat = fs.Int("latency", 100, "messages appended one at a time, while idle, for the latency run")
			size = fs.Int("size", 5<<10, "size of each message in bytes")
			largeMB = fs.Int("large-mb", 35, "size of the large message whose peak memory is measured; 0 skips it")
			senders = fs.Int("senders", 1, "senders the throughput run's messages are spread over, in turn (1: all from one sender, whose tickets take most of them as comments)")
			prefill = fs.Bool("prefill", false, "append the throughput run's mails while the poller is stopped, then time the intake alone from its start")
			statements = fs.Int("statements", 0, "print the throughput run's N statements that took the most time in all")
			cpuprofile = fs.String("cpuprofile", "", "write a CPU profile of the run to this file")
		},
		run: func(ctx context.Context, e *env) (code int) {
			r := &benchRunner{}
			defer r.close()
			defer func() {
				if p := recover(); p != nil {
					if p != r {
						panic(p)
					}
					fmt.Fprintln(e.stderr, "mesa bench:", r.failed)
					code = exitFail
				}
			}()
			if *cpuprofile != "" {
				f, err := os.Create(*cpuprofile)
				if err != nil {
					fmt.Fprintln(e.stderr, "mesa bench:", err)
					return exitFail
				}
				defer f.Close()
				pprof.StartCPUProfile(f)
				defer pprof.StopCPUProfile()
			}
			if err := benchIntake(ctx, r, e, benchOptions{n: *n, latN: *lat, size: *size, largeMB: *largeMB,
				senders: max(*senders, 1), statements: *statements, prefill: *prefill}); err != nil {
				fmt.Fprintln(e.stderr, "mesa bench:", err)
				return exitFail
			}
			return exitOK
		},
	}
}

// benchOptions are the flags of `mesa bench intake`.
type benchOptions struct {
	n, latN, size, largeMB int
	senders                int  // the throughput run's mails come from this many senders, in turn
	statements             int  // print the top statements by total time
	prefill                bool // time the intake alone, of mails appended before it starts
}

func benchIntake(ctx context.Context, r *benchRunner, e *env, o benchOptions) error {
	n, latN, size, largeMB := o.n, o.latN, o.size, o.largeMB
	srv := testimap.Start(r, "mesa")
	url := testpg.NewDatabase(r)
	db, err := store.Open(ctx, "postgres", url, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return err
	}
	cfg := *e.cfg
	cfg.Desk.Addresses = []string{"mesa@entidad.gov.co"}
	cfg.Limits.RepliesPerSenderPerHour = 0
	d, err := buildDesk(&cfg, db, slog.New(slog.DiscardHandler), time.Now)
	if err != nil {
		return err
	}
	var mu sync.Mutex
	committed := map[string]time.Time{}
	p, err := mailin.NewPoller(mailin.Options{Addr: srv.Addr, TLS: "none", Username: "mesa", Password: "mesapw",
		State: db, Logger: slog.New(slog.DiscardHandler), MaxSize: int64(largeMB+1) << 20,
		Handle: func(ctx context.Context, raw []byte, in *ticket.Inbound, src ticket.Source) error {
			if err := d.HandleMail(ctx, raw, in, src); err != nil {
				return err
			}
			mu.Lock()
			committed[in.MessageID] = time.Now()
			mu.Unlock()
			return nil
		}})
	if err != nil {
		return err
	}
	pctx, stop := context.WithCancel(ctx)
	defer stop()
	running := make(chan struct{})
	go func() { defer close(running); p.Run(pctx) }()
	c, err := imapclient.DialInsecure(srv.Addr, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Login("mesa", "mesapw").Wait(); err != nil {
		return err
	}
	appendMsg := func(raw []byte) error { return testimap.Append(c, "INBOX", raw) }
	// done reports whether ids[from:] are all committed, and how many of
	// them are, in order: wait resumes from the first missing one instead
	// of checking all ids every 2 ms under the lock the handler takes (that
	// cost the bench 15 % of the run's CPU).
	done := func(ids []string) int {
		mu.Lock()
		defer mu.Unlock()
		for i, id := range ids {
			if _, ok := committed[id]; !ok {
				return i
			}
		}
		return len(ids)
	}
	wait := func(within time.Duration, ids ...string) error {
		deadline := time.Now().Add(within)
		for {
			ids = ids[done(ids):]
			if len(ids) == 0 {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("messages not committed within %s", within)
			}
			time.Sleep(2 * time.Millisecond)
		}
		return nil
	}
	// Warm up: the poller is connected and idle.
	if err := appendMsg(mailin.SampleMessageWithID(size, "warmup@bench", "Calentamiento")); err != nil {
		return err
	}
	if err := wait(30*time.Second, "warmup@bench"); err != nil {
		return err
	}

	subjects := []string{"La impresora no imprime", "No conecta la VPN", "La silla está coja", "Gotera encima del puesto", "No me abre el correo"}
	msgs := make([][]byte, n)
	ids := make([]string, n)
	for i := range msgs {
		ids[i] = fmt.Sprintf("t%d@bench", i)
		subject := fmt.Sprintf("%s %d", subjects[i%len(subjects)], i)
		if k := i % o.senders; k == 0 {
			msgs[i] = mailin.SampleMessageWithID(size, ids[i], subject) // the one sender of --senders 1
		} else {
			msgs[i] = mailin.SampleMessageFrom(size, fmt.Sprintf("Usuario %d <usuario%d@entidad.gov.co>", k, k), ids[i], subject)
		}
	}
	type stmtCost struct {
		query string
		n     int
		total time.Duration
	}
	var smu sync.Mutex
	costs := map[string]*stmtCost{}
	if o.statements > 0 {
		db.TraceStatements(func(q string, d time.Duration) {
			smu.Lock()
			c := costs[q]
			if c == nil {
				c = &stmtCost{query: q}
				costs[q] = c
			}
			c.n++
			c.total += d
			smu.Unlock()
		})
	}
	if o.prefill {
		// The poller stops while the mails are appended, and the clock
		// starts when it starts again: the intake alone, without the
		// appending client and Dovecot's APPENDs on the same cores.
		stop()
		<-running
		for _, m := range msgs {
			if err := appendMsg(m); err != nil {
				return err
			}
		}
	}
	st0, tx0 := db.RoundTrips()
	start := time.Now()
	if o.prefill {
		pctx2, stop2 := context.WithCancel(ctx)
		defer stop2()
		go p.Run(pctx2)
	} else {
		for _, m := range msgs {
			if err := appendMsg(m); err != nil {
				return err
			}
		}
	}
	appended := time.Since(start)
	if err := wait(10*time.Minute, ids...); err != nil {
		return err
	}
	total := time.Since(start)
	if o.prefill {
		fmt.Fprintf(e.stdout, "throughput: %d messages of %d bytes waiting in the INBOX, all committed in PostgreSQL %s after the poller started: %.0f msgs/s\n",
			n, size, total.Round(time.Millisecond), float64(n)/total.Seconds())
	} else {
		fmt.Fprintf(e.stdout, "throughput: %d messages of %d bytes appended in %s, all committed in PostgreSQL after %s: %.0f msgs/s\n",
			n, size, appended.Round(time.Millisecond), total.Round(time.Millisecond), float64(n)/total.Seconds())
	}
	st1, tx1 := db.RoundTrips()
	fmt.Fprintf(e.stdout, "round trips to PostgreSQL per message (poller and desk, this run): %.1f statements, %.1f transactions\n",
		float64(st1-st0)/float64(n), float64(tx1-tx0)/float64(n))
	if o.statements > 0 {
		db.TraceStatements(nil)
		smu.Lock()
		var all []*stmtCost
		var sum time.Duration
		for _, c := range costs {
			all = append(all, c)
			sum += c.total
		}
		smu.Unlock()
		sort.Slice(all, func(i, j int) bool { return all[i].total > all[j].total })
		fmt.Fprintf(e.stdout, "statements of the throughput run: %s in all, the %d costliest:\n", sum.Round(time.Millisecond), min(o.statements, len(all)))
		for _, c := range all[:min(o.statements, len(all))] {
			fmt.Fprintf(e.stdout, "  %8s %6d× %7.3f ms  %s\n", c.total.Round(time.Millisecond), c.n,
				float64(c.total.Microseconds())/1000/float64(c.n), trimQuery(c.query, 160))
		}
	}

	var lats []time.Duration
	for i := 0; i < latN; i++ {
		time.Sleep(50 * time.Millisecond) // idle again
		id := fmt.Sprintf("l%d@bench", i)
		t0 := time.Now()
		if err := appendMsg(mailin.SampleMessageWithID(size, id, "Latencia "+strconv.Itoa(i))); err != nil {
			return err
		}
		if err := wait(time.Minute, id); err != nil {
			return err
		}
		mu.Lock()
		lats = append(lats, committed[id].Sub(t0))
		mu.Unlock()
	}
	if len(lats) > 0 {
		sort.Slice(lats, func(i, j int) bool { return lats[i] < lats[j] })
		pct := func(p float64) time.Duration { return lats[min(len(lats)-1, int(p*float64(len(lats))))] }
		fmt.Fprintf(e.stdout, "latency APPEND→commit while idle, %d messages: p50 %s, p99 %s, max %s\n",
			len(lats), pct(0.50).Round(time.Millisecond), pct(0.99).Round(time.Millisecond), lats[len(lats)-1].Round(time.Millisecond))
	}

	if largeMB > 0 {
		big := mailin.SampleMessageWithID(largeMB<<20, "large@bench", "Video de la inundación")
		runtime.GC()
		debug.FreeOSMemory()
		base := rss("VmRSS")
		os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) // reset the peak (VmHWM), Linux ≥ 4.0
		if err := appendMsg(big); err != nil {
			return err
		}
		if err := wait(5*time.Minute, "large@bench"); err != nil {
			return err
		}
		peak := rss("VmHWM")
		fmt.Fprintf(e.stdout, "large message: %d MB; RSS before %d MB, peak %d MB: peak growth %d MB = %.1f× the message (the message itself is resident while the benchmark holds it)\n",
			len(big)>>20, base>>20, peak>>20, (peak-base)>>20, float64(peak-base)/float64(len(big)))
	}
	// Every message was moved out of the INBOX once committed.
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := c.Status("INBOX", &imap.StatusOptions{NumMessages: true}).Wait()
		if err != nil {
			return err
		}
		if *st.NumMessages == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d messages left in INBOX", *st.NumMessages)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// trimQuery is a statement on one line, at most n bytes of it.
func trimQuery(q string, n int) string {
	q = strings.Join(strings.Fields(q), " ")
	if len(q) > n {
		q = q[:n] + "…"
	}
	return q
}

// rss reads a size field of /proc/self/status in bytes.
func rss(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
