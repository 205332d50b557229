package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/desk"
	"github.com/mesadeservicios/mesa/store/storetest"
	"github.com/mesadeservicios/mesa/ticket"
	"github.com/mesadeservicios/mesa/web"
)

type pinger struct{ err error }

func (p pinger) Ping(context.Context) error { return p.err }

func TestHealthz(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		code int
		body string
	}{
		{"up", nil, 200, `"status":"ok"`},
		{"database down", errors.New("connection refused"), 503, `"database":"connection refused"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			server(t, web.Deps{DB: pinger{tc.err}}, web.Options{}).ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
			if rec.Code != tc.code || !strings.Contains(rec.Body.String(), tc.body) {
				t.Errorf("got %d %s, want %d with %s", rec.Code, rec.Body, tc.code, tc.body)
			}
		})
	}
	rec := httptest.NewRecorder()
	server(t, web.Deps{DB: pinger{}}, web.Options{}).ServeHTTP(rec, httptest.NewRequest("POST", "/healthz", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: got %d, want 405", rec.Code)
	}
	rec = httptest.NewRecorder()
	server(t, web.Deps{DB: pinger{}}, web.Options{Ready: func(context.Context) error { return errors.New("imap: login failed") }}).
		ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != 503 || !strings.Contains(rec.Body.String(), "imap: login failed") {
		t.Errorf("readyz: %d %s", rec.Code, rec.Body)
	}
}

type site struct {
	srv    *httptest.Server
	d      *desk.Desk
	client *http.Client
}

func newSite(t *testing.T, perMinute int) *site {
	t.Helper()
	db := storetest.SQLite(t)
	d, eng := newDesk(t, db, func() time.Time { return time.Date(2026, 3, 24, 14, 0, 0, 0, time.UTC) })
	srv := httptest.NewServer(server(t, web.Deps{Desk: d, DB: db, Catalogue: eng}, web.Options{LookupsPerMinute: perMinute}))
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	return &site{srv: srv, d: d, client: &http.Client{Jar: jar}}
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

// Twenty wrong keys for one ticket, from wherever, close its lookups for
// ten minutes (the page and the API); other tickets are not affected.
func TestKeyGuessingIsLimitedPerTicket(t *testing.T) {
	s := newSite(t, 1000)
	ctx := context.Background()
	tk, _ := s.d.Create(ctx, desk.NewTicket{Subject: "VPN", Requester: "ana@entidad.gov.co", Body: "No conecta."})
	other, _ := s.d.Create(ctx, desk.NewTicket{Subject: "Silla", Requester: "luis@entidad.gov.co", Body: "Rota."})
	for i := 0; i < 20; i++ {
		if code, _, _ := s.get(t, "/t/"+tk.Number+"?clave=intento"+strconv.Itoa(i)); code != http.StatusNotFound {
			t.Fatalf("guess %d: %d", i, code)
		}
	}
	if code, _, _ := s.get(t, "/t/"+tk.Number+"?clave="+url.QueryEscape(tk.AccessKey)); code != http.StatusTooManyRequests {
		t.Errorf("after 20 wrong keys, the right one: %d, want 429", code)
	}
	req, _ := http.NewRequest("GET", s.srv.URL+"/api/v1/tickets/"+tk.Number, nil)
	req.Header.Set("Authorization", "Bearer "+tk.AccessKey)
	if resp, err := s.client.Do(req); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("API after 20 wrong keys: %v %v", resp.StatusCode, err)
	}
	if code, _, _ := s.get(t, "/t/"+other.Number+"?clave="+url.QueryEscape(other.AccessKey)); code != 200 {
		t.Errorf("another ticket: %d", code)
	}
}
