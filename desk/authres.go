package desk

import (
	"strings"

	"github.com/mesadeservicios/mesa/ticket"
)

// Authenticated reports whether a message's Authentication-Results headers
// (RFC 8601, parsed by mailin) show that its From domain was verified: a
// header added by the trusted authserv-id (the organisation's own mail
// server, which must remove headers claiming that id from incoming mail,
// RFC 8601 §5) with dmarc=pass, or dkim=pass for a signing domain aligned
// with the From domain. Headers from any other authserv-id are ignored: the
// sender could have written them.
func Authenticated(results []ticket.AuthHeader, trustedID, fromDomain string) bool {
	fromDomain = strings.ToLower(strings.TrimSpace(fromDomain))
	if trustedID == "" || fromDomain == "" {
		return false
	}
	for _, h := range results {
		if !strings.EqualFold(h.AuthServID, trustedID) {
			continue
		}
		for _, res := range h.Results {
			if res.Result != "pass" {
				continue
			}
			switch res.Method {
			case "dmarc":
				if hf := strings.ToLower(res.Prop("header.from")); hf == "" || hf == fromDomain {
					return true
				}
			case "dkim":
				d := strings.ToLower(res.Prop("header.d"))
				if d == "" {
					if _, dom, ok := strings.Cut(strings.ToLower(res.Prop("header.i")), "@"); ok {
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
