package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/mesadeservicios/mesa/config"
	"github.com/mesadeservicios/mesa/internal/demo"
)

// The demo runs the real daemon against the in-process mail system of
// internal/demo; this file only wires the two.

func demoCommand() command {
	var addr *string
	return command{
		flags: func(fs *flag.FlagSet) { addr = fs.String("http", "127.0.0.1:8080", "address of the demo's web server") },
		run: func(ctx context.Context, e *env) int {
			if err := runDemo(ctx, e, *addr, nil); err != nil {
				fmt.Fprintln(e.stderr, "mesa demo:", err)
				return exitFail
			}
			return exitOK
		},
	}
}

// runDemo starts everything and serves until ctx ends; ready, when set,
// receives the demo's base URL once the seeded tickets are listed.
func runDemo(ctx context.Context, e *env, addr string, ready chan<- string) error {
	ms, err := demo.Start()
	if err != nil {
		return err
	}
	defer ms.Close()
	dir, err := os.MkdirTemp("", "mesa-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cfg := config.Default()
	ms.Configure(cfg, filepath.Join(dir, "mesa.db"), "http://"+addr)
	if err := cfg.Validate(); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	app, err := Open(ctx, cfg, Options{Logger: log, Now: e.now})
	if err != nil {
		return err
	}
	defer app.Close()
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- app.Run(runCtx) }()

	site := &demo.Site{Mail: ms, App: app.http.Handler}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: site.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String()

	if err := ms.SeedAll(); err != nil {
		return err
	}
	links, err := site.WaitForAcks(ctx, cfg.HTTP.PublicURL, base, 60*time.Second)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "mesa demo: status page %s/   demo page (write as an employee or a technician) %s/demo\n", base, base)
	fmt.Fprintln(e.stdout, "seeded tickets:")
	for _, l := range links {
		fmt.Fprintln(e.stdout, "  "+l)
	}
	if ready != nil {
		ready <- base
	}
	select {
	case <-ctx.Done():
	case err := <-done:
		return err
	}
	stop()
	return <-done
}
