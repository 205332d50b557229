package mailin

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mesadeservicios/mesa/ticket"
)

func load(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "corpus", "p-"+name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseMultipart(t *testing.T) {
	in, err := Parse(load(t, "multipart.eml"))
	if err != nil {
		t.Fatal(err)
	}
	if in.Subject != "Petición urgente €" {
		t.Errorf("subject: got %q", in.Subject)
	}
	if in.From.Email != "maria.lopez@entidad.gov.co" || in.From.Name != "María “La Jefa”" {
		t.Errorf("from: got %+v", in.From)
	}
	if in.MessageID != "abc123@entidad.gov.co" || len(in.References) != 2 || in.InReplyTo[0] != "x1@mesa" {
		t.Errorf("threading: got %q %q %q", in.MessageID, in.InReplyTo, in.References)
	}
	if want := "Señor, la impresora del piso 3 no imprime. “Urgente” €"; strings.TrimSpace(in.Text) != want {
		t.Errorf("text: got %q, want %q", in.Text, want)
	}
	if in.HTML != "<p>Señor, la impresora</p>" {
		t.Errorf("html: got %q", in.HTML)
	}
	if len(in.Attachments) != 2 || in.Attachments[0].Filename != "F-DE-10 diligenciado ñ.pdf" ||
		string(in.Attachments[0].Data) != "%PDF-1.4\n" || !in.Attachments[1].Inline || in.Attachments[1].ContentID != "logo@x" {
		t.Errorf("attachments: got %+v", in.Attachments)
	}
	if in.Date.IsZero() || in.Date.Hour() != 14 || in.AutoSubmitted || in.Bounce {
		t.Errorf("date/flags: %v %v %v", in.Date, in.AutoSubmitted, in.Bounce)
	}
}

func TestParseHTMLOnly(t *testing.T) {
	in, err := Parse(load(t, "html-only.eml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Buenos días,", "La VPN no conecta desde ayer.", "(https://intranet/x)", "- Uno\n- Dos", "> mensaje anterior"} {
		if !strings.Contains(in.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, in.Text)
		}
	}
	for _, bad := range []string{"color:red", "alert"} {
		if strings.Contains(in.Text, bad) {
			t.Errorf("text contains %q:\n%s", bad, in.Text)
		}
	}
}

func TestParseRaw8Bit(t *testing.T) {
	in, err := Parse(load(t, "raw-8bit.eml"))
	if err != nil {
		t.Fatal(err)
	}
	if in.Subject != "Petición de silla" || strings.TrimSpace(in.Text) != "La silla está coja." || in.From.Email != "jose@entidad.gov.co" {
		t.Errorf("got subject %q text %q from %+v", in.Subject, in.Text, in.From)
	}
}

func TestParseBrokenHeader(t *testing.T) {
	in, err := Parse(load(t, "broken-header.eml"))
	if err == nil {
		t.Fatal("got nil error for a header line without colon")
	}
	if in.Subject != "roto" || !strings.Contains(in.Text, "el cuerpo sigue aqui") || in.From.Email != "jefe@entidad.gov.co" {
		t.Errorf("best effort: got %+v", in)
	}
}

func TestParseAutomatic(t *testing.T) {
	in, err := Parse(load(t, "autoreply.eml"))
	if err != nil || !in.AutoSubmitted || in.Bounce {
		t.Errorf("auto-reply: got auto=%v bounce=%v err=%v", in.AutoSubmitted, in.Bounce, err)
	}
	in, err = Parse(load(t, "bounce.eml"))
	if err != nil || !in.Bounce {
		t.Errorf("bounce: got bounce=%v err=%v", in.Bounce, err)
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/corpus/*.eml")
	for _, p := range files {
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		in, _ := Parse(raw)
		if in == nil {
			t.Fatal("nil Inbound")
		}
		for _, s := range []string{in.Subject, in.Text, in.From.Email, in.MessageID} {
			if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
				t.Fatalf("unsanitised text %q", s)
			}
		}
	})
}

func FuzzHTMLToText(f *testing.F) {
	f.Add("<p>hola <a href='x'>y</a></p><blockquote><blockquote>z")
	f.Fuzz(func(t *testing.T, s string) {
		out := HTMLToText(s)
		if utf8.ValidString(s) && !utf8.ValidString(out) {
			t.Fatalf("valid input gave invalid UTF-8 %q", out)
		}
		if strings.Contains(out, "\n\n\n") {
			t.Fatalf("blank lines not collapsed: %q", out)
		}
	})
}

func TestLargeAttachmentStaysInRaw(t *testing.T) {
	in, err := Parse(SampleMessage(3 << 20))
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Attachments) != 1 {
		t.Fatalf("attachments: %d", len(in.Attachments))
	}
	a := in.Attachments[0]
	if a.Data != nil || a.Size < 2<<20 || len(a.SHA256) != 64 || a.Filename != "evidencia.pdf" {
		t.Errorf("large attachment: data %d bytes, size %d, sha %q", len(a.Data), a.Size, a.SHA256)
	}
	small, _ := Parse(SampleMessage(8 << 10))
	if b := small.Attachments[0]; len(b.Data) == 0 || int64(len(b.Data)) != b.Size {
		t.Errorf("small attachment: data %d bytes, size %d", len(b.Data), b.Size)
	}
}

// Address headers are the most abused part of mail: every address kept must
// be one that can be written back into a header.
func FuzzAddresses(f *testing.F) {
	for _, s := range []string{`"Pérez, Ana" <ana@x.co>, b@y.co`, `=?utf-8?q?Jos=C3=A9?= <J@X.CO>`, `<>`, `a@b, , "c" <`, "Ñandú <ñ@x.co>", `undisclosed-recipients:;`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.ContainsAny(s, "\r\n") {
			return // a header line cannot hold them; Parse sees them as the next header
		}
		raw := []byte("From: " + s + "\r\nTo: " + s + "\r\nSubject: x\r\n\r\nhola\r\n")
		in, err := Parse(raw)
		if err != nil {
			return
		}
		for _, a := range append([]ticket.Address{in.From}, in.To...) {
			if a.Email != strings.ToLower(a.Email) || strings.ContainsAny(a.Email, "\r\n\x00") {
				t.Fatalf("address %q from %q", a.Email, s)
			}
			if !utf8.ValidString(a.Name) || strings.ContainsAny(a.Name, "\r\n\x00") {
				t.Fatalf("name %q from %q", a.Name, s)
			}
		}
	})
}
