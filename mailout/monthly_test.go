package mailout

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/mailin"
	"github.com/mesadeservicios/mesa/ticket"
)

// monthlyFixture is March 2026 of the infraestructura group.
func monthlyFixture() ticket.MonthlyReportNotice {
	data := []byte("PK\x03\x04 not really a spreadsheet")
	return ticket.MonthlyReportNotice{Year: 2026, Month: time.March, Groups: []string{"infraestructura"},
		Totals: ticket.MonthTotals{Opened: 41, Closed: 38, Compliance: ticket.Compliance{Met: 30, Total: 36},
			FirstResponse: ticket.Durations{N: 40, Total: 40 * 75 * time.Minute}, Answered: 12, Rating: 4.25},
		File: ticket.NoticeFile{Name: "informe-mesa-de-servicios-2026-03.xlsx",
			ContentType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", Size: int64(len(data)), Data: data}}
}

// The monthly report travels as an attachment with its name and type, the
// subject names the month in the mail's language, and a notice without
// its file is refused.
func TestMonthlyReportAttached(t *testing.T) {
	at := time.Date(2026, 4, 1, 12, 30, 0, 0, time.UTC)
	for _, tc := range []struct{ lang, subject, body string }{
		{"es", "Informe mensual de la Mesa de Servicios — marzo de 2026", "Cumplimiento del ANS (casos cerrados con ANS): 83 % (30/36)"},
		{"en", "Monthly report of the Mesa de Servicios — March 2026", "SLA compliance (closed tickets with an SLA): 83 % (30/36)"},
	} {
		r, err := New(Options{DeskName: "Mesa de Servicios", From: "mesa@entidad.gov.co", PublicURL: "https://mesa.x", Language: tc.lang})
		if err != nil {
			t.Fatal(err)
		}
		p := monthlyFixture()
		m, err := r.Render(&ticket.Notice{To: "marta@entidad.gov.co", At: at, Lang: tc.lang, DedupeKey: "k", Payload: p})
		if err != nil {
			t.Fatal(err)
		}
		in, err := mailin.Parse(m.Raw)
		if err != nil {
			t.Fatal(err)
		}
		if in.Subject != tc.subject || m.Subject != tc.subject {
			t.Errorf("%s: subject %q, want %q", tc.lang, in.Subject, tc.subject)
		}
		if !strings.Contains(in.Text, tc.body) || !strings.Contains(in.Text, "infraestructura") {
			t.Errorf("%s: body lacks %q:\n%s", tc.lang, tc.body, in.Text)
		}
		var files []ticket.InboundAttachment
		for _, a := range in.Attachments {
			if !a.Inline {
				files = append(files, a)
			}
		}
		if len(files) != 1 || files[0].Filename != p.File.Name || files[0].ContentType != p.File.ContentType ||
			!bytes.Equal(files[0].Data, p.File.Data) {
			t.Fatalf("%s: attachments %+v, want the one report", tc.lang, files)
		}
		p.File.Data = nil
		if _, err := r.Render(&ticket.Notice{To: "marta@entidad.gov.co", At: at, Lang: tc.lang, DedupeKey: "k", Payload: p}); err == nil {
			t.Errorf("%s: a monthly report without its file rendered", tc.lang)
		}
	}
}
