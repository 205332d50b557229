// Package sdnotify speaks systemd's notification protocol (sd_notify(3)):
// datagrams such as "READY=1" or "WATCHDOG=1" sent to the unix socket named
// by $NOTIFY_SOCKET, which systemd sets for a unit with Type=notify. It is
// hand-written (a datagram and two variables) rather than a dependency.
package sdnotify

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// The states mesa sends.
const (
	Ready     = "READY=1"
	Stopping  = "STOPPING=1"
	Reloading = "RELOADING=1"
	Watchdog  = "WATCHDOG=1"
)

// Notifier sends to one socket. The zero value and a nil *Notifier send
// nothing: outside systemd every call is a no-op.
type Notifier struct {
	addr     *net.UnixAddr
	watchdog time.Duration
}

// New reads $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID from environ
// (KEY=VALUE entries). It returns nil when there is no socket. An abstract
// socket is written with a leading '@' (sd_notify(3)).
func New(environ []string) *Notifier {
	env := func(k string) string {
		for _, kv := range environ {
			if key, v, ok := strings.Cut(kv, "="); ok && key == k {
				return v
			}
		}
		return ""
	}
	path := env("NOTIFY_SOCKET")
	if path == "" || (path[0] != '/' && path[0] != '@') {
		return nil
	}
	n := &Notifier{addr: &net.UnixAddr{Name: path, Net: "unixgram"}}
	if path[0] == '@' {
		n.addr.Name = "\x00" + path[1:]
	}
	// The watchdog is meant for us unless WATCHDOG_PID names another
	// process (a shell wrapper that exec'd nothing).
	if us, err := strconv.ParseInt(env("WATCHDOG_USEC"), 10, 64); err == nil && us > 0 {
		if pid := env("WATCHDOG_PID"); pid == "" || pid == strconv.Itoa(os.Getpid()) {
			n.watchdog = time.Duration(us) * time.Microsecond
		}
	}
	return n
}

// WatchdogInterval is the unit's WatchdogSec, or 0 when the watchdog is off.
// Send Watchdog at half of it or more often.
func (n *Notifier) WatchdogInterval() time.Duration {
	if n == nil {
		return 0
	}
	return n.watchdog
}

// Notify sends one or more newline-separated assignments ("READY=1",
// "STATUS=…") in one datagram.
func (n *Notifier) Notify(states ...string) error {
	if n == nil {
		return nil
	}
	if len(states) == 0 {
		return errors.New("sdnotify: nothing to send")
	}
	c, err := net.DialUnix("unixgram", nil, n.addr)
	if err != nil {
		return fmt.Errorf("sdnotify: connecting to %s: %w", n.addr.Name, err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(strings.Join(states, "\n"))); err != nil {
		return fmt.Errorf("sdnotify: sending to %s: %w", n.addr.Name, err)
	}
	return nil
}
