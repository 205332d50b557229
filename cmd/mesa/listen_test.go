package main

import (
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/config"
	"github.com/mesadeservicios/mesa/internal/testcert"
)

// sqliteEnv is a daemon on a throwaway SQLite file, without mail, both
// listeners on free loopback ports; extra overrides.
func sqliteEnv(t *testing.T, extra ...string) []string {
	return append([]string{"MESA_DATABASE_URL=sqlite:" + filepath.Join(t.TempDir(), "mesa.db"),
		"MESA_HTTP_LISTEN=127.0.0.1:0", "MESA_HTTP_ADMIN_LISTEN=127.0.0.1:0"}, extra...)
}

func status(t *testing.T, c *http.Client, u string) int {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestAdminListener: /metrics, /healthz and /readyz answer on the admin
// listener only; the public one serves pages and static files.
func TestAdminListener(t *testing.T) {
	cfg, err := config.Load("", sqliteEnv(t))
	if err != nil {
		t.Fatal(err)
	}
	app, _, stop := startApp(t, cfg)
	defer stop()
	pub, admin := "http://"+app.Addr(), "http://"+app.AdminAddr()
	for _, tc := range []struct {
		u    string
		want int
	}{
		{pub + "/metrics", 404}, {pub + "/healthz", 404}, {pub + "/readyz", 404},
		{admin + "/metrics", 200}, {admin + "/healthz", 200}, {admin + "/readyz", 200},
		{pub + "/", 200}, {pub + "/static/mesa.css", 200}, {admin + "/", 404},
	} {
		if got := status(t, http.DefaultClient, tc.u); got != tc.want {
			t.Errorf("%s: got %d, want %d", tc.u, got, tc.want)
		}
	}
}

// TestAdminListenerDisabled: with http.admin_listen "" nothing serves
// metrics or health, and the public listener does not take them over.
func TestAdminListenerDisabled(t *testing.T) {
	cfg, err := config.Load("", sqliteEnv(t, "MESA_HTTP_ADMIN_LISTEN="))
	if err != nil {
		t.Fatal(err)
	}
	app, _, stop := startApp(t, cfg)
	defer stop()
	if app.AdminAddr() != "" {
		t.Errorf("admin listener at %s, want none", app.AdminAddr())
	}
	for _, p := range []string{"/metrics", "/healthz", "/readyz"} {
		if got := status(t, http.DefaultClient, "http://"+app.Addr()+p); got != 404 {
			t.Errorf("%s on the public listener: got %d, want 404", p, got)
		}
	}
}

// TestServerTimeouts: the http section's limits reach both servers, and a
// client that never finishes its headers is cut off.
func TestServerTimeouts(t *testing.T) {
	cfg, err := config.Load("", sqliteEnv(t, "MESA_HTTP_READ_HEADER_TIMEOUT=1s", "MESA_HTTP_READ_TIMEOUT=7s",
		"MESA_HTTP_WRITE_TIMEOUT=8s", "MESA_HTTP_IDLE_TIMEOUT=9s", "MESA_HTTP_MAX_HEADER_BYTES=8192"))
	if err != nil {
		t.Fatal(err)
	}
	app, _, stop := startApp(t, cfg)
	defer stop()
	for name, s := range map[string]*http.Server{"public": app.http, "admin": app.admin} {
		if s.ReadHeaderTimeout != time.Second || s.ReadTimeout != 7*time.Second || s.WriteTimeout != 8*time.Second ||
			s.IdleTimeout != 9*time.Second || s.MaxHeaderBytes != 8192 {
			t.Errorf("%s server: got %v %v %v %v %d, want 1s 7s 8s 9s 8192", name, s.ReadHeaderTimeout, s.ReadTimeout,
				s.WriteTimeout, s.IdleTimeout, s.MaxHeaderBytes)
		}
	}
	c, err := net.Dial("tcp", app.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ") // and never the rest
	start := time.Now()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	io.Copy(io.Discard, c) // returns when the server closes the connection
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("a half-sent request held the connection %s, want it closed after about 1s", d)
	}
	req := "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 20000) + "\r\n\r\n"
	c2, err := net.Dial("tcp", app.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	io.WriteString(c2, req)
	c2.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, _ := io.ReadAll(c2)
	if !strings.HasPrefix(string(b), "HTTP/1.1 431") {
		t.Errorf("20 KB of headers: got %.40q, want 431", b)
	}
}

// TestTLSReloadInProcess: the public listener serves the certificate
// files, and a reload (what SIGHUP sends) puts the new pair in service for
// new connections without a restart; a broken pair keeps the old one.
func TestTLSReloadInProcess(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	testcert.Write(t, certFile, keyFile, "first")
	cfg, err := config.Load("", sqliteEnv(t, "MESA_HTTP_TLS_CERT_FILE="+certFile, "MESA_HTTP_TLS_KEY_FILE="+keyFile))
	if err != nil {
		t.Fatal(err)
	}
	reload := make(chan os.Signal, 1)
	app, _, stop := startAppWith(t, cfg, Options{Reload: reload})
	defer stop()
	if got := testcert.Served(t, app.Addr()); got != "first" {
		t.Fatalf("got %q, want first", got)
	}
	insecure := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	if got := status(t, insecure, "https://"+app.Addr()+"/"); got != 200 {
		t.Errorf("the status page over HTTPS: got %d, want 200", got)
	}
	testcert.Write(t, certFile, keyFile, "second")
	reload <- syscall.SIGHUP
	waitServed(t, app.Addr(), "second")
	os.WriteFile(keyFile, []byte("not a key"), 0o600)
	reload <- syscall.SIGHUP
	time.Sleep(200 * time.Millisecond)
	if got := testcert.Served(t, app.Addr()); got != "second" {
		t.Errorf("after a broken reload: got %q, want second", got)
	}
}

// waitServed waits up to 10 s for a new connection to addr to be served
// the certificate named cn.
func waitServed(t *testing.T, addr, cn string) {
	t.Helper()
	var got string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if got = testcert.Served(t, addr); got == cn {
			return
		}
	}
	t.Errorf("got certificate %q, want %q", got, cn)
}

// TestTLSReloadOnSIGHUP runs mesa serve as its own process and sends it a
// real SIGHUP after swapping the certificate files.
func TestTLSReloadOnSIGHUP(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	testcert.Write(t, certFile, keyFile, "first")
	addr := freeAddr(t)
	cmd := exec.Command(os.Args[0], "serve")
	cmd.Env = processEnv(sqliteEnv(t, "MESA_HTTP_LISTEN="+addr, "MESA_HTTP_TLS_CERT_FILE="+certFile,
		"MESA_HTTP_TLS_KEY_FILE="+keyFile, "MESA_LOG_LEVEL=warn"))
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		if t.Failed() {
			t.Logf("mesa log:\n%s", logs.String())
		}
	}()
	var up bool
	for deadline := time.Now().Add(20 * time.Second); !up && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
		if err == nil {
			c.Close()
			up = true
		}
	}
	if !up {
		t.Fatal("mesa serve did not come up with TLS within 20 s")
	}
	if got := testcert.Served(t, addr); got != "first" {
		t.Fatalf("got %q, want first", got)
	}
	testcert.Write(t, certFile, keyFile, "second")
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitServed(t, addr, "second")
	if cmd.ProcessState != nil {
		t.Errorf("mesa exited on SIGHUP: %v", cmd.ProcessState)
	}
}

// freeAddr returns a loopback address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
