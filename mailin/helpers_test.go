package mailin_test

import (
	"testing"

	"github.com/mesadeservicios/mesa/mailout"
)

func mustRenderer(t testing.TB) *mailout.Renderer {
	t.Helper()
	r, err := mailout.New(mailout.Options{DeskName: "Mesa de Servicios", From: "mesa@entidad.gov.co", PublicURL: "https://mesa.entidad.gov.co"})
	if err != nil {
		t.Fatal(err)
	}
	return r
}
