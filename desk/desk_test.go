package desk_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/desk"
	"github.com/mesadeservicios/mesa/mailin"
	"github.com/mesadeservicios/mesa/store"
	"github.com/mesadeservicios/mesa/store/storetest"
	"github.com/mesadeservicios/mesa/ticket"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func setup(t *testing.T, n *fakeMail) (*desk.Desk, *store.DB, *clock) {
	t.Helper()
	db := storetest.SQLite(t)
	// Friday 20 March 2026, 16:00 in Bogotá.
	c := &clock{t: time.Date(2026, 3, 20, 21, 0, 0, 0, time.UTC)}
	if n == nil {
		n = &fakeMail{}
	}
	d, err := desk.New(desk.Deps{Files: mailin.Decoder{}, Store: db, Mail: n, Calendar: wallClock{}, Classifier: noCatalogue{}, Now: c.now,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return d, db, c
}

func TestCreate(t *testing.T) {
	ctx := context.Background()
	d, db, c := setup(t, &fakeMail{})
	// 1 January 2027, 03:00 UTC is still 2026 in Bogotá.
	c.t = time.Date(2027, 1, 1, 3, 0, 0, 0, time.UTC)
	tk, err := d.Create(ctx, desk.NewTicket{Subject: "  VPN caída ", Body: "No conecta", Requester: "Ana@Entidad.gov.co"})
	if err != nil {
		t.Fatal(err)
	}
	if tk.Number != "MS-2026-000001" || tk.State != ticket.Abierto || tk.Type != ticket.Incidente ||
		tk.Criticality != ticket.Media || tk.Category != ticket.Unclassified || tk.Requester != "ana@entidad.gov.co" ||
		tk.Subject != "VPN caída" || len(tk.AccessKey) != 26 || !tk.CheckAccessKey(tk.AccessKey) || tk.CheckAccessKey("otra") {
		t.Errorf("got %+v", tk)
	}
	tk2, err := d.Create(ctx, desk.NewTicket{Subject: "otro", Requester: "b@entidad.gov.co"})
	stored, _ := db.TicketByNumber(ctx, tk.Number)
	if stored.AccessKey != "" || !stored.CheckAccessKey(tk.AccessKey) {
		t.Errorf("the store must keep only the key's hash: %+v", stored)
	}
	if err != nil || tk2.Number != "MS-2026-000002" || tk2.AccessKey == tk.AccessKey {
		t.Fatalf("second ticket: got %+v, %v", tk2, err)
	}
	evs, err := db.Events(ctx, tk.ID)
	if err != nil || len(evs) != 1 || evs[0].Kind != ticket.EventCreated || evs[0].Body != "No conecta" || evs[0].Actor != "ana@entidad.gov.co" {
		t.Fatalf("events: got %+v, %v", evs, err)
	}
	m, err := db.MailByDedupeKey(ctx, "ack:"+tk.Number)
	if err != nil || m.TicketID != tk.ID || m.To[0] != "ana@entidad.gov.co" || !m.NextAttemptAt.Equal(c.t) {
		t.Errorf("acknowledgement: got %+v, %v", m, err)
	}
	if _, err := d.Create(ctx, desk.NewTicket{Subject: "x"}); !errors.Is(err, ticket.ErrInvalid) {
		t.Errorf("no requester: got %v, want ErrInvalid", err)
	}
}

func TestCreateIsAtomic(t *testing.T) {
	ctx := context.Background()
	d, db, _ := setup(t, &fakeMail{failOn: map[ticket.NoticeKind]bool{ticket.NoticeAck: true}})
	if _, err := d.Create(ctx, desk.NewTicket{Subject: "x", Requester: "a@b.co"}); err == nil {
		t.Fatal("notifier failure: got nil error")
	}
	if _, err := db.TicketByNumber(ctx, "MS-2026-000001"); !errors.Is(err, ticket.ErrNotFound) {
		t.Errorf("ticket left behind: %v", err)
	}
	// Intake composes storing the message with creating the ticket: a failure
	// after Create rolls both back.
	d2, db2, _ := setup(t, &fakeMail{})
	boom := errors.New("cursor write failed")
	err := db2.InTx(ctx, func(ctx context.Context) error {
		if err := db2.StoreMessage(ctx, &ticket.RawMessage{Key: "k", Raw: []byte("x"), ReceivedAt: time.Now()}); err != nil {
			return err
		}
		if _, err := d2.Create(ctx, desk.NewTicket{Subject: "x", Requester: "a@b.co"}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want boom", err)
	}
	if _, err := db2.MessageByKey(ctx, "k"); !errors.Is(err, ticket.ErrNotFound) {
		t.Errorf("message left behind: %v", err)
	}
	if list, _ := db2.ListTickets(ctx, store.TicketFilter{}); len(list) != 0 {
		t.Errorf("tickets left behind: %d", len(list))
	}
	tk, err := d2.Create(ctx, desk.NewTicket{Subject: "x", Requester: "a@b.co"})
	if err != nil || tk.Number != "MS-2026-000001" {
		t.Errorf("number after rollback: got %v, %v; want MS-2026-000001", tk, err)
	}
}

func TestTransitionLifeCycle(t *testing.T) {
	ctx := context.Background()
	d, db, c := setup(t, &fakeMail{})
	due := c.t.Add(8 * time.Hour)
	tk, err := d.Create(ctx, desk.NewTicket{Subject: "x", Requester: "a@b.co", DueAt: &due})
	if err != nil {
		t.Fatal(err)
	}
	tech := "carlos@entidad.gov.co"
	if _, err := d.Transition(ctx, tk.Number, ticket.Cerrado, tech, "  "); !errors.Is(err, ticket.ErrSolutionRequired) {
		t.Fatalf("close without solution: got %v, want ErrSolutionRequired", err)
	}
	if _, err := d.Transition(ctx, tk.Number, ticket.AbiertoPorEncuesta, tech, ""); !errors.Is(err, ticket.ErrInvalidTransition) {
		t.Errorf("abierto → abierto_por_encuesta: got %v, want ErrInvalidTransition", err)
	}
	if _, err := d.Transition(ctx, tk.Number, "resuelto", tech, ""); !errors.Is(err, ticket.ErrInvalidTransition) {
		t.Errorf("unknown state: got %v, want ErrInvalidTransition", err)
	}
	// Hold from abierto: walks through en_proceso; the SLA clock stops.
	c.t = c.t.Add(time.Hour)
	got, err := d.Transition(ctx, tk.Number, ticket.Retenido, tech, "Esperando el número de inventario")
	if err != nil {
		t.Fatal(err)
	}
	if got.State != ticket.Retenido || got.PausedAt == nil || !got.PausedAt.Equal(c.t) {
		t.Fatalf("hold: got %+v", got)
	}
	c.t = c.t.Add(3 * time.Hour)
	got, err = d.Transition(ctx, tk.Number, ticket.EnProceso, "a@b.co", "")
	if err != nil {
		t.Fatal(err)
	}
	if got.PausedAt != nil || got.DueAt == nil || !got.DueAt.Equal(due.Add(3*time.Hour)) {
		t.Errorf("resume: due %v, want %v (pushed by the 3 h on hold)", got.DueAt, due.Add(3*time.Hour))
	}
	c.t = c.t.Add(time.Hour)
	got, err = d.Transition(ctx, tk.Number, ticket.Cerrado, tech, "Se reinstaló el cliente VPN")
	if err != nil {
		t.Fatal(err)
	}
	if got.State != ticket.Cerrado || got.Solution != "Se reinstaló el cliente VPN" || got.ClosedAt == nil {
		t.Errorf("close: got %+v", got)
	}
	if _, err := d.Transition(ctx, tk.Number, ticket.Cerrado, tech, "otra vez"); !errors.Is(err, ticket.ErrInvalidTransition) {
		t.Errorf("close twice: got %v, want ErrInvalidTransition", err)
	}
	for _, to := range []ticket.State{ticket.AbiertoPorEncuesta, ticket.EnProceso} {
		if _, err := d.Transition(ctx, tk.Number, to, "a@b.co", "sigue sin funcionar"); err != nil {
			t.Fatalf("→ %s: %v", to, err)
		}
	}
	stored, err := db.TicketByNumber(ctx, tk.Number)
	if err != nil || stored.State != ticket.EnProceso || stored.ClosedAt != nil {
		t.Errorf("reopened by survey: got %+v, %v", stored, err)
	}
	evs, err := db.Events(ctx, tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	var trail []string
	for _, e := range evs {
		trail = append(trail, string(e.Kind)+":"+e.To)
	}
	want := []string{"created:abierto", "sla_started:" + due.Format(time.RFC3339), "state_changed:en_proceso",
		"state_changed:retenido", "sla_paused:",
		"state_changed:en_proceso", "sla_resumed:" + due.Add(3*time.Hour).Format(time.RFC3339),
		"state_changed:cerrado", "sla_met:" + due.Add(3*time.Hour).Format(time.RFC3339),
		"state_changed:abierto_por_encuesta", "state_changed:en_proceso"}
	if fmt.Sprint(trail) != fmt.Sprint(want) {
		t.Errorf("audit trail:\n got %v\nwant %v", trail, want)
	}
}

func TestTransitionRollsBackOnNotifierFailure(t *testing.T) {
	ctx := context.Background()
	d, db, _ := setup(t, &fakeMail{failOn: map[ticket.NoticeKind]bool{ticket.NoticeHeld: true}})
	tk, err := d.Create(ctx, desk.NewTicket{Subject: "x", Requester: "a@b.co"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Transition(ctx, tk.Number, ticket.Retenido, "t@x.co", ""); err == nil {
		t.Fatal("got nil error")
	}
	got, err := db.TicketByNumber(ctx, tk.Number)
	if err != nil || got.State != ticket.Abierto || got.PausedAt != nil {
		t.Errorf("ticket changed by a failed transition: %+v, %v", got, err)
	}
	if evs, _ := db.Events(ctx, tk.ID); len(evs) != 1 {
		t.Errorf("events left by a failed transition: %d, want 1", len(evs))
	}
}

func TestComment(t *testing.T) {
	ctx := context.Background()
	d, db, _ := setup(t, &fakeMail{})
	tk, err := d.Create(ctx, desk.NewTicket{Subject: "x", Requester: "a@b.co"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Comment(ctx, tk.Number, "a@b.co", " \n", false); !errors.Is(err, ticket.ErrInvalid) {
		t.Errorf("empty comment: got %v, want ErrInvalid", err)
	}
	if _, err := d.Comment(ctx, tk.Number, "a@b.co", "Adjunto la foto", false); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Comment(ctx, tk.Number, "t@x.co", "Revisar cableado", true); err != nil {
		t.Fatal(err)
	}
	evs, err := db.Events(ctx, tk.ID)
	if err != nil || len(evs) != 3 || evs[1].Kind != ticket.EventComment || evs[2].Kind != ticket.EventNote || evs[2].Body != "Revisar cableado" {
		t.Errorf("events: got %+v, %v", evs, err)
	}
	if _, err := d.Comment(ctx, "MS-2026-999999", "a@b.co", "hola", false); !errors.Is(err, ticket.ErrNotFound) {
		t.Errorf("unknown ticket: got %v, want ErrNotFound", err)
	}
}

// The first response is the first technician answer, or the closure when
// nobody answered before; requesters' comments and internal notes are not
// responses, and later answers do not move it.
func TestFirstResponse(t *testing.T) {
	ctx := context.Background()
	d, db, c := setup(t, nil)
	tk, err := d.Create(ctx, desk.NewTicket{Subject: "x", Requester: "a@b.co"})
	if err != nil {
		t.Fatal(err)
	}
	c.t = c.t.Add(time.Hour)
	d.Comment(ctx, tk.Number, "a@b.co", "¿Alguna novedad?", false)
	d.Comment(ctx, tk.Number, "t@x.co", "Revisar cableado", true)
	if got, _ := db.TicketByNumber(ctx, tk.Number); got.FirstResponseAt != nil {
		t.Fatalf("first response after a requester comment and a note: %v", got.FirstResponseAt)
	}
	c.t = c.t.Add(time.Hour)
	first := c.t
	if _, err := d.Answer(ctx, tk.Number, "t@x.co", "Vamos en camino."); err != nil {
		t.Fatal(err)
	}
	c.t = c.t.Add(time.Hour)
	d.Answer(ctx, tk.Number, "t@x.co", "Ya llegamos.")
	if got, _ := db.TicketByNumber(ctx, tk.Number); got.FirstResponseAt == nil || !got.FirstResponseAt.Equal(first) {
		t.Errorf("first response: got %v, want %v", got.FirstResponseAt, first)
	}

	// Closed without any answer: the closure is the first response.
	tk2, _ := d.Create(ctx, desk.NewTicket{Subject: "y", Requester: "a@b.co"})
	c.t = c.t.Add(time.Hour)
	closed, err := d.Transition(ctx, tk2.Number, ticket.Cerrado, "t@x.co", "Se cambió el tóner.")
	if err != nil {
		t.Fatal(err)
	}
	if closed.FirstResponseAt == nil || !closed.FirstResponseAt.Equal(c.t) {
		t.Errorf("closure as first response: got %v, want %v", closed.FirstResponseAt, c.t)
	}
}
