package mailin_test

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mesadeservicios/mesa/desk"
	"github.com/mesadeservicios/mesa/mailin"
	"github.com/mesadeservicios/mesa/rules"
	"github.com/mesadeservicios/mesa/sla"
	"github.com/mesadeservicios/mesa/store/storetest"
	"github.com/mesadeservicios/mesa/ticket"
)

// nestedQuotes is HTML of about size bytes: blockquotes nested as deep as
// the size allows, a line of text in each (the reply chain of issue 13
// item 6 that made HTML-to-text quadratic).
func nestedQuotes(size int) string {
	unit := "<blockquote>x<br>"
	n := size / (len(unit) + len("</blockquote>"))
	return "<html><body>" + strings.Repeat(unit, n) + strings.Repeat("</blockquote>", n) + "</body></html>"
}

// measure runs f once and returns the bytes it allocated and its time.
func measure(f func()) (uint64, time.Duration) {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	f()
	d := time.Since(start)
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc, d
}

// HTML-to-text is linear in its input: a 68 KB and a 272 KB nest of
// blockquotes (340 MB and out of memory before) allocate a small multiple
// of their size, and quadrupling the input does not multiply the cost by 16.
func TestHTMLToTextNestedBlockquotesBounded(t *testing.T) {
	var allocs [2]uint64
	for i, size := range []int{68 << 10, 272 << 10} {
		h := nestedQuotes(size)
		var out string
		alloc, d := measure(func() { out = mailin.HTMLToText(h) })
		allocs[i] = alloc
		t.Logf("%d KB: %d bytes allocated, %v, %d bytes of text", size>>10, alloc, d, len(out))
		if alloc > uint64(40*len(h)) {
			t.Errorf("%d KB of HTML allocated %d MB", size>>10, alloc>>20)
		}
		if len(out) > 4*len(h) {
			t.Errorf("%d KB of HTML gave %d bytes of text", size>>10, len(out))
		}
		if d > 2*time.Second {
			t.Errorf("%d KB of HTML took %v", size>>10, d)
		}
		if !strings.Contains(out, "> x") {
			t.Errorf("quotes lost their marks: %.200q", out)
		}
		if strings.Contains(out, strings.Repeat("> ", mailin.MaxQuoteDepth+1)) {
			t.Errorf("quote depth beyond %d: %.200q", mailin.MaxQuoteDepth, out)
		}
	}
	if allocs[1] > 8*allocs[0] {
		t.Errorf("4× the input cost %.1f× the memory: not linear", float64(allocs[1])/float64(allocs[0]))
	}
}

func BenchmarkHTMLToTextNestedBlockquotes(b *testing.B) {
	for _, size := range []int{17 << 10, 68 << 10} {
		h := nestedQuotes(size)
		b.Run(fmt.Sprintf("%dKB", size>>10), func(b *testing.B) {
			b.SetBytes(int64(len(h)))
			b.ReportAllocs()
			for b.Loop() {
				mailin.HTMLToText(h)
			}
		})
	}
}

// nestedMultiparts is a message of depth multiparts, each inside the one
// before, a text part at the bottom.
func nestedMultiparts(depth int) []byte {
	var b strings.Builder
	b.WriteString("From: a@x.co\r\nTo: mesa@entidad.gov.co\r\nSubject: anidado\r\nMIME-Version: 1.0\r\n")
	for i := 0; i < depth; i++ {
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n--b%d\r\n", i, i)
	}
	b.WriteString("Content-Type: text/plain\r\n\r\nfondo\r\n")
	for i := depth - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "--b%d--\r\n", i)
	}
	return []byte(b.String())
}

// 10,000 nested multiparts (about 700 KB; 38 s before the depth limit)
// parse quickly: below MaxDepth the rest is one attachment.
func TestParseDeepMultipartBounded(t *testing.T) {
	raw := nestedMultiparts(10000)
	if len(raw) < 600<<10 {
		t.Fatalf("the message is %d bytes, want about 700 KB", len(raw))
	}
	var in *ticket.Inbound
	alloc, d := measure(func() { in, _ = mailin.Parse(raw) })
	t.Logf("%d bytes: %v, %d MB allocated", len(raw), d, alloc>>20)
	if d > 3*time.Second {
		t.Errorf("took %v", d)
	}
	if alloc > uint64(50*len(raw)) {
		t.Errorf("allocated %d MB", alloc>>20)
	}
	if len(in.Attachments) != 1 || !strings.HasPrefix(in.Attachments[0].ContentType, "multipart/") {
		t.Fatalf("attachments: %+v, want the deep rest as one", len(in.Attachments))
	}
	if !strings.Contains(strings.Join(in.Problems, "|"), "deeper than 64") {
		t.Errorf("problems: %q", in.Problems)
	}
	if in.Subject != "anidado" || in.From.Email != "a@x.co" {
		t.Errorf("header lost: %q %q", in.Subject, in.From.Email)
	}
	// At the limit, everything is still parsed.
	in, _ = mailin.Parse(nestedMultiparts(mailin.MaxDepth))
	if strings.TrimSpace(in.Text) != "fondo" || len(in.Attachments) != 0 {
		t.Errorf("depth %d: text %q, %d attachments, problems %q", mailin.MaxDepth, in.Text, len(in.Attachments), in.Problems)
	}
}

func TestParsePartCountLimit(t *testing.T) {
	var b strings.Builder
	b.WriteString("From: a@x.co\r\nSubject: partes\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"p\"\r\n\r\n")
	b.WriteString("--p\r\nContent-Type: text/plain\r\n\r\nhola\r\n")
	for i := 0; i < 3*mailin.MaxParts; i++ {
		fmt.Fprintf(&b, "--p\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"f%d.bin\"\r\n\r\nx\r\n", i)
	}
	b.WriteString("--p--\r\n")
	start := time.Now()
	in, _ := mailin.Parse([]byte(b.String()))
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v", d)
	}
	if len(in.Attachments) != mailin.MaxParts-1 || strings.TrimSpace(in.Text) != "hola" {
		t.Errorf("got %d attachments and text %q, want %d and hola", len(in.Attachments), in.Text, mailin.MaxParts-1)
	}
	if !strings.Contains(strings.Join(in.Problems, "|"), "more than 1000 MIME parts") {
		t.Errorf("problems: %q", in.Problems)
	}
}

// Decoded text is kept up to MaxTextBytes; the rest stays in the raw mail.
func TestParseTextBudget(t *testing.T) {
	body := strings.Repeat("línea de texto\r\n", (3*mailin.MaxTextBytes)/16)
	raw := "From: a@x.co\r\nSubject: largo\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body
	in, _ := mailin.Parse([]byte(raw))
	if len(in.Text) > mailin.MaxTextBytes+200 || len(in.Text) < mailin.MaxTextBytes/2 {
		t.Errorf("text of %d bytes, want about %d", len(in.Text), mailin.MaxTextBytes)
	}
	if !strings.Contains(in.Text, "texto recortado") || !utf8.ValidString(in.Text) {
		t.Errorf("the cut is not marked or not valid UTF-8: %q", in.Text[len(in.Text)-100:])
	}
	html := "From: a@x.co\r\nSubject: largo\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>" + body
	in, _ = mailin.Parse([]byte(html))
	if len(in.HTML) > mailin.MaxTextBytes+200 || len(in.Text) > mailin.MaxTextBytes+200 {
		t.Errorf("html %d bytes, text %d bytes", len(in.HTML), len(in.Text))
	}
}

// Attachments are kept decoded up to MaxKeptTotal for the whole message;
// past it they are measured and hashed only.
func TestParseKeptAttachmentsBudget(t *testing.T) {
	var b strings.Builder
	b.WriteString("From: a@x.co\r\nSubject: adjuntos\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"p\"\r\n\r\n")
	chunk := strings.Repeat("a", mailin.MaxKeptAttachment-10)
	n := mailin.MaxKeptTotal/len(chunk) + 5
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "--p\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"f%d.bin\"\r\n\r\n%s\r\n", i, chunk)
	}
	b.WriteString("--p--\r\n")
	in, _ := mailin.Parse([]byte(b.String()))
	kept, total := 0, 0
	for _, a := range in.Attachments {
		kept += len(a.Data)
		if a.Size != int64(len(chunk)) || a.SHA256 == "" {
			t.Fatalf("attachment %s: size %d, hash %q", a.Filename, a.Size, a.SHA256)
		}
		total++
	}
	if total != n || kept > mailin.MaxKeptTotal || kept < mailin.MaxKeptTotal-2*len(chunk) {
		t.Errorf("%d attachments, %d bytes kept; want %d and at most %d", total, kept, n, mailin.MaxKeptTotal)
	}
}

// A mail with 20,000 Cc addresses (16,384 and more failed intake) becomes
// a ticket whose participants are all of them.
func TestIntakeTwentyThousandCc(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	eng, _ := rules.Default()
	cal, _ := sla.New(sla.Options{})
	d, err := desk.New(desk.Deps{Files: mailin.Decoder{}, Store: db, Mail: mustRenderer(t), Classifier: eng, Calendar: cal, Logger: slog.New(slog.DiscardHandler),
		Now: time.Now, Config: desk.Config{Addresses: []string{"mesa@entidad.gov.co"}}})
	if err != nil {
		t.Fatal(err)
	}
	var cc []string
	for i := 0; i < 20000; i++ {
		cc = append(cc, fmt.Sprintf("persona%05d@entidad.gov.co", i))
	}
	raw := []byte("From: Ana <ana@entidad.gov.co>\r\nTo: mesa@entidad.gov.co\r\nCc: " + strings.Join(cc, ",\r\n ") +
		"\r\nSubject: Circular a todo el personal\r\nMessage-ID: <cc20000@entidad.gov.co>\r\n\r\nLa impresora no imprime.\r\n")
	start := time.Now()
	in, err := mailin.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Cc) != 20000 {
		t.Fatalf("parsed %d Cc, want 20000", len(in.Cc))
	}
	res, err := d.Intake(ctx, raw, in, ticket.Source{Mailbox: "INBOX", UID: 1})
	if err != nil {
		t.Fatalf("intake: %v", err)
	}
	if dur := time.Since(start); dur > 20*time.Second {
		t.Errorf("took %v", dur)
	}
	tk, err := db.TicketByNumber(ctx, res.Ticket)
	if err != nil || res.Disposition != desk.DispTicket {
		t.Fatalf("got %+v %v, want a ticket", res, err)
	}
	for _, e := range []string{"ana@entidad.gov.co", "persona00000@entidad.gov.co", "persona19999@entidad.gov.co"} {
		if ok, err := db.IsParticipant(ctx, tk.ID, e); err != nil || !ok {
			t.Errorf("participant %s: got %v %v", e, ok, err)
		}
	}
}
