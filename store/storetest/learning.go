package storetest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/store"
	"github.com/mesadeservicios/mesa/ticket"
)

// testLearning checks the queries the classifier learns and reports from:
// a ticket never recategorised, one moved twice (and its criticality
// changed), one moved once.
func testLearning(t *testing.T, db *store.DB) {
	ctx := context.Background()
	type change struct {
		kind     ticket.EventKind
		from, to string
	}
	mk := func(subject, body, initial string, changes ...change) {
		t.Helper()
		tk := newTicket(t, ctx, db, 2026)
		tk.Subject, tk.Category = subject, initial
		for _, c := range changes {
			switch c.kind {
			case ticket.EventCategoryChanged:
				tk.Category = c.to
			case ticket.EventCriticalityChanged:
				tk.Criticality = ticket.Criticality(c.to)
			}
		}
		if err := db.UpdateTicket(ctx, tk); err != nil {
			t.Fatal(err)
		}
		if err := db.AddEvent(ctx, &ticket.Event{TicketID: tk.ID, Kind: ticket.EventCreated, Actor: tk.Requester, At: at, Body: body}); err != nil {
			t.Fatal(err)
		}
		for i, c := range changes {
			err := db.AddEvent(ctx, &ticket.Event{TicketID: tk.ID, Kind: c.kind, Actor: "tec@entidad.gov.co",
				At: at.Add(time.Duration(i+1) * time.Minute), From: c.from, To: c.to})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	mk("impresora", "no imprime", "ti.soporte")
	mk("ayuda", "la chapa de la puerta no cierra", ticket.Unclassified,
		change{ticket.EventCategoryChanged, ticket.Unclassified, "adm.inmuebles.ventana"},
		change{ticket.EventCriticalityChanged, "media", "baja"},
		change{ticket.EventCategoryChanged, "adm.inmuebles.ventana", "adm.inmuebles.puerta"})
	mk("vpn", "no conecta la vpn", "ti.redes", change{ticket.EventCategoryChanged, "ti.redes", "ti.vpn"})

	got, err := db.Corrections(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []ticket.Correction{
		{Requester: "ana@entidad.gov.co", Subject: "ayuda", Body: "la chapa de la puerta no cierra", Category: "adm.inmuebles.puerta", Criticality: "baja"},
		{Requester: "ana@entidad.gov.co", Subject: "vpn", Body: "no conecta la vpn", Category: "ti.vpn"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Corrections:\ngot  %+v\nwant %+v", got, want)
	}
	outs, err := db.Outcomes(ctx, at.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var summary [][3]string
	for _, o := range outs {
		ch := "kept"
		if o.Changed {
			ch = "changed"
		}
		summary = append(summary, [3]string{o.Initial, o.Final, ch})
		if !o.Created.Equal(at.Truncate(time.Microsecond)) && !o.Created.Equal(at) {
			t.Errorf("outcome created %v, want %v", o.Created, at)
		}
	}
	wantOut := [][3]string{{"ti.soporte", "ti.soporte", "kept"}, {ticket.Unclassified, "adm.inmuebles.puerta", "changed"}, {"ti.redes", "ti.vpn", "changed"}}
	if !reflect.DeepEqual(summary, wantOut) {
		t.Errorf("Outcomes: got %v, want %v", summary, wantOut)
	}
	if outs, err := db.Outcomes(ctx, at.Add(time.Hour)); err != nil || len(outs) != 0 {
		t.Errorf("Outcomes after the last ticket: %d, %v; want none", len(outs), err)
	}
}
