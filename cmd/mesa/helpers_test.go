package main

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/config"
)

// startApp opens and runs the daemon in-process. stop cancels it and fails
// the test unless it stops cleanly within 15 s; it also runs at cleanup.
func startApp(t *testing.T, cfg *config.Config) (*App, context.Context, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	app, err := Open(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
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
