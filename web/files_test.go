package web_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/desk"
	"github.com/mesadeservicios/mesa/mailin"
	"github.com/mesadeservicios/mesa/mailout"
	"github.com/mesadeservicios/mesa/rules"
	"github.com/mesadeservicios/mesa/sla"
	"github.com/mesadeservicios/mesa/store"
	"github.com/mesadeservicios/mesa/store/storetest"
	"github.com/mesadeservicios/mesa/ticket"
	"github.com/mesadeservicios/mesa/web"
)

// syncBuffer is a log sink the handler and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// fileSite is a site whose desk's clock the test moves, whose logs it
// reads, and whose technician carlos takes the VPN tickets.
type fileSite struct {
	db   *store.DB
	d    *desk.Desk
	srv  *httptest.Server
	now  time.Time
	logs *syncBuffer
}

func newFileSite(t *testing.T) *fileSite {
	t.Helper()
	ctx := context.Background()
	fs := &fileSite{db: storetest.SQLite(t), now: time.Date(2026, 3, 24, 14, 0, 0, 0, time.UTC), logs: &syncBuffer{}}
	if err := fs.db.SaveGroup(ctx, ticket.Group{Key: "infraestructura", Name: "Infraestructura"}); err != nil {
		t.Fatal(err)
	}
	if err := fs.db.SavePerson(ctx, &ticket.Person{Email: "carlos@entidad.gov.co", Role: ticket.RoleTechnician, Level: 1,
		Groups: []string{"infraestructura"}, Active: true}); err != nil {
		t.Fatal(err)
	}
	eng, _ := rules.Default()
	cal, _ := sla.New(sla.Options{})
	r, err := mailout.New(mailout.Options{DeskName: "Mesa de Servicios", From: "mesa@entidad.gov.co", PublicURL: "https://mesa.x", Catalogue: eng})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(fs.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	fs.d, err = desk.New(desk.Deps{Files: mailin.Decoder{}, Store: fs.db, Mail: r, Calendar: cal, Classifier: eng,
		Now: func() time.Time { return fs.now }, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	fs.srv = httptest.NewServer(server(t, web.Deps{Desk: fs.d, DB: fs.db, Catalogue: eng, Logger: log}, web.Options{}))
	t.Cleanup(fs.srv.Close)
	return fs
}

var linkRE = regexp.MustCompile(`https://mesa\.x(/adjuntos/[^\s<>"]+)`)

// TestFileDownloadLinks: the assignment notice's link downloads the
// requester's PDF, as a download; a changed token is refused like an
// unknown one; after the link's time it is gone; nothing but GET is
// served; and no token ever reaches the log.
func TestFileDownloadLinks(t *testing.T) {
	fs := newFileSite(t)
	ctx := context.Background()
	pdf := []byte("%PDF-1.4 el formato F-DE-10 \x00\xff")
	msg := &ticket.RawMessage{Key: "<f@x>", Raw: []byte("x"), ReceivedAt: fs.now}
	if err := fs.db.StoreMessage(ctx, msg); err != nil {
		t.Fatal(err)
	}
	tk, err := fs.d.Create(ctx, desk.NewTicket{Subject: "No conecta la VPN", Body: "Adjunto el formato.", Requester: "ana@entidad.gov.co",
		Files: []ticket.Attachment{{MessageID: msg.ID, Filename: "F-DE-10 Ana Pérez.pdf", ContentType: "application/pdf",
			Size: int64(len(pdf)), SHA256: "x", Data: pdf}}})
	if err != nil || tk.Assignee != "carlos@entidad.gov.co" {
		t.Fatalf("create: %+v, %v", tk, err)
	}
	due, err := fs.db.DueMail(ctx, fs.now.Add(time.Hour), 20)
	if err != nil {
		t.Fatal(err)
	}
	link := ""
	for _, m := range due {
		if m.To[0] == "carlos@entidad.gov.co" {
			in, _ := mailin.Parse(m.Raw)
			if len(in.Attachments) != 1 || !bytes.Equal(in.Attachments[0].Data, pdf) {
				t.Errorf("assignment notice attachments: got %+v", in.Attachments)
			}
			if l := linkRE.FindStringSubmatch(in.Text); l != nil {
				link = l[1]
			}
		}
	}
	if link == "" {
		t.Fatal("no download link in the assignment notice")
	}
	token := strings.TrimPrefix(link, "/adjuntos/")
	get := func(method, path string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, fs.srv.URL+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	resp, body := get("GET", link)
	if resp.StatusCode != 200 || !bytes.Equal(body, pdf) {
		t.Fatalf("download: %d, %q", resp.StatusCode, body)
	}
	disp, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition"))
	if err != nil || disp != "attachment" || params["filename"] != "F-DE-10 Ana Pérez.pdf" || resp.Header.Get("Content-Type") != "application/pdf" ||
		!strings.Contains(resp.Header.Get("Content-Security-Policy"), "sandbox") || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("download headers: %v", resp.Header)
	}
	// A second GET (a link scanner, then the technician) gets the same.
	if resp, body := get("GET", link); resp.StatusCode != 200 || !bytes.Equal(body, pdf) {
		t.Errorf("second download: %d", resp.StatusCode)
	}
	parts := strings.Split(token, ".")
	for name, bad := range map[string]string{
		"other file":  "999." + parts[1] + "." + parts[2],
		"later":       parts[0] + ".9999999999." + parts[2],
		"signature":   parts[0] + "." + parts[1] + ".AAAAAAAAAAAAAAAAAAAAAA",
		"garbage":     "no-es-un-enlace",
		"long":        strings.Repeat("1", 500),
		"escaped dot": url.PathEscape(parts[0] + "." + parts[1]),
	} {
		if resp, body := get("GET", "/adjuntos/"+bad); resp.StatusCode != 404 || bytes.Contains(body, pdf) {
			t.Errorf("%s: got %d, want 404", name, resp.StatusCode)
		}
	}
	if resp, _ := get("POST", link); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: got %d, want 405", resp.StatusCode)
	}
	fs.now = fs.now.Add(31 * 24 * time.Hour)
	if resp, body := get("GET", link); resp.StatusCode != http.StatusGone || bytes.Contains(body, pdf) {
		t.Errorf("expired: got %d, want 410", resp.StatusCode)
	}
	if strings.Contains(fs.logs.String(), parts[2]) || strings.Contains(fs.logs.String(), token) {
		t.Errorf("the log holds the link's token:\n%s", fs.logs.String())
	}
}

// TestParticipantCommentShownAsTheirs: a colleague's reply shows on the
// status page under the colleague's address, the requester's as "Usted",
// a technician's answer as the desk's.
func TestParticipantCommentShownAsTheirs(t *testing.T) {
	fs := newFileSite(t)
	ctx := context.Background()
	tk, err := fs.d.Create(ctx, desk.NewTicket{Subject: "No conecta la VPN", Body: "No conecta.", Requester: "ana@entidad.gov.co"})
	if err != nil {
		t.Fatal(err)
	}
	if err := fs.db.SetCopy(ctx, tk.ID, "beto@entidad.gov.co", true); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ who, text string }{{"beto@entidad.gov.co", "A mí tampoco me conecta."},
		{"carlos@entidad.gov.co", "Reinicien el FortiClient."}} {
		if _, err := fs.d.Comment(ctx, tk.Number, c.who, c.text, false); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.Get(fs.srv.URL + "/t/" + tk.Number + "?clave=" + url.QueryEscape(tk.AccessKey))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	page := string(b)
	for _, want := range []string{`<span class="who">beto@entidad.gov.co</span><pre>A mí tampoco me conecta.</pre>`,
		`<span class="who">Usted</span><pre>No conecta.</pre>`, `<span class="who">Mesa de Servicios</span><pre>Reinicien el FortiClient.</pre>`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if strings.Contains(page, "carlos@") {
		t.Error("the page names the technician")
	}
}
