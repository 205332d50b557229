package mailin

import (
	"regexp"
	"strings"

	"github.com/mesadeservicios/mesa/ticket"
)

var (
	// Subjects of delivery failure reports.
	bounceSubjectRE = regexp.MustCompile(`(?i)^\s*(undeliverable|undelivered mail|mail delivery (failed|failure)|delivery status notification \((failure|delay)\)|returned mail|no se puede entregar|no se pudo entregar|entrega fallida|error de entrega)`)
	statusRE        = regexp.MustCompile(`(?im)^\s*(status|diagnostic-code)\s*:\s*(.+)$`)
	messageIDRE     = regexp.MustCompile(`(?im)^message-id\s*:\s*<([^<>\s]+)>`)
	// In-Reply-To and References of the bounced message, in a DSN's
	// embedded headers: they lead to the ticket when the Message-ID does not.
	threadIDsRE = regexp.MustCompile(`(?im)^(in-reply-to|references)\s*:\s*((?:\s*<[^>\s]+>)+)`)
	finalRcptRE = regexp.MustCompile(`(?im)^final-recipient\s*:\s*rfc822\s*;\s*<?([^<>\s]+)>?`)
)

// reportWhy says why a message is taken for a delivery report, or "".
func reportWhy(in *ticket.Inbound) string {
	local, _, _ := strings.Cut(strings.ToLower(in.From.Email), "@")
	switch {
	case in.Bounce:
		return "multipart/report"
	case local == "mailer-daemon":
		return "sender mailer-daemon"
	case local == "postmaster":
		return "sender postmaster"
	case bounceSubjectRE.MatchString(in.Subject):
		return "subject"
	}
	return ""
}

// maxReportScan bounds how much of each part the report reader scans.
const maxReportScan = 1 << 20

// readReport reads a bounce (RFC 3464 or a free-form one) from the parsed
// message. Its input is mail from the network: nothing here may fail.
func readReport(in *ticket.Inbound, why string) *ticket.DeliveryReport {
	r := &ticket.DeliveryReport{Why: why, MessageIDs: append(append([]string(nil), in.InReplyTo...), in.References...)}
	capped := func(b []byte) string { return string(b[:min(len(b), maxReportScan)]) }
	text := in.Text[:min(len(in.Text), maxReportScan)]
	for _, a := range in.Attachments {
		data := capped(a.Data)
		for _, m := range messageIDRE.FindAllStringSubmatch(data, -1) {
			r.MessageIDs = append(r.MessageIDs, m[1])
		}
		if s := statusRE.FindAllStringSubmatch(data, -1); len(s) > 0 && r.Status == "" {
			var parts []string
			for _, x := range s {
				parts = append(parts, strings.TrimSpace(x[2]))
			}
			r.Status = strings.Join(parts, "; ")
		}
		switch strings.ToLower(a.ContentType) {
		case "message/delivery-status", "message/global-delivery-status":
			r.Recipients = append(r.Recipients, dsnRecipients(data)...)
		}
	}
	for _, m := range messageIDRE.FindAllStringSubmatch(text, -1) {
		r.MessageIDs = append(r.MessageIDs, m[1])
	}
	scan := func(data string) {
		if m := finalRcptRE.FindStringSubmatch(data); m != nil && r.Recipient == "" {
			r.Recipient = strings.ToLower(m[1])
		}
		for _, m := range threadIDsRE.FindAllStringSubmatch(data, -1) {
			for _, id := range angleIDRE.FindAllStringSubmatch(m[2], -1) {
				r.ThreadIDs = append(r.ThreadIDs, id[1])
			}
		}
	}
	scan(text)
	for _, a := range in.Attachments {
		scan(capped(a.Data))
	}
	if r.Status == "" {
		r.Status = in.Subject
	}
	return r
}

// maxDSNRecipients bounds the per-recipient blocks kept from one report.
const maxDSNRecipients = 1000

// dsnRecipients reads the per-recipient blocks of a message/delivery-status
// body (RFC 3464 §2.3): header-like fields, blocks separated by blank
// lines, the first block being per-message.
func dsnRecipients(body string) []ticket.DSNRecipient {
	var out []ticket.DSNRecipient
	var cur *ticket.DSNRecipient
	var last string // the field a continuation line extends
	flush := func() {
		if cur != nil && (cur.Final != "" || cur.Original != "") && len(out) < maxDSNRecipients {
			out = append(out, *cur)
		}
		cur, last = nil, ""
	}
	for _, line := range strings.Split(strings.ReplaceAll(body, "\r\n", "\n"), "\n") {
		if strings.TrimSpace(line) == "" {
			flush()
			continue
		}
		if (line[0] == ' ' || line[0] == '\t') && cur != nil && last == "diagnostic-code" {
			cur.Diagnostic = strings.TrimSpace(cur.Diagnostic + " " + strings.TrimSpace(line))
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		k, v = strings.ToLower(strings.TrimSpace(k)), Clean(strings.TrimSpace(v))
		last = k
		if cur == nil {
			cur = &ticket.DSNRecipient{}
		}
		switch k {
		case "final-recipient":
			cur.Final = dsnAddress(v)
		case "original-recipient":
			cur.Original = dsnAddress(v)
		case "action":
			cur.Action = strings.ToLower(firstWord(v))
		case "status":
			cur.Status = firstWord(v)
		case "diagnostic-code":
			cur.Diagnostic = v
		case "remote-mta":
			_, mta, _ := strings.Cut(v, ";")
			cur.RemoteMTA = strings.TrimSpace(mta)
		}
	}
	flush()
	return out
}

// dsnAddress reads "rfc822; <Ana@X.co>" as "ana@x.co".
func dsnAddress(v string) string {
	if _, a, ok := strings.Cut(v, ";"); ok {
		v = a
	}
	v = strings.Trim(strings.TrimSpace(v), "<>")
	if strings.ContainsAny(v, " \t<>") {
		return ""
	}
	return strings.ToLower(v)
}

func firstWord(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return ""
}
