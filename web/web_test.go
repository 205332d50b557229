package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mesadeservicios/mesa/desk"
	"github.com/mesadeservicios/mesa/store/storetest"
	"github.com/mesadeservicios/mesa/ticket"
	"github.com/mesadeservicios/mesa/web"
	"github.com/mesadeservicios/mesa/web/health"
)

type pinger struct{ err error }

func (p pinger) Ping(context.Context) error { return p.err }

// TestHealthz: the health answers carry status words only, never the
// error text behind them; and only the admin handler serves them.
func TestHealthz(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		code int
		body string
	}{
		{"up", nil, 200, `{"status":"ok","checks":{"database":"up"}}`},
		{"database down", errors.New("dial tcp 10.0.0.5:5432: connection refused"), 503, `{"status":"error","checks":{"database":"down"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			server(t, web.Deps{DB: pinger{tc.err}}, web.Options{}).Admin().ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
			if rec.Code != tc.code || strings.TrimSpace(rec.Body.String()) != tc.body {
				t.Errorf("got %d %s, want %d %s", rec.Code, rec.Body, tc.code, tc.body)
			}
		})
	}
	rec := httptest.NewRecorder()
	server(t, web.Deps{DB: pinger{}}, web.Options{}).Admin().ServeHTTP(rec, httptest.NewRequest("POST", "/healthz", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: got %d, want 405", rec.Code)
	}
}

// TestReadyz: the daemon's checks are named with their status words; the
// reason (a login error with an address in it) goes to the log only.
func TestReadyz(t *testing.T) {
	var logged strings.Builder
	failing := func(context.Context) health.Report {
		return health.Report{Checks: map[string]string{"imap": "silent", "outbox": "ok"},
			Errs: []error{errors.New("imap: no successful fetch since 09:00: LOGIN failed for mesa@10.1.1.1")}}
	}
	srv := server(t, web.Deps{DB: pinger{}, Logger: slog.New(slog.NewTextHandler(&logged, nil))}, web.Options{Ready: failing}).Admin()
	for range 2 {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
		want := `{"status":"not_ready","checks":{"database":"up","imap":"silent","outbox":"ok"}}`
		if rec.Code != 503 || strings.TrimSpace(rec.Body.String()) != want {
			t.Errorf("got %d %s, want 503 %s", rec.Code, rec.Body, want)
		}
		if strings.Contains(rec.Body.String(), "LOGIN") || strings.Contains(rec.Body.String(), "10.1.1.1") {
			t.Errorf("the answer holds error text: %s", rec.Body)
		}
	}
	if n := strings.Count(logged.String(), "LOGIN failed"); n != 1 {
		t.Errorf("the failure was logged at warn %d times in two probes, want once:\n%s", n, logged.String())
	}
	rec := httptest.NewRecorder()
	server(t, web.Deps{DB: pinger{errors.New("pq: password authentication failed for user mesa")}}, web.Options{Ready: failing}).Admin().ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != 503 || strings.TrimSpace(rec.Body.String()) != `{"status":"not_ready","checks":{"database":"down"}}` {
		t.Errorf("database down: got %d %s", rec.Code, rec.Body)
	}
	rec = httptest.NewRecorder()
	server(t, web.Deps{DB: pinger{}}, web.Options{Ready: func(context.Context) health.Report { return health.Report{Checks: map[string]string{"outbox": "ok"}} }}).
		Admin().ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != `{"status":"ready","checks":{"database":"up","outbox":"ok"}}` {
		t.Errorf("ready: got %d %s", rec.Code, rec.Body)
	}
}

// TestListenersAreSplit: metrics and health are on the admin handler
// only; pages and static files on the public one only.
func TestListenersAreSplit(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := newSiteWith(t, web.Options{Metrics: reg})
	admin := httptest.NewServer(s.web.Admin())
	t.Cleanup(admin.Close)
	for _, tc := range []struct {
		base, path string
		code       int
	}{
		{s.srv.URL, "/metrics", 404}, {s.srv.URL, "/healthz", 404}, {s.srv.URL, "/readyz", 404},
		{admin.URL, "/healthz", 200}, {admin.URL, "/readyz", 200}, {admin.URL, "/metrics", 200},
		{s.srv.URL, "/", 200}, {s.srv.URL, "/static/mesa.css", 200},
		{admin.URL, "/", 404}, {admin.URL, "/static/mesa.css", 404}, {admin.URL, "/api/v1/tickets/MS-2026-000001", 404},
	} {
		resp, err := http.Get(tc.base + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.code {
			t.Errorf("%s on the %s listener: got %d, want %d", tc.path, map[bool]string{true: "admin", false: "public"}[tc.base == admin.URL], resp.StatusCode, tc.code)
		}
		if tc.path == "/metrics" && tc.code == 200 && !strings.Contains(string(b), `mesa_health_check_ok{check="database"} 1`) {
			t.Errorf("metrics lack the health checks:\n%s", b)
		}
	}
}

type site struct {
	srv    *httptest.Server
	d      *desk.Desk
	web    *web.Server
	client *http.Client
}

func newSite(t *testing.T, perMinute int) *site {
	t.Helper()
	return newSiteWith(t, web.Options{LookupsPerMinute: perMinute})
}

// newSiteWith serves a desk on SQLite with o, whose Desk, DB, Catalogue
// and Logger it fills.
func newSiteWith(t *testing.T, o web.Options) *site {
	t.Helper()
	db := storetest.SQLite(t)
	d, eng := newDesk(t, db, func() time.Time { return time.Date(2026, 3, 24, 14, 0, 0, 0, time.UTC) })
	w := server(t, web.Deps{Desk: d, DB: db, Catalogue: eng}, o)
	srv := httptest.NewServer(w)
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	return &site{srv: srv, d: d, web: w, client: &http.Client{Jar: jar}}
}

func (s *site) get(t *testing.T, path string) (int, string, http.Header) {
	t.Helper()
	resp, err := s.client.Get(s.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func TestStatusPage(t *testing.T) {
	s := newSite(t, 100)
	ctx := context.Background()
	tk, err := s.d.Create(ctx, desk.NewTicket{Subject: `No conecta la VPN <script>alert(1)</script>`, Requester: "ana@entidad.gov.co",
		Body: "Desde la casa <a href=\"javascript:alert(2)\">aquí</a> no conecta."})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.d.Comment(ctx, tk.Number, "carlos@entidad.gov.co", "Revisar el firewall (interno)", true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.d.Transition(ctx, tk.Number, ticket.Retenido, "carlos@entidad.gov.co", "Envíe el F-DE-10"); err != nil {
		t.Fatal(err)
	}
	path := "/t/" + tk.Number + "?clave=" + url.QueryEscape(tk.AccessKey)
	code, body, h := s.get(t, path)
	if code != 200 {
		t.Fatalf("lookup: %d\n%s", code, body)
	}
	for _, want := range []string{tk.Number, "Acceso Remoto", "Retenido", "Envíe el F-DE-10", "&lt;script&gt;", "En espera",
		"Tiempo de solución: vence", "Tiempo de solución detenido"} { // the SLA timeline
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, bad := range []string{"<script>alert", `href="javascript:`, "Revisar el firewall", "carlos@"} {
		if strings.Contains(body, bad) {
			t.Errorf("page shows %q", bad)
		}
	}
	if !strings.Contains(h.Get("Content-Security-Policy"), "default-src 'none'") || h.Get("Referrer-Policy") != "no-referrer" ||
		h.Get("Cache-Control") != "no-store" || h.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("security headers: %v", h)
	}
	// Wrong key and wrong number give the same answer.
	c1, b1, _ := s.get(t, "/t/"+tk.Number+"?clave=otra")
	c2, b2, _ := s.get(t, "/t/MS-2026-999999?clave="+url.QueryEscape(tk.AccessKey))
	if c1 != 404 || c2 != 404 || strings.ReplaceAll(b1, tk.Number, "") != strings.ReplaceAll(b2, "MS-2026-999999", "") {
		t.Errorf("wrong key %d / wrong number %d differ", c1, c2)
	}
	// The lookup form leads to the page.
	code, body, _ = s.get(t, "/consulta?numero="+strings.ToLower(tk.Number)+"&clave="+url.QueryEscape(tk.AccessKey))
	if code != 200 || !strings.Contains(body, "Acceso Remoto") {
		t.Errorf("lookup form: %d", code)
	}
	// English.
	if _, body, _ = s.get(t, path+"&lang=en"); !strings.Contains(body, "On hold") {
		t.Error("no English page")
	}
}

func TestCommentFromThePage(t *testing.T) {
	s := newSite(t, 100)
	ctx := context.Background()
	tk, _ := s.d.Create(ctx, desk.NewTicket{Subject: "Silla coja", Requester: "ana@entidad.gov.co", Body: "La silla está coja."})
	s.d.Transition(ctx, tk.Number, ticket.Retenido, "carlos@entidad.gov.co", "¿Cuál es el número de inventario?")
	_, body, _ := s.get(t, "/t/"+tk.Number+"?clave="+url.QueryEscape(tk.AccessKey))
	i := strings.Index(body, `name="csrf" value="`)
	if i < 0 {
		t.Fatal("no csrf field")
	}
	csrf := body[i+len(`name="csrf" value="`):]
	csrf = csrf[:strings.Index(csrf, `"`)]
	post := func(token string) int {
		form := url.Values{"clave": {tk.AccessKey}, "csrf": {token}, "comentario": {"Placa 10456"}}
		resp, err := s.client.PostForm(s.srv.URL+"/t/"+tk.Number+"/comentario", form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post("forjado"); code != http.StatusForbidden {
		t.Errorf("forged CSRF token: %d, want 403", code)
	}
	if code := post(csrf); code != 200 { // 303 followed to the page
		t.Fatalf("comment: %d", code)
	}
	v, err := s.d.Lookup(ctx, tk.Number, tk.AccessKey)
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, e := range v.History {
		found = found || e.Kind == ticket.EventComment && e.Body == "Placa 10456" && e.Actor == "ana@entidad.gov.co"
	}
	if !found || v.Ticket.State != ticket.EnProceso {
		t.Errorf("comment from the page: found %v, state %s (the awaited answer resumes the ticket)", found, v.Ticket.State)
	}
}

func TestAPIAndRateLimit(t *testing.T) {
	s := newSite(t, 5)
	tk, _ := s.d.Create(context.Background(), desk.NewTicket{Subject: "Impresora", Requester: "ana@entidad.gov.co", Body: "No imprime."})
	call := func(key string) (int, map[string]any) {
		req, _ := http.NewRequest("GET", s.srv.URL+"/api/v1/tickets/"+tk.Number, nil)
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	code, m := call(tk.AccessKey)
	if code != 200 || m["number"] != tk.Number || m["category"] != "ti.soporte" || m["state"] != "abierto" {
		t.Fatalf("api: %d %v", code, m)
	}
	if code, _ := call("otra"); code != 404 {
		t.Errorf("wrong key: %d", code)
	}
	if code, _ := call(""); code != 404 {
		t.Errorf("no key: %d", code)
	}
	for i := 0; i < 5; i++ {
		call(tk.AccessKey)
	}
	if code, _ := call(tk.AccessKey); code != 404 {
		t.Errorf("over the limit: %d, want the same 404", code)
	}
	code, body, _ := s.get(t, "/t/"+tk.Number+"?clave="+url.QueryEscape(tk.AccessKey))
	if code != http.StatusTooManyRequests || !strings.Contains(body, "Demasiadas consultas") {
		t.Errorf("page over the limit: %d", code)
	}
}

// TestRightKeyIsNeverLockedOut: twenty wrong keys for one ticket, from
// wherever, slow further wrong ones down (429, page and API) but the right
// key is still served; other tickets are not affected.
func TestRightKeyIsNeverLockedOut(t *testing.T) {
	s := newSite(t, 1000)
	ctx := context.Background()
	tk, _ := s.d.Create(ctx, desk.NewTicket{Subject: "VPN", Requester: "ana@entidad.gov.co", Body: "No conecta."})
	other, _ := s.d.Create(ctx, desk.NewTicket{Subject: "Silla", Requester: "luis@entidad.gov.co", Body: "Rota."})
	for i := 0; i < 20; i++ {
		if code, _, _ := s.get(t, "/t/"+tk.Number+"?clave=intento"+strconv.Itoa(i)); code != http.StatusNotFound {
			t.Fatalf("guess %d: %d", i, code)
		}
	}
	if code, body, _ := s.get(t, "/t/"+tk.Number+"?clave=intento21"); code != http.StatusTooManyRequests || !strings.Contains(body, "Demasiadas consultas") {
		t.Errorf("21st wrong key: got %d, want 429", code)
	}
	for i := range 3 {
		if code, _, _ := s.get(t, "/t/"+tk.Number+"?clave="+url.QueryEscape(tk.AccessKey)); code != 200 {
			t.Errorf("after 20 wrong keys, the right one (try %d): got %d, want 200", i, code)
		}
	}
	api := func(key string) int {
		req, _ := http.NewRequest("GET", s.srv.URL+"/api/v1/tickets/"+tk.Number, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := s.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := api(tk.AccessKey); code != 200 {
		t.Errorf("API after 20 wrong keys, the right one: got %d, want 200", code)
	}
	if code := api("otra"); code != http.StatusTooManyRequests {
		t.Errorf("API after 20 wrong keys, a wrong one: got %d, want 429", code)
	}
	// The comment form checks the key the same way.
	if code, _, _ := s.get(t, "/t/"+other.Number+"?clave="+url.QueryEscape(other.AccessKey)); code != 200 {
		t.Errorf("another ticket: %d", code)
	}
}

// TestLimitsPerVisitorBehindProxy: behind a trusted proxy every visitor
// has their own per-address budget; a client that is not the proxy cannot
// pick its own address with X-Forwarded-For.
func TestLimitsPerVisitorBehindProxy(t *testing.T) {
	s := newSiteWith(t, web.Options{LookupsPerMinute: 2, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	look := func(peer, xff string) int {
		r := httptest.NewRequest("GET", "/t/MS-2026-999999?clave=x", nil)
		r.RemoteAddr = peer
		if xff != "" {
			r.Header.Set("X-Forwarded-For", xff)
		}
		rec := httptest.NewRecorder()
		s.web.ServeHTTP(rec, r)
		return rec.Code
	}
	for i := range 2 {
		if code := look("10.0.0.1:4000", "198.51.100.7"); code != 404 {
			t.Fatalf("visitor A lookup %d: got %d, want 404", i, code)
		}
	}
	if code := look("10.0.0.1:4000", "198.51.100.7"); code != 429 {
		t.Errorf("visitor A over the limit: got %d, want 429", code)
	}
	if code := look("10.0.0.1:4000", "6.6.6.6, 198.51.100.7"); code != 429 {
		t.Errorf("visitor A with a forged left part: got %d, want 429", code)
	}
	if code := look("10.0.0.1:4000", "198.51.100.8"); code != 404 {
		t.Errorf("visitor B through the same proxy: got %d, want 404 (own budget)", code)
	}
	for i := range 2 {
		look("203.0.113.5:4000", "192.0.2."+strconv.Itoa(i))
	}
	if code := look("203.0.113.5:4000", "192.0.2.99"); code != 429 {
		t.Errorf("untrusted peer with a fresh X-Forwarded-For: got %d, want 429 (its own address counts)", code)
	}
}
