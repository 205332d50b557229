package desk_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/desk"
	"github.com/mesadeservicios/mesa/ticket"
)

// fakeReporter records what the desk asked for and answers a small file
// naming it.
type fakeReporter struct {
	calls []string
	err   error
}

func (f *fakeReporter) MonthlyReport(_ context.Context, groups []string, year int, month time.Month) (ticket.MonthTotals, []byte, error) {
	call := fmt.Sprintf("%04d-%02d %s", year, int(month), strings.Join(groups, ","))
	f.calls = append(f.calls, call)
	return ticket.MonthTotals{Opened: 7, Closed: 5, Compliance: ticket.Compliance{Met: 3, Total: 4}}, []byte("xlsx " + call), f.err
}

// The monthly report goes out on the month's first business day only
// (weekends and holidays skipped), covers the previous month, once per
// manager and month, scoped to the manager's groups.
func TestMonthlyReportsOnFirstBusinessDay(t *testing.T) {
	e := newStaffEnv(t)
	ctx := context.Background()
	e.person(t, &ticket.Person{Email: "marta@entidad.gov.co", Name: "Marta", Role: ticket.RoleManager, Groups: []string{"infraestructura"}})
	e.person(t, &ticket.Person{Email: "jefe@entidad.gov.co", Role: ticket.RoleManager})
	rep := &fakeReporter{}
	bogota := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 12, 30, 0, 0, time.UTC) } // 07:30 in Bogotá
	for _, tc := range []struct {
		name  string
		at    time.Time
		want  int
		calls []string
	}{
		{"Wednesday 1 April, the first business day", bogota(2026, 4, 1), 2, []string{"2026-03 ", "2026-03 infraestructura"}},
		{"the same day again (a rerun)", bogota(2026, 4, 1).Add(time.Hour), 0, []string{"2026-03 ", "2026-03 infraestructura"}},
		{"Thursday 2 April, Jueves Santo", bogota(2026, 4, 2), 0, nil},
		{"Monday 6 April, a later business day", bogota(2026, 4, 6), 0, nil},
		{"Friday 1 May, Día del Trabajo", bogota(2026, 5, 1), 0, nil},
		{"Saturday 2 May", bogota(2026, 5, 2), 0, nil},
		{"Monday 4 May, the first business day", bogota(2026, 5, 4), 2, []string{"2026-04 ", "2026-04 infraestructura"}},
		{"Tuesday 5 May", bogota(2026, 5, 5), 0, nil},
		{"Friday 2 January, after Año Nuevo: December of the year before", bogota(2026, 1, 2), 2, []string{"2025-12 ", "2025-12 infraestructura"}},
	} {
		e.now, rep.calls = tc.at, nil
		n, err := e.d.SendMonthlyReports(ctx, rep)
		if err != nil || n != tc.want {
			t.Errorf("%s: got %d mails, %v; want %d", tc.name, n, err, tc.want)
		}
		slices.Sort(rep.calls)
		if !slices.Equal(rep.calls, tc.calls) {
			t.Errorf("%s: reports built %q, want %q", tc.name, rep.calls, tc.calls)
		}
	}

	// Marta's mail of April has her groups' report of March attached.
	e.now = bogota(2026, 5, 4)
	var april *ticket.Inbound
	for _, m := range e.outbox(t, "marta@entidad.gov.co") {
		if strings.Contains(m.Subject, "marzo de 2026") {
			april = m
		}
	}
	if april == nil || april.Subject != "Informe mensual de la Mesa de Servicios — marzo de 2026" {
		t.Fatalf("no report of March to marta: %+v", april)
	}
	var files []ticket.InboundAttachment
	for _, a := range april.Attachments {
		if !a.Inline {
			files = append(files, a)
		}
	}
	if len(files) != 1 || files[0].Filename != "informe-mesa-de-servicios-2026-03.xlsx" || files[0].ContentType != desk.XLSXType ||
		!bytes.Equal(files[0].Data, []byte("xlsx 2026-03 infraestructura")) {
		t.Errorf("attachments of marta's March report: %+v", files)
	}
	if !strings.Contains(april.Text, "Casos recibidos: 7") || !strings.Contains(april.Text, "75 % (3/4)") ||
		!strings.Contains(april.Text, "Grupos: infraestructura") {
		t.Errorf("body of marta's March report:\n%s", april.Text)
	}
	if _, err := e.db.MailByDedupeKey(ctx, "monthly_report:jefe@entidad.gov.co:2026-03"); err != nil {
		t.Errorf("the whole desk's report to jefe: %v", err)
	}

	// A report that cannot be built is an error of the run, not a mail.
	e.now = bogota(2026, 6, 1)
	rep.err = errors.New("disk full")
	if n, err := e.d.SendMonthlyReports(ctx, rep); err == nil || !strings.Contains(err.Error(), "disk full") || n != 0 {
		t.Errorf("failing report: got %d, %v; want 0 and the error", n, err)
	}
	if _, err := e.d.SendMonthlyReports(ctx, nil); !errors.Is(err, ticket.ErrInvalid) {
		t.Errorf("no reporter: got %v, want ErrInvalid", err)
	}
}
