package web

import (
	"net/http"
	"net/netip"
	"strings"
)

// maxHops bounds how many hops of a proxy header are looked at, from the
// right: more proxies than that in front of mesa is not a deployment.
const maxHops = 32

// clientAddr is the address a request comes from: its peer, unless the
// peer is one of TrustedProxies; then, walking the proxy header from the
// right (each proxy appends the peer it saw), the first hop that is not
// itself a trusted proxy. A client can write anything at the left of the
// header, but not at the right of what a trusted proxy appended. A hop
// that is not an address ("unknown", an obfuscated identifier) stops the
// walk at the last trusted proxy, the peer.
func (s *Server) clientAddr(r *http.Request) netip.Addr {
	peer, ok := peerAddr(r.RemoteAddr)
	if !ok || !s.trusted(peer) {
		return peer
	}
	var hops []string
	if s.o.ProxyHeader == "forwarded" {
		hops = forwardedFor(r.Header.Values("Forwarded"))
	} else {
		hops = forwardedList(r.Header.Values("X-Forwarded-For"))
	}
	last := peer
	for i := len(hops) - 1; i >= 0 && i >= len(hops)-maxHops; i-- {
		a, ok := parseHop(hops[i])
		if !ok {
			return last
		}
		if !s.trusted(a) {
			return a
		}
		last = a
	}
	return last
}

// clientKey is what per-address limits count: the client's IPv4 address,
// or its IPv6 /64 (one subscriber's network, which hands its hosts any
// address in it).
func (s *Server) clientKey(r *http.Request) string {
	a := s.clientAddr(r)
	if !a.IsValid() {
		return r.RemoteAddr
	}
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.o.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// peerAddr parses http.Request.RemoteAddr ("ip:port").
func peerAddr(remote string) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(remote); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	if a, err := netip.ParseAddr(remote); err == nil {
		return a.Unmap().WithZone(""), true
	}
	return netip.Addr{}, false
}

// parseHop reads one hop: an address, with or without a port, IPv6 with
// or without brackets.
func parseHop(h string) (netip.Addr, bool) {
	h = strings.TrimSpace(h)
	if a, ok := peerAddr(h); ok {
		return a, true
	}
	if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
		return peerAddr(h[1 : len(h)-1])
	}
	return netip.Addr{}, false
}

// forwardedList splits X-Forwarded-For values (several header lines are
// one list, in order) into hops.
func forwardedList(values []string) []string {
	var hops []string
	for _, v := range values {
		for _, h := range strings.Split(v, ",") {
			hops = append(hops, strings.TrimSpace(h))
		}
	}
	return hops
}

// forwardedFor returns the for= parameter of each element of Forwarded
// header values (RFC 7239 section 4), unquoted; an element without one
// gives "". Commas and semicolons inside quoted strings do not split.
func forwardedFor(values []string) []string {
	var hops []string
	for _, v := range values {
		for _, elem := range splitQuoted(v, ',') {
			var hop string
			for _, pair := range splitQuoted(elem, ';') {
				k, val, ok := strings.Cut(pair, "=")
				if ok && strings.EqualFold(strings.TrimSpace(k), "for") {
					hop = unquote(strings.TrimSpace(val))
				}
			}
			hops = append(hops, hop)
		}
	}
	return hops
}

// splitQuoted splits s at sep outside quoted strings (RFC 7230 section
// 3.2.6: "…" with \-escapes).
func splitQuoted(s string, sep byte) []string {
	var parts []string
	quoted, escaped, start := false, false, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case escaped:
			escaped = false
		case quoted && c == '\\':
			escaped = true
		case c == '"':
			quoted = !quoted
		case !quoted && c == sep:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

// unquote removes the quotes and escapes of a quoted string; a token is
// returned as it is.
func unquote(s string) string {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return s
	}
	var b strings.Builder
	s = s[1 : len(s)-1]
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
