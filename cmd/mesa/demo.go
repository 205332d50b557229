package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	gosmtp "github.com/emersion/go-smtp"

	"github.com/mesadeservicios/mesa/config"
	"github.com/mesadeservicios/mesa/mailin"
)

// The demo runs the real daemon against an in-process mail system: an IMAP
// server holding every mailbox of the demo domain, and an SMTP server that
// delivers mesa's mail into them. Nothing of it is reachable from serve.

const demoDomain = "entidad.demo"

// mailSystem is the demo's IMAP + SMTP pair.
type mailSystem struct {
	mu     sync.Mutex
	mem    *imapmemserver.Server
	users  map[string]*imapmemserver.User
	imap   *imapserver.Server
	smtp   *gosmtp.Server
	imapLn net.Listener
	smtpLn net.Listener
}

func startMailSystem() (*mailSystem, error) {
	m := &mailSystem{mem: imapmemserver.New(), users: map[string]*imapmemserver.User{}}
	m.user("mesa")
	m.imap = imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return m.mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapUIDPlus: {}, imap.CapMove: {}},
		InsecureAuth: true,
	})
	var err error
	if m.imapLn, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		return nil, err
	}
	go m.imap.Serve(m.imapLn)
	m.smtp = gosmtp.NewServer(m)
	m.smtp.Domain, m.smtp.AllowInsecureAuth = "localhost", true
	if m.smtpLn, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		return nil, err
	}
	go m.smtp.Serve(m.smtpLn)
	return m, nil
}

func (m *mailSystem) close() {
	m.smtp.Close()
	m.imap.Close()
}

// user returns the mailbox of a local part, creating it.
func (m *mailSystem) user(local string) *imapmemserver.User {
	m.mu.Lock()
	defer m.mu.Unlock()
	if u, ok := m.users[local]; ok {
		return u
	}
	u := imapmemserver.NewUser(local, local+"pw")
	u.Create("INBOX", nil)
	m.mem.AddUser(u)
	m.users[local] = u
	return u
}

// deliver appends raw to a demo address's INBOX.
func (m *mailSystem) deliver(addr string, raw []byte) error {
	local, domain, _ := strings.Cut(strings.ToLower(addr), "@")
	if domain != demoDomain {
		return fmt.Errorf("%s is outside the demo domain", addr)
	}
	_, err := m.user(local).Append("INBOX", bytes.NewReader(raw), &imap.AppendOptions{})
	return err
}

// inbox returns the parsed mail of a demo address, newest first, read over
// IMAP like any mail client would.
func (m *mailSystem) inbox(local string) []*mailView {
	m.user(local)
	c, err := imapclient.DialInsecure(m.imapLn.Addr().String(), nil)
	if err != nil {
		return nil
	}
	defer c.Close()
	if err := c.Login(local, local+"pw").Wait(); err != nil {
		return nil
	}
	var out []*mailView
	for _, box := range []string{"INBOX", "Procesados"} {
		sel, err := c.Select(box, &imap.SelectOptions{ReadOnly: true}).Wait()
		if err != nil || sel.NumMessages == 0 {
			continue
		}
		var all imap.SeqSet
		all.AddRange(1, sel.NumMessages)
		section := &imap.FetchItemBodySection{Peek: true}
		msgs, err := c.Fetch(all, &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{section}, InternalDate: true}).Collect()
		if err != nil {
			continue
		}
		for _, msg := range msgs {
			in, _ := mailin.Parse(msg.FindBodySection(section))
			out = append(out, &mailView{From: in.From.Email, Subject: in.Subject, Text: in.Text, Date: msg.InternalDate, Box: box})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Date.After(out[j].Date) })
	return out
}

type mailView struct {
	From, Subject, Text, Box string
	Date                     time.Time
}

// NewSession implements gosmtp.Backend: mesa's outgoing mail lands in the
// demo mailboxes.
func (m *mailSystem) NewSession(*gosmtp.Conn) (gosmtp.Session, error) { return &demoSession{m: m}, nil }

type demoSession struct {
	m  *mailSystem
	to []string
}

func (s *demoSession) Reset()                                 { s.to = nil }
func (s *demoSession) Logout() error                          { return nil }
func (s *demoSession) Mail(string, *gosmtp.MailOptions) error { return nil }
func (s *demoSession) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}
func (s *demoSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	for _, to := range s.to {
		if err := s.m.deliver(to, raw); err != nil {
			return &gosmtp.SMTPError{Code: 550, Message: err.Error()}
		}
	}
	return nil
}

// demoSeed are the messages the demo starts with: how employees really write.
var demoSeed = []struct{ from, name, subject, body string }{
	{"ana.rojas", "Ana Rojas", "La impresora del piso 3 no imprime", "Buenos días, la impresora del tercer piso no imprime desde esta mañana, dice que hay papel atascado pero ya revisamos.\n\nCordialmente,\nAna Rojas\nProfesional Especializado\nExt. 4521"},
	{"jose.perez", "José Pérez", "No conecta la VPN", "Desde la casa el FortiClient no conecta, dice credenciales inválidas."},
	{"regional.narino", "Dirección Regional Nariño", "Goteras en la sede", "Cada vez que llueve entra agua por el techo, hoy se mojaron los expedientes del área de atención."},
	{"paula.castro", "Paula Castro", "Instalación de Adobe", "Solicito la instalación de Adobe Acrobat en mi equipo. No es urgente, cuando puedan."},
	{"miguel.angel", "Miguel Ángel", "silla coja", "Mi silla está coja, se le dañó una rodachina y el pistón no sube."},
	{"liliana.ortiz", "Liliana Ortiz", "No me llegan los correos", "Desde ayer no me llegan los correos externos al correo institucional."},
	{"talento.humano", "Talento Humano", "Creación de usuario de red", "Solicitamos la creación de usuario de dominio y correo para Marcela Ríos, que ingresa el lunes."},
	{"regional.atlantico", "Regional Atlántico", "Sin energía en la sede", "La sede está sin energía desde las 7 am y no podemos trabajar."},
	{"coord.atencion", "Coordinación de Atención", "Cafetería para reunión", "Para la reunión del jueves con los alcaldes solicitamos tinto y aromática para 20 personas."},
	{"oscar.m", "Óscar M.", "Robo en la oficina", "Anoche se robaron dos portátiles de la oficina 204. Necesitamos revisar las cámaras de seguridad."},
	{"juliana.mora", "Juliana Mora", "Respaldo en OneDrive", "Me van a cambiar el portátil y necesito respaldar mis archivos en OneDrive antes de entregarlo."},
	{"ana.gil", "Ana Gil", "ayuda", "Buenas, necesito ayuda con algo, ¿me pueden llamar a la extensión 2301?"},
}

func demoMessage(from, name, subject, body, extra string, n int) []byte {
	return []byte(fmt.Sprintf("From: %s <%s@%s>\r\nTo: Mesa de Servicios <mesa@%s>\r\nSubject: %s\r\n"+
		"Message-ID: <demo-%d-%d@%s>\r\nDate: %s\r\nMIME-Version: 1.0\r\n%sContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n",
		mimeWord(name), from, demoDomain, demoDomain, mimeWord(subject), n, time.Now().UnixNano(), demoDomain,
		time.Now().Format(time.RFC1123Z), extra, strings.ReplaceAll(body, "\n", "\r\n")))
}

func mimeWord(s string) string {
	for _, r := range s {
		if r > 127 {
			return "=?UTF-8?B?" + base64Std(s) + "?="
		}
	}
	return s
}

func demo() command {
	var addr *string
	return command{
		flags: func(fs *flag.FlagSet) { addr = fs.String("http", "127.0.0.1:8080", "address of the demo's web server") },
		run: func(ctx context.Context, e *env) int {
			if err := runDemo(ctx, e, *addr, nil); err != nil {
				fmt.Fprintln(e.stderr, "mesa demo:", err)
				return exitFail
			}
			return exitOK
		},
	}
}

// runDemo starts everything and serves until ctx ends; ready, when set,
// receives the demo's base URL once the seeded tickets are listed.
func runDemo(ctx context.Context, e *env, addr string, ready chan<- string) error {
	ms, err := startMailSystem()
	if err != nil {
		return err
	}
	defer ms.close()
	dir, err := os.MkdirTemp("", "mesa-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ih, ip, _ := net.SplitHostPort(ms.imapLn.Addr().String())
	sh, sp, _ := net.SplitHostPort(ms.smtpLn.Addr().String())
	cfg := config.Default()
	cfg.Database.URL = "sqlite:" + filepath.Join(dir, "mesa.db")
	cfg.HTTP.Listen, cfg.HTTP.PublicURL = "127.0.0.1:0", "http://"+addr
	cfg.Desk.Addresses = []string{"mesa@" + demoDomain}
	cfg.IMAP = config.IMAP{Host: ih, TLS: "none", InsecurePlaintext: true, Auth: "password", Username: "mesa", Password: "mesapw",
		Mailbox: "INBOX", ProcessedMailbox: "Procesados", QuarantineMailbox: "Cuarentena", PollInterval: time.Second}
	cfg.IMAP.Port, _ = strconv.Atoi(ip)
	cfg.SMTP = config.SMTP{Host: sh, TLS: "none", InsecurePlaintext: true, Auth: "password"}
	cfg.SMTP.Port, _ = strconv.Atoi(sp)
	cfg.Auth = config.Auth{TrustedAuthServID: "mx." + demoDomain, Require: true}
	groups := []string{"soporte", "infraestructura", "desarrollo", "redes", "bienes", "documental", "mantenimiento", "servicios"}
	for _, g := range groups {
		cfg.Groups = append(cfg.Groups, config.Group{Key: g, Name: g})
	}
	cfg.People = []config.Person{
		{Email: "carlos.mejia@" + demoDomain, Name: "Carlos Mejía", Role: "technician", Level: 1, Groups: groups},
		{Email: "diana.vela@" + demoDomain, Name: "Diana Vela", Role: "technician", Level: 2, Groups: groups},
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	app, err := Open(ctx, cfg, Options{Logger: log})
	if err != nil {
		return err
	}
	defer app.Close()
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- app.Run(runCtx) }()

	d := &demoSite{ms: ms, app: app, base: "http://" + addr}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: d.handler(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	d.base = "http://" + ln.Addr().String()

	for i, m := range demoSeed {
		if err := ms.deliver("mesa@"+demoDomain, demoMessage(m.from, m.name, m.subject, m.body, "", i)); err != nil {
			return err
		}
	}
	links, err := d.waitForAcks(ctx, len(demoSeed), 60*time.Second)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "mesa demo: status page %s/   demo page (write as an employee or a technician) %s/demo\n", d.base, d.base)
	fmt.Fprintln(e.stdout, "seeded tickets:")
	for _, l := range links {
		fmt.Fprintln(e.stdout, "  "+l)
	}
	if ready != nil {
		ready <- d.base
	}
	select {
	case <-ctx.Done():
	case err := <-done:
		return err
	}
	stop()
	return <-done
}

var statusLinkRE = regexp.MustCompile(`https?://\S+/t/(\S+)\?clave=\S+`)

// demoSite serves the status page with the demo page beside it.
type demoSite struct {
	ms   *mailSystem
	app  *App
	base string
	n    int
	mu   sync.Mutex
}

// waitForAcks collects the status links of the acknowledgements delivered
// to the seeded employees: the keys exist in plain text only there.
func (d *demoSite) waitForAcks(ctx context.Context, n int, within time.Duration) ([]string, error) {
	deadline := time.Now().Add(within)
	for {
		var links []string
		for _, m := range demoSeed {
			for _, mv := range d.ms.inbox(m.from) {
				if l := statusLinkRE.FindString(mv.Text); l != "" {
					links = append(links, strings.Replace(l, d.app.cfg.HTTP.PublicURL, d.base, 1)+"  ("+m.subject+")")
					break
				}
			}
		}
		if len(links) >= n {
			sort.Strings(links)
			return links, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("only %d of %d acknowledgements arrived within %s", len(links), n, within)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (d *demoSite) handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", d.app.http.Handler)
	mux.HandleFunc("GET /demo", d.page)
	mux.HandleFunc("POST /demo/enviar", d.send)
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
<label>Remitente (usuario en @` + demoDomain + `) <input id="de" name="de" value="{{.From}}" required></label>
<label>Asunto <input id="asunto" name="asunto" value="{{.Subject}}" required></label>
<label>Mensaje <textarea id="mensaje" name="mensaje" rows="5" required></textarea></label>
<label><input type="checkbox" name="autenticado" value="1" checked style="display:inline;width:auto"> correo verificado por el servidor de la entidad (DMARC)</label>
<button id="enviar" type="submit">Enviar a mesa@` + demoDomain + `</button>
</form>
{{with .Sent}}<p class="error" id="enviado">Enviado: «{{.}}». Recargue en un momento.</p>{{end}}
<h2>Buzón de {{.From}}</h2>
<ol class="history" id="buzon">{{range .Mail}}<li><span class="when">{{.Date.Format "15:04:05"}}</span> <strong>{{.Subject}}</strong><pre>{{.Text}}</pre></li>{{else}}<li>(vacío)</li>{{end}}</ol>
</main></body></html>`))

func (d *demoSite) page(w http.ResponseWriter, r *http.Request) {
	from := strings.ToLower(strings.TrimSpace(r.URL.Query().Get("de")))
	if from == "" {
		from = "carlos.mejia"
	}
	from, _, _ = strings.Cut(from, "@")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; form-action 'self'")
	demoPage.Execute(w, map[string]any{"From": from, "Subject": r.URL.Query().Get("asunto"), "Sent": r.URL.Query().Get("enviado"),
		"Mail": d.ms.inbox(from)})
}

func (d *demoSite) send(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	from, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(r.PostFormValue("de"))), "@")
	subject, body := strings.TrimSpace(r.PostFormValue("asunto")), r.PostFormValue("mensaje")
	if from == "" || subject == "" || strings.ContainsAny(from, " \r\n<>\"") || strings.ContainsAny(subject, "\r\n") {
		http.Error(w, "remitente y asunto son obligatorios", http.StatusBadRequest)
		return
	}
	extra := ""
	if r.PostFormValue("autenticado") != "" {
		extra = "Authentication-Results: mx." + demoDomain + "; dmarc=pass header.from=" + demoDomain + "\r\n"
	}
	d.mu.Lock()
	d.n++
	n := d.n + 1000
	d.mu.Unlock()
	if err := d.ms.deliver("mesa@"+demoDomain, demoMessage(from, from, subject, body, extra, n)); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	http.Redirect(w, r, "/demo?de="+from+"&enviado="+urlQuery(subject), http.StatusSeeOther)
}

func base64Std(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func urlQuery(s string) string { return url.QueryEscape(s) }
