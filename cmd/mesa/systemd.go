package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/mesadeservicios/mesa/internal/sdnotify"
)

// notifySystemd tells systemd (Type=notify) that the daemon is ready once
// its listener is bound and the schema checked, and keeps the watchdog fed
// while the database answers: a mesa whose process is wedged, or that has
// lost its database for longer than WatchdogSec, is restarted by systemd.
// The returned function sends STOPPING=1 and stops the watchdog. Outside
// systemd (no $NOTIFY_SOCKET) it does nothing.
func notifySystemd(ctx context.Context, a *App, environ []string, log *slog.Logger) func() {
	n := sdnotify.New(environ)
	if n == nil {
		return func() {}
	}
	if err := n.Notify(sdnotify.Ready, "STATUS=mesa "+version()+" serving on "+a.Addr()); err != nil {
		log.Warn("cannot notify systemd", "err", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		every := n.WatchdogInterval() / 2
		if every <= 0 {
			<-ctx.Done()
			return
		}
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			pctx, pcancel := context.WithTimeout(ctx, every/2)
			err := a.db.Ping(pctx)
			pcancel()
			if err != nil {
				log.Warn("watchdog not fed: the database does not answer", "err", err)
				continue
			}
			if err := n.Notify(sdnotify.Watchdog); err != nil {
				log.Warn("cannot notify systemd", "err", err)
			}
		}
	}()
	return func() {
		cancel()
		<-done
		n.Notify(sdnotify.Stopping)
	}
}
