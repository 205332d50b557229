package mailin

import (
	"encoding/base64"
	"fmt"
	"strings"
)

// SampleMessage returns a realistic message of about size bytes: text and
// HTML alternatives in quoted-printable ISO-8859-1, and a base64 PDF
// attachment that takes the rest. Benchmarks use it.
func SampleMessage(size int) []byte {
	return SampleMessageWithID(size, "sample-1@entidad.gov.co", "La impresora del piso 3 no imprime")
}

// SampleMessageWithID is SampleMessage with a given Message-ID and subject.
func SampleMessageWithID(size int, id, subject string) []byte {
	return SampleMessageFrom(size, "Ana Rojas <ana.rojas@entidad.gov.co>", id, subject)
}

// SampleMessageFrom is SampleMessageWithID with a given From header.
func SampleMessageFrom(size int, from, id, subject string) []byte {
	text := "Buenos d=EDas,\r\n\r\nLa impresora del piso 3 no imprime desde esta ma=F1ana; sale una luz naranja.\r\n" +
		"Ya revisamos el papel y el t=F3ner.\r\n\r\nCordialmente,\r\nAna Rojas\r\nProfesional Especializado\r\nExt. 4521\r\n"
	html := "<html><body><p>Buenos d=EDas,</p><p>La impresora del piso 3 no imprime desde esta ma=F1ana; sale una luz naran=\r\nja.</p>" +
		"<p>Ya revisamos el papel y el t=F3ner.</p><p>Cordialmente,<br>Ana Rojas</p></body></html>\r\n"
	head := fmt.Sprintf("From: %s\r\nTo: mesa@entidad.gov.co\r\nSubject: %s\r\n"+
		"Message-ID: <%s>\r\nDate: Tue, 24 Mar 2026 09:00:00 -0500\r\nMIME-Version: 1.0\r\n"+
		"Content-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n--outer\r\n"+
		"Content-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n--alt\r\n"+
		"Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n%s--alt\r\n"+
		"Content-Type: text/html; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n%s--alt--\r\n"+
		"--outer\r\nContent-Type: application/pdf; name=\"evidencia.pdf\"\r\nContent-Disposition: attachment; filename=\"evidencia.pdf\"\r\n"+
		"Content-Transfer-Encoding: base64\r\n\r\n", from, subject, id, text, html)
	tail := "--outer--\r\n"
	n := max(size-len(head)-len(tail), 0) * 3 / 4 // base64 grows 4/3, plus line breaks
	enc := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("%PDF-1.4 evidencia ", n/19+1))[:n])
	var b strings.Builder
	b.WriteString(head)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n" + tail)
	return []byte(b.String())
}
