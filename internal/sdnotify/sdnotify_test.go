package sdnotify

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// listen opens a unixgram socket like systemd's and returns its path and a
// function that reads the next datagram.
func listen(t *testing.T) (string, func() string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify.sock")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return path, func() string {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 4096)
		n, err := c.Read(buf)
		if err != nil {
			t.Fatalf("reading notification: %v", err)
		}
		return string(buf[:n])
	}
}

func TestNotify(t *testing.T) {
	path, next := listen(t)
	n := New([]string{"NOTIFY_SOCKET=" + path, "WATCHDOG_USEC=30000000", "WATCHDOG_PID=" + strconv.Itoa(os.Getpid())})
	if n == nil {
		t.Fatal("got nil notifier with NOTIFY_SOCKET set")
	}
	if got, want := n.WatchdogInterval(), 30*time.Second; got != want {
		t.Errorf("watchdog: got %s, want %s", got, want)
	}
	if err := n.Notify(Ready, "STATUS=listo"); err != nil {
		t.Fatal(err)
	}
	if got, want := next(), "READY=1\nSTATUS=listo"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if err := n.Notify(Watchdog); err != nil {
		t.Fatal(err)
	}
	if got := next(); got != Watchdog {
		t.Errorf("got %q, want %q", got, Watchdog)
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name     string
		env      []string
		nilN     bool
		watchdog time.Duration
	}{
		{"no socket", nil, true, 0},
		{"relative path refused", []string{"NOTIFY_SOCKET=run/x"}, true, 0},
		{"abstract", []string{"NOTIFY_SOCKET=@mesa"}, false, 0},
		{"watchdog for another pid", []string{"NOTIFY_SOCKET=/run/x", "WATCHDOG_USEC=1000000", "WATCHDOG_PID=1"}, false, 0},
		{"watchdog without pid", []string{"NOTIFY_SOCKET=/run/x", "WATCHDOG_USEC=1000000"}, false, time.Second},
		{"bad usec", []string{"NOTIFY_SOCKET=/run/x", "WATCHDOG_USEC=soon"}, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := New(tt.env)
			if (n == nil) != tt.nilN {
				t.Fatalf("got nil=%v, want nil=%v", n == nil, tt.nilN)
			}
			if got := n.WatchdogInterval(); got != tt.watchdog {
				t.Errorf("watchdog: got %s, want %s", got, tt.watchdog)
			}
		})
	}
	var none *Notifier
	if err := none.Notify(Ready); err != nil {
		t.Errorf("nil notifier: got %v, want nil", err)
	}
}

func TestNotifyNoListener(t *testing.T) {
	n := New([]string{"NOTIFY_SOCKET=" + filepath.Join(t.TempDir(), "absent.sock")})
	if err := n.Notify(Ready); err == nil {
		t.Error("got nil error for a socket nobody listens on")
	}
}
