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

func parse(raw []byte, depth int) (*ticket.Inbound, error) {
	registerCharsets.Do(setupCharsets)
	in := &ticket.Inbound{}
	mr, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil && !message.IsUnknownCharset(err) {
		in.Problems = append(in.Problems, err.Error())
		fallback(in, raw)
		return in, fmt.Errorf("reading header: %w", err)
	}
	if err != nil {
		in.Problems = append(in.Problems, err.Error())
	}
	h := mr.Header
	readHeader(in, &h)
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil && !message.IsUnknownCharset(err) {
			in.Problems = append(in.Problems, "reading MIME part: "+err.Error())
			break
		}
		if err != nil {
			in.Problems = append(in.Problems, err.Error())
		}
		readPart(in, p)
	}
	if strings.TrimSpace(in.Text) == "" && in.HTML != "" {
		in.Text = HTMLToText(in.HTML)
	}
	in.Text = strings.ReplaceAll(in.Text, "\r\n", "\n")
	if depth < maxForwardDepth {
		if in.Forwarded = forwardedAttached(in, depth); in.Forwarded == nil {
			in.Forwarded = forwardedInline(in.Text)
		}
	}
	return in, nil
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
	in.AuthResults = h.Values("Authentication-Results")
	in.AutoSubmitted = isAutomatic(h)
	ct, params, _ := h.ContentType()
	in.Bounce = ct == "multipart/report" && strings.EqualFold(params["report-type"], "delivery-status")
}

// isAutomatic tells mail that must never get an automatic answer: RFC 3834
// Auto-Submitted, Precedence bulk/junk/list, and the vendor headers of
// Microsoft and others.
func isAutomatic(h *mail.Header) bool {
	if v := strings.ToLower(strings.TrimSpace(h.Get("Auto-Submitted"))); v != "" && v != "no" {
		return true
	}
	switch strings.ToLower(strings.TrimSpace(h.Get("Precedence"))) {
	case "bulk", "junk", "list", "auto_reply":
		return true
	}
	// List-Id alone does not make mail automatic: a person writing through
	// a list or Google Group still needs a ticket (pain point G3).
	for _, k := range []string{"X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress"} {
		if h.Has(k) {
			if k == "X-Auto-Response-Suppress" && !strings.Contains(strings.ToLower(h.Get(k)), "all") {
				continue
			}
			return true
		}
	}
	return false
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

func readPart(in *ticket.Inbound, p *mail.Part) {
	_, isText := p.Header.(*mail.InlineHeader)
	if isText {
		ct, _, _ := p.Header.(*mail.InlineHeader).ContentType()
		isText = ct == "" || ct == "text/plain" || ct == "text/html"
	}
	var body []byte
	var size int64
	h := sha256.New()
	if isText {
		b, err := io.ReadAll(io.LimitReader(p.Body, MaxPartBytes))
		if err != nil {
			in.Problems = append(in.Problems, "reading part body: "+err.Error())
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
		if n <= MaxKeptAttachment {
			body = buf.Bytes()
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
