// Package mailin reads the desk's mailbox: it turns raw RFC 5322 messages
// into ticket.Inbound values. (The IMAP loop arrives with the intake issue.)
package mailin

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/charset"
	"github.com/emersion/go-message/mail"
	"golang.org/x/text/encoding/charmap"

	"github.com/mesadeservicios/mesa/ticket"
)

// MaxPartBytes bounds how much of one MIME part is read into memory.
const MaxPartBytes = 64 << 20

// The parse budget of one message (issue 13 item 6): beyond it the rest of
// the message is not parsed, it stays in the raw mail, and Problems says so.
const (
	// MaxTextBytes is the most decoded text kept, for Text and for HTML each.
	MaxTextBytes = 2 << 20
	// MaxDepth is the deepest MIME nesting parsed; a multipart deeper than
	// that is kept whole as one attachment.
	MaxDepth = 64
	// MaxParts is the most MIME parts read from one message.
	MaxParts = 1000
	// MaxKeptTotal is the most attachment bytes kept decoded beside the raw
	// message; past it attachments are only measured and hashed.
	MaxKeptTotal = 32 << 20
	// MaxParseTime bounds the time spent on the parts of one message.
	MaxParseTime = 10 * time.Second
)

// truncateText cuts s to at most n bytes on a UTF-8 boundary and says so.
func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = strings.ToValidUTF8(s[:n], "")
	return s + "\n\n[…texto recortado: el mensaje completo se conserva en el original.]"
}

var registerCharsets sync.Once

// setupCharsets installs the charset decoder go-message uses for bodies.
func setupCharsets() {
	message.CharsetReader = charsetReader
}

// latin1Labels are decoded as windows-1252, as browsers do (WHATWG
// Encoding): Windows mailers label mail ISO-8859-1 and use 0x80–0x9F for €,
// curly quotes and dashes, which true ISO-8859-1 turns into control
// characters.
var latin1Labels = map[string]bool{"iso-8859-1": true, "iso_8859-1": true, "iso8859-1": true, "latin1": true,
	"l1": true, "cp1252": true, "windows-1252": true, "cp819": true, "ibm819": true, "iso-ir-100": true, "us-ascii": true}

// charsetReader decodes a body. For the Latin-1 family it first checks
// whether the bytes are in fact valid UTF-8 with non-ASCII characters (a
// mislabelled UTF-8 body, "Dzień"), and keeps them as they are if so.
func charsetReader(label string, input io.Reader) (io.Reader, error) {
	if !latin1Labels[strings.ToLower(strings.TrimSpace(label))] {
		return charset.Reader(label, input)
	}
	b, err := io.ReadAll(io.LimitReader(input, MaxPartBytes))
	if err != nil {
		return nil, err
	}
	if utf8.Valid(b) {
		return bytes.NewReader(b), nil // ASCII, or mislabelled UTF-8
	}
	return charmap.Windows1252.NewDecoder().Reader(bytes.NewReader(b)), nil
}

// Parse decodes a raw message. It never fails on content: broken MIME,
// unknown charsets and raw 8-bit headers give a best-effort Inbound with
// Problems filled in. It returns an error only when the header itself cannot
// be read; the Inbound then still carries the body as text.
func Parse(raw []byte) (*ticket.Inbound, error) {
	return parse(raw, 0)
}

// maxForwardDepth is how deep forwarded originals are read: the original
// of a forward, never the original's own forwards.
const maxForwardDepth = 1

func parse(raw []byte, depth int) (in *ticket.Inbound, err error) {
	registerCharsets.Do(setupCharsets)
	in = &ticket.Inbound{}
	defer func() {
		// A parser bug must not take intake down: what was read stays, and
		// the message goes on as a best-effort text.
		if r := recover(); r != nil {
			in.Problems = append(in.Problems, fmt.Sprintf("parser panic: %v", r))
			if in.Text == "" {
				in.Text = truncateText(Clean(string(raw)), MaxTextBytes)
			}
			err = nil
		}
	}()
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil && !message.IsUnknownCharset(err) {
		in.Problems = append(in.Problems, err.Error())
		fallback(in, raw)
		in.Automatic = automaticSubject(in.Subject)
		finish(in)
		return in, fmt.Errorf("reading header: %w", err)
	}
	if err != nil {
		in.Problems = append(in.Problems, err.Error())
	}
	h := mail.Header{Header: e.Header}
	readHeader(in, &h)
	w := &walker{in: in, deadline: time.Now().Add(MaxParseTime)}
	w.walk(e, 0)
	if strings.TrimSpace(in.Text) == "" && in.HTML != "" {
		in.Text = HTMLToText(in.HTML)
	}
	in.Text = strings.ReplaceAll(in.Text, "\r\n", "\n")
	if depth < maxForwardDepth {
		if in.Forwarded = forwardedAttached(in, depth); in.Forwarded == nil {
			in.Forwarded = forwardedInline(in.Text)
		}
	}
	finish(in)
	return in, nil
}

// walker reads the MIME tree of one message within the parse budget.
type walker struct {
	in       *ticket.Inbound
	parts    int
	kept     int64 // attachment bytes kept decoded so far
	deadline time.Time
	stopped  bool // a broken multipart, or the budget spent: no more parts
}

func (w *walker) problem(s string) { w.in.Problems = append(w.in.Problems, s) }

// walk reads an entity: a leaf is a part; a multipart is walked part by
// part, unless it lies deeper than MaxDepth, when it is kept whole as one
// attachment and not parsed. Each level of nesting makes every byte below
// it pass one more boundary scanner: the depth limit is what keeps 10,000
// nested multiparts linear.
func (w *walker) walk(e *message.Entity, depth int) {
	mr := e.MultipartReader()
	if mr == nil {
		w.leaf(e)
		return
	}
	if depth >= MaxDepth {
		w.problem(fmt.Sprintf("MIME nesting deeper than %d: the rest is kept as one attachment, not parsed", MaxDepth))
		w.readPart(&mail.Part{Header: &mail.AttachmentHeader{Header: e.Header}, Body: e.Body})
		w.stopped = true
		return
	}
	for !w.stopped {
		if w.parts >= MaxParts {
			w.problem(fmt.Sprintf("more than %d MIME parts: the rest stays in the original, not parsed", MaxParts))
			w.stopped = true
			return
		}
		if time.Now().After(w.deadline) {
			w.problem(fmt.Sprintf("parsing took more than %v: the rest stays in the original, not parsed", MaxParseTime))
			w.stopped = true
			return
		}
		p, err := mr.NextPart()
		if err == io.EOF {
			return
		}
		if err != nil && !message.IsUnknownCharset(err) {
			w.problem("reading MIME part: " + err.Error())
			w.stopped = true
			return
		}
		if err != nil {
			w.problem(err.Error())
		}
		w.parts++
		w.walk(p, depth+1)
	}
}

// leaf reads a non-multipart entity, classified as go-message's mail
// reader does: inline when so disposed, or text without a disposition.
func (w *walker) leaf(e *message.Entity) {
	t, _, _ := e.Header.ContentType()
	disp, _, _ := e.Header.ContentDisposition()
	mp := &mail.Part{Body: e.Body}
	if disp == "inline" || (disp != "attachment" && strings.HasPrefix(t, "text/")) {
		mp.Header = &mail.InlineHeader{Header: e.Header}
	} else {
		mp.Header = &mail.AttachmentHeader{Header: e.Header}
	}
	w.readPart(mp)
}

// finish derives the facts that need the whole message.
func finish(in *ticket.Inbound) {
	if why := reportWhy(in); why != "" {
		in.Report = readReport(in, why)
	}
}

func readHeader(in *ticket.Inbound, h *mail.Header) {
	subj, err := h.Subject()
	if err != nil {
		subj = h.Get("Subject")
	}
	in.Subject = Clean(strings.TrimSpace(subj))
	if id, err := h.MessageID(); err == nil {
		in.MessageID = Clean(id)
	} else if v := strings.Trim(strings.TrimSpace(h.Get("Message-Id")), "<>"); v != "" {
		in.MessageID = Clean(v)
	}
	in.InReplyTo = msgIDs(h, "In-Reply-To")
	in.References = msgIDs(h, "References")
	in.From = first(addresses(h, "From"))
	in.ReplyTo = addresses(h, "Reply-To")
	in.To = addresses(h, "To")
	in.Cc = addresses(h, "Cc")
	if d, err := h.Date(); err == nil && d.Year() >= 1990 && d.Before(time.Now().Add(48*time.Hour)) {
		in.Date = d.UTC() // a missing or absurd date stays zero: intake uses the arrival time
	}
	if of := addresses(h, "X-Original-From"); len(of) > 0 {
		in.OriginalFrom = of[0]
	}
	if s := addresses(h, "Sender"); len(s) > 0 {
		in.Sender = s[0]
	}
	if rp := strings.TrimSpace(h.Get("Return-Path")); rp != "" {
		in.ReturnPath = bareAddress(rp)
		in.NullReturnPath = in.ReturnPath == "" && strings.Trim(rp, "<> \t") == ""
	}
	in.ListID = Clean(strings.TrimSpace(h.Get("List-Id")))
	for i, v := range h.Values("Authentication-Results") {
		if i == MaxAuthHeaders {
			in.Problems = append(in.Problems, fmt.Sprintf("more than %d Authentication-Results headers: the lower ones are ignored", MaxAuthHeaders))
			break
		}
		in.AuthResults = append(in.AuthResults, ParseAuthResults(v))
	}
	in.Exchange = ticket.Exchange{
		AuthAs:        headerValue(h, "X-MS-Exchange-Organization-AuthAs"),
		AuthSource:    headerValue(h, "X-MS-Exchange-Organization-AuthSource"),
		AuthMechanism: headerValue(h, "X-MS-Exchange-Organization-AuthMechanism"),
		CrossTenantID: headerValue(h, "X-MS-Exchange-CrossTenant-Id"),
	}
	in.Automatic = automaticHeader(h)
	in.AutoSubmitted = in.Automatic != ""
	if in.Automatic == "" {
		in.Automatic = automaticSubject(in.Subject)
	}
	if in.Automatic == "" && in.NullReturnPath {
		in.Automatic = "null return path"
	}
	ct, params, _ := h.ContentType()
	in.Bounce = ct == "multipart/report" && strings.EqualFold(params["report-type"], "delivery-status")
}

// headerValue is a header's first value, trimmed, made valid UTF-8 and
// capped: a raw fact for the desk to compare.
func headerValue(h *mail.Header, key string) string {
	v := strings.TrimSpace(h.Get(key))
	if len(v) > 1024 {
		v = v[:1024]
	}
	return Clean(v)
}

// automaticHeader says why a header marks mail that must never get an
// automatic answer: RFC 3834 Auto-Submitted, Precedence bulk/junk/list, and
// the vendor headers of Microsoft and others; "" when none does.
func automaticHeader(h *mail.Header) string {
	if v := strings.ToLower(strings.TrimSpace(h.Get("Auto-Submitted"))); v != "" && v != "no" {
		return "auto-submitted: " + trimReason(v)
	}
	switch v := strings.ToLower(strings.TrimSpace(h.Get("Precedence"))); v {
	case "bulk", "junk", "list", "auto_reply":
		return "precedence: " + v
	}
	// List-Id alone does not make mail automatic: a person writing through
	// a list or Google Group still needs a ticket (pain point G3).
	for _, k := range []string{"X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress"} {
		if h.Has(k) {
			v := h.Get(k)
			if k == "X-Auto-Response-Suppress" {
				if !strings.Contains(strings.ToLower(v), "all") {
					continue
				}
				return "x-auto-response-suppress: " + trimReason(v)
			}
			return strings.ToLower(k)
		}
	}
	return ""
}

func trimReason(v string) string {
	v = Clean(strings.TrimSpace(v))
	if len(v) > 64 {
		v = strings.ToValidUTF8(v[:64], "")
	}
	return v
}

// Subjects of automatic replies that carry no RFC 3834 header (Outlook
// rules, vacation messages), in Spanish and English.
var autoSubjectRE = regexp.MustCompile(`(?i)^\s*(respuesta autom[aá]tica|automatic reply|auto(matic)?[ -]?reply|autorespuesta|fuera de la oficina|out of (the )?office|ausencia|vacaciones)\b`)

// automaticSubject names an auto-reply subject: "subject: Respuesta
// automática".
func automaticSubject(subject string) string {
	if m := autoSubjectRE.FindStringSubmatch(subject); m != nil {
		return "subject: " + strings.TrimSpace(m[1])
	}
	return ""
}

var angleIDRE = regexp.MustCompile(`<([^<>\s]+)>`)

// msgIDs reads a list of message identifiers; when the strict parser fails
// (a truncated or malformed id, pain point F3) it keeps every well-formed
// <id> it finds.
func msgIDs(h *mail.Header, key string) []string {
	if ids, err := h.MsgIDList(key); err == nil {
		return ids
	}
	var out []string
	for _, m := range angleIDRE.FindAllStringSubmatch(h.Get(key), -1) {
		out = append(out, Clean(m[1]))
	}
	return out
}

func addresses(h *mail.Header, key string) []ticket.Address {
	list, err := h.AddressList(key)
	if err != nil {
		// Raw 8-bit or broken encoded words: fall back to the bare addresses.
		var out []ticket.Address
		for _, part := range strings.Split(h.Get(key), ",") {
			if a := bareAddress(part); a != "" {
				out = append(out, ticket.Address{Email: a})
			}
		}
		return out
	}
	out := make([]ticket.Address, 0, len(list))
	for _, a := range list {
		out = append(out, ticket.Address{Name: Clean(a.Name), Email: normalizeEmail(a.Address)})
	}
	return out
}

// bareAddress extracts local@domain from "Name <local@domain>" or a bare address.
func bareAddress(s string) string {
	if i := strings.LastIndex(s, "<"); i >= 0 {
		if j := strings.Index(s[i:], ">"); j > 0 {
			s = s[i+1 : i+j]
		}
	}
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "@") || strings.ContainsAny(s, " \t<>") {
		return ""
	}
	return normalizeEmail(Clean(s))
}

// normalizeEmail lower-cases the address; local parts are case-sensitive in
// theory (RFC 5321 §2.4) but not in any mail system an agency uses.
func normalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

func first(as []ticket.Address) ticket.Address {
	if len(as) == 0 {
		return ticket.Address{}
	}
	return as[0]
}

// MaxKeptAttachment is the largest attachment kept decoded beside the raw
// message; larger ones are only hashed and measured.
const MaxKeptAttachment = 1 << 20

func (w *walker) readPart(p *mail.Part) {
	in := w.in
	_, isText := p.Header.(*mail.InlineHeader)
	if isText {
		ct, _, _ := p.Header.(*mail.InlineHeader).ContentType()
		isText = ct == "" || ct == "text/plain" || ct == "text/html"
	}
	var body []byte
	var size int64
	h := sha256.New()
	if isText {
		b, err := io.ReadAll(io.LimitReader(p.Body, MaxTextBytes+1))
		if err != nil {
			in.Problems = append(in.Problems, "reading part body: "+err.Error())
		}
		if len(b) > MaxTextBytes {
			in.Problems = append(in.Problems, fmt.Sprintf("text part longer than %d bytes: the rest stays in the original", MaxTextBytes))
			b = []byte(truncateText(string(b), MaxTextBytes))
		}
		body, size = b, int64(len(b))
	} else {
		// Keep the first MaxKeptAttachment bytes; past that, only hash.
		var buf bytes.Buffer
		n, err := io.Copy(io.MultiWriter(h, &limitedBuffer{&buf, MaxKeptAttachment}), p.Body)
		if err != nil {
			in.Problems = append(in.Problems, "reading attachment: "+err.Error())
		}
		size = n
		if n <= MaxKeptAttachment && w.kept+n <= MaxKeptTotal {
			body = buf.Bytes()
			w.kept += n
		}
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if isText {
		s := sha256.Sum256(body)
		sum = hex.EncodeToString(s[:])
	}
	switch h := p.Header.(type) {
	case *mail.InlineHeader:
		ct, _, _ := h.ContentType()
		switch {
		case ct == "text/plain" || ct == "":
			if in.Text == "" {
				in.Text = Clean(string(body))
			}
			return
		case ct == "text/html":
			if in.HTML == "" {
				in.HTML = Clean(string(body))
			}
			return
		}
		cid := strings.Trim(h.Get("Content-Id"), "<> ")
		in.Attachments = append(in.Attachments, ticket.InboundAttachment{
			Filename: ticket.SafeFilename(partName(&h.Header)), ContentType: ct, ContentID: cid, Inline: true, Data: body,
			Size: size, SHA256: sum})
	case *mail.AttachmentHeader:
		name, err := h.Filename()
		if err != nil || name == "" {
			name = partName(&h.Header)
		}
		ct, _, _ := h.ContentType()
		in.Attachments = append(in.Attachments, ticket.InboundAttachment{
			Filename: ticket.SafeFilename(Clean(name)), ContentType: ct, ContentID: strings.Trim(h.Get("Content-Id"), "<> "),
			Data: body, Size: size, SHA256: sum})
	}
}

func partName(h *message.Header) string {
	if _, params, err := h.ContentDisposition(); err == nil && params["filename"] != "" {
		return Clean(params["filename"])
	}
	if _, params, err := h.ContentType(); err == nil && params["name"] != "" {
		return Clean(params["name"])
	}
	return ""
}

// limitedBuffer keeps at most max bytes and silently drops the rest.
type limitedBuffer struct {
	b   *bytes.Buffer
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max + 1 - l.b.Len(); room > 0 {
		l.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// fallback fills in what can be read from a message whose header is broken:
// a Subject line if one is found, and everything after the first blank line
// as text.
func fallback(in *ticket.Inbound, raw []byte) {
	head, body, found := bytes.Cut(raw, []byte("\r\n\r\n"))
	if !found {
		head, body, found = bytes.Cut(raw, []byte("\n\n"))
	}
	if !found {
		head, body = nil, raw
	}
	dec := &mime.WordDecoder{CharsetReader: charset.Reader}
	for _, line := range strings.Split(string(head), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		if d, err := dec.DecodeHeader(v); err == nil {
			v = d
		}
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "subject":
			in.Subject = Clean(v)
		case "from":
			in.From = ticket.Address{Email: bareAddress(v)}
		case "message-id":
			in.MessageID = Clean(strings.Trim(v, "<> "))
		}
	}
	in.Text = strings.ReplaceAll(Clean(string(body)), "\r\n", "\n")
}

// Clean makes decoded text safe to store and show: invalid UTF-8 (raw 8-bit
// headers, bodies in an unknown charset) is decoded as windows-1252, the
// most common source of it, and NUL bytes are dropped.
func Clean(s string) string {
	if !utf8.ValidString(s) {
		if d, err := charmap.Windows1252.NewDecoder().String(s); err == nil {
			s = d
		} else {
			s = strings.ToValidUTF8(s, "\uFFFD")
		}
	}
	return strings.ReplaceAll(s, "\x00", "")
}
