package desk_test

// The trust boundary on every staff path by mail (issue 13 item 1 over
// the paths of issues 15 and 16): #solicitante and forwards on behalf,
// #cc/#sin_cc, #mis_casos, #pendientes, #ausente, #tomar, #masivo (in a
// reply and in a new mail), #unir, #asignar, #cerrar and a plain answer.
// Each is tried with a forged From of staff under every way a forger
// can dress it; each must change nothing, relay nothing to anyone, and
// in all its spoofed addresses hear of it once in the hour. Positive
// controls: the same mail, authenticated, acts.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/store"
	"github.com/mesadeservicios/mesa/ticket"
)

const (
	victim   = "victima@entidad.gov.co"
	attacker = "atacante@evil.example"
	marta    = "marta@entidad.gov.co"
)

// pathsFixture is a desk with two open tickets: a (Ana's, Beto in copy)
// assigned to Carlos, b (Luis's) of another problem; Marta manages the
// group.
type pathsFixture struct {
	a, b     *ticket.Ticket
	assigned *ticket.Inbound // Carlos's assignment notice of a
}

func newPathsFixture(t *testing.T) (*staffEnv, *pathsFixture) {
	t.Helper()
	e := newStaffEnv(t)
	e.person(t, &ticket.Person{Email: marta, Role: ticket.RoleManager, Groups: []string{"infraestructura"}})
	f := &pathsFixture{}
	res := e.raw(t, []string{"From: Ana <ana@entidad.gov.co>", "To: mesa@entidad.gov.co", "Cc: Beto <beto@entidad.gov.co>",
		"Subject: No conecta la VPN"}, "Desde la casa el FortiClient no conecta.")
	f.a = e.ticket(t, res.Ticket)
	res = e.mail(t, "luis@entidad.gov.co", "Carpeta compartida", "", "", "No tengo acceso a la carpeta compartida del área.")
	f.b = e.ticket(t, res.Ticket)
	if f.a.Assignee != "carlos@entidad.gov.co" || f.b.Assignee == "" || f.a.Number == f.b.Number {
		t.Fatalf("fixture: a %s to %s, b %s to %s", f.a.Number, f.a.Assignee, f.b.Number, f.b.Assignee)
	}
	for _, m := range e.outbox(t, f.a.Assignee) {
		if strings.Contains(m.Subject, f.a.Number) {
			f.assigned = m
		}
	}
	if f.assigned == nil {
		t.Fatal("fixture: no assignment notice of a")
	}
	return e, f
}

// staffAttack is one staff action by mail: from, a new mail or a reply
// to a's assignment notice, and how to see that it acted.
type staffAttack struct {
	name, from, subject, body string
	reply                     bool
	acted                     func(t *testing.T, e *staffEnv, f *pathsFixture) bool
}

func staffAttacks(f *pathsFixture) []staffAttack {
	const carlos, diana = "carlos@entidad.gov.co", "diana@entidad.gov.co"
	requested := func(t *testing.T, e *staffEnv, _ *pathsFixture) bool {
		got, err := e.db.ListTickets(context.Background(), store.TicketFilter{Requester: victim})
		if err != nil {
			t.Fatal(err)
		}
		return len(got) > 0
	}
	copyOf := func(addr string) func(t *testing.T, e *staffEnv, f *pathsFixture) bool {
		return func(t *testing.T, e *staffEnv, f *pathsFixture) bool {
			ps, err := e.db.Participants(context.Background(), f.a.ID)
			if err != nil {
				t.Fatal(err)
			}
			return slices.Contains(ps, ticket.Participant{Email: addr, Copy: true})
		}
	}
	mailed := func(to, what string) func(t *testing.T, e *staffEnv, f *pathsFixture) bool {
		return func(t *testing.T, e *staffEnv, f *pathsFixture) bool {
			return slices.ContainsFunc(e.outbox(t, to), func(m *ticket.Inbound) bool {
				return strings.Contains(m.Subject+"\n"+m.Text, what)
			})
		}
	}
	outlook := "Por favor atender.\n\n________________________________\nDe: Víctima <" + victim + ">\n" +
		"Enviado: martes, 24 de marzo de 2026 9:12\nPara: Carlos <carlos@entidad.gov.co>\nAsunto: Clave del correo\n\n" +
		"Necesito restablecer la clave del correo."
	return []staffAttack{
		{"#solicitante", carlos, "Llamada", "#solicitante Víctima <" + victim + ">\n#cc " + attacker + "\n\nPide restablecer la clave.", false, requested},
		{"forward on behalf", carlos, "RV: Clave del correo", outlook, false, requested},
		{"#cc", carlos, "", "#cc " + attacker + "\n\nLe copio a mi colega.", true, copyOf(attacker)},
		{"#sin_cc", carlos, "", "#sin_cc beto@entidad.gov.co", true, func(t *testing.T, e *staffEnv, f *pathsFixture) bool {
			return !copyOf("beto@entidad.gov.co")(t, e, f)
		}},
		{"#mis_casos", carlos, "Mis casos", "#mis_casos", false, mailed(carlos, "Sus casos abiertos")},
		{"#pendientes", marta, "Pendientes", "#pendientes", false, mailed(marta, "Casos pendientes de")},
		{"#ausente", carlos, "Vacaciones", "#ausente hasta 2026-03-27 " + diana, false, func(t *testing.T, e *staffEnv, _ *pathsFixture) bool {
			p, err := e.db.PersonByEmail(context.Background(), carlos)
			if err != nil {
				t.Fatal(err)
			}
			return p.AbsentUntil != nil
		}},
		{"#tomar", diana, "Tomo", "#tomar " + f.a.Number, false, func(t *testing.T, e *staffEnv, f *pathsFixture) bool {
			return e.ticket(t, f.a.Number).Assignee == diana
		}},
		{"#masivo in a reply", carlos, "", "#masivo " + f.b.Number, true, linked},
		{"#masivo in a new mail", carlos, "Masivo", "#masivo " + f.a.Number + " " + f.b.Number, false, linked},
		{"#unir", carlos, "", "#unir " + f.b.Number, true, func(t *testing.T, e *staffEnv, f *pathsFixture) bool {
			return e.ticket(t, f.b.Number).State == ticket.Cerrado
		}},
		{"#asignar", carlos, "", "#asignar " + diana, true, func(t *testing.T, e *staffEnv, f *pathsFixture) bool {
			return e.ticket(t, f.a.Number).Assignee == diana
		}},
		{"#cerrar", carlos, "", "#cerrar Listo: ingrese a https://entidad-gov-co.evil.example/vpn", true, func(t *testing.T, e *staffEnv, f *pathsFixture) bool {
			return e.ticket(t, f.a.Number).State == ticket.Cerrado
		}},
		{"plain answer", carlos, "", "Ana: para restablecer la VPN ingrese su clave en https://entidad-gov-co.evil.example/vpn", true,
			mailed("ana@entidad.gov.co", "evil.example")},
	}
}

func linked(t *testing.T, e *staffEnv, f *pathsFixture) bool {
	parent, _, err := e.db.ParentOf(context.Background(), f.b.ID)
	if err != nil && !strings.Contains(err.Error(), "not found") {
		t.Fatal(err)
	}
	return parent == f.a.ID
}

// forgeries dress a mail as from a staff address without the platform's
// proof that it is.
var forgeries = []struct {
	name    string
	headers func(from string) []string
}{
	{"no authentication", func(from string) []string { return []string{"From: " + from} }},
	{"dmarc fail", func(from string) []string {
		return []string{"From: " + from,
			"Authentication-Results: mx.entidad.gov.co; spf=fail smtp.mailfrom=evil.example; dmarc=fail header.from=entidad.gov.co"}
	}},
	{"forged pass under the server's fail", func(from string) []string {
		return []string{"From: " + from,
			"Authentication-Results: mx.entidad.gov.co; spf=fail smtp.mailfrom=evil.example; dmarc=fail header.from=entidad.gov.co",
			"Authentication-Results: mx.entidad.gov.co; dkim=pass header.d=entidad.gov.co; dmarc=pass header.from=entidad.gov.co"}
	}},
	{"pass for another domain", func(from string) []string {
		return []string{"From: " + from,
			"Authentication-Results: mx.entidad.gov.co; dkim=pass header.d=evil.example; dmarc=pass header.from=evil.example"}
	}},
	{"desk alias with Reply-To staff", func(from string) []string {
		return []string{"From: 'Equipo' via Mesa <mesa@entidad.gov.co>", "Reply-To: " + from, "X-Original-From: " + from,
			"Authentication-Results: mx.entidad.gov.co; dkim=pass header.d=entidad.gov.co; dmarc=pass header.from=entidad.gov.co"}
	}},
}

func (e *staffEnv) attack(t *testing.T, f *pathsFixture, a staffAttack, headers []string) {
	t.Helper()
	h := append([]string{"To: mesa@entidad.gov.co"}, headers...)
	if a.reply {
		h = append(h, "Subject: RE: "+f.assigned.Subject, "In-Reply-To: <"+f.assigned.MessageID+">")
	} else {
		h = append(h, "Subject: "+a.subject)
	}
	e.raw(t, h, a.body)
}

// world is what staff mail could change: every ticket's facts, its
// participants and parent, the staff's absences, and the outbox.
type world struct {
	tickets map[string]string
	people  map[string]string
	mail    map[int64]store.OutboxEntry
}

func (e *staffEnv) world(t *testing.T) world {
	t.Helper()
	ctx := context.Background()
	w := world{tickets: map[string]string{}, people: map[string]string{}, mail: map[int64]store.OutboxEntry{}}
	tickets, err := e.db.ListTickets(ctx, store.TicketFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range tickets {
		parts, err := e.db.Participants(ctx, tk.ID)
		if err != nil {
			t.Fatal(err)
		}
		parent, kind, _ := e.db.ParentOf(ctx, tk.ID)
		w.tickets[tk.Number] = fmt.Sprintf("requester=%s state=%s crit=%s cat=%s assignee=%s solution=%q first=%v closed=%v parent=%d/%s participants=%v",
			tk.Requester, tk.State, tk.Criticality, tk.Category, tk.Assignee, tk.Solution, tk.FirstResponseAt, tk.ClosedAt, parent, kind, parts)
	}
	for _, addr := range []string{"carlos@entidad.gov.co", "diana@entidad.gov.co", marta} {
		p, err := e.db.PersonByEmail(ctx, addr)
		if err != nil {
			t.Fatal(err)
		}
		w.people[addr] = fmt.Sprintf("active=%v absent=%v nodigest=%v groups=%v", p.Active, p.AbsentUntil, p.NoDigest, p.Groups)
	}
	rows, err := e.db.OutboxEntries(ctx, []ticket.OutboxState{ticket.OutboxPending, ticket.OutboxHeld, ticket.OutboxFailed,
		ticket.OutboxSent, ticket.OutboxDiscarded}, 10000)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		w.mail[r.ID] = r
	}
	return w
}

// unchanged fails t when after differs from before in anything but what
// forged staff mail may cause: unverified notes, a new ticket that is the
// sender's own request (its acknowledgement and assignment notice), and
// the notice to the spoofed address (counted by the caller). It returns
// the new rows to spoofed.
func unchanged(t *testing.T, before, after world, spoofed string) []store.OutboxEntry {
	t.Helper()
	fresh := map[string]bool{}
	for n, facts := range after.tickets {
		old, ok := before.tickets[n]
		switch {
		case !ok && strings.HasPrefix(facts, "requester="+spoofed+" "):
			fresh[n] = true // the sender's own request, never anyone else's
		case !ok:
			t.Errorf("a ticket opened for someone else: %s %s", n, facts)
		case old != facts:
			t.Errorf("ticket %s changed:\n got %s\nwant %s", n, facts, old)
		}
	}
	for addr, p := range after.people {
		if before.people[addr] != p {
			t.Errorf("%s changed: got %s, want %s", addr, p, before.people[addr])
		}
	}
	var toSpoofed []store.OutboxEntry
	for id, r := range after.mail {
		if _, ok := before.mail[id]; ok {
			continue
		}
		switch {
		case slices.Equal(r.To, []string{spoofed}):
			toSpoofed = append(toSpoofed, r)
		case fresh[r.Ticket] && (strings.HasPrefix(r.Subject, "Asignado") || strings.HasPrefix(r.Subject, "Recibido")) &&
			(slices.Equal(r.To, []string{"carlos@entidad.gov.co"}) || slices.Equal(r.To, []string{"diana@entidad.gov.co"})):
			// the assignment notice of the sender's own request, to its assignee
		default:
			t.Errorf("forged staff mail sent %q to %v", r.Subject, r.To)
		}
	}
	return toSpoofed
}

// TestForgedStaffMailChangesNothingOnAnyPath: every staff path, under
// every forgery, in one hour: nothing changes, nothing is relayed, no
// ticket is opened for the victim, and each spoofed address gets one
// notice in all.
func TestForgedStaffMailChangesNothingOnAnyPath(t *testing.T) {
	for _, fg := range forgeries {
		t.Run(fg.name, func(t *testing.T) {
			e, f := newPathsFixture(t)
			start := e.now
			told := map[string][]store.OutboxEntry{}
			for _, a := range staffAttacks(f) {
				before := e.world(t)
				e.attack(t, f, a, fg.headers(a.from))
				if a.acted(t, e, f) {
					t.Errorf("%s: the forged mail acted", a.name)
				}
				rows := unchanged(t, before, e.world(t), a.from)
				for _, r := range rows {
					m, err := e.db.MailByID(context.Background(), r.ID)
					if err != nil {
						t.Fatal(err)
					}
					if !strings.HasPrefix(m.DedupeKey, "unverified:"+a.from+":") && !strings.HasPrefix(m.DedupeKey, "assigned:") {
						t.Errorf("%s: a mail %q (%s) to %s, want only the hourly unverified notice", a.name, r.Subject, m.DedupeKey, a.from)
					}
					if !strings.HasPrefix(m.DedupeKey, "assigned:") {
						told[a.from] = append(told[a.from], r)
					}
				}
			}
			if e.now.Sub(start) >= time.Hour || e.now.Hour() != start.Hour() {
				t.Fatalf("fixture: the attacks took from %v to %v, more than the hour", start, e.now)
			}
			for _, who := range []string{"carlos@entidad.gov.co", "diana@entidad.gov.co", marta} {
				if len(told[who]) != 1 {
					t.Errorf("notices to %s about forged mail in its name: got %d, want 1 in the hour", who, len(told[who]))
				}
			}
			notes := 0
			for _, ev := range e.events(t, f.a, ticket.EventNote) {
				if ev.Data == `{"unverified":true}` && strings.Contains(ev.Body, "NO VERIFICADO") {
					notes++
				}
			}
			if notes == 0 {
				t.Errorf("no unverified note on %s", f.a.Number)
			}
		})
	}
}

// TestAuthenticatedStaffMailActsOnEveryPath: the positive controls — the
// same mails, authenticated as their From, act.
func TestAuthenticatedStaffMailActsOnEveryPath(t *testing.T) {
	_, probe := newPathsFixture(t)
	for i := range staffAttacks(probe) {
		e, f := newPathsFixture(t)
		a := staffAttacks(f)[i]
		t.Run(a.name, func(t *testing.T) {
			e.attack(t, f, a, []string{"From: " + a.from, "Authentication-Results: " + trusted})
			if !a.acted(t, e, f) {
				t.Errorf("%s: the authenticated mail did not act", a.name)
			}
		})
	}
}
