package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/mesadeservicios/mesa/config"
	"github.com/mesadeservicios/mesa/internal/testimap"
)

// startApp opens and runs the daemon in-process. stop cancels it and fails
// the test unless it stops cleanly within 15 s; it also runs at cleanup.
func startApp(t *testing.T, cfg *config.Config) (*App, context.Context, func()) {
	t.Helper()
	return startAppWith(t, cfg, Options{})
}

// startAppWith is startApp with Open's options (a clock); a nil logger
// discards the log.
func startAppWith(t *testing.T, cfg *config.Config, o Options) (*App, context.Context, func()) {
	t.Helper()
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.HTTP.AdminListen == config.Default().HTTP.AdminListen {
		cfg.HTTP.AdminListen = "127.0.0.1:0" // tests never take the fixed default port
	}
	ctx, cancel := context.WithCancel(context.Background())
	app, err := Open(ctx, cfg, o)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("the daemon did not stop within 15 s")
		}
		app.Close()
	}
	t.Cleanup(stop)
	return app, ctx, stop
}

// loopbackEnv is the environment of a mesa that stores in dsn, reads the
// Dovecot at imapAddr as user mesa and sends through smtpAddr, all in plain
// text on loopback. Entries in extra come last, so they override.
func loopbackEnv(dsn, imapAddr, smtpAddr string, extra ...string) []string {
	ih, ip, _ := net.SplitHostPort(imapAddr)
	sh, sp, _ := net.SplitHostPort(smtpAddr)
	return append([]string{"MESA_DATABASE_URL=" + dsn, "MESA_HTTP_LISTEN=127.0.0.1:0", "MESA_HTTP_ADMIN_LISTEN=127.0.0.1:0",
		"MESA_IMAP_HOST=" + ih, "MESA_IMAP_PORT=" + ip, "MESA_IMAP_TLS=none", "MESA_IMAP_INSECURE_PLAINTEXT=true",
		"MESA_IMAP_USERNAME=mesa", "MESA_IMAP_PASSWORD=mesapw", "MESA_DESK_ADDRESSES=mesa@entidad.gov.co",
		"MESA_SMTP_HOST=" + sh, "MESA_SMTP_PORT=" + sp, "MESA_SMTP_TLS=none", "MESA_SMTP_INSECURE_PLAINTEXT=true"}, extra...)
}

// processEnv is the environment of mesa run as a separate process (the
// test binary again, see TestMain): only mesa's own variables besides PATH
// and HOME, since mesa refuses unknown MESA_* names.
func processEnv(mesa []string) []string {
	return append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "GO_TEST_RUN_AS_MESA=1"}, mesa...)
}

// loginMesa opens an IMAP session to the Dovecot at addr as the desk's
// user, as a driver that appends mail or counts mailboxes.
func loginMesa(t *testing.T, addr string) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Login("mesa", "mesapw").Wait(); err != nil {
		c.Close()
		t.Fatal(err)
	}
	return c
}

// appendMail appends raw to the INBOX, failing the test if it cannot.
func appendMail(t *testing.T, c *imapclient.Client, raw string) {
	t.Helper()
	if err := testimap.Append(c, "INBOX", []byte(raw)); err != nil {
		t.Fatal(err)
	}
}
