package desk

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mesadeservicios/mesa/ticket"
)

// The monthly report mail (guide section 5, issue 16 item 9): on the
// month's first business day, each manager gets the follow-up report of
// the previous month for their groups, the XLSX attached.

// MonthlyReporter builds the follow-up report of a calendar month for the
// groups (none: the whole desk): its totals, for the mail's body, and the
// report's file (XLSX). cmd/mesa implements it with package report over
// the store: the desk decides when and to whom, and never builds a
// spreadsheet itself.
type MonthlyReporter interface {
	MonthlyReport(ctx context.Context, groups []string, year int, month time.Month) (ticket.MonthTotals, []byte, error)
}

// XLSXType is the media type of an XLSX file (ECMA-376).
const XLSXType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// reportMonth says whether the monthly report goes out at now — on the
// month's first working day of the calendar (weekends and holidays
// skipped, like the weekly digest) — and which month it covers: the
// previous one.
func (d *Desk) reportMonth(now time.Time) (int, time.Month, bool) {
	if !d.calendar.IsWorkday(now) {
		return 0, 0, false
	}
	local := now.In(d.cfg.Location)
	y, m, dd := local.Date()
	for day := 1; day < dd; day++ {
		if d.calendar.IsWorkday(time.Date(y, m, day, 12, 0, 0, 0, d.cfg.Location)) {
			return 0, 0, false // an earlier working day of this month had it
		}
	}
	prev := time.Date(y, m, 1, 12, 0, 0, 0, d.cfg.Location).AddDate(0, -1, 0)
	return prev.Year(), prev.Month(), true
}

// MonthlyReportName is the file name of a month's report.
func MonthlyReportName(year int, month time.Month) string {
	return fmt.Sprintf("informe-mesa-de-servicios-%04d-%02d.xlsx", year, int(month))
}

// SendMonthlyReports queues, on the month's first business day, the
// previous month's report to every active manager, scoped to their groups
// (a manager without groups gets the whole desk), with the file rep
// builds attached. Each mail's dedupe key is the manager's and the month's,
// so a rerun, a later run that day or a second instance sends nothing
// twice. It returns the mails queued now; it is the monthly_report job's
// work.
func (d *Desk) SendMonthlyReports(ctx context.Context, rep MonthlyReporter) (int, error) {
	if rep == nil {
		return 0, fmt.Errorf("%w: the monthly report needs a reporter", ticket.ErrInvalid)
	}
	now := d.now()
	year, month, ok := d.reportMonth(now)
	if !ok {
		return 0, nil
	}
	managers, err := d.store.PeopleWithRole(ctx, ticket.RoleManager)
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, p := range managers {
		totals, data, err := rep.MonthlyReport(ctx, p.Groups, year, month)
		if err != nil {
			return sent, fmt.Errorf("building the monthly report of %04d-%02d for %s: %w", year, int(month), p.Email, err)
		}
		_, queued, err := d.queue(ctx, &ticket.Notice{To: p.Email, ToName: p.Name, Lang: d.cfg.Language, At: now.UTC(),
			DedupeKey: fmt.Sprintf("monthly_report:%s:%04d-%02d", strings.ToLower(p.Email), year, int(month)),
			Payload: ticket.MonthlyReportNotice{Year: year, Month: month, Groups: p.Groups, Totals: totals,
				File: ticket.NoticeFile{Name: MonthlyReportName(year, month), ContentType: XLSXType,
					Size: int64(len(data)), Data: data}}})
		if err != nil {
			return sent, err
		}
		if queued { // not queued: already sent this month (a rerun), or to the desk itself
			sent++
		}
	}
	return sent, nil
}
