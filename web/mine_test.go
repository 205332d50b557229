package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/desk"
	"github.com/mesadeservicios/mesa/store"
	"github.com/mesadeservicios/mesa/store/storetest"
	"github.com/mesadeservicios/mesa/web"
)

// mailSite is a site whose desk mails (acknowledgements, surveys, links)
// into the outbox, with a clock the test moves.
type mailSite struct {
	*site
	db  *store.DB
	now *time.Time
}

func newMailSite(t *testing.T) *mailSite {
	t.Helper()
	db := storetest.SQLite(t)
	now := time.Date(2026, 3, 24, 14, 0, 0, 0, time.UTC)
	d, eng := newDesk(t, db, func() time.Time { return now })
	srv := httptest.NewServer(server(t, web.Deps{Desk: d, DB: db, Catalogue: eng}, web.Options{LookupsPerMinute: 100}))
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	return &mailSite{site: &site{srv: srv, d: d, client: &http.Client{Jar: jar}}, db: db, now: &now}
}

// link returns the last link to path found in the outbox to addr.
func (s *mailSite) link(t *testing.T, addr, path string) string {
	t.Helper()
	rows, err := s.db.DueMail(context.Background(), s.now.Add(24*time.Hour), 1000)
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(regexp.QuoteMeta(path) + `([A-Za-z0-9_-]+)`)
	token := ""
	for _, m := range rows {
		if m.To[0] == addr {
			if sm := re.FindSubmatch(m.Raw); sm != nil {
				token = string(sm[1])
			}
		}
	}
	return token
}

func (s *mailSite) postForm(t *testing.T, path string, form url.Values) (int, string) {
	t.Helper()
	resp, err := s.client.PostForm(s.srv.URL+path, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestMyTickets: the same answer for an address with and without tickets,
// a link mailed only to the one with tickets, its list and ticket pages,
// never another person's ticket, and expiry after 30 minutes.
func TestMyTickets(t *testing.T) {
	ctx := context.Background()
	s := newMailSite(t)
	mine, _ := s.d.Create(ctx, desk.NewTicket{Subject: "Impresora <i>atascada</i>", Requester: "ana@entidad.gov.co", Body: "No imprime."})
	other, _ := s.d.Create(ctx, desk.NewTicket{Subject: "Silla rota", Requester: "luis@entidad.gov.co", Body: "Se partió."})
	_, form, _ := s.get(t, "/mis-solicitudes")
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(form)
	if csrf == nil {
		t.Fatalf("no form:\n%s", form)
	}
	_, withTickets := s.postForm(t, "/mis-solicitudes", url.Values{"csrf": {csrf[1]}, "correo": {"Ana <ANA@entidad.gov.co>"}})
	_, without := s.postForm(t, "/mis-solicitudes", url.Values{"csrf": {csrf[1]}, "correo": {"nadie@entidad.gov.co"}})
	if withTickets != without || !strings.Contains(withTickets, "Si esa dirección tiene solicitudes") {
		t.Errorf("the answers differ or say too much:\n%s\n---\n%s", withTickets, without)
	}
	if code, _ := s.postForm(t, "/mis-solicitudes", url.Values{"csrf": {"x"}, "correo": {"ana@entidad.gov.co"}}); code != http.StatusForbidden {
		t.Errorf("forged CSRF: %d", code)
	}
	if code, _ := s.postForm(t, "/mis-solicitudes", url.Values{"csrf": {csrf[1]}, "correo": {"no es un correo"}}); code != http.StatusBadRequest {
		t.Errorf("bad address: %d", code)
	}
	token := s.link(t, "ana@entidad.gov.co", "/mis-solicitudes/")
	if len(token) < 43 || s.link(t, "nadie@entidad.gov.co", "/mis-solicitudes/") != "" {
		t.Fatalf("links: ana %q", token)
	}
	code, list, hdr := s.get(t, "/mis-solicitudes/"+token)
	if code != 200 || !strings.Contains(list, mine.Number) || strings.Contains(list, other.Number) || strings.Contains(list, "<i>atascada") ||
		hdr.Get("Cache-Control") != "no-store" {
		t.Fatalf("list: %d %v\n%s", code, hdr, list)
	}
	if code, page, _ := s.get(t, "/mis-solicitudes/"+token+"/t/"+mine.Number); code != 200 || !strings.Contains(page, `id="historial"`) ||
		strings.Contains(page, `name="comentario"`) {
		t.Errorf("own ticket: %d\n%s", code, page)
	}
	if code, _, _ := s.get(t, "/mis-solicitudes/"+token+"/t/"+other.Number); code != http.StatusNotFound {
		t.Errorf("another person's ticket: %d", code)
	}
	// Three links an hour per address, then silence.
	for i := 0; i < 4; i++ {
		s.postForm(t, "/mis-solicitudes", url.Values{"csrf": {csrf[1]}, "correo": {"ana@entidad.gov.co"}})
	}
	if n, _ := s.db.CountMagicLinks(ctx, "ana@entidad.gov.co", s.now.Add(-time.Hour)); n != 3 {
		t.Errorf("links in an hour: %d, want 3", n)
	}
	*s.now = s.now.Add(31 * time.Minute)
	if code, body, _ := s.get(t, "/mis-solicitudes/"+token); code != http.StatusGone || !strings.Contains(body, "venció") {
		t.Errorf("expired link: %d", code)
	}
	if code, _, _ := s.get(t, "/mis-solicitudes/"+strings.Repeat("A", 43)); code != http.StatusNotFound {
		t.Errorf("unknown link: %d", code)
	}
}
