package mailin_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/mailin"
	"github.com/mesadeservicios/mesa/ticket"
)

// authGolden is what a provider sample in testdata/auth must parse to.
type authGolden struct {
	From         string              `json:"from"`
	Sender       string              `json:"sender,omitempty"`
	ReplyTo      []string            `json:"reply_to,omitempty"`
	OriginalFrom string              `json:"original_from,omitempty"`
	ListID       string              `json:"list_id,omitempty"`
	AuthResults  []ticket.AuthHeader `json:"auth_results"`
	Exchange     ticket.Exchange     `json:"exchange"`
}

func authSamples(t testing.TB) []string {
	files, err := filepath.Glob("testdata/auth/*.eml")
	if err != nil || len(files) < 15 {
		t.Fatalf("want at least 15 auth samples, got %d (%v)", len(files), err)
	}
	return files
}

// TestAuthSamplesGolden parses real-world header samples (Exchange Online,
// Gmail, OpenDKIM+OpenDMARC, rspamd, amavis, and hostile ones) and compares
// every fact with the golden file. go test -run AuthSamples -update
// rewrites the golden files from what the parser does: review the diff.
func TestAuthSamplesGolden(t *testing.T) {
	for _, f := range authSamples(t) {
		name := strings.TrimSuffix(filepath.Base(f), ".eml")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			in, err := mailin.Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			got := authGolden{From: in.From.Email, Sender: in.Sender.Email, OriginalFrom: in.OriginalFrom.Email,
				ListID: in.ListID, AuthResults: in.AuthResults, Exchange: in.Exchange}
			for _, a := range in.ReplyTo {
				got.ReplyTo = append(got.ReplyTo, a.Email)
			}
			b, _ := json.MarshalIndent(got, "", " ")
			b = append(b, '\n')
			gpath := strings.TrimSuffix(f, ".eml") + ".golden.json"
			if *update {
				if err := os.WriteFile(gpath, b, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(gpath)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(b, want) {
				t.Errorf("facts differ from %s:\ngot:\n%s\nwant:\n%s", gpath, b, want)
			}
		})
	}
}

func sample(t *testing.T, name string) *ticket.Inbound {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata/auth", name+".eml"))
	if err != nil {
		t.Fatal(err)
	}
	in, err := mailin.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func methods(h ticket.AuthHeader) string {
	var m []string
	for _, r := range h.Results {
		m = append(m, r.Method+"="+r.Result)
	}
	return strings.Join(m, " ")
}

// The facts the hostile samples are about, stated by hand so that a wrong
// golden file regenerated with -update cannot hide them.
func TestAuthSamplesHostile(t *testing.T) {
	tests := []struct {
		sample string
		check  func(t *testing.T, in *ticket.Inbound)
	}{
		{"mal-semicolon-in-comment", func(t *testing.T, in *ticket.Inbound) {
			h := in.AuthResults[0]
			if got := methods(h); got != "dmarc=fail" {
				t.Errorf("results: got %q, want only dmarc=fail", got)
			}
			if c := h.Results[0].Comments; len(c) != 1 || c[0] != "p=reject; dmarc=pass header.from=entidad.gov.co" {
				t.Errorf("comments: got %q", c)
			}
		}},
		{"mal-nested-comment", func(t *testing.T, in *ticket.Inbound) {
			if got := methods(in.AuthResults[0]); got != "dkim=fail dmarc=fail" {
				t.Errorf("results: got %q, want dkim=fail dmarc=fail", got)
			}
		}},
		{"rspamd-quoted-mailfrom", func(t *testing.T, in *ticket.Inbound) {
			h := in.AuthResults[0]
			if got := methods(h); got != "dkim=none spf=pass dmarc=fail" {
				t.Errorf("results: got %q", got)
			}
			spf := h.Find("spf")[0]
			if got := spf.Prop("smtp.mailfrom"); got != "x;dmarc=pass header.from=entidad.gov.co@atacante.example" {
				t.Errorf("smtp.mailfrom: got %q", got)
			}
			if got := spf.Prop("smtp.helo"); got != "h;dkim=pass header.d=entidad.gov.co" {
				t.Errorf("smtp.helo: got %q", got)
			}
			if got := h.Find("dmarc")[0].Reason; got != "SPF not aligned (relaxed), No valid DKIM" {
				t.Errorf("dmarc reason: got %q", got)
			}
		}},
		{"mal-forged-lower-same-id", func(t *testing.T, in *ticket.Inbound) {
			if len(in.AuthResults) != 2 {
				t.Fatalf("got %d headers, want 2", len(in.AuthResults))
			}
			if got := methods(in.AuthResults[0]); got != "dkim=none spf=fail dmarc=fail" {
				t.Errorf("topmost header: got %q; the order must be the message's", got)
			}
			if got := methods(in.AuthResults[1]); got != "dkim=pass dmarc=pass" {
				t.Errorf("lower header: got %q", got)
			}
		}},
		{"mal-unterminated-comment", func(t *testing.T, in *ticket.Inbound) {
			h := in.AuthResults[0]
			if h.Problem == "" || h.Results[0].Prop("header.from") != "" {
				t.Errorf("an unterminated comment swallows the rest: %+v", h)
			}
		}},
		{"opendkim-opendmarc-pass", func(t *testing.T, in *ticket.Inbound) {
			dkim := in.AuthResults[2].Find("dkim")
			if len(dkim) != 1 || dkim[0].Result != "pass" || dkim[0].Prop("header.d") != "entidad.gov.co" ||
				dkim[0].Prop("header.i") != "@entidad.gov.co" || dkim[0].Comments[0] != "2048-bit key; unprotected" {
				t.Errorf("OpenDKIM result: %+v", dkim)
			}
		}},
		{"opendkim-fail", func(t *testing.T, in *ticket.Inbound) {
			d := in.AuthResults[1].Results[0]
			if d.Result != "fail" || d.Reason != "signature verification failed" || d.Prop("header.b") != "ZZZZ" {
				t.Errorf("OpenDKIM failure: %+v", d)
			}
		}},
		{"eop-external-pass", func(t *testing.T, in *ticket.Inbound) {
			h := in.AuthResults[0]
			if h.AuthServID != "" || h.Problem != "" {
				t.Errorf("EOP header: authserv-id %q, problem %q", h.AuthServID, h.Problem)
			}
			if got := methods(h); got != "spf=pass dkim=pass dmarc=pass compauth=pass" {
				t.Errorf("results: got %q", got)
			}
			dmarc := h.Find("dmarc")[0]
			if dmarc.ExtraValue("action") != "none" || dmarc.Prop("header.from") != "proveedor.com.co" {
				t.Errorf("dmarc: %+v", dmarc)
			}
			if c := h.Find("compauth")[0]; c.Reason != "100" {
				t.Errorf("compauth reason: got %q, want 100", c.Reason)
			}
			if in.AuthResults[1].AuthServID != "mail.proveedor.com.co" {
				t.Errorf("the sender's own header comes second: %+v", in.AuthResults[1])
			}
			if in.Exchange.AuthAs != "Anonymous" || in.Exchange.CrossTenantID != "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0" {
				t.Errorf("exchange headers: %+v", in.Exchange)
			}
		}},
		{"eop-internal", func(t *testing.T, in *ticket.Inbound) {
			if in.Exchange.AuthAs != "Internal" || in.Exchange.AuthMechanism != "04" || in.Exchange.AuthSource == "" {
				t.Errorf("exchange headers: %+v", in.Exchange)
			}
			if got := methods(in.AuthResults[0]); got != "dkim=none dmarc=none" {
				t.Errorf("results: got %q", got)
			}
		}},
		{"gmail-pass", func(t *testing.T, in *ticket.Inbound) {
			h := in.AuthResults[0]
			if h.AuthServID != "mx.google.com" || methods(h) != "dkim=pass arc=pass spf=pass dmarc=pass" {
				t.Errorf("gmail: %q %q", h.AuthServID, methods(h))
			}
			if h.Find("dkim")[0].Prop("header.b") != "Qw3rTy+a" {
				t.Errorf("header.b: %+v", h.Find("dkim")[0])
			}
		}},
		{"gmail-group-rewrite", func(t *testing.T, in *ticket.Inbound) {
			if in.OriginalFrom.Email != "juan@otro.gov.co" || in.Sender.Email != "soporte-ti@entidad.gov.co" ||
				len(in.ReplyTo) != 1 || in.ReplyTo[0].Email != "juan@otro.gov.co" || in.ListID != "<soporte-ti.entidad.gov.co>" {
				t.Errorf("rewrite facts: original %v sender %v reply-to %v list %q", in.OriginalFrom, in.Sender, in.ReplyTo, in.ListID)
			}
			if in.Automatic != "" {
				t.Errorf("a List-Id alone is not automatic mail: %q", in.Automatic)
			}
		}},
		{"amavis-dkim", func(t *testing.T, in *ticket.Inbound) {
			if h := in.AuthResults[0]; h.AuthServID != "mail.entidad.gov.co" || methods(h) != "dkim=pass" {
				t.Errorf("amavis: %+v", h)
			}
		}},
		{"none-result", func(t *testing.T, in *ticket.Inbound) {
			if h := in.AuthResults[0]; !h.None || h.Version != "1" || len(h.Results) != 0 {
				t.Errorf("none: %+v", h)
			}
		}},
		{"no-header", func(t *testing.T, in *ticket.Inbound) {
			if in.AuthResults != nil {
				t.Errorf("got %+v, want none", in.AuthResults)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.sample, func(t *testing.T) { tc.check(t, sample(t, tc.sample)) })
	}
}

func TestParseAuthResults(t *testing.T) {
	tests := []struct {
		in, servID, results string
		problem             bool
	}{
		{"mx.x.co; dmarc=pass header.from=x.co", "mx.x.co", "dmarc=pass", false},
		{"mx.x.co 1; spf=pass smtp.mailfrom=a@x.co", "mx.x.co", "spf=pass", false},
		{`"quoted.id"; dkim=pass header.d=x.co`, "quoted.id", "dkim=pass", false},
		{"mx.x.co; dkim/1 = pass header.d = x.co", "mx.x.co", "dkim=pass", false},
		{"mx.x.co;\r\n\tdkim=pass\r\n header.d=x.co;", "mx.x.co", "dkim=pass", false},
		{"spf=pass smtp.mailfrom=x.co;dmarc=pass action=none header.from=x.co", "", "spf=pass dmarc=pass", false},
		{"mx.x.co; dmarc=pass (a (b ; c) d) header.from=x.co", "mx.x.co", "dmarc=pass", false},
		{`mx.x.co; dmarc=fail (a \) ; dmarc=pass) header.from=x.co`, "mx.x.co", "dmarc=fail", false},
		{`mx.x.co; spf=pass smtp.mailfrom="a\";dmarc=pass"@x.co`, "mx.x.co", "spf=pass", false},
		{"mx.x.co; dmarc", "mx.x.co", "", true},
		{"mx.x.co; =pass; dkim=pass header.d=x.co", "mx.x.co", "dkim=pass", true},
		{"mx.x.co; dmarc=pass garbage header.from=evil.co; dkim=fail", "mx.x.co", "dmarc=pass dkim=fail", true},
		{"", "", "", false},
		{";;;", "", "", false},
	}
	for _, tc := range tests {
		h := mailin.ParseAuthResults(tc.in)
		if h.AuthServID != tc.servID || methods(h) != tc.results || (h.Problem != "") != tc.problem {
			t.Errorf("%q: got id %q results %q problem %q; want %q %q problem %v", tc.in, h.AuthServID, methods(h), h.Problem,
				tc.servID, tc.results, tc.problem)
		}
	}
	// A property after an unreadable token is never taken.
	h := mailin.ParseAuthResults("mx.x.co; dmarc=pass garbage header.from=evil.co")
	if h.Results[0].Prop("header.from") != "" {
		t.Errorf("property after garbage: %+v", h.Results[0])
	}
}

// The tokenizer's work and output are linear in its input.
func TestParseAuthResultsBounded(t *testing.T) {
	for _, s := range []string{
		strings.Repeat("(", 16<<10),
		strings.Repeat(`"`, 16<<10),
		"mx.x.co" + strings.Repeat("; dkim=pass header.d=x.co", 2000),
		"mx.x.co; a=b " + strings.Repeat("x.y=z ", 3000),
		strings.Repeat(`\(`, 8<<10),
	} {
		start := time.Now()
		h := mailin.ParseAuthResults(s)
		if d := time.Since(start); d > 200*time.Millisecond {
			t.Errorf("%.20q…: %v", s, d)
		}
		if n := authSize(h); n > 4*len(s)+1024 {
			t.Errorf("%.20q…: output %d bytes for %d of input", s, n, len(s))
		}
		if len(h.Results) > mailin.MaxAuthResultsPerHeader {
			t.Errorf("%d results", len(h.Results))
		}
	}
}

// authSize is the bytes of text a parsed header holds.
func authSize(h ticket.AuthHeader) int {
	n := len(h.AuthServID) + len(h.Version) + len(h.Problem) + len(h.Raw)
	for _, r := range h.Results {
		n += len(r.Method) + len(r.MethodVersion) + len(r.Result) + len(r.Reason) + 16
		for _, c := range r.Comments {
			n += len(c) + 16
		}
		for _, p := range append(append([]ticket.AuthProp(nil), r.Props...), r.Extra...) {
			n += len(p.Type) + len(p.Property) + len(p.Value) + 16
		}
	}
	return n
}

// Authentication-Results values come from the network. The fuzz target
// asserts the bounds: no panic, output proportional to the input, linear
// time, and no ";" outside comments and quoted strings lost into a value.
func FuzzAuthResults(f *testing.F) {
	for _, p := range authSamples(f) {
		raw, _ := os.ReadFile(p)
		in, _ := mailin.Parse(raw)
		for _, h := range in.AuthResults {
			f.Add(h.Raw)
		}
	}
	for _, s := range []string{"", ";", "(", `"`, `\`, "a; b=c (d; e) f.g=\"h;i\"", "x; none", "spf=pass;dmarc=pass action=none"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		start := time.Now()
		h := mailin.ParseAuthResults(s)
		if d := time.Since(start); d > time.Second {
			t.Fatalf("%d bytes took %v", len(s), d)
		}
		if n := authSize(h); n > 8*len(s)+1024 {
			t.Fatalf("output %d bytes for %d of input", n, len(s))
		}
		if len(h.Results) > mailin.MaxAuthResultsPerHeader {
			t.Fatalf("%d results", len(h.Results))
		}
		for _, r := range h.Results {
			if r.Method == "" || r.Result == "" || strings.ContainsAny(r.Method+r.Result, " \t\r\n;=()\"") {
				t.Fatalf("result %+v from %q", r, s)
			}
			for _, p := range r.Props {
				if p.Type == "" || p.Property == "" || strings.ContainsAny(p.Type+p.Property, " \t;=") {
					t.Fatalf("property %+v from %q", p, s)
				}
			}
		}
	})
}
