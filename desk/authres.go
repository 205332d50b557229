package desk

import "strings"

// Authenticated reports whether a message's Authentication-Results headers
// (RFC 8601) show that its From domain was verified: a header added by the
// trusted authserv-id (the organisation's own mail server, which must
// remove headers claiming that id from incoming mail, RFC 8601 §5) with
// dmarc=pass, or dkim=pass for a signing domain aligned with the From
// domain. Headers from any other authserv-id are ignored: the sender could
// have written them.
func Authenticated(results []string, trustedID, fromDomain string) bool {
	fromDomain = strings.ToLower(strings.TrimSpace(fromDomain))
	if trustedID == "" || fromDomain == "" {
		return false
	}
	for _, h := range results {
		parts := strings.Split(unfold(h), ";")
		id := strings.Fields(strings.TrimSpace(parts[0]))
		if len(id) == 0 || !strings.EqualFold(id[0], trustedID) {
			continue
		}
		for _, res := range parts[1:] {
			f := strings.Fields(strings.TrimSpace(stripComments(res)))
			if len(f) == 0 {
				continue
			}
			method, result, _ := strings.Cut(strings.ToLower(f[0]), "=")
			if result != "pass" {
				continue
			}
			props := map[string]string{}
			for _, p := range f[1:] {
				if k, v, ok := strings.Cut(p, "="); ok {
					props[strings.ToLower(k)] = strings.ToLower(strings.Trim(v, `"`))
				}
			}
			switch method {
			case "dmarc":
				if hf := props["header.from"]; hf == "" || hf == fromDomain {
					return true
				}
			case "dkim":
				d := props["header.d"]
				if d == "" {
					if _, dom, ok := strings.Cut(props["header.i"], "@"); ok {
						d = dom
					}
				}
				if d != "" && (d == fromDomain || strings.HasSuffix(fromDomain, "."+d)) {
					return true // relaxed alignment (RFC 7489 §3.1.1)
				}
			}
		}
	}
	return false
}

func unfold(s string) string { return strings.Join(strings.Fields(s), " ") }

// stripComments removes RFC 5322 comments "( … )".
func stripComments(s string) string {
	var b strings.Builder
	depth := 0
	for _, r := range s {
		switch {
		case r == '(':
			depth++
		case r == ')' && depth > 0:
			depth--
		case depth == 0:
			b.WriteRune(r)
		}
	}
	return b.String()
}
