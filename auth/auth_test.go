package auth_test

import (
	"strings"
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/auth"
	"github.com/mesadeservicios/mesa/mailin"
	"github.com/mesadeservicios/mesa/ticket"
)

const trusted = "mx.entidad.gov.co"

var own = []string{"mesa@entidad.gov.co", "soporte@entidad.gov.co"}

// mail parses a message made of header lines (without From when from is
// empty) and a body.
func mail(t *testing.T, from string, headers ...string) *ticket.Inbound {
	t.Helper()
	raw := strings.Join(headers, "\r\n")
	if raw != "" {
		raw += "\r\n"
	}
	if from != "" {
		raw += "From: " + from + "\r\n"
	}
	raw += "To: mesa@entidad.gov.co\r\nSubject: x\r\nMessage-ID: <x@y>\r\n\r\nhola\r\n"
	in, err := mailin.Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func TestExplain(t *testing.T) {
	const carlos = "Carlos <carlos@entidad.gov.co>"
	rfc := auth.Policy{TrustedAuthServID: trusted, Own: own}
	m365 := auth.Policy{Provider: auth.Microsoft365, Own: own}
	tenant := auth.Policy{Provider: auth.Microsoft365, TenantID: "11111111-2222-3333-4444-555555555555", Own: own}
	google := auth.Policy{Provider: auth.Google, Own: own}
	for _, tc := range []struct {
		name     string
		p        auth.Policy
		in       *ticket.Inbound
		ok       bool
		rule     string
		identity string
	}{
		// rfc8601: positives.
		{"dmarc pass", rfc, mail(t, carlos, "Authentication-Results: mx.entidad.gov.co; dmarc=pass header.from=entidad.gov.co"), true, auth.RuleDMARC, ""},
		{"dkim aligned", rfc, mail(t, carlos, "Authentication-Results: mx.entidad.gov.co 1; dkim=pass (2048-bit key) header.d=entidad.gov.co"), true, auth.RuleDKIM, ""},
		{"dkim subdomain, relaxed", rfc, mail(t, "x@regional.entidad.gov.co", "Authentication-Results: mx.entidad.gov.co; dkim=pass header.d=mail.entidad.gov.co"), true, auth.RuleDKIM, ""},
		{"opendkim comment with a semicolon", rfc, mail(t, carlos, "Authentication-Results: mx.entidad.gov.co;\r\n\tdkim=pass (2048-bit key; unprotected) header.d=entidad.gov.co header.i=@entidad.gov.co"), true, auth.RuleDKIM, ""},
		{"case and folding", rfc, mail(t, carlos, "Authentication-Results: MX.Entidad.gov.co;\r\n\tDMARC=PASS header.from=Entidad.gov.co"), true, auth.RuleDMARC, ""},
		{"require off", auth.Policy{Off: true, Own: own}, mail(t, carlos), true, auth.RuleOff, ""},
		// rfc8601: negatives.
		{"bare dmarc=pass", rfc, mail(t, carlos, "Authentication-Results: mx.entidad.gov.co; dmarc=pass"), false, auth.RuleFail, ""},
		{"dmarc pass for another domain", rfc, mail(t, carlos, "Authentication-Results: mx.entidad.gov.co; dmarc=pass header.from=atacante.example"), false, auth.RuleFail, ""},
		{"lower forged header", rfc, mail(t, carlos, "Authentication-Results: mx.entidad.gov.co; dmarc=fail header.from=entidad.gov.co",
			"Authentication-Results: mx.entidad.gov.co; dmarc=pass header.from=entidad.gov.co"), false, auth.RuleFail, ""},
		{"dkim of a public suffix sibling", rfc, mail(t, carlos, "Authentication-Results: mx.entidad.gov.co; dkim=pass header.d=atacante.gov.co"), false, auth.RuleFail, ""},
		{"dkim of the public suffix", rfc, mail(t, carlos, "Authentication-Results: mx.entidad.gov.co; dkim=pass header.d=gov.co"), false, auth.RuleFail, ""},
		{"semicolon in a comment", rfc, mail(t, carlos, "Authentication-Results: mx.entidad.gov.co; dmarc=fail (p=reject; dmarc=pass header.from=entidad.gov.co) header.from=entidad.gov.co"), false, auth.RuleFail, ""},
		{"quoted smtp.mailfrom", rfc, mail(t, carlos, `Authentication-Results: mx.entidad.gov.co; spf=pass smtp.mailfrom="x;dmarc=pass header.from=entidad.gov.co"@evil.example; dmarc=fail header.from=entidad.gov.co`), false, auth.RuleFail, ""},
		{"other authserv-id", rfc, mail(t, carlos, "Authentication-Results: attacker.example; dmarc=pass header.from=entidad.gov.co"), false, auth.RuleNoHeader, ""},
		{"spf only", rfc, mail(t, carlos, "Authentication-Results: mx.entidad.gov.co; spf=pass smtp.mailfrom=entidad.gov.co"), false, auth.RuleFail, ""},
		{"no trusted id configured", auth.Policy{Own: own}, mail(t, carlos, "Authentication-Results: ; dmarc=pass header.from=entidad.gov.co"), false, auth.RuleNotConfigured, ""},
		{"desk alias with a technician in Reply-To", rfc, mail(t, "Soporte <soporte@entidad.gov.co>", "Reply-To: carlos@entidad.gov.co",
			"X-Original-From: carlos@entidad.gov.co", "Authentication-Results: mx.entidad.gov.co; dmarc=pass header.from=entidad.gov.co"), false, auth.RuleDeskAlias, "carlos@entidad.gov.co"},
		{"desk alias, require off", auth.Policy{Off: true, Own: own}, mail(t, "soporte@entidad.gov.co", "Reply-To: carlos@entidad.gov.co"), false, auth.RuleDeskAlias, "carlos@entidad.gov.co"},
		{"no From", rfc, mail(t, ""), false, auth.RuleNoFrom, ""},
		// microsoft365.
		{"exchange internal", m365, mail(t, carlos, "X-MS-Exchange-Organization-AuthAs: Internal"), true, auth.RuleExchangeInternal, ""},
		{"exchange internal, tenant", tenant, mail(t, carlos, "X-MS-Exchange-Organization-AuthAs: Internal",
			"X-MS-Exchange-CrossTenant-Id: 11111111-2222-3333-4444-555555555555"), true, auth.RuleExchangeInternal, ""},
		{"exchange internal, other tenant", tenant, mail(t, carlos, "X-MS-Exchange-Organization-AuthAs: Internal",
			"X-MS-Exchange-CrossTenant-Id: 99999999-2222-3333-4444-555555555555"), false, auth.RuleFail, ""},
		{"eop pass", m365, mail(t, carlos, "Authentication-Results: spf=pass smtp.mailfrom=entidad.gov.co; dkim=pass header.d=entidad.gov.co;dmarc=pass action=none header.from=entidad.gov.co;compauth=pass reason=100",
			"X-MS-Exchange-Organization-AuthAs: Anonymous"), true, auth.RuleEOP, ""},
		{"eop dmarc pass, compauth fail", m365, mail(t, carlos, "Authentication-Results: dmarc=pass action=none header.from=entidad.gov.co;compauth=fail reason=001"), false, auth.RuleFail, ""},
		{"eop fail over a forged pass", m365, mail(t, carlos, "Authentication-Results: dmarc=fail action=oreject header.from=entidad.gov.co;compauth=fail reason=000",
			"Authentication-Results: dmarc=pass action=none header.from=entidad.gov.co;compauth=pass reason=100"), false, auth.RuleFail, ""},
		{"topmost is not EOP's", m365, mail(t, carlos, "Authentication-Results: mx.entidad.gov.co; dmarc=pass header.from=entidad.gov.co"), false, auth.RuleNoHeader, ""},
		{"eop bare dmarc pass", m365, mail(t, carlos, "Authentication-Results: dmarc=pass action=none;compauth=pass reason=100"), false, auth.RuleFail, ""},
		// google.
		{"gmail pass", google, mail(t, "ana.rojas@gmail.com", "Authentication-Results: mx.google.com;\r\n dkim=pass header.i=@gmail.com header.s=20230601;\r\n dmarc=pass (p=NONE sp=QUARANTINE dis=NONE) header.from=gmail.com"), true, auth.RuleDKIM, ""},
		{"gmail fail", google, mail(t, carlos, "Authentication-Results: mx.google.com; dmarc=fail (p=QUARANTINE) header.from=entidad.gov.co"), false, auth.RuleFail, ""},
		{"google ignores other servers", google, mail(t, carlos, "Authentication-Results: mx.entidad.gov.co; dmarc=pass header.from=entidad.gov.co"), false, auth.RuleNoHeader, ""},
		// none.
		{"provider none", auth.Policy{Provider: auth.None, Own: own}, mail(t, carlos, "X-MS-Exchange-Organization-AuthAs: Internal",
			"Authentication-Results: mx.entidad.gov.co; dmarc=pass header.from=entidad.gov.co"), false, auth.RuleNone, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := tc.p.Explain(tc.in)
			if v.Authenticated != tc.ok || v.Rule != tc.rule || v.Reason == "" {
				t.Errorf("got %+v, want authenticated %v by rule %s, with a reason", v, tc.ok, tc.rule)
			}
			want := tc.identity
			if want == "" {
				want = strings.ToLower(tc.in.From.Email)
			}
			if v.Identity != want {
				t.Errorf("identity: got %q, want %q", v.Identity, want)
			}
		})
	}
}

func TestAligned(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"entidad.gov.co", "entidad.gov.co", true},
		{"mail.entidad.gov.co", "entidad.gov.co", true},
		{"Entidad.GOV.co.", "regional.entidad.gov.co", true},
		{"gov.co", "entidad.gov.co", false},
		{"otra.gov.co", "entidad.gov.co", false},
		{"example.com", "example.com.evil.org", false},
		{"", "x.co", false},
	} {
		if got := auth.Aligned(c.a, c.b); got != c.want {
			t.Errorf("Aligned(%q, %q): got %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

func TestVERP(t *testing.T) {
	v := auth.VERP{Address: "mesa@entidad.gov.co", Secret: []byte("0123456789abcdef")}
	rp := v.ReturnPath(42)
	if !strings.HasPrefix(rp, "mesa+b.42.") || !strings.HasSuffix(rp, "@entidad.gov.co") || len(rp) > 64+len("@entidad.gov.co") {
		t.Fatalf("return path: got %q", rp)
	}
	if id, ok := v.Row(strings.ToUpper(rp)); !ok || id != 42 {
		t.Errorf("Row(%q): got %d %v, want 42", rp, id, ok)
	}
	other := auth.VERP{Address: v.Address, Secret: []byte("another secret!!")}
	for _, bad := range []string{
		"mesa@entidad.gov.co", strings.Replace(rp, "+b.42.", "+b.43.", 1), other.ReturnPath(42),
		strings.Replace(rp, "@entidad.gov.co", "@otra.gov.co", 1), "otro+b.42." + rp[len("mesa+b.42."):],
		"mesa+b.042." + rp[len("mesa+b.42."):], "mesa+b..x@entidad.gov.co", "mesa+b.-1.x@entidad.gov.co",
	} {
		if id, ok := v.Row(bad); ok {
			t.Errorf("Row(%q): got %d, want no row", bad, id)
		}
	}
	if got := (auth.VERP{Address: "mesa@entidad.gov.co"}).ReturnPath(42); got != "mesa@entidad.gov.co" {
		t.Errorf("without a secret: got %q, want the plain address", got)
	}
}

// FuzzExplain: whatever the headers say, only the topmost header of the
// trusted server, with a pass for the From domain, authenticates; and the
// verdict costs time linear in the input.
func FuzzExplain(f *testing.F) {
	for _, s := range []string{
		"mx.entidad.gov.co; dkim=pass header.d=entidad.gov.co; dmarc=pass header.from=entidad.gov.co",
		"mx.entidad.gov.co; dmarc=fail", "otro.example; dmarc=pass header.from=entidad.gov.co", "", ";;;",
		"mx.entidad.gov.co (comment; dmarc=pass)", "dmarc=pass action=none header.from=entidad.gov.co;compauth=pass",
	} {
		f.Add(s, "mx.entidad.gov.co; dmarc=pass header.from=entidad.gov.co")
	}
	p := auth.Policy{TrustedAuthServID: trusted, Own: own}
	f.Fuzz(func(t *testing.T, top, lower string) {
		in := &ticket.Inbound{From: ticket.Address{Email: "carlos@entidad.gov.co"},
			AuthResults: []ticket.AuthHeader{mailin.ParseAuthResults(top), mailin.ParseAuthResults(lower)}}
		start := time.Now()
		v := p.Explain(in)
		if d := time.Since(start); d > time.Second {
			t.Fatalf("Explain took %s on %d bytes", d, len(top)+len(lower))
		}
		lowTop := strings.ToLower(top)
		if v.Authenticated && in.AuthResults[0].AuthServID != "" && !strings.EqualFold(in.AuthResults[0].AuthServID, trusted) {
			// The topmost was another server's: the lower one decided, so
			// it must be the first with the trusted id.
			if !strings.EqualFold(in.AuthResults[1].AuthServID, trusted) {
				t.Fatalf("authenticated by no header of %s: %q / %q", trusted, top, lower)
			}
		}
		if v.Authenticated && strings.EqualFold(in.AuthResults[0].AuthServID, trusted) && !strings.Contains(lowTop, "pass") {
			t.Fatalf("authenticated though the topmost trusted header has no pass: %q", top)
		}
		if v.Authenticated && strings.EqualFold(in.AuthResults[0].AuthServID, trusted) && !strings.Contains(lowTop, "entidad.gov.co") {
			t.Fatalf("authenticated without the From domain in the trusted header: %q", top)
		}
	})
}
