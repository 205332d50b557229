// Package web serves mesa over HTTP. For now it serves /healthz; the status
// page, survey page, JSON API and metrics arrive with their issue.
package web

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"
)

// Pinger reports whether the store answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Server is mesa's HTTP handler.
type Server struct {
	mux *http.ServeMux
	db  Pinger
	log *slog.Logger
}

// New returns the handler. log may be nil.
func New(db Pinger, log *slog.Logger) *Server {
	if log == nil {
		log = slog.Default()
	}
	s := &Server{mux: http.NewServeMux(), db: db, log: log}
	s.mux.HandleFunc("GET /healthz", s.healthz)
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// healthz answers 200 {"status":"ok"} when the database answers within two
// seconds, 503 otherwise, for load balancers and systemd watchdogs.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	status, code := map[string]string{"status": "ok", "database": "ok"}, http.StatusOK
	if err := s.db.Ping(ctx); err != nil {
		s.log.Warn("health check failed", "err", err)
		status["status"], status["database"], code = "error", err.Error(), http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(status)
}
