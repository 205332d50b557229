// Package demo is the demo's mail system and page: an in-memory IMAP
// server holding every mailbox of the demo domain (go-imap's imapmemserver)
// and the tests' SMTP server (internal/testsmtp) delivering mesa's mail into
// those mailboxes, the seed mail, the configuration that points mesa at
// them, and the /demo page to write as an employee or a technician. The
// daemon itself is wired by cmd/mesa (`mesa demo`); nothing of this is
// reachable from `mesa serve`.
package demo

import (
	"bytes"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"github.com/mesadeservicios/mesa/internal/testsmtp"
	"github.com/mesadeservicios/mesa/mailin"
)

// Domain is the demo's mail domain; mesa is mesa@Domain.
const Domain = "entidad.demo"

// DeskAddress is the desk's address in the demo.
const DeskAddress = "mesa@" + Domain

// MailSystem is the demo's IMAP + SMTP pair. Every user's password is the
// local part followed by "pw".
type MailSystem struct {
	mu     sync.Mutex
	mem    *imapmemserver.Server
	users  map[string]*imapmemserver.User
	imap   *imapserver.Server
	imapLn net.Listener
	smtp   *testsmtp.Sink
}

// Start starts both servers on free loopback ports.
func Start() (*MailSystem, error) {
	m := &MailSystem{mem: imapmemserver.New(), users: map[string]*imapmemserver.User{}}
	m.user("mesa")
	m.imap = imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return m.mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapUIDPlus: {}, imap.CapMove: {}},
		InsecureAuth: true,
	})
	var err error
	if m.imapLn, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		return nil, err
	}
	go m.imap.Serve(m.imapLn)
	m.smtp, err = testsmtp.Listen("", testsmtp.Options{MaxMessageBytes: 36 << 20, Deliver: func(to []string, raw []byte) error {
		for _, addr := range to {
			if err := m.Deliver(addr, raw); err != nil {
				return err
			}
		}
		return nil
	}})
	if err != nil {
		m.imap.Close()
		return nil, err
	}
	return m, nil
}

// IMAPAddr and SMTPAddr are the servers' host:port.
func (m *MailSystem) IMAPAddr() string { return m.imapLn.Addr().String() }

// SMTPAddr is the SMTP server's host:port.
func (m *MailSystem) SMTPAddr() string { return m.smtp.Addr }

// Close stops both servers.
func (m *MailSystem) Close() {
	m.smtp.Close()
	m.imap.Close()
}

// user returns the mailbox of a local part, creating it.
func (m *MailSystem) user(local string) *imapmemserver.User {
	m.mu.Lock()
	defer m.mu.Unlock()
	if u, ok := m.users[local]; ok {
		return u
	}
	u := imapmemserver.NewUser(local, local+"pw")
	u.Create("INBOX", nil)
	m.mem.AddUser(u)
	m.users[local] = u
	return u
}

// Deliver appends raw to a demo address's INBOX.
func (m *MailSystem) Deliver(addr string, raw []byte) error {
	local, domain, _ := strings.Cut(strings.ToLower(addr), "@")
	if domain != Domain {
		return fmt.Errorf("%s is outside the demo domain", addr)
	}
	_, err := m.user(local).Append("INBOX", bytes.NewReader(raw), &imap.AppendOptions{})
	return err
}

// Mail is one message of a demo mailbox, as a mail client shows it.
type Mail struct {
	From, Subject, Text, Box string
	Date                     time.Time
}

// Inbox returns the mail of a demo user (INBOX and Procesados), newest
// first, read over IMAP like any mail client would.
func (m *MailSystem) Inbox(local string) []*Mail {
	m.user(local)
	c, err := imapclient.DialInsecure(m.IMAPAddr(), nil)
	if err != nil {
		return nil
	}
	defer c.Close()
	if err := c.Login(local, local+"pw").Wait(); err != nil {
		return nil
	}
	var out []*Mail
	for _, box := range []string{"INBOX", "Procesados"} {
		sel, err := c.Select(box, &imap.SelectOptions{ReadOnly: true}).Wait()
		if err != nil || sel.NumMessages == 0 {
			continue
		}
		var all imap.SeqSet
		all.AddRange(1, sel.NumMessages)
		section := &imap.FetchItemBodySection{Peek: true}
		msgs, err := c.Fetch(all, &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{section}, InternalDate: true}).Collect()
		if err != nil {
			continue
		}
		for _, msg := range msgs {
			in, _ := mailin.Parse(msg.FindBodySection(section))
			out = append(out, &Mail{From: in.From.Email, Subject: in.Subject, Text: in.Text, Date: msg.InternalDate, Box: box})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Date.After(out[j].Date) })
	return out
}
