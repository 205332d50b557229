package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/internal/testimap"
	"github.com/mesadeservicios/mesa/internal/testpg"
	"github.com/mesadeservicios/mesa/internal/testsmtp"
)

// soakSample is one reading of the daemon's /metrics.
type soakSample struct {
	at         time.Duration
	rss, heap  float64
	goroutines float64
	appended   int
}

// TestSoak feeds mesa, a separate process, MESA_SOAK_RATE mails a second
// (10) for MESA_SOAK_DURATION (20 s in make test; make soak: 30 min) and
// samples its resident memory, heap and goroutines from /metrics. After
// the warm-up (the first third, at most 5 minutes) resident memory must
// stay flat (growth under 10 % from the end of the warm-up to the end of
// the run, in runs of 5 minutes or more) and the goroutines must not grow;
// every mail must be processed.
func TestSoak(t *testing.T) {
	dur := 20 * time.Second
	if v, err := time.ParseDuration(os.Getenv("MESA_SOAK_DURATION")); err == nil && v > 0 {
		dur = v
	}
	rate := 10
	if v, err := strconv.Atoi(os.Getenv("MESA_SOAK_RATE")); err == nil && v > 0 {
		rate = v
	}
	warm := min(dur/3, 5*time.Minute)
	dc := testimap.Start(t, "mesa")
	sink := testsmtp.Start(t, "")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	httpAddr := l.Addr().String() // the admin listener's, where /metrics is
	l.Close()
	startFleet(t, []string{"serve"}, processEnv(loopbackEnv(testpg.NewDatabase(t), dc.Addr, sink.Addr,
		"MESA_HTTP_ADMIN_LISTEN="+httpAddr, "MESA_LOG_LEVEL=warn")), "soak")

	// The feed starts once the daemon answers on its admin listener.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if _, err := scrape(httpAddr); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("mesa's /metrics did not answer within 30 s: %v", err)
		}
	}
	c := loginMesa(t, dc.Addr)
	defer c.Close()
	var samples []soakSample
	every := max(dur/60, time.Second)
	start := time.Now()
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	nextSample := start.Add(every)
	appended := 0
	for time.Since(start) < dur {
		<-tick.C
		var raw string
		if appended%5 == 4 {
			// A requester's reply to an earlier request of the soak.
			j := appended - 4
			raw = fmt.Sprintf("From: Empleado %d <empleado%d@entidad.gov.co>\r\nTo: mesa@entidad.gov.co\r\nSubject: RE: No imprime la impresora %d\r\n"+
				"Message-ID: <soak-reply-%d@entidad.gov.co>\r\nIn-Reply-To: <req-%d@entidad.gov.co>\r\n\r\nSigue sin imprimir.\r\n", j, j, j, appended, j)
		} else {
			raw = request(appended)
		}
		appendMail(t, c, raw)
		appended++
		if time.Now().After(nextSample) {
			nextSample = nextSample.Add(every)
			s, err := scrape(httpAddr)
			if err != nil {
				t.Fatal(err)
			}
			s.at, s.appended = time.Since(start).Round(time.Second), appended
			samples = append(samples, s)
		}
	}
	// Every mail processed.
	deadline := time.Now().Add(2 * time.Minute)
	for count(t, c, "INBOX") > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d mails still in the INBOX two minutes after the soak", count(t, c, "INBOX"))
		}
		time.Sleep(200 * time.Millisecond)
	}
	if got := count(t, c, "Procesados"); got != appended {
		t.Errorf("processed %d of %d mails", got, appended)
	}

	var b strings.Builder
	for _, s := range samples {
		fmt.Fprintf(&b, "  %8s  %6d mails  RSS %6.1f MiB  heap %6.1f MiB  %4.0f goroutines\n", s.at, s.appended, s.rss/(1<<20), s.heap/(1<<20), s.goroutines)
	}
	t.Logf("soak: %s at %d mails/s, %d mails; samples every %s:\n%s", dur, rate, appended, every, b.String())
	var after []soakSample
	for _, s := range samples {
		if s.at >= warm {
			after = append(after, s)
		}
	}
	if len(after) < 4 {
		t.Fatalf("only %d samples after the warm-up", len(after))
	}
	// Medians of the first and last tenth (at least two samples) after the
	// warm-up, so that one garbage collection does not decide.
	k := max(2, len(after)/10)
	median := func(ss []soakSample, f func(soakSample) float64) float64 {
		v := make([]float64, len(ss))
		for i, s := range ss {
			v[i] = f(s)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	rss := func(s soakSample) float64 { return s.rss }
	gor := func(s soakSample) float64 { return s.goroutines }
	rss0, rss1 := median(after[:k], rss), median(after[len(after)-k:], rss)
	g0, g1 := median(after[:k], gor), median(after[len(after)-k:], gor)
	growth := rss1/rss0 - 1
	t.Logf("after the %s warm-up: RSS %.1f → %.1f MiB (%+.1f %%), goroutines %.0f → %.0f", warm.Round(time.Second), rss0/(1<<20), rss1/(1<<20), 100*growth, g0, g1)
	if dur >= 5*time.Minute && growth >= 0.10 {
		t.Errorf("resident memory grew %.1f %% after the warm-up (limit 10 %%)", 100*growth)
	}
	if g1 > g0+10 {
		t.Errorf("goroutines grew from %.0f to %.0f: a leak", g0, g1)
	}
}

// scrape reads the memory and goroutine gauges from mesa's /metrics.
func scrape(addr string) (soakSample, error) {
	var s soakSample
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return s, err
	}
	defer resp.Body.Close()
	found := 0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		var dst *float64
		switch name {
		case "process_resident_memory_bytes":
			dst = &s.rss
		case "go_memstats_heap_inuse_bytes":
			dst = &s.heap
		case "go_goroutines":
			dst = &s.goroutines
		default:
			continue
		}
		if *dst, err = strconv.ParseFloat(val, 64); err != nil {
			return s, fmt.Errorf("%s: %w", name, err)
		}
		found++
	}
	if found != 3 {
		return s, fmt.Errorf("/metrics lacks process_resident_memory_bytes, go_memstats_heap_inuse_bytes or go_goroutines")
	}
	return s, sc.Err()
}
