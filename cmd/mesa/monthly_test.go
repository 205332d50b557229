package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/mesadeservicios/mesa/config"
	"github.com/mesadeservicios/mesa/mailin"
	"github.com/mesadeservicios/mesa/report"
	"github.com/mesadeservicios/mesa/store"
	"github.com/mesadeservicios/mesa/ticket"
)

// monthlyTicket is a seeded ticket of the monthly report's test, times in
// Bogotá.
type monthlyTicket struct {
	group                  string
	created, closed, due   string // "2006-01-02 15:04"; closed "" = open
	firstResponse          string // "" = none
	rating                 int
	wantMarta, wantCounted bool // in marta's report (redes) / in the whole desk's
}

// seedMonth writes tickets around March 2026 into db.
func seedMonth(t *testing.T, db *store.DB, seeds []monthlyTicket) map[string]monthlyTicket {
	t.Helper()
	ctx := context.Background()
	bog, _ := time.LoadLocation("America/Bogota")
	at := func(s string) *time.Time {
		if s == "" {
			return nil
		}
		v, err := time.ParseInLocation("2006-01-02 15:04", s, bog)
		if err != nil {
			t.Fatal(err)
		}
		v = v.UTC()
		return &v
	}
	byNumber := map[string]monthlyTicket{}
	for i, s := range seeds {
		seq, err := db.NextTicketSeq(ctx, 2026)
		if err != nil {
			t.Fatal(err)
		}
		tk := &ticket.Ticket{Number: ticket.Number{Prefix: "MS", Year: 2026, Seq: seq}.String(), Year: 2026, Seq: seq,
			Subject: fmt.Sprint("Caso ", i), Requester: "ana@entidad.gov.co", State: ticket.Cerrado, Type: ticket.Incidente,
			Criticality: ticket.Media, Category: "ti.redes", Group: s.group, Assignee: "carlos@entidad.gov.co",
			AccessKeyHash: ticket.HashAccessKey(fmt.Sprint(seq)), CreatedAt: *at(s.created), UpdatedAt: *at(s.created),
			DueAt: at(s.due), ClosedAt: at(s.closed), FirstResponseAt: at(s.firstResponse)}
		if tk.ClosedAt == nil {
			tk.State = ticket.EnProceso
		}
		if err := db.CreateTicket(ctx, tk); err != nil {
			t.Fatal(err)
		}
		if s.rating > 0 {
			answered := tk.ClosedAt.Add(time.Hour)
			if err := db.CreateSurvey(ctx, &ticket.Survey{TicketID: tk.ID, Token: fmt.Sprint("s", i), SentAt: *tk.ClosedAt,
				ClosedAt: *tk.ClosedAt, Status: ticket.SurveyAnswered, Rating: s.rating, AnsweredAt: &answered}); err != nil {
				t.Fatal(err)
			}
		}
		byNumber[tk.Number] = s
	}
	return byNumber
}

// reportMail finds the monthly report mail in the outbox and its XLSX.
func reportMail(t *testing.T, db *store.DB, key string) (*ticket.Inbound, []byte) {
	t.Helper()
	m, err := db.MailByDedupeKey(context.Background(), key)
	if err != nil {
		t.Fatalf("the mail %s: %v", key, err)
	}
	in, err := mailin.Parse(m.Raw)
	if err != nil {
		t.Fatal(err)
	}
	var files []ticket.InboundAttachment
	for _, a := range in.Attachments {
		if !a.Inline {
			files = append(files, a)
		}
	}
	if len(files) != 1 || files[0].Filename != "informe-mesa-de-servicios-2026-03.xlsx" || files[0].Data == nil {
		t.Fatalf("%s: attachments %+v, want the XLSX of March", key, files)
	}
	return in, files[0].Data
}

// sheetTotals sums the Casos sheet of an XLSX report the way the summary
// does, for the month of March 2026: what the Total row must equal.
func sheetTotals(t *testing.T, data []byte) (numbers []string, opened, closed, withSLA, met, ratings, ratingSum int) {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("opening the XLSX: %v", err)
	}
	defer f.Close()
	rows, err := f.GetRows(report.TicketsSheet, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 || !slices.Equal(rows[0], report.TicketHeader) {
		t.Fatalf("the Casos sheet's header: %q", rows)
	}
	inMarch := func(cell string) bool {
		v, err := strconv.ParseFloat(cell, 64)
		if err != nil {
			return false
		}
		d, err := excelize.ExcelDateToTime(v, false)
		return err == nil && d.Year() == 2026 && d.Month() == time.March
	}
	for _, r := range rows[1:] {
		r = append(r, make([]string, len(report.TicketHeader))...)
		numbers = append(numbers, r[0])
		if inMarch(r[1]) {
			opened++
		}
		if !inMarch(r[2]) {
			continue
		}
		closed++
		if r[13] == string(report.SLAMet) || r[13] == string(report.SLAMissed) {
			withSLA++
		}
		if r[13] == string(report.SLAMet) {
			met++
		}
		if n, err := strconv.Atoi(r[14]); err == nil {
			ratings++
			ratingSum += n
		}
	}
	slices.Sort(numbers)
	return
}

// The monthly_report job, end to end on SQLite with a fake clock: on the
// first business day of April each manager's mail carries March's XLSX
// for their groups, whose totals are the sums of its rows and the figures
// of the mail's body; a rerun, a second instance and the next business day
// send nothing; May, whose 1st is a holiday (Día del Trabajo), sends on
// Monday the 4th.
func TestMonthlyReportJobEndToEnd(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mesa.db")
	cfg, err := config.Load("", []string{"MESA_DATABASE_URL=sqlite:" + path, "MESA_HTTP_LISTEN=127.0.0.1:0",
		"MESA_DESK_ADDRESSES=mesa@entidad.gov.co", "MESA_JOBS_SLA_CHECK=", "MESA_JOBS_SURVEYS="})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Groups = []config.Group{{Key: "redes", Name: "Redes"}, {Key: "soporte", Name: "Soporte"}}
	cfg.People = []config.Person{
		{Email: "carlos@entidad.gov.co", Name: "Carlos", Role: "technician", Level: 1, Groups: []string{"redes", "soporte"}},
		{Email: "marta@entidad.gov.co", Name: "Marta", Role: "manager", Groups: []string{"redes"}},
		{Email: "jefe@entidad.gov.co", Name: "Jefe", Role: "manager"}}
	var mu sync.Mutex
	now := time.Date(2026, 4, 1, 12, 30, 0, 0, time.UTC) // Wednesday 1 April, 07:30 in Bogotá
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	set := func(t time.Time) { mu.Lock(); now = t; mu.Unlock() }
	app, ctx, _ := startAppWith(t, cfg, Options{Now: clock})

	seeds := seedMonth(t, app.db, []monthlyTicket{
		// Opened in March, closed in time, answered after 1 business hour, rated 5.
		{group: "redes", created: "2026-03-03 10:00", closed: "2026-03-04 10:00", due: "2026-03-05 10:00",
			firstResponse: "2026-03-03 11:00", rating: 5, wantMarta: true, wantCounted: true},
		// Opened in March, closed late, answered after 2 business hours, rated 2.
		{group: "redes", created: "2026-03-10 10:00", closed: "2026-03-20 10:00", due: "2026-03-12 10:00",
			firstResponse: "2026-03-10 12:00", rating: 2, wantMarta: true, wantCounted: true},
		// Opened in March, still open.
		{group: "redes", created: "2026-03-25 09:00", due: "2026-04-10 09:00", wantMarta: true, wantCounted: true},
		// Opened in March, closed in April: opened, not closed, in March.
		{group: "redes", created: "2026-03-30 09:00", closed: "2026-04-01 07:00", due: "2026-04-02 09:00", wantMarta: true, wantCounted: true},
		// Opened in February, closed late in March.
		{group: "redes", created: "2026-02-20 09:00", closed: "2026-03-02 10:00", due: "2026-02-25 09:00", wantMarta: true, wantCounted: true},
		// Another group: only in the whole desk's report.
		{group: "soporte", created: "2026-03-05 09:00", closed: "2026-03-06 09:00", due: "2026-03-09 09:00", wantCounted: true},
		// February only: in no report of March.
		{group: "redes", created: "2026-02-10 09:00", closed: "2026-02-12 09:00", due: "2026-02-13 09:00"},
	})

	run := func(name string) {
		t.Helper()
		if err := app.jobs.RunNow(ctx, name, app.sendMonthlyReports); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	count := func() int {
		t.Helper()
		es, err := app.db.OutboxEntries(ctx, []ticket.OutboxState{ticket.OutboxPending, ticket.OutboxHeld, ticket.OutboxSent}, 1000)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range es {
			if strings.HasPrefix(e.Subject, "Informe mensual") {
				n++
			}
		}
		return n
	}
	run("monthly_report_april")
	if n := count(); n != 2 {
		t.Fatalf("after the run of 1 April: %d monthly mails, want 2 (marta, jefe)", n)
	}

	for _, tc := range []struct {
		to    string
		want  func(monthlyTicket) bool
		body  []string
		total map[string]string
	}{
		{"marta@entidad.gov.co", func(s monthlyTicket) bool { return s.wantMarta },
			[]string{"Grupos: redes", "Casos recibidos: 4", "Casos cerrados:  3", "33 % (1/3)", "1 h 30 min (2 casos)", "3,5 de 5 con 2 respuestas"},
			map[string]string{"recibidos": "4", "cerrados": "3", "cerrados con ANS": "3", "ANS cumplido": "1", "encuestas respondidas": "2"}},
		{"jefe@entidad.gov.co", func(s monthlyTicket) bool { return s.wantCounted },
			[]string{"Toda la mesa", "Casos recibidos: 5", "Casos cerrados:  4", "50 % (2/4)"},
			map[string]string{"recibidos": "5", "cerrados": "4", "cerrados con ANS": "4", "ANS cumplido": "2"}},
	} {
		in, data := reportMail(t, app.db, "monthly_report:"+tc.to+":2026-03")
		if in.Subject != "Informe mensual de la Mesa de Servicios — marzo de 2026" {
			t.Errorf("%s: subject %q", tc.to, in.Subject)
		}
		for _, w := range tc.body {
			if !strings.Contains(in.Text, w) {
				t.Errorf("%s: the body lacks %q:\n%s", tc.to, w, in.Text)
			}
		}
		var want []string
		for n, s := range seeds {
			if tc.want(s) {
				want = append(want, n)
			}
		}
		slices.Sort(want)
		numbers, opened, closed, withSLA, met, ratings, _ := sheetTotals(t, data)
		if !slices.Equal(numbers, want) {
			t.Errorf("%s: tickets in the report %v, want %v", tc.to, numbers, want)
		}
		tot := totalRow(t, data)
		for k, v := range tc.total {
			if tot[k] != v {
				t.Errorf("%s: total %q = %q, want %q", tc.to, k, tot[k], v)
			}
		}
		for k, v := range map[string]int{"recibidos": opened, "cerrados": closed, "cerrados con ANS": withSLA, "ANS cumplido": met,
			"encuestas respondidas": ratings} {
			if tot[k] != strconv.Itoa(v) {
				t.Errorf("%s: total %q = %q, but the rows sum to %d", tc.to, k, tot[k], v)
			}
		}
	}

	// A rerun that day, and a second instance on the same database, send
	// nothing twice.
	set(now.Add(2 * time.Hour))
	run("monthly_report_rerun")
	other, err := buildDesk(cfg, app.db, slog.New(slog.DiscardHandler), clock)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := other.SendMonthlyReports(ctx, app.reports); err != nil || n != 0 {
		t.Errorf("second instance: %d mails, %v; want 0", n, err)
	}
	// Thursday 2 April is Jueves Santo; Monday 6 April is the second
	// business day: nothing either.
	for _, day := range []int{2, 6} {
		set(time.Date(2026, 4, day, 12, 30, 0, 0, time.UTC))
		run(fmt.Sprint("monthly_report_april_", day))
	}
	if n := count(); n != 2 {
		t.Errorf("after the rerun, a second instance and later days: %d monthly mails, want still 2", n)
	}

	// Friday 1 May is Día del Trabajo: the report of April goes on Monday 4.
	set(time.Date(2026, 5, 1, 12, 30, 0, 0, time.UTC))
	run("monthly_report_may_1")
	if n := count(); n != 2 {
		t.Errorf("on 1 May, a holiday: %d monthly mails, want still 2", n)
	}
	set(time.Date(2026, 5, 4, 12, 30, 0, 0, time.UTC))
	run("monthly_report_may_4")
	if n := count(); n != 4 {
		t.Errorf("on Monday 4 May: %d monthly mails, want 4", n)
	}
	m, err := app.db.MailByDedupeKey(ctx, "monthly_report:marta@entidad.gov.co:2026-04")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.Subject, "abril de 2026") {
		t.Errorf("May's mail: subject %q, want April's report", m.Subject)
	}
	if _, err := app.db.MailByDedupeKey(ctx, "monthly_report:marta@entidad.gov.co:2026-05"); !errors.Is(err, ticket.ErrNotFound) {
		t.Errorf("a report of May before May ended: %v", err)
	}
	// Tuesday 2 June, the second business day, with no run on Monday 1
	// (the daemon was down): the day is past, no report of May.
	set(time.Date(2026, 6, 2, 12, 30, 0, 0, time.UTC))
	run("monthly_report_june_2")
	if n := count(); n != 4 {
		t.Errorf("on 2 June, the second business day: %d monthly mails, want still 4", n)
	}
}
