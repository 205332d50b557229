package i18n

import (
	"strings"
	"testing"

	"github.com/mesadeservicios/mesa/ticket"
)

// Every message exists in both languages, with the same format verbs.
func TestEveryKeyInBothLanguages(t *testing.T) {
	verbs := func(s string) string {
		var v []string
		for i := 0; i < len(s)-1; i++ {
			if s[i] == '%' {
				v = append(v, s[i:i+2])
				i++
			}
		}
		return strings.Join(v, ",")
	}
	for _, k := range Keys() {
		es, err1 := Text("es", k)
		en, err2 := Text("en", k)
		if err1 != nil || err2 != nil || strings.TrimSpace(es) == "" || strings.TrimSpace(en) == "" {
			t.Errorf("%s: got es %q (%v), en %q (%v); want both", k, es, err1, en, err2)
		}
		if verbs(es) != verbs(en) {
			t.Errorf("%s: format verbs differ: es %q, en %q", k, verbs(es), verbs(en))
		}
	}
}

// The names people read of every state, type and criticality.
func TestDomainNames(t *testing.T) {
	var keys []string
	for _, s := range ticket.States {
		keys = append(keys, string(s))
	}
	keys = append(keys, string(ticket.Incidente), string(ticket.Requerimiento), string(ticket.Alta), string(ticket.Media), string(ticket.Baja))
	for _, k := range keys {
		for _, lang := range Langs {
			if _, err := Text(lang, k); err != nil {
				t.Errorf("%s in %s: %v", k, lang, err)
			}
		}
	}
}

// A missing key or language is caught, never rendered as "".
func TestMissingIsCaught(t *testing.T) {
	if _, err := Text("es", "no_such_key"); err == nil {
		t.Error("missing key: got nil error")
	}
	if _, err := Text("fr", "title"); err == nil {
		t.Error("missing language: got nil error")
	}
	if got := T("es", "no_such_key"); got != "⟦no_such_key⟧" {
		t.Errorf("T of a missing key: got %q, want ⟦no_such_key⟧", got)
	}
	if got := T("en", "title"); got != "Service Desk" {
		t.Errorf("T: got %q, want Service Desk", got)
	}
	if got := Tf("es", "mail.subject.ack", "VPN"); got != "Recibido: VPN" {
		t.Errorf("Tf: got %q", got)
	}
	if Table("fr") != nil || Table("es")["cerrado"] != "Cerrado" {
		t.Error("Table: wrong contents")
	}
}
