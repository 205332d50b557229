package mailout

import (
	"bytes"
	"flag"
	"html"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"slices"
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
	origin := "<" + tk.OriginMessageID + ">"
	// The notices desk decides for each kind (desk's tests check the
	// deciding; these check the rendering).
	notice := func(to, inReplyTo string, p ticket.NoticePayload) *ticket.Notice {
		n := &ticket.Notice{Ticket: tk, To: to, InReplyTo: inReplyTo, At: at, Payload: p}
		if to == tk.Requester {
			n.ToName = tk.RequesterName
		}
		return n
	}
	files := []ticket.NoticeFile{
		{Name: "F-DE-10 diligenciado.pdf", ContentType: "application/pdf", Size: 48213, Data: []byte("%PDF-1.4"), Token: "7.1777000000.sig1", Expires: at.AddDate(0, 0, 30)},
		{Name: "video del error.mp4", ContentType: "video/mp4", Size: 24 << 20, Token: "8.1777000000.sig2", Expires: at.AddDate(0, 0, 30)},
	}
	late := *tk
	late.Number, late.Subject, late.Criticality, late.Assignee = "MS-2026-000040", "Gotera en la sala 3", ticket.Media, ""
	late.State, late.CreatedAt = ticket.EnProceso, at.Add(-26*time.Hour)
	cur := *tk
	cur.State, cur.CreatedAt = ticket.Abierto, at.Add(-10*time.Minute)
	held := late
	held.Number, held.Subject, held.State = "MS-2026-000039", "Silla rota", ticket.Retenido
	back := time.Date(2026, 4, 4, 5, 0, 0, 0, time.UTC) // midnight in Bogotá
	no, reopened := false, *tk
	triage := *tk
	triage.Subject, triage.Category, triage.Criticality = "ayuda", ticket.Unclassified, ticket.Media
	reopened.State = ticket.EnProceso
	cases := map[string]*ticket.Notice{
		"ack": notice(tk.Requester, "<m@x>", ticket.AckNotice{MissingForms: []string{"F-DE-10 Solicitud de Conexión Remota VPN"},
			OutOfHours: true}), // the fixture's 16:00 Friday counts as closed
		"answer":              notice(tk.Requester, origin, ticket.AnswerNotice{Actor: "carlos@entidad.gov.co", Body: "Ya quedó habilitada su VPN; reinicie el FortiClient."}),
		"requester":           notice(tk.Assignee, "", ticket.RequesterNotice{From: "ana@entidad.gov.co", Body: "Adjunto el formato F-DE-10."}),
		"closed":              notice(tk.Requester, origin, ticket.ClosedNotice{Solution: "Se habilitó la VPN y se verificó la conexión."}),
		"closed-out-of-scope": notice(tk.Requester, origin, ticket.ClosedNotice{Solution: "La VPN personal la gestiona su proveedor de internet.", OutOfScope: true}),
		"assigned":            notice("carlos@entidad.gov.co", "", ticket.AssignedNotice{Body: "Desde la casa el FortiClient no conecta."}),
		// A sin_clasificar ticket sent to triage: three candidates, one
		// named from the catalogue, one under 1 %.
		"assigned-triage": {Ticket: &triage, To: "carlos@entidad.gov.co", At: at, Payload: ticket.AssignedNotice{Body: "ayuda, lo de ayer",
			Candidates: []ticket.Candidate{{Category: "ti.soporte", Name: "Gestión de Incidentes y Requerimientos – Mesa de Servicios", Confidence: 0.312},
				{Category: "ti.vpn", Confidence: 0.125}, {Category: "adm.bienes.solicitud", Name: "Solicitud de bienes", Confidence: 0.004}}}},
		"assigned-triage-none": {Ticket: &triage, To: "carlos@entidad.gov.co", At: at, Payload: ticket.AssignedNotice{Body: "ayuda, lo de ayer"}},
		"failed": notice(tk.Assignee, "", ticket.FailedNotice{
			Body: "No se pudo enviar «[MS-2026-000042] Recibido» a ana@entidad.gov.co: smtp 550: no such user"}),
		"held":     notice(tk.Requester, origin, ticket.HeldNotice{Reason: "Necesitamos el formato F-DE-10 firmado por su jefe."}),
		"commands": notice("carlos@entidad.gov.co", "<c@x>", ticket.CommandsNotice{Lines: []string{"✔ #criticidad alta", "✘ #foo — no aplicado: comando desconocido"}}),
		"sla_alert": {To: "carlos@entidad.gov.co", At: at,
			Payload: ticket.SLAAlertNotice{Warned: []*ticket.Ticket{tk}, Breached: []*ticket.Ticket{&late}}},
		"sla_alert-one":   {To: "carlos@entidad.gov.co", At: at, Ticket: tk, Payload: ticket.SLAAlertNotice{Warned: []*ticket.Ticket{tk}}},
		"survey":          notice(tk.Requester, origin, ticket.SurveyNotice{Token: "tok_123"}),
		"survey-reminder": notice(tk.Requester, "<survey.1@x>", ticket.SurveyNotice{Reminder: true}),
		"survey_bad": {Ticket: &reopened, To: "marta@entidad.gov.co", At: at, Payload: ticket.SurveyBadNotice{
			Survey: &ticket.Survey{Rating: 1, Solved: &no, Comment: "La VPN sigue sin conectar."}, Reopened: true}},
		"digest": {To: "marta@entidad.gov.co", At: at, Payload: ticket.DigestNotice{Digest: digestFixture(tk, at)}},
		// the number in the token, for the HTML check
		"mine":            {To: "ana@entidad.gov.co", At: at, Payload: ticket.MineNotice{Token: "tok_" + tk.Number}},
		"rejected":        notice("carlos@entidad.gov.co", "<c@x>", ticket.CommandsNotice{Rejected: true, Lines: []string{"Los comandos no se aplicaron."}}),
		"assigned-files":  notice("carlos@entidad.gov.co", "", ticket.AssignedNotice{Body: "Adjunto el formato y la captura.", Files: files}),
		"requester-files": notice(tk.Assignee, "", ticket.RequesterNotice{From: "ana@entidad.gov.co", Body: "Otra captura.", Files: files[:1]}),
		"answer-copy": {Ticket: tk, To: "beto@entidad.gov.co", InReplyTo: origin, At: at, Payload: ticket.AnswerNotice{
			Actor: "carlos@entidad.gov.co", Body: "Ya quedó habilitada su VPN.", Copy: true, Files: files[:1]}},
		"closed-copy": {Ticket: tk, To: "beto@entidad.gov.co", InReplyTo: origin, At: at, Payload: ticket.ClosedNotice{
			Solution: "Se habilitó la VPN.", Copy: true}},
		"empty": {To: "pedro@entidad.gov.co", ToName: "Pedro", InReplyTo: "<e@x>", At: at, Payload: ticket.EmptyNotice{}},
		"commands-desk": {To: "carlos@entidad.gov.co", InReplyTo: "<c@x>", At: at, Payload: ticket.CommandsNotice{
			Lines: []string{"✔ #ausente hasta 2026-04-03 — no recibirá casos nuevos", "✔ #tomar " + tk.Number}}},
		"rejected-desk": {To: "carlos@entidad.gov.co", At: at, Payload: ticket.CommandsNotice{Rejected: true, Lines: []string{"Su usuario ya no está activo; " + tk.Number + " sigue con su grupo."}}},
		"queue": {To: "carlos@entidad.gov.co", InReplyTo: "<q@x>", At: at, Payload: ticket.QueueNotice{Scope: ticket.QueueMine, Items: []ticket.QueueItem{
			{Ticket: &late, HasDue: true, Remaining: -95 * time.Minute}, {Ticket: &cur, HasDue: true, Remaining: 7*time.Hour + 5*time.Minute},
			{Ticket: &held, Paused: true, HasDue: true, Remaining: time.Hour}}}},
		"queue-morning": {To: "carlos@entidad.gov.co", At: at, Payload: ticket.QueueNotice{Scope: ticket.QueueMorning, Items: []ticket.QueueItem{
			{Ticket: &cur, HasDue: true, Remaining: 30 * time.Minute}}}},
		"queue-pending": {To: "marta@entidad.gov.co", At: at, Payload: ticket.QueueNotice{Scope: ticket.QueuePending, Groups: []string{"infraestructura"},
			Items: []ticket.QueueItem{{Ticket: &late, HasDue: true, Remaining: -time.Hour}, {Ticket: &cur}}}},
		"duplicate": notice(tk.Assignee, "", ticket.DuplicateNotice{Other: "MS-2026-000041", Score: 0.42}),
		"linked":    notice(tk.Requester, "<new@x>", ticket.LinkedNotice{}),
		"mass_incident": {To: "carlos@entidad.gov.co", At: at, Ticket: &cur, Payload: ticket.MassIncidentNotice{Category: "ti.vpn", Window: 30 * time.Minute,
			Tickets: []*ticket.Ticket{&cur, &late}, Command: "#masivo " + tk.Number + " " + late.Number}},
		"away": {To: "diana@entidad.gov.co", At: at, Payload: ticket.AwayNotice{Person: "carlos@entidad.gov.co", Until: &back,
			Tickets: []*ticket.Ticket{&cur, &late}}},
		"away-departed": {To: "marta@entidad.gov.co", At: at, Payload: ticket.AwayNotice{Person: "pedro@entidad.gov.co", Departed: true,
			Tickets: []*ticket.Ticket{&cur, &late}}},
		"digest-weekly": {To: "marta@entidad.gov.co", At: at, Payload: ticket.DigestNotice{Digest: weeklyFixture(tk, at)}},
		// rendered with desk.privacy_url set (the other cases have none)
		"ack-privacy": notice(tk.Requester, "<m@x>", ticket.AckNotice{}),
		// The monthly report, its XLSX attached (monthly_test.go checks the file).
		"monthly_report": {To: "marta@entidad.gov.co", ToName: "Marta", At: at, Payload: monthlyFixture()},
	}
	for kind := range cases {
		if !strings.Contains(kind, "-") && !slices.Contains(ticket.NoticeKinds, cases[kind].Kind()) {
			t.Errorf("case %s has kind %q", kind, cases[kind].Kind())
		}
	}
	for _, lang := range []string{"es", "en"} {
		r, err := New(Options{DeskName: "Mesa de Servicios", From: "mesa@entidad.gov.co", PublicURL: "https://mesa.entidad.gov.co",
			Language: lang, Catalogue: names{"ti.vpn": "Acceso Remoto"}, CommandHelp: []string{"#cerrar <solución>", "#ayuda"}})
		if err != nil {
			t.Fatal(err)
		}
		rp, err := New(Options{DeskName: "Mesa de Servicios", From: "mesa@entidad.gov.co", PublicURL: "https://mesa.entidad.gov.co",
			Language: lang, Catalogue: names{"ti.vpn": "Acceso Remoto"}, PrivacyURL: "https://www.entidad.gov.co/politica-de-datos"})
		if err != nil {
			t.Fatal(err)
		}
		for name, n := range cases {
			t.Run(name+"."+lang, func(t *testing.T) {
				n := *n
				n.Lang = lang
				r := r
				if strings.HasSuffix(name, "-privacy") {
					r = rp
				}
				m, err := r.Render(&n)
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
				if !strings.Contains(in.HTML, "<p>") || n.Kind() != ticket.NoticeEmpty && n.Kind() != ticket.NoticeMonthlyReport && !strings.Contains(in.HTML, html.EscapeString(tk.Number)) {
					t.Errorf("no HTML alternative with the text: %q", in.HTML)
				}
				if r == rp && !strings.Contains(in.HTML, `href="https://www.entidad.gov.co/politica-de-datos"`) {
					t.Errorf("no privacy link in the HTML alternative: %q", in.HTML)
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

// digestFixture is a small desk: one ticket past due and due today, a
// long hold, a compliance trend with gaps and survey figures.
func digestFixture(tk *ticket.Ticket, at time.Time) *ticket.Digest {
	bog, _ := time.LoadLocation("America/Bogota")
	open := *tk
	open.State, open.CreatedAt = ticket.EnProceso, at.Add(-50*time.Hour)
	tk = &open
	held := *tk
	held.Number, held.Subject, held.State, held.Assignee = "MS-2026-000007", "Silla rota", ticket.Retenido, ""
	held.CreatedAt = at.Add(-30 * time.Hour)
	dg := &ticket.Digest{Kind: "daily", Groups: []string{"infraestructura"}, At: at.In(bog), Open: 3,
		ByState:  []ticket.Count{{Key: "en_proceso", N: 2}, {Key: "retenido", N: 1}},
		ByCat:    []ticket.Count{{Key: "ti.vpn", N: 2}, {Key: "adm.muebles.silla", N: 1}},
		ByGroup:  []ticket.Count{{Key: "infraestructura", N: 3}},
		Load:     []ticket.Count{{Key: "carlos@entidad.gov.co", N: 2}},
		Breached: []*ticket.Ticket{tk}, DueToday: []*ticket.Ticket{tk}, Oldest: []*ticket.Ticket{tk, &held},
		LongHeld: []*ticket.Ticket{&held},
		Last7:    ticket.Compliance{Met: 9, Total: 10}, Last30: ticket.Compliance{Met: 40, Total: 48},
		SurveysSent: 20, SurveysAnswered: 8, RatingAvg: 4.25}
	for i := 13; i >= 0; i-- {
		c := ticket.Compliance{Day: at.AddDate(0, 0, -i)}
		if i%3 != 0 {
			c.Total, c.Met = 4, 4-i%3
		}
		dg.Trend = append(dg.Trend, c)
	}
	return dg
}

// weeklyFixture is digestFixture as the weekly digest, with its week.
func weeklyFixture(tk *ticket.Ticket, at time.Time) *ticket.Digest {
	dg := digestFixture(tk, at)
	bog, _ := time.LoadLocation("America/Bogota")
	dg.Kind = "weekly"
	dg.Week = &ticket.Week{From: time.Date(2026, 3, 9, 0, 0, 0, 0, bog), To: time.Date(2026, 3, 16, 0, 0, 0, 0, bog),
		Opened: [2]int{31, 24}, Closed: [2]int{28, 26},
		Compliance:    [2]ticket.Compliance{{Met: 25, Total: 28}, {Met: 20, Total: 26}},
		FirstResponse: [2]ticket.Durations{{N: 28, Total: 28 * 95 * time.Minute}, {}},
		Answered:      [2]int{9, 0}, Rating: [2]float64{4.25, 0},
		Worst: []ticket.CategoryCompliance{{Key: "ti.vpn", Compliance: ticket.Compliance{Met: 3, Total: 5}}}}
	dg.Classification = &ticket.Classification{Tickets: [2]int{31, 24}, Changed: [2]int{4, 1},
		Top:        []ticket.CategoryOverrides{{Key: "ti.vpn", Tickets: 6, Changed: 3}, {Key: "adm.muebles.silla", Tickets: 2, Changed: 1}},
		Confusions: []ticket.Confusion{{From: "ti.vpn", To: "ti.redes", N: 2}, {From: "adm.muebles.silla", To: "ti.vpn", N: 1}},
		Model: &ticket.ModelFacts{Trained: time.Date(2026, 3, 1, 0, 0, 0, 0, bog), AgeDays: 19, Examples: 1339,
			Sources: []ticket.Count{{Key: "corpus", N: 1327}, {Key: "corrections", N: 12}}}}
	return dg
}

// The digest's HTML part shows the chart, embedded in the mail: a PNG of
// one bar per day, green at or above the target, red below.
func TestDigestChart(t *testing.T) {
	at := time.Date(2026, 3, 24, 12, 30, 0, 0, time.UTC)
	due := at
	tk := &ticket.Ticket{ID: 1, Number: "MS-2026-000042", Subject: "VPN", Requester: "a@x.co", DueAt: &due, CreatedAt: at}
	r, err := New(Options{DeskName: "Mesa", From: "mesa@entidad.gov.co", PublicURL: "https://m.x"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := r.Render(&ticket.Notice{To: "marta@entidad.gov.co", At: at, Payload: ticket.DigestNotice{Digest: digestFixture(tk, at)}})
	if err != nil {
		t.Fatal(err)
	}
	raw := string(m.Raw)
	in, err := mailin.Parse(m.Raw)
	if err != nil || !strings.Contains(in.HTML, `src="cid:cumplimiento.png"`) || !strings.Contains(raw, "<cumplimiento.png>") ||
		!strings.Contains(raw, "image/png") || !strings.Contains(in.Text, "MS-2026-000042") {
		t.Fatalf("no embedded chart (%v):\n%.3000s", err, raw)
	}
	img, err := png.Decode(bytes.NewReader(complianceChart([]int{100, 50, -1})))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 3*20+4 || b.Dy() != 101 {
		t.Errorf("chart size %v", b)
	}
	at2 := func(x, y int) color.RGBA {
		r, g, b, a := img.At(x, y).RGBA()
		return color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), uint8(a >> 8)}
	}
	if at2(10, 5) != chartGood || at2(30, 5) != (color.RGBA{255, 255, 255, 255}) || at2(30, 60) != chartBad || at2(50, 99) != chartNone {
		t.Errorf("bars: %v %v %v %v", at2(10, 5), at2(30, 5), at2(30, 60), at2(50, 99))
	}
}
