package web_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mesadeservicios/mesa/desk"
	"github.com/mesadeservicios/mesa/ticket"
)

// browser starts Debian's Chromium headless, kept off the network: every
// name but 127.0.0.1 resolves to nothing.
func browser(t *testing.T) context.Context {
	t.Helper()
	return browserFor(t, 60*time.Second)
}

// browserFor is browser with a timeout for the whole test.
func browserFor(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	exe, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("Chromium for browser tests: not installed (%v).\nFix: apt-get install chromium (`make test` does this when run as root).", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-quic", true),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1000, 900))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	if err := chromedp.Do(ctx); err != nil { // start the browser on a context without deadline
		t.Fatal(err)
	}
	ctx, cancelT := context.WithTimeout(ctx, timeout)
	t.Cleanup(func() { cancelT(); cancelC(); cancelA() })
	return ctx
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	dir := os.Getenv("MESA_SCREENSHOTS") // keep them somewhere to look at
	if dir == "" {
		dir = t.TempDir()
	}
	path := filepath.Join(dir, name+".png")
	os.WriteFile(path, png, 0o644)
	t.Logf("screenshot: %s (%d bytes)", path, len(png))
}

// TestBrowser looks a ticket up through the form, fails with a wrong key,
// comments from the page, and checks that a hostile mail is inert.
func TestBrowser(t *testing.T) {
	s := newSite(t, 100)
	tk, err := s.d.Create(context.Background(), desk.NewTicket{Subject: `VPN <img src=x onerror="document.title='pwned'">`,
		Requester: "ana@entidad.gov.co", Body: "No conecta. <script>document.title='pwned'</script> <a href=\"javascript:alert(1)\">x</a>"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := browser(t)

	// Wrong key: the lookup form again, with the one message.
	err = chromedp.Do(ctx, chromedp.Navigate(s.srv.URL+"/"),
		chromedp.SendKeys(chromedp.ID("numero"), tk.Number), chromedp.SendKeys(chromedp.ID("clave"), "clave-equivocada"),
		chromedp.Click(chromedp.ID("consultar")), chromedp.WaitVisible(chromedp.CSS(".error")))
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".error")))
	if !strings.Contains(msg, "No encontramos") {
		t.Errorf("wrong key message: %q", msg)
	}

	// Right key: the ticket page.
	err = chromedp.Do(ctx, chromedp.Navigate(s.srv.URL+"/"),
		chromedp.SendKeys(chromedp.ID("numero"), tk.Number), chromedp.SendKeys(chromedp.ID("clave"), tk.AccessKey),
		chromedp.Click(chromedp.ID("consultar")), chromedp.WaitVisible(chromedp.ID("historial")))
	if err != nil {
		t.Fatal(err)
	}
	subject, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("asunto")))
	title, _ := chromedp.Run(ctx, chromedp.Evaluate[string]("document.title"))
	if !strings.Contains(subject, "<img src=x") || title == "pwned" {
		t.Errorf("hostile mail not inert: subject %q, title %q", subject, title)
	}
	state, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("estado")))
	if state != "Abierto" {
		t.Errorf("state: %q", state)
	}
	screenshot(t, ctx, "ticket")

	// A comment from the page lands in the history.
	err = chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("comentario"), "Ya reinicié el computador."),
		chromedp.Click(chromedp.ID("enviar")),
		chromedp.WaitVisible(chromedp.Search(`//ol[@id="historial"]//pre[contains(., "Ya reinicié")]`)))
	if err != nil {
		t.Fatal(err)
	}
	history, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("historial")))
	if !strings.Contains(history, "Ya reinicié el computador.") {
		t.Errorf("comment missing from the history:\n%s", history)
	}
	screenshot(t, ctx, "after-comment")
}

// TestBrowserSurveyAndMyTickets answers a survey through its link and lists
// the requester's tickets through a "Mis solicitudes" link.
func TestBrowserSurveyAndMyTickets(t *testing.T) {
	bg := context.Background()
	s := newMailSite(t)
	tk, err := s.d.Create(bg, desk.NewTicket{Subject: "No imprime la impresora del piso 3", Requester: "ana@entidad.gov.co", Body: "Sale en blanco."})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.d.Transition(bg, tk.Number, ticket.Cerrado, "carlos@entidad.gov.co", "Se cambió el tóner."); err != nil {
		t.Fatal(err)
	}
	*s.now = s.now.Add(time.Hour)
	if rep, err := s.d.SendSurveys(bg); err != nil || rep.Sent != 1 {
		t.Fatalf("surveys: %+v %v", rep, err)
	}
	ctx := browser(t)

	err = chromedp.Do(ctx, chromedp.Navigate(s.srv.URL+"/encuesta/"+s.link(t, "ana@entidad.gov.co", "/encuesta/")),
		chromedp.WaitVisible(chromedp.ID("encuesta")),
		chromedp.Click(chromedp.CSS(`input[name="resuelto"][value="no"]`)),
		chromedp.Click(chromedp.CSS(`input[name="calificacion"][value="2"]`)),
		chromedp.SendKeys(chromedp.ID("comentario"), "Sigue saliendo en blanco."))
	if err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "survey")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("enviar")), chromedp.WaitVisible(chromedp.ID("gracias"))); err != nil {
		t.Fatal(err)
	}
	thanks, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("gracias")))
	if !strings.Contains(thanks, "Reabrimos el caso") {
		t.Errorf("after the survey: %q", thanks)
	}
	if got, _ := s.db.TicketByNumber(bg, tk.Number); got.State != ticket.EnProceso {
		t.Errorf("ticket after «no»: %s", got.State)
	}

	err = chromedp.Do(ctx, chromedp.Navigate(s.srv.URL+"/"), chromedp.Click(chromedp.ID("mis-solicitudes")),
		chromedp.SendKeys(chromedp.ID("correo"), "ana@entidad.gov.co"), chromedp.Click(chromedp.ID("pedir")),
		chromedp.WaitVisible(chromedp.ID("enviado")))
	if err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(ctx, chromedp.Navigate(s.srv.URL+"/mis-solicitudes/"+s.link(t, "ana@entidad.gov.co", "/mis-solicitudes/")),
		chromedp.WaitVisible(chromedp.ID("solicitudes")))
	if err != nil {
		t.Fatal(err)
	}
	list, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("solicitudes")))
	if !strings.Contains(list, tk.Number) || !strings.Contains(list, "En proceso") {
		t.Errorf("list:\n%s", list)
	}
	screenshot(t, ctx, "mis-solicitudes")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.Search(`//table[@id="solicitudes"]//a[text()="`+tk.Number+`"]`)), chromedp.WaitVisible(chromedp.ID("historial"))); err != nil {
		t.Fatal(err)
	}
	if n, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("numero"))); n != tk.Number {
		t.Errorf("ticket page from the list: %q", n)
	}
}
