package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/store"
	"github.com/mesadeservicios/mesa/ticket"
)

// testReportTickets: the report reads tickets created in the period or
// closed in it, with the rating of the latest answered survey.
func testReportTickets(t *testing.T, db *store.DB) {
	ctx := context.Background()
	from, to := at, at.Add(24*time.Hour)
	mk := func(group string, created time.Time, state ticket.State, closed *time.Time) *ticket.Ticket {
		seq, err := db.NextTicketSeq(ctx, 2026)
		if err != nil {
			t.Fatal(err)
		}
		fr := created.Add(time.Hour)
		tk := &ticket.Ticket{
			Number: ticket.Number{Prefix: "MS", Year: 2026, Seq: seq}.String(), Year: 2026, Seq: seq,
			Subject: "No hay red", Requester: "ana@entidad.gov.co", State: state, Type: ticket.Incidente,
			Criticality: ticket.Media, Category: "ti.redes", Group: group, ClosedAt: closed, FirstResponseAt: &fr,
			AccessKeyHash: ticket.HashAccessKey(fmt.Sprintf("r%d", seq)), CreatedAt: created, UpdatedAt: created,
		}
		if err := db.CreateTicket(ctx, tk); err != nil {
			t.Fatal(err)
		}
		return tk
	}
	before, inside, after := from.Add(-48*time.Hour), from.Add(time.Hour), to.Add(time.Hour)
	closedInside := from.Add(2 * time.Hour)
	openedIn := mk("a", inside, ticket.EnProceso, nil)
	closedIn := mk("a", before, ticket.Cerrado, &closedInside) // opened before, closed inside
	mk("a", before, ticket.EnProceso, nil)                     // neither
	mk("a", after, ticket.Abierto, nil)                        // after the period
	mk("a", before, ticket.AbiertoPorEncuesta, &closedInside)  // reopened by its survey: not closed
	atStart := mk("b", from, ticket.Cerrado, &closedInside)    // from is inclusive
	mk("b", to, ticket.Abierto, nil)                           // to is exclusive
	early, late := closedInside.Add(time.Hour), closedInside.Add(2*time.Hour)
	for i, s := range []*ticket.Survey{
		{TicketID: closedIn.ID, Token: "r1", SentAt: at, ClosedAt: at, Status: ticket.SurveyAnswered, Rating: 2, AnsweredAt: &early},
		{TicketID: closedIn.ID, Token: "r2", SentAt: at, ClosedAt: closedInside, Status: ticket.SurveyAnswered, Rating: 5, AnsweredAt: &late},
		{TicketID: atStart.ID, Token: "r3", SentAt: at, ClosedAt: closedInside, Status: ticket.SurveySent},
	} {
		if err := db.CreateSurvey(ctx, s); err != nil {
			t.Fatalf("survey %d: %v", i, err)
		}
	}

	got, err := db.ReportTickets(ctx, nil, from, to)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		id     int64
		rating int
	}{{closedIn.ID, 5}, {atStart.ID, 0}, {openedIn.ID, 0}} // by creation
	if len(got) != len(want) {
		t.Fatalf("got %d tickets, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		if got[i].Ticket.ID != w.id || got[i].Rating != w.rating {
			t.Errorf("row %d: got ticket %d rating %d, want ticket %d rating %d", i, got[i].Ticket.ID, got[i].Rating, w.id, w.rating)
		}
	}
	if fr := got[2].Ticket.FirstResponseAt; fr == nil || !fr.Equal(inside.Add(time.Hour)) || got[2].Ticket.Group != "a" {
		t.Errorf("ticket fields: got first response %v group %q", fr, got[2].Ticket.Group)
	}
	if got, err := db.ReportTickets(ctx, []string{"b"}, from, to); err != nil || len(got) != 1 || got[0].Ticket.ID != atStart.ID {
		t.Errorf("group b: got %+v %v, want the one ticket of b", got, err)
	}
	if got, err := db.ReportTickets(ctx, nil, to.Add(48*time.Hour), to.Add(72*time.Hour)); err != nil || len(got) != 0 {
		t.Errorf("empty period: got %d tickets %v", len(got), err)
	}
}
