package mailout

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/internal/testsmtp"
	"github.com/mesadeservicios/mesa/store"
	"github.com/mesadeservicios/mesa/ticket"
)

// BenchmarkOutbox sends b.N queued mails of about 3 KB to the in-process
// SMTP sink, one connection per mail, recording each outcome in SQLite.
func BenchmarkOutbox(b *testing.B) {
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite", filepath.Join(b.TempDir(), "m.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.Migrate(ctx)
	now := time.Date(2026, 3, 24, 14, 0, 0, 0, time.UTC)
	body := make([]byte, 3<<10)
	for i := range body {
		body[i] = 'a' + byte(i%26)
		if i%70 == 69 {
			body[i] = '\n'
		}
	}
	for i := 0; i < b.N; i++ {
		raw := append([]byte(fmt.Sprintf("From: mesa@x.co\r\nTo: ana@x.co\r\nSubject: aviso %d\r\n\r\n", i)), body...)
		if err := db.EnqueueMail(ctx, &ticket.Outgoing{DedupeKey: fmt.Sprint(i), From: "mesa@x.co", To: []string{"ana@x.co"},
			Raw: raw, NextAttemptAt: now, CreatedAt: now}); err != nil {
			b.Fatal(err)
		}
	}
	s := testsmtp.Start(b, "")
	sender, _ := NewSMTP(SMTPOptions{Addr: s.Addr, TLS: "none"})
	w := NewWorker(db, sender, WorkerOptions{Now: func() time.Time { return now }, Batch: 50, Logger: slog.New(slog.DiscardHandler)})
	b.ResetTimer()
	start := time.Now()
	for sent := 0; sent < b.N; {
		n, err := w.Once(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if n == 0 {
			b.Fatalf("nothing due, %d of %d sent", sent, b.N)
		}
		sent += n
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "mails/s")
	if got := len(s.Messages()); got != b.N || w.Stats().Sent != b.N {
		b.Fatalf("sink got %d, worker sent %d, want %d", got, w.Stats().Sent, b.N)
	}
}
