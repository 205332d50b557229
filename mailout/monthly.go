package mailout

import (
	"fmt"
	"time"

	"github.com/mesadeservicios/mesa/internal/i18n"
	"github.com/mesadeservicios/mesa/ticket"
)

// monthName shows a month as people read it: "marzo de 2026", "March 2026".
func monthName(year int, month time.Month, lang string) string {
	if month < time.January || month > time.December {
		return fmt.Sprintf("%04d-%02d", year, int(month))
	}
	if lang == "en" {
		return fmt.Sprintf("%s %d", month, year)
	}
	return fmt.Sprintf("%s de %d", monthsES[month], year)
}

// monthlyReport renders a manager's monthly report: the month's totals in
// the body, the report's XLSX attached.
func (r *Renderer) monthlyReport(n *ticket.Notice, lang string, p ticket.MonthlyReportNotice) (*ticket.Outgoing, error) {
	if p.File.Data == nil {
		return nil, fmt.Errorf("mailout: a monthly report notice without its file")
	}
	month := monthName(p.Year, p.Month, lang)
	d := struct {
		Desk, Month, File, Size string
		Groups                  []string
		T                       ticket.MonthTotals
	}{Desk: r.opts.DeskName, Month: month, File: p.File.Name, Size: humanSize(p.File.Size), Groups: p.Groups, T: p.Totals}
	body, err := r.execute(string(ticket.NoticeMonthlyReport), lang, d)
	if err != nil {
		return nil, err
	}
	subject := i18n.Tf(lang, "mail.subject.monthly_report", r.opts.DeskName, month)
	id := r.messageID("monthly_report", n.At)
	raw, err := r.build(n.To, n.ToName, subject, id, n.InReplyTo, body, n.At, "auto-generated", []ticket.NoticeFile{p.File})
	if err != nil {
		return nil, err
	}
	return &ticket.Outgoing{From: r.opts.From, To: []string{n.To}, Subject: subject, MessageID: id, Raw: raw, State: ticket.OutboxPending}, nil
}
