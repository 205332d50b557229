package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/desk"
	"github.com/mesadeservicios/mesa/internal/testpg"
	"github.com/mesadeservicios/mesa/store"
	"github.com/mesadeservicios/mesa/store/storetest"
	"github.com/mesadeservicios/mesa/ticket"
	"github.com/mesadeservicios/mesa/web"
)

// BenchmarkLookupLoad serves the status page and the JSON API to 32
// concurrent clients over loopback, on each database, and reports requests
// per second and the 99th percentile latency. One op is one request.
func BenchmarkLookupLoad(b *testing.B) {
	for _, driver := range []string{"sqlite", "postgres"} {
		for _, kind := range []string{"page", "api"} {
			b.Run(driver+"/"+kind, func(b *testing.B) { loadRun(b, driver, kind) })
		}
	}
}

func loadRun(b *testing.B, driver, kind string) {
	ctx := context.Background()
	var db *store.DB
	if driver == "sqlite" {
		db = storetest.SQLite(b)
	} else {
		var err error
		// The default pool, as serve runs it.
		if db, err = store.Open(ctx, "postgres", testpg.NewDatabase(b), nil); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
		db.Migrate(ctx)
	}
	d, eng := newDesk(b, db, time.Now)
	var tickets []*ticket.Ticket
	for i := 0; i < 50; i++ {
		tk, err := d.Create(ctx, desk.NewTicket{Subject: fmt.Sprintf("La impresora %d no imprime", i), Requester: "ana@entidad.gov.co",
			Body: "Sale papel atascado."})
		if err != nil {
			b.Fatal(err)
		}
		d.Comment(ctx, tk.Number, "carlos@entidad.gov.co", "Vamos en camino.", false)
		tickets = append(tickets, tk)
	}
	srv := httptest.NewServer(server(b, web.Deps{Desk: d, DB: db, Catalogue: eng}, web.Options{LookupsPerMinute: 1 << 30}))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	const workers = 32
	var mu sync.Mutex
	var lat []time.Duration
	var next int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= int64(b.N) {
					break
				}
				tk := tickets[i%int64(len(tickets))]
				var req *http.Request
				if kind == "page" {
					req, _ = http.NewRequest("GET", srv.URL+"/t/"+tk.Number+"?clave="+url.QueryEscape(tk.AccessKey), nil)
				} else {
					req, _ = http.NewRequest("GET", srv.URL+"/api/v1/tickets/"+tk.Number, nil)
					req.Header.Set("Authorization", "Bearer "+tk.AccessKey)
				}
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	if len(lat) > 0 {
		b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "req/s")
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50_ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99_ms")
	}
}
