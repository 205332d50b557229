package desk_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/desk"
	"github.com/mesadeservicios/mesa/mailin"
	"github.com/mesadeservicios/mesa/mailout"
	"github.com/mesadeservicios/mesa/rules"
	"github.com/mesadeservicios/mesa/sla"
	"github.com/mesadeservicios/mesa/ticket"
)

// The weekly digest's Clasificación section: the override rate of the
// tickets created in the week and the week before, the categories
// corrected most, the confusions, scoped to the manager's groups, and the
// model's age and corpus.
func TestWeeklyDigestClassification(t *testing.T) {
	e := newStaffEnv(t)
	ctx := context.Background()
	e.person(t, &ticket.Person{Email: "marta@entidad.gov.co", Role: ticket.RoleManager, Groups: []string{"infraestructura"}})
	e.person(t, &ticket.Person{Email: "jefe@entidad.gov.co", Role: ticket.RoleManager})
	open := func(from, subject, body, want string) string {
		t.Helper()
		res := e.mail(t, from, subject, "", "", body)
		if tk := e.ticket(t, res.Ticket); tk.Category != want {
			t.Fatalf("%q: category %s, want %s (the fixture needs it)", subject, tk.Category, want)
		}
		return res.Ticket
	}
	recat := func(number, category string) {
		t.Helper()
		if _, err := e.d.Recategorize(ctx, number, "carlos@entidad.gov.co", category); err != nil {
			t.Fatal(err)
		}
	}
	// The week before (9–15 March): two VPN tickets, one corrected.
	e.now = time.Date(2026, 3, 10, 14, 0, 0, 0, time.UTC)
	recat(open("ana@entidad.gov.co", "No conecta la VPN", "Desde la casa el FortiClient no conecta.", "ti.vpn"), "ti.redes")
	open("luis@entidad.gov.co", "VPN caída", "La VPN no conecta desde ayer en mi portátil.", "ti.vpn")
	// The week (16–22 March): three VPN, one network, one printer ticket.
	e.now = time.Date(2026, 3, 17, 14, 0, 0, 0, time.UTC)
	v1 := open("ana@entidad.gov.co", "No conecta la VPN", "Desde la casa el FortiClient no conecta.", "ti.vpn")
	v2 := open("luis@entidad.gov.co", "VPN caída", "La VPN no conecta desde ayer en mi portátil.", "ti.vpn")
	open("pedro@entidad.gov.co", "Problema con la VPN", "El FortiClient de la VPN dice que la conexión falló.", "ti.vpn")
	red := open("sofia@entidad.gov.co", "No hay red", "En la oficina 301 del piso 3 no hay red desde hace un rato.", "ti.redes")
	printer := e.mail(t, "raul@entidad.gov.co", "La impresora no imprime", "", "", "La impresora del segundo piso no imprime, sale una hoja en blanco.")
	if g := e.ticket(t, printer.Ticket).Group; g == "infraestructura" || g == "redes" {
		t.Fatalf("the printer ticket went to %s; the fixture needs another group", g)
	}
	recat(v1, "ti.redes")
	recat(v2, "ti.soporte")
	recat(v2, "ti.redes") // changed twice: one ticket, one confusion (from what intake gave)
	recat(red, "ti.vpn")
	// This week: not in the section.
	e.now = time.Date(2026, 3, 24, 12, 0, 0, 0, time.UTC)
	recat(open("marcela@entidad.gov.co", "Falla la VPN", "No me deja entrar a la VPN con el FortiClient.", "ti.vpn"), "ti.redes")

	e.now = time.Date(2026, 3, 24, 12, 30, 0, 0, time.UTC) // Tuesday 24, the week's first business day
	for _, tc := range []struct {
		name             string
		groups           []string
		tickets, changed [2]int
		vpn              int // tickets intake made ti.vpn, of the week, in scope
	}{
		{"the whole desk", nil, [2]int{5, 2}, [2]int{3, 1}, 3},
		// infraestructura: the VPN tickets, and the network ticket now a VPN one.
		{"infraestructura", []string{"infraestructura"}, [2]int{4, 2}, [2]int{3, 1}, 3},
		// redes: the tickets that were or became network tickets.
		{"redes", []string{"redes"}, [2]int{3, 1}, [2]int{3, 1}, 2},
	} {
		dg, err := e.d.BuildDigest(ctx, tc.groups, "weekly")
		if err != nil {
			t.Fatal(err)
		}
		c := dg.Classification
		if c == nil {
			t.Fatalf("%s: no classification section", tc.name)
		}
		if c.Tickets != tc.tickets || c.Changed != tc.changed {
			t.Errorf("%s: tickets %v changed %v, want %v %v", tc.name, c.Tickets, c.Changed, tc.tickets, tc.changed)
		}
		wantTop := []ticket.CategoryOverrides{{Key: "ti.vpn", Tickets: tc.vpn, Changed: 2}, {Key: "ti.redes", Tickets: 1, Changed: 1}}
		if len(c.Top) != 2 || c.Top[0] != wantTop[0] || c.Top[1] != wantTop[1] {
			t.Errorf("%s: top %+v, want %+v", tc.name, c.Top, wantTop)
		}
		wantConf := []ticket.Confusion{{From: "ti.vpn", To: "ti.redes", N: 2}, {From: "ti.redes", To: "ti.vpn", N: 1}}
		if len(c.Confusions) != 2 || c.Confusions[0] != wantConf[0] || c.Confusions[1] != wantConf[1] {
			t.Errorf("%s: confusions %+v, want %+v", tc.name, c.Confusions, wantConf)
		}
		if c.Model != nil {
			t.Errorf("%s: model %+v, want none (no model configured)", tc.name, c.Model)
		}
	}
	if dg, _ := e.d.BuildDigest(ctx, nil, "daily"); dg.Classification != nil {
		t.Errorf("the daily digest has a classification section: %+v", dg.Classification)
	}

	// The mail: marta's weekly digest shows the section in Spanish.
	if n, err := e.d.SendDigests(ctx, "weekly"); err != nil || n != 2 {
		t.Fatalf("weekly digests: %d, %v", n, err)
	}
	var weekly *ticket.Inbound
	for _, m := range e.outbox(t, "marta@entidad.gov.co") {
		if strings.Contains(m.Subject, "semanal") {
			weekly = m
		}
	}
	if weekly == nil {
		t.Fatal("no weekly digest to marta")
	}
	for _, want := range []string{"CLASIFICACIÓN (casos creados en la semana de sus grupos):",
		"Categoría cambiada por una persona (#categoria, triaje): 75 % (3 de 4) (anterior: 50 % (1 de 2))",
		"Acceso Remoto: 67 % (2 de 3)", "2 × Acceso Remoto → ", "Sin modelo aprendido"} {
		if !strings.Contains(weekly.Text, want) {
			t.Errorf("the weekly digest lacks %q:\n%s", want, weekly.Text)
		}
	}

	// With the model's header: its age in days and its corpus, in English.
	eng, _ := rules.Default()
	cal, _ := sla.New(sla.Options{})
	r, err := mailout.New(mailout.Options{DeskName: "Mesa de Servicios", From: "mesa@entidad.gov.co", PublicURL: "https://mesa.x",
		Language: "en", Catalogue: eng})
	if err != nil {
		t.Fatal(err)
	}
	d, err := desk.New(desk.Deps{Files: mailin.Decoder{}, Store: e.db, Mail: r, Calendar: cal, Classifier: eng, Logger: slog.New(slog.DiscardHandler),
		Now: func() time.Time { return e.now }, Config: desk.Config{Language: "en", Addresses: []string{"mesa@entidad.gov.co"},
			Model: &rules.ModelMeta{Trained: "2026-03-01", Examples: map[string]int{"corpus": 1327, "corrections": 12}}}})
	if err != nil {
		t.Fatal(err)
	}
	dg, err := d.BuildDigest(ctx, nil, "weekly")
	if err != nil {
		t.Fatal(err)
	}
	m := dg.Classification.Model
	if m == nil || m.AgeDays != 23 || m.Examples != 1339 || m.Trained.Format(time.DateOnly) != "2026-03-01" ||
		len(m.Sources) != 2 || m.Sources[0] != (ticket.Count{Key: "corpus", N: 1327}) {
		t.Fatalf("model facts %+v, want trained 2026-03-01, 23 days old, 1339 mails", m)
	}
	out, err := r.Render(&ticket.Notice{To: "jefe@entidad.gov.co", Lang: "en", At: e.now, DedupeKey: "x", Payload: ticket.DigestNotice{Digest: dg}})
	if err != nil {
		t.Fatal(err)
	}
	in, _ := mailin.Parse(out.Raw)
	for _, want := range []string{"CLASSIFICATION (tickets created in the week):", "60 % (3 of 5) (before: 50 % (1 of 2))",
		"Model in use: trained on Sunday, March 1, 2026 (23 days ago) on 1,339 mails (corpus 1,327, corrections 12)"} {
		if !strings.Contains(in.Text, want) {
			t.Errorf("the English weekly digest lacks %q:\n%s", want, in.Text)
		}
	}
}
