package mailout

import (
	"strings"
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/mailin"
	"github.com/mesadeservicios/mesa/ticket"
)

type names map[string]string

func (n names) DisplayName(k string) string { return n[k] }

func TestAcknowledgement(t *testing.T) {
	r, err := New(Options{DeskName: "Mesa de Servicios", From: "mesa@entidad.gov.co", PublicURL: "https://mesa.entidad.gov.co/",
		Catalogue: names{"ti.vpn": "Acceso Remoto"}})
	if err != nil {
		t.Fatal(err)
	}
	due := time.Date(2026, 3, 24, 20, 0, 0, 0, time.UTC)
	tk := &ticket.Ticket{ID: 7, Number: "MS-2026-000007", Subject: "VPN caída 🚀 <b>A&B</b>", Requester: "ana@entidad.gov.co",
		RequesterName: "Ana Pérez", Category: "ti.vpn", Criticality: ticket.Media, AccessKey: "k3y", DueAt: &due}
	n := &ticket.Notice{Ticket: tk, To: tk.Requester, ToName: tk.RequesterName, InReplyTo: "<orig@entidad.gov.co>",
		At: due.Add(-8 * time.Hour), DedupeKey: "ack:MS-2026-000007", Payload: ticket.AckNotice{MissingForms: []string{"F-DE-10"}}}
	m, err := r.Render(n)
	if err != nil {
		t.Fatal(err)
	}
	if m.To[0] != "ana@entidad.gov.co" ||
		!strings.HasPrefix(m.MessageID, "ms-2026-000007.ack.") || !strings.HasSuffix(m.MessageID, "@entidad.gov.co") {
		t.Errorf("row: to %v id %q", m.To, m.MessageID)
	}
	in, err := mailin.Parse(m.Raw)
	if err != nil {
		t.Fatal(err)
	}
	if in.Subject != "[MS-2026-000007] Recibido: VPN caída 🚀 <b>A&B</b>" || !in.AutoSubmitted ||
		len(in.InReplyTo) != 1 || in.InReplyTo[0] != "orig@entidad.gov.co" || in.MessageID != m.MessageID {
		t.Errorf("headers: subject %q auto %v irt %v id %q", in.Subject, in.AutoSubmitted, in.InReplyTo, in.MessageID)
	}
	for _, want := range []string{"Hola Ana Pérez:", "número MS-2026-000007", "Acceso Remoto", "martes 24 de marzo de 2026, 3:00 p.m.",
		"F-DE-10", "https://mesa.entidad.gov.co/t/MS-2026-000007?clave=k3y", "lunes a viernes"} {
		if !strings.Contains(in.Text, want) {
			t.Errorf("body lacks %q:\n%s", want, in.Text)
		}
	}
	if _, err := r.Render(&ticket.Notice{Ticket: tk, To: tk.Requester}); err == nil {
		t.Error("a notice without payload: got nil error")
	}
	en, _ := New(Options{DeskName: "Service Desk", From: "desk@x.co", PublicURL: "http://x", Language: "en"})
	m, _ = en.Render(n)
	if !strings.Contains(string(m.Raw), "Received:") || !strings.Contains(string(m.Raw), "3:00 PM") {
		t.Errorf("english: %s", m.Raw)
	}
	if _, err := New(Options{From: "sin-dominio"}); err == nil {
		t.Error("from without domain: got nil error")
	}
}

// A notice's files: those with data are attached byte for byte under
// their names, the others only linked; every one is linked under the
// public URL with its token.
func TestNoticeFilesAttachedAndLinked(t *testing.T) {
	r, err := New(Options{DeskName: "Mesa de Servicios", From: "mesa@entidad.gov.co", PublicURL: "https://mesa.entidad.gov.co/"})
	if err != nil {
		t.Fatal(err)
	}
	tk := &ticket.Ticket{ID: 7, Number: "MS-2026-000007", Subject: "VPN", Requester: "ana@entidad.gov.co", Criticality: ticket.Media}
	pdf := []byte("%PDF-1.4\x00\xff binary")
	n := &ticket.Notice{Ticket: tk, To: "carlos@entidad.gov.co", At: time.Date(2026, 3, 24, 14, 0, 0, 0, time.UTC),
		Payload: ticket.AssignedNotice{Body: "Adjunto.", Files: []ticket.NoticeFile{
			{Name: "F-DE-10 ñ.pdf", ContentType: "application/pdf", Size: int64(len(pdf)), Data: pdf, Token: "1.99.aaa"},
			{Name: "video.mp4", ContentType: "video/mp4", Size: 30 << 20, Token: "2.99.bbb"},
			{Name: "evil.txt", ContentType: "text/plain\r\nX-Evil: 1", Size: 1, Data: []byte("x"), Token: "3.99.ccc"},
		}}}
	m, err := r.Render(n)
	if err != nil {
		t.Fatal(err)
	}
	in, err := mailin.Parse(m.Raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Attachments) != 2 || in.Attachments[0].Filename != "F-DE-10 ñ.pdf" || string(in.Attachments[0].Data) != string(pdf) ||
		in.Attachments[0].ContentType != "application/pdf" || in.Attachments[1].ContentType != "application/octet-stream" {
		t.Fatalf("attachments: got %+v", in.Attachments)
	}
	for _, tok := range []string{"1.99.aaa", "2.99.bbb", "3.99.ccc"} {
		if !strings.Contains(in.Text, "https://mesa.entidad.gov.co/adjuntos/"+tok) {
			t.Errorf("no link with %s in:\n%s", tok, in.Text)
		}
	}
	if strings.Contains(string(m.Raw), "X-Evil") {
		t.Error("a content type from the network wrote a header")
	}
}
