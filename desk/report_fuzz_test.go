package desk

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mesadeservicios/mesa/mailin"
)

// Delivery reports come from any server on the network; reading one must
// never fail, and what it finds must be usable as a lookup key.
func FuzzDeliveryReport(f *testing.F) {
	files, _ := filepath.Glob("../mailin/testdata/corpus/*bounce*.eml")
	for _, p := range files {
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	f.Add([]byte("Subject: Undeliverable\r\nContent-Type: text/plain\r\n\r\nFinal-Recipient: rfc822; <A@B.co>\r\nStatus: 5.1.1\r\nIn-Reply-To: <x@y> <z@w>\r\nMessage-ID: <q@r>\r\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		in, _ := mailin.Parse(raw)
		r := readDeliveryReport(in)
		if r.Rcpt != strings.ToLower(r.Rcpt) || strings.ContainsAny(r.Rcpt, " \t\r\n<>") {
			t.Fatalf("recipient %q", r.Rcpt)
		}
		for _, id := range append(append([]string(nil), r.ThreadIDs...), r.IDs[len(in.InReplyTo)+len(in.References):]...) {
			if id == "" || strings.ContainsAny(id, " \t\r\n<>") {
				t.Fatalf("message id %q", id)
			}
		}
		if r.Status == "" && in.Subject != "" {
			t.Fatalf("no status although the subject is %q", in.Subject)
		}
	})
}

func TestDeliveryReportReadsDSN(t *testing.T) {
	in, err := mailin.Parse([]byte("From: MAILER-DAEMON@x.co\r\nSubject: Undelivered Mail\r\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=r\r\n\r\n--r\r\nContent-Type: text/plain\r\n\r\nNo se pudo entregar.\r\n" +
		"--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.x.co\r\n\r\nFinal-Recipient: rfc822; Ana@X.co\r\nAction: failed\r\nStatus: 5.1.1\r\n" +
		"--r\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <ack-1@mesa>\r\nIn-Reply-To: <req-1@x.co>\r\n--r--\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	r := readDeliveryReport(in)
	if r.Rcpt != "ana@x.co" || r.Status != "5.1.1" || len(r.IDs) != 1 || r.IDs[0] != "ack-1@mesa" || len(r.ThreadIDs) != 1 || r.ThreadIDs[0] != "req-1@x.co" {
		t.Errorf("report %+v", r)
	}
}
