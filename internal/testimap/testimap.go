// Package testimap starts a throwaway Dovecot IMAP server for tests, from
// the local binaries, on a free loopback port with a temporary maildir, and
// offers a TCP proxy to cut or freeze connections. When Dovecot is missing
// the test fails — it never skips — with a message that says how to fix it.
package testimap

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
)

// T is what the helpers need of a test; testing.TB satisfies it, and so
// does the runner of `mesa bench`.
type T interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// Dovecot is a running server.
type Dovecot struct {
	Addr     string // 127.0.0.1:port of IMAP
	LMTPAddr string // 127.0.0.1:port of LMTP, with StartWithLMTP
	bin      string
	dir      string
	port     int
	lmtpPort int
	cmd      *exec.Cmd
}

const config = `base_dir = @DIR@/run
state_dir = @DIR@/state
log_path = @DIR@/dovecot.log
protocols = imap@LMTP_PROTO@
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_username_format = %Ln
auth_failure_delay = 0
mail_location = maildir:@DIR@/mail/%u
mail_fsync = never
passdb {
  driver = passwd-file
  args = scheme=PLAIN @DIR@/users
}
userdb {
  driver = passwd-file
  args = @DIR@/users
  default_fields = uid=nobody gid=nogroup home=@DIR@/home/%u
}
service imap-login {
  inet_listener imap {
    port = @PORT@
  }
  inet_listener imaps {
    port = 0
  }
}
@LMTP_SERVICE@service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
`

// Start runs Dovecot with the given users; each user's password is the user
// name followed by "pw". It is stopped when t ends.
func Start(t T, users ...string) *Dovecot {
	t.Helper()
	return start(t, false, users)
}

// StartWithLMTP also serves LMTP, for an MTA to deliver into the users'
// mailboxes (needs dovecot-lmtpd).
func StartWithLMTP(t T, users ...string) *Dovecot {
	t.Helper()
	return start(t, true, users)
}

func start(t T, lmtp bool, users []string) *Dovecot {
	t.Helper()
	bin, err := exec.LookPath("dovecot")
	if err != nil {
		for _, p := range []string{"/usr/sbin/dovecot", "/usr/local/sbin/dovecot"} {
			if _, e := os.Stat(p); e == nil {
				bin, err = p, nil
			}
		}
	}
	if err != nil {
		t.Fatalf("Dovecot for tests: not installed (%v).\nFix: apt-get install dovecot-imapd (`make test` does this when run as root).", err)
	}
	if os.Geteuid() != 0 {
		t.Fatalf("Dovecot for tests: must run as root (its mail processes switch to the nobody user); run `make test` as root")
	}
	dir, err := os.MkdirTemp("", "mesa-dovecot-")
	if err != nil {
		t.Fatalf("%v", err)
	}
	os.Chmod(dir, 0o711)
	for _, d := range []string{"mail", "home"} {
		p := filepath.Join(dir, d)
		os.Mkdir(p, 0o755)
		if err := exec.Command("chown", "nobody:nogroup", p).Run(); err != nil {
			t.Fatalf("chown %s: %v", p, err)
		}
	}
	var lines []string
	for _, u := range users {
		lines = append(lines, u+":{PLAIN}"+u+"pw::::::")
	}
	if err := os.WriteFile(filepath.Join(dir, "users"), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatalf("%v", err)
	}
	d := &Dovecot{dir: dir, bin: bin}
	d.port = freePort(t)
	if lmtp {
		d.lmtpPort = freePort(t)
	}
	d.start(t)
	t.Cleanup(func() {
		d.Stop()
		os.RemoveAll(dir)
	})
	return d
}

// Dir is the server's directory (the MTA's test harness puts files there).
func (d *Dovecot) Dir() string { return d.dir }

func (d *Dovecot) start(t T) {
	t.Helper()
	proto, service := "", ""
	if d.lmtpPort != 0 {
		proto = " lmtp"
		service = fmt.Sprintf("service lmtp {\n  inet_listener lmtp {\n    port = %d\n  }\n}\n", d.lmtpPort)
		d.LMTPAddr = fmt.Sprintf("127.0.0.1:%d", d.lmtpPort)
	}
	conf := strings.NewReplacer("@DIR@", d.dir, "@PORT@", strconv.Itoa(d.port), "@LMTP_PROTO@", proto,
		"@LMTP_SERVICE@", service).Replace(config)
	if err := os.WriteFile(filepath.Join(d.dir, "dovecot.conf"), []byte(conf), 0o644); err != nil {
		t.Fatalf("%v", err)
	}
	d.cmd = exec.Command(d.bin, "-F", "-c", filepath.Join(d.dir, "dovecot.conf"))
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := d.cmd.Start(); err != nil {
		t.Fatalf("starting dovecot: %v", err)
	}
	d.Addr = fmt.Sprintf("127.0.0.1:%d", d.port)
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", d.Addr, time.Second)
		if err == nil {
			line, _ := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if strings.HasPrefix(line, "* OK") {
				return
			}
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(d.dir, "dovecot.log"))
			d.Stop()
			t.Fatalf("dovecot did not greet on %s within 20 s; log:\n%s", d.Addr, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop stops the server; its mail stays in the directory.
func (d *Dovecot) Stop() {
	if d.cmd == nil || d.cmd.Process == nil {
		return
	}
	syscall.Kill(-d.cmd.Process.Pid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { d.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	d.cmd = nil
}

// Restart stops and starts the server on the same port and maildir.
func (d *Dovecot) Restart(t T) {
	t.Helper()
	d.Stop()
	d.start(t)
}

func freePort(t T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("%v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Proxy forwards loopback TCP connections to a target; tests use it to cut
// connections (a crash) or freeze them (a silent network drop).
type Proxy struct {
	Addr   string
	target string
	ln     net.Listener

	mu    sync.Mutex
	links []*link
}

type link struct {
	a, b   net.Conn
	frozen atomic.Bool
}

// NewProxy listens on a free loopback port; it is closed when t ends.
func NewProxy(t T, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("%v", err)
	}
	p := &Proxy{Addr: ln.Addr().String(), target: target, ln: ln}
	go p.serve()
	t.Cleanup(func() { ln.Close(); p.Cut() })
	return p
}

func (p *Proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		l := &link{a: c, b: s}
		p.mu.Lock()
		p.links = append(p.links, l)
		p.mu.Unlock()
		go l.pipe(c, s)
		go l.pipe(s, c)
	}
}

func (l *link) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if l.frozen.Load() {
			return // a frozen link delivers nothing and closes nothing
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			dst.Close()
			return
		}
	}
}

// Cut closes every open connection, as a crash or a reset would.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.links {
		l.a.Close()
		l.b.Close()
	}
	p.links = nil
}

// Freeze stops all traffic on the open connections without closing them:
// the silent drop of a NAT or firewall. New connections work normally. The
// frozen sockets are closed when the proxy is.
func (p *Proxy) Freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.links {
		l.frozen.Store(true)
	}
}

// Conns returns how many connections the proxy has accepted so far and not
// cut.
func (p *Proxy) Conns() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.links)
}

// Append appends raw to mailbox over c and waits for the server's answer.
func Append(c *imapclient.Client, mailbox string, raw []byte) error {
	cmd := c.Append(mailbox, int64(len(raw)), nil)
	if _, err := cmd.Write(raw); err != nil {
		cmd.Close()
		return err
	}
	if err := cmd.Close(); err != nil {
		return err
	}
	_, err := cmd.Wait()
	return err
}
