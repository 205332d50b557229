// Package auth decides which identity an inbound mail speaks for: the
// address mesa attributes it to, and whether the organisation's mail
// platform vouched for that address. It reads only facts package mailin
// found (ticket.Inbound: the parsed Authentication-Results headers of
// RFC 8601, Exchange Online's organisation headers) and imports no
// adapter, so the desk and `mesa auth explain` give the same verdict.
//
// The rule: the identity of a mail is its From address (RFC 5322 §3.6.2,
// the author, which is what DMARC aligns with, RFC 7489 §3.1). It is
// authenticated when the configured provider's verdict, read from the one
// header the provider trusts, passes for that From domain. Nothing else in
// the mail (Reply-To, Sender, X-Original-From) is ever authenticated: a
// pass for a list's or a desk alias's domain vouches for the list or the
// desk, not for the person it names.
package auth

import (
	"fmt"
	"strings"

	"github.com/mesadeservicios/mesa/ticket"
	"golang.org/x/net/publicsuffix"
)

// Provider names how a mail platform states its verdict.
type Provider string

// The providers.
const (
	// RFC8601 trusts the topmost Authentication-Results header whose
	// authserv-id is Policy.TrustedAuthServID (Postfix with OpenDKIM and
	// OpenDMARC, rspamd, amavis, any RFC 8601 server). The default.
	RFC8601 Provider = "rfc8601"
	// Microsoft365 trusts Exchange Online: internal mail by
	// X-MS-Exchange-Organization-AuthAs: Internal (and the tenant id when
	// set), otherwise the topmost header, which Exchange Online Protection
	// writes without an authserv-id, with dmarc=pass and compauth=pass.
	Microsoft365 Provider = "microsoft365"
	// Google trusts the topmost Authentication-Results of mx.google.com.
	Google Provider = "google"
	// None authenticates nothing: no staff mail ever acts.
	None Provider = "none"
)

// GoogleAuthServID is the authserv-id Gmail and Google Workspace write.
const GoogleAuthServID = "mx.google.com"

// Providers lists the valid provider names.
var Providers = []Provider{RFC8601, Microsoft365, Google, None}

// Valid reports whether p is one of Providers.
func (p Provider) Valid() bool {
	for _, q := range Providers {
		if p == q {
			return true
		}
	}
	return false
}

// Policy says how mail is authenticated.
type Policy struct {
	// Provider is how the verdict is read; "" means RFC8601.
	Provider Provider
	// TrustedAuthServID is the authserv-id of the organisation's server
	// (RFC8601); the server must remove headers claiming it from incoming
	// mail (RFC 8601 §5).
	TrustedAuthServID string
	// TenantID, when set, is the Microsoft 365 tenant whose internal mail
	// is trusted (X-MS-Exchange-CrossTenant-Id).
	TenantID string
	// Off accepts every mail as authenticated by its From (auth.require:
	// false), except From a desk address, which never acts.
	Off bool
	// Own are the desk's own addresses and aliases: mail From one of them
	// acts for nobody.
	Own []string
}

// The rules a verdict names (Verdict.Rule); part of `mesa auth explain
// --json`.
const (
	RuleExchangeInternal = "exchange-internal"     // AuthAs: Internal (and the tenant)
	RuleEOP              = "eop-dmarc-compauth"    // EOP's topmost header: dmarc=pass aligned, compauth=pass
	RuleDMARC            = "dmarc-pass"            // dmarc=pass, header.from = From domain
	RuleDKIM             = "dkim-pass-aligned"     // dkim=pass, header.d aligned with the From domain (relaxed)
	RuleOff              = "require-off"           // auth.require: false
	RuleNone             = "provider-none"         // auth.provider: none
	RuleDeskAlias        = "from-desk-alias"       // From is the desk's own: acts for nobody
	RuleNoFrom           = "no-from"               // no From address
	RuleAuthors          = "several-authors"       // From names more than one address
	RuleNoHeader         = "no-trusted-header"     // no header of the trusted server
	RuleFail             = "no-pass"               // the trusted header has no passing, aligned verdict
	RuleNotConfigured    = "no-trusted-authservid" // rfc8601 without auth.trusted_authserv_id
)

// Verdict is what a mail's identity is and why.
type Verdict struct {
	// From is the From address, lower case.
	From string `json:"from"`
	// Identity is the address mesa attributes the mail to: From, or for a
	// From of the desk's own (a list or Google Group that rewrote From)
	// the X-Original-From or Reply-To it names, never authenticated.
	Identity string `json:"identity"`
	// Authenticated is set when the provider vouched for Identity.
	Authenticated bool `json:"authenticated"`
	// Rule names the rule that decided (the Rule* constants).
	Rule string `json:"rule"`
	// Reason says, in English, which header was read and what it said.
	Reason string `json:"reason"`
}

// Explain decides the identity of in under the policy. It never fails:
// anything it cannot read is not authenticated, and Reason says why.
func (p Policy) Explain(in *ticket.Inbound) Verdict {
	from := strings.ToLower(strings.TrimSpace(in.From.Email))
	v := Verdict{From: from, Identity: from}
	if from == "" {
		v.Rule, v.Reason = RuleNoFrom, "the mail has no From address"
		return v
	}
	if in.Authors > 1 {
		v.Rule, v.Reason = RuleAuthors, "From names several authors: a verdict for the domain cannot say which one wrote, so none acts"
		return v
	}
	if p.own(from) {
		v.Identity = ""
		for _, a := range append([]ticket.Address{in.OriginalFrom}, in.ReplyTo...) {
			if e := strings.ToLower(strings.TrimSpace(a.Email)); e != "" && !p.own(e) {
				v.Identity = e
				break
			}
		}
		v.Rule = RuleDeskAlias
		v.Reason = "From " + from + " is one of the desk's own addresses: a verdict for it vouches for the desk's domain, never for the person named in X-Original-From or Reply-To"
		return v
	}
	_, domain, _ := strings.Cut(from, "@")
	if p.Off {
		v.Authenticated, v.Rule = true, RuleOff
		v.Reason = "auth.require is false: every From is believed"
		return v
	}
	switch p.Provider {
	case "", RFC8601:
		if p.TrustedAuthServID == "" {
			v.Rule, v.Reason = RuleNotConfigured, "auth.trusted_authserv_id is empty: no header can be trusted"
			return v
		}
		return serverVerdict(v, in.AuthResults, p.TrustedAuthServID, domain)
	case Google:
		return serverVerdict(v, in.AuthResults, GoogleAuthServID, domain)
	case Microsoft365:
		return p.exchange(v, in, domain)
	case None:
		v.Rule, v.Reason = RuleNone, "auth.provider is none: no mail is authenticated"
		return v
	}
	v.Rule, v.Reason = RuleNotConfigured, fmt.Sprintf("unknown auth.provider %q", p.Provider)
	return v
}

func (p Policy) own(addr string) bool {
	for _, a := range p.Own {
		if strings.EqualFold(strings.TrimSpace(a), addr) {
			return true
		}
	}
	return false
}

// serverVerdict reads the topmost header of authserv-id id, and only that
// one: the receiving server prepends its header (RFC 8601 §5, RFC 5321
// §4.4 trace order), so any lower header with the same id came with the
// mail and may be forged.
func serverVerdict(v Verdict, hs []ticket.AuthHeader, id, domain string) Verdict {
	for i, h := range hs {
		if !strings.EqualFold(h.AuthServID, id) {
			continue
		}
		where := fmt.Sprintf("Authentication-Results #%d (the topmost of %s)", i+1, id)
		rule, why, ok := pass(h, domain)
		v.Authenticated, v.Rule, v.Reason = ok, rule, where+": "+why
		return v
	}
	v.Rule, v.Reason = RuleNoHeader, "no Authentication-Results header of "+id
	return v
}

// pass finds, in one header, dmarc=pass with header.from equal to the From
// domain, or dkim=pass whose signing domain is aligned with it.
func pass(h ticket.AuthHeader, domain string) (string, string, bool) {
	var seen []string
	for _, r := range h.Results {
		switch r.Method {
		case "dmarc":
			hf := strings.ToLower(strings.TrimSpace(r.Prop("header.from")))
			switch {
			case r.Result != "pass":
				seen = append(seen, "dmarc="+r.Result)
			case hf == "":
				seen = append(seen, "dmarc=pass without header.from (for no domain in particular)")
			case hf != domain:
				seen = append(seen, "dmarc=pass for header.from="+hf+", not "+domain)
			default:
				return RuleDMARC, "dmarc=pass header.from=" + hf, true
			}
		case "dkim":
			d := signingDomain(r)
			switch {
			case r.Result != "pass":
				seen = append(seen, "dkim="+r.Result)
			case d == "":
				seen = append(seen, "dkim=pass without header.d")
			case !Aligned(d, domain):
				seen = append(seen, "dkim=pass for "+d+", not aligned with "+domain)
			default:
				return RuleDKIM, "dkim=pass header.d=" + d + " (aligned with " + domain + ")", true
			}
		}
	}
	if len(seen) == 0 {
		return RuleFail, "no dmarc or dkim result", false
	}
	return RuleFail, strings.Join(seen, "; "), false
}

// signingDomain is a DKIM result's header.d, or the domain of header.i
// (Gmail writes only header.i=@example.org).
func signingDomain(r ticket.AuthResult) string {
	d := strings.ToLower(strings.TrimSpace(r.Prop("header.d")))
	if d == "" {
		if _, dom, ok := strings.Cut(strings.ToLower(r.Prop("header.i")), "@"); ok {
			d = dom
		}
	}
	return strings.TrimSuffix(d, ".")
}

// Aligned reports relaxed identifier alignment (RFC 7489 §3.1.1): the two
// domains have the same organisational domain, which is the public suffix
// plus one label (the Public Suffix List: entidad.gov.co for
// mail.entidad.gov.co, never gov.co).
func Aligned(a, b string) bool {
	a, b = strings.ToLower(strings.TrimSuffix(a, ".")), strings.ToLower(strings.TrimSuffix(b, "."))
	if a == "" || b == "" {
		return false
	}
	if a == b {
		return true
	}
	oa, err := publicsuffix.EffectiveTLDPlusOne(a)
	if err != nil {
		return false
	}
	ob, err := publicsuffix.EffectiveTLDPlusOne(b)
	return err == nil && oa == ob
}

// exchange is the microsoft365 provider.
func (p Policy) exchange(v Verdict, in *ticket.Inbound, domain string) Verdict {
	x := in.Exchange
	if strings.EqualFold(x.AuthAs, "Internal") {
		if p.TenantID != "" && !strings.EqualFold(strings.TrimSpace(x.CrossTenantID), p.TenantID) {
			v.Rule = RuleFail
			v.Reason = fmt.Sprintf("X-MS-Exchange-Organization-AuthAs: Internal, but X-MS-Exchange-CrossTenant-Id %q is not auth.tenant_id", x.CrossTenantID)
			return v
		}
		v.Authenticated, v.Rule = true, RuleExchangeInternal
		v.Reason = "X-MS-Exchange-Organization-AuthAs: Internal (mail of a mailbox of the tenant; Exchange strips this header from mail entering the organisation)"
		if p.TenantID != "" {
			v.Reason += ", X-MS-Exchange-CrossTenant-Id is auth.tenant_id"
		}
		return v
	}
	if len(in.AuthResults) == 0 {
		v.Rule, v.Reason = RuleNoHeader, "not internal (AuthAs "+quoteOr(x.AuthAs, "absent")+") and no Authentication-Results header"
		return v
	}
	h := in.AuthResults[0]
	if h.AuthServID != "" {
		v.Rule = RuleNoHeader
		v.Reason = "not internal (AuthAs " + quoteOr(x.AuthAs, "absent") + ") and the topmost Authentication-Results is not Exchange Online Protection's (it has authserv-id " + h.AuthServID + ")"
		return v
	}
	where := "not internal (AuthAs " + quoteOr(x.AuthAs, "absent") + "); Authentication-Results #1 (Exchange Online Protection's)"
	var dmarc, comp string
	for _, r := range h.Results {
		switch r.Method {
		case "dmarc":
			if dmarc == "" {
				hf := strings.ToLower(strings.TrimSpace(r.Prop("header.from")))
				switch {
				case r.Result != "pass":
					dmarc = "dmarc=" + r.Result
				case hf != domain:
					dmarc = "dmarc=pass for header.from=" + quoteOr(hf, "nothing") + ", not " + domain
				default:
					dmarc = "ok"
				}
			}
		case "compauth":
			if comp == "" {
				comp = r.Result
			}
		}
	}
	switch {
	case dmarc == "ok" && comp == "pass":
		v.Authenticated, v.Rule = true, RuleEOP
		v.Reason = where + ": dmarc=pass header.from=" + domain + ", compauth=pass"
	case dmarc == "":
		v.Rule, v.Reason = RuleFail, where+": no dmarc result"
	case dmarc != "ok":
		v.Rule, v.Reason = RuleFail, where+": "+dmarc
	default:
		v.Rule, v.Reason = RuleFail, where+": dmarc=pass but compauth="+quoteOr(comp, "absent")
	}
	return v
}

func quoteOr(s, empty string) string {
	if s == "" {
		return empty
	}
	return s
}
