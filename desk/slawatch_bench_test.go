package desk_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	_ "github.com/lib/pq"

	"github.com/mesadeservicios/mesa/desk"
	"github.com/mesadeservicios/mesa/internal/testpg"
	"github.com/mesadeservicios/mesa/store"
)

// BenchmarkSLAWatch runs the SLA watch over 1,000,000 tickets in
// PostgreSQL, 100,000 of them open with their next alert spread over the
// coming weeks. Before each run (untimed) 50 open tickets are made due, as
// in a busy minute; one op is one run of the watch: it finds them through
// the index, records 50 warnings and queues the alert mails. quiet_ms/run
// is a run with nothing due.
func BenchmarkSLAWatch(b *testing.B) {
	ctx := context.Background()
	dsn := testpg.NewDatabase(b)
	db, err := store.Open(ctx, "postgres", dsn, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	e := newSLAEnv(b, db, desk.Config{AlertOutOfHours: true})
	raw, err := sql.Open("postgres", dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	now := time.Date(2026, 3, 24, 10, 0, 0, 0, e.bog)
	e.now = now
	// 900,000 closed and 100,000 open tickets, in one statement.
	_, err = raw.ExecContext(ctx, `INSERT INTO tickets (number, year, seq, subject, requester, state, type,
		criticality, category, group_key, assignee, access_key, created_at, updated_at, due_at, sla_warn_at, sla_next_at, closed_at)
		SELECT 'MS-2026-' || lpad(i::text, 7, '0'), 2026, i, 'Caso ' || i, 'u' || (i % 5000) || '@entidad.gov.co',
			CASE WHEN i <= 900000 THEN 'cerrado' ELSE 'en_proceso' END, 'incidente', 'media', 'ti.vpn', 'infraestructura',
			CASE WHEN i % 2 = 0 THEN 'carlos@entidad.gov.co' ELSE 'diana@entidad.gov.co' END, 'sha256:x',
			$1::timestamptz - interval '1 day', $1::timestamptz,
			$1::timestamptz + (i % 1000) * interval '1 hour' + interval '2 hour',
			$1::timestamptz + (i % 1000) * interval '1 hour' + interval '1 hour',
			CASE WHEN i <= 900000 THEN NULL ELSE $1::timestamptz + (i % 1000) * interval '1 hour' + interval '1 hour' END,
			CASE WHEN i <= 900000 THEN $1::timestamptz ELSE NULL END
		FROM generate_series(1, 1000000) AS i`, now.UTC())
	if err != nil {
		b.Fatal(err)
	}
	if _, err := raw.ExecContext(ctx, `ANALYZE tickets`); err != nil {
		b.Fatal(err)
	}
	next := 900001
	b.ResetTimer()
	var total time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		if _, err := raw.ExecContext(ctx, `UPDATE tickets SET sla_next_at = $1 WHERE id IN
			(SELECT id FROM tickets WHERE seq >= $2 AND seq < $3)`, now.Add(-time.Second).UTC(), next, next+50); err != nil {
			b.Fatal(err)
		}
		next += 50
		b.StartTimer()
		t0 := time.Now()
		rep := e.watch(b)
		total += time.Since(t0)
		if rep.Warned != 50 {
			b.Fatalf("run %d: %+v, want 50 warned", i, rep)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms/run")
	// A quiet minute: nothing due, the run is one index probe.
	t0 := time.Now()
	for i := 0; i < 20; i++ {
		if rep := e.watch(b); rep != (desk.SLAReport{}) {
			b.Fatalf("quiet run: %+v", rep)
		}
	}
	b.ReportMetric(float64(time.Since(t0).Microseconds())/1000/20, "quiet_ms/run")
}
