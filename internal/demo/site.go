package demo

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
)

// Site serves mesa's web (App) with the demo page beside it, at /demo.
type Site struct {
	Mail *MailSystem
	App  http.Handler // mesa's status page, API…

	mu sync.Mutex
	n  int
}

var statusLinkRE = regexp.MustCompile(`https?://\S+/t/(\S+)\?clave=\S+`)

// WaitForAcks collects the status links of the acknowledgements delivered
// to the seeded employees (the keys exist in plain text only there), with
// publicURL, the base of links in mail, replaced by base, where the demo
// is served.
func (s *Site) WaitForAcks(ctx context.Context, publicURL, base string, within time.Duration) ([]string, error) {
	deadline := time.Now().Add(within)
	for {
		var links []string
		for _, m := range Seed {
			for _, mv := range s.Mail.Inbox(m.From) {
				if l := statusLinkRE.FindString(mv.Text); l != "" {
					links = append(links, strings.Replace(l, publicURL, base, 1)+"  ("+m.Subject+")")
					break
				}
			}
		}
		if len(links) >= len(Seed) {
			sort.Strings(links)
			return links, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("only %d of %d acknowledgements arrived within %s", len(links), len(Seed), within)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Handler is mesa's web with GET /demo and POST /demo/enviar added.
func (s *Site) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", s.App)
	mux.HandleFunc("GET /demo", s.page)
	mux.HandleFunc("POST /demo/enviar", s.send)
	return mux
}

var demoPage = template.Must(template.New("demo").Parse(`<!DOCTYPE html>
<html lang="es"><head><meta charset="utf-8"><title>mesa — demo</title><link rel="stylesheet" href="/static/mesa.css"></head>
<body><header><a href="/">Mesa de Servicios</a> <span>demo</span></header><main>
<h1>Demo de mesa</h1>
<p>Escriba a la mesa como un empleado, o responda como técnico (Carlos Mejía, primer nivel) con comandos al comienzo:
<code>#cerrar Se cambió el tóner</code>, <code>#retener motivo</code>, <code>#escalar</code>, <code>#ayuda</code>.
Los correos de la mesa llegan a los buzones de abajo en uno o dos segundos.</p>
<form method="post" action="/demo/enviar">
<label>Remitente (usuario en @` + Domain + `) <input id="de" name="de" value="{{.From}}" required></label>
<label>Asunto <input id="asunto" name="asunto" value="{{.Subject}}" required></label>
<label>Mensaje <textarea id="mensaje" name="mensaje" rows="5" required></textarea></label>
<label><input type="checkbox" name="autenticado" value="1" checked style="display:inline;width:auto"> correo verificado por el servidor de la entidad (DMARC)</label>
<button id="enviar" type="submit">Enviar a ` + DeskAddress + `</button>
</form>
{{with .Sent}}<p class="error" id="enviado">Enviado: «{{.}}». Recargue en un momento.</p>{{end}}
<h2>Buzón de {{.From}}</h2>
<ol class="history" id="buzon">{{range .Mail}}<li><span class="when">{{.Date.Format "15:04:05"}}</span> <strong>{{.Subject}}</strong><pre>{{.Text}}</pre></li>{{else}}<li>(vacío)</li>{{end}}</ol>
</main></body></html>`))

func (s *Site) page(w http.ResponseWriter, r *http.Request) {
	from := strings.ToLower(strings.TrimSpace(r.URL.Query().Get("de")))
	if from == "" {
		from = "carlos.mejia"
	}
	from, _, _ = strings.Cut(from, "@")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; form-action 'self'")
	demoPage.Execute(w, map[string]any{"From": from, "Subject": r.URL.Query().Get("asunto"), "Sent": r.URL.Query().Get("enviado"),
		"Mail": s.Mail.Inbox(from)})
}

func (s *Site) send(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	from, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(r.PostFormValue("de"))), "@")
	subject, body := strings.TrimSpace(r.PostFormValue("asunto")), r.PostFormValue("mensaje")
	if from == "" || subject == "" || strings.ContainsAny(from, " \r\n<>\"") || strings.ContainsAny(subject, "\r\n") {
		http.Error(w, "remitente y asunto son obligatorios", http.StatusBadRequest)
		return
	}
	extra := ""
	if r.PostFormValue("autenticado") != "" {
		extra = "Authentication-Results: mx." + Domain + "; dmarc=pass header.from=" + Domain + "\r\n"
	}
	s.mu.Lock()
	s.n++
	n := s.n + 1000
	s.mu.Unlock()
	if err := s.Mail.Deliver(DeskAddress, Message(from, from, subject, body, extra, n)); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	http.Redirect(w, r, "/demo?de="+from+"&enviado="+url.QueryEscape(subject), http.StatusSeeOther)
}
