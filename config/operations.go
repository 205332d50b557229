package config

import (
	"net/url"
	"strings"
)

// Retention says how long mesa keeps the bytes of personal data after a
// ticket's closure. Institutional mail may be archival record under the
// agency's retention tables (tablas de retención documental), so the
// default keeps everything: 0 means keep forever. Purging removes the
// raw message or the attachment's data; the ticket, its events and the
// metadata of what was received stay, with an event saying what went.
type Retention struct {
	// RawMailDays: days after closure when a ticket's raw inbound mail is
	// removed. Attachments over 1 MiB live only inside the raw mail and
	// go with it.
	RawMailDays int `yaml:"raw_mail_days"`
	// AttachmentsDays: days after closure when a ticket's stored
	// attachment data is removed (name, type, size and SHA-256 stay).
	AttachmentsDays int `yaml:"attachments_days"`
}

// Enabled reports whether any purge is configured.
func (r Retention) Enabled() bool { return r.RawMailDays > 0 || r.AttachmentsDays > 0 }

// validateOperations checks the retention, privacy and operations keys.
func (c *Config) validateOperations(bad func(key, format string, args ...any)) {
	if c.Retention.RawMailDays < 0 {
		bad("retention.raw_mail_days", "must be 0 (keep forever) or a number of days, got %d", c.Retention.RawMailDays)
	}
	if c.Retention.AttachmentsDays < 0 {
		bad("retention.attachments_days", "must be 0 (keep forever) or a number of days, got %d", c.Retention.AttachmentsDays)
	}
	if p := c.Desk.PrivacyURL; p != "" {
		if u, err := url.Parse(p); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			strings.ContainsAny(p, " \t\r\n\"<>") {
			bad("desk.privacy_url", "must be an absolute http(s) URL, got %q", p)
		}
	}
	if spec := c.Jobs.Retention; spec != "" {
		if _, err := CronParser().Parse(spec); err != nil {
			bad("jobs.retention", "invalid schedule %q: %v", spec, err)
		}
	}
}
