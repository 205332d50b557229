package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/desk"
	"github.com/mesadeservicios/mesa/ticket"
)

// TestSurveyPage: the link shows the form and changes nothing, however
// often a scanner opens it; the POST needs the CSRF token and a complete
// answer, works once, and "no" reopens.
func TestSurveyPage(t *testing.T) {
	ctx := context.Background()
	s := newMailSite(t)
	db, d := s.db, s.d
	tk, _ := d.Create(ctx, desk.NewTicket{Subject: "Impresora <b>atascada</b>", Requester: "ana@entidad.gov.co", Body: "No imprime."})
	if _, err := d.Transition(ctx, tk.Number, ticket.Cerrado, "carlos@entidad.gov.co", "Se retiró el papel atascado."); err != nil {
		t.Fatal(err)
	}
	*s.now = s.now.Add(time.Hour)
	if rep, err := d.SendSurveys(ctx); err != nil || rep.Sent != 1 {
		t.Fatalf("surveys: %+v %v", rep, err)
	}
	token := s.link(t, "ana@entidad.gov.co", "/encuesta/")
	if token == "" {
		t.Fatal("no survey link in the outbox")
	}

	code, body, hdr := s.get(t, "/encuesta/"+token)
	if code != 200 || !strings.Contains(body, tk.Number) || !strings.Contains(body, "¿Se resolvió su solicitud?") ||
		strings.Contains(body, "<b>atascada") || hdr.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("survey page: %d %v\n%s", code, hdr, body)
	}
	s.get(t, "/encuesta/"+token) // a scanner, twice
	if got, _ := db.TicketByNumber(ctx, tk.Number); got.State != ticket.Cerrado {
		t.Errorf("after opening: got %s, want cerrado (a GET changes nothing)", got.State)
	}
	if sv, _ := db.SurveyByToken(ctx, ticket.HashAccessKey(token)); sv.Status != ticket.SurveySent || sv.OpenedAt != nil {
		t.Errorf("a GET changed the survey: %+v", sv)
	}
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)[1]
	post := func(form url.Values) (int, string) { return s.postForm(t, "/encuesta/"+token, form) }
	if code, _ := post(url.Values{"csrf": {"forjado"}, "calificacion": {"5"}, "resuelto": {"si"}}); code != http.StatusForbidden {
		t.Errorf("forged CSRF: %d", code)
	}
	if code, _ := post(url.Values{"csrf": {csrf}, "calificacion": {"9"}, "resuelto": {"si"}}); code != http.StatusBadRequest {
		t.Errorf("rating 9: %d", code)
	}
	code, body = post(url.Values{"csrf": {csrf}, "calificacion": {"3"}, "resuelto": {"no"}, "comentario": {"Volvió a atascarse."}})
	if code != 200 || !strings.Contains(body, "Reabrimos el caso") {
		t.Fatalf("answer: %d\n%s", code, body)
	}
	if got, _ := db.TicketByNumber(ctx, tk.Number); got.State != ticket.EnProceso {
		t.Errorf("after «no»: %s", got.State)
	}
	if code, body := post(url.Values{"csrf": {csrf}, "calificacion": {"5"}, "resuelto": {"si"}}); code != http.StatusGone || !strings.Contains(body, "ya fue respondida") {
		t.Errorf("second answer: %d\n%s", code, body)
	}
	if code, _, _ := s.get(t, "/encuesta/"+strings.Repeat("A", 43)); code != http.StatusNotFound {
		t.Errorf("unknown token: %d", code)
	}
	if code, body, _ := s.get(t, "/encuesta/"+token+"?lang=en"); code != http.StatusGone || !strings.Contains(body, "already answered") {
		t.Errorf("answered, in English: %d\n%s", code, body)
	}
}
