package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/mesadeservicios/mesa/config"
	"github.com/mesadeservicios/mesa/report"
	"github.com/mesadeservicios/mesa/store"
	"github.com/mesadeservicios/mesa/ticket"
)

// seedReport writes tickets closed over the last 40 days, some in time and
// some late, into a new SQLite database, and returns its URL and the store.
func seedReport(t *testing.T, now time.Time) (string, *store.DB) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "mesa.db")
	db, err := store.Open(ctx, "sqlite", path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	groups := []string{"soporte", "redes"}
	for i := 0; i < 24; i++ {
		created := now.Add(-time.Duration(40-i*5/3) * 24 * time.Hour)
		closed := created.Add(time.Duration(1+i%5) * 24 * time.Hour)
		due := created.Add(3 * 24 * time.Hour) // i%5 ≥ 3 is late
		seq, err := db.NextTicketSeq(ctx, 2026)
		if err != nil {
			t.Fatal(err)
		}
		tk := &ticket.Ticket{Number: ticket.Number{Prefix: "MS", Year: 2026, Seq: seq}.String(), Year: 2026, Seq: seq,
			Subject: "No hay red", Requester: "ana@entidad.gov.co", State: ticket.Cerrado, Type: ticket.Incidente,
			Criticality: ticket.Media, Category: "ti.redes", Group: groups[i%2], Assignee: "jorge.diaz@entidad.gov.co",
			AccessKeyHash: ticket.HashAccessKey(fmt.Sprint(seq)), CreatedAt: created, UpdatedAt: closed,
			DueAt: &due, ClosedAt: &closed, FirstResponseAt: &closed}
		if i%4 == 0 {
			tk.DueAt = nil // a category without resolution time
		}
		if closed.After(now) {
			tk.State, tk.ClosedAt = ticket.EnProceso, nil
		}
		if err := db.CreateTicket(ctx, tk); err != nil {
			t.Fatal(err)
		}
		if tk.ClosedAt != nil && i%3 == 0 {
			answered := closed.Add(time.Hour)
			if err := db.CreateSurvey(ctx, &ticket.Survey{TicketID: tk.ID, Token: fmt.Sprint("s", i), SentAt: closed,
				ClosedAt: closed, Status: ticket.SurveyAnswered, Rating: 1 + i%5, AnsweredAt: &answered}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return "sqlite:" + path, db
}

// totalRow reads the Total table of the summary sheet, raw.
func totalRow(t *testing.T, data []byte) map[string]string {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("opening the XLSX: %v", err)
	}
	defer f.Close()
	rows, err := f.GetRows(report.SummarySheet, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		if len(r) == 1 && r[0] == report.TitleTotal && i+2 < len(rows) {
			out := map[string]string{}
			for j, h := range rows[i+1] {
				if j < len(rows[i+2]) {
					out[h] = rows[i+2][j]
				}
			}
			return out
		}
	}
	t.Fatal("no total in the summary sheet")
	return nil
}

// mesa report over the digest's last 30 days counts the same closures and
// the same SLA compliance as the digest.
func TestReportMatchesDigest(t *testing.T) {
	now := time.Now()
	url, db := seedReport(t, now)
	bogota, _ := time.LoadLocation("America/Bogota")
	d, err := buildDesk(config.Default(), db, slog.New(slog.DiscardHandler), func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	dg, err := d.BuildDigest(context.Background(), nil, "daily")
	if err != nil {
		t.Fatal(err)
	}
	if dg.Last30.Total < 5 || dg.Last30.Met == dg.Last30.Total {
		t.Fatalf("the seed gives the digest %+v; want several closures, some late", dg.Last30)
	}
	today := now.In(bogota)
	from := time.Date(today.Year(), today.Month(), today.Day()-30, 0, 0, 0, 0, bogota).Format(time.DateOnly)
	out := filepath.Join(t.TempDir(), "informe.xlsx")
	env := []string{"MESA_DATABASE_URL=" + url}
	code, stdout, stderr := runCLI(t, env, "report", "--from", from, "--to", today.Format(time.DateOnly), "--out", out)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	if !strings.Contains(stdout, out) {
		t.Errorf("stdout does not name the file: %q", stdout)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(out); st.Mode().Perm() != 0o600 {
		t.Errorf("report mode %v, want 0600", st.Mode().Perm())
	}
	tot := totalRow(t, data)
	if tot["cerrados con ANS"] != strconv.Itoa(dg.Last30.Total) || tot["ANS cumplido"] != strconv.Itoa(dg.Last30.Met) {
		t.Errorf("report: %s with SLA, %s met; digest: %d, %d", tot["cerrados con ANS"], tot["ANS cumplido"],
			dg.Last30.Total, dg.Last30.Met)
	}
	if c, _ := strconv.ParseFloat(tot["cumplimiento (%)"], 64); int(c+0.5) != dg.Last30.Percent() {
		t.Errorf("compliance: report %s %%, digest %d %%", tot["cumplimiento (%)"], dg.Last30.Percent())
	}
	if dg.SurveysAnswered > 0 {
		if m, _ := strconv.ParseFloat(tot["satisfacción media (1-5)"], 64); fmt.Sprintf("%.2f", m) != fmt.Sprintf("%.2f", dg.RatingAvg) {
			t.Errorf("satisfaction: report %s, digest %.2f", tot["satisfacción media (1-5)"], dg.RatingAvg)
		}
	}
}

func TestReportCSVAndGroup(t *testing.T) {
	now := time.Now()
	url, _ := seedReport(t, now)
	env := []string{"MESA_DATABASE_URL=" + url}
	from := now.AddDate(0, 0, -60).Format(time.DateOnly)
	to := now.AddDate(0, 0, 1).Format(time.DateOnly)
	code, stdout, stderr := runCLI(t, env, "report", "--from", from, "--to", to, "--format", "csv", "--out", "-")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	all, err := csv.NewReader(strings.NewReader(stdout)).ReadAll()
	if err != nil || len(all) != 25 || all[0][0] != "número" {
		t.Fatalf("got %d records %v, want a header and the 24 tickets", len(all), err)
	}
	code, stdout, stderr = runCLI(t, env, "report", "--from", from, "--to", to, "--group", "redes", "--format", "csv", "--out", "-")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	redes, _ := csv.NewReader(strings.NewReader(stdout)).ReadAll()
	if len(redes) != 13 {
		t.Errorf("--group redes: got %d records, want a header and 12", len(redes))
	}
	for _, rec := range redes[1:] {
		if rec[8] != "redes" {
			t.Errorf("--group redes: a ticket of %q", rec[8])
		}
	}
}

func TestReportUsageErrors(t *testing.T) {
	dir := t.TempDir()
	env := []string{"MESA_DATABASE_URL=sqlite:" + filepath.Join(dir, "m.db")}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"report", "--from", "2026-03-01", "--to", "2026-03-31"}, "--out FILE is required"},
		{[]string{"report", "--from", "2026-03-01", "--to", "2026-03-31", "--out", "x.pdf"}, "csv or xlsx"},
		{[]string{"report", "--from", "2026-03-31", "--to", "2026-03-01", "--out", "x.csv"}, "before the start"},
		{[]string{"report", "--from", "marzo", "--to", "2026-03-01", "--out", "x.csv"}, "YYYY-MM-DD"},
		{[]string{"report", "--from", "2026-03-01", "--to", "2026-03-31", "--group", "nadie", "--out", "x.csv"}, "unknown group"},
	} {
		code, _, stderr := runCLI(t, env, tc.args...)
		if code != exitConfig || !strings.Contains(stderr, tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
	// A database without the schema fails, and leaves no file behind.
	out := filepath.Join(dir, "informe.xlsx")
	if code, _, _ := runCLI(t, env, "report", "--from", "2026-03-01", "--to", "2026-03-31", "--out", out); code != exitFail {
		t.Errorf("unmigrated database: exit %d, want 1", code)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*informe*")); len(left) != 0 {
		t.Errorf("files left behind: %v", left)
	}
}
