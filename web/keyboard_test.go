package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/mesadeservicios/mesa/desk"
	"github.com/mesadeservicios/mesa/ticket"
	"github.com/mesadeservicios/mesa/web"
)

// focus is what the browser says of the focused element.
type focus struct {
	Name         string  `json:"name"` // #id, name=value for radios, a:href
	FocusVisible bool    `json:"focusVisible"`
	Outline      string  `json:"outline"`
	Width        float64 `json:"width"`
	InView       bool    `json:"inView"`
}

const focusJS = `(() => {
	const e = document.activeElement, cs = getComputedStyle(e), r = e.getBoundingClientRect();
	let name = e.id ? "#" + e.id : e.tagName.toLowerCase();
	if (e.type === "radio") name = e.name + "=" + e.value;
	else if (!e.id && e.tagName === "A") name = "a:" + e.getAttribute("href");
	return {name, focusVisible: e.matches(":focus-visible"), outline: cs.outlineStyle, width: parseFloat(cs.outlineWidth) || 0,
		inView: r.width > 0 && r.height > 0 && r.bottom > 0 && r.right > 0 && r.top < innerHeight + scrollY && r.left < innerWidth};
})()`

// focused reads the focused element.
func focused(ctx context.Context) (focus, error) {
	return chromedp.Run(ctx, chromedp.Evaluate[focus](focusJS))
}

// press sends keys (kb.Tab, kb.Enter, text) to the focused element.
func press(keys string) chromedp.Action[chromedp.Void] { return chromedp.KeyEvent(keys) }

// tabThrough presses Tab once per element of want, from the page's start,
// and checks that focus lands on each in turn, visibly: :focus-visible
// matches and its CSS outline is solid and at least 2px wide.
func tabThrough(t *testing.T, ctx context.Context, page string, want []string) {
	t.Helper()
	var got []string
	for i, w := range want {
		if err := chromedp.Do(ctx, press(kb.Tab)); err != nil {
			t.Fatalf("%s: Tab %d: %v", page, i+1, err)
		}
		f, err := focused(ctx)
		if err != nil {
			t.Fatalf("%s: %v", page, err)
		}
		got = append(got, f.Name)
		if f.Name != w {
			t.Errorf("%s: Tab %d focuses %s, want %s (order so far: %s)", page, i+1, f.Name, w, strings.Join(got, " → "))
			return
		}
		if !f.FocusVisible || f.Outline == "none" || f.Width < 2 || !f.InView {
			t.Errorf("%s: %s has no visible focus: :focus-visible %v, outline %s %.1fpx, in view %v", page, f.Name, f.FocusVisible, f.Outline, f.Width, f.InView)
		}
	}
}

// expectFocus checks which element has the focus.
func expectFocus(t *testing.T, ctx context.Context, page, want string) {
	t.Helper()
	f, err := focused(ctx)
	if err != nil {
		t.Fatalf("%s: %v", page, err)
	}
	if f.Name != want {
		t.Errorf("%s: focus on %s, want %s", page, f.Name, want)
	}
}

// TestKeyboard uses every form with the keyboard alone: Tab reaches each
// control in reading order with a visible focus, the skip link jumps to
// the main content, and Enter submits.
func TestKeyboard(t *testing.T) {
	bg := context.Background()
	s := newA11ySite(t, web.Options{})
	tk, err := s.d.Create(bg, desk.NewTicket{Subject: "No conecta la VPN", Requester: "ana@entidad.gov.co", Body: "Desde la casa no conecta."})
	if err != nil {
		t.Fatal(err)
	}
	done, _ := s.d.Create(bg, desk.NewTicket{Subject: "No imprime", Requester: "ana@entidad.gov.co", Body: "Sale en blanco."})
	if _, err := s.d.Transition(bg, done.Number, ticket.Cerrado, "carlos@entidad.gov.co", "Se cambió el tóner."); err != nil {
		t.Fatal(err)
	}
	*s.now = s.now.Add(time.Hour)
	if rep, err := s.d.SendSurveys(bg); err != nil || rep.Sent != 1 {
		t.Fatalf("surveys: %+v %v", rep, err)
	}
	ctx := browserFor(t, 3*time.Minute)
	header := []string{"#saltar", "#inicio", "#idioma"}

	// The skip link is the first stop, visible when focused, and moves the
	// focus to the main content, whose first control comes next.
	if err := chromedp.Do(ctx, chromedp.Navigate(s.srv.URL+"/"), chromedp.WaitVisible(chromedp.ID("numero"))); err != nil {
		t.Fatal(err)
	}
	tabThrough(t, ctx, "lookup", header[:1])
	if err := chromedp.Do(ctx, press(kb.Enter)); err != nil {
		t.Fatal(err)
	}
	expectFocus(t, ctx, "after the skip link", "#contenido")
	tabThrough(t, ctx, "after the skip link", []string{"#numero"})

	// Lookup: every stop in order, then type and submit with Enter.
	if err := chromedp.Do(ctx, chromedp.Navigate(s.srv.URL+"/"), chromedp.WaitVisible(chromedp.ID("numero"))); err != nil {
		t.Fatal(err)
	}
	tabThrough(t, ctx, "lookup", append(header, "#numero", "#clave", "#consultar", "#mis-solicitudes"))
	if err := chromedp.Do(ctx, chromedp.Navigate(s.srv.URL+"/"), chromedp.WaitVisible(chromedp.ID("numero"))); err != nil {
		t.Fatal(err)
	}
	tabThrough(t, ctx, "lookup", append(header, "#numero"))
	err = chromedp.Do(ctx, press(tk.Number), press(kb.Tab), press(tk.AccessKey), press(kb.Enter), chromedp.WaitVisible(chromedp.ID("historial")))
	if err != nil {
		t.Fatalf("lookup by keyboard: %v", err)
	}
	if n, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("numero"))); n != tk.Number {
		t.Errorf("lookup by keyboard shows %q, want %s", n, tk.Number)
	}

	// The ticket's comment: the box, the button, Enter on the button.
	tabThrough(t, ctx, "ticket", append(header, "#comentario", "#enviar"))
	if err := chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("historial"))); err != nil {
		t.Fatal(err)
	}
	tabThrough(t, ctx, "ticket", append(header, "#comentario"))
	err = chromedp.Do(ctx, press("Escrito con el teclado."), press(kb.Tab), press(kb.Enter),
		chromedp.WaitVisible(chromedp.Search(`//ol[@id="historial"]//pre[contains(., "Escrito con el teclado.")]`)))
	if err != nil {
		t.Fatalf("comment by keyboard: %v", err)
	}

	// The survey: Tab into each radio group, arrows to choose, Tab on to
	// the comment and the button, Enter.
	err = chromedp.Do(ctx, chromedp.Navigate(s.srv.URL+"/encuesta/"+s.link(t, "ana@entidad.gov.co", "/encuesta/")),
		chromedp.WaitVisible(chromedp.ID("encuesta")))
	if err != nil {
		t.Fatal(err)
	}
	tabThrough(t, ctx, "survey", append(header, "resuelto=si", "calificacion=1", "#comentario", "#enviar"))
	if err := chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("encuesta"))); err != nil {
		t.Fatal(err)
	}
	tabThrough(t, ctx, "survey", append(header, "resuelto=si"))
	if err := chromedp.Do(ctx, press(kb.ArrowDown)); err != nil { // "no"
		t.Fatal(err)
	}
	expectFocus(t, ctx, "survey", "resuelto=no")
	tabThrough(t, ctx, "survey", []string{"calificacion=1"})
	if err := chromedp.Do(ctx, press(kb.ArrowRight)); err != nil { // 2
		t.Fatal(err)
	}
	expectFocus(t, ctx, "survey", "calificacion=2")
	tabThrough(t, ctx, "survey", []string{"#comentario"})
	err = chromedp.Do(ctx, press("Sigue en blanco."), press(kb.Tab), press(kb.Enter), chromedp.WaitVisible(chromedp.ID("gracias")))
	if err != nil {
		t.Fatalf("survey by keyboard: %v", err)
	}
	sv, err := s.db.TicketByNumber(bg, done.Number)
	if err != nil || sv.State != ticket.EnProceso {
		t.Errorf("after a keyboard «no», rating 2: ticket %+v %v, want en_proceso", sv, err)
	}

	// Mis solicitudes: the address, Enter in the field.
	if err := chromedp.Do(ctx, chromedp.Navigate(s.srv.URL+"/mis-solicitudes"), chromedp.WaitVisible(chromedp.ID("correo"))); err != nil {
		t.Fatal(err)
	}
	tabThrough(t, ctx, "Mis solicitudes", append(header, "#correo", "#pedir"))
	if err := chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("correo"))); err != nil {
		t.Fatal(err)
	}
	tabThrough(t, ctx, "Mis solicitudes", append(header, "#correo"))
	if err := chromedp.Do(ctx, press("ana@entidad.gov.co"), press(kb.Enter), chromedp.WaitVisible(chromedp.ID("enviado"))); err != nil {
		t.Fatalf("Mis solicitudes by keyboard: %v", err)
	}
	if s.link(t, "ana@entidad.gov.co", "/mis-solicitudes/") == "" {
		t.Error("no link mailed after the keyboard request")
	}
}

// TestKeyboardGovCo: with the GOV.CO bar and footer, the logo link comes
// right after the skip link and the footer's links after the page's.
func TestKeyboardGovCo(t *testing.T) {
	s := newA11ySite(t, govcoOptions)
	ctx := browser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(s.srv.URL+"/"), chromedp.WaitVisible(chromedp.ID("numero"))); err != nil {
		t.Fatal(err)
	}
	tabThrough(t, ctx, "lookup with GOV.CO", []string{"#saltar", "a:https://www.gov.co", "#inicio", "#idioma", "#numero", "#clave", "#consultar",
		"#mis-solicitudes", "a:mailto:" + govcoOptions.Entity.Email, "#privacidad", "a:https://www.gov.co"})
	screenshot(t, ctx, fmt.Sprintf("govco-focus-%s", "footer"))
}
