package desk_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"reflect"
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

var _ desk.Classifier = vagueClassifier{}

// vagueClassifier is the shipped catalogue, except that a mail whose
// subject is "ayuda" is sin_clasificar with fixed candidates (one of them
// a class the catalogue does not have) and criticality alta: the
// model's numbers change when it is retrained, the triage rules do not.
type vagueClassifier struct{ *rules.Engine }

func (c vagueClassifier) Classify(m rules.Message) rules.Result {
	if m.Subject != "ayuda" {
		return c.Engine.Classify(m)
	}
	return rules.Result{Category: ticket.Unclassified, Type: ticket.Incidente, Criticality: ticket.Alta, Confidence: 0.31,
		Candidates: []rules.Candidate{{Value: "ti.soporte", Probability: 0.312}, {Value: "ti.retirada", Probability: 0.2},
			{Value: "ti.vpn", Probability: 0.125}, {Value: "adm.muebles.silla", Probability: 0.041}}}
}

// wantCandidates are vagueClassifier's candidates as triage offers them.
var wantCandidates = []ticket.Candidate{
	{Category: "ti.soporte", Name: "Gestión de Incidentes y Requerimientos – Mesa de Servicios", Confidence: 0.312},
	{Category: "ti.vpn", Name: "Acceso Remoto", Confidence: 0.125},
	{Category: "adm.muebles.silla", Name: "Mantenimiento muebles – Silla", Confidence: 0.041},
}

type triageEnv struct {
	d   *desk.Desk
	db  *store.DB
	now time.Time
	n   int
}

// newTriageEnv is a desk with the business calendar, the real renderer
// and these people, on Tuesday 24 March 2026 at 08:00 in Bogotá.
func newTriageEnv(t *testing.T, cfg desk.Config, people ...*ticket.Person) *triageEnv {
	t.Helper()
	ctx := context.Background()
	db := storetest.SQLite(t)
	for _, g := range []string{"soporte", "triaje", "infraestructura"} {
		if err := db.SaveGroup(ctx, ticket.Group{Key: g}); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range people {
		p.Active = true
		if err := db.SavePerson(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	eng, err := rules.Default()
	if err != nil {
		t.Fatal(err)
	}
	cal, err := sla.New(sla.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := mailout.New(mailout.Options{DeskName: "Mesa de Servicios", From: "mesa@entidad.gov.co", PublicURL: "https://mesa.x",
		Language: cfg.Language, Catalogue: eng, CommandHelp: desk.CommandHelp})
	if err != nil {
		t.Fatal(err)
	}
	e := &triageEnv{db: db, now: time.Date(2026, 3, 24, 13, 0, 0, 0, time.UTC)}
	cfg.Addresses, cfg.TrustedAuthServID = []string{"mesa@entidad.gov.co"}, "mx.entidad.gov.co"
	e.d, err = desk.New(desk.Deps{Files: mailin.Decoder{}, Store: db, Mail: r, Calendar: cal, Classifier: vagueClassifier{eng},
		Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return e.now }, Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// mail runs one message through intake (the clock does not move) and
// returns its ticket.
func (e *triageEnv) mail(t *testing.T, from, subject, inReplyTo, authResults, body string) *ticket.Ticket {
	t.Helper()
	e.n++
	raw := "From: " + from + "\r\nTo: mesa@entidad.gov.co\r\nSubject: " + subject + "\r\nMessage-ID: <t" + strings.Repeat("x", e.n) + "@entidad.gov.co>\r\n"
	if inReplyTo != "" {
		raw += "In-Reply-To: <" + inReplyTo + ">\r\n"
	}
	if authResults != "" {
		raw += "Authentication-Results: " + authResults + "\r\n"
	}
	raw += "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n"
	in, err := mailin.Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.d.Intake(context.Background(), []byte(raw), in, ticket.Source{Mailbox: "file"})
	if err != nil {
		t.Fatal(err)
	}
	tk, err := e.db.TicketByNumber(context.Background(), res.Ticket)
	if err != nil {
		t.Fatalf("intake %+v: %v", res, err)
	}
	return tk
}

// outbox returns the queued mails to an address, oldest first, parsed.
func (e *triageEnv) outbox(t *testing.T, to string) []*ticket.Inbound {
	t.Helper()
	rows, err := e.db.DueMail(context.Background(), e.now.Add(time.Hour), 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []*ticket.Inbound
	for _, m := range rows {
		if m.To[0] == to {
			in, err := mailin.Parse(m.Raw)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, in)
		}
	}
	return out
}

// created returns the data of a ticket's created event.
func (e *triageEnv) created(t *testing.T, tk *ticket.Ticket) string {
	t.Helper()
	evs, err := e.db.Events(context.Background(), tk.ID)
	if err != nil || len(evs) == 0 || evs[0].Kind != ticket.EventCreated {
		t.Fatalf("events of %s: %v %v", tk.Number, evs, err)
	}
	return evs[0].Data
}

func TestTriage(t *testing.T) {
	soporte := func(email string, level int) *ticket.Person {
		return &ticket.Person{Email: email, Role: ticket.RoleTechnician, Level: level, Groups: []string{"soporte"}}
	}
	cases := []struct {
		name     string
		cfg      desk.Config
		people   []*ticket.Person
		group    string
		assignee string
		due      time.Time // 08:00 Bogotá plus the triage resolution, in business time
	}{
		{name: "default group, first level first", people: []*ticket.Person{soporte("a-nivel2@entidad.gov.co", 2), soporte("b-nivel1@entidad.gov.co", 1)},
			group: "soporte", assignee: "b-nivel1@entidad.gov.co", due: time.Date(2026, 3, 24, 15, 30, 0, 0, time.UTC)},
		{name: "configured group and resolution", cfg: desk.Config{TriageGroup: "triaje", TriageResolution: 10 * time.Hour},
			people: []*ticket.Person{soporte("b-nivel1@entidad.gov.co", 1),
				{Email: "t1@entidad.gov.co", Role: ticket.RoleTechnician, Level: 1, Groups: []string{"triaje"}}},
			// 10 business hours from Tuesday 08:00: Wednesday 09:00.
			group: "triaje", assignee: "t1@entidad.gov.co", due: time.Date(2026, 3, 25, 14, 0, 0, 0, time.UTC)},
		{name: "no first level: any level", people: []*ticket.Person{soporte("a-nivel2@entidad.gov.co", 2)},
			group: "soporte", assignee: "a-nivel2@entidad.gov.co", due: time.Date(2026, 3, 24, 15, 30, 0, 0, time.UTC)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newTriageEnv(t, tc.cfg, tc.people...)
			tk := e.mail(t, "Ana <ana@entidad.gov.co>", "ayuda", "", "", "ayuda, lo de ayer")
			if tk.Category != ticket.Unclassified || tk.Group != tc.group || tk.Assignee != tc.assignee {
				t.Errorf("ticket: got %s group %q assignee %q, want %s %q %q", tk.Category, tk.Group, tk.Assignee,
					ticket.Unclassified, tc.group, tc.assignee)
			}
			// The criticality is the classifier's; the clock is triage's.
			if tk.Criticality != ticket.Alta || tk.DueAt == nil || !tk.DueAt.Equal(tc.due) {
				t.Errorf("criticality %s due %v, want alta %v", tk.Criticality, tk.DueAt, tc.due)
			}
			if tk.SLAWarnAt == nil {
				t.Error("no SLA warning scheduled")
			}
			data := e.created(t, tk)
			if got := ticket.CreatedCandidates(data); !reflect.DeepEqual(got, wantCandidates) {
				t.Errorf("created event candidates: got %+v, want %+v", got, wantCandidates)
			}
			var d struct {
				Classification struct {
					Group      string `json:"group"`
					Triage     bool   `json:"triage"`
					Resolution string `json:"resolution"`
				} `json:"classification"`
			}
			if err := json.Unmarshal([]byte(data), &d); err != nil {
				t.Fatal(err)
			}
			res := tc.cfg.TriageResolution
			if res == 0 {
				res = 2*time.Hour + 30*time.Minute
			}
			if c := d.Classification; !c.Triage || c.Group != tc.group || c.Resolution != res.String() {
				t.Errorf("created event classification: got %+v, want triage, %s, %s", c, tc.group, res)
			}
			if n := len(e.outbox(t, tc.assignee)); n != 1 {
				t.Errorf("%d mails to the triage technician, want 1 (the assignment)", n)
			}
		})
	}
}

// TestTriageNotice: the assignment notice of a triaged ticket lists the
// three candidates with their names, confidence and #categoria lines,
// in the desk's language; a classified ticket's notice has none of it.
func TestTriageNotice(t *testing.T) {
	for _, tc := range []struct {
		lang string
		want []string
		not  string
	}{
		{"es", []string{"TRIAJE", "Vence:        martes 24 de marzo de 2026, 10:30 a.m.",
			"1. Gestión de Incidentes y Requerimientos – Mesa de Servicios (confianza 31 %)\n     #categoria ti.soporte\n",
			"2. Acceso Remoto (confianza 13 %)\n     #categoria ti.vpn\n",
			"3. Mantenimiento muebles – Silla (confianza 4 %)\n     #categoria adm.muebles.silla\n",
			"ayuda, lo de ayer"}, "ti.retirada"},
		{"en", []string{"TRIAGE", "Due:          Tuesday, March 24, 2026, 10:30 AM",
			"1. Gestión de Incidentes y Requerimientos – Mesa de Servicios (confidence 31 %)\n     #categoria ti.soporte\n",
			"2. Acceso Remoto (confidence 13 %)\n     #categoria ti.vpn\n",
			"3. Mantenimiento muebles – Silla (confidence 4 %)\n     #categoria adm.muebles.silla\n",
			"ayuda, lo de ayer"}, "ti.retirada"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			e := newTriageEnv(t, desk.Config{Language: tc.lang},
				&ticket.Person{Email: "b-nivel1@entidad.gov.co", Role: ticket.RoleTechnician, Level: 1, Groups: []string{"soporte", "infraestructura"}})
			tk := e.mail(t, "Ana <ana@entidad.gov.co>", "ayuda", "", "", "ayuda, lo de ayer")
			mails := e.outbox(t, "b-nivel1@entidad.gov.co")
			if len(mails) != 1 {
				t.Fatalf("%d mails to the technician, want the assignment", len(mails))
			}
			text := strings.ReplaceAll(mails[0].Text, "\r\n", "\n")
			if !strings.Contains(mails[0].Subject, tk.Number) {
				t.Errorf("subject %q lacks %s", mails[0].Subject, tk.Number)
			}
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("assignment notice lacks %q:\n%s", w, text)
				}
			}
			if strings.Contains(text, tc.not) || strings.Count(text, "\n     #categoria ") != 3 {
				t.Errorf("want exactly the three catalogue candidates' commands:\n%s", text)
			}
			// A classified ticket: no triage block, no candidates recorded.
			vpn := e.mail(t, "Ana <ana@entidad.gov.co>", "No conecta la VPN", "", "", "Desde la casa el FortiClient no conecta.")
			if vpn.Category != "ti.vpn" || ticket.CreatedCandidates(e.created(t, vpn)) != nil {
				t.Errorf("classified ticket: %s with candidates %v", vpn.Category, ticket.CreatedCandidates(e.created(t, vpn)))
			}
			mails = e.outbox(t, "b-nivel1@entidad.gov.co")
			if len(mails) != 2 || strings.Contains(mails[1].Text, "     #categoria ") || strings.Contains(mails[1].Text, "TRIA") {
				t.Errorf("classified ticket's notice: %d mails, last:\n%s", len(mails), mails[len(mails)-1].Text)
			}
		})
	}
}

// TestTriageRecategorize: the triage technician's authenticated
// "#categoria" gives the ticket the category's group and its SLA,
// counted from creation, as #categoria does for any ticket.
func TestTriageRecategorize(t *testing.T) {
	e := newTriageEnv(t, desk.Config{},
		&ticket.Person{Email: "b-nivel1@entidad.gov.co", Role: ticket.RoleTechnician, Level: 1, Groups: []string{"soporte"}})
	tk := e.mail(t, "Ana <ana@entidad.gov.co>", "ayuda", "", "", "ayuda, lo de ayer")
	notice := e.outbox(t, "b-nivel1@entidad.gov.co")[0]
	e.now = e.now.Add(30 * time.Minute)
	got := e.mail(t, "b-nivel1@entidad.gov.co", "RE: "+notice.Subject, notice.MessageID, trusted, "#categoria ti.vpn")
	// ti.vpn with criticality alta: 8 business hours from Tuesday 08:00.
	if want := time.Date(2026, 3, 24, 21, 0, 0, 0, time.UTC); got.Number != tk.Number || got.Category != "ti.vpn" ||
		got.Group != "infraestructura" || got.DueAt == nil || !got.DueAt.Equal(want) {
		t.Fatalf("recategorised: %s %s group %q due %v, want ti.vpn infraestructura %v", got.Number, got.Category, got.Group, got.DueAt, want)
	}
	if got.Assignee != "b-nivel1@entidad.gov.co" {
		t.Errorf("assignee %q: #categoria keeps the technician", got.Assignee)
	}
	evs, err := e.db.Events(context.Background(), tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	var changed, due bool
	for _, ev := range evs {
		changed = changed || ev.Kind == ticket.EventCategoryChanged && ev.From == ticket.Unclassified && ev.To == "ti.vpn" &&
			ev.Actor == "b-nivel1@entidad.gov.co"
		due = due || ev.Kind == ticket.EventSLADueChanged && ev.From == "2026-03-24T15:30:00Z" && ev.To == "2026-03-24T21:00:00Z"
	}
	if !changed || !due {
		t.Errorf("events (category_changed %v, sla_due_changed %v): %+v", changed, due, evs)
	}
	replies := e.outbox(t, "b-nivel1@entidad.gov.co")
	if last := replies[len(replies)-1]; !strings.Contains(last.Text, "✔ #categoria ti.vpn") {
		t.Errorf("command result:\n%s", last.Text)
	}
}
