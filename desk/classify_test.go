package desk_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/desk"
	"github.com/mesadeservicios/mesa/mailin"
	"github.com/mesadeservicios/mesa/rules"
	"github.com/mesadeservicios/mesa/sla"
	"github.com/mesadeservicios/mesa/store"
	"github.com/mesadeservicios/mesa/store/storetest"
	"github.com/mesadeservicios/mesa/ticket"
)

func setupClassified(t *testing.T, now time.Time) (*desk.Desk, *store.DB, *sla.Calendar) {
	t.Helper()
	db := storetest.SQLite(t)
	eng, err := rules.Default()
	if err != nil {
		t.Fatal(err)
	}
	cal, err := sla.New(sla.Options{})
	if err != nil {
		t.Fatal(err)
	}
	d, err := desk.New(desk.Deps{Files: mailin.Decoder{}, Store: db, Mail: &fakeMail{}, Classifier: eng, Calendar: cal, Now: func() time.Time { return now },
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return d, db, cal
}

func TestCreateClassifiesAndSetsDue(t *testing.T) {
	ctx := context.Background()
	// Friday 20 March 2026, 16:00 in Bogotá; Monday 23 is a holiday.
	now := time.Date(2026, 3, 20, 21, 0, 0, 0, time.UTC)
	d, db, _ := setupClassified(t, now)
	tk, err := d.Create(ctx, desk.NewTicket{Subject: "No conecta la VPN", Requester: "ana@entidad.gov.co",
		Body:    "Desde la casa el FortiClient no conecta, dice credenciales inválidas.",
		Details: map[string]any{"message_key": "<m1@x>"}})
	if err != nil {
		t.Fatal(err)
	}
	if tk.Category != "ti.vpn" || tk.Group != "infraestructura" || tk.Type != ticket.Incidente {
		t.Errorf("classification: got %s %s %s", tk.Category, tk.Group, tk.Type)
	}
	// ti.vpn: 8 business hours from Friday 16:00 → Tuesday 15:00.
	if want := time.Date(2026, 3, 24, 20, 0, 0, 0, time.UTC); tk.DueAt == nil || !tk.DueAt.Equal(want) {
		t.Errorf("due: got %v, want %v", tk.DueAt, want)
	}
	evs, err := db.Events(ctx, tk.ID)
	if err != nil || len(evs) != 2 || evs[1].Kind != ticket.EventSLAStarted || evs[1].To != "2026-03-24T20:00:00Z" {
		t.Fatalf("events (created, sla_started with the due time): %v %v", evs, err)
	}
	var data struct {
		MessageKey     string `json:"message_key"`
		Classification struct {
			Category    string   `json:"category"`
			Matched     []string `json:"matched"`
			Resolution  string   `json:"resolution"`
			RequestedBy []string `json:"requested_by"`
			Attachments []string `json:"attachments_required"`
		} `json:"classification"`
	}
	if err := json.Unmarshal([]byte(evs[0].Data), &data); err != nil {
		t.Fatalf("event data %q: %v", evs[0].Data, err)
	}
	c := data.Classification
	if data.MessageKey != "<m1@x>" || c.Category != "ti.vpn" || len(c.Matched) == 0 || c.Resolution != "8h0m0s" ||
		len(c.RequestedBy) == 0 || len(c.Attachments) == 0 {
		t.Errorf("created event data: got %s", evs[0].Data)
	}
	// A category without resolution time ("depende") has no due time.
	tk2, err := d.Create(ctx, desk.NewTicket{Subject: "Ejecutar script en la base de datos", Requester: "dev@entidad.gov.co",
		Body: "Favor ejecutar el script adjunto en la base de datos de pruebas."})
	if err != nil {
		t.Fatal(err)
	}
	if tk2.Category != "ti.bases-datos" || tk2.DueAt != nil {
		t.Errorf("depende: got %s due %v", tk2.Category, tk2.DueAt)
	}
}

func TestRecategorizeAndCriticality(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 24, 13, 0, 0, 0, time.UTC) // Tuesday 08:00 Bogotá
	d, db, _ := setupClassified(t, now)
	tk, err := d.Create(ctx, desk.NewTicket{Subject: "ayuda", Requester: "a@entidad.gov.co", Body: "Me pueden llamar?"})
	if err != nil {
		t.Fatal(err)
	}
	// Triage: the group of ti.soporte and 2h30m of business time.
	if want := time.Date(2026, 3, 24, 15, 30, 0, 0, time.UTC); tk.Category != ticket.Unclassified || tk.Group != "soporte" ||
		tk.DueAt == nil || !tk.DueAt.Equal(want) {
		t.Fatalf("vague mail: got %s group %q due %v, want %s soporte %v", tk.Category, tk.Group, tk.DueAt, ticket.Unclassified, want)
	}
	if _, err := d.Recategorize(ctx, tk.Number, "tec@entidad.gov.co", "ti.nope"); !errors.Is(err, ticket.ErrInvalid) {
		t.Errorf("unknown category: got %v, want ErrInvalid", err)
	}
	got, err := d.Recategorize(ctx, tk.Number, "tec@entidad.gov.co", "adm.muebles.silla")
	if err != nil {
		t.Fatal(err)
	}
	// adm.muebles.silla: 3 días = 27 business hours from Tuesday 08:00 → Thursday 17:00.
	if want := time.Date(2026, 3, 26, 22, 0, 0, 0, time.UTC); got.Group != "mantenimiento" || got.DueAt == nil || !got.DueAt.Equal(want) {
		t.Errorf("recategorized: group %s due %v, want mantenimiento %v", got.Group, got.DueAt, want)
	}
	got, err = d.SetCriticality(ctx, tk.Number, "tec@entidad.gov.co", ticket.Alta)
	if err != nil || got.Criticality != ticket.Alta {
		t.Fatalf("criticality: %v %v", got, err)
	}
	if _, err := d.SetCriticality(ctx, tk.Number, "tec@entidad.gov.co", "urgentísima"); !errors.Is(err, ticket.ErrInvalid) {
		t.Errorf("bad criticality: got %v", err)
	}
	evs, _ := db.Events(ctx, tk.ID)
	// The triage clock starts at creation; the new category's resolution
	// time replaces it.
	if len(evs) != 5 || evs[1].Kind != ticket.EventSLAStarted || evs[1].To != "2026-03-24T15:30:00Z" ||
		evs[2].Kind != ticket.EventCategoryChanged || evs[2].From != ticket.Unclassified || evs[2].To != "adm.muebles.silla" ||
		evs[3].Kind != ticket.EventSLADueChanged || evs[3].From != "2026-03-24T15:30:00Z" || evs[3].To != "2026-03-26T22:00:00Z" ||
		evs[4].Kind != ticket.EventCriticalityChanged || evs[4].To != "alta" {
		t.Errorf("events: %+v", evs)
	}
}
