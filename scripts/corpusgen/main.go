// Command corpusgen turns mail written by corpus writers (JSON Lines, one
// mail a line, plain text) into the classification corpus of rules/testdata:
// one .eml file per mail under rules/testdata/corpus/<batch>/ and one row per
// mail appended to rules/testdata/labels.tsv (file, category, type,
// criticidad, persona). The writer chose how each mail is encoded: "plain"
// (UTF-8, 8bit), "outlook-html" (Outlook's HTML, half with a text/plain
// alternative and half HTML only) or "latin1-qp" (ISO-8859-1,
// quoted-printable, as old clients send). Output is deterministic: the same
// input gives the same bytes.
//
//	go run ./scripts/corpusgen -batch w1 /work/corpus/w1.jsonl
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"html"
	"mime"
	"mime/quotedprintable"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/text/encoding/charmap"
)

// mail is one line of a writer's file.
type mail struct {
	Persona    string `json:"persona"`
	FromName   string `json:"from_name"`
	FromEmail  string `json:"from_email"`
	Subject    string `json:"subject"`
	Body       string `json:"body"`
	Format     string `json:"format"`
	Category   string `json:"category"`
	Type       string `json:"type"`
	Criticidad string `json:"criticidad"`
}

func main() {
	batch := flag.String("batch", "", "batch name: the folder under rules/testdata/corpus")
	dir := flag.String("dir", "rules/testdata", "the corpus directory")
	flag.Parse()
	if *batch == "" || flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: corpusgen -batch NAME FILE.jsonl")
		os.Exit(2)
	}
	if err := run(*dir, *batch, flag.Arg(0)); err != nil {
		fmt.Fprintln(os.Stderr, "corpusgen:", err)
		os.Exit(1)
	}
}

func run(dir, batch, src string) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	var mails []mail
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var m mail
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			return fmt.Errorf("%s:%d: %w", src, n, err)
		}
		if m.Category == "" || m.Type == "" || m.Criticidad == "" || m.Persona == "" {
			return fmt.Errorf("%s:%d: missing label or persona", src, n)
		}
		mails = append(mails, m)
	}
	if err := sc.Err(); err != nil {
		return err
	}
	out := filepath.Join(dir, "corpus", batch)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	var labels bytes.Buffer
	base := time.Date(2026, 11, 2, 13, 0, 0, 0, time.UTC)
	for i, m := range mails {
		name := fmt.Sprintf("%04d.eml", i+1)
		date := base.Add(time.Duration(i) * 37 * time.Minute)
		raw, err := render(m, fmt.Sprintf("corpus-%s-%04d@entidad.gov.co", batch, i+1), date, i)
		if err != nil {
			return fmt.Errorf("mail %d: %w", i+1, err)
		}
		if err := os.WriteFile(filepath.Join(out, name), raw, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(&labels, "%s/%s\t%s\t%s\t%s\t%s\n", batch, name, m.Category, m.Type, m.Criticidad, m.Persona)
	}
	lf, err := os.OpenFile(filepath.Join(dir, "labels.tsv"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := lf.Write(labels.Bytes()); err != nil {
		lf.Close()
		return err
	}
	fmt.Printf("%s: %d mails\n", batch, len(mails))
	return lf.Close()
}

// render builds the RFC 5322 message, with CRLF line ends.
func render(m mail, msgID string, date time.Time, i int) ([]byte, error) {
	body := strings.ReplaceAll(m.Body, "\r\n", "\n")
	var b bytes.Buffer
	h := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	from := m.FromEmail
	subject := m.Subject
	latin := m.Format == "latin1-qp"
	if m.FromName != "" {
		from = encodeWord(m.FromName, latin) + " <" + m.FromEmail + ">"
	}
	h("From", from)
	h("To", "Mesa de Servicios <mesadeservicios@entidad.gov.co>")
	h("Subject", encodeWord(subject, latin))
	h("Date", date.Format(time.RFC1123Z))
	h("Message-ID", "<"+msgID+">")
	h("MIME-Version", "1.0")
	switch m.Format {
	case "latin1-qp":
		h("Content-Type", "text/plain; charset=iso-8859-1")
		h("Content-Transfer-Encoding", "quoted-printable")
		b.WriteString("\r\n")
		enc, err := charmap.ISO8859_1.NewEncoder().String(toLatin1(body))
		if err != nil {
			return nil, err
		}
		b.WriteString(qp(enc))
	case "outlook-html":
		h("X-Mailer", "Microsoft Outlook 16.0")
		h("Content-Language", "es-CO")
		h("Thread-Index", fmt.Sprintf("AdtN%08xQ==", i))
		page := outlookHTML(body)
		if i%2 == 0 {
			boundary := fmt.Sprintf("_000_corpus%06d_", i)
			h("Content-Type", `multipart/alternative; boundary="`+boundary+`"`)
			b.WriteString("\r\n")
			fmt.Fprintf(&b, "--%s\r\nContent-Type: text/plain; charset=\"utf-8\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n%s\r\n", boundary, qp(body))
			fmt.Fprintf(&b, "--%s\r\nContent-Type: text/html; charset=\"utf-8\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n%s\r\n", boundary, qp(page))
			fmt.Fprintf(&b, "--%s--\r\n", boundary)
		} else {
			h("Content-Type", `text/html; charset="utf-8"`)
			h("Content-Transfer-Encoding", "quoted-printable")
			b.WriteString("\r\n")
			b.WriteString(qp(page))
		}
	default:
		h("Content-Type", "text/plain; charset=utf-8")
		h("Content-Transfer-Encoding", "8bit")
		b.WriteString("\r\n")
		b.WriteString(strings.ReplaceAll(body, "\n", "\r\n"))
		b.WriteString("\r\n")
	}
	return b.Bytes(), nil
}

// encodeWord encodes a header value as an RFC 2047 encoded-word when it is
// not ASCII.
func encodeWord(s string, latin bool) string {
	if latin {
		enc, err := charmap.ISO8859_1.NewEncoder().String(toLatin1(s))
		if err == nil && enc != s {
			return mime.QEncoding.Encode("iso-8859-1", enc)
		}
	}
	return mime.QEncoding.Encode("utf-8", s)
}

// toLatin1 replaces the characters that ISO-8859-1 lacks with what an old
// client would have sent.
func toLatin1(s string) string {
	r := strings.NewReplacer("“", `"`, "”", `"`, "‘", "'", "’", "'", "–", "-", "—", "-", "…", "...", "•", "*", "€", "EUR")
	s = r.Replace(s)
	return strings.Map(func(c rune) rune {
		if c > 0xFF {
			return '?'
		}
		return c
	}, s)
}

// qp quoted-printable encodes s with CRLF line ends.
func qp(s string) string {
	var b bytes.Buffer
	w := quotedprintable.NewWriter(&b)
	w.Write([]byte(strings.ReplaceAll(s, "\n", "\r\n")))
	w.Close()
	return b.String()
}

// outlookHTML renders plain text the way Outlook's HTML editor does: one
// MsoNormal paragraph per line, the quoted earlier mail (from a "De:" line
// or an "El ... escribió:" line on) inside Outlook's top-bordered div.
func outlookHTML(body string) string {
	var b strings.Builder
	b.WriteString(`<html xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" xmlns:w="urn:schemas-microsoft-com:office:word" xmlns:m="http://schemas.microsoft.com/office/2004/12/omml" xmlns="http://www.w3.org/TR/REC-html40">
<head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"><meta name="Generator" content="Microsoft Word 15 (filtered medium)"><style><!--
p.MsoNormal, li.MsoNormal, div.MsoNormal {margin:0cm;font-size:11.0pt;font-family:"Calibri",sans-serif;mso-fareast-language:EN-US;}
span.EstiloCorreo17 {mso-style-type:personal-compose;font-family:"Calibri",sans-serif;color:windowtext;}
@page WordSection1 {size:612.0pt 792.0pt;margin:70.85pt 3.0cm 70.85pt 3.0cm;}
div.WordSection1 {page:WordSection1;}
--></style></head>
<body lang="ES-CO" link="#0563C1" vlink="#954F72" style="word-wrap:break-word"><div class="WordSection1">
`)
	quoted := false
	for _, line := range strings.Split(body, "\n") {
		t := strings.TrimSpace(line)
		if !quoted && (strings.HasPrefix(t, "De:") || strings.HasPrefix(t, "From:") || strings.HasPrefix(t, "-----") || (strings.HasPrefix(t, "El ") && strings.HasSuffix(t, "escribió:"))) {
			quoted = true
			b.WriteString(`<div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm">` + "\n")
		}
		t = strings.TrimPrefix(strings.TrimPrefix(line, ">"), " ")
		if t == "" {
			b.WriteString(`<p class="MsoNormal"><o:p>&nbsp;</o:p></p>` + "\n")
			continue
		}
		fmt.Fprintf(&b, `<p class="MsoNormal"><span style="mso-fareast-language:ES-CO">%s<o:p></o:p></span></p>`+"\n", html.EscapeString(t))
	}
	if quoted {
		b.WriteString("</div>\n")
	}
	b.WriteString("</div>\n</body>\n</html>\n")
	return b.String()
}
