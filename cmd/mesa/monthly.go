package main

import (
	"context"
	"time"

	"github.com/mesadeservicios/mesa/config"
	"github.com/mesadeservicios/mesa/jobs"
	"github.com/mesadeservicios/mesa/report"
	"github.com/mesadeservicios/mesa/rules"
	"github.com/mesadeservicios/mesa/store"
	"github.com/mesadeservicios/mesa/ticket"
)

// monthlyReporter builds the monthly report mail's file with package
// report over the store (desk.MonthlyReporter, checked in contracts.go):
// desk decides when and to whom, and stays free of the spreadsheet
// library and of the report's row adapter.
type monthlyReporter struct {
	src  report.Source
	opts report.Options // Calendar, Location, CategoryName; the period is the month's
	now  func() time.Time
}

// newMonthlyReporter wires the report of the configuration's calendar,
// zone and catalogue over db.
func newMonthlyReporter(cfg *config.Config, db *store.DB, eng *rules.Engine, now func() time.Time) (monthlyReporter, error) {
	cal, err := loadCalendar(cfg)
	if err != nil {
		return monthlyReporter{}, err
	}
	loc, _ := time.LoadLocation(cfg.Desk.Timezone) // validated by config
	return monthlyReporter{src: reportSource{db},
		opts: report.Options{Calendar: cal, Location: loc, CategoryName: eng.DisplayName}, now: now}, nil
}

// MonthlyReport implements desk.MonthlyReporter: the month's report as
// XLSX and its totals, from the same build, so the body and the file agree.
func (m monthlyReporter) MonthlyReport(ctx context.Context, groups []string, year int, month time.Month) (ticket.MonthTotals, []byte, error) {
	opts := m.opts
	opts.Now = m.now()
	r, err := report.Month(ctx, m.src, groups, year, month, opts)
	if err != nil {
		return ticket.MonthTotals{}, nil, err
	}
	data, err := r.XLSX()
	if err != nil {
		return ticket.MonthTotals{}, nil, err
	}
	return monthTotals(r.Total), data, nil
}

// monthTotals are a report's totals as the mail shows them.
func monthTotals(s report.Summary) ticket.MonthTotals {
	t := ticket.MonthTotals{Opened: s.Opened, Closed: s.Closed, Compliance: ticket.Compliance{Met: s.Met, Total: s.WithSLA},
		FirstResponse: ticket.Durations{N: s.FirstResponses, Total: s.FirstResponseSum}, Answered: s.Ratings}
	if mean, ok := s.MeanRating(); ok {
		t.Rating = mean
	}
	return t
}

// sendMonthlyReports is the monthly_report job.
func (a *App) sendMonthlyReports(ctx context.Context) error {
	n, err := a.desk.SendMonthlyReports(ctx, a.reports)
	jobs.Count(ctx, "mails", n)
	return err
}
