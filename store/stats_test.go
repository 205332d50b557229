package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/store/storetest"
	"github.com/mesadeservicios/mesa/ticket"
)

func TestStats(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	at := time.Date(2026, 3, 24, 14, 0, 0, 0, time.UTC)
	for i, st := range []ticket.State{ticket.Abierto, ticket.Abierto, ticket.Cerrado} {
		n := ticket.Number{Prefix: "MS", Year: 2026, Seq: int64(i + 1)}.String()
		if err := db.CreateTicket(ctx, &ticket.Ticket{Number: n, Year: 2026, Seq: int64(i + 1), Subject: "x", Requester: "a@b.co",
			State: st, Type: ticket.Incidente, Criticality: ticket.Media, Category: "x", CreatedAt: at, UpdatedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	by, err := db.CountByState(ctx)
	if err != nil || by[ticket.Abierto] != 2 || by[ticket.Cerrado] != 1 {
		t.Errorf("by state: %v %v", by, err)
	}
	counts, oldest, err := db.OutboxStats(ctx, at)
	if err != nil || len(counts) != 0 || !oldest.IsZero() {
		t.Errorf("empty outbox: %v %v %v", counts, oldest, err)
	}
	for i, next := range []time.Time{at.Add(-time.Hour), at.Add(-time.Minute), at.Add(time.Hour)} {
		db.EnqueueMail(ctx, &ticket.Outgoing{DedupeKey: string(rune('a' + i)), From: "m@x.co", To: []string{"a@b.co"}, Raw: []byte("x"),
			NextAttemptAt: next, CreatedAt: at})
	}
	counts, oldest, err = db.OutboxStats(ctx, at)
	if err != nil || counts["pending"] != 3 || !oldest.Equal(at.Add(-time.Hour)) {
		t.Errorf("outbox: %v %v %v", counts, oldest, err)
	}
}
