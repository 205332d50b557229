package config

import (
	"strings"
	"testing"
	"time"
)

// TestOutboxGiveUpAfter: 24h by default, set by file or environment, and
// refused under a minute with its key named.
func TestOutboxGiveUpAfter(t *testing.T) {
	if got := Default().Limits.OutboxGiveUpAfter; got != 24*time.Hour {
		t.Errorf("default: got %s, want 24h", got)
	}
	cfg, err := Load("", []string{"MESA_LIMITS_OUTBOX_GIVE_UP_AFTER=6h"})
	if err != nil || cfg.Limits.OutboxGiveUpAfter != 6*time.Hour {
		t.Errorf("env: got %v %v, want 6h", cfg.Limits.OutboxGiveUpAfter, err)
	}
	_, err = Load(writeFile(t, "limits:\n  outbox_give_up_after: 10s\n"), nil)
	if err == nil || !strings.Contains(err.Error(), "limits.outbox_give_up_after") {
		t.Errorf("10s: got %v, want an error naming limits.outbox_give_up_after", err)
	}
}

// mass_incident: 0 turns the alert off; 1 would alert on every ticket; the
// window is bounded.
func TestMassIncidentValidation(t *testing.T) {
	for _, tc := range []struct {
		threshold int
		window    time.Duration
		bad       string
	}{
		{5, 30 * time.Minute, ""}, {0, 0, ""}, {1, 30 * time.Minute, "mass_incident.threshold"},
		{-2, 30 * time.Minute, "mass_incident.threshold"}, {5, 10 * time.Second, "mass_incident.window"}, {5, 48 * time.Hour, "mass_incident.window"},
	} {
		c := Default()
		c.MassIncident = MassIncident{Threshold: tc.threshold, Window: tc.window}
		err := c.Validate()
		if tc.bad == "" && err != nil || tc.bad != "" && (err == nil || !strings.Contains(err.Error(), tc.bad)) {
			t.Errorf("%d in %v: got %v, want a problem with %q", tc.threshold, tc.window, err, tc.bad)
		}
	}
	if d := Default(); d.MassIncident.Threshold != 5 || d.MassIncident.Window != 30*time.Minute || d.Jobs.PersonalDigest == "" {
		t.Errorf("defaults: %+v %q", d.MassIncident, d.Jobs.PersonalDigest)
	}
}
