package main

import (
	"bytes"
	"database/sql"
	"encoding/base64"
	"fmt"
	"html"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/http"
	"net/http/cookiejar"
	netmail "net/mail"
	"net/url"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/config"
	"github.com/mesadeservicios/mesa/internal/testimap"
	"github.com/mesadeservicios/mesa/internal/testsmtp"
	"github.com/mesadeservicios/mesa/ticket"
)

// TestScannerOpensEveryLink plays Safe Links: every link of every mail mesa
// sent (text and HTML parts, as the SMTP peer received them) is fetched
// twice by a client without cookies, before the requester does anything.
// Nothing in the database changes — tickets, events, surveys, "Mis
// solicitudes" links, messages, outbox rows — and the requester's later
// actions (the survey answered "no" on its page, the list of her tickets,
// the status page) end exactly as in the same run without the scanner.
func TestScannerOpensEveryLink(t *testing.T) {
	without := scannerScenario(t, false)
	with := scannerScenario(t, true)
	if !reflect.DeepEqual(with, without) {
		t.Errorf("the requester's actions after the scanner:\n%s\nwant, as without it:\n%s",
			strings.Join(with, "\n"), strings.Join(without, "\n"))
	}
	if len(without) == 0 || !strings.Contains(strings.Join(without, "\n"), "state en_proceso") {
		t.Errorf("the scenario did not end with the ticket reopened by the survey:\n%s", strings.Join(without, "\n"))
	}
}

// scannerScenario runs one desk from a requester's mail to her survey
// answer and returns what she saw and what the desk recorded, free of
// times and tokens.
func scannerScenario(t *testing.T, scan bool) []string {
	t.Helper()
	bog, _ := time.LoadLocation("America/Bogota")
	var mu sync.Mutex
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, bog) // a Tuesday, before the wall clock: mail is due at once
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }

	srv := testimap.Start(t, "mesa")
	sink := testsmtp.Start(t, "")
	dbPath := filepath.Join(t.TempDir(), "mesa.db")
	cfg, err := config.Load("", loopbackEnv("sqlite:"+dbPath, srv.Addr, sink.Addr,
		"MESA_HTTP_PUBLIC_URL=https://mesa.entidad.gov.co", "MESA_JOBS_SURVEYS=", "MESA_JOBS_SLA_CHECK="))
	if err != nil {
		t.Fatal(err)
	}
	app, ctx, stop := startAppWith(t, cfg, Options{Now: clock})
	defer stop()
	base := "http://" + app.Addr()

	c := loginMesa(t, srv.Addr)
	defer c.Close()
	appendMail(t, c, "From: Ana Rojas <ana@entidad.gov.co>\r\nTo: mesa@entidad.gov.co\r\nSubject: No conecta la VPN\r\n"+
		"Message-ID: <scan-1@entidad.gov.co>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nDesde la casa el FortiClient no conecta.\r\n")
	var number string
	waitFor(t, "the ticket", func() bool {
		tk, err := app.db.TicketByNumber(ctx, "MS-2026-000001")
		if err == nil {
			number = tk.Number
		}
		return err == nil
	})
	advance(time.Hour)
	if _, err := app.desk.Transition(ctx, number, ticket.Cerrado, "carlos@entidad.gov.co", "Se reinstaló el FortiClient."); err != nil {
		t.Fatal(err)
	}
	advance(2 * time.Hour)
	if rep, err := app.desk.SendSurveys(ctx); err != nil || rep.Sent != 1 {
		t.Fatalf("surveys: %+v %v", rep, err)
	}
	// She asks for "Mis solicitudes" (a POST: the mail with the link is its
	// result, not something a scanner could cause).
	person := newBrowser(t)
	form := person.get(t, base+"/mis-solicitudes")
	csrf := csrfRE.FindStringSubmatch(form.body)
	if csrf == nil {
		t.Fatalf("no CSRF token on the Mis solicitudes form:\n%s", form.body)
	}
	if r := person.post(t, base+"/mis-solicitudes", url.Values{"csrf": {csrf[1]}, "correo": {"ana@entidad.gov.co"}}); r.code != http.StatusOK {
		t.Fatalf("Mis solicitudes request: %d\n%s", r.code, r.body)
	}
	var mails [][]byte
	waitFor(t, "the acknowledgement, closure, survey and Mis solicitudes mails", func() bool {
		mails = sink.Messages()
		return len(mails) >= 4
	})
	links := map[string]string{} // kind of link → the first one of that kind
	var all []string
	for _, raw := range mails {
		for _, l := range mailLinks(t, raw) {
			if !strings.HasPrefix(l, "https://mesa.entidad.gov.co/") {
				continue // not mesa's
			}
			local := base + strings.TrimPrefix(l, "https://mesa.entidad.gov.co")
			all = append(all, local)
			for _, kind := range []string{"/encuesta/", "/mis-solicitudes/", "/t/"} {
				if strings.Contains(local, kind) && links[kind] == "" {
					links[kind] = local
				}
			}
		}
	}
	for _, kind := range []string{"/encuesta/", "/mis-solicitudes/", "/t/"} {
		if links[kind] == "" {
			t.Fatalf("no %s link in the mails mesa sent; links: %v", kind, all)
		}
	}

	if scan {
		before := dumpDB(t, dbPath)
		scanner := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return nil }} // follows redirects, keeps no cookies
		for round := 0; round < 2; round++ {
			for _, l := range all {
				resp, err := scanner.Get(l)
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode >= 500 {
					t.Errorf("scanner GET %s: %d", l, resp.StatusCode)
				}
			}
		}
		if after := dumpDB(t, dbPath); !reflect.DeepEqual(after, before) {
			t.Errorf("the scanner's GETs changed the database:\n%s", diffDump(before, after))
		}
		if len(all) < 4 {
			t.Errorf("the scanner fetched %d links, want every link of the 4 mails", len(all))
		}
	}

	// The requester, later: the survey page, the answer "no", her list.
	advance(10 * time.Minute)
	var seen []string
	page := person.get(t, links["/encuesta/"])
	seen = append(seen, fmt.Sprintf("survey page %d has form %v", page.code, strings.Contains(page.body, `name="calificacion"`)))
	if m := csrfRE.FindStringSubmatch(page.body); m != nil {
		ans := person.post(t, links["/encuesta/"], url.Values{"csrf": {m[1]}, "calificacion": {"2"}, "resuelto": {"no"},
			"comentario": {"Sigue sin conectar."}})
		seen = append(seen, fmt.Sprintf("survey answer %d reopened %v", ans.code, strings.Contains(ans.body, "Reabrimos")))
	}
	list := person.get(t, links["/mis-solicitudes/"])
	seen = append(seen, fmt.Sprintf("mis solicitudes %d lists %v", list.code, strings.Contains(list.body, number)))
	status := person.get(t, links["/t/"])
	seen = append(seen, fmt.Sprintf("status page %d shows %v", status.code, strings.Contains(status.body, number)))
	again := person.get(t, links["/encuesta/"])
	seen = append(seen, fmt.Sprintf("survey link afterwards %d", again.code))

	tk, err := app.db.TicketByNumber(ctx, number)
	if err != nil {
		t.Fatal(err)
	}
	seen = append(seen, "state "+string(tk.State))
	evs, _ := app.db.Events(ctx, tk.ID)
	for _, e := range evs {
		seen = append(seen, fmt.Sprintf("event %s %s→%s by %s", e.Kind, e.From, e.To, e.Actor))
	}
	stop()
	return seen
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("%s: not within 30 s", what)
}

// browser is a person's browser: it keeps cookies.
type browser struct{ c *http.Client }

type response struct {
	code int
	body string
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{c: &http.Client{Jar: jar}}
}

func (b *browser) get(t *testing.T, u string) response {
	t.Helper()
	resp, err := b.c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, string(body)}
}

func (b *browser) post(t *testing.T, u string, form url.Values) response {
	t.Helper()
	resp, err := b.c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, string(body)}
}

var (
	textLinkRE = regexp.MustCompile(`https?://[^\s<>"]+`)
	hrefRE     = regexp.MustCompile(`(?i)href="([^"]+)"`)
)

// mailLinks returns every link of a mail's text and HTML parts, decoded
// from their transfer encoding.
func mailLinks(t *testing.T, raw []byte) []string {
	t.Helper()
	m, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	var walk func(ctype, cte string, body io.Reader)
	walk = func(ctype, cte string, body io.Reader) {
		mt, params, err := mime.ParseMediaType(ctype)
		if err != nil {
			mt = "text/plain"
		}
		if strings.HasPrefix(mt, "multipart/") {
			mr := multipart.NewReader(body, params["boundary"])
			for {
				p, err := mr.NextRawPart()
				if err != nil {
					return
				}
				walk(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p)
			}
		}
		var r io.Reader = body
		switch strings.ToLower(cte) {
		case "quoted-printable":
			r = quotedprintable.NewReader(body)
		case "base64":
			r = base64.NewDecoder(base64.StdEncoding, body)
		}
		b, _ := io.ReadAll(r)
		switch mt {
		case "text/plain":
			out = append(out, textLinkRE.FindAllString(string(b), -1)...)
		case "text/html":
			for _, h := range hrefRE.FindAllStringSubmatch(string(b), -1) {
				out = append(out, html.UnescapeString(h[1]))
			}
		}
	}
	walk(m.Header.Get("Content-Type"), m.Header.Get("Content-Transfer-Encoding"), m.Body)
	return out
}

// dumpDB reads every row of the tables a GET must not change. Outbox rows
// count by identity only: the worker sends them meanwhile.
func dumpDB(t *testing.T, path string) map[string][]string {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	out := map[string][]string{}
	for table, query := range map[string]string{
		"tickets":     "SELECT * FROM tickets ORDER BY id",
		"events":      "SELECT * FROM events ORDER BY id",
		"surveys":     "SELECT * FROM surveys ORDER BY id",
		"magic_links": "SELECT * FROM magic_links ORDER BY id",
		"messages":    "SELECT id, dedupe_key, disposition, ticket_id FROM messages ORDER BY id",
		"outbox":      "SELECT id, dedupe_key, to_addrs, subject FROM outbox ORDER BY id",
		"people":      "SELECT * FROM people ORDER BY id",
	} {
		rows, err := db.Query(query)
		if err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for i, v := range vals {
				if bs, ok := v.([]byte); ok {
					v = string(bs)
				}
				fmt.Fprintf(&b, "%s=%v ", cols[i], v)
			}
			out[table] = append(out[table], b.String())
		}
		rows.Close()
	}
	return out
}

func diffDump(before, after map[string][]string) string {
	var lines []string
	for table := range after {
		b, a := before[table], after[table]
		if !reflect.DeepEqual(a, b) {
			lines = append(lines, fmt.Sprintf("%s: before %d rows, after %d rows", table, len(b), len(a)))
			for i := range a {
				if i >= len(b) || a[i] != b[i] {
					lines = append(lines, "  after:  "+a[i])
					if i < len(b) {
						lines = append(lines, "  before: "+b[i])
					}
				}
			}
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}
