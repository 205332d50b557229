package desk_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/desk"
	"github.com/mesadeservicios/mesa/ticket"
)

// Working the desk by mail (issue 16): queues, absences, departures,
// duplicates, mass incidents, merges, digests.

func (e *staffEnv) person(t *testing.T, p *ticket.Person) {
	t.Helper()
	p.Active = true
	if err := e.db.SavePerson(context.Background(), p); err != nil {
		t.Fatal(err)
	}
}

// last is the newest mail queued to an address (nil: none).
func (e *staffEnv) last(t *testing.T, to string) *ticket.Inbound {
	t.Helper()
	all := e.outbox(t, to)
	if len(all) == 0 {
		return nil
	}
	return all[len(all)-1]
}

func (e *staffEnv) ticket(t *testing.T, number string) *ticket.Ticket {
	t.Helper()
	tk, err := e.db.TicketByNumber(context.Background(), number)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// ordered reports whether the numbers appear in text in this order.
func ordered(text string, numbers ...string) bool {
	last := -1
	for _, n := range numbers {
		at := strings.Index(text, n)
		if at < last || at < 0 {
			return false
		}
		last = at
	}
	return true
}

func TestMisCasosInSLAOrder(t *testing.T) {
	e := newStaffEnv(t)
	ctx := context.Background()
	const carlos = "carlos@entidad.gov.co"
	mk := func(subject string, due time.Duration) *ticket.Ticket {
		t.Helper()
		at := e.now.Add(due)
		tk, err := e.d.Create(ctx, desk.NewTicket{Subject: subject, Requester: "ana@entidad.gov.co", Category: "ti.vpn", Group: "infraestructura", DueAt: &at})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.d.Assign(ctx, tk.Number, "marta@entidad.gov.co", carlos); err != nil {
			t.Fatal(err)
		}
		return tk
	}
	later, soon, late, held := mk("Tarde", 30*time.Hour), mk("Pronto", 2*time.Hour), mk("Vencido", -time.Hour), mk("Retenido", time.Hour)
	if _, err := e.d.Transition(ctx, held.Number, ticket.Retenido, carlos, "Falta el formato"); err != nil {
		t.Fatal(err)
	}
	before := len(e.outbox(t, carlos))
	res := e.mail(t, "Carlos <carlos@entidad.gov.co>", "Mis casos", "", trusted, "#mis_casos\n\n--\nCarlos")
	if res.Disposition != desk.DispCommands || res.Ticket != "" {
		t.Fatalf("#mis_casos: got %+v, want commands and no ticket", res)
	}
	all := e.outbox(t, carlos)
	if len(all) != before+1 {
		t.Fatalf("got %d new mails, want one (the queue, no separate results mail)", len(all)-before)
	}
	q := all[len(all)-1]
	if !strings.Contains(q.Subject, "Sus casos abiertos: 4 (vencidos: 1)") || !ordered(q.Text, late.Number, soon.Number, later.Number, held.Number) {
		t.Errorf("queue %q not in SLA order (past due, 2 h, 30 h, on hold):\n%s", q.Subject, q.Text)
	}
	if !strings.Contains(q.Text, "VENCIDO") || !strings.Contains(q.Text, "ANS detenido") {
		t.Errorf("queue lacks the SLA standing:\n%s", q.Text)
	}
	// A requester's "#mis_casos" is a ticket like any other mail.
	if res := e.mail(t, "ana@entidad.gov.co", "Pregunta", "", "", "#mis_casos"); res.Disposition != desk.DispTicket {
		t.Errorf("a requester's #mis_casos: got %+v, want a ticket", res)
	}
}

func TestPendientesForManagers(t *testing.T) {
	e := newStaffEnv(t)
	e.person(t, &ticket.Person{Email: "marta@entidad.gov.co", Role: ticket.RoleManager, Groups: []string{"infraestructura"}})
	res := e.mail(t, "ana@entidad.gov.co", "No conecta la VPN", "", "", "Desde la casa el FortiClient no conecta.")
	e.mail(t, "marta@entidad.gov.co", "Pendientes", "", trusted, "#pendientes")
	if got := e.last(t, "marta@entidad.gov.co"); got == nil || !strings.Contains(got.Subject, "Casos pendientes de infraestructura: 1") ||
		!strings.Contains(got.Text, res.Ticket) || !strings.Contains(got.Text, "carlos@entidad.gov.co") {
		t.Fatalf("#pendientes: %+v", got)
	}
	e.mail(t, "marta@entidad.gov.co", "Pendientes", "", trusted, "#pendientes redes")
	if got := e.last(t, "marta@entidad.gov.co"); !strings.Contains(got.Text, "✘ #pendientes redes") || !strings.Contains(got.Text, "no es gestor del grupo redes") {
		t.Errorf("another group's #pendientes:\n%s", got.Text)
	}
	e.mail(t, "carlos@entidad.gov.co", "Pendientes", "", trusted, "#pendientes")
	if got := e.last(t, "carlos@entidad.gov.co"); !strings.Contains(got.Text, "✘ #pendientes") || !strings.Contains(got.Text, "gestores") {
		t.Errorf("a technician's #pendientes:\n%s", got.Text)
	}
	// Unauthenticated: refused, nothing sent but the refusal.
	e.mail(t, "marta@entidad.gov.co", "Pendientes", "", "", "#pendientes")
	if got := e.last(t, "marta@entidad.gov.co"); !strings.Contains(got.Subject, "Comandos no aplicados") {
		t.Errorf("unauthenticated #pendientes: %q", got.Subject)
	}
}

func TestMorningDigest(t *testing.T) {
	e := newStaffEnv(t)
	ctx := context.Background()
	e.mail(t, "ana@entidad.gov.co", "No conecta la VPN", "", "", "Desde la casa el FortiClient no conecta.")
	const carlos, diana = "carlos@entidad.gov.co", "diana@entidad.gov.co"
	for _, tc := range []struct {
		name string
		at   time.Time // UTC
		want int
	}{
		{"Tuesday: carlos, not diana (no tickets)", time.Date(2026, 3, 24, 12, 0, 0, 0, time.UTC), 1},
		{"again the same day", time.Date(2026, 3, 24, 12, 30, 0, 0, time.UTC), 0},
		{"Saturday", time.Date(2026, 3, 28, 12, 0, 0, 0, time.UTC), 0},
		{"Thursday 2 April, a holiday", time.Date(2026, 4, 2, 12, 0, 0, 0, time.UTC), 0},
		{"Monday 30 March", time.Date(2026, 3, 30, 12, 0, 0, 0, time.UTC), 1},
	} {
		e.now = tc.at
		n, err := e.d.SendMorningDigests(ctx)
		if err != nil || n != tc.want {
			t.Errorf("%s: got %d, %v; want %d", tc.name, n, err, tc.want)
		}
	}
	if got := e.last(t, carlos); !strings.Contains(got.Subject, "Su resumen de la mañana: 1 casos abiertos") || !strings.Contains(got.Text, "#sin_resumen") {
		t.Errorf("morning digest: %q\n%s", got.Subject, got.Text)
	}
	if got := e.outbox(t, diana); len(got) != 0 {
		t.Errorf("diana, with no tickets, got %d mails", len(got))
	}
	e.now = time.Date(2026, 3, 31, 11, 0, 0, 0, time.UTC)
	e.mail(t, carlos, "Sin resumen", "", trusted, "#sin_resumen")
	if got := e.last(t, carlos); !strings.Contains(got.Text, "✔ #sin_resumen") {
		t.Errorf("#sin_resumen answer:\n%s", got.Text)
	}
	e.now = time.Date(2026, 3, 31, 12, 0, 0, 0, time.UTC)
	if n, _ := e.d.SendMorningDigests(ctx); n != 0 {
		t.Errorf("after #sin_resumen: got %d digests, want 0", n)
	}
	e.mail(t, carlos, "Resumen", "", trusted, "#resumen")
	e.person(t, &ticket.Person{Email: carlos, Role: ticket.RoleTechnician, Level: 1, Groups: []string{"infraestructura"}, NoDigest: true})
	e.now = time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
	if n, _ := e.d.SendMorningDigests(ctx); n != 1 {
		t.Errorf("#resumen outranks the configuration's digest: false: got %d digests, want 1", n)
	}
}

func TestAusenteStopsAssignments(t *testing.T) {
	e := newStaffEnv(t)
	ctx := context.Background()
	const carlos, diana = "carlos@entidad.gov.co", "diana@entidad.gov.co"
	first := e.mail(t, "ana@entidad.gov.co", "No conecta la VPN", "", "", "Desde la casa el FortiClient no conecta.")
	if e.ticket(t, first.Ticket).Assignee != carlos {
		t.Fatalf("fixture: first ticket to %s", e.ticket(t, first.Ticket).Assignee)
	}
	// Tuesday 24 March: carlos is away through Friday 27, diana replaces him.
	e.mail(t, carlos, "Vacaciones", "", trusted, "#ausente hasta 2026-03-27 "+diana)
	if got := e.last(t, carlos); !strings.Contains(got.Text, "✔ #ausente") || !strings.Contains(got.Text, "2026-03-27") || !strings.Contains(got.Text, diana) {
		t.Fatalf("#ausente answer:\n%s", got.Text)
	}
	offer := e.last(t, diana)
	if offer == nil || !strings.Contains(offer.Subject, "ofrecidos") || !strings.Contains(offer.Text, "#tomar "+first.Ticket) {
		t.Fatalf("offer to the replacement: %+v", offer)
	}
	for i := range 3 {
		res := e.mail(t, "luis"+strings.Repeat("i", i)+"@entidad.gov.co", "Carpeta compartida "+strings.Repeat("x", i), "", "",
			"No tengo acceso a la carpeta compartida del área, número "+strings.Repeat("9", i+1))
		if got := e.ticket(t, res.Ticket).Assignee; got != diana {
			t.Errorf("a ticket while carlos is away went to %q, want %s", got, diana)
		}
	}
	if _, err := e.d.Assign(ctx, first.Ticket, diana, carlos); err == nil || !strings.Contains(err.Error(), "away") {
		t.Errorf("#asignar to an absent technician: got %v, want refused", err)
	}
	e.mail(t, diana, "Tomo", "", trusted, "#tomar "+first.Ticket)
	if got := e.ticket(t, first.Ticket).Assignee; got != diana {
		t.Errorf("#tomar: assignee %q, want %s", got, diana)
	}
	for _, bad := range []string{"#ausente hasta 2026-03-01", "#ausente mañana", "#ausente hasta 2026-04-10 nadie@entidad.gov.co"} {
		e.mail(t, carlos, "Ausente", "", trusted, bad)
		if got := e.last(t, carlos); !strings.Contains(got.Text, "✘ "+bad) {
			t.Errorf("%q: got\n%s", bad, got.Text)
		}
	}
	// Saturday 28 March he is back: tickets reach him again.
	e.now = time.Date(2026, 3, 30, 14, 0, 0, 0, time.UTC)
	res := e.mail(t, "pedro@entidad.gov.co", "Carpeta compartida", "", "", "No tengo acceso a la carpeta compartida del área.")
	if got := e.ticket(t, res.Ticket).Assignee; got != carlos {
		t.Errorf("after the absence: assignee %q, want %s (least loaded)", got, carlos)
	}
}

func TestDepartedPeople(t *testing.T) {
	e := newStaffEnv(t)
	ctx := context.Background()
	e.person(t, &ticket.Person{Email: "marta@entidad.gov.co", Role: ticket.RoleManager, Groups: []string{"infraestructura"}})
	res := e.mail(t, "ana@entidad.gov.co", "No conecta la VPN", "", "", "Desde la casa el FortiClient no conecta.")
	const carlos, diana = "carlos@entidad.gov.co", "diana@entidad.gov.co"
	assigned := e.last(t, carlos)
	gone, err := e.db.DeactivateMissing(ctx, []string{diana, "marta@entidad.gov.co"})
	if err != nil || len(gone) != 1 || gone[0] != carlos {
		t.Fatalf("deactivated: got %v, %v; want [carlos]", gone, err)
	}
	n, err := e.d.ReleaseDeparted(ctx)
	if err != nil || n != 1 {
		t.Fatalf("release: got %d, %v; want 1", n, err)
	}
	if got := e.ticket(t, res.Ticket).Assignee; got != diana {
		t.Errorf("the departed's ticket went to %q, want %s", got, diana)
	}
	if got := e.last(t, "marta@entidad.gov.co"); got == nil || !strings.Contains(got.Subject, "devueltos al grupo") || !strings.Contains(got.Text, res.Ticket) {
		t.Errorf("notice to the group's manager: %+v", got)
	}
	if n, _ := e.d.ReleaseDeparted(ctx); n != 0 {
		t.Errorf("a second start moved %d tickets again", n)
	}
	// A deactivated person's commands are refused, never a comment.
	e.mail(t, carlos, "RE: "+assigned.Subject, assigned.MessageID, trusted, "#cerrar Listo.")
	if tk := e.ticket(t, res.Ticket); tk.State == ticket.Cerrado {
		t.Error("a deactivated person closed a ticket")
	}
	if got := e.last(t, carlos); !strings.Contains(got.Subject, "Comandos no aplicados") || !strings.Contains(got.Text, "ya no está activo") {
		t.Errorf("refusal: %q\n%s", got.Subject, got.Text)
	}
	for _, m := range e.outbox(t, "ana@entidad.gov.co") {
		if strings.Contains(m.Text, "#cerrar") {
			t.Errorf("the refused command reached the requester:\n%s", m.Text)
		}
	}
	if res := e.mail(t, carlos, "Mis casos", "", trusted, "#mis_casos"); res.Disposition != desk.DispCommands ||
		!strings.Contains(e.last(t, carlos).Subject, "Comandos no aplicados") {
		t.Errorf("a deactivated person's #mis_casos: %+v %q", res, e.last(t, carlos).Subject)
	}
}

func TestDuplicatesAtIntake(t *testing.T) {
	e := newStaffEnv(t)
	const ana = "ana@entidad.gov.co"
	first := e.mail(t, ana, "No conecta la VPN", "", "", "Desde la casa el FortiClient no conecta a la VPN.")
	again := e.mail(t, ana, "VPN no conecta", "", "", "El FortiClient sigue sin conectar a la VPN desde mi casa.")
	if again.Disposition != desk.DispReply || again.Ticket != first.Ticket {
		t.Fatalf("the same problem again: got %+v, want a reply to %s", again, first.Ticket)
	}
	if got := e.last(t, ana); !strings.Contains(got.Subject, "Agregado a su caso") || !strings.Contains(got.Subject, first.Ticket) {
		t.Errorf("the requester is not told: %q", got.Subject)
	}
	printer := e.mail(t, ana, "La impresora no imprime", "", "", "La impresora del segundo piso no imprime.")
	toner := e.mail(t, ana, "Tóner de la impresora", "", "", "Se acabó el tóner de la impresora del segundo piso, necesitamos uno nuevo.")
	if toner.Disposition != desk.DispTicket || toner.Ticket == printer.Ticket {
		t.Fatalf("a related problem: got %+v, want its own ticket", toner)
	}
	tk := e.ticket(t, toner.Ticket)
	evs, _ := e.db.Events(context.Background(), tk.ID)
	flagged := false
	for _, ev := range evs {
		flagged = flagged || ev.Kind == ticket.EventNote && strings.Contains(ev.Body, "Posible duplicado del caso "+printer.Ticket)
	}
	if !flagged || !strings.Contains(evs[0].Data, `"possible_duplicate":"`+printer.Ticket+`"`) {
		t.Errorf("no possible-duplicate note or detail on %s: %+v", toner.Ticket, evs)
	}
	if tk.Assignee != "" {
		if got := e.last(t, tk.Assignee); !strings.Contains(got.Subject, "¿Duplicado?") || !strings.Contains(got.Text, "#unir "+printer.Ticket) {
			t.Errorf("the assignee is not told: %q", got.Subject)
		}
	}
	if res := e.mail(t, ana, "Silla rota", "", "", "La silla de mi puesto tiene una rueda rota."); res.Disposition != desk.DispTicket {
		t.Errorf("an unrelated mail: got %+v", res)
	}
	// A day and more later the same words open a new ticket.
	e.now = e.now.Add(25 * time.Hour)
	if res := e.mail(t, ana, "No conecta la VPN", "", "", "Desde la casa el FortiClient no conecta a la VPN."); res.Disposition != desk.DispTicket || res.Ticket == first.Ticket {
		t.Errorf("after 24 h: got %+v, want a new ticket", res)
	}
}

func TestMassIncidentLinkedAndClosedAsOne(t *testing.T) {
	e := newStaffEnv(t)
	ctx := context.Background()
	e.db.SaveGroup(ctx, ticket.Group{Key: "redes"})
	const carlos, marta = "carlos@entidad.gov.co", "marta@entidad.gov.co"
	e.person(t, &ticket.Person{Email: carlos, Role: ticket.RoleTechnician, Level: 1, Groups: []string{"infraestructura", "redes"}})
	e.person(t, &ticket.Person{Email: marta, Role: ticket.RoleManager, Groups: []string{"redes"}})
	var numbers []string
	for i, who := range []string{"r1", "r2", "r3", "r4", "r5", "r6"} {
		res := e.mail(t, who+"@entidad.gov.co", "No hay red", "", "", "En mi puesto no hay red desde hace un rato, oficina "+strings.Repeat("1", i+1))
		if e.ticket(t, res.Ticket).Category != "ti.redes" {
			t.Fatalf("fixture: %s is %s", res.Ticket, e.ticket(t, res.Ticket).Category)
		}
		numbers = append(numbers, res.Ticket)
		alerts := 0
		for _, m := range e.outbox(t, marta) {
			if strings.Contains(m.Subject, "incidente masivo") {
				alerts++
			}
		}
		if want := min(max(i-3, 0), 1); alerts != want {
			t.Errorf("after %d tickets: %d alerts, want %d", i+1, alerts, want)
		}
	}
	var alert *ticket.Inbound
	for _, m := range e.outbox(t, carlos) {
		if strings.Contains(m.Subject, "incidente masivo") {
			alert = m
		}
	}
	if alert == nil || !strings.Contains(alert.Subject, "["+numbers[0]+"]") || !strings.Contains(alert.Text, "#masivo "+strings.Join(numbers[:5], " ")) {
		t.Fatalf("alert to the technician: %+v", alert)
	}
	e.mail(t, carlos, "RE: "+alert.Subject, alert.MessageID, trusted, "#masivo "+strings.Join(numbers[:5], " "))
	if got := e.last(t, carlos); !strings.Contains(got.Text, "✔ #masivo") || !strings.Contains(got.Text, "4 casos vinculados bajo "+numbers[0]) {
		t.Fatalf("#masivo answer:\n%s", got.Text)
	}
	e.mail(t, carlos, "RE: "+alert.Subject, alert.MessageID, trusted, "#masivo "+numbers[1])
	if got := e.last(t, carlos); !strings.Contains(got.Text, "✘ #masivo") || !strings.Contains(got.Text, "ya está vinculado") {
		t.Errorf("linking twice:\n%s", got.Text)
	}
	// A month later all six are late: the parent and the ticket left out
	// alert, the four children do not (their parent's alert covers them).
	e.now = e.now.Add(30 * 24 * time.Hour)
	rep, err := e.d.WatchSLA(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Breached != 2 || rep.Linked != 4 {
		t.Errorf("SLA watch: %+v, want 2 breached (parent and the ticket not linked) and 4 children left to their parent", rep)
	}
	for i, n := range numbers {
		got := len(e.events(t, e.ticket(t, n), ticket.EventSLABreached))
		if want := map[bool]int{true: 1, false: 0}[i == 0 || i == 5]; got != want {
			t.Errorf("%s: %d breach events, want %d", n, got, want)
		}
	}
	e.mail(t, carlos, "RE: "+alert.Subject, alert.MessageID, trusted, "#cerrar Se reinició el switch del piso.")
	for i, n := range numbers[:5] {
		tk := e.ticket(t, n)
		who := "r" + string(rune('1'+i)) + "@entidad.gov.co"
		closed := e.last(t, who)
		if tk.State != ticket.Cerrado || tk.Solution != "Se reinició el switch del piso." || !strings.Contains(closed.Subject, "Caso cerrado") ||
			!strings.Contains(closed.Text, "Se reinició el switch del piso.") {
			t.Errorf("%s: state %s, solution %q; %s got %q", n, tk.State, tk.Solution, who, closed.Subject)
		}
	}
	if tk := e.ticket(t, numbers[5]); tk.State == ticket.Cerrado {
		t.Error("the ticket not linked was closed too")
	}
}

func TestUnirMergesTickets(t *testing.T) {
	e := newStaffEnv(t)
	ctx := context.Background()
	const carlos = "carlos@entidad.gov.co"
	keep := e.mail(t, "ana@entidad.gov.co", "No conecta la VPN", "", "", "Desde la casa el FortiClient no conecta.")
	dup := e.mail(t, "luis@entidad.gov.co", "VPN de Ana", "", "", "Escribo por Ana: su VPN no conecta desde la casa.")
	if dup.Ticket == keep.Ticket {
		t.Fatal("fixture: one ticket")
	}
	luisAck := e.last(t, "luis@entidad.gov.co")
	e.mail(t, carlos, "RE: ["+keep.Ticket+"] x", "", trusted, "#unir "+dup.Ticket)
	if got := e.last(t, carlos); !strings.Contains(got.Text, "✔ #unir "+dup.Ticket) {
		t.Fatalf("#unir answer:\n%s", got.Text)
	}
	merged := e.ticket(t, dup.Ticket)
	if merged.State != ticket.Cerrado || !strings.Contains(merged.Solution, keep.Ticket) {
		t.Errorf("the merged ticket: %s %q", merged.State, merged.Solution)
	}
	if got := e.last(t, "luis@entidad.gov.co"); !strings.Contains(got.Subject, "Caso cerrado") || !strings.Contains(got.Text, keep.Ticket) {
		t.Errorf("the merged ticket's requester: %q\n%s", got.Subject, got.Text)
	}
	into := e.ticket(t, keep.Ticket)
	evs, _ := e.db.Events(ctx, into.ID)
	copied := false
	for _, ev := range evs {
		copied = copied || ev.Kind == ticket.EventComment && strings.Contains(ev.Body, "Escribo por Ana") && strings.Contains(ev.Data, dup.Ticket)
	}
	if !copied {
		t.Errorf("the merged ticket's request is not in %s's history", keep.Ticket)
	}
	if ok, _ := e.db.IsParticipant(ctx, into.ID, "luis@entidad.gov.co"); !ok {
		t.Error("the merged ticket's requester is not a participant")
	}
	// Luis answers his old acknowledgement: it lands on the ticket kept.
	if res := e.mail(t, "luis@entidad.gov.co", "RE: "+luisAck.Subject, luisAck.MessageID, "", "Gracias, quedo atento."); res.Ticket != keep.Ticket {
		t.Errorf("reply to the merged ticket's mail went to %s, want %s", res.Ticket, keep.Ticket)
	}
	e.mail(t, carlos, "RE: ["+keep.Ticket+"] x", "", trusted, "#unir "+keep.Ticket)
	if got := e.last(t, carlos); !strings.Contains(got.Text, "✘ #unir") {
		t.Errorf("#unir with itself:\n%s", got.Text)
	}
	// The merged ticket is closed, but Luis's request goes on in the one
	// kept: no survey about a closure that solved nothing; the ticket kept
	// asks when it closes.
	e.now = e.now.Add(48 * time.Hour)
	rep, err := e.d.SendSurveys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sent != 0 || rep.Skipped != 1 {
		t.Errorf("surveys after the merge: %+v, want none sent and the merged ticket skipped", rep)
	}
	for _, m := range e.outbox(t, "luis@entidad.gov.co") {
		if strings.Contains(m.Subject, "Encuesta") {
			t.Errorf("the merged ticket's requester got a survey: %q", m.Subject)
		}
	}
}

func TestDigestsOnBusinessDaysOnly(t *testing.T) {
	e := newStaffEnv(t)
	ctx := context.Background()
	e.person(t, &ticket.Person{Email: "marta@entidad.gov.co", Role: ticket.RoleManager, Groups: []string{"infraestructura"}})
	// The week of Monday 16 March: one VPN ticket closed on time, one late.
	e.now = time.Date(2026, 3, 17, 14, 0, 0, 0, time.UTC)
	ok := e.mail(t, "ana@entidad.gov.co", "No conecta la VPN", "", "", "Desde la casa el FortiClient no conecta.")
	late := e.mail(t, "luis@entidad.gov.co", "VPN caída", "", "", "La VPN no conecta desde ayer en mi portátil.")
	if _, err := e.d.Answer(ctx, ok.Ticket, "carlos@entidad.gov.co", "Reinicie el FortiClient."); err != nil {
		t.Fatal(err)
	}
	if _, err := e.d.Transition(ctx, ok.Ticket, ticket.Cerrado, "carlos@entidad.gov.co", "Listo."); err != nil {
		t.Fatal(err)
	}
	e.now = time.Date(2026, 3, 20, 20, 0, 0, 0, time.UTC)
	if _, err := e.d.Transition(ctx, late.Ticket, ticket.Cerrado, "carlos@entidad.gov.co", "Listo."); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, kind string
		at         time.Time
		want       int
	}{
		{"daily on Monday 23 March, a holiday", "daily", time.Date(2026, 3, 23, 12, 30, 0, 0, time.UTC), 0},
		{"weekly on Monday 23 March, a holiday", "weekly", time.Date(2026, 3, 23, 12, 30, 0, 0, time.UTC), 0},
		{"weekly on Tuesday 24, the week's first business day", "weekly", time.Date(2026, 3, 24, 12, 30, 0, 0, time.UTC), 1},
		{"weekly on Wednesday 25", "weekly", time.Date(2026, 3, 25, 12, 30, 0, 0, time.UTC), 0},
		{"daily on Tuesday 24", "daily", time.Date(2026, 3, 24, 12, 30, 0, 0, time.UTC), 1},
		{"daily on Saturday 28", "daily", time.Date(2026, 3, 28, 12, 30, 0, 0, time.UTC), 0},
	} {
		e.now = tc.at
		if n, err := e.d.SendDigests(ctx, tc.kind); err != nil || n != tc.want {
			t.Errorf("%s: got %d, %v; want %d", tc.name, n, err, tc.want)
		}
	}
	e.now = time.Date(2026, 3, 24, 12, 30, 0, 0, time.UTC)
	dg, err := e.d.BuildDigest(ctx, []string{"infraestructura"}, "weekly")
	if err != nil {
		t.Fatal(err)
	}
	w := dg.Week
	if w == nil || w.From.Day() != 16 || w.To.Day() != 23 || w.Opened != [2]int{2, 0} || w.Closed != [2]int{2, 0} ||
		w.Compliance[0] != (ticket.Compliance{Met: 1, Total: 2}) || w.FirstResponse[0].N != 2 || len(w.Worst) != 1 || w.Worst[0].Key != "ti.vpn" {
		t.Fatalf("the week: %+v", w)
	}
	if dg.FirstResponse.N != 2 {
		t.Errorf("first responses in the digest: %+v", dg.FirstResponse)
	}
	var weekly *ticket.Inbound
	for _, m := range e.outbox(t, "marta@entidad.gov.co") {
		if strings.Contains(m.Subject, "semanal") {
			weekly = m
		}
	}
	if weekly == nil || !strings.Contains(weekly.Text, "FRENTE A LA ANTERIOR") || !strings.Contains(weekly.Text, "50 % (1/2)") ||
		!strings.Contains(weekly.Text, "PRIMERA RESPUESTA") {
		t.Errorf("weekly digest:\n%+v", weekly)
	}
}

// The toner ticket of TestDuplicatesAtIntake is assigned: the duplicate
// notice was checked, not skipped.
func TestDuplicateNoticeReachesAssignee(t *testing.T) {
	e := newStaffEnv(t)
	e.mail(t, "ana@entidad.gov.co", "No conecta la VPN", "", "", "Desde la casa el FortiClient no conecta a la VPN.")
	res := e.mail(t, "ana@entidad.gov.co", "Clave de la VPN", "", "", "Olvidé la clave de la VPN del FortiClient, no recuerdo la nueva.")
	tk := e.ticket(t, res.Ticket)
	if res.Disposition != desk.DispTicket || tk.Assignee == "" {
		t.Fatalf("fixture: %+v assigned to %q", res, tk.Assignee)
	}
	if got := e.last(t, tk.Assignee); got == nil || !strings.Contains(got.Subject, "¿Duplicado?") {
		t.Errorf("duplicate notice to %s: %+v", tk.Assignee, got)
	}
}
