package desk_test

import (
	"context"
	"strings"
	"testing"

	"github.com/mesadeservicios/mesa/desk"
	"github.com/mesadeservicios/mesa/ticket"
)

// A desk with two groups: the digest of infraestructura's manager shows
// only its tickets; one without groups sees everything.
func TestDigest(t *testing.T) {
	ctx := context.Background()
	e := newSLAEnv(t, nil, desk.Config{})
	e.db.SaveGroup(ctx, ticket.Group{Key: "mantenimiento"})
	e.db.SavePerson(ctx, &ticket.Person{Email: "olga@entidad.gov.co", Role: ticket.RoleTechnician, Level: 1, Groups: []string{"mantenimiento"}, Active: true})
	e.db.SavePerson(ctx, &ticket.Person{Email: "director@entidad.gov.co", Role: ticket.RoleManager, Active: true})
	vpn := func(who string) *ticket.Ticket {
		tk, err := e.d.Create(ctx, desk.NewTicket{Subject: "VPN " + who, Requester: who, Body: "El FortiClient no conecta."})
		if err != nil || tk.Group != "infraestructura" {
			t.Fatalf("%v %v", tk, err)
		}
		return tk
	}
	// Last week: two VPN tickets closed, one on time (8 h) and one late.
	e.at(3, 16, 8, 0)
	onTime, late := vpn("a@entidad.gov.co"), vpn("b@entidad.gov.co")
	e.at(3, 16, 15, 0)
	e.d.Transition(ctx, onTime.Number, ticket.Cerrado, "carlos@entidad.gov.co", "Listo.")
	e.at(3, 18, 9, 0)
	e.d.Transition(ctx, late.Number, ticket.Cerrado, "carlos@entidad.gov.co", "Listo.")
	// Held since Thursday 19 March (more than 3 business days by Wednesday 25).
	e.at(3, 19, 9, 0)
	held := vpn("c@entidad.gov.co")
	e.d.Transition(ctx, held.Number, ticket.Retenido, "carlos@entidad.gov.co", "Esperando el F-DE-10")
	// Monday 23 (a holiday) and Tuesday: one breached, one due today.
	e.at(3, 24, 8, 0)
	breached := vpn("d@entidad.gov.co") // due Tuesday 16:00
	e.at(3, 25, 9, 0)
	today := vpn("e@entidad.gov.co") // due Wednesday 17:00
	chair, _ := e.d.Create(ctx, desk.NewTicket{Subject: "Silla rota", Requester: "f@entidad.gov.co", Body: "La silla tiene la rodachina rota."})
	if chair.Group != "mantenimiento" {
		t.Fatalf("chair group %q", chair.Group)
	}
	e.at(3, 25, 10, 0)
	dg, err := e.d.BuildDigest(ctx, []string{"infraestructura"}, "daily")
	if err != nil {
		t.Fatal(err)
	}
	if dg.Open != 3 || len(dg.Breached) != 1 || dg.Breached[0].Number != breached.Number ||
		len(dg.DueToday) != 1 || dg.DueToday[0].Number != today.Number || len(dg.LongHeld) != 1 || dg.LongHeld[0].Number != held.Number {
		t.Fatalf("digest: open %d breached %v due today %v held %v", dg.Open, dg.Breached, dg.DueToday, dg.LongHeld)
	}
	if dg.Last30 != (desk.Compliance{Met: 1, Total: 2}) || dg.Last7 != (desk.Compliance{}) { // both closures are older than 19 March
		t.Errorf("compliance: 7 %+v, 30 %+v", dg.Last7, dg.Last30)
	}
	if len(dg.Trend) != 14 || dg.Trend[13].Total != 0 || trendOn(dg, 16).Met != 1 || trendOn(dg, 18).Total != 1 || trendOn(dg, 18).Met != 0 {
		t.Errorf("trend: %+v", dg.Trend)
	}
	if len(dg.ByGroup) != 1 || dg.ByGroup[0] != (desk.Count{Key: "infraestructura", N: 3}) {
		t.Errorf("scoped to infraestructura: %+v", dg.ByGroup)
	}
	whole, _ := e.d.BuildDigest(ctx, nil, "weekly")
	if whole.Open != 4 || len(whole.ByGroup) != 2 {
		t.Errorf("whole desk: open %d groups %+v", whole.Open, whole.ByGroup)
	}
	if dg.Oldest[0].Number != held.Number {
		t.Errorf("oldest: %s", dg.Oldest[0].Number)
	}
}

func trendOn(dg *desk.Digest, day int) desk.Compliance {
	for _, c := range dg.Trend {
		if c.Day.Day() == day {
			return c
		}
	}
	return desk.Compliance{Total: -1}
}

func TestSendDigests(t *testing.T) {
	ctx := context.Background()
	e := newSLAEnv(t, nil, desk.Config{})
	e.db.SavePerson(ctx, &ticket.Person{Email: "director@entidad.gov.co", Role: ticket.RoleManager, Active: true})
	e.at(3, 24, 7, 30)
	e.d.Create(ctx, desk.NewTicket{Subject: "VPN", Requester: "a@entidad.gov.co", Body: "El FortiClient no conecta."})
	n, err := e.d.SendDigests(ctx, "daily")
	if err != nil || n != 2 {
		t.Fatalf("sent %d, %v; want 2 managers", n, err)
	}
	if n, _ := e.d.SendDigests(ctx, "daily"); n != 0 {
		t.Errorf("rerun the same day sent %d", n)
	}
	if n, _ := e.d.SendDigests(ctx, "weekly"); n != 2 {
		t.Errorf("weekly: %d", n)
	}
	got := e.mailsTo(t, "marta@entidad.gov.co", "Resumen diario")
	if len(got) != 1 || !strings.Contains(got[0].Text, "Grupos: infraestructura") || !strings.Contains(got[0].HTML, "cid:cumplimiento.png") {
		t.Errorf("marta's digest: %+v", got)
	}
	if got := e.mailsTo(t, "director@entidad.gov.co", "Resumen diario"); len(got) != 1 || !strings.Contains(got[0].Text, "Toda la mesa") {
		t.Errorf("director's digest: %+v", got)
	}
}
