package main

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/config"
	"github.com/mesadeservicios/mesa/desk"
	"github.com/mesadeservicios/mesa/mailin"
)

// TestSiteConfig: desk.privacy_url and the web section reach the pages
// (GOV.CO bar, the entity's footer, the privacy link) and the
// acknowledgement mail.
func TestSiteConfig(t *testing.T) {
	const privacy = "https://www.entidad.gov.co/politica-de-datos"
	cfg, err := config.Load("", []string{"MESA_DATABASE_URL=sqlite:" + filepath.Join(t.TempDir(), "m.db"), "MESA_HTTP_LISTEN=127.0.0.1:0",
		"MESA_DESK_PRIVACY_URL=" + privacy, "MESA_WEB_GOVCO=true", "MESA_WEB_ENTITY_NAME=Agencia Nacional de Ejemplo",
		"MESA_WEB_ENTITY_ADDRESS=Calle 26 # 13-19, Bogotá", "MESA_WEB_ENTITY_PHONE=+57 601 555 0100",
		"MESA_WEB_ENTITY_HOURS=Lunes a viernes", "MESA_WEB_ENTITY_EMAIL=contacto@entidad.gov.co"})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Groups = []config.Group{{Key: "soporte", Name: "Soporte"}}
	cfg.People = []config.Person{{Email: "ana@x.co", Name: "Ana", Role: "technician", Level: 1, Groups: []string{"soporte"}}}
	app, _, _ := startApp(t, cfg)
	resp, err := http.Get("http://" + app.Addr() + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(b)
	for _, want := range []string{`id="govco"`, `href="https://www.gov.co"`, "Agencia Nacional de Ejemplo", "Calle 26 # 13-19, Bogotá",
		"57 601 555 0100", "mailto:contacto@entidad.gov.co", `href="` + privacy + `"`, "Política de tratamiento de datos personales"} {
		if !strings.Contains(page, want) {
			t.Errorf("home page lacks %s:\n%s", want, page)
		}
	}
	bg := context.Background()
	if _, err := app.desk.Create(bg, desk.NewTicket{Subject: "VPN", Requester: "luis@entidad.gov.co", Body: "No conecta."}); err != nil {
		t.Fatal(err)
	}
	mail, err := app.db.DueMail(bg, time.Now().Add(time.Hour), 10)
	if err != nil || len(mail) == 0 {
		t.Fatalf("outbox: %d mails, %v", len(mail), err)
	}
	in, err := mailin.Parse(mail[0].Raw)
	if err != nil || !strings.Contains(in.Text, "Política de tratamiento de datos personales: "+privacy) {
		t.Errorf("acknowledgement without the privacy link (%v):\n%s", err, in.Text)
	}
}
