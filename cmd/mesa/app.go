package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/mesadeservicios/mesa/config"
	"github.com/mesadeservicios/mesa/desk"
	"github.com/mesadeservicios/mesa/store"
	"github.com/mesadeservicios/mesa/ticket"
	"github.com/mesadeservicios/mesa/web"
)

// The store satisfies the interfaces the use cases declare.
var _ desk.Store = (*store.DB)(nil)

// App is the daemon, wired: tests start it in-process with ports ":0".
type App struct {
	cfg  *config.Config
	log  *slog.Logger
	db   *store.DB
	desk *desk.Desk
	ln   net.Listener
	http *http.Server
}

// Open connects the store, brings the schema up to date (or refuses an
// outdated one), loads people and groups from the configuration and binds
// the HTTP listener. It starts no goroutine; Run does.
func Open(ctx context.Context, cfg *config.Config, log *slog.Logger) (*App, error) {
	a := &App{cfg: cfg, log: log}
	db, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	a.db = db
	if cfg.Database.AutoMigrate {
		n, err := db.Migrate(ctx)
		if err != nil {
			a.Close()
			return nil, err
		}
		if n > 0 {
			log.Info("database migrated", "applied", n, "driver", db.Driver())
		}
	}
	if err := db.CheckSchema(ctx); err != nil {
		a.Close()
		return nil, err
	}
	if err := a.loadDirectory(ctx); err != nil {
		a.Close()
		return nil, err
	}
	a.desk, err = buildDesk(cfg, db, log)
	if err != nil {
		a.Close()
		return nil, err
	}
	a.ln, err = net.Listen("tcp", cfg.HTTP.Listen)
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("listening on %s: %w", cfg.HTTP.Listen, err)
	}
	a.http = &http.Server{Handler: web.New(db, log), ReadHeaderTimeout: 10 * time.Second}
	return a, nil
}

// loadDirectory copies groups and people from the configuration into the
// store, where the use cases look them up.
func (a *App) loadDirectory(ctx context.Context) error {
	return a.db.InTx(ctx, func(ctx context.Context) error {
		for _, g := range a.cfg.Groups {
			if err := a.db.SaveGroup(ctx, ticket.Group{Key: g.Key, Name: g.Name, Email: g.Email}); err != nil {
				return err
			}
		}
		for _, p := range a.cfg.People {
			err := a.db.SavePerson(ctx, &ticket.Person{Email: strings.ToLower(p.Email), Name: p.Name,
				Role: ticket.Role(p.Role), Level: p.Level, Groups: p.Groups, Active: true})
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// Addr is the HTTP listener's address.
func (a *App) Addr() string { return a.ln.Addr().String() }

// Run serves until ctx is done, then shuts down gracefully.
func (a *App) Run(ctx context.Context) error {
	a.log.Info("mesa started", "http", "http://"+a.Addr(), "driver", a.db.Driver(), "version", version())
	errc := make(chan error, 1)
	go func() { errc <- a.http.Serve(a.ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := a.http.Shutdown(shut)
	if e := <-errc; !errors.Is(e, http.ErrServerClosed) && err == nil {
		err = e
	}
	a.log.Info("mesa stopped")
	return err
}

// Close releases what Open acquired.
func (a *App) Close() error {
	if a.ln != nil {
		a.ln.Close()
	}
	if a.db != nil {
		return a.db.Close()
	}
	return nil
}
