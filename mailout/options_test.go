package mailout

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/mesadeservicios/mesa/mailin"
	"github.com/mesadeservicios/mesa/ticket"
)

func TestDKIMSignedOnce(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(Options{DeskName: "Mesa", From: "mesa@entidad.gov.co", PublicURL: "https://x",
		DKIM: &dkim.SignOptions{Domain: "entidad.gov.co", Selector: "mesa", Signer: priv}})
	if err != nil {
		t.Fatal(err)
	}
	tk := &ticket.Ticket{ID: 1, Number: "MS-2026-000001", Subject: "Impresora", Requester: "ana@entidad.gov.co", AccessKey: "k"}
	m, err := r.Render(ack(tk))
	if err != nil {
		t.Fatal(err)
	}
	raw := m.Raw
	if !bytes.HasPrefix(raw, []byte("DKIM-Signature:")) {
		t.Fatalf("not signed:\n%s", raw[:200])
	}
	record := "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{
		LookupTXT: func(domain string) ([]string, error) {
			if domain != "mesa._domainkey.entidad.gov.co" {
				t.Errorf("looked up %s", domain)
			}
			return []string{record}, nil
		}})
	if err != nil || len(vs) != 1 || vs[0].Err != nil || vs[0].Domain != "entidad.gov.co" {
		t.Fatalf("verification: %+v %v", vs, err)
	}
	tampered := bytes.Replace(raw, []byte("Impresora"), []byte("Impres0ra"), 1)
	vs, _ = dkim.VerifyWithOptions(bytes.NewReader(tampered), &dkim.VerifyOptions{
		LookupTXT: func(string) ([]string, error) { return []string{record}, nil }})
	if len(vs) != 1 || vs[0].Err == nil {
		t.Error("a changed message still verifies")
	}
}

// ack is the acknowledgement desk decides for tk.
func ack(tk *ticket.Ticket) *ticket.Notice {
	return &ticket.Notice{Ticket: tk, To: tk.Requester, At: time.Now(), DedupeKey: "ack:" + tk.Number, Payload: ticket.AckNotice{}}
}

// The notice's language, which desk decides (desk.Config.EnglishFor), is
// the mail's; a notice without one gets the renderer's.
func TestNoticeLanguage(t *testing.T) {
	r, err := New(Options{DeskName: "Mesa", From: "mesa@entidad.gov.co", PublicURL: "https://x"})
	if err != nil {
		t.Fatal(err)
	}
	tk := &ticket.Ticket{ID: 1, Number: "MS-2026-000001", Subject: "VPN", Requester: "mary@partner.org", AccessKey: "k", Assignee: "carlos@entidad.gov.co"}
	for lang, want := range map[string]string{"": "Recibido", "es": "Recibido", "en": "Received"} {
		n := ack(tk)
		n.Lang = lang
		m, err := r.Render(n)
		if err != nil {
			t.Fatal(err)
		}
		if in, _ := mailin.Parse(m.Raw); !strings.Contains(in.Subject, want) {
			t.Errorf("lang %q: subject %q, want %s", lang, in.Subject, want)
		}
	}
	n := ack(tk)
	n.Lang = "fr"
	if _, err := r.Render(n); err == nil {
		t.Error("unknown notice language: got nil error")
	}
	if _, err := New(Options{From: "a@b.co", Language: "fr"}); err == nil {
		t.Error("unknown language: got nil error")
	}
}

func TestTemplateDirOverrides(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "ack.es.txt"), []byte("Caso {{.Number}} recibido. Secretaría General."), 0o644)
	r, err := New(Options{DeskName: "Mesa", From: "mesa@entidad.gov.co", PublicURL: "https://x", TemplateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	tk := &ticket.Ticket{ID: 1, Number: "MS-2026-000009", Subject: "x", Requester: "ana@entidad.gov.co", AccessKey: "k"}
	m, _ := r.Render(ack(tk))
	if in, _ := mailin.Parse(m.Raw); strings.TrimSpace(in.Text) != "Caso MS-2026-000009 recibido. Secretaría General." {
		t.Errorf("override not used:\n%s", in.Text)
	}
	m, _ = r.Render(&ticket.Notice{Ticket: tk, To: tk.Requester, At: time.Now(), Payload: ticket.ClosedNotice{Solution: "hecho"}})
	if in, _ := mailin.Parse(m.Raw); !strings.Contains(in.Text, "Solución:") {
		t.Errorf("the embedded closure template should still be used:\n%s", in.Text)
	}
	os.WriteFile(filepath.Join(dir, "saludo.es.txt"), []byte("hola"), 0o644)
	if _, err := New(Options{From: "mesa@entidad.gov.co", TemplateDir: dir}); err == nil || !strings.Contains(err.Error(), "saludo.es.txt") {
		t.Errorf("unknown template file: %v", err)
	}
	os.Remove(filepath.Join(dir, "saludo.es.txt"))
	os.WriteFile(filepath.Join(dir, "closed.es.txt"), []byte("{{.Nope"), 0o644)
	if _, err := New(Options{From: "mesa@entidad.gov.co", TemplateDir: dir}); err == nil || !strings.Contains(err.Error(), "closed.es.txt") {
		t.Errorf("broken template: %v", err)
	}
}
