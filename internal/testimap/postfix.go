package testimap

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Postfix is a throwaway Postfix that accepts mail for one domain on a
// loopback port and delivers it over LMTP into a Dovecot; mail for any
// other domain is refused, so nothing leaves the machine.
type Postfix struct {
	Addr string // 127.0.0.1:port, SMTP without AUTH for 127.0.0.0/8
	dir  string
	cmd  *exec.Cmd
}

// StartPostfix writes a Postfix instance in its own directory (nothing in
// /etc/postfix is read or changed) and starts it; users are the local parts
// of domain that exist in Dovecot. It is stopped when t ends.
func StartPostfix(t T, dovecot *Dovecot, domain string, users ...string) *Postfix {
	t.Helper()
	if _, err := exec.LookPath("postfix"); err != nil {
		if _, err := os.Stat("/usr/sbin/postfix"); err != nil {
			t.Fatalf("Postfix for tests: not installed.\nFix: apt-get install postfix (`make test` does this when run as root).")
		}
	}
	if _, err := user.Lookup("postfix"); err != nil {
		t.Fatalf("Postfix for tests: no postfix system user: %v", err)
	}
	dir, err := os.MkdirTemp("", "mesa-postfix-")
	if err != nil {
		t.Fatalf("%v", err)
	}
	os.Chmod(dir, 0o711)
	p := &Postfix{dir: dir}
	port := freePort(t)
	p.Addr = fmt.Sprintf("127.0.0.1:%d", port)
	conf := filepath.Join(dir, "postfix")
	os.MkdirAll(conf, 0o755)
	data := filepath.Join(dir, "data")
	os.MkdirAll(data, 0o700)
	exec.Command("chown", "postfix", data).Run()
	main := fmt.Sprintf(`compatibility_level = 3.6
queue_directory = %[1]s/queue
data_directory = %[1]s/data
mail_owner = postfix
maillog_file = %[1]s/postfix.log
maillog_file_prefixes = %[1]s
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mail.%[2]s
mydestination =
mynetworks = 127.0.0.0/8
recipient_delimiter = +
alias_maps =
alias_database =
smtpd_tls_security_level = none
smtp_tls_security_level = none
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
virtual_mailbox_domains = %[2]s
virtual_mailbox_maps = texthash:%[3]s/vmailbox
virtual_transport = lmtp:inet:%[4]s
local_transport = error:local delivery disabled in tests
default_transport = error:outbound mail disabled in tests
relay_transport = error:outbound mail disabled in tests
`, dir, domain, conf, dovecot.LMTPAddr)
	master := fmt.Sprintf(`127.0.0.1:%d inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
lmtp      unix  - - n - - lmtp
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
`, port)
	var vmail strings.Builder
	for _, u := range users {
		vmail.WriteString(u + "@" + domain + " OK\n")
	}
	for name, body := range map[string]string{"main.cf": main, "master.cf": master, "vmailbox": vmail.String()} {
		path := filepath.Join(conf, name)
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatalf("%v", err)
		}
		// Postfix waits for freshly written files to settle; backdate them.
		past := time.Now().Add(-time.Minute)
		os.Chtimes(path, past, past)
	}
	q := filepath.Join(dir, "queue")
	for _, d := range []string{"active", "bounce", "corrupt", "defer", "deferred", "flush", "hold", "incoming", "private", "saved", "trace"} {
		exec.Command("install", "-d", "-o", "postfix", "-g", "root", "-m", "700", filepath.Join(q, d)).Run()
	}
	exec.Command("install", "-d", "-o", "postfix", "-g", "postdrop", "-m", "730", filepath.Join(q, "maildrop")).Run()
	exec.Command("install", "-d", "-o", "postfix", "-g", "postdrop", "-m", "710", filepath.Join(q, "public")).Run()
	exec.Command("install", "-d", "-o", "root", "-g", "root", "-m", "755", filepath.Join(q, "pid")).Run()
	os.WriteFile(filepath.Join(q, "quick-start"), nil, 0o644)
	p.cmd = exec.Command("postfix", "-c", conf, "start-fg")
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting postfix: %v", err)
	}
	t.Cleanup(func() {
		exec.Command("postfix", "-c", conf, "stop").Run()
		done := make(chan struct{})
		go func() { p.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			exec.Command("postfix", "-c", conf, "abort").Run()
			p.cmd.Process.Kill()
		}
		os.RemoveAll(dir)
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", p.Addr, time.Second)
		if err == nil {
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			line, _ := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if strings.HasPrefix(line, "220 ") {
				return p
			}
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "postfix.log"))
			t.Fatalf("postfix did not greet on %s within 20 s; log:\n%s", p.Addr, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Port returns the SMTP port.
func (p *Postfix) Port() int {
	_, port, _ := net.SplitHostPort(p.Addr)
	n, _ := strconv.Atoi(port)
	return n
}

// Log returns Postfix's log so far, for a test's failure message.
func (p *Postfix) Log() string {
	b, _ := os.ReadFile(filepath.Join(p.dir, "postfix.log"))
	return string(b)
}
