package web

import (
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestClientAddr(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8:ffff::/48")}
	for _, tc := range []struct {
		name, header, peer string
		values             []string
		want               string
	}{
		{"no proxy header", "x-forwarded-for", "198.51.100.7:5000", nil, "198.51.100.7"},
		{"untrusted peer's header ignored", "x-forwarded-for", "198.51.100.7:5000", []string{"203.0.113.9"}, "198.51.100.7"},
		{"trusted peer, one hop", "x-forwarded-for", "10.0.0.1:5000", []string{"203.0.113.9"}, "203.0.113.9"},
		{"forged left part ignored", "x-forwarded-for", "10.0.0.1:5000", []string{"1.1.1.1, 203.0.113.9"}, "203.0.113.9"},
		{"chain of trusted proxies", "x-forwarded-for", "10.0.0.1:5000", []string{"1.1.1.1, 203.0.113.9, 10.0.0.2"}, "203.0.113.9"},
		{"several header lines are one list", "x-forwarded-for", "10.0.0.1:5000", []string{"1.1.1.1", "203.0.113.9"}, "203.0.113.9"},
		{"hop with port", "x-forwarded-for", "10.0.0.1:5000", []string{"203.0.113.9:4711"}, "203.0.113.9"},
		{"IPv6 hop in brackets", "x-forwarded-for", "10.0.0.1:5000", []string{"[2001:db8::1]:4711"}, "2001:db8::1"},
		{"IPv4-mapped hop", "x-forwarded-for", "10.0.0.1:5000", []string{"::ffff:203.0.113.9"}, "203.0.113.9"},
		{"unknown hop stops at the proxy", "x-forwarded-for", "10.0.0.1:5000", []string{"203.0.113.9, unknown"}, "10.0.0.1"},
		{"every hop trusted", "x-forwarded-for", "10.0.0.1:5000", []string{"10.0.0.3, 10.0.0.2"}, "10.0.0.3"},
		{"empty header", "x-forwarded-for", "10.0.0.1:5000", []string{""}, "10.0.0.1"},
		{"IPv6 peer trusted", "x-forwarded-for", "[2001:db8:ffff::1]:443", []string{"203.0.113.9"}, "203.0.113.9"},
		{"forwarded, RFC 7239 example", "forwarded", "10.0.0.1:5000",
			[]string{`for="_gazonk"`, `For="[2001:db8:cafe::17]:4711"`, `for=192.0.2.60;proto=http;by=203.0.113.43`, `for=10.0.0.2`}, "192.0.2.60"},
		{"forwarded, quoted comma", "forwarded", "10.0.0.1:5000", []string{`for=203.0.113.9;ext="a,for=1.1.1.1"`}, "203.0.113.9"},
		{"forwarded, obfuscated client", "forwarded", "10.0.0.1:5000", []string{`for=_hidden, for=10.0.0.2`}, "10.0.0.2"},
		{"forwarded, element without for", "forwarded", "10.0.0.1:5000", []string{`for=203.0.113.9, proto=https`}, "10.0.0.1"},
		{"forwarded mode ignores X-Forwarded-For", "forwarded", "10.0.0.1:5000", nil, "10.0.0.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Server{o: Options{TrustedProxies: proxies, ProxyHeader: tc.header}}
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.peer
			name := "X-Forwarded-For"
			if tc.header == "forwarded" {
				name = "Forwarded"
				r.Header.Add("X-Forwarded-For", "1.1.1.1")
			} else {
				r.Header.Add("Forwarded", "for=1.1.1.1")
			}
			for _, v := range tc.values {
				r.Header.Add(name, v)
			}
			if got := s.clientAddr(r); got.String() != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestClientKeyIPv6Is64(t *testing.T) {
	s := &Server{}
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "[2001:db8:1:2:aaaa::1]:443"
	r2 := httptest.NewRequest("GET", "/", nil)
	r2.RemoteAddr = "[2001:db8:1:2:bbbb::9]:443"
	if a, b := s.clientKey(r), s.clientKey(r2); a != b || a != "2001:db8:1:2::/64" {
		t.Errorf("got %s and %s, want both 2001:db8:1:2::/64", a, b)
	}
}

// FuzzForwarded: any header gives at most one hop per comma-separated
// element, each no longer than the header, in time linear in it.
func FuzzForwarded(f *testing.F) {
	for _, s := range []string{`for=192.0.2.60;proto=http;by=203.0.113.43`, `For="[2001:db8:cafe::17]:4711", for=unknown`,
		`for="\"a,b\""`, `for=`, `"`, `for="\`, strings.Repeat(`for="x,`, 50)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		start := time.Now()
		hops := forwardedFor([]string{v})
		if len(hops) > strings.Count(v, ",")+1 {
			t.Errorf("%d hops from %d commas", len(hops), strings.Count(v, ","))
		}
		for _, h := range hops {
			if len(h) > len(v) {
				t.Errorf("hop %q longer than the header", h)
			}
		}
		s := &Server{o: Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0")}, ProxyHeader: "forwarded"}}
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = "10.0.0.1:1"
		r.Header.Set("Forwarded", v)
		if a := s.clientAddr(r); !a.IsValid() {
			t.Errorf("no address for %q", v)
		}
		if d := time.Since(start); d > time.Duration(len(v)+1000)*20*time.Microsecond+time.Second {
			t.Errorf("%d bytes took %s", len(v), d)
		}
	})
}
