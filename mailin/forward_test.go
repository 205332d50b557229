package mailin

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestForwardedInline(t *testing.T) {
	for _, tc := range []struct {
		name, text           string
		from, fromName, subj string
		textWant             string
		none                 bool
	}{
		{name: "outlook es", text: "Por favor atender.\n\n________________________________\nDe: Pedro Pérez <pedro@entidad.gov.co>\nEnviado: martes, 24 de marzo de 2026 9:12\nPara: Carlos <carlos@entidad.gov.co>\nAsunto: No imprime la impresora\n\nBuenos días, la impresora del piso 3 no imprime.",
			from: "pedro@entidad.gov.co", fromName: "Pedro Pérez", subj: "No imprime la impresora", textWant: "Buenos días, la impresora del piso 3 no imprime."},
		{name: "outlook en, mailto", text: "FYI\n\nFrom: Pedro Perez [mailto:Pedro@Entidad.gov.co]\nSent: Tuesday, March 24, 2026 9:12 AM\nTo: Carlos\nSubject: Printer down\n\nThe printer is down.",
			from: "pedro@entidad.gov.co", fromName: "Pedro Perez", subj: "Printer down", textWant: "The printer is down."},
		{name: "outlook bold html-to-text", text: "*From:* Pedro <pedro@entidad.gov.co>\n*Sent:* Tuesday\n*Subject:* VPN\n\nNo conecta.",
			from: "pedro@entidad.gov.co", fromName: "Pedro", subj: "VPN", textWant: "No conecta."},
		{name: "gmail en", text: "\n---------- Forwarded message ---------\nFrom: Pedro <pedro@gmail.com>\nDate: Tue, Mar 24, 2026 at 9:12 AM\nSubject: Silla rota\nTo: <carlos@entidad.gov.co>\n\nLa silla se rompió.",
			from: "pedro@gmail.com", fromName: "Pedro", subj: "Silla rota", textWant: "La silla se rompió."},
		{name: "gmail es", text: "---------- Mensaje reenviado ---------\nDe: Pedro <pedro@entidad.gov.co>\nFecha: mar, 24 mar 2026 a las 9:12\nAsunto: Gotera\nPara: <carlos@entidad.gov.co>\n\nHay una gotera en la sala 3.",
			from: "pedro@entidad.gov.co", fromName: "Pedro", subj: "Gotera", textWant: "Hay una gotera en la sala 3."},
		{name: "a From line alone is no forward", text: "From: the start of the year the VPN fails.\nSubject: unknown", none: true},
		{name: "plain text", text: "La impresora no imprime.", none: true},
		{name: "no address", text: "De: Pedro\nEnviado: hoy\nAsunto: x\n\ny", none: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := forwardedInline(tc.text)
			if tc.none {
				if f != nil {
					t.Fatalf("got %+v, want no forward", f)
				}
				return
			}
			if f == nil {
				t.Fatal("got no forward")
			}
			if f.From.Email != tc.from || f.From.Name != tc.fromName || f.Subject != tc.subj || f.Text != tc.textWant || f.Attached {
				t.Errorf("got %+v, want from %s (%s), subject %q, text %q", f, tc.from, tc.fromName, tc.subj, tc.textWant)
			}
		})
	}
}

func TestForwardedAsAttachment(t *testing.T) {
	inner := "From: Pedro <pedro@entidad.gov.co>\r\nTo: carlos@entidad.gov.co\r\nSubject: No imprime\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nLa impresora del piso 3 no imprime.\r\n"
	raw := "From: carlos@entidad.gov.co\r\nTo: mesa@entidad.gov.co\r\nSubject: RV: No imprime\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nPor favor atender.\r\n" +
		"--b\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment; filename=\"original.eml\"\r\n\r\n" + inner + "--b--\r\n"
	in, err := Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	f := in.Forwarded
	if f == nil || f.From.Email != "pedro@entidad.gov.co" || f.Subject != "No imprime" || !f.Attached ||
		!strings.Contains(f.Text, "piso 3") {
		t.Fatalf("got %+v", f)
	}
	if strings.Contains(in.Text, "piso 3") {
		t.Errorf("the forwarder's text took the original's: %q", in.Text)
	}
}

func TestDecodeAttachment(t *testing.T) {
	pdf := bytes.Repeat([]byte("%PDF-1.4 binary \x00\xff"), 100000) // 1.8 MB: more than Parse keeps
	sum := sha256.Sum256(pdf)
	raw := "From: ana@entidad.gov.co\r\nSubject: x\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nhola\r\n--b\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n" +
		"Content-Disposition: attachment; filename=big.pdf\r\n\r\n" + base64.StdEncoding.EncodeToString(pdf) + "\r\n--b--\r\n"
	in, err := Parse([]byte(raw))
	if err != nil || len(in.Attachments) != 1 || in.Attachments[0].Data != nil || in.Attachments[0].SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("parse: %v %+v", err, in.Attachments)
	}
	got, err := Decoder{}.DecodeAttachment([]byte(raw), in.Attachments[0].SHA256)
	if err != nil || !bytes.Equal(got, pdf) {
		t.Fatalf("decode: %d bytes, %v; want %d", len(got), err, len(pdf))
	}
	if _, err := (Decoder{}).DecodeAttachment([]byte(raw), strings.Repeat("0", 64)); !errors.Is(err, ErrNoSuchPart) {
		t.Errorf("unknown hash: got %v, want ErrNoSuchPart", err)
	}
}

// FuzzForwardedInline: any text gives a forward or none, in bounded time,
// with an original no longer than the text and a valid address.
func FuzzForwardedInline(f *testing.F) {
	f.Add("De: Pedro <pedro@x.co>\nEnviado: hoy\nAsunto: a\n\nb")
	f.Add("---------- Forwarded message ---------\nFrom: <a@b.c>\n\nz")
	f.Add(strings.Repeat("From: a@b.c\n", 5000))
	f.Fuzz(func(t *testing.T, s string) {
		start := time.Now()
		fw := forwardedInline(s)
		if d := time.Since(start); d > time.Second {
			t.Fatalf("took %v for %d bytes", d, len(s))
		}
		if fw == nil {
			return
		}
		if len(fw.Text) > len(s) || len(fw.Subject) > len(s)*3+3 || !strings.Contains(fw.From.Email, "@") {
			t.Fatalf("out of bounds: %+v from %d bytes", fw, len(s))
		}
	})
}
