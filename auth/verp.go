package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"strconv"
	"strings"
)

// VERP is a per-message return path (variable envelope return path): the
// SMTP MAIL FROM of outbox row N is <local>+b.<N>.<mac>@<domain>, where
// mac is an HMAC-SHA256 of N under Secret. A delivery report is sent to
// the return path (RFC 5321 §4.5.5, RFC 3464), so a report addressed to a
// valid one names the very row it bounces, and nobody without the secret
// can make one for another row. The mail server must deliver
// local+anything@domain to local@domain (subaddressing: Exchange Online
// "plus addressing", Postfix recipient_delimiter = +).
type VERP struct {
	// Address is the desk's address the return paths are made from.
	Address string
	// Secret keys the HMAC; at least 16 bytes.
	Secret []byte
}

// verpMAC is the length of the MAC in a return path, in base32 characters
// (80 bits).
const verpMAC = 16

var verpEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

func (v VERP) mac(id int64) string {
	h := hmac.New(sha256.New, v.Secret)
	h.Write([]byte("mesa-verp:" + strconv.FormatInt(id, 10)))
	return strings.ToLower(verpEncoding.EncodeToString(h.Sum(nil))[:verpMAC])
}

// ReturnPath is the envelope sender of outbox row id, or Address when
// VERP is not configured (no address or no secret) or id is not a row.
func (v VERP) ReturnPath(id int64) string {
	local, domain, ok := strings.Cut(v.Address, "@")
	if !ok || len(v.Secret) == 0 || id <= 0 {
		return v.Address
	}
	return local + "+b." + strconv.FormatInt(id, 10) + "." + v.mac(id) + "@" + domain
}

// Row returns the outbox row a return path names, when addr is one of
// v's with a valid MAC. Case is ignored (some servers lower the local
// part).
func (v VERP) Row(addr string) (int64, bool) {
	local, domain, ok := strings.Cut(strings.ToLower(strings.TrimSpace(addr)), "@")
	wantLocal, wantDomain, ok2 := strings.Cut(strings.ToLower(v.Address), "@")
	if !ok || !ok2 || len(v.Secret) == 0 || domain != wantDomain {
		return 0, false
	}
	rest, ok := strings.CutPrefix(local, wantLocal+"+b.")
	if !ok {
		return 0, false
	}
	num, mac, ok := strings.Cut(rest, ".")
	if !ok || len(num) == 0 || len(num) > 18 {
		return 0, false
	}
	id, err := strconv.ParseInt(num, 10, 64)
	if err != nil || id <= 0 || strconv.FormatInt(id, 10) != num {
		return 0, false
	}
	if !hmac.Equal([]byte(mac), []byte(v.mac(id))) {
		return 0, false
	}
	return id, true
}
