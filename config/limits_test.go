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
