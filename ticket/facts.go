package ticket

import "strings"

// AuthHeader is one Authentication-Results header field (RFC 8601), as
// parsed by package mailin. Headers keep their order in the message:
// topmost (the last one added, by the server closest to the desk) first.
// Nothing here is a verdict: which header to trust, and what a pass proves,
// is decided by the desk.
type AuthHeader struct {
	// AuthServID names the server that wrote the header ("mx.google.com").
	// Empty for Exchange Online Protection, whose header has none (an
	// RFC 8601 violation Microsoft documents as its format).
	AuthServID string `json:"authserv_id,omitempty"`
	Version    string `json:"version,omitempty"` // authres-version, "" when absent (meaning 1)
	// None is set for "authserv-id; none": the server checked nothing.
	None    bool         `json:"none,omitempty"`
	Results []AuthResult `json:"results,omitempty"`
	// Problem says what could not be read, at which offset; Results then
	// holds what came before it (and any later resinfo that could be
	// resynchronised on a top-level ";").
	Problem string `json:"problem,omitempty"`
	Raw     string `json:"raw"` // the field value as received, unfolded
}

// AuthResult is one resinfo of an Authentication-Results header:
// "dkim=pass (2048-bit key; unprotected) header.d=example.org".
type AuthResult struct {
	Method        string `json:"method"`                   // lower case: "dkim", "spf", "dmarc", "compauth"…
	MethodVersion string `json:"method_version,omitempty"` // "dkim/1" gives "1"
	Result        string `json:"result"`                   // lower case: "pass", "fail", "none"…
	Reason        string `json:"reason,omitempty"`         // reason=…, unquoted
	// Comments are the RFC 5322 comments inside this resinfo, without the
	// outer parentheses, in order ("2048-bit key; unprotected").
	Comments []string `json:"comments,omitempty"`
	// Props are the ptype.property=value pairs, in order.
	Props []AuthProp `json:"props,omitempty"`
	// Extra are key=value tokens outside RFC 8601's grammar, which
	// Exchange Online writes ("action=none"); Property holds the key.
	Extra []AuthProp `json:"extra,omitempty"`
}

// AuthProp is one property of a result: Type "header", Property "from",
// Value "example.org". Type and Property are lower case; Value is as
// written, with quotes removed and quoted-pairs resolved.
type AuthProp struct {
	Type     string `json:"type,omitempty"`
	Property string `json:"property"`
	Value    string `json:"value"`
}

// Prop returns the value of the first property "ptype.property" (lower
// case, e.g. "header.from"), or "".
func (r AuthResult) Prop(name string) string {
	for _, p := range r.Props {
		if p.Type+"."+p.Property == name {
			return p.Value
		}
	}
	return ""
}

// ExtraValue returns the value of the first non-RFC token key=value (e.g.
// "action"), or "".
func (r AuthResult) ExtraValue(key string) string {
	for _, p := range r.Extra {
		if p.Property == key {
			return p.Value
		}
	}
	return ""
}

// Find returns the results of one method (lower case), in order.
func (h AuthHeader) Find(method string) []AuthResult {
	var out []AuthResult
	for _, r := range h.Results {
		if r.Method == method {
			out = append(out, r)
		}
	}
	return out
}

// Exchange holds the raw values of the headers Exchange Online adds to
// mail it delivers. Exchange's header firewall removes the
// X-MS-Exchange-Organization-* headers from mail entering the organisation,
// so an outsider cannot set them; X-MS-Exchange-CrossTenant-* may be set by
// another tenant and only means something together with AuthAs.
type Exchange struct {
	AuthAs        string `json:"auth_as,omitempty"`         // X-MS-Exchange-Organization-AuthAs: Internal, Anonymous, Partner…
	AuthSource    string `json:"auth_source,omitempty"`     // X-MS-Exchange-Organization-AuthSource
	AuthMechanism string `json:"auth_mechanism,omitempty"`  // X-MS-Exchange-Organization-AuthMechanism
	CrossTenantID string `json:"cross_tenant_id,omitempty"` // X-MS-Exchange-CrossTenant-Id (the tenant GUID)
}

// DeliveryReport is what a delivery status notification (RFC 3464, or a
// free-form bounce) says. Nothing in it is proven: anyone can send a mail
// that looks like one.
type DeliveryReport struct {
	// Why says what made the mail a report: "multipart/report",
	// "sender mailer-daemon", "sender postmaster" or "subject".
	Why string
	// Recipients are the per-recipient fields of the message/delivery-status
	// part, in order; empty for a free-form report (then Recipient may still
	// have been found in its text).
	Recipients []DSNRecipient
	// Recipient is the first failed recipient (Final-Recipient), lower case.
	Recipient string
	// MessageIDs are the Message-IDs the report refers to, without angle
	// brackets: its own In-Reply-To and References, then the Message-ID of
	// the returned headers or message (text/rfc822-headers, message/rfc822,
	// or quoted in the text).
	MessageIDs []string
	// ThreadIDs are the In-Reply-To and References of the returned headers:
	// they lead to the ticket when the Message-ID does not.
	ThreadIDs []string
	// Status is the Status and Diagnostic-Code lines joined by "; ", or the
	// subject when there are none.
	Status string
}

// DSNRecipient is one per-recipient block of a message/delivery-status part.
type DSNRecipient struct {
	Final      string // Final-Recipient address, lower case, without "rfc822;"
	Original   string // Original-Recipient address, lower case
	Action     string // failed, delayed, delivered, relayed, expanded (lower case)
	Status     string // "5.1.1"
	Diagnostic string // Diagnostic-Code, as written
	RemoteMTA  string
}

// Permanent reports whether the recipient's status is a permanent failure
// (RFC 3463 class 5).
func (r DSNRecipient) Permanent() bool { return strings.HasPrefix(r.Status, "5.") }
