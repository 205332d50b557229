package report

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
)

// Sheet names of the XLSX report.
const (
	SummarySheet = "Resumen"
	TicketsSheet = "Casos"
)

// TicketHeader is the header row of the ticket lines, in CSV and XLSX.
var TicketHeader = []string{"número", "creado", "cerrado", "vence", "categoría", "nombre de la categoría", "tipo",
	"criticidad", "grupo", "técnico", "estado", "primera respuesta (h hábiles)", "resolución (h hábiles)",
	"ANS cumplido", "calificación"}

// SummaryHeader is the header row of each table of the summary sheet.
var SummaryHeader = []string{"clave", "nombre", "recibidos", "cerrados", "cerrados con ANS", "ANS cumplido",
	"cumplimiento (%)", "primera respuesta media (h hábiles)", "resolución media (h hábiles)",
	"encuestas respondidas", "satisfacción media (1-5)"}

// Titles of the summary sheet's tables.
const (
	TitleTotal      = "Total"
	TitleCategory   = "Por categoría"
	TitleGroup      = "Por grupo"
	TitleTechnician = "Por técnico"
)

// dateLayout is how dates are written in CSV (the report's zone).
const dateLayout = "2006-01-02 15:04"

// hours is a business duration in hours.
func hours(d time.Duration) float64 { return d.Hours() }

func fmtHours(d *time.Duration) string {
	if d == nil {
		return ""
	}
	return strconv.FormatFloat(hours(*d), 'f', 2, 64)
}

func fmtDate(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.Format(dateLayout)
}

// WriteCSV writes the ticket lines as CSV (RFC 4180, comma-separated, a
// header row; dates YYYY-MM-DD HH:MM in the report's zone; hours with a
// decimal point). A field that a spreadsheet would take for a formula is
// prefixed with an apostrophe.
func (r *Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(TicketHeader); err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	for i := range r.Lines {
		l := &r.Lines[i]
		rating := ""
		if l.Rating > 0 {
			rating = strconv.Itoa(l.Rating)
		}
		rec := []string{l.Number, l.Created.Format(dateLayout), fmtDate(l.Closed), fmtDate(l.Due), l.Category,
			l.CategoryName, l.Type, l.Criticality, l.Group, l.Technician, l.State, fmtHours(l.FirstResponse),
			fmtHours(l.Resolution), string(l.SLA), rating}
		for j := range rec {
			rec[j] = noFormula(rec[j])
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("writing the report: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	return nil
}

// noFormula defuses text a spreadsheet would evaluate (CSV injection):
// category names come from the catalogue, addresses from mail.
func noFormula(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// XLSX returns the report as an XLSX workbook: the summary sheet (totals,
// then by category, by group and by technician) and the ticket lines.
func (r *Report) XLSX() ([]byte, error) {
	var b bytes.Buffer
	if err := r.WriteXLSX(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// WriteXLSX writes the report as an XLSX workbook to w.
func (r *Report) WriteXLSX(w io.Writer) error {
	f := excelize.NewFile()
	defer f.Close()
	if err := r.writeXLSX(f); err != nil {
		return fmt.Errorf("writing the XLSX report: %w", err)
	}
	if _, err := f.WriteTo(w); err != nil {
		return fmt.Errorf("writing the XLSX report: %w", err)
	}
	return nil
}

// wall is t's wall clock as if it were UTC: excelize counts serial dates
// from the instant, and the sheet must show the report's zone.
func wall(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, time.UTC)
}

func (r *Report) writeXLSX(f *excelize.File) error {
	if err := f.SetSheetName(f.GetSheetName(0), SummarySheet); err != nil {
		return err
	}
	if _, err := f.NewSheet(TicketsSheet); err != nil {
		return err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	title, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 14}})
	if err != nil {
		return err
	}
	dateFmt := "yyyy-mm-dd hh:mm"
	date, err := f.NewStyle(&excelize.Style{CustomNumFmt: &dateFmt})
	if err != nil {
		return err
	}
	twoDec, err := f.NewStyle(&excelize.Style{NumFmt: 2}) // 0.00
	if err != nil {
		return err
	}
	oneDec := "0.0"
	pct, err := f.NewStyle(&excelize.Style{CustomNumFmt: &oneDec})
	if err != nil {
		return err
	}

	// The ticket lines.
	s := TicketsSheet
	if err := f.SetSheetRow(s, "A1", &TicketHeader); err != nil {
		return err
	}
	for i := range r.Lines {
		l := &r.Lines[i]
		row := []any{l.Number, wall(l.Created), nil, nil, l.Category, l.CategoryName, l.Type, l.Criticality, l.Group,
			l.Technician, l.State, nil, nil, string(l.SLA), nil}
		if l.Closed != nil {
			row[2] = wall(*l.Closed)
		}
		if l.Due != nil {
			row[3] = wall(*l.Due)
		}
		if l.FirstResponse != nil {
			row[11] = hours(*l.FirstResponse)
		}
		if l.Resolution != nil {
			row[12] = hours(*l.Resolution)
		}
		if l.Rating > 0 {
			row[14] = l.Rating
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := f.SetSheetRow(s, cell, &row); err != nil {
			return err
		}
	}
	last := len(r.Lines) + 1
	for _, c := range []struct {
		from, to string
		style    int
	}{{"B", "D", date}, {"L", "M", twoDec}} {
		if len(r.Lines) > 0 {
			if err := f.SetCellStyle(s, c.from+"2", fmt.Sprintf("%s%d", c.to, last), c.style); err != nil {
				return err
			}
		}
	}
	if err := f.SetRowStyle(s, 1, 1, bold); err != nil {
		return err
	}
	for _, w := range []struct {
		from, to string
		width    float64
	}{{"A", "A", 17}, {"B", "D", 17}, {"E", "E", 22}, {"F", "F", 36}, {"G", "I", 14}, {"J", "J", 30},
		{"K", "K", 20}, {"L", "M", 16}, {"N", "O", 13}} {
		if err := f.SetColWidth(s, w.from, w.to, w.width); err != nil {
			return err
		}
	}
	if err := f.SetPanes(s, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	if err := f.AutoFilter(s, fmt.Sprintf("A1:O%d", last), nil); err != nil {
		return err
	}

	// The summary.
	s = SummarySheet
	scope := "toda la mesa"
	if len(r.Groups) > 0 {
		scope = "grupos " + strings.Join(r.Groups, ", ")
	}
	head := fmt.Sprintf("Informe de la Mesa de Servicios: %s a %s (%s)", r.From.Format(time.DateOnly),
		r.To.AddDate(0, 0, -1).Format(time.DateOnly), scope)
	if err := f.SetCellValue(s, "A1", head); err != nil {
		return err
	}
	if err := f.SetCellStyle(s, "A1", "A1", title); err != nil {
		return err
	}
	if err := f.SetCellValue(s, "A2", "Generado el "+r.Generated.Format(dateLayout)+
		". Tiempos en horas hábiles; cumplimiento y satisfacción sobre los casos cerrados en el periodo."); err != nil {
		return err
	}
	row := 4
	for _, tbl := range []struct {
		title string
		rows  []Summary
	}{{TitleTotal, []Summary{r.Total}}, {TitleCategory, r.ByCategory}, {TitleGroup, r.ByGroup}, {TitleTechnician, r.ByTechnician}} {
		cell, _ := excelize.CoordinatesToCellName(1, row)
		if err := f.SetCellValue(s, cell, tbl.title); err != nil {
			return err
		}
		if err := f.SetCellStyle(s, cell, cell, title); err != nil {
			return err
		}
		row++
		cell, _ = excelize.CoordinatesToCellName(1, row)
		if err := f.SetSheetRow(s, cell, &SummaryHeader); err != nil {
			return err
		}
		if err := f.SetRowStyle(s, row, row, bold); err != nil {
			return err
		}
		row++
		for _, sm := range tbl.rows {
			vals := []any{sm.Key, sm.Name, sm.Opened, sm.Closed, sm.WithSLA, sm.Met, nil, nil, nil, sm.Ratings, nil}
			if c, ok := sm.Compliance(); ok {
				vals[6] = c
			}
			if d, ok := sm.MeanFirstResponse(); ok {
				vals[7] = hours(d)
			}
			if d, ok := sm.MeanResolution(); ok {
				vals[8] = hours(d)
			}
			if m, ok := sm.MeanRating(); ok {
				vals[10] = m
			}
			cell, _ = excelize.CoordinatesToCellName(1, row)
			if err := f.SetSheetRow(s, cell, &vals); err != nil {
				return err
			}
			if err := f.SetCellStyle(s, fmt.Sprintf("G%d", row), fmt.Sprintf("G%d", row), pct); err != nil {
				return err
			}
			if err := f.SetCellStyle(s, fmt.Sprintf("H%d", row), fmt.Sprintf("I%d", row), twoDec); err != nil {
				return err
			}
			if err := f.SetCellStyle(s, fmt.Sprintf("K%d", row), fmt.Sprintf("K%d", row), twoDec); err != nil {
				return err
			}
			row++
		}
		row++ // a blank row between tables
	}
	if err := f.SetColWidth(s, "A", "A", 30); err != nil {
		return err
	}
	if err := f.SetColWidth(s, "B", "B", 40); err != nil {
		return err
	}
	if err := f.SetColWidth(s, "C", "K", 16); err != nil {
		return err
	}
	f.SetActiveSheet(0)
	return nil
}
