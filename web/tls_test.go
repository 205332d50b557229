package web_test

import (
	"net"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/mesadeservicios/mesa/internal/testcert"
	"github.com/mesadeservicios/mesa/web"
)

// TestCertificateReload: a new connection after Reload gets the new
// certificate; a broken pair leaves the old one serving.
func TestCertificateReload(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	testcert.Write(t, certFile, keyFile, "first")
	c, err := web.LoadCertificate(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.NotFoundHandler(), TLSConfig: c.TLSConfig()}
	go srv.ServeTLS(ln, "", "")
	t.Cleanup(func() { srv.Close() })
	if got := testcert.Served(t, ln.Addr().String()); got != "first" {
		t.Fatalf("got %q, want first", got)
	}
	testcert.Write(t, certFile, keyFile, "second")
	if got := testcert.Served(t, ln.Addr().String()); got != "first" {
		t.Errorf("before reload: got %q, want first", got)
	}
	if err := c.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := testcert.Served(t, ln.Addr().String()); got != "second" {
		t.Errorf("after reload: got %q, want second", got)
	}
	testcert.Write(t, certFile, filepath.Join(dir, "other-key.pem"), "third") // the key no longer matches
	if err := c.Reload(); err == nil {
		t.Error("mismatched pair: got nil error")
	}
	if got := testcert.Served(t, ln.Addr().String()); got != "second" {
		t.Errorf("after a failed reload: got %q, want second", got)
	}
	if _, err := web.LoadCertificate(filepath.Join(dir, "none.pem"), keyFile); err == nil {
		t.Error("missing file: got nil error")
	}
}
