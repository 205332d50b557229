package mailout

import (
	"bytes"
	"context"
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
	ms, err := r.Notify(context.Background(), tk, &ticket.Event{ID: 1, Kind: ticket.EventCreated, At: time.Now()})
	if err != nil || len(ms) != 1 {
		t.Fatal(err)
	}
	raw := ms[0].Raw
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

func TestEnglishForSomeRequesters(t *testing.T) {
	r, err := New(Options{DeskName: "Mesa", From: "mesa@entidad.gov.co", PublicURL: "https://x",
		EnglishFor: []string{"@partner.org", "John@Entidad.gov.co"}})
	if err != nil {
		t.Fatal(err)
	}
	for addr, want := range map[string]string{"ana@entidad.gov.co": "Recibido", "mary@partner.org": "Received", "john@entidad.gov.co": "Received"} {
		tk := &ticket.Ticket{ID: 1, Number: "MS-2026-000001", Subject: "VPN", Requester: addr, AccessKey: "k", Assignee: "carlos@entidad.gov.co"}
		ms, err := r.Notify(context.Background(), tk, &ticket.Event{ID: 1, Kind: ticket.EventCreated, At: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		in, _ := mailin.Parse(ms[0].Raw)
		if !strings.Contains(in.Subject, want) {
			t.Errorf("%s: subject %q, want %s", addr, in.Subject, want)
		}
		// The technician's notice stays in the desk's language.
		ms, _ = r.Notify(context.Background(), tk, &ticket.Event{ID: 2, Kind: ticket.EventAssigned, To: "carlos@entidad.gov.co", At: time.Now()})
		if in, _ := mailin.Parse(ms[0].Raw); !strings.Contains(in.Subject, "Asignado") {
			t.Errorf("technician notice for %s: %q", addr, in.Subject)
		}
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
	ms, _ := r.Notify(context.Background(), tk, &ticket.Event{ID: 1, Kind: ticket.EventCreated, At: time.Now()})
	if in, _ := mailin.Parse(ms[0].Raw); strings.TrimSpace(in.Text) != "Caso MS-2026-000009 recibido. Secretaría General." {
		t.Errorf("override not used:\n%s", in.Text)
	}
	ms, _ = r.Notify(context.Background(), tk, &ticket.Event{ID: 2, Kind: ticket.EventStateChanged, To: "cerrado", At: time.Now(), Body: "hecho"})
	if in, _ := mailin.Parse(ms[0].Raw); !strings.Contains(in.Text, "Solución:") {
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
