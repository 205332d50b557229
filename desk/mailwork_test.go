package desk_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"slices"
	"strings"
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

// Working the desk by mail (issue 16): files travel, copies, tickets in
// an employee's name, empty mail. The desk runs over SQLite with the real
// catalogue and the fake renderer, so the notices it decides are seen as
// typed values.

type workEnv struct {
	d    *desk.Desk
	db   *store.DB
	mail *fakeMail
	now  time.Time
	n    int
}

func newWorkEnv(t *testing.T, cfg desk.Config) *workEnv {
	t.Helper()
	ctx := context.Background()
	db := storetest.SQLite(t)
	if err := db.SaveGroup(ctx, ticket.Group{Key: "infraestructura"}); err != nil {
		t.Fatal(err)
	}
	if err := db.SavePerson(ctx, &ticket.Person{Email: "carlos@entidad.gov.co", Role: ticket.RoleTechnician, Level: 1,
		Groups: []string{"infraestructura"}, Active: true}); err != nil {
		t.Fatal(err)
	}
	eng, _ := rules.Default()
	cal, _ := sla.New(sla.Options{})
	e := &workEnv{db: db, mail: &fakeMail{}, now: time.Date(2026, 3, 24, 14, 0, 0, 0, time.UTC)}
	cfg.Addresses = []string{"mesa@entidad.gov.co", "soporte@entidad.gov.co"}
	cfg.TrustedAuthServID = "mx.entidad.gov.co"
	var err error
	e.d, err = desk.New(desk.Deps{Files: mailin.Decoder{}, Store: db, Mail: e.mail, Calendar: cal, Classifier: eng,
		Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return e.now }, Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// file is an attachment of a test mail.
type file struct {
	name, ct string
	data     []byte
}

// msg is a test mail: headers besides From and Subject ("Cc: …",
// "In-Reply-To: …", an Authentication-Results), text and files.
type msg struct {
	from, subject string
	headers       []string
	text          string
	files         []file
}

func (m msg) raw(id string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: mesa@entidad.gov.co\r\nSubject: %s\r\nMessage-ID: <%s>\r\nMIME-Version: 1.0\r\n", m.from, m.subject, id)
	for _, h := range m.headers {
		b.WriteString(h + "\r\n")
	}
	if len(m.files) == 0 {
		b.WriteString("Content-Type: text/plain; charset=utf-8\r\n\r\n" + m.text + "\r\n")
		return []byte(b.String())
	}
	b.WriteString("Content-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + m.text + "\r\n")
	for _, f := range m.files {
		fmt.Fprintf(&b, "--zz\r\nContent-Type: %s\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"%s\"\r\n\r\n%s\r\n",
			f.ct, f.name, base64.StdEncoding.EncodeToString(f.data))
	}
	b.WriteString("--zz--\r\n")
	return []byte(b.String())
}

// intake runs a mail through the desk and returns what it did and the
// notices it decided.
func (e *workEnv) intake(t *testing.T, m msg) (desk.IntakeResult, []*ticket.Notice) {
	t.Helper()
	e.n++
	e.now = e.now.Add(time.Minute)
	raw := m.raw(fmt.Sprintf("w%d@entidad.gov.co", e.n))
	in, _ := mailin.Parse(raw)
	before := len(e.mail.notices)
	res, err := e.d.Intake(context.Background(), raw, in, ticket.Source{Mailbox: "INBOX"})
	if err != nil {
		t.Fatal(err)
	}
	return res, e.mail.notices[before:]
}

func find[P ticket.NoticePayload](ns []*ticket.Notice, to string) (*ticket.Notice, P, bool) {
	for _, n := range ns {
		if p, ok := n.Payload.(P); ok && n.To == to {
			return n, p, true
		}
	}
	var zero P
	return nil, zero, false
}

const (
	ana    = "ana@entidad.gov.co"
	carlos = "carlos@entidad.gov.co"
	beto   = "beto@entidad.gov.co"
)

// authOK is the organisation's verdict that a mail of entidad.gov.co is
// authentic.
const authOK = "Authentication-Results: mx.entidad.gov.co; dkim=pass header.d=entidad.gov.co; dmarc=pass header.from=entidad.gov.co"

// TestFilesTravel: the requester's PDF reaches the technician attached
// with the assignment; past the budget a file travels as a link only;
// her later file reaches him with her message, and his file reaches her
// with his answer; every file has a link token.
func TestFilesTravel(t *testing.T) {
	e := newWorkEnv(t, desk.Config{NoticeAttachmentBytes: 1000})
	pdf := append([]byte("%PDF-1.4 "), bytes.Repeat([]byte{0xff}, 500)...)
	big := bytes.Repeat([]byte("v"), 1500)
	res, ns := e.intake(t, msg{from: ana, subject: "No conecta la VPN", text: "Adjunto el F-DE-10 y el video.",
		files: []file{{"F-DE-10.pdf", "application/pdf", pdf}, {"video.mp4", "video/mp4", big}}})
	if res.Disposition != desk.DispTicket {
		t.Fatalf("got %+v", res)
	}
	_, as, ok := find[ticket.AssignedNotice](ns, carlos)
	if !ok || len(as.Files) != 2 {
		t.Fatalf("assignment notice: got %+v (%v)", as, ok)
	}
	if f := as.Files[0]; f.Name != "F-DE-10.pdf" || !bytes.Equal(f.Data, pdf) || f.Token == "" || f.Expires.Sub(e.now) != 30*24*time.Hour {
		t.Errorf("the PDF: got %+v", f)
	}
	if f := as.Files[1]; f.Data != nil || f.Size != 1500 || f.Token == "" {
		t.Errorf("the file over the budget must be a link only: got name %s, %d bytes attached", f.Name, len(f.Data))
	}
	// The link gives the file back, and only with its own token.
	got, err := e.d.File(context.Background(), as.Files[1].Token)
	if err != nil || !bytes.Equal(got.Data, big) {
		t.Errorf("download: %v", err)
	}
	if _, err := e.d.File(context.Background(), strings.Replace(as.Files[1].Token, ".", "0.", 1)); err == nil {
		t.Error("a changed token opened a file")
	}

	number := res.Ticket
	_, ns = e.intake(t, msg{from: ana, subject: "RE: [" + number + "] No conecta la VPN", text: "Otra captura.",
		files: []file{{"captura.png", "image/png", []byte("\x89PNG captura")}}})
	if _, rq, ok := find[ticket.RequesterNotice](ns, carlos); !ok || len(rq.Files) != 1 || string(rq.Files[0].Data) != "\x89PNG captura" {
		t.Errorf("the requester's later file: got %+v (%v)", rq, ok)
	}
	_, ns = e.intake(t, msg{from: carlos, subject: "RE: [" + number + "] No conecta la VPN", headers: []string{authOK},
		text: "Instale este perfil.", files: []file{{"perfil.conf", "text/plain", []byte("remote vpn.entidad.gov.co")}}})
	if _, an, ok := find[ticket.AnswerNotice](ns, ana); !ok || an.Body != "Instale este perfil." || len(an.Files) != 1 ||
		an.Files[0].Name != "perfil.conf" || string(an.Files[0].Data) != "remote vpn.entidad.gov.co" {
		t.Errorf("the technician's file to the requester: got %+v (%v)", an, ok)
	}
	// Only a file, no text (a phone's "share"): the requester gets the file
	// with the line that says so, not "(mensaje sin texto)".
	_, ns = e.intake(t, msg{from: carlos, subject: "RE: [" + number + "] No conecta la VPN", headers: []string{authOK},
		files: []file{{"guia.pdf", "application/pdf", []byte("%PDF guia")}}})
	if _, an, ok := find[ticket.AnswerNotice](ns, ana); !ok || an.Body != "(Archivos adjuntos.)" || len(an.Files) != 1 || an.Files[0].Name != "guia.pdf" {
		t.Errorf("the technician's file alone: got %+v (%v)", an, ok)
	}
	// An empty mail of the technician reaches nobody.
	if _, ns = e.intake(t, msg{from: carlos, subject: "RE: [" + number + "] No conecta la VPN", headers: []string{authOK}}); len(ns) != 0 {
		t.Errorf("an empty technician mail sent %d notices (first %+v)", len(ns), ns[0].Payload)
	}
	// A reassignment carries the files too.
	tk, _ := e.db.TicketByNumber(context.Background(), number)
	if err := e.db.SavePerson(context.Background(), &ticket.Person{Email: "diana@entidad.gov.co", Role: ticket.RoleTechnician, Level: 2,
		Groups: []string{"infraestructura"}, Active: true}); err != nil {
		t.Fatal(err)
	}
	before := len(e.mail.notices)
	if _, err := e.d.Assign(context.Background(), tk.Number, carlos, "diana@entidad.gov.co"); err != nil {
		t.Fatal(err)
	}
	if _, as, ok := find[ticket.AssignedNotice](e.mail.notices[before:], "diana@entidad.gov.co"); !ok || len(as.Files) != 5 {
		t.Errorf("reassignment: got %d files (%v), want the 5 of the ticket", len(as.Files), ok)
	}
}

// TestMissingForm: the acknowledgement of a VPN request asks for the
// F-DE-10 only when the request brought it neither as a file nor by its
// code in the text.
func TestMissingForm(t *testing.T) {
	e := newWorkEnv(t, desk.Config{})
	for _, tc := range []struct {
		name    string
		m       msg
		missing bool
	}{
		{"nothing", msg{from: ana, subject: "Acceso VPN", text: "Necesito acceso remoto por VPN desde la casa."}, true},
		{"file named with the code", msg{from: ana, subject: "Acceso VPN", text: "Necesito acceso remoto por VPN.",
			files: []file{{"formato_F_DE_10_firmado.pdf", "application/pdf", []byte("%PDF")}}}, false},
		{"code in the text", msg{from: ana, subject: "Acceso VPN", text: "Necesito VPN desde la casa; va el formato F-DE-10 diligenciado."}, false},
		{"code spelled loosely", msg{from: ana, subject: "VPN y formato f de 10", text: "Necesito acceso remoto por VPN."}, false},
		{"another form's code", msg{from: ana, subject: "Acceso VPN", text: "Necesito VPN; adjunto el F-DE-100.",
			files: []file{{"F-AL-21.pdf", "application/pdf", []byte("%PDF")}, {"F-DE-100.pdf", "application/pdf", []byte("%PDF")}}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// One requester each: the same person asking twice would be
			// linked to their first ticket as a duplicate.
			from := strings.ReplaceAll(tc.name, " ", ".") + "@entidad.gov.co"
			tc.m.from = from
			_, ns := e.intake(t, tc.m)
			_, ack, ok := find[ticket.AckNotice](ns, from)
			if !ok {
				t.Fatal("no acknowledgement")
			}
			has := slices.ContainsFunc(ack.MissingForms, func(s string) bool { return strings.Contains(s, "F-DE-10") })
			if has != tc.missing || !tc.missing && len(ack.MissingForms) != 0 {
				t.Errorf("missing forms: got %v, want F-DE-10 missing=%v", ack.MissingForms, tc.missing)
			}
		})
	}
}

// TestCopies: the To/Cc of a request (never the desk) get the
// technician's answer and the closure; #sin_cc and #cc change who does,
// and are recorded; a colleague's reply is a comment by them, relayed to
// the technician; with copies off nobody gets one.
func TestCopies(t *testing.T) {
	e := newWorkEnv(t, desk.Config{})
	ctx := context.Background()
	res, _ := e.intake(t, msg{from: ana, subject: "No conecta la VPN", text: "El FortiClient no conecta.",
		headers: []string{"Cc: Beto <Beto@entidad.gov.co>, soporte@entidad.gov.co"}})
	number := res.Ticket
	reply := func(text string) []*ticket.Notice {
		_, ns := e.intake(t, msg{from: carlos, subject: "RE: [" + number + "] No conecta la VPN", headers: []string{authOK}, text: text})
		return ns
	}
	ns := reply("Reinicie el FortiClient.")
	n, cp, ok := find[ticket.AnswerNotice](ns, beto)
	if !ok || !cp.Copy || cp.Body != "Reinicie el FortiClient." || n.DedupeKey == "" {
		t.Fatalf("copy of the answer: got %+v (%v)", cp, ok)
	}
	if _, main, _ := find[ticket.AnswerNotice](ns, ana); main.Copy {
		t.Error("the requester's answer is marked as a copy")
	}
	for _, n := range ns {
		if strings.Contains(n.To, "soporte@") || strings.Contains(n.To, "mesa@") {
			t.Errorf("a copy went to the desk's own address %s", n.To)
		}
	}
	// Beto answers: a comment by him, relayed to the technician.
	_, ns = e.intake(t, msg{from: beto, subject: "RE: [" + number + "] No conecta la VPN", text: "A mí tampoco me conecta."})
	if _, rq, ok := find[ticket.RequesterNotice](ns, carlos); !ok || rq.From != beto {
		t.Errorf("the colleague's reply: got %+v (%v)", rq, ok)
	}
	ns = reply("#sin_cc beto@entidad.gov.co\n#cc Carla <carla@entidad.gov.co>\n#cc soporte@entidad.gov.co\n#cerrar Se reconfiguró el perfil.")
	if _, _, ok := find[ticket.ClosedNotice](ns, beto); ok {
		t.Error("#sin_cc: beto still got the closure")
	}
	if _, cl, ok := find[ticket.ClosedNotice](ns, "carla@entidad.gov.co"); !ok || !cl.Copy {
		t.Errorf("#cc: carla got no copy of the closure (%v)", ok)
	}
	if _, cmds, ok := find[ticket.CommandsNotice](ns, carlos); !ok || len(cmds.Lines) != 4 || !strings.HasPrefix(cmds.Lines[2], "✘") {
		t.Errorf("command results: got %q, want #cc of the desk refused", cmds.Lines)
	}
	tk, _ := e.db.TicketByNumber(ctx, number)
	evs, _ := e.db.Events(ctx, tk.ID)
	var kinds []string
	for _, ev := range evs {
		if ev.Kind == ticket.EventCopyAdded || ev.Kind == ticket.EventCopyRemoved || ev.Kind == ticket.EventComment && ev.Actor == beto {
			kinds = append(kinds, string(ev.Kind)+":"+ev.From+ev.To+":"+ev.Actor)
		}
	}
	want := []string{"comment::" + beto, "copy_removed:" + beto + ":" + carlos, "copy_added:carla@entidad.gov.co:" + carlos}
	if !slices.Equal(kinds, want) {
		t.Errorf("events: got %v, want %v", kinds, want)
	}

	off := newWorkEnv(t, desk.Config{NoCopies: true})
	res, _ = off.intake(t, msg{from: ana, subject: "No conecta la VPN", text: "No conecta.", headers: []string{"Cc: " + beto}})
	_, ns = off.intake(t, msg{from: carlos, subject: "RE: [" + res.Ticket + "] VPN", headers: []string{authOK}, text: "Reinicie."})
	if _, _, ok := find[ticket.AnswerNotice](ns, beto); ok {
		t.Error("copies off: beto got a copy")
	}
}

// TestOnBehalf: authenticated staff who forward an employee's mail, or
// write #solicitante, open the ticket in the employee's name (the
// employee gets the acknowledgement; the technician is who opened it);
// from anyone else, or unauthenticated, it is the sender's own request.
func TestOnBehalf(t *testing.T) {
	const pedro = "pedro@entidad.gov.co"
	outlook := "Por favor atender.\n\n________________________________\nDe: Pedro Pérez <pedro@entidad.gov.co>\n" +
		"Enviado: martes, 24 de marzo de 2026 9:12\nPara: Carlos <carlos@entidad.gov.co>\nAsunto: No conecta la VPN\n\nDesde la casa no conecta el FortiClient."
	gmail := "---------- Forwarded message ---------\nFrom: Pedro <pedro@entidad.gov.co>\nDate: Tue, Mar 24, 2026\nSubject: No conecta la VPN\n" +
		"To: <carlos@entidad.gov.co>\n\nDesde la casa no conecta el FortiClient."
	for _, tc := range []struct {
		name, from, subject, text string
		auth                      bool
		requester                 string
	}{
		{"outlook forward", carlos, "RV: No conecta la VPN", outlook, true, pedro},
		{"gmail forward", carlos, "Fwd: No conecta la VPN", gmail, true, pedro},
		{"solicitante command", carlos, "Llamada: no conecta la VPN", "#solicitante Pedro <pedro@entidad.gov.co>\n#criticidad alta\n\nLlamó: no conecta la VPN.", true, pedro},
		{"forward not authenticated", carlos, "RV: No conecta la VPN", outlook, false, carlos},
		{"solicitante command not authenticated", carlos, "Llamada", "#solicitante pedro@entidad.gov.co\n\nNo conecta la VPN.", false, carlos},
		{"forward from a non-staff sender", ana, "RV: No conecta la VPN", outlook, true, ana},
		{"solicitante command from a non-staff sender", ana, "VPN", "#solicitante pedro@entidad.gov.co\n\nNo conecta la VPN.", true, ana},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newWorkEnv(t, desk.Config{})
			m := msg{from: tc.from, subject: tc.subject, text: tc.text}
			if tc.auth {
				m.headers = []string{authOK}
			}
			res, ns := e.intake(t, m)
			if res.Disposition != desk.DispTicket {
				t.Fatalf("got %+v", res)
			}
			tk, _ := e.db.TicketByNumber(context.Background(), res.Ticket)
			if tk.Requester != tc.requester {
				t.Fatalf("requester: got %s, want %s", tk.Requester, tc.requester)
			}
			if n, _, ok := find[ticket.AckNotice](ns, tc.requester); !ok || n.Ticket.AccessKey == "" {
				t.Errorf("no acknowledgement with the status key to %s", tc.requester)
			}
			evs, _ := e.db.Events(context.Background(), tk.ID)
			if evs[0].Kind != ticket.EventCreated || evs[0].Actor != tc.from {
				t.Errorf("created by %s, want %s", evs[0].Actor, tc.from)
			}
			if tc.requester != pedro {
				return
			}
			if tk.Subject != "No conecta la VPN" && tc.name != "solicitante command" || tk.Category != "ti.vpn" {
				t.Errorf("ticket: subject %q, category %s", tk.Subject, tk.Category)
			}
			if tc.name == "solicitante command" {
				if tk.Criticality != ticket.Alta || strings.Contains(evs[0].Body, "#solicitante") {
					t.Errorf("#solicitante: criticality %s, body %q", tk.Criticality, evs[0].Body)
				}
				if _, cmds, ok := find[ticket.CommandsNotice](ns, carlos); !ok || len(cmds.Lines) != 1 || !strings.HasPrefix(cmds.Lines[0], "✔") {
					t.Errorf("the commands after #solicitante: got %q", cmds.Lines)
				}
			}
		})
	}
}

// TestForwardAsAttachmentOnBehalf: an Outlook "forward as attachment"
// (message/rfc822) opens the ticket for the original's sender.
func TestForwardAsAttachmentOnBehalf(t *testing.T) {
	e := newWorkEnv(t, desk.Config{})
	inner := "From: Pedro <pedro@entidad.gov.co>\r\nTo: carlos@entidad.gov.co\r\nSubject: Gotera en la sala 3\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n\r\nHay una gotera encima del proyector.\r\n"
	raw := "From: carlos@entidad.gov.co\r\nTo: mesa@entidad.gov.co\r\nSubject: RV: Gotera en la sala 3\r\nMessage-ID: <fa@x>\r\n" + authOK +
		"\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nPara su trámite.\r\n" +
		"--b\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment; filename=\"Gotera.eml\"\r\n\r\n" + inner + "--b--\r\n"
	in, _ := mailin.Parse([]byte(raw))
	res, err := e.d.Intake(context.Background(), []byte(raw), in, ticket.Source{Mailbox: "INBOX"})
	if err != nil {
		t.Fatal(err)
	}
	tk, _ := e.db.TicketByNumber(context.Background(), res.Ticket)
	evs, _ := e.db.Events(context.Background(), tk.ID)
	if tk.Requester != "pedro@entidad.gov.co" || tk.RequesterName != "Pedro" || tk.Subject != "Gotera en la sala 3" ||
		!strings.Contains(evs[0].Body, "encima del proyector") {
		t.Errorf("got requester %s (%s), subject %q, body %q", tk.Requester, tk.RequesterName, tk.Subject, evs[0].Body)
	}
}

// TestEmptyMail: a mail with nothing in it opens no ticket, gets one
// polite answer through the queue (the same mail read again gets none),
// and is kept with the disposition empty; a signature, a reply prefix
// or a logo do not make it a request, a subject, a sentence or a file do.
func TestEmptyMail(t *testing.T) {
	e := newWorkEnv(t, desk.Config{})
	ctx := context.Background()
	logo := file{"logo.png", "image/png", []byte("\x89PNG logo")}
	for _, tc := range []struct {
		name  string
		m     msg
		empty bool
	}{
		{"nothing", msg{from: ana}, true},
		{"reply prefix only", msg{from: ana, subject: "RE: "}, true},
		{"signature only", msg{from: ana, text: "Cordialmente,\nAna Rojas\nProfesional — Ext. 1234"}, true},
		{"quoted history only", msg{from: ana, text: "> lo que escribió otro\n> antes"}, true},
		{"subject", msg{from: ana, subject: "Impresora"}, false},
		{"a sentence", msg{from: ana, text: "La impresora no imprime."}, false},
		{"a file", msg{from: ana, files: []file{{"captura.png", "image/png", []byte("\x89PNG")}}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, ns := e.intake(t, tc.m)
			if got := res.Disposition == desk.DispEmpty; got != tc.empty {
				t.Fatalf("got %+v, want empty=%v", res, tc.empty)
			}
			if !tc.empty {
				return
			}
			if res.Ticket != "" || len(ns) != 1 {
				t.Fatalf("got ticket %q and %d notices, want none and one answer", res.Ticket, len(ns))
			}
			if _, ok := ns[0].Payload.(ticket.EmptyNotice); !ok || ns[0].To != ana || ns[0].Lang != "es" || ns[0].DedupeKey == "" ||
				!strings.HasPrefix(ns[0].InReplyTo, "<w") {
				t.Errorf("answer: got %+v", ns[0])
			}
			stored, err := e.db.MessageByKey(ctx, ns[0].InReplyTo)
			if err != nil || stored.Disposition != "empty" || stored.TicketID != 0 {
				t.Errorf("kept message: got %+v, %v", stored, err)
			}
			// Read again (a crash before the move): one answer only.
			in, _ := mailin.Parse(stored.Raw)
			before := len(e.mail.notices)
			if res, err := e.d.Intake(ctx, stored.Raw, in, ticket.Source{Mailbox: "INBOX"}); err != nil || res.Disposition != desk.DispDuplicate ||
				len(e.mail.notices) != before {
				t.Errorf("again: got %+v, %v, %d more notices", res, err, len(e.mail.notices)-before)
			}
		})
	}
	// An inline logo alone is still empty.
	raw := "From: ana@entidad.gov.co\r\nTo: mesa@entidad.gov.co\r\nSubject: \r\nMessage-ID: <logo@x>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/related; boundary=r\r\n\r\n--r\r\nContent-Type: text/html\r\n\r\n<p><img src=\"cid:logo\"></p>\r\n" +
		"--r\r\nContent-Type: image/png\r\nContent-ID: <logo>\r\nContent-Disposition: inline\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		base64.StdEncoding.EncodeToString(logo.data) + "\r\n--r--\r\n"
	in, _ := mailin.Parse([]byte(raw))
	if res, err := e.d.Intake(ctx, []byte(raw), in, ticket.Source{Mailbox: "INBOX"}); err != nil || res.Disposition != desk.DispEmpty {
		t.Errorf("inline logo: got %+v, %v", res, err)
	}
}
