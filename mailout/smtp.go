package mailout

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"strconv"
	"time"

	"github.com/wneessen/go-mail/smtp"
	"golang.org/x/oauth2"
)

// SMTPOptions say how to reach the submission server.
type SMTPOptions struct {
	Addr      string      // host:port
	TLS       string      // implicit, starttls or none
	TLSConfig *tls.Config // nil: system roots, ServerName from Addr
	Username  string      // empty: no AUTH
	Password  string
	Tokens    oauth2.TokenSource // set: AUTH XOAUTH2 with its tokens instead of the password
	Login     bool               // AUTH LOGIN instead of PLAIN (older Exchange relays)
	HELO      string             // [localhost]
	Timeout   time.Duration      // per connection [30s]
}

// SMTP sends mail with go-mail's SMTP client, one connection per mail, as
// the exact bytes rendered into the outbox.
type SMTP struct{ o SMTPOptions }

// NewSMTP returns a sender.
func NewSMTP(o SMTPOptions) (*SMTP, error) {
	switch o.TLS {
	case "implicit", "starttls", "none":
	default:
		return nil, fmt.Errorf("smtp: tls must be implicit, starttls or none, got %q", o.TLS)
	}
	if o.HELO == "" {
		o.HELO = "localhost"
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	return &SMTP{o: o}, nil
}

// Send delivers raw to the recipients. Server answers become *SendError.
func (s *SMTP) Send(ctx context.Context, from string, to []string, raw []byte) (err error) {
	host, _, err := net.SplitHostPort(s.o.Addr)
	if err != nil {
		return &SendError{Code: 0, Msg: err.Error()}
	}
	d := &net.Dialer{Timeout: s.o.Timeout}
	conn, err := d.DialContext(ctx, "tcp", s.o.Addr)
	if err != nil {
		return fmt.Errorf("connecting to %s: %w", s.o.Addr, err)
	}
	conn.SetDeadline(time.Now().Add(s.o.Timeout + time.Duration(len(raw)/(64<<10))*time.Second))
	tlsConf := s.o.TLSConfig
	if tlsConf == nil {
		tlsConf = &tls.Config{ServerName: host}
	}
	if s.o.TLS == "implicit" {
		conn = tls.Client(conn, tlsConf)
	}
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return classify(err)
	}
	defer c.Close()
	if err := c.Hello(s.o.HELO); err != nil {
		return classify(err)
	}
	if s.o.TLS == "starttls" {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return &SendError{Code: 0, Msg: "the server does not offer STARTTLS; refusing to send in clear text"}
		}
		if err := c.StartTLS(tlsConf); err != nil {
			return classify(err)
		}
	}
	if ok, size := c.Extension("SIZE"); ok {
		if max, err := strconv.ParseInt(size, 10, 64); err == nil && max > 0 && int64(len(raw)) > max {
			return &SendError{Code: 552, Msg: fmt.Sprintf("message of %d bytes exceeds the server's SIZE %d", len(raw), max)}
		}
	}
	if s.o.Username != "" {
		var a smtp.Auth
		switch {
		case s.o.Tokens != nil:
			tok, err := s.o.Tokens.Token()
			if err != nil {
				return fmt.Errorf("getting an OAuth2 token: %w", err)
			}
			a = smtp.XOAuth2Auth(s.o.Username, tok.AccessToken)
		case s.o.Login:
			a = smtp.LoginAuth(s.o.Username, s.o.Password, host, s.o.TLS == "none")
		default:
			a = smtp.PlainAuth("", s.o.Username, s.o.Password, host, s.o.TLS == "none")
		}
		if err := c.Auth(a); err != nil {
			// Wrong credentials are the desk's configuration, not the
			// mail's fault: retried (and alerted on), never a lost mail.
			return fmt.Errorf("smtp authentication as %s: %w", s.o.Username, err)
		}
	}
	if err := c.Mail(from); err != nil {
		return classify(err)
	}
	for _, r := range to {
		if err := c.Rcpt(r); err != nil {
			return classify(err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return classify(err)
	}
	if _, err := w.Write(raw); err != nil {
		w.Close()
		return classify(err)
	}
	if err := w.Close(); err != nil {
		return classify(err)
	}
	c.Quit()
	return nil
}

// classify turns a server reply into a SendError; other errors (network)
// stay as they are and are retried.
func classify(err error) error {
	var te *textproto.Error
	if errors.As(err, &te) {
		return &SendError{Code: te.Code, Msg: te.Msg, Temporary: te.Code < 500}
	}
	return err
}
