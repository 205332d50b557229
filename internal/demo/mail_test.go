package demo

import (
	"net/smtp"
	"strings"
	"testing"
)

// TestSMTPDeliversIntoTheMailboxes: mail sent to the demo's SMTP server
// lands in the recipient's demo mailbox, read back over IMAP; mail for
// another domain is refused with 550 and lands nowhere.
func TestSMTPDeliversIntoTheMailboxes(t *testing.T) {
	m, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	raw := Message("carlos.mejia", "Carlos Mejía", "Prueba de entrega", "Hola.", "", 1)
	if err := smtp.SendMail(m.SMTPAddr(), nil, DeskAddress, []string{"ana.rojas@" + Domain}, raw); err != nil {
		t.Fatal(err)
	}
	got := m.Inbox("ana.rojas")
	if len(got) != 1 || got[0].Subject != "Prueba de entrega" || got[0].From != "carlos.mejia@"+Domain {
		t.Fatalf("got %+v, want the one mail sent", got)
	}
	err = smtp.SendMail(m.SMTPAddr(), nil, DeskAddress, []string{"alguien@otro.gov.co"}, raw)
	if err == nil || !strings.Contains(err.Error(), "550") {
		t.Errorf("mail outside the demo domain: got %v, want a 550 refusal", err)
	}
	if n := len(m.Inbox("alguien")); n != 0 {
		t.Errorf("got %d mails for alguien, want 0", n)
	}
}
