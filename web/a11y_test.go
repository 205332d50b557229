package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mesadeservicios/mesa/desk"
	"github.com/mesadeservicios/mesa/store/storetest"
	"github.com/mesadeservicios/mesa/ticket"
	"github.com/mesadeservicios/mesa/web"
)

// axePath is axe-core, installed by scripts/test-deps.sh (npm ci in
// testdata/axe, version pinned by its package-lock.json).
var axePath = filepath.Join("testdata", "axe", "node_modules", "axe-core", "axe.min.js")

// wcagTags are the axe rules run: WCAG 2.1 levels A and AA (Resolución
// MinTIC 1519 de 2020, anexo 1).
const wcagTags = `["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]`

// extraRules are axe best practices run besides: headings in order, one
// h1, content in landmarks, one main, a working skip link.
const extraRules = `{"heading-order": {enabled: true}, "page-has-heading-one": {enabled: true}, "region": {enabled: true},
	"landmark-one-main": {enabled: true}, "landmark-unique": {enabled: true}, "skip-link": {enabled: true}}`

var axeOnce = sync.OnceValues(func() (string, error) {
	b, err := os.ReadFile(axePath)
	return string(b), err
})

// axeSource is axe.min.js. Without it the test fails in CI (CI=true) and
// is skipped elsewhere, with the command that installs it.
func axeSource(t *testing.T) string {
	t.Helper()
	src, err := axeOnce()
	if err != nil {
		msg := fmt.Sprintf("axe-core for accessibility tests: %v.\nFix: ./scripts/test-deps.sh (npm ci in web/testdata/axe; `make test` runs it)", err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return src
}

type axeNode struct {
	Target         []any  `json:"target"`
	HTML           string `json:"html"`
	FailureSummary string `json:"failureSummary"`
}

type axeViolation struct {
	ID     string    `json:"id"`
	Impact string    `json:"impact"`
	Help   string    `json:"help"`
	Nodes  []axeNode `json:"nodes"`
}

type axeResult struct {
	Violations []axeViolation `json:"violations"`
	Passes     int            `json:"passes"`
	URL        string         `json:"url"`
	Lang       string         `json:"lang"`
}

// assertAccessible runs axe-core on the page the browser shows and fails
// the test with every WCAG 2.1 A/AA violation: rule, impact and nodes.
func assertAccessible(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	src := axeSource(t)
	if err := chromedp.Do(ctx, chromedp.WaitReady(chromedp.CSS("body"))); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof window.axe === "object"`))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if !loaded {
		// DevTools' evaluation is not bound by the page's CSP (script-src 'none').
		if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](src)); err != nil {
			t.Fatalf("%s: injecting axe: %v", name, err)
		}
	}
	r, err := chromedp.Run(ctx, chromedp.Evaluate[axeResult](`axe.run(document, {runOnly: {type: "tag", values: `+wcagTags+`}, rules: `+extraRules+`, resultTypes: ["violations"]})
		.then(r => ({violations: r.violations, passes: r.passes.length, url: location.href, lang: document.documentElement.lang}))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: axe.run: %v", name, err)
	}
	if r.Passes < 5 {
		t.Errorf("%s: axe passed only %d rules on %s; did it run?", name, r.Passes, r.URL)
	}
	for _, v := range r.Violations {
		var nodes []string
		for _, n := range v.Nodes {
			nodes = append(nodes, fmt.Sprintf("    %v %s\n      %s", n.Target, n.HTML, strings.ReplaceAll(n.FailureSummary, "\n", "\n      ")))
		}
		t.Errorf("%s (%s, lang=%s): axe %s [%s]: %s\n%s", name, r.URL, r.Lang, v.ID, v.Impact, v.Help, strings.Join(nodes, "\n"))
	}
}

// a11ySite is a mail site with the given options.
func newA11ySite(t *testing.T, o web.Options) *mailSite {
	t.Helper()
	db := storetest.SQLite(t)
	now := time.Date(2026, 3, 24, 14, 0, 0, 0, time.UTC)
	d, eng := newDesk(t, db, func() time.Time { return now })
	if o.LookupsPerMinute == 0 {
		o.LookupsPerMinute = 1000
	}
	srv := httptest.NewServer(server(t, web.Deps{Desk: d, DB: db, Catalogue: eng}, o))
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	return &mailSite{site: &site{srv: srv, d: d, client: &http.Client{Jar: jar}}, db: db, now: &now}
}

// publicPages are the steps that bring the browser to every public page
// and state, each named.
type pageStep struct {
	name  string
	steps []chromedp.Action[chromedp.Void]
}

// publicPages seeds s with a ticket that is open, one closed with a survey
// to answer and one whose survey expired, and returns the steps that show
// every public page in lang.
func publicPages(t *testing.T, s *mailSite, lang string) []pageStep {
	t.Helper()
	bg := context.Background()
	open, err := s.d.Create(bg, desk.NewTicket{Subject: "No conecta la VPN", Requester: "ana@entidad.gov.co", Body: "Desde la casa no conecta."})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.d.Comment(bg, open.Number, "carlos@entidad.gov.co", "Reinicie el FortiClient, por favor.", false); err != nil {
		t.Fatal(err)
	}
	// A survey that expired, then one to answer.
	expiring, _ := s.d.Create(bg, desk.NewTicket{Subject: "Silla rota", Requester: "luis@entidad.gov.co", Body: "Se partió."})
	if _, err := s.d.Transition(bg, expiring.Number, ticket.Cerrado, "carlos@entidad.gov.co", "Se cambió la silla."); err != nil {
		t.Fatal(err)
	}
	*s.now = s.now.Add(time.Hour)
	s.d.SendSurveys(bg)
	expired := s.link(t, "luis@entidad.gov.co", "/encuesta/")
	*s.now = s.now.Add(10 * 24 * time.Hour)
	if rep, err := s.d.SendSurveys(bg); err != nil || rep.Expired != 1 {
		t.Fatalf("expiring the survey: %+v %v", rep, err)
	}
	closed, _ := s.d.Create(bg, desk.NewTicket{Subject: "No imprime la impresora del piso 3", Requester: "ana@entidad.gov.co", Body: "Sale en blanco."})
	if _, err := s.d.Transition(bg, closed.Number, ticket.Cerrado, "carlos@entidad.gov.co", "Se cambió el tóner."); err != nil {
		t.Fatal(err)
	}
	*s.now = s.now.Add(time.Hour)
	if rep, err := s.d.SendSurveys(bg); err != nil || rep.Sent != 1 {
		t.Fatalf("surveys: %+v %v", rep, err)
	}
	survey := s.link(t, "ana@entidad.gov.co", "/encuesta/")
	if survey == "" || expired == "" {
		t.Fatalf("survey links: %q %q", survey, expired)
	}
	if err := s.d.RequestMyTickets(bg, "ana@entidad.gov.co"); err != nil {
		t.Fatal(err)
	}
	mine := s.link(t, "ana@entidad.gov.co", "/mis-solicitudes/")
	if mine == "" {
		t.Fatal("no Mis solicitudes link")
	}

	u := func(path string) string {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		return s.srv.URL + path + sep + "lang=" + lang
	}
	nav := func(path string, wait string) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{chromedp.Navigate(u(path)), chromedp.WaitVisible(chromedp.CSS(wait))}
	}
	// submit posts the page's form without the browser's own validation,
	// as a browser without it (or a hand-made request) would.
	submit := func(form, button, wait string) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{
			chromedp.Evaluate[chromedp.Void](`document.querySelector(` + jsString(form) + `).noValidate = true`),
			chromedp.Click(chromedp.CSS(button)), chromedp.WaitVisible(chromedp.CSS(wait))}
	}
	cat := func(a ...[]chromedp.Action[chromedp.Void]) []chromedp.Action[chromedp.Void] {
		var out []chromedp.Action[chromedp.Void]
		for _, x := range a {
			out = append(out, x...)
		}
		return out
	}
	return []pageStep{
		{"lookup form", nav("/", "#numero")},
		{"lookup not found (404)", nav("/consulta?numero=MS-2026-999999&clave=x", ".error")},
		{"ticket, open, with comment form", nav("/t/"+open.Number+"?clave="+open.AccessKey, "#historial")},
		{"comment rejected (400)", cat(nav("/t/"+open.Number+"?clave="+open.AccessKey, "#comentario"),
			submit("#comentar", "#enviar", ".error"))},
		{"survey form", nav("/encuesta/"+survey, "#encuesta")},
		{"survey incomplete (400)", cat(nav("/encuesta/"+survey, "#encuesta"), submit("#encuesta", "#enviar", ".error"))},
		{"survey answered, thanks", cat(nav("/encuesta/"+survey, "#encuesta"), []chromedp.Action[chromedp.Void]{
			chromedp.Click(chromedp.CSS(`input[name="resuelto"][value="si"]`)), chromedp.Click(chromedp.CSS(`input[name="calificacion"][value="5"]`)),
			chromedp.Click(chromedp.ID("enviar")), chromedp.WaitVisible(chromedp.ID("gracias"))})},
		{"survey already answered (410)", nav("/encuesta/"+survey, ".error")},
		{"survey expired (410)", nav("/encuesta/"+expired, ".error")},
		{"survey unknown (404)", nav("/encuesta/"+strings.Repeat("A", 43), ".error")},
		{"Mis solicitudes form", nav("/mis-solicitudes", "#correo")},
		{"Mis solicitudes bad address (400)", cat(nav("/mis-solicitudes", "#correo"), []chromedp.Action[chromedp.Void]{
			chromedp.SendKeys(chromedp.ID("correo"), "no es un correo")}, submit("#pedir-enlace", "#pedir", ".error"))},
		{"Mis solicitudes link sent", cat(nav("/mis-solicitudes", "#correo"), []chromedp.Action[chromedp.Void]{
			chromedp.SendKeys(chromedp.ID("correo"), "ana@entidad.gov.co"), chromedp.Click(chromedp.ID("pedir")),
			chromedp.WaitVisible(chromedp.ID("enviado"))})},
		{"Mis solicitudes list", nav("/mis-solicitudes/"+mine, "#solicitudes")},
		{"Mis solicitudes ticket, closed", nav("/mis-solicitudes/"+mine+"/t/"+closed.Number, "#historial")},
		{"Mis solicitudes unknown link (404)", nav("/mis-solicitudes/"+strings.Repeat("A", 43), ".error")},
		{"page not found (404)", nav("/no-existe", "h1")},
	}
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// govcoOptions turn on the GOV.CO bar and every piece of the footer.
var govcoOptions = web.Options{GovCo: true, PrivacyURL: "https://www.entidad.gov.co/transparencia/politica-de-datos",
	Entity: web.Entity{Name: "Agencia Nacional de Ejemplo", Address: "Calle 26 # 13-19, Bogotá D.C., Colombia",
		Phone: "+57 601 555 0100", Hours: "Lunes a viernes de 8:00 a.m. a 5:00 p.m.", Email: "contacto@entidad.gov.co"}}

// TestAccessibility runs axe-core's WCAG 2.1 A and AA rules on every
// public page and state, in both languages, with the default layout and
// with the GOV.CO bar and the entity's footer.
func TestAccessibility(t *testing.T) {
	axeSource(t)
	for _, tc := range []struct {
		name, lang string
		o          web.Options
	}{
		{"es", "es", web.Options{}}, {"en", "en", web.Options{}}, {"es govco", "es", govcoOptions}, {"en govco", "en", govcoOptions},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newA11ySite(t, tc.o)
			ctx := browserFor(t, 5*time.Minute)
			for _, p := range publicPages(t, s, tc.lang) {
				sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
				err := chromedp.Do(sctx, p.steps...)
				if err == nil {
					assertAccessible(t, sctx, p.name)
					err = checkLang(sctx, tc.lang)
				}
				if err == nil && tc.o.GovCo {
					err = checkGovCo(sctx, tc.lang)
					if p.name == "ticket, open, with comment form" || p.name == "survey form" {
						screenshot(t, sctx, "govco-"+strings.Fields(p.name)[0]+"-"+tc.lang)
					}
				}
				if err != nil {
					t.Errorf("%s: %v", p.name, err)
				}
				cancel()
			}
			// Too many lookups: the 429 page.
			limited := httptest.NewServer(server(t, web.Deps{DB: pinger{}}, web.Options{LookupsPerMinute: 1, GovCo: tc.o.GovCo,
				PrivacyURL: tc.o.PrivacyURL, Entity: tc.o.Entity}))
			defer limited.Close()
			err := chromedp.Do(ctx, chromedp.Navigate(limited.URL+"/encuesta/x?lang="+tc.lang), chromedp.WaitVisible(chromedp.CSS(".error")),
				chromedp.Navigate(limited.URL+"/encuesta/x?lang="+tc.lang), chromedp.WaitVisible(chromedp.CSS(".error")))
			if err != nil {
				t.Fatal(err)
			}
			if msg, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".error"))); !strings.Contains(msg, map[string]string{"es": "Demasiadas", "en": "Too many"}[tc.lang]) {
				t.Errorf("429 page says %q", msg)
			}
			assertAccessible(t, ctx, "too many requests (429)")
			if tc.o.GovCo {
				screenshot(t, ctx, "govco-429-"+tc.lang)
			}
		})
	}
}

// checkLang checks the page declares its language and links the other
// one, marked as such, to the same page.
func checkLang(ctx context.Context, lang string) error {
	type langs struct {
		Page, Link, Href, Here string
		Error                  bool
	}
	l, err := chromedp.Run(ctx, chromedp.Evaluate[langs](`(() => { const a = document.getElementById("idioma");
		return {page: document.documentElement.lang, link: a.lang, href: a.href, here: location.href,
		error: !!document.querySelector(".error")}; })()`))
	if err != nil {
		return err
	}
	other := map[string]string{"es": "en", "en": "es"}[lang]
	here, _ := url.Parse(l.Here)
	there, err := url.Parse(l.Href)
	switch {
	case err != nil:
		return err
	case l.Page != lang:
		return fmt.Errorf("<html lang=%q>, want %q", l.Page, lang)
	case l.Link != other || there.Query().Get("lang") != other:
		return fmt.Errorf("language link %s (lang=%q), want one to %s", l.Href, l.Link, other)
	case there.Path != here.Path || !l.Error && here.Query().Get("clave") != there.Query().Get("clave"):
		return fmt.Errorf("language link %s leaves the page %s", l.Href, l.Here)
	}
	return nil
}

// checkGovCo checks the page shows the GOV.CO bar first, linking to
// www.gov.co in #3366CC, and the footer with the entity's data and the
// privacy link in the page's language.
func checkGovCo(ctx context.Context, lang string) error {
	type govco struct {
		First, Href, Bg, Footer, Privacy, PrivacyHref, Mail string
	}
	g, err := chromedp.Run(ctx, chromedp.Evaluate[govco](`(() => {
		const bar = document.getElementById("govco"), a = bar && bar.querySelector("a"), f = document.getElementById("pie"), p = document.getElementById("privacidad");
		return {first: bar ? (document.querySelector("header").firstElementChild === bar ? "yes" : "no") : "", href: a ? a.href : "",
			bg: bar ? getComputedStyle(bar).backgroundColor : "", footer: f ? f.innerText : "", privacy: p ? p.textContent : "",
			privacyHref: p ? p.href : "", mail: (f && f.querySelector('a[href^="mailto:"]') || {}).href || ""};
	})()`))
	if err != nil {
		return err
	}
	want := map[string]string{"es": "Política de tratamiento de datos personales", "en": "Personal data policy"}[lang]
	e := govcoOptions.Entity
	for _, c := range []struct {
		what      string
		got, want string
		ok        bool
	}{
		{"bar first in the header", g.First, "yes", g.First == "yes"},
		{"logo link", g.Href, "https://www.gov.co/", g.Href == "https://www.gov.co/"},
		{"bar colour", g.Bg, "rgb(51, 102, 204)", g.Bg == "rgb(51, 102, 204)"},
		{"privacy link", g.Privacy, want, g.Privacy == want},
		{"privacy URL", g.PrivacyHref, govcoOptions.PrivacyURL, g.PrivacyHref == govcoOptions.PrivacyURL},
		{"mail link", g.Mail, "mailto:" + e.Email, g.Mail == "mailto:"+e.Email},
		{"footer", g.Footer, "entity name, address, phone, hours", strings.Contains(g.Footer, e.Name) && strings.Contains(g.Footer, e.Address) &&
			strings.Contains(g.Footer, e.Phone) && strings.Contains(g.Footer, e.Hours)},
	} {
		if !c.ok {
			return fmt.Errorf("GOV.CO layout: %s: got %q, want %q", c.what, c.got, c.want)
		}
	}
	return nil
}
