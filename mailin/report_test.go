package mailin_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/mailin"
)

// Delivery reports come from any server on the network; reading one must
// never fail, what it finds must be usable as a lookup key, and it stays
// bounded by the input.
func FuzzDeliveryReport(f *testing.F) {
	files, _ := filepath.Glob("testdata/corpus/*bounce*.eml")
	for _, p := range files {
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	f.Add([]byte("Subject: Undeliverable\r\nContent-Type: text/plain\r\n\r\nFinal-Recipient: rfc822; <A@B.co>\r\nStatus: 5.1.1\r\nIn-Reply-To: <x@y> <z@w>\r\nMessage-ID: <q@r>\r\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		start := time.Now()
		in, _ := mailin.Parse(raw)
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("%d bytes took %v", len(raw), d)
		}
		r := in.Report
		if r == nil {
			return
		}
		if r.Recipient != strings.ToLower(r.Recipient) || strings.ContainsAny(r.Recipient, " \t\r\n<>") {
			t.Fatalf("recipient %q", r.Recipient)
		}
		for _, id := range append(append([]string(nil), r.ThreadIDs...), r.MessageIDs[len(in.InReplyTo)+len(in.References):]...) {
			if id == "" || strings.ContainsAny(id, " \t\r\n<>") {
				t.Fatalf("message id %q", id)
			}
		}
		if r.Status == "" && in.Subject != "" {
			t.Fatalf("no status although the subject is %q", in.Subject)
		}
		if len(r.Recipients) > len(raw)/10+1 || len(r.MessageIDs)+len(r.ThreadIDs) > len(raw)/2+len(in.InReplyTo)+len(in.References)+1 {
			t.Fatalf("%d recipients and %d ids from %d bytes", len(r.Recipients), len(r.MessageIDs)+len(r.ThreadIDs), len(raw))
		}
		for _, rc := range r.Recipients {
			if strings.ContainsAny(rc.Final+rc.Original, " \t\r\n<>") || rc.Final != strings.ToLower(rc.Final) {
				t.Fatalf("recipient %+v", rc)
			}
		}
	})
}

func TestDeliveryReportReadsDSN(t *testing.T) {
	in, err := mailin.Parse([]byte("From: MAILER-DAEMON@x.co\r\nSubject: Undelivered Mail\r\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=r\r\n\r\n--r\r\nContent-Type: text/plain\r\n\r\nNo se pudo entregar.\r\n" +
		"--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.x.co\r\n\r\nFinal-Recipient: rfc822; Ana@X.co\r\nAction: failed\r\nStatus: 5.1.1\r\n" +
		"Diagnostic-Code: smtp; 550 5.1.1 <ana@x.co>:\r\n    user unknown\r\n\r\nFinal-Recipient: rfc822; <luis@x.co>\r\nOriginal-Recipient: rfc822;Luis@X.co\r\nAction: delayed\r\nStatus: 4.4.1\r\n" +
		"--r\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <ack-1@mesa>\r\nIn-Reply-To: <req-1@x.co>\r\n--r--\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	r := in.Report
	if r == nil || r.Why != "multipart/report" {
		t.Fatalf("report %+v", r)
	}
	if r.Recipient != "ana@x.co" || !strings.HasPrefix(r.Status, "5.1.1") || len(r.MessageIDs) != 1 || r.MessageIDs[0] != "ack-1@mesa" ||
		len(r.ThreadIDs) != 1 || r.ThreadIDs[0] != "req-1@x.co" {
		t.Errorf("report %+v", r)
	}
	if len(r.Recipients) != 2 {
		t.Fatalf("recipients: got %+v, want 2", r.Recipients)
	}
	a, l := r.Recipients[0], r.Recipients[1]
	if a.Final != "ana@x.co" || a.Action != "failed" || a.Status != "5.1.1" || !a.Permanent() ||
		a.Diagnostic != "smtp; 550 5.1.1 <ana@x.co>: user unknown" {
		t.Errorf("first recipient: %+v", a)
	}
	if l.Final != "luis@x.co" || l.Original != "luis@x.co" || l.Action != "delayed" || l.Permanent() {
		t.Errorf("second recipient: %+v", l)
	}
}

func TestDeliveryReportWhy(t *testing.T) {
	tests := []struct{ raw, why string }{
		{"From: MAILER-DAEMON@x.co\r\nSubject: hola\r\n\r\nx", "sender mailer-daemon"},
		{"From: postmaster@x.co\r\nSubject: hola\r\n\r\nx", "sender postmaster"},
		{"From: a@x.co\r\nSubject: Undeliverable: Caso\r\n\r\nx", "subject"},
		{"From: a@x.co\r\nSubject: No se pudo entregar\r\n\r\nx", "subject"},
		{"From: a@x.co\r\nSubject: La impresora\r\n\r\nx", ""},
	}
	for _, tc := range tests {
		in, _ := mailin.Parse([]byte(tc.raw))
		got := ""
		if in.Report != nil {
			got = in.Report.Why
		}
		if got != tc.why {
			t.Errorf("%q: got %q, want %q", tc.raw, got, tc.why)
		}
	}
}

func TestAutomaticReason(t *testing.T) {
	tests := []struct{ head, want string }{
		{"Auto-Submitted: auto-replied\r\n", "auto-submitted: auto-replied"},
		{"Auto-Submitted: no\r\n", ""},
		{"Precedence: bulk\r\n", "precedence: bulk"},
		{"Precedence: junk\r\n", "precedence: junk"},
		{"X-Autoreply: yes\r\n", "x-autoreply"},
		{"X-Auto-Response-Suppress: All\r\n", "x-auto-response-suppress: All"},
		{"X-Auto-Response-Suppress: OOF\r\n", ""},
		{"List-Id: <ti.entidad.gov.co>\r\n", ""},
		{"Return-Path: <>\r\n", "null return path"},
		{"Return-Path: <ana@x.co>\r\n", ""},
		{"Subject: Respuesta automática: Caso 12\r\n", "subject: Respuesta automática"},
		{"Subject: Fuera de la oficina\r\n", "subject: Fuera de la oficina"},
		{"Subject: Automatic reply: hola\r\n", "subject: Automatic reply"},
		{"Subject: Out of Office: hola\r\n", "subject: Out of Office"},
		{"Subject: La oficina está fuera de servicio\r\n", ""},
	}
	for _, tc := range tests {
		raw := "From: a@x.co\r\n" + tc.head
		if !strings.Contains(tc.head, "Subject:") {
			raw += "Subject: hola\r\n"
		}
		in, _ := mailin.Parse([]byte(raw + "\r\nx"))
		if in.Automatic != tc.want {
			t.Errorf("%q: got %q, want %q", tc.head, in.Automatic, tc.want)
		}
		header := tc.want != "" && !strings.HasPrefix(tc.want, "subject") && tc.want != "null return path"
		if in.AutoSubmitted != header {
			t.Errorf("%q: AutoSubmitted %v, want %v (headers only)", tc.head, in.AutoSubmitted, header)
		}
	}
}
