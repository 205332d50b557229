package mailin

import (
	"fmt"
	"strings"

	"github.com/mesadeservicios/mesa/ticket"
)

// Limits of one Authentication-Results header: more is not real mail.
const (
	// MaxAuthHeaders is how many Authentication-Results headers are parsed;
	// the topmost ones are kept.
	MaxAuthHeaders = 32
	// MaxAuthResultsPerHeader bounds the resinfos of one header.
	MaxAuthResultsPerHeader = 64
	// maxAuthHeaderBytes bounds the length of one header value parsed.
	maxAuthHeaderBytes = 16 << 10
)

// ParseAuthResults tokenizes one Authentication-Results field value
// (RFC 8601 §2.2) with RFC 5322 CFWS: folding whitespace, nested comments
// and quoted strings with quoted-pairs. A ";" inside a comment or a quoted
// string never separates results. Exchange Online's form without an
// authserv-id, and its action= tokens, are read too. It never fails: what
// cannot be read is named in Problem, and the parser resynchronises on the
// next top-level ";". The work is linear in the length of v.
func ParseAuthResults(v string) ticket.AuthHeader {
	if len(v) > maxAuthHeaderBytes {
		v = v[:maxAuthHeaderBytes]
	}
	v = Clean(v)
	p := &arParser{s: v}
	h := ticket.AuthHeader{Raw: unfold(v)}
	p.parse(&h)
	return h
}

func unfold(s string) string {
	return strings.NewReplacer("\r\n", "", "\n", "", "\r", "").Replace(s)
}

type arParser struct {
	s        string
	i        int
	comments []string // collected by cfws for the current resinfo
	problem  string
}

func (p *arParser) fail(format string, args ...any) {
	if p.problem == "" {
		p.problem = fmt.Sprintf("at %d: ", p.i) + fmt.Sprintf(format, args...)
	}
}

func (p *arParser) eof() bool { return p.i >= len(p.s) }

func (p *arParser) peek() byte {
	if p.eof() {
		return 0
	}
	return p.s[p.i]
}

// cfws skips folding whitespace and comments (RFC 5322 §3.2.2), keeping
// each top-level comment's text. Nesting is counted, not recursed.
func (p *arParser) cfws() {
	for !p.eof() {
		switch c := p.s[p.i]; {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			p.i++
		case c == '(':
			p.comments = append(p.comments, p.comment())
		default:
			return
		}
	}
}

// comment reads "( … )" with nested comments and quoted-pairs; an
// unterminated one runs to the end of the value.
func (p *arParser) comment() string {
	p.i++ // "("
	var b strings.Builder
	depth := 1
	for !p.eof() {
		c := p.s[p.i]
		switch {
		case c == '\\' && p.i+1 < len(p.s):
			b.WriteByte(p.s[p.i+1])
			p.i += 2
			continue
		case c == '(':
			depth++
		case c == ')':
			depth--
			if depth == 0 {
				p.i++
				return strings.Join(strings.Fields(b.String()), " ")
			}
		}
		b.WriteByte(c)
		p.i++
	}
	p.fail("unterminated comment")
	return strings.Join(strings.Fields(b.String()), " ")
}

// quoted reads a quoted-string, resolving quoted-pairs; p.s[p.i] is `"`.
func (p *arParser) quoted() string {
	p.i++
	var b strings.Builder
	for !p.eof() {
		c := p.s[p.i]
		switch {
		case c == '\\' && p.i+1 < len(p.s):
			b.WriteByte(p.s[p.i+1])
			p.i += 2
			continue
		case c == '"':
			p.i++
			return b.String()
		case c == '\r' || c == '\n':
			p.i++ // folding inside a quoted string: the CRLF goes (RFC 5322 §3.2.4)
			continue
		}
		b.WriteByte(c)
		p.i++
	}
	p.fail("unterminated quoted string")
	return b.String()
}

// token reads a run of characters that are not whitespace, "(", ";", `"`
// nor one of stop.
func (p *arParser) token(stop string) string {
	start := p.i
	for !p.eof() {
		c := p.s[p.i]
		if c <= ' ' || c == 0x7f || c == '(' || c == ';' || c == '"' || strings.IndexByte(stop, c) >= 0 {
			break
		}
		p.i++
	}
	return p.s[start:p.i]
}

// keyword reads RFC 8601 Keyword (an ldh-str; "_" tolerated): the method,
// result, ptype and property names.
func (p *arParser) keyword() string {
	start := p.i
	for !p.eof() {
		c := p.s[p.i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			break
		}
		p.i++
	}
	return p.s[start:p.i]
}

// value is RFC 2045 value: a token or a quoted-string.
func (p *arParser) value(stop string) string {
	if p.peek() == '"' {
		return p.quoted()
	}
	return p.token(stop)
}

// skipResinfo moves to the next top-level ";" (outside comments and
// quoted strings), after a resinfo that could not be read.
func (p *arParser) skipResinfo() {
	for !p.eof() {
		switch p.s[p.i] {
		case ';':
			return
		case '(':
			p.comment()
		case '"':
			p.quoted()
		default:
			p.i++
		}
	}
}

func (p *arParser) parse(h *ticket.AuthHeader) {
	defer func() { h.Problem = p.problem }()
	p.cfws()
	p.comments = nil
	// authserv-id, unless the header starts with a result (Exchange Online).
	start := p.i
	first := p.value("=;")
	p.cfws()
	eop := false
	switch {
	case p.peek() == '=' || p.peek() == '/':
		p.i, eop = start, true
	case first == "" && p.peek() != ';' && !p.eof():
		p.fail("no authserv-id")
		p.skipResinfo()
	default:
		h.AuthServID = first
		if v := p.token("=;"); v != "" {
			if isDigits(v) {
				h.Version = v
			} else {
				p.fail("unexpected %q after the authserv-id", v)
				p.skipResinfo()
			}
		}
	}
	p.comments = nil
	for n := 0; ; n++ {
		p.cfws()
		if p.eof() {
			return
		}
		if !(eop && n == 0) {
			if p.peek() != ';' {
				p.fail("expected \";\"")
				p.skipResinfo()
				if p.eof() {
					return
				}
			}
			p.i++ // ";"
			p.comments = nil
			p.cfws()
			if p.eof() {
				return // a trailing ";"
			}
			if p.peek() == ';' {
				continue // an empty resinfo (";;"): nothing to read
			}
		}
		if len(h.Results) >= MaxAuthResultsPerHeader {
			p.fail("more than %d results", MaxAuthResultsPerHeader)
			return
		}
		before := p.i
		r, ok := p.resinfo()
		if ok && r.Method == "none" && r.Result == "" {
			h.None = len(h.Results) == 0
			continue
		}
		if ok {
			h.Results = append(h.Results, r)
		} else {
			p.skipResinfo()
		}
		if p.i == before && !p.eof() && p.peek() != ';' {
			p.i++ // never stand still
		}
	}
}

// resinfo reads methodspec [reasonspec] *propspec, up to the next
// top-level ";" or the end.
func (p *arParser) resinfo() (ticket.AuthResult, bool) {
	var r ticket.AuthResult
	r.Method = strings.ToLower(p.keyword())
	if r.Method == "" {
		p.fail("expected a method")
		return r, false
	}
	p.cfws()
	if p.peek() == '/' {
		p.i++
		p.cfws()
		r.MethodVersion = p.keyword()
		p.cfws()
	}
	if p.peek() != '=' {
		if r.Method == "none" && (p.eof() || p.peek() == ';') {
			return r, true // no-result
		}
		p.fail("method %q without a result", r.Method)
		return r, false
	}
	p.i++
	p.cfws()
	r.Result = strings.ToLower(p.keyword())
	if r.Result == "" {
		p.fail("method %q without a result", r.Method)
		return r, false
	}
	for {
		p.cfws()
		if p.eof() || p.peek() == ';' {
			break
		}
		start := p.i
		key := strings.ToLower(p.keyword())
		p.cfws()
		switch {
		case key == "":
			p.fail("unexpected %q in the %s result", p.peek(), r.Method)
			r.Comments = p.takeComments()
			return r, true // keep what was read; skip the rest
		case p.peek() == '.':
			p.i++
			p.cfws()
			prop := strings.ToLower(p.keyword())
			p.cfws()
			if p.peek() != '=' || prop == "" {
				p.fail("property %s.%s without a value", key, prop)
				r.Comments = p.takeComments()
				return r, true
			}
			p.i++
			p.cfws()
			r.Props = append(r.Props, ticket.AuthProp{Type: key, Property: prop, Value: p.pvalue()})
		case p.peek() == '=':
			p.i++
			p.cfws()
			val := p.value("")
			if key == "reason" && r.Reason == "" && len(r.Props) == 0 {
				r.Reason = val
			} else {
				r.Extra = append(r.Extra, ticket.AuthProp{Property: key, Value: val})
			}
		default:
			p.fail("unexpected %q in the %s result", key, r.Method)
			r.Comments = p.takeComments()
			return r, true
		}
		if p.i == start {
			p.i++
		}
	}
	r.Comments = p.takeComments()
	return r, true
}

func (p *arParser) takeComments() []string {
	c := p.comments
	p.comments = nil
	return c
}

// pvalue is RFC 8601 pvalue: a value, or [local-part] "@" domain where
// the local part may be a quoted string ("a;b"@example.org).
func (p *arParser) pvalue() string {
	if p.peek() != '"' {
		return p.token("")
	}
	v := p.quoted()
	if p.peek() == '@' {
		v += p.token("")
	}
	return v
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
