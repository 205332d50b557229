// Package testsmtp is an in-process SMTP server for tests
// (github.com/emersion/go-smtp): it records the mail it accepts and can
// answer with faults.
package testsmtp

import (
	"io"
	"net"
	"sync"

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

	mu    sync.Mutex
	got   [][]byte
	rcpts [][]string
	fail  []error
}

// Start listens on addr ("" for a free loopback port); the errors in fail
// answer the first DATA commands, in order (nil accepts). It stops when t
// ends.
func Start(t T, addr string, fail ...error) *Sink {
	t.Helper()
	s := &Sink{fail: fail}
	s.Server = gosmtp.NewServer(s)
	s.Server.Domain, s.Server.AllowInsecureAuth = "localhost", true
	s.Server.MaxMessageBytes = 1 << 20
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	s.Addr = ln.Addr().String()
	go s.Server.Serve(ln)
	t.Cleanup(func() { s.Server.Close() })
	return s
}

// Messages returns the accepted mail, in order.
func (s *Sink) Messages() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.got...)
}

// NewSession implements gosmtp.Backend.
func (s *Sink) NewSession(*gosmtp.Conn) (gosmtp.Session, error) { return &session{s: s}, nil }

type session struct {
	s  *Sink
	to []string
}

func (ss *session) Reset()                                 { ss.to = nil }
func (ss *session) Logout() error                          { return nil }
func (ss *session) Mail(string, *gosmtp.MailOptions) error { return nil }
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
	ss.s.got = append(ss.s.got, b)
	ss.s.rcpts = append(ss.s.rcpts, ss.to)
	return nil
}
