// Package web serves mesa over HTTP: on the public handler, the status page
// where anyone holding a ticket's number and key follows it (and
// comments), its JSON twin, the survey and "Mis solicitudes" pages and
// static files; on the admin handler, /metrics and the health endpoints.
// Pages work without JavaScript; every piece of mail text is escaped by
// html/template.
package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"net/netip"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/mesadeservicios/mesa/desk"
	"github.com/mesadeservicios/mesa/internal/i18n"
	"github.com/mesadeservicios/mesa/ticket"
	"github.com/mesadeservicios/mesa/web/health"
)

//go:embed templates
var files embed.FS

// Pinger reports whether the store answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Desk is everything the pages need of the use cases (a *desk.Desk; the
// compile-time check is in cmd/mesa/contracts.go).
type Desk interface {
	StatusDesk
	SurveyDesk
	MineDesk
	FileDesk
}

// FileDesk is what the download links of files need.
type FileDesk interface {
	// File returns the file a signed link names; ticket.ErrNotFound for
	// any token that does not hold, desk.ErrFileLinkExpired past its time.
	File(ctx context.Context, token string) (*ticket.Attachment, error)
}

// StatusDesk is what the status page needs.
type StatusDesk interface {
	Lookup(ctx context.Context, number, key string) (*desk.View, error)
	RequesterComment(ctx context.Context, number, key, body string) error
}

// SurveyDesk is what the survey page at /encuesta/{token} needs.
type SurveyDesk interface {
	OpenSurvey(ctx context.Context, token string) (*desk.SurveyPage, error)
	AnswerSurvey(ctx context.Context, token string, a desk.SurveyAnswer) error
	SurveyReopens(a desk.SurveyAnswer) bool
}

// MineDesk is what "Mis solicitudes" needs.
type MineDesk interface {
	RequestMyTickets(ctx context.Context, addr string) error
	MyTickets(ctx context.Context, token string) (string, []*ticket.Ticket, error)
	LookupMine(ctx context.Context, token, number string) (*desk.View, error)
}

// Catalogue names categories for people.
type Catalogue interface {
	DisplayName(key string) string
}

// Deps are the server's collaborators, every one required.
type Deps struct {
	Desk      Desk
	DB        Pinger
	Catalogue Catalogue
	Logger    *slog.Logger
}

// Options configure the server; zero fields take the defaults in brackets.
type Options struct {
	// Ready adds readiness checks (IMAP connected or retrying, outbox not
	// stuck) to /readyz, usually health.Policy.Report; nil: the database
	// only.
	Ready    func(ctx context.Context) health.Report
	Language string         // [es]
	Location *time.Location // [America/Bogota]
	// LookupsPerMinute limits ticket lookups per client address [30].
	LookupsPerMinute int
	// Metrics, when set, is served at /metrics on the admin handler; the
	// server adds its request-duration histogram and the health checks'
	// state to it.
	Metrics *prometheus.Registry
	// TrustedProxies are the reverse proxies whose ProxyHeader names the
	// client (see clientAddr); none: the peer address is the client.
	TrustedProxies []netip.Prefix
	// ProxyHeader is "x-forwarded-for" or "forwarded" (RFC 7239)
	// [x-forwarded-for].
	ProxyHeader string
	// PrivacyURL, the agency's personal-data policy (Ley 1581 de 2012), is
	// linked from every page's footer; empty: no link.
	PrivacyURL string
	// GovCo shows the GOV.CO top bar and footer of the Colombian
	// government's web pages (Resolución MinTIC 1519 de 2020).
	GovCo bool
	// Entity is the agency's contact data, shown in the footer when set.
	Entity Entity
}

// Entity is the agency's contact data in the pages' footer; empty fields
// are left out.
type Entity struct {
	Name, Address, Phone, Hours, Email string
}

// Server is mesa's public HTTP handler; Admin is the other one.
type Server struct {
	d        Deps
	o        Options
	mux      *http.ServeMux                // pages, API, static files
	admin    *http.ServeMux                // metrics and health
	pages    map[string]*template.Template // by file name: layout.html and the page
	ips      *limiter
	guesses  *limiter // wrong keys per ticket number, from any address
	duration *prometheus.HistogramVec
	checks   *prometheus.GaugeVec // nil without Metrics
	health   healthLog
}

// New returns the handler.
func New(d Deps, o Options) (*Server, error) {
	var missing []error
	for name, nil_ := range map[string]bool{"Desk": d.Desk == nil, "DB": d.DB == nil, "Catalogue": d.Catalogue == nil, "Logger": d.Logger == nil} {
		if nil_ {
			missing = append(missing, fmt.Errorf("web: Deps.%s is required", name))
		}
	}
	if err := errors.Join(missing...); err != nil {
		return nil, err
	}
	if o.Language != "en" {
		o.Language = "es"
	}
	if o.Location == nil {
		o.Location, _ = time.LoadLocation("America/Bogota")
	}
	if o.LookupsPerMinute <= 0 {
		o.LookupsPerMinute = 30
	}
	if o.ProxyHeader == "" {
		o.ProxyHeader = "x-forwarded-for"
	}
	s := &Server{d: d, o: o, mux: http.NewServeMux(), admin: http.NewServeMux(), ips: newLimiter(o.LookupsPerMinute, time.Minute),
		guesses: newLimiter(ticketGuesses, 10*time.Minute), pages: parsePages()}
	s.admin.HandleFunc("GET /healthz", s.healthz)
	s.admin.HandleFunc("GET /readyz", s.readyz)
	s.mux.HandleFunc("GET /static/mesa.css", s.css)
	if o.Metrics != nil {
		s.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "mesa_http_request_duration_seconds",
			Help: "Time to answer HTTP requests, by route and status code.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)},
			[]string{"route", "code"})
		s.checks = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "mesa_health_check_ok",
			Help: "1 when a health check (database, outbox, imap …) passed at the last /healthz or /readyz, 0 when it failed."},
			[]string{"check"})
		o.Metrics.MustRegister(s.duration, s.checks)
		s.admin.Handle("GET /metrics", promhttp.HandlerFor(o.Metrics, promhttp.HandlerOpts{}))
	}
	s.mux.HandleFunc("GET /{$}", s.home)
	s.mux.HandleFunc("GET /consulta", s.consulta)
	s.mux.HandleFunc("GET /t/{number}", s.ticket)
	s.mux.HandleFunc("POST /t/{number}/comentario", s.comment)
	s.mux.HandleFunc("GET /api/v1/tickets/{number}", s.api)
	s.mux.HandleFunc("GET /mis-solicitudes", s.mineForm)
	s.mux.HandleFunc("POST /mis-solicitudes", s.mineRequest)
	s.mux.HandleFunc("GET /mis-solicitudes/{token}", s.mineList)
	s.mux.HandleFunc("GET /mis-solicitudes/{token}/t/{number}", s.mineTicket)
	s.mux.HandleFunc("GET /adjuntos/{token}", s.file)
	s.mux.HandleFunc("GET /encuesta/{token}", s.survey)
	s.mux.HandleFunc("POST /encuesta/{token}", s.answerSurvey)
	s.mux.HandleFunc("GET /", s.notFound)
	return s, nil
}

// parsePages parses each page with the layout, on its own, so that every
// page defines its own "title". A word the catalogue lacks stops the page
// with an error, never renders as "".
func parsePages() map[string]*template.Template {
	layout := template.Must(template.New("").Option("missingkey=error").ParseFS(files, "templates/layout.html"))
	names, _ := fs.Glob(files, "templates/*.html")
	pages := map[string]*template.Template{}
	for _, n := range names {
		if name := path.Base(n); name != "layout.html" {
			pages[name] = template.Must(template.Must(layout.Clone()).ParseFS(files, n))
		}
	}
	return pages
}

// ServeHTTP serves the public pages, API and static files, with the
// security headers every response carries.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer") // keys in URLs must not leak
	h.Set("X-Frame-Options", "DENY")
	if strings.HasPrefix(r.URL.Path, "/t/") || strings.HasPrefix(r.URL.Path, "/api/") || r.URL.Path == "/consulta" ||
		strings.HasPrefix(r.URL.Path, "/mis-solicitudes/") || strings.HasPrefix(r.URL.Path, "/encuesta/") ||
		strings.HasPrefix(r.URL.Path, "/adjuntos/") {
		h.Set("Cache-Control", "no-store")
	}
	s.serve(s.mux, w, r)
}

// Admin is the handler of the admin listener: /metrics, /healthz and
// /readyz, which the public one never serves.
func (s *Server) Admin() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-store")
		s.serve(s.admin, w, r)
	})
}

// serve runs mux, timing the request when there are metrics.
func (s *Server) serve(mux *http.ServeMux, w http.ResponseWriter, r *http.Request) {
	if s.duration == nil {
		mux.ServeHTTP(w, r)
		return
	}
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
	mux.ServeHTTP(rec, r)
	_, route := mux.Handler(r)
	if route == "" {
		route = "none"
	}
	s.duration.WithLabelValues(route, strconv.Itoa(rec.code)).Observe(time.Since(start).Seconds())
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
}

// healthAnswer is the JSON of /healthz and /readyz: a status word and one
// word per check, never error text (that goes to the log and to the
// mesa_health_check_ok gauge).
type healthAnswer struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
}

// healthz answers 200 {"status":"ok","checks":{"database":"up"}} when the
// database answers within two seconds, 503 with "error" and "down"
// otherwise.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	rep := s.ping(ctx)
	s.record(rep)
	if !rep.Ready() {
		writeJSON(w, http.StatusServiceUnavailable, healthAnswer{"error", rep.Checks})
		return
	}
	writeJSON(w, http.StatusOK, healthAnswer{"ok", rep.Checks})
}

// readyz adds the daemon's own checks to the database's: 200 "ready" or
// 503 "not_ready".
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	rep := s.ping(ctx)
	if rep.Ready() && s.o.Ready != nil {
		more := s.o.Ready(ctx)
		for k, v := range more.Checks {
			rep.Checks[k] = v
		}
		rep.Errs = append(rep.Errs, more.Errs...)
	}
	s.record(rep)
	if !rep.Ready() {
		writeJSON(w, http.StatusServiceUnavailable, healthAnswer{"not_ready", rep.Checks})
		return
	}
	writeJSON(w, http.StatusOK, healthAnswer{"ready", rep.Checks})
}

// ping is the database check.
func (s *Server) ping(ctx context.Context) health.Report {
	if err := s.d.DB.Ping(ctx); err != nil {
		return health.Report{Checks: map[string]string{"database": health.StatusDown}, Errs: []error{fmt.Errorf("database: %w", err)}}
	}
	return health.Report{Checks: map[string]string{"database": "up"}}
}

// healthLog remembers each check's last word, so that a failing check is
// logged when it starts failing and when it recovers, not at every probe.
type healthLog struct {
	mu   sync.Mutex
	last map[string]string
}

// record puts a report into the log and the metrics.
func (s *Server) record(rep health.Report) {
	s.health.mu.Lock()
	defer s.health.mu.Unlock()
	if s.health.last == nil {
		s.health.last = map[string]string{}
	}
	changed := false
	for k, v := range rep.Checks {
		ok := v == health.StatusOK || v == "up"
		if s.checks != nil {
			s.checks.WithLabelValues(k).Set(map[bool]float64{true: 1, false: 0}[ok])
		}
		if prev, seen := s.health.last[k]; prev != v && (seen || !ok) {
			changed = true
			if ok {
				s.d.Logger.Info("health check recovered", "check", k, "status", v)
			}
		}
		s.health.last[k] = v
	}
	if len(rep.Errs) == 0 {
		return
	}
	level := slog.LevelDebug
	if changed {
		level = slog.LevelWarn
	}
	s.d.Logger.Log(context.Background(), level, "health check failed", "err", errors.Join(rep.Errs...))
}

func (s *Server) css(w http.ResponseWriter, r *http.Request) {
	b, _ := files.ReadFile("templates/mesa.css")
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(b)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

// page is the data of every page.
type page struct {
	Lang, Other string
	T           map[string]string // the catalogue in Lang (package i18n)
	Site        siteData
	OtherURL    string // this page in the other language
	Error       string
	Number      string
	// the survey page
	Survey  *desk.SurveyPage
	CSRF    string
	Thanks  string
	Ratings []int
	// "Mis solicitudes"
	AskAddress   bool
	Email, Token string
	Mine         []mineRow
}

type mineRow struct{ Number, Subject, State, Created string }

// siteData is what the layout shows around every page.
type siteData struct {
	PrivacyURL string
	GovCo      bool
	Entity     Entity
}

func (s *Server) lang(r *http.Request) string {
	switch l := r.URL.Query().Get("lang"); l {
	case "es", "en":
		return l
	}
	if l := r.FormValue("lang"); l == "es" || l == "en" {
		return l
	}
	return s.o.Language
}

func (s *Server) base(r *http.Request) page {
	l := s.lang(r)
	other := "en"
	if l == "en" {
		other = "es"
	}
	// The other language's link keeps the page's query (a ticket's key);
	// error pages drop it (the layout), so a wrong key is not echoed.
	q := r.URL.Query()
	q.Set("lang", other)
	return page{Lang: l, Other: other, T: i18n.Table(l), OtherURL: r.URL.Path + "?" + q.Encode(),
		Site: siteData{PrivacyURL: s.o.PrivacyURL, GovCo: s.o.GovCo, Entity: s.o.Entity}}
}

func (s *Server) render(w http.ResponseWriter, code int, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	t := s.pages[name]
	if t == nil {
		s.d.Logger.Error("rendering page", "page", name, "err", "no such page")
		return
	}
	if err := t.ExecuteTemplate(w, name, data); err != nil {
		s.d.Logger.Error("rendering page", "page", name, "err", err)
	}
}

// notFound answers every GET no route takes, as a page.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	s.render(w, http.StatusNotFound, "notfound.html", s.base(r))
}

func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	s.render(w, http.StatusOK, "lookup.html", s.base(r))
}

// consulta turns the lookup form into the ticket's address.
func (s *Server) consulta(w http.ResponseWriter, r *http.Request) {
	number := strings.ToUpper(strings.TrimSpace(r.URL.Query().Get("numero")))
	key := strings.TrimSpace(r.URL.Query().Get("clave"))
	if _, err := ticket.ParseNumber(number); err != nil || key == "" {
		p := s.base(r)
		p.Error, p.Number = i18n.T(p.Lang, "notfound"), number
		s.render(w, http.StatusNotFound, "lookup.html", p)
		return
	}
	http.Redirect(w, r, "/t/"+url.PathEscape(number)+"?clave="+url.QueryEscape(key)+"&lang="+s.lang(r), http.StatusSeeOther)
}

// ticketPage is the data of the ticket page.
type ticketPage struct {
	page
	V                             *desk.View
	Key, CSRF                     string
	Category, Group, Created, Due string
	Remaining                     string
	Overdue, Open                 bool
	History                       []historyItem
}

type historyItem struct{ When, What, Who, Text string }

func (s *Server) ticket(w http.ResponseWriter, r *http.Request) {
	number := r.PathValue("number")
	key := r.URL.Query().Get("clave")
	p := s.base(r)
	if key == "" {
		p.Number = number
		s.render(w, http.StatusOK, "lookup.html", p)
		return
	}
	v, ok := s.lookup(w, r, number, key, p)
	if !ok {
		return
	}
	s.ticketView(w, r, p, v, key)
}

// ticketView renders a ticket's page; without a key (seen through "Mis
// solicitudes") it has no comment form.
func (s *Server) ticketView(w http.ResponseWriter, r *http.Request, p page, v *desk.View, key string) {
	tp := ticketPage{page: p, V: v, Key: key, Open: v.Ticket.State.Open() && key != "", Category: v.Ticket.Category, Group: v.Ticket.Group}
	tp.Category = s.d.Catalogue.DisplayName(v.Ticket.Category)
	tp.Created = s.when(v.Ticket.CreatedAt)
	if v.Ticket.DueAt != nil {
		tp.Due = s.when(*v.Ticket.DueAt)
		rem := v.Remaining
		if rem < 0 {
			tp.Overdue, rem = true, -rem
		}
		tp.Remaining = fmt.Sprintf("%.1f", rem.Hours())
	}
	for _, e := range v.History {
		item := historyItem{When: s.when(e.At), What: i18n.T(p.Lang, "ev_"+string(e.Kind)), Who: i18n.T(p.Lang, "desk"), Text: e.Body}
		switch requester, participant := v.Author(e); {
		case requester:
			item.Who = i18n.T(p.Lang, "requester")
		case participant != "":
			item.Who = participant // a colleague in copy, in their own name
		}
		switch e.Kind {
		case ticket.EventStateChanged:
			item.What += ": " + i18n.T(p.Lang, e.To)
		case ticket.EventSLAStarted, ticket.EventSLADueChanged, ticket.EventSLAResumed:
			if due, err := time.Parse(time.RFC3339, e.To); err == nil {
				item.What += ": " + s.when(due)
			}
		}
		tp.History = append(tp.History, item)
	}
	tp.CSRF = s.csrfCookie(w, r)
	s.render(w, http.StatusOK, "ticket.html", tp)
}

// lookup opens a ticket or writes the one answer for every failure: wrong
// number, wrong key, or too many attempts.
func (s *Server) lookup(w http.ResponseWriter, r *http.Request, number, key string, p page) (*desk.View, bool) {
	number = strings.ToUpper(strings.TrimSpace(number))
	if s.limited(w, r, p, "lookup.html") {
		return nil, false
	}
	v, err := s.d.Desk.Lookup(r.Context(), number, key)
	if errors.Is(err, ticket.ErrNotFound) {
		if !s.guesses.allow(number) {
			s.tooMany(w, p, "lookup.html")
			return nil, false
		}
		p.Error, p.Number = i18n.T(p.Lang, "notfound"), number
		s.render(w, http.StatusNotFound, "lookup.html", p)
		return nil, false
	}
	if err != nil {
		s.d.Logger.Error("ticket lookup failed", "err", err)
		http.Error(w, "error", http.StatusInternalServerError)
		return nil, false
	}
	return v, true
}

func (s *Server) when(t time.Time) string {
	return t.In(s.o.Location).Format("2006-01-02 15:04")
}

// csrfCookie returns the page's anti-forgery token, set as a SameSite=Strict
// cookie that the comment form must echo (double submit).
func (s *Server) csrfCookie(w http.ResponseWriter, r *http.Request) string {
	return s.csrfCookieAt(w, r, "/t/")
}

func (s *Server) csrfCookieAt(w http.ResponseWriter, r *http.Request, path string) string {
	if c, err := r.Cookie("mesa_csrf"); err == nil && len(c.Value) >= 26 {
		return c.Value
	}
	tok := rand.Text()
	http.SetCookie(w, &http.Cookie{Name: "mesa_csrf", Value: tok, Path: path, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	return tok
}

func (s *Server) comment(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	number := r.PathValue("number")
	p := s.base(r)
	c, err := r.Cookie("mesa_csrf")
	if err != nil || subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue("csrf"))) != 1 {
		p.Error = i18n.T(p.Lang, "bad")
		s.render(w, http.StatusForbidden, "lookup.html", p)
		return
	}
	key := r.PostFormValue("clave")
	if _, ok := s.lookup(w, r, number, key, p); !ok {
		return
	}
	if err := s.d.Desk.RequesterComment(r.Context(), number, key, strings.TrimSpace(r.PostFormValue("comentario"))); err != nil {
		if errors.Is(err, ticket.ErrInvalid) {
			p.Error = i18n.T(p.Lang, "bad")
			s.render(w, http.StatusBadRequest, "lookup.html", p)
			return
		}
		s.d.Logger.Error("comment from the status page failed", "err", err)
		http.Error(w, "error", http.StatusInternalServerError)
		return
	}
	http.Redirect(w, r, "/t/"+url.PathEscape(number)+"?clave="+url.QueryEscape(key)+"&lang="+p.Lang, http.StatusSeeOther)
}

// apiTicket is the JSON of GET /api/v1/tickets/{number}.
type apiTicket struct {
	Number         string     `json:"number"`
	Subject        string     `json:"subject"`
	State          string     `json:"state"`
	Type           string     `json:"type"`
	Criticality    string     `json:"criticidad"`
	Category       string     `json:"category"`
	CategoryName   string     `json:"category_name"`
	Created        time.Time  `json:"created"`
	Due            *time.Time `json:"due,omitempty"`
	RemainingHours *float64   `json:"remaining_business_hours,omitempty"`
	Paused         bool       `json:"paused"`
	Solution       string     `json:"solution,omitempty"`
	History        []apiEvent `json:"history"`
}

type apiEvent struct {
	At   time.Time `json:"at"`
	Kind string    `json:"kind"`
	By   string    `json:"by"` // requester, participant or desk
	// ByAddress is the participant's address, for "participant".
	ByAddress string `json:"by_address,omitempty"`
	To        string `json:"to,omitempty"`
	Text      string `json:"text,omitempty"`
}

// api mirrors the status page; the key comes as a bearer token.
func (s *Server) api(w http.ResponseWriter, r *http.Request) {
	key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	number := strings.ToUpper(strings.TrimSpace(r.PathValue("number")))
	if !ok || !s.ips.allow(s.clientKey(r)) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "not found"})
		return
	}
	v, err := s.d.Desk.Lookup(r.Context(), number, strings.TrimSpace(key))
	if err != nil {
		if errors.Is(err, ticket.ErrNotFound) {
			if !s.guesses.allow(number) {
				writeJSON(w, http.StatusTooManyRequests, map[string]string{"error": "too many wrong keys for this ticket; try later"})
				return
			}
		} else {
			s.d.Logger.Error("api lookup failed", "err", err)
		}
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "not found"})
		return
	}
	t := v.Ticket
	out := apiTicket{Number: t.Number, Subject: t.Subject, State: string(t.State), Type: string(t.Type),
		Criticality: string(t.Criticality), Category: t.Category, CategoryName: t.Category, Created: t.CreatedAt,
		Due: t.DueAt, Paused: v.Paused, Solution: t.Solution, History: []apiEvent{}}
	out.CategoryName = s.d.Catalogue.DisplayName(t.Category)
	if t.DueAt != nil && t.State.Open() {
		h := v.Remaining.Hours()
		out.RemainingHours = &h
	}
	for _, e := range v.History {
		ev := apiEvent{At: e.At, Kind: string(e.Kind), By: "desk", To: e.To, Text: e.Body}
		switch requester, participant := v.Author(e); {
		case requester:
			ev.By = "requester"
		case participant != "":
			ev.By, ev.ByAddress = "participant", participant
		}
		out.History = append(out.History, ev)
	}
	writeJSON(w, http.StatusOK, out)
}

// limiter allows n events per window per key.
type limiter struct {
	mu     sync.Mutex
	n      int
	window time.Duration
	seen   map[string][]time.Time
}

// ticketGuesses is how many wrong keys one ticket number takes in ten
// minutes, from all addresses together, before further wrong ones are
// answered 429 instead of 404 for the rest of the window. Only wrong keys
// are counted and only wrong keys are refused: the right number and key
// are always served, so nobody can lock the owner out by guessing (a key
// has 130 random bits; the count only slows a noisy guesser down).
const ticketGuesses = 20

func newLimiter(n int, window time.Duration) *limiter {
	return &limiter{n: n, window: window, seen: map[string][]time.Time{}}
}

func (l *limiter) allow(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	recent := l.recent(key, now)
	if len(l.seen) > 100000 { // bounded memory under a flood of addresses
		l.seen = map[string][]time.Time{}
	}
	if len(recent) >= l.n {
		l.seen[key] = recent
		return false
	}
	l.seen[key] = append(recent, now)
	return true
}

// recent returns the key's events within the window. They are kept in
// the order they happened, so the old ones are a prefix.
func (l *limiter) recent(key string, now time.Time) []time.Time {
	ts := l.seen[key]
	i := sort.Search(len(ts), func(i int) bool { return now.Sub(ts[i]) < l.window })
	return ts[i:]
}

// limited answers 429 with the page tmpl when the client used up its
// lookups, and reports whether it did.
func (s *Server) limited(w http.ResponseWriter, r *http.Request, p page, tmpl string) bool {
	return !s.ips.allow(s.clientKey(r)) && s.tooMany(w, p, tmpl)
}

// tooMany renders the 429 page; it returns true for use in conditions.
func (s *Server) tooMany(w http.ResponseWriter, p page, tmpl string) bool {
	p.Error = i18n.T(p.Lang, "toomany")
	s.render(w, http.StatusTooManyRequests, tmpl, p)
	return true
}

// surveyError shows why a survey link does not work.
func (s *Server) surveyError(w http.ResponseWriter, p page, err error) {
	switch {
	case errors.Is(err, desk.ErrSurveyUnknown):
		p.Error = i18n.T(p.Lang, "survey_unknown")
		s.render(w, http.StatusNotFound, "survey.html", p)
	case errors.Is(err, desk.ErrSurveyAnswered):
		p.Error = i18n.T(p.Lang, "survey_answered")
		s.render(w, http.StatusGone, "survey.html", p)
	case errors.Is(err, desk.ErrSurveyExpired):
		p.Error = i18n.T(p.Lang, "survey_expired")
		s.render(w, http.StatusGone, "survey.html", p)
	default:
		s.d.Logger.Error("survey page failed", "err", err)
		http.Error(w, "error", http.StatusInternalServerError)
	}
}

// survey shows the survey form. A GET changes nothing (mail scanners
// such as Safe Links open every link); the answer's POST does it all.
func (s *Server) survey(w http.ResponseWriter, r *http.Request) {
	p := s.base(r)
	if s.limited(w, r, p, "survey.html") {
		return
	}
	sp, err := s.d.Desk.OpenSurvey(r.Context(), r.PathValue("token"))
	if err != nil {
		s.surveyError(w, p, err)
		return
	}
	p.Survey, p.Ratings = sp, []int{1, 2, 3, 4, 5}
	p.CSRF = s.csrfCookieAt(w, r, "/encuesta/")
	s.render(w, http.StatusOK, "survey.html", p)
}

// answerSurvey records the answer; the link works once.
func (s *Server) answerSurvey(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 32<<10)
	p := s.base(r)
	c, err := r.Cookie("mesa_csrf")
	if err != nil || subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue("csrf"))) != 1 {
		p.Error = i18n.T(p.Lang, "bad")
		s.render(w, http.StatusForbidden, "survey.html", p)
		return
	}
	var a desk.SurveyAnswer
	rating, err := strconv.Atoi(r.PostFormValue("calificacion"))
	solved := r.PostFormValue("resuelto")
	if err != nil || rating < 1 || rating > 5 || (solved != "si" && solved != "no") {
		p.Error = i18n.T(p.Lang, "survey_incomplete")
		s.render(w, http.StatusBadRequest, "survey.html", p)
		return
	}
	yes := solved == "si"
	a.Rating, a.Solved, a.Comment = rating, &yes, r.PostFormValue("comentario")
	if err := s.d.Desk.AnswerSurvey(r.Context(), r.PathValue("token"), a); err != nil {
		s.surveyError(w, p, err)
		return
	}
	p.Thanks = i18n.T(p.Lang, "survey_thanks")
	if s.d.Desk.SurveyReopens(a) {
		p.Thanks = i18n.T(p.Lang, "survey_reopened")
	}
	s.render(w, http.StatusOK, "survey.html", p)
}

func (s *Server) mineForm(w http.ResponseWriter, r *http.Request) {
	p := s.base(r)
	p.AskAddress, p.CSRF = true, s.csrfCookieAt(w, r, "/mis-solicitudes")
	s.render(w, http.StatusOK, "mine.html", p)
}

// mineRequest mails the link when the address has tickets; the answer is
// the same either way.
func (s *Server) mineRequest(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	p := s.base(r)
	c, err := r.Cookie("mesa_csrf")
	if err != nil || subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue("csrf"))) != 1 {
		p.Error = i18n.T(p.Lang, "bad")
		s.render(w, http.StatusForbidden, "mine.html", p)
		return
	}
	if s.limited(w, r, p, "mine.html") {
		return
	}
	err = s.d.Desk.RequestMyTickets(r.Context(), r.PostFormValue("correo"))
	switch {
	case errors.Is(err, ticket.ErrInvalid):
		p.Error, p.AskAddress, p.CSRF = i18n.T(p.Lang, "mine_bad"), true, c.Value
		s.render(w, http.StatusBadRequest, "mine.html", p)
		return
	case err != nil:
		s.d.Logger.Error("Mis solicitudes request failed", "err", err)
		http.Error(w, "error", http.StatusInternalServerError)
		return
	}
	p.Thanks = i18n.T(p.Lang, "mine_sent")
	s.render(w, http.StatusOK, "mine.html", p)
}

// mineError shows why a link does not work.
func (s *Server) mineError(w http.ResponseWriter, r *http.Request, p page, err error) {
	switch {
	case errors.Is(err, desk.ErrLinkExpired):
		p.Error, p.AskAddress, p.CSRF = i18n.T(p.Lang, "mine_expired"), true, s.csrfCookieAt(w, r, "/mis-solicitudes")
		s.render(w, http.StatusGone, "mine.html", p)
	case errors.Is(err, ticket.ErrNotFound):
		p.Error, p.AskAddress, p.CSRF = i18n.T(p.Lang, "notfound"), true, s.csrfCookieAt(w, r, "/mis-solicitudes")
		s.render(w, http.StatusNotFound, "mine.html", p)
	default:
		s.d.Logger.Error("Mis solicitudes failed", "err", err)
		http.Error(w, "error", http.StatusInternalServerError)
	}
}

func (s *Server) mineList(w http.ResponseWriter, r *http.Request) {
	p := s.base(r)
	if s.limited(w, r, p, "mine.html") {
		return
	}
	token := r.PathValue("token")
	email, ts, err := s.d.Desk.MyTickets(r.Context(), token)
	if err != nil {
		s.mineError(w, r, p, err)
		return
	}
	p.Email, p.Token = email, token
	for _, t := range ts {
		p.Mine = append(p.Mine, mineRow{Number: t.Number, Subject: t.Subject, State: i18n.T(p.Lang, string(t.State)), Created: s.when(t.CreatedAt)})
	}
	s.render(w, http.StatusOK, "mine.html", p)
}

func (s *Server) mineTicket(w http.ResponseWriter, r *http.Request) {
	p := s.base(r)
	if s.limited(w, r, p, "mine.html") {
		return
	}
	v, err := s.d.Desk.LookupMine(r.Context(), r.PathValue("token"), r.PathValue("number"))
	if err != nil {
		s.mineError(w, r, p, err)
		return
	}
	s.ticketView(w, r, p, v, "")
}

// file serves the file a signed download link names, as a download
// (never shown inline, in a sandbox). It only reads: the scanners that
// open every link of a mail change nothing. The token is never logged.
func (s *Server) file(w http.ResponseWriter, r *http.Request) {
	p := s.base(r)
	a, err := s.d.Desk.File(r.Context(), r.PathValue("token"))
	switch {
	case errors.Is(err, ticket.ErrNotFound):
		http.Error(w, i18n.T(p.Lang, "file_notfound"), http.StatusNotFound)
		return
	case errors.Is(err, desk.ErrFileLinkExpired):
		http.Error(w, i18n.T(p.Lang, "file_expired"), http.StatusGone)
		return
	case err != nil:
		s.d.Logger.Error("file download failed", "err", err)
		http.Error(w, "error", http.StatusInternalServerError)
		return
	}
	ct := "application/octet-stream"
	if mt, _, err := mime.ParseMediaType(a.ContentType); err == nil && mt != "text/html" && !strings.Contains(mt, "xml") {
		ct = mt
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": a.Filename}))
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	h.Set("Content-Length", strconv.Itoa(len(a.Data)))
	w.Write(a.Data)
}
