// Package testsmtp is an in-process SMTP server for tests
// (github.com/emersion/go-smtp): it records the mail it accepts and can
// answer with faults. The demo (internal/demo) runs it too, with Listen and
// a Deliver function that puts mail into the demo's mailboxes.
package testsmtp

import (
	"io"
	"net"
	"strings"
	"sync"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"
)

// T is what the helpers need of a test.
type T interface {
	Helper()
	Fatal(args ...any)
	Cleanup(func())
}

// Sink is a running server.
type Sink struct {
	Addr   string
	Server *gosmtp.Server // to change MaxMessageBytes (advertised as SIZE)

	// Users, when set, makes the server require AUTH PLAIN or LOGIN with
	// one of these user → password pairs.
	Users map[string]string
	// Bearer, when set, makes the server offer AUTH XOAUTH2 (Microsoft
	// 365, Google) and accept a user and access token it approves.
	Bearer func(user, token string) bool

	deliver func(to []string, raw []byte) error

	mu    sync.Mutex
	got   [][]byte
	rcpts [][]string
	froms []string // envelope senders (MAIL FROM) of got, in order
	fail  []error
	authd []string // users who authenticated, in order
}

// Start listens on addr ("" for a free loopback port); the errors in fail
// answer the first DATA commands, in order (nil accepts). It stops when t
// ends.
func Start(t T, addr string, fail ...error) *Sink {
	t.Helper()
	s, err := Listen(addr, Options{Fail: fail})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Options configure a Sink started with Listen.
type Options struct {
	// Fail answers the first DATA commands, in order (nil accepts).
	Fail []error
	// Deliver, when set, receives every accepted mail with its envelope
	// recipients instead of the Sink keeping it (Messages stays empty); an
	// error refuses the mail with 550.
	Deliver func(to []string, raw []byte) error
	// MaxMessageBytes is advertised as SIZE and enforced [1 MiB].
	MaxMessageBytes int64
}

// Listen starts a server on addr ("" for a free loopback port) outside a
// test; Close stops it.
func Listen(addr string, o Options) (*Sink, error) {
	s := &Sink{fail: o.Fail, deliver: o.Deliver}
	s.Server = gosmtp.NewServer(s)
	s.Server.Domain, s.Server.AllowInsecureAuth = "localhost", true
	s.Server.MaxMessageBytes = 1 << 20
	if o.MaxMessageBytes > 0 {
		s.Server.MaxMessageBytes = o.MaxMessageBytes
	}
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s.Addr = ln.Addr().String()
	go s.Server.Serve(ln)
	return s, nil
}

// Close stops the server.
func (s *Sink) Close() error { return s.Server.Close() }

// Messages returns the accepted mail, in order.
func (s *Sink) Messages() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.got...)
}

// EnvelopeSenders returns the MAIL FROM of each accepted mail, in the
// order of Messages.
func (s *Sink) EnvelopeSenders() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.froms...)
}

// NewSession implements gosmtp.Backend.
func (s *Sink) NewSession(*gosmtp.Conn) (gosmtp.Session, error) { return &session{s: s}, nil }

type session struct {
	s    *Sink
	from string
	to   []string
	user string
}

// AuthMechanisms implements gosmtp.AuthSession.
func (ss *session) AuthMechanisms() []string {
	var m []string
	if ss.s.Users != nil {
		m = append(m, "PLAIN", "LOGIN")
	}
	if ss.s.Bearer != nil {
		m = append(m, "XOAUTH2")
	}
	return m
}

// Auth implements gosmtp.AuthSession.
func (ss *session) Auth(mech string) (sasl.Server, error) {
	check := func(user, pass string) error {
		if want, ok := ss.s.Users[user]; !ok || want != pass {
			return &gosmtp.SMTPError{Code: 535, EnhancedCode: gosmtp.EnhancedCode{5, 7, 8}, Message: "bad credentials"}
		}
		ss.user = user
		ss.s.mu.Lock()
		ss.s.authd = append(ss.s.authd, mech+":"+user)
		ss.s.mu.Unlock()
		return nil
	}
	switch mech {
	case "PLAIN":
		return sasl.NewPlainServer(func(_, user, pass string) error { return check(user, pass) }), nil
	case "LOGIN":
		return &loginServer{check: check}, nil
	case "XOAUTH2":
		if ss.s.Bearer == nil {
			break
		}
		return xoauth2Server(func(user, token string) error {
			if !ss.s.Bearer(user, token) {
				return &gosmtp.SMTPError{Code: 535, EnhancedCode: gosmtp.EnhancedCode{5, 7, 8}, Message: "bad token"}
			}
			ss.user = user
			ss.s.mu.Lock()
			ss.s.authd = append(ss.s.authd, mech+":"+user)
			ss.s.mu.Unlock()
			return nil
		}), nil
	}
	return nil, gosmtp.ErrAuthUnknownMechanism
}

// Authenticated returns "MECH:user" for every successful AUTH.
func (s *Sink) Authenticated() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.authd...)
}

// loginServer is the server side of the obsolete but common LOGIN
// mechanism (draft-murchison-sasl-login), which go-sasl does not have.
type loginServer struct {
	check func(user, pass string) error
	user  string
	step  int
}

func (l *loginServer) Next(resp []byte) ([]byte, bool, error) {
	switch l.step {
	case 0:
		l.step++
		if len(resp) > 0 { // initial response carries the user name
			l.user, l.step = string(resp), 2
			return []byte("Password:"), false, nil
		}
		return []byte("Username:"), false, nil
	case 1:
		l.user, l.step = string(resp), 2
		return []byte("Password:"), false, nil
	default:
		return nil, true, l.check(l.user, string(resp))
	}
}

func (ss *session) Reset()        { ss.to = nil }
func (ss *session) Logout() error { return nil }
func (ss *session) Mail(from string, _ *gosmtp.MailOptions) error {
	ss.from = from
	return nil
}
func (ss *session) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.s.mu.Lock()
	defer ss.s.mu.Unlock()
	if len(ss.s.fail) > 0 {
		f := ss.s.fail[0]
		ss.s.fail = ss.s.fail[1:]
		if f != nil {
			return f
		}
	}
	if ss.s.deliver != nil {
		if err := ss.s.deliver(ss.to, b); err != nil {
			return &gosmtp.SMTPError{Code: 550, EnhancedCode: gosmtp.EnhancedCode{5, 1, 1}, Message: err.Error()}
		}
		return nil
	}
	ss.s.got = append(ss.s.got, b)
	ss.s.rcpts = append(ss.s.rcpts, ss.to)
	ss.s.froms = append(ss.s.froms, ss.from)
	return nil
}

// xoauth2Server reads the one XOAUTH2 response: "user=" user ^A
// "auth=Bearer " token ^A ^A.
type xoauth2Server func(user, token string) error

func (f xoauth2Server) Next(resp []byte) ([]byte, bool, error) {
	if resp == nil {
		return []byte{}, false, nil // ask for the initial response
	}
	var user, token string
	for _, kv := range strings.Split(string(resp), "\x01") {
		if v, ok := strings.CutPrefix(kv, "user="); ok {
			user = v
		} else if v, ok := strings.CutPrefix(kv, "auth=Bearer "); ok {
			token = v
		}
	}
	if err := f(user, token); err != nil {
		return nil, false, err
	}
	return nil, true, nil
}
