package mailin

import (
	"regexp"
	"strings"

	"github.com/mesadeservicios/mesa/ticket"
)

// A forwarded mail carries its original either as a message/rfc822
// attachment (Outlook's "forward as attachment", Thunderbird) or inline,
// under a header block the forwarding client writes:
//
//	Outlook (es)                    Outlook (en)           Gmail
//	________________________________                        ---------- Forwarded message ---------
//	De: Pedro <pedro@entidad.gov.co> From: Pedro <…>        From: Pedro <pedro@…>   (es: De:)
//	Enviado: martes, 24 de marzo…    Sent: Tuesday, …       Date: Tue, Mar 24, …    (es: Fecha:)
//	Para: Carlos <…>                 To: Carlos <…>         Subject: No imprime     (es: Asunto:)
//	Asunto: No imprime               Subject: No imprime    To: <carlos@…>          (es: Para:)
//
// forwardedOriginal finds the first such original; it reads text from the
// network and never fails, in time linear in the text.

// maxForwardScan bounds how much of a text is searched for a forwarded
// block: forwarded headers sit near the top of what a person writes.
const maxForwardScan = 256 << 10

var (
	gmailMarkerRE = regexp.MustCompile(`(?i)^-{5,}\s*(forwarded message|mensaje reenviado|message transféré|weitergeleitete nachricht)\s*-{5,}$`)
	fwdHeaderRE   = regexp.MustCompile(`(?i)^\*?(de|from|enviado|sent|fecha|date|para|to|cc|asunto|subject)\*?\s*:\*?\s*(.*)$`)
)

// forwardedInline finds an inline forwarded block in text: a Gmail marker
// followed by its header lines, or Outlook's De:/From:, Enviado:/Sent: and
// Asunto:/Subject: lines together. The text after the block is the
// original's.
func forwardedInline(text string) *ticket.Forwarded {
	if len(text) > maxForwardScan {
		text = text[:maxForwardScan]
	}
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		l := strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(lines[i]), ">"))
		start, gmail := -1, false
		switch {
		case gmailMarkerRE.MatchString(l):
			start, gmail = i+1, true
		case fwdHeaderRE.MatchString(l):
			if k := strings.ToLower(strings.Trim(fwdHeaderRE.FindStringSubmatch(l)[1], "*")); k == "de" || k == "from" {
				start = i
			}
		}
		if start < 0 {
			continue
		}
		f, sent, end := readForwardHeaders(lines, start)
		if f == nil || (!gmail && !sent) || f.Subject == "" && !gmail {
			// A block starting further down these header lines would
			// see fewer of them: go on after them.
			i = max(i, end-1)
			continue
		}
		f.Text = strings.TrimSpace(strings.Join(lines[end:], "\n"))
		return f
	}
	return nil
}

// readForwardHeaders reads the header lines of a forwarded block from
// lines[start:] (at most 12, blank lines before the first skipped): the
// original's sender and subject, whether a sent/date line was there, and
// where the original's text starts. nil when there is no sender address.
func readForwardHeaders(lines []string, start int) (*ticket.Forwarded, bool, int) {
	f := &ticket.Forwarded{}
	sent, seen, i := false, 0, start
	for ; i < len(lines) && i < start+14; i++ {
		l := strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(lines[i]), ">"))
		if l == "" {
			if seen == 0 {
				continue
			}
			break
		}
		m := fwdHeaderRE.FindStringSubmatch(l)
		if m == nil {
			break
		}
		seen++
		v := strings.TrimSpace(m[2])
		switch strings.ToLower(strings.Trim(m[1], "*")) {
		case "de", "from":
			if f.From.Email == "" {
				f.From = forwardAddress(v)
			}
		case "enviado", "sent", "fecha", "date":
			sent = true
		case "asunto", "subject":
			f.Subject = Clean(v)
		}
	}
	if f.From.Email == "" {
		return nil, false, i
	}
	return f, sent, i
}

// forwardAddress reads "Name <addr>", "Name [mailto:addr]" (Outlook's
// plain text) or a bare address.
func forwardAddress(v string) ticket.Address {
	v = strings.NewReplacer("[mailto:", "<", "]", ">").Replace(v)
	email := bareAddress(v)
	if email == "" {
		return ticket.Address{}
	}
	name := v
	if i := strings.LastIndex(name, "<"); i >= 0 {
		name = name[:i]
	}
	name = strings.Trim(strings.TrimSpace(name), `"'`)
	if strings.Contains(name, "@") {
		name = ""
	}
	return ticket.Address{Name: Clean(name), Email: email}
}

// forwardedAttached reads the original of a message/rfc822 attachment.
func forwardedAttached(in *ticket.Inbound, depth int) *ticket.Forwarded {
	for _, a := range in.Attachments {
		if !strings.EqualFold(a.ContentType, "message/rfc822") || len(a.Data) == 0 {
			continue
		}
		inner, _ := parse(a.Data, depth+1)
		if inner == nil || inner.From.Email == "" {
			continue
		}
		return &ticket.Forwarded{From: inner.From, Subject: inner.Subject, Text: strings.TrimSpace(inner.Text), Attached: true}
	}
	return nil
}
