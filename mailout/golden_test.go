package mailout

import (
	"context"
	"flag"
	"html"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/mailin"
	"github.com/mesadeservicios/mesa/ticket"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestTemplatesGolden renders every template in both languages and
// compares subject and text with testdata/golden.
func TestTemplatesGolden(t *testing.T) {
	due := time.Date(2026, 3, 24, 20, 0, 0, 0, time.UTC)
	at := time.Date(2026, 3, 20, 21, 0, 0, 0, time.UTC)
	tk := &ticket.Ticket{ID: 1, Number: "MS-2026-000042", Subject: "No conecta la VPN", Requester: "ana@entidad.gov.co", Type: ticket.Incidente,
		OriginMessageID: "CAF=orig@mail.entidad.gov.co",
		RequesterName:   "Ana Rojas", Category: "ti.vpn", Criticality: ticket.Alta, AccessKey: "abc123", DueAt: &due,
		Assignee: "carlos@entidad.gov.co"}
	cases := map[string]func(r *Renderer) (*ticket.Outgoing, error){
		"ack": func(r *Renderer) (*ticket.Outgoing, error) {
			return one(r.Notify(context.Background(), tk, &ticket.Event{ID: 1, Kind: ticket.EventCreated, At: at,
				Data: `{"message_key":"<m@x>","classification":{"attachments_required":["F-DE-10 Solicitud de Conexión Remota VPN"]}}`}))
		},
		"answer": func(r *Renderer) (*ticket.Outgoing, error) {
			return one(r.Notify(context.Background(), tk, &ticket.Event{ID: 2, Kind: ticket.EventComment, Actor: "carlos@entidad.gov.co", At: at,
				Body: "Ya quedó habilitada su VPN; reinicie el FortiClient.", Data: `{"staff":true}`}))
		},
		"requester": func(r *Renderer) (*ticket.Outgoing, error) {
			return one(r.Notify(context.Background(), tk, &ticket.Event{ID: 3, Kind: ticket.EventComment, Actor: "ana@entidad.gov.co", At: at,
				Body: "Adjunto el formato F-DE-10."}))
		},
		"closed": func(r *Renderer) (*ticket.Outgoing, error) {
			return one(r.Notify(context.Background(), tk, &ticket.Event{ID: 4, Kind: ticket.EventStateChanged, To: "cerrado", At: at,
				Body: "Se habilitó la VPN y se verificó la conexión."}))
		},
		"closed-out-of-scope": func(r *Renderer) (*ticket.Outgoing, error) {
			return one(r.Notify(context.Background(), tk, &ticket.Event{ID: 5, Kind: ticket.EventStateChanged, To: "cerrado", At: at,
				Body: OutOfScopePrefix + "La VPN personal la gestiona su proveedor de internet."}))
		},
		"assigned": func(r *Renderer) (*ticket.Outgoing, error) {
			return one(r.Notify(context.Background(), tk, &ticket.Event{ID: 6, Kind: ticket.EventAssigned, To: "carlos@entidad.gov.co", At: at,
				Body: "Desde la casa el FortiClient no conecta."}))
		},
		"failed": func(r *Renderer) (*ticket.Outgoing, error) {
			return one(r.Notify(context.Background(), tk, &ticket.Event{ID: 7, Kind: ticket.EventMailFailed, To: "ana@entidad.gov.co", At: at,
				Body: "No se pudo enviar «[MS-2026-000042] Recibido» a ana@entidad.gov.co: smtp 550: no such user"}))
		},
		"held": func(r *Renderer) (*ticket.Outgoing, error) {
			return one(r.Notify(context.Background(), tk, &ticket.Event{ID: 8, Kind: ticket.EventStateChanged, To: "retenido", At: at,
				Body: "Necesitamos el formato F-DE-10 firmado por su jefe."}))
		},
		"commands": func(r *Renderer) (*ticket.Outgoing, error) {
			return r.Reply("commands", tk, "carlos@entidad.gov.co", []string{"✔ #criticidad alta", "✘ #foo — no aplicado: comando desconocido"}, "<c@x>", at)
		},
		"sla_alert": func(r *Renderer) (*ticket.Outgoing, error) {
			late := *tk
			late.Number, late.Subject, late.Criticality, late.Assignee = "MS-2026-000040", "Gotera en la sala 3", ticket.Media, ""
			return r.SLAAlert("carlos@entidad.gov.co", []*ticket.Ticket{tk}, []*ticket.Ticket{&late}, at)
		},
		"sla_alert-one": func(r *Renderer) (*ticket.Outgoing, error) {
			return r.SLAAlert("carlos@entidad.gov.co", []*ticket.Ticket{tk}, nil, at)
		},
		"survey": func(r *Renderer) (*ticket.Outgoing, error) {
			return r.Survey(tk, "tok_123", false, "", at)
		},
		"survey-reminder": func(r *Renderer) (*ticket.Outgoing, error) {
			return r.Survey(tk, "", true, "<survey.1@x>", at)
		},
		"survey_bad": func(r *Renderer) (*ticket.Outgoing, error) {
			no, reopened := false, *tk
			reopened.State = ticket.EnProceso
			return r.SurveyAlert("marta@entidad.gov.co", &reopened, &ticket.Survey{Rating: 1, Solved: &no, Comment: "La VPN sigue sin conectar."}, at)
		},
		"rejected": func(r *Renderer) (*ticket.Outgoing, error) {
			return r.Reply("rejected", tk, "carlos@entidad.gov.co", []string{"Los comandos no se aplicaron."}, "<c@x>", at)
		},
	}
	for _, lang := range []string{"es", "en"} {
		r, err := New(Options{DeskName: "Mesa de Servicios", From: "mesa@entidad.gov.co", PublicURL: "https://mesa.entidad.gov.co",
			Language: lang, Catalogue: names{"ti.vpn": "Acceso Remoto"}, CommandHelp: []string{"#cerrar <solución>", "#ayuda"},
			IsOpen: func(t time.Time) bool { return t.UTC().Hour() < 21 }}) // the fixture's 16:00 Friday counts as closed
		if err != nil {
			t.Fatal(err)
		}
		for name, render := range cases {
			t.Run(name+"."+lang, func(t *testing.T) {
				m, err := render(r)
				if err != nil || m == nil {
					t.Fatalf("render: %v", err)
				}
				in, err := mailin.Parse(m.Raw)
				if err != nil {
					t.Fatal(err)
				}
				if !in.AutoSubmitted {
					t.Error("no Auto-Submitted header")
				}
				got := "To: " + m.To[0] + "\nSubject: " + in.Subject + "\nIn-Reply-To: " + strings.Join(in.InReplyTo, " ") + "\n\n" + in.Text
				if !strings.Contains(in.HTML, "<p>") || !strings.Contains(in.HTML, html.EscapeString(tk.Number)) {
					t.Errorf("no HTML alternative with the text: %q", in.HTML)
				}
				path := filepath.Join("testdata", "golden", name+"."+lang+".txt")
				if *update {
					os.MkdirAll(filepath.Dir(path), 0o755)
					os.WriteFile(path, []byte(got), 0o644)
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run with -update to create it)", err)
				}
				if got != string(want) {
					t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", path, got, want)
				}
			})
		}
	}
}

func one(ms []*ticket.Outgoing, err error) (*ticket.Outgoing, error) {
	if err != nil || len(ms) != 1 {
		return nil, err
	}
	return ms[0], nil
}
