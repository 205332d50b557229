package web_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/desk"
	"github.com/mesadeservicios/mesa/mailout"
	"github.com/mesadeservicios/mesa/rules"
	"github.com/mesadeservicios/mesa/sla"
	"github.com/mesadeservicios/mesa/store"
	"github.com/mesadeservicios/mesa/ticket"
	"github.com/mesadeservicios/mesa/web"
)

var _ web.Desk = noDesk{}

// noDesk is a desk with no tickets, for the endpoints that never reach it.
type noDesk struct{}

func (noDesk) Lookup(context.Context, string, string) (*desk.View, error) {
	return nil, ticket.ErrNotFound
}
func (noDesk) RequesterComment(context.Context, string, string, string) error {
	return ticket.ErrNotFound
}
func (noDesk) OpenSurvey(context.Context, string) (*desk.SurveyPage, error) {
	return nil, desk.ErrSurveyUnknown
}
func (noDesk) AnswerSurvey(context.Context, string, desk.SurveyAnswer) error {
	return desk.ErrSurveyUnknown
}

// SurveyReopens is the default rule: not solved, or a rating of 2 or less.
func (noDesk) SurveyReopens(a desk.SurveyAnswer) bool {
	return (a.Solved != nil && !*a.Solved) || (a.Rating > 0 && a.Rating <= 2)
}
func (noDesk) RequestMyTickets(context.Context, string) error { return nil }
func (noDesk) MyTickets(context.Context, string) (string, []*ticket.Ticket, error) {
	return "", nil, ticket.ErrNotFound
}
func (noDesk) LookupMine(context.Context, string, string) (*desk.View, error) {
	return nil, ticket.ErrNotFound
}

func (noDesk) File(context.Context, string) (*ticket.Attachment, error) {
	return nil, ticket.ErrNotFound
}

type keys struct{}

func (keys) DisplayName(k string) string { return k }

// server builds the handler or fails the test.
func server(t testing.TB, d web.Deps, o web.Options) *web.Server {
	t.Helper()
	if d.Desk == nil {
		d.Desk = noDesk{}
	}
	if d.Catalogue == nil {
		d.Catalogue = keys{}
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	s, err := web.New(d, o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// newDesk is a desk over db with the real catalogue, calendar and mail
// renderer (its mail goes to the outbox, never sent).
func newDesk(t testing.TB, db *store.DB, now func() time.Time) (*desk.Desk, *rules.Engine) {
	t.Helper()
	eng, _ := rules.Default()
	cal, _ := sla.New(sla.Options{})
	r, err := mailout.New(mailout.Options{DeskName: "Mesa de Servicios", From: "mesa@entidad.gov.co", PublicURL: "https://mesa.x", Catalogue: eng})
	if err != nil {
		t.Fatal(err)
	}
	d, err := desk.New(desk.Deps{Files: noFiles{}, Store: db, Mail: r, Calendar: cal, Classifier: eng, Now: now, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return d, eng
}

func TestNewRequiresDeps(t *testing.T) {
	if _, err := web.New(web.Deps{}, web.Options{}); err == nil {
		t.Fatal("no deps: got nil error")
	}
}

// noFiles is the desk's file decoder in web's tests: every file they
// download was kept decoded.
type noFiles struct{}

func (noFiles) DecodeAttachment([]byte, string) ([]byte, error) { return nil, errors.New("not kept") }
