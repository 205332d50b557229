package desk_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/desk"
	"github.com/mesadeservicios/mesa/mailin"
	"github.com/mesadeservicios/mesa/mailout"
	"github.com/mesadeservicios/mesa/rules"
	"github.com/mesadeservicios/mesa/sla"
	"github.com/mesadeservicios/mesa/store"
	"github.com/mesadeservicios/mesa/store/storetest"
	"github.com/mesadeservicios/mesa/ticket"
)

type slaEnv struct {
	d   *desk.Desk
	db  *store.DB
	now time.Time
	bog *time.Location
}

// newSLAEnv is a desk over SQLite with the real catalogue and calendar, the
// infraestructura group (technicians carlos and diana, manager marta) and
// a clock the test moves.
func newSLAEnv(t testing.TB, db *store.DB, cfg desk.Config) *slaEnv {
	t.Helper()
	ctx := context.Background()
	if db == nil {
		db = storetest.SQLite(t)
	}
	db.SaveGroup(ctx, ticket.Group{Key: "infraestructura"})
	for _, p := range []*ticket.Person{
		{Email: "carlos@entidad.gov.co", Role: ticket.RoleTechnician, Level: 1, Groups: []string{"infraestructura"}, Active: true},
		{Email: "diana@entidad.gov.co", Role: ticket.RoleTechnician, Level: 1, Groups: []string{"infraestructura"}, Active: true},
		{Email: "marta@entidad.gov.co", Role: ticket.RoleManager, Groups: []string{"infraestructura"}, Active: true},
	} {
		if err := db.SavePerson(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	eng, _ := rules.Default()
	cal, _ := sla.New(sla.Options{})
	r, err := mailout.New(mailout.Options{DeskName: "Mesa de Servicios", From: "mesa@entidad.gov.co", PublicURL: "https://mesa.x", Catalogue: eng})
	if err != nil {
		t.Fatal(err)
	}
	bog, _ := time.LoadLocation("America/Bogota")
	e := &slaEnv{db: db, bog: bog}
	cfg.Addresses = []string{"mesa@entidad.gov.co"}
	if e.d, err = desk.New(desk.Deps{Files: mailin.Decoder{}, Store: db, Mail: r, Calendar: cal, Classifier: eng, Logger: slog.New(slog.DiscardHandler),
		Now: func() time.Time { return e.now }, Config: cfg}); err != nil {
		t.Fatal(err)
	}
	return e
}

// at sets the clock to a Bogotá wall-clock time in 2026.
func (e *slaEnv) at(month time.Month, day, hour, min int) {
	e.now = time.Date(2026, month, day, hour, min, 0, 0, e.bog)
}

func (e *slaEnv) watch(t testing.TB) desk.SLAReport {
	t.Helper()
	rep, err := e.d.WatchSLA(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// alerts returns the SLA alert mails queued so far, by recipient.
func (e *slaEnv) alerts(t testing.TB) map[string][]*ticket.Inbound {
	t.Helper()
	rows, err := e.db.DueMail(context.Background(), e.now.Add(365*24*time.Hour), 100000)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]*ticket.Inbound{}
	for _, m := range rows {
		if strings.Contains(m.Subject, "ANS") {
			in, err := mailin.Parse(m.Raw)
			if err != nil {
				t.Fatal(err)
			}
			out[m.To[0]] = append(out[m.To[0]], in)
		}
	}
	return out
}

func kinds(t *testing.T, db *store.DB, id int64, only string) []string {
	t.Helper()
	evs, err := db.Events(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		if strings.HasPrefix(string(e.Kind), only) {
			out = append(out, string(e.Kind)+":"+e.To)
		}
	}
	return out
}

// A VPN incident (8 business hours) created Friday 20 March 2026 at 16:00:
// one hour on Friday, Monday 23 is a holiday (San José), so six hours are
// used at Tuesday 13:00 (the warning) and eight at Tuesday 15:00 (due).
func TestSLAWarningAndBreachAtBusinessInstants(t *testing.T) {
	ctx := context.Background()
	e := newSLAEnv(t, nil, desk.Config{})
	e.at(3, 20, 16, 0)
	tk, err := e.d.Create(ctx, desk.NewTicket{Subject: "No conecta la VPN", Requester: "ana@entidad.gov.co",
		Body: "Desde la casa el FortiClient no conecta, dice credenciales inválidas."})
	if err != nil {
		t.Fatal(err)
	}
	warnAt, dueAt := time.Date(2026, 3, 24, 13, 0, 0, 0, e.bog), time.Date(2026, 3, 24, 15, 0, 0, 0, e.bog)
	if tk.Category != "ti.vpn" || !tk.DueAt.Equal(dueAt) || !tk.SLAWarnAt.Equal(warnAt) || tk.Assignee == "" {
		t.Fatalf("ticket: %s due %v warn %v assignee %q", tk.Category, tk.DueAt, tk.SLAWarnAt, tk.Assignee)
	}
	// Over the night, the weekend and the holiday nothing is due.
	for _, when := range [][3]int{{20, 17, 0}, {21, 12, 0}, {23, 12, 0}, {24, 12, 59}} {
		e.at(3, when[0], when[1], when[2])
		if rep := e.watch(t); rep != (desk.SLAReport{}) {
			t.Fatalf("at %v: %+v", e.now, rep)
		}
	}
	e.now = warnAt
	if rep := e.watch(t); rep.Warned != 1 || rep.Breached != 0 || rep.Mails != 1 {
		t.Fatalf("at the warning: %+v", rep)
	}
	e.now = warnAt.Add(time.Minute)
	if rep := e.watch(t); rep != (desk.SLAReport{}) {
		t.Fatalf("the warning went out twice: %+v", rep)
	}
	e.now = dueAt.Add(-time.Second)
	if rep := e.watch(t); rep != (desk.SLAReport{}) {
		t.Fatalf("breached early: %+v", rep)
	}
	e.now = dueAt
	if rep := e.watch(t); rep.Breached != 1 || rep.Mails != 2 {
		t.Fatalf("at the breach: %+v (want the assignee and the manager)", rep)
	}
	e.now = dueAt.Add(time.Hour)
	if rep := e.watch(t); rep != (desk.SLAReport{}) {
		t.Fatalf("the breach went out twice: %+v", rep)
	}
	mails := e.alerts(t)
	if got := mails[tk.Assignee]; len(got) != 2 || !strings.Contains(got[0].Subject, "por vencer") ||
		!strings.Contains(got[1].Subject, "vencidos: 1") || !strings.Contains(got[1].Text, tk.Number) {
		t.Errorf("assignee's alerts: %+v", got)
	}
	if got := mails["marta@entidad.gov.co"]; len(got) != 1 || !strings.Contains(got[0].Text, "martes 24 de marzo de 2026, 3:00 p.m.") {
		t.Errorf("manager's alerts: %+v", got)
	}
	want := []string{"sla_started:2026-03-24T20:00:00Z", "sla_warning:2026-03-24T20:00:00Z", "sla_breached:2026-03-24T20:00:00Z"}
	if got := kinds(t, e.db, tk.ID, "sla_"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("SLA timeline: got %v, want %v", got, want)
	}
}

// A paused ticket never alerts; resuming pushes the warning and the due time
// by the paused business time, and a new due time (criticality changed)
// alerts again.
func TestSLAPauseAndNewDueTime(t *testing.T) {
	ctx := context.Background()
	e := newSLAEnv(t, nil, desk.Config{})
	e.at(3, 24, 8, 0)
	tk, _ := e.d.Create(ctx, desk.NewTicket{Subject: "No conecta la VPN", Requester: "ana@entidad.gov.co", Body: "El FortiClient no conecta."})
	// 8 hours: warning at 14:00, due at 16:00 the same Tuesday.
	e.at(3, 24, 10, 0)
	if _, err := e.d.Transition(ctx, tk.Number, ticket.Retenido, tk.Assignee, "Esperando el formato F-DE-10"); err != nil {
		t.Fatal(err)
	}
	e.at(3, 25, 17, 0) // a day and a half later, nothing while held
	if rep := e.watch(t); rep != (desk.SLAReport{}) {
		t.Fatalf("paused ticket alerted: %+v", rep)
	}
	e.at(3, 26, 8, 0) // resumed Thursday 08:00 after 16 business hours held
	got, err := e.d.Transition(ctx, tk.Number, ticket.EnProceso, tk.Assignee, "")
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 3, 26, 12, 0, 0, 0, e.bog); !got.SLAWarnAt.Equal(want) {
		t.Errorf("warning after resume: got %v, want %v", got.SLAWarnAt.In(e.bog), want)
	}
	e.at(3, 26, 11, 59)
	if rep := e.watch(t); rep != (desk.SLAReport{}) {
		t.Fatalf("early: %+v", rep)
	}
	e.at(3, 26, 12, 0)
	if rep := e.watch(t); rep.Warned != 1 {
		t.Fatalf("warning after resume: %+v", rep)
	}
	// The due time changes: the warning is for the new one, at once since
	// its 75 % is already used.
	if _, err := e.d.SetCriticality(ctx, tk.Number, tk.Assignee, ticket.Baja); err != nil {
		t.Fatal(err)
	}
	after, _ := e.db.TicketByNumber(ctx, tk.Number)
	if after.DueAt.Equal(*got.DueAt) {
		t.Fatal("the catalogue gives ti.vpn the same time for baja: pick a criticality that changes it")
	}
	if rep := e.watch(t); rep.Warned+rep.Breached != 1 {
		t.Errorf("new due time did not alert again: %+v", rep)
	}
	if k := kinds(t, e.db, tk.ID, "sla_due"); len(k) != 1 {
		t.Errorf("sla_due_changed events: %v", k)
	}
	// Closed: no more alerts, and the SLA met or not is on the timeline.
	e.d.Transition(ctx, tk.Number, ticket.Cerrado, tk.Assignee, "Se restableció la cuenta.")
	e.now = e.now.Add(30 * 24 * time.Hour)
	if rep := e.watch(t); rep != (desk.SLAReport{}) {
		t.Errorf("closed ticket alerted: %+v", rep)
	}
}

// 500 tickets breaching in the same minute: each person gets one mail
// listing theirs, not one per ticket.
func TestSLAManyBreachesOneMailPerPerson(t *testing.T) {
	ctx := context.Background()
	e := newSLAEnv(t, nil, desk.Config{})
	e.at(3, 24, 8, 0)
	for i := 0; i < 500; i++ {
		if _, err := e.d.Create(ctx, desk.NewTicket{Subject: fmt.Sprintf("VPN %d", i), Requester: fmt.Sprintf("u%d@entidad.gov.co", i),
			Body: "El FortiClient no conecta."}); err != nil {
			t.Fatal(err)
		}
	}
	e.at(3, 25, 9, 0) // past every due time and every warning
	rep := e.watch(t)
	if rep.Breached != 500 || rep.Warned != 0 || rep.Mails != 3 {
		t.Fatalf("report: %+v (want 500 breached, 3 mails: two technicians and the manager)", rep)
	}
	mails := e.alerts(t)
	total := 0
	for _, who := range []string{"carlos@entidad.gov.co", "diana@entidad.gov.co"} {
		if len(mails[who]) != 1 {
			t.Fatalf("%s got %d mails", who, len(mails[who]))
		}
		total += strings.Count(mails[who][0].Text, "MS-2026-")
	}
	if total != 500 || strings.Count(mails["marta@entidad.gov.co"][0].Text, "MS-2026-") != 500 {
		t.Errorf("listed: technicians %d, manager %d; want 500 each", total, strings.Count(mails["marta@entidad.gov.co"][0].Text, "MS-2026-"))
	}
}

// Outside business hours a media ticket's alert waits for the next
// opening; an alta one goes at once.
func TestSLAAlertsWaitForBusinessHours(t *testing.T) {
	ctx := context.Background()
	e := newSLAEnv(t, nil, desk.Config{})
	e.at(3, 24, 8, 0)
	media, _ := e.d.Create(ctx, desk.NewTicket{Subject: "VPN", Requester: "a@entidad.gov.co", Body: "El FortiClient no conecta."})
	alta, _ := e.d.Create(ctx, desk.NewTicket{Subject: "VPN", Requester: "b@entidad.gov.co", Body: "El FortiClient no conecta.",
		Criticality: ticket.Alta})
	e.at(3, 24, 20, 0) // Tuesday night: both are past due
	rep := e.watch(t)
	if rep.Breached != 1 || rep.Deferred != 1 {
		t.Fatalf("night: %+v", rep)
	}
	if k := kinds(t, e.db, alta.ID, "sla_breached"); len(k) != 1 {
		t.Errorf("alta not alerted at night: %v", k)
	}
	if k := kinds(t, e.db, media.ID, "sla_breached"); len(k) != 0 {
		t.Errorf("media alerted at night: %v", k)
	}
	e.at(3, 25, 7, 59)
	if rep := e.watch(t); rep != (desk.SLAReport{}) {
		t.Fatalf("before opening: %+v", rep)
	}
	e.at(3, 25, 8, 0)
	if rep := e.watch(t); rep.Breached != 1 {
		t.Fatalf("at opening: %+v", rep)
	}

	// With alert_out_of_hours every alert goes at once.
	e2 := newSLAEnv(t, nil, desk.Config{AlertOutOfHours: true})
	e2.at(3, 24, 8, 0)
	e2.d.Create(ctx, desk.NewTicket{Subject: "VPN", Requester: "a@entidad.gov.co", Body: "El FortiClient no conecta."})
	e2.at(3, 24, 20, 0)
	if rep := e2.watch(t); rep.Breached != 1 || rep.Deferred != 0 {
		t.Errorf("alert_out_of_hours: %+v", rep)
	}
}
