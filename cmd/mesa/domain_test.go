package main

import (
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/config"
)

// TestBusinessDaysFollowTheCalendar: with sla.start 07:00 a business day is
// 10 h, so desk.reopen_days and the survey's days count 10 h each; 0 still
// means never.
func TestBusinessDaysFollowTheCalendar(t *testing.T) {
	cfg := config.Default()
	cfg.SLA.Start = "07:00"
	cal, err := loadCalendar(cfg)
	if err != nil {
		t.Fatal(err)
	}
	day := cal.DayLength()
	if day != 10*time.Hour {
		t.Fatalf("day length: got %s, want 10h", day)
	}
	if got := reopenWithin(cfg.Desk.ReopenDays, day); got != 50*time.Hour {
		t.Errorf("reopen window: got %s, want 50h (5 days of 10 h)", got)
	}
	if got := reopenWithin(0, day); got >= 0 {
		t.Errorf("reopen_days 0: got %s, want negative (never)", got)
	}
	o := surveyOptions(cfg, day)
	if o.RemindAfter != 20*time.Hour || o.ExpireAfter != 50*time.Hour || o.ReopenAtOrBelow != 2 {
		t.Errorf("survey options: got remind %s expire %s threshold %d, want 20h 50h 2", o.RemindAfter, o.ExpireAfter, o.ReopenAtOrBelow)
	}
}
