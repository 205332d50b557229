package config

import (
	"strings"
	"testing"
)

func TestOperationsKeys(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		want []string // problem keys; none means valid
	}{
		{"defaults keep everything", nil, nil},
		{"retention days", []string{"MESA_RETENTION_RAW_MAIL_DAYS=365", "MESA_RETENTION_ATTACHMENTS_DAYS=90"}, nil},
		{"negative days", []string{"MESA_RETENTION_RAW_MAIL_DAYS=-1", "MESA_RETENTION_ATTACHMENTS_DAYS=-5"},
			[]string{"retention.raw_mail_days", "retention.attachments_days"}},
		{"privacy url", []string{"MESA_DESK_PRIVACY_URL=https://entidad.gov.co/politica-datos"}, nil},
		{"privacy url relative", []string{"MESA_DESK_PRIVACY_URL=/privacidad"}, []string{"desk.privacy_url"}},
		{"privacy url script", []string{"MESA_DESK_PRIVACY_URL=javascript:alert(1)"}, []string{"desk.privacy_url"}},
		{"bad retention schedule", []string{"MESA_JOBS_RETENTION=every day"}, []string{"jobs.retention"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Load("", tt.env)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("got %v, want valid", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("got valid %+v, want problems %v", cfg.Retention, tt.want)
			}
			for _, k := range tt.want {
				if !strings.Contains(err.Error(), k) {
					t.Errorf("got %v, want a problem with %s", err, k)
				}
			}
		})
	}
	cfg, err := Load("", []string{"MESA_RETENTION_RAW_MAIL_DAYS=30"})
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Retention.Enabled() || cfg.Retention.RawMailDays != 30 || cfg.Jobs.Retention != "15 3 * * *" {
		t.Errorf("got %+v, %q; want raw_mail_days 30 and the daily 03:15 job", cfg.Retention, cfg.Jobs.Retention)
	}
	if Default().Retention.Enabled() {
		t.Error("default retention purges; want keep forever")
	}
}
