package report

import (
	"bytes"
	"context"
	"encoding/csv"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/mesadeservicios/mesa/sla"
	"github.com/mesadeservicios/mesa/ticket"
)

var bogota = mustLoc("America/Bogota")

func mustLoc(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

// at parses a Bogotá wall-clock time "2006-01-02 15:04".
func at(s string) time.Time {
	t, err := time.ParseInLocation(dateLayout, s, bogota)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func atp(s string) *time.Time {
	if s == "" {
		return nil
	}
	t := at(s)
	return &t
}

func calendar(t *testing.T) *sla.Calendar {
	t.Helper()
	c, err := sla.New(sla.Options{Location: bogota})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func hrs(h float64) time.Duration { return time.Duration(h * float64(time.Hour)) }

// Business hours are counted on the desk's calendar (Mon–Fri 08:00–17:00,
// Colombian holidays), worked out by hand.
func TestBusinessHours(t *testing.T) {
	tests := []struct {
		name         string
		created, fr  string
		closed       string
		first, resol time.Duration
	}{
		{"friday 16:00 to monday 09:00", "2026-03-06 16:00", "2026-03-09 09:00", "2026-03-09 11:00", hrs(2), hrs(4)},
		{"over the San José holiday (monday 23 march)", "2026-03-20 16:00", "2026-03-24 09:00", "2026-03-25 09:00", hrs(2), hrs(11)},
		{"within one morning", "2026-03-10 08:30", "2026-03-10 10:00", "2026-03-10 10:15", hrs(1.5), hrs(1.75)},
		{"opened on a sunday", "2026-03-15 10:00", "2026-03-16 09:00", "2026-03-16 17:00", hrs(1), hrs(9)},
		{"opened and answered out of hours", "2026-03-10 19:00", "2026-03-10 21:00", "2026-03-11 08:00", 0, 0},
		{"holy week (2 and 3 april)", "2026-04-01 16:00", "2026-04-06 08:30", "2026-04-06 09:00", hrs(1.5), hrs(2)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tk := &ticket.Ticket{Number: "MS-2026-000001", State: ticket.Cerrado, CreatedAt: at(tc.created),
				FirstResponseAt: atp(tc.fr), ClosedAt: atp(tc.closed)}
			r, err := Build([]Row{{Ticket: tk}}, Options{From: at("2026-01-01 00:00"), To: at("2027-01-01 00:00"),
				Calendar: calendar(t), Location: bogota})
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Lines) != 1 {
				t.Fatalf("got %d lines, want 1", len(r.Lines))
			}
			l := r.Lines[0]
			if *l.FirstResponse != tc.first || *l.Resolution != tc.resol {
				t.Errorf("got first response %v, resolution %v; want %v, %v", *l.FirstResponse, *l.Resolution, tc.first, tc.resol)
			}
		})
	}
}

// march is a month of the desk's tickets whose figures are worked out by
// hand below.
func march() []Row {
	mk := func(number, cat, group, tech string, state ticket.State, created, fr, closed, due string, rating int) Row {
		return Row{Ticket: &ticket.Ticket{Number: number, Category: cat, Group: group, Assignee: tech, State: state,
			Type: ticket.Incidente, Criticality: ticket.Media, CreatedAt: at(created), FirstResponseAt: atp(fr),
			ClosedAt: atp(closed), DueAt: atp(due)}, Rating: rating}
	}
	carlos, ana := "carlos.mejia@entidad.gov.co", "ana.rojas@entidad.gov.co"
	return []Row{
		// Closed before its due time: first response 2 h, resolution 4 h.
		mk("MS-2026-000010", "ti.vpn", "infraestructura", carlos, ticket.Cerrado,
			"2026-03-06 16:00", "2026-03-09 09:00", "2026-03-09 11:00", "2026-03-09 12:00", 5),
		// Closed late: 2 h, 11 h (23 March is a holiday).
		mk("MS-2026-000020", "ti.vpn", "infraestructura", carlos, ticket.Cerrado,
			"2026-03-20 16:00", "2026-03-24 09:00", "2026-03-25 09:00", "2026-03-24 12:00", 2),
		// Closed in time the same morning: 1 h, 4 h.
		mk("MS-2026-000021", "ti.vpn", "infraestructura", carlos, ticket.Cerrado,
			"2026-03-26 08:00", "2026-03-26 09:00", "2026-03-26 12:00", "2026-03-26 16:00", 0),
		// Open past its due time: 1.5 h.
		mk("MS-2026-000011", "ti.correo", "soporte", ana, ticket.EnProceso,
			"2026-03-10 08:30", "2026-03-10 10:00", "", "2026-03-10 16:30", 0),
		// Open, not yet due, unassigned, not answered.
		mk("MS-2026-000030", "ti.correo", "soporte", "", ticket.Abierto,
			"2026-03-31 16:00", "", "", "2026-04-01 15:00", 0),
		// Opened in February, closed in March, no SLA: resolution 27 h,
		// its first response (1 h) is February's.
		mk("MS-2026-000005", "adm.servicios.aseo", "", "", ticket.Cerrado,
			"2026-02-25 10:00", "2026-02-25 11:00", "2026-03-02 10:00", "", 4),
		// February's: not in the report.
		mk("MS-2026-000001", "ti.vpn", "infraestructura", carlos, ticket.Cerrado,
			"2026-02-10 10:00", "2026-02-10 11:00", "2026-02-20 10:00", "2026-02-11 10:00", 1),
		// Solved and reopened by its survey: not closed, judged by its
		// closure; first response 1 h (opened on a Sunday).
		mk("MS-2026-000015", "ti.correo", "soporte", ana, ticket.AbiertoPorEncuesta,
			"2026-03-15 10:00", "2026-03-16 09:00", "2026-03-16 10:00", "2026-03-17 10:00", 0),
		// Held past its due time: the clock is stopped.
		{Ticket: &ticket.Ticket{Number: "MS-2026-000016", Category: "ti.correo", Group: "soporte", Assignee: ana,
			State: ticket.Retenido, CreatedAt: at("2026-03-16 08:00"), DueAt: atp("2026-03-16 16:00"),
			PausedAt: atp("2026-03-16 09:00")}},
	}
}

func buildMarch(t *testing.T) *Report {
	t.Helper()
	from, to, err := Period("2026-03-01", "2026-03-31", bogota)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{"ti.vpn": "VPN", "ti.correo": "Correo electrónico", "adm.servicios.aseo": "Aseo"}
	r, err := Build(march(), Options{From: from, To: to, Now: at("2026-04-01 10:00"), Location: bogota,
		Calendar: calendar(t), CategoryName: func(k string) string { return names[k] }})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestBuild(t *testing.T) {
	r := buildMarch(t)
	var numbers []string
	sla := map[string]SLA{}
	for _, l := range r.Lines {
		numbers = append(numbers, l.Number)
		sla[l.Number] = l.SLA
	}
	if got, want := strings.Join(numbers, " "), "MS-2026-000005 MS-2026-000010 MS-2026-000011 MS-2026-000015 "+
		"MS-2026-000016 MS-2026-000020 MS-2026-000021 MS-2026-000030"; got != want {
		t.Errorf("lines: got %s, want %s (by creation, February's left out)", got, want)
	}
	for number, want := range map[string]SLA{"MS-2026-000010": SLAMet, "MS-2026-000020": SLAMissed,
		"MS-2026-000011": SLAOverdue, "MS-2026-000030": SLARunning, "MS-2026-000005": SLANone,
		"MS-2026-000015": SLAMet, "MS-2026-000016": SLARunning} {
		if sla[number] != want {
			t.Errorf("%s: got SLA %q, want %q", number, sla[number], want)
		}
	}
	for _, l := range r.Lines {
		if l.Number == "MS-2026-000015" && (l.Closed != nil || l.ClosedIn) {
			t.Errorf("a ticket reopened by its survey shows as closed: %+v", l)
		}
		if l.Number == "MS-2026-000010" && l.Created.Location() != bogota {
			t.Errorf("created in %v, want America/Bogota", l.Created.Location())
		}
	}

	tot := r.Total
	if tot.Opened != 7 || tot.Closed != 4 || tot.WithSLA != 3 || tot.Met != 2 {
		t.Errorf("total: got opened %d closed %d with SLA %d met %d, want 7 4 3 2", tot.Opened, tot.Closed, tot.WithSLA, tot.Met)
	}
	if c, ok := tot.Compliance(); !ok || c != 200.0/3 {
		t.Errorf("compliance: got %v %v, want 66.7", c, ok)
	}
	// First responses of tickets opened in March: 2 + 2 + 1 + 1.5 + 1 h over 5.
	if d, ok := tot.MeanFirstResponse(); !ok || d != hrs(1.5) {
		t.Errorf("mean first response: got %v %v, want 1h30m", d, ok)
	}
	// Resolutions of tickets closed in March: 4 + 11 + 4 + 27 h over 4.
	if d, ok := tot.MeanResolution(); !ok || d != hrs(11.5) {
		t.Errorf("mean resolution: got %v %v, want 11h30m", d, ok)
	}
	if m, ok := tot.MeanRating(); !ok || tot.Ratings != 3 || math.Abs(m-11.0/3) > 1e-9 {
		t.Errorf("mean rating: got %v over %d, want 11/3 over 3", m, tot.Ratings)
	}

	type fig struct{ opened, closed, withSLA, met int }
	check := func(what string, got []Summary, want map[string]fig, order string) {
		t.Helper()
		var keys []string
		sum := fig{}
		for _, s := range got {
			keys = append(keys, s.Key)
			w, ok := want[s.Key]
			if !ok || (fig{s.Opened, s.Closed, s.WithSLA, s.Met}) != w {
				t.Errorf("%s %s: got %d %d %d %d, want %v", what, s.Key, s.Opened, s.Closed, s.WithSLA, s.Met, w)
			}
			sum.opened, sum.closed = sum.opened+s.Opened, sum.closed+s.Closed
		}
		if strings.Join(keys, " ") != order {
			t.Errorf("%s: got order %q, want %q", what, strings.Join(keys, " "), order)
		}
		if sum.opened != tot.Opened || sum.closed != tot.Closed {
			t.Errorf("%s: rows add up to %d opened, %d closed; the total is %d, %d", what, sum.opened, sum.closed, tot.Opened, tot.Closed)
		}
	}
	check("category", r.ByCategory, map[string]fig{"ti.correo": {4, 0, 0, 0}, "ti.vpn": {3, 3, 3, 2},
		"adm.servicios.aseo": {0, 1, 0, 0}}, "ti.correo ti.vpn adm.servicios.aseo")
	check("group", r.ByGroup, map[string]fig{"soporte": {4, 0, 0, 0}, "infraestructura": {3, 3, 3, 2},
		NoGroup: {0, 1, 0, 0}}, "soporte infraestructura "+NoGroup)
	check("technician", r.ByTechnician, map[string]fig{"ana.rojas@entidad.gov.co": {3, 0, 0, 0},
		"carlos.mejia@entidad.gov.co": {3, 3, 3, 2}, NoTechnician: {1, 1, 0, 0}},
		"carlos.mejia@entidad.gov.co ana.rojas@entidad.gov.co "+NoTechnician) // a tie on opened: more closed first
	if r.ByCategory[0].Name != "Correo electrónico" {
		t.Errorf("category name: got %q", r.ByCategory[0].Name)
	}
}

func TestBuildErrors(t *testing.T) {
	if _, err := Build(nil, Options{From: at("2026-03-01 00:00"), To: at("2026-04-01 00:00")}); err == nil {
		t.Error("no calendar: got nil error")
	}
	if _, err := Build(nil, Options{From: at("2026-03-01 00:00"), To: at("2026-03-01 00:00"), Calendar: calendar(t)}); err == nil {
		t.Error("empty period: got nil error")
	}
	r, err := Build([]Row{{}, {Ticket: &ticket.Ticket{Number: "MS-2026-000001", CreatedAt: at("2026-03-02 09:00")}, Rating: 9}},
		Options{From: at("2026-03-01 00:00"), To: at("2026-04-01 00:00"), Calendar: calendar(t)})
	if err != nil || len(r.Lines) != 1 || r.Lines[0].Rating != 0 || r.Lines[0].SLA != SLANone {
		t.Errorf("a nil row and a rating of 9: got %+v %v, want one line without a rating", r, err)
	}
}

// Period's dates are both inclusive: the report of 1–31 March is
// [1 March 00:00, 1 April 00:00) in Bogotá.
func TestPeriod(t *testing.T) {
	from, to, err := Period("2026-03-01", "2026-03-31", bogota)
	if err != nil || !from.Equal(at("2026-03-01 00:00")) || !to.Equal(at("2026-04-01 00:00")) {
		t.Errorf("got [%v, %v) %v", from, to, err)
	}
	if from, to, err := Period("2026-03-09", "2026-03-09", bogota); err != nil || to.Sub(from) != 24*time.Hour {
		t.Errorf("one day: got [%v, %v) %v", from, to, err)
	}
	for _, bad := range [][2]string{{"2026-03-31", "2026-03-01"}, {"1 de marzo", "2026-03-31"}, {"2026-03-01", "2026-02-30"}, {"", ""}} {
		if _, _, err := Period(bad[0], bad[1], bogota); err == nil {
			t.Errorf("%q: got nil error", bad)
		}
	}
	from, to = MonthPeriod(2026, time.December, bogota)
	if !from.Equal(at("2026-12-01 00:00")) || !to.Equal(at("2027-01-01 00:00")) {
		t.Errorf("december: got [%v, %v)", from, to)
	}
}

func TestCSV(t *testing.T) {
	r := buildMarch(t)
	r.Lines[0].CategoryName = "=HYPERLINK(\"http://x\")" // from a customised catalogue
	var b bytes.Buffer
	if err := r.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatalf("reading the CSV back: %v", err)
	}
	if len(recs) != len(r.Lines)+1 {
		t.Fatalf("got %d records, want a header and %d lines", len(recs), len(r.Lines))
	}
	if strings.Join(recs[0], "|") != strings.Join(TicketHeader, "|") {
		t.Errorf("header: got %q", recs[0])
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	byNumber := map[string][]string{}
	for _, rec := range recs[1:] {
		byNumber[rec[0]] = rec
	}
	l := byNumber["MS-2026-000010"]
	for h, want := range map[string]string{"creado": "2026-03-06 16:00", "cerrado": "2026-03-09 11:00",
		"vence": "2026-03-09 12:00", "primera respuesta (h hábiles)": "2.00", "resolución (h hábiles)": "4.00",
		"ANS cumplido": "sí", "calificación": "5", "técnico": "carlos.mejia@entidad.gov.co", "estado": "cerrado"} {
		if l[col[h]] != want {
			t.Errorf("MS-2026-000010 %s: got %q, want %q", h, l[col[h]], want)
		}
	}
	if got := byNumber["MS-2026-000030"]; got[col["cerrado"]] != "" || got[col["primera respuesta (h hábiles)"]] != "" || got[col["calificación"]] != "" {
		t.Errorf("an open ticket without answer: got %q", got)
	}
	if got := byNumber["MS-2026-000005"][col["nombre de la categoría"]]; got != "'=HYPERLINK(\"http://x\")" {
		t.Errorf("a formula-like name: got %q, want it prefixed with an apostrophe", got)
	}
	// The totals computed from the CSV are the report's.
	opened, closed, met := 0, 0, 0
	for _, rec := range recs[1:] {
		if strings.HasPrefix(rec[col["creado"]], "2026-03") {
			opened++
		}
		if strings.HasPrefix(rec[col["cerrado"]], "2026-03") {
			closed++
			if rec[col["ANS cumplido"]] == string(SLAMet) {
				met++
			}
		}
	}
	if opened != r.Total.Opened || closed != r.Total.Closed || met != r.Total.Met {
		t.Errorf("from the CSV: opened %d closed %d met %d; the report: %d %d %d", opened, closed, met,
			r.Total.Opened, r.Total.Closed, r.Total.Met)
	}
}

// readXLSX opens a workbook with excelize, as a spreadsheet would.
func readXLSX(t *testing.T, data []byte) *excelize.File {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("opening the XLSX: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// summaryTable returns the rows of one table of the summary sheet (after
// its title and header), raw values.
func summaryTable(t *testing.T, f *excelize.File, title string) [][]string {
	t.Helper()
	rows, err := f.GetRows(SummarySheet, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		if len(r) == 1 && r[0] == title {
			if i+1 >= len(rows) || strings.Join(rows[i+1], "|") != strings.Join(SummaryHeader, "|") {
				t.Fatalf("table %s: no header row after its title", title)
			}
			var out [][]string
			for _, rr := range rows[i+2:] {
				if len(rr) == 0 {
					break
				}
				out = append(out, rr)
			}
			return out
		}
	}
	t.Fatalf("no table %q in the summary sheet", title)
	return nil
}

func num(t *testing.T, s string) float64 {
	t.Helper()
	x, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return x
}

func TestXLSX(t *testing.T) {
	r := buildMarch(t)
	data, err := r.XLSX()
	if err != nil {
		t.Fatal(err)
	}
	f := readXLSX(t, data)
	if got := strings.Join(f.GetSheetList(), ","); got != SummarySheet+","+TicketsSheet {
		t.Errorf("sheets: got %s, want %s,%s", got, SummarySheet, TicketsSheet)
	}

	rows, err := f.GetRows(TicketsSheet)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(r.Lines)+1 {
		t.Fatalf("ticket sheet: got %d rows, want a header and %d", len(rows), len(r.Lines))
	}
	if strings.Join(rows[0], "|") != strings.Join(TicketHeader, "|") {
		t.Errorf("header: got %q", rows[0])
	}
	var l []string
	for _, row := range rows[1:] {
		if row[0] == "MS-2026-000010" {
			l = row
		}
	}
	want := []string{"MS-2026-000010", "2026-03-06 16:00", "2026-03-09 11:00", "2026-03-09 12:00", "ti.vpn", "VPN",
		"incidente", "media", "infraestructura", "carlos.mejia@entidad.gov.co", "cerrado", "2.00", "4.00", "sí", "5"}
	if strings.Join(l, "|") != strings.Join(want, "|") {
		t.Errorf("MS-2026-000010:\ngot  %q\nwant %q", l, want)
	}
	// Dates are real dates, hours real numbers.
	raw, _ := f.GetCellValue(TicketsSheet, "B2", excelize.Options{RawCellValue: true})
	if d, err := excelize.ExcelDateToTime(num(t, raw), false); err != nil || !d.Equal(time.Date(2026, 2, 25, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("created of the first line: serial %s is %v %v, want 2026-02-25 10:00 (Bogotá wall clock)", raw, d, err)
	}
	if v, _ := f.GetCellValue(TicketsSheet, "L3", excelize.Options{RawCellValue: true}); num(t, v) != 2 {
		t.Errorf("first response of MS-2026-000010, raw: got %q, want 2", v)
	}

	// The summary's totals are those counted from the ticket sheet.
	total := summaryTable(t, f, TitleTotal)
	if len(total) != 1 {
		t.Fatalf("total: got %d rows", len(total))
	}
	opened, closed, withSLA, met, ratings, ratingSum := 0, 0, 0, 0, 0, 0
	for _, row := range rows[1:] {
		row = append(row, make([]string, len(TicketHeader)-len(row))...)
		if strings.HasPrefix(row[1], "2026-03") {
			opened++
		}
		if strings.HasPrefix(row[2], "2026-03") {
			closed++
			if row[13] == string(SLAMet) || row[13] == string(SLAMissed) {
				withSLA++
			}
			if row[13] == string(SLAMet) {
				met++
			}
			if row[14] != "" {
				ratings++
				ratingSum += int(num(t, row[14]))
			}
		}
	}
	tr := total[0]
	for i, w := range []int{opened, closed, withSLA, met} {
		if int(num(t, tr[2+i])) != w {
			t.Errorf("total %s: got %s, counted %d", SummaryHeader[2+i], tr[2+i], w)
		}
	}
	if math.Abs(num(t, tr[6])-100*float64(met)/float64(withSLA)) > 1e-9 || met != 2 || withSLA != 3 {
		t.Errorf("compliance: got %s, counted %d of %d", tr[6], met, withSLA)
	}
	if num(t, tr[7]) != 1.5 || num(t, tr[8]) != 11.5 {
		t.Errorf("means of first response and resolution: got %s and %s, want 1.5 and 11.5", tr[7], tr[8])
	}
	if int(num(t, tr[9])) != ratings || math.Abs(num(t, tr[10])-float64(ratingSum)/float64(ratings)) > 1e-9 {
		t.Errorf("satisfaction: got %s over %s, counted %d over %d", tr[10], tr[9], ratingSum, ratings)
	}
	for _, tbl := range []struct {
		title string
		want  []Summary
	}{{TitleCategory, r.ByCategory}, {TitleGroup, r.ByGroup}, {TitleTechnician, r.ByTechnician}} {
		got := summaryTable(t, f, tbl.title)
		if len(got) != len(tbl.want) {
			t.Fatalf("%s: got %d rows, want %d", tbl.title, len(got), len(tbl.want))
		}
		sum := 0
		for i, s := range tbl.want {
			if got[i][0] != s.Key || int(num(t, got[i][2])) != s.Opened || int(num(t, got[i][3])) != s.Closed {
				t.Errorf("%s row %d: got %q, want %s %d %d", tbl.title, i, got[i][:4], s.Key, s.Opened, s.Closed)
			}
			sum += int(num(t, got[i][2]))
		}
		if sum != opened {
			t.Errorf("%s: opened adds up to %d, want %d", tbl.title, sum, opened)
		}
	}
	title, _ := f.GetCellValue(SummarySheet, "A1")
	if !strings.Contains(title, "2026-03-01 a 2026-03-31") || !strings.Contains(title, "toda la mesa") {
		t.Errorf("title: got %q", title)
	}
}

// An empty period still gives a readable workbook with its headers.
func TestXLSXEmpty(t *testing.T) {
	r, err := Build(nil, Options{From: at("2026-03-01 00:00"), To: at("2026-04-01 00:00"), Calendar: calendar(t)})
	if err != nil {
		t.Fatal(err)
	}
	data, err := r.XLSX()
	if err != nil {
		t.Fatal(err)
	}
	f := readXLSX(t, data)
	rows, _ := f.GetRows(TicketsSheet)
	if len(rows) != 1 {
		t.Errorf("ticket sheet: got %d rows, want the header only", len(rows))
	}
	if total := summaryTable(t, f, TitleTotal); len(total) != 1 || total[0][2] != "0" || len(total[0]) > 6 && total[0][6] != "" {
		t.Errorf("total of nothing: got %q, want zeros and no compliance", total)
	}
}

type fakeSource struct {
	rows     []Row
	groups   []string
	from, to time.Time
}

func (s *fakeSource) ReportRows(_ context.Context, groups []string, from, to time.Time) ([]Row, error) {
	s.groups, s.from, s.to = groups, from, to
	return s.rows, nil
}

func TestMonthXLSX(t *testing.T) {
	src := &fakeSource{rows: march()}
	data, err := MonthXLSX(context.Background(), src, []string{"soporte"}, 2026, time.March,
		Options{Calendar: calendar(t), Location: bogota, Now: at("2026-04-01 07:30")})
	if err != nil {
		t.Fatal(err)
	}
	if !src.from.Equal(at("2026-03-01 00:00")) || !src.to.Equal(at("2026-04-01 00:00")) || strings.Join(src.groups, ",") != "soporte" {
		t.Errorf("read [%v, %v) of %q, want March of soporte", src.from, src.to, src.groups)
	}
	f := readXLSX(t, data)
	title, _ := f.GetCellValue(SummarySheet, "A1")
	if !strings.Contains(title, "2026-03-01 a 2026-03-31 (grupos soporte)") {
		t.Errorf("title: got %q", title)
	}
	if rows, _ := f.GetRows(TicketsSheet); len(rows) != 9 {
		t.Errorf("got %d rows, want a header and the 8 tickets of March", len(rows))
	}
}
