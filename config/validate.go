package config

import (
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Validate checks the configuration and returns every problem at once, or
// nil. Load calls it; call it again after changing a Config in code.
func (c *Config) Validate() error {
	if ps := c.validate(); len(ps) > 0 {
		return ps
	}
	return nil
}

var (
	prefixRE = regexp.MustCompile(`^[A-Z][A-Z0-9]{0,9}$`)
	tenantRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
)

func (c *Config) validate() Problems {
	var ps Problems
	bad := func(key, format string, args ...any) {
		ps = append(ps, Problem{Key: key, Msg: fmt.Sprintf(format, args...)})
	}

	if _, _, err := ParseDatabaseURL(c.Database.URL); err != nil {
		bad("database.url", "%v", err)
	}
	if c.Database.MaxOpenConns < 0 {
		bad("database.max_open_conns", "must be 0 (driver default) or more, got %d", c.Database.MaxOpenConns)
	}

	if _, _, err := net.SplitHostPort(c.HTTP.Listen); err != nil {
		bad("http.listen", "must be host:port, got %q", c.HTTP.Listen)
	}
	if c.HTTP.AdminListen != "" {
		if _, _, err := net.SplitHostPort(c.HTTP.AdminListen); err != nil {
			bad("http.admin_listen", "must be host:port, or empty to disable metrics and health, got %q", c.HTTP.AdminListen)
		} else if c.HTTP.AdminListen == c.HTTP.Listen && !strings.HasSuffix(c.HTTP.Listen, ":0") {
			bad("http.admin_listen", "must differ from http.listen (%s): metrics and health stay off the public listener", c.HTTP.Listen)
		}
	}
	if (c.HTTP.TLSCertFile == "") != (c.HTTP.TLSKeyFile == "") {
		bad("http.tls_cert_file", "http.tls_cert_file and http.tls_key_file are set together or not at all")
	}
	if _, err := c.HTTP.TrustedProxyPrefixes(); err != nil {
		bad("http.trusted_proxies", "%v", err)
	}
	if c.HTTP.ProxyHeader != "x-forwarded-for" && c.HTTP.ProxyHeader != "forwarded" {
		bad("http.proxy_header", "must be x-forwarded-for or forwarded, got %q", c.HTTP.ProxyHeader)
	}
	for key, d := range map[string]time.Duration{"http.read_header_timeout": c.HTTP.ReadHeaderTimeout,
		"http.read_timeout": c.HTTP.ReadTimeout, "http.write_timeout": c.HTTP.WriteTimeout, "http.idle_timeout": c.HTTP.IdleTimeout} {
		if d < time.Second {
			bad(key, "must be at least 1s, got %s", d)
		}
	}
	if c.HTTP.MaxHeaderBytes < 4096 {
		bad("http.max_header_bytes", "must be at least 4096, got %d", c.HTTP.MaxHeaderBytes)
	}
	if u, err := url.Parse(c.HTTP.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("http.public_url", "must be an absolute http(s) URL, got %q", c.HTTP.PublicURL)
	}

	if strings.TrimSpace(c.Desk.Name) == "" {
		bad("desk.name", "is empty")
	}
	if len(c.Desk.Addresses) == 0 {
		bad("desk.addresses", "needs at least the desk's own address")
	}
	for i, a := range c.Desk.Addresses {
		if !validAddress(a) {
			bad(fmt.Sprintf("desk.addresses[%d]", i), "not an e-mail address: %q", a)
		}
	}
	if c.Desk.Language != "es" && c.Desk.Language != "en" {
		bad("desk.language", "must be es or en, got %q", c.Desk.Language)
	}
	if _, err := time.LoadLocation(c.Desk.Timezone); err != nil || c.Desk.Timezone == "" {
		bad("desk.timezone", "unknown time zone %q", c.Desk.Timezone)
	}
	if !prefixRE.MatchString(c.Desk.TicketPrefix) {
		bad("desk.ticket_prefix", "must be a capital letter and up to 9 capitals or digits, got %q", c.Desk.TicketPrefix)
	}

	legacy := c.IMAP.Host != "" || (c.IMAP.Provider != "" && c.IMAP.Provider != "imap")
	if legacy {
		checkMailbox(bad, "imap", c.IMAP)
	}
	if len(c.Mailboxes) > 0 && legacy {
		bad("mailboxes", "set together with imap.host; put that mailbox in the list, or use the imap section alone")
	}
	names := map[string]bool{}
	for i, m := range c.MailboxList() {
		if m.Legacy {
			break
		}
		key := fmt.Sprintf("mailboxes[%d]", i)
		switch {
		case !mailboxNameRE.MatchString(m.Name):
			bad(key+".name", "must be lower-case letters, digits, - or _ (up to 32), got %q", m.Name)
		case names[m.Name]:
			bad(key+".name", "duplicate mailbox %q", m.Name)
		}
		names[m.Name] = true
		if !validAddress(m.Address) {
			bad(key+".address", "must be the desk address this mailbox serves, got %q", m.Address)
		}
		if m.Host == "" && m.Provider != "graph" {
			bad(key+".host", "is empty")
		}
		checkMailbox(bad, key, m.IMAP)
		if m.PollInterval < time.Second {
			bad(key+".poll_interval", "must be at least 1s, got %s", m.PollInterval)
		}
	}
	groupKnown := map[string]bool{}
	for _, g := range c.Groups {
		groupKnown[g.Key] = true
	}
	for i, m := range c.MailboxList() {
		key := "imap"
		if !m.Legacy {
			key = fmt.Sprintf("mailboxes[%d]", i)
		}
		if m.DefaultGroup != "" && len(c.Groups) > 0 && !groupKnown[m.DefaultGroup] {
			bad(key+".default_group", "unknown group %q (not in groups)", m.DefaultGroup)
		}
	}
	if c.IMAP.PollInterval < time.Second {
		bad("imap.poll_interval", "must be at least 1s, got %s", c.IMAP.PollInterval)
	}

	if c.SMTP.Host != "" {
		checkTLS(bad, "smtp", c.SMTP.TLS, c.SMTP.Port, c.SMTP.InsecurePlaintext)
		switch c.SMTP.Auth {
		case "password", "login":
		case "xoauth2":
			if m := c.SMTPMailbox(); m == nil || m.Auth != "xoauth2" {
				bad("smtp.auth", "xoauth2 uses the OAuth2 settings of the imap section (or of the mailbox serving smtp.from); set its auth: xoauth2 too")
			}
		default:
			bad("smtp.auth", "must be password, login or xoauth2, got %q", c.SMTP.Auth)
		}
	}
	switch c.SMTP.Provider {
	case "", "smtp":
	case "graph":
		if m := c.SMTPMailbox(); m == nil || m.Provider != "graph" {
			bad("smtp.provider", "graph sends as the imap section's Graph mailbox (or the mailbox serving smtp.from); set its provider: graph too")
		}
	default:
		bad("smtp.provider", "must be smtp or graph, got %q", c.SMTP.Provider)
	}
	if c.SMTP.DKIMKeyFile != "" && c.SMTP.DKIMSelector == "" {
		bad("smtp.dkim_selector", "is needed with smtp.dkim_key_file")
	}
	if c.SMTP.From != "" && !validAddress(c.SMTP.From) {
		bad("smtp.from", "not an e-mail address: %q", c.SMTP.From)
	}

	switch c.Auth.Provider {
	case "", "rfc8601", "microsoft365", "none": // "": rfc8601
	case "google":
		if id := c.Auth.TrustedAuthServID; id != "" && !strings.EqualFold(id, "mx.google.com") {
			bad("auth.trusted_authserv_id", "provider google trusts mx.google.com; leave it empty or mx.google.com, got %q", id)
		}
	default:
		bad("auth.provider", "must be rfc8601, microsoft365, google or none, got %q", c.Auth.Provider)
	}
	if c.Auth.TenantID != "" && c.Auth.Provider != "microsoft365" {
		bad("auth.tenant_id", "is only used with provider microsoft365, got provider %q", c.Auth.Provider)
	}
	if c.Auth.TenantID != "" && !tenantRE.MatchString(c.Auth.TenantID) {
		bad("auth.tenant_id", "must be the tenant's GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx), got %q", c.Auth.TenantID)
	}
	if c.Auth.VERP && len(c.Auth.BounceSecret) < 16 {
		bad("auth.bounce_secret", "verp needs a bounce_secret (or bounce_secret_file) of at least 16 characters")
	}
	if c.Limits.UndeliverableFor <= 0 {
		bad("limits.undeliverable_for", "must be positive, got %s", c.Limits.UndeliverableFor)
	}

	if c.SLA.Timezone != "" {
		if _, err := time.LoadLocation(c.SLA.Timezone); err != nil {
			bad("sla.timezone", "unknown time zone %q", c.SLA.Timezone)
		}
	}
	if len(c.SLA.Workdays) == 0 {
		bad("sla.workdays", "needs at least one day")
	}
	for i, d := range c.SLA.Workdays {
		if _, ok := Weekday(d); !ok {
			bad(fmt.Sprintf("sla.workdays[%d]", i), "must be one of mon tue wed thu fri sat sun, got %q", d)
		}
	}
	start, errS := ClockTime(c.SLA.Start)
	if errS != nil {
		bad("sla.start", "%v", errS)
	}
	end, errE := ClockTime(c.SLA.End)
	if errE != nil {
		bad("sla.end", "%v", errE)
	}
	if errS == nil && errE == nil && end <= start {
		bad("sla.end", "must be after sla.start (%s), got %s", c.SLA.Start, c.SLA.End)
	}
	for i, d := range c.SLA.ExtraHolidays {
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			bad(fmt.Sprintf("sla.extra_holidays[%d]", i), "must be a date YYYY-MM-DD, got %q", d)
		}
	}
	if c.SLA.WarnAt <= 0 || c.SLA.WarnAt >= 1 {
		bad("sla.warn_at", "must be between 0 and 1 (a fraction of the SLA), got %v", c.SLA.WarnAt)
	}

	groups := map[string]bool{}
	for i, g := range c.Groups {
		key := fmt.Sprintf("groups[%d]", i)
		switch {
		case g.Key == "":
			bad(key+".key", "is empty")
		case groups[g.Key]:
			bad(key+".key", "duplicate group %q", g.Key)
		}
		groups[g.Key] = true
		if g.Email != "" && !validAddress(g.Email) {
			bad(key+".email", "not an e-mail address: %q", g.Email)
		}
	}
	people := map[string]bool{}
	for i, p := range c.People {
		key := fmt.Sprintf("people[%d]", i)
		email := strings.ToLower(p.Email)
		switch {
		case !validAddress(p.Email):
			bad(key+".email", "not an e-mail address: %q", p.Email)
		case people[email]:
			bad(key+".email", "duplicate person %q", p.Email)
		}
		people[email] = true
		switch p.Role {
		case "technician":
			if p.Level != 1 && p.Level != 2 {
				bad(key+".level", "a technician has level 1 or 2, got %d", p.Level)
			}
		case "manager", "owner", "operator":
		default:
			bad(key+".role", "must be technician, manager, owner or operator, got %q", p.Role)
		}
		for j, g := range p.Groups {
			if !groups[g] {
				bad(fmt.Sprintf("%s.groups[%d]", key, j), "unknown group %q (not in groups)", g)
			}
		}
	}

	if c.Rules.MinConfidence < 0 || c.Rules.MinConfidence > 1 {
		bad("rules.min_confidence", "must be between 0 (the model's default) and 1, got %g", c.Rules.MinConfidence)
	}
	if c.Rules.TriageResolution <= 0 {
		bad("rules.triage_resolution", "must be positive, got %s", c.Rules.TriageResolution)
	}
	if g := c.Rules.TriageGroup; g != "" && len(c.Groups) > 0 && !groups[g] {
		bad("rules.triage_group", "unknown group %q (not in groups)", g)
	}
	if c.Surveys.Delay < 0 {
		bad("surveys.delay", "must not be negative, got %s", c.Surveys.Delay)
	}
	if c.Surveys.ReopenAtOrBelow < 0 || c.Surveys.ReopenAtOrBelow > 5 {
		bad("surveys.reopen_at_or_below", "must be between 0 (never) and 5, got %d", c.Surveys.ReopenAtOrBelow)
	}
	if c.Surveys.RemindAfterDays < 1 || c.Surveys.ExpireAfterDays <= c.Surveys.RemindAfterDays {
		bad("surveys.expire_after_days", "must be more than remind_after_days (≥ 1): got remind %d, expire %d",
			c.Surveys.RemindAfterDays, c.Surveys.ExpireAfterDays)
	}

	parser := CronParser()
	for key, spec := range map[string]string{"jobs.sla_check": c.Jobs.SLACheck, "jobs.digest": c.Jobs.Digest,
		"jobs.weekly_digest": c.Jobs.WeeklyDigest, "jobs.surveys": c.Jobs.Surveys, "jobs.personal_digest": c.Jobs.PersonalDigest,
		"jobs.monthly_report": c.Jobs.MonthlyReport, "jobs.operator_alerts": c.Jobs.OperatorAlerts} {
		if spec == "" {
			continue // disabled
		}
		if _, err := parser.Parse(spec); err != nil {
			bad(key, "invalid schedule %q: %v", spec, err)
		}
	}

	if c.MassIncident.Threshold < 0 || c.MassIncident.Threshold == 1 {
		bad("mass_incident.threshold", "must be 0 (off) or at least 2, got %d", c.MassIncident.Threshold)
	}
	if c.MassIncident.Threshold > 0 && (c.MassIncident.Window < time.Minute || c.MassIncident.Window > 24*time.Hour) {
		bad("mass_incident.window", "must be between 1m and 24h, got %s", c.MassIncident.Window)
	}

	if c.Limits.MaxMessageBytes < 1024 {
		bad("limits.max_message_bytes", "must be at least 1024, got %d", c.Limits.MaxMessageBytes)
	}
	if c.Desk.ReopenDays < 0 {
		bad("desk.reopen_days", "must be 0 or more, got %d", c.Desk.ReopenDays)
	}
	if c.Limits.RepliesPerSenderPerDay < c.Limits.RepliesPerSenderPerHour {
		bad("limits.replies_per_sender_per_day", "must be at least replies_per_sender_per_hour (%d), got %d",
			c.Limits.RepliesPerSenderPerHour, c.Limits.RepliesPerSenderPerDay)
	}
	if c.Limits.RepliesPerSenderPerHour < 1 {
		bad("limits.replies_per_sender_per_hour", "must be at least 1, got %d", c.Limits.RepliesPerSenderPerHour)
	}
	if c.Limits.MaxAttempts < 1 {
		bad("limits.max_attempts", "must be at least 1, got %d", c.Limits.MaxAttempts)
	}
	if c.Limits.NoticeAttachmentBytes < 0 {
		bad("limits.notice_attachment_bytes", "must not be negative, got %d (0 attaches nothing: links only)", c.Limits.NoticeAttachmentBytes)
	}
	if c.Limits.AttachmentLinkTTL < time.Hour {
		bad("limits.attachment_link_ttl", "must be at least 1h, got %s", c.Limits.AttachmentLinkTTL)
	}
	if c.Limits.OutboxGiveUpAfter < time.Minute {
		bad("limits.outbox_give_up_after", "must be at least 1m, got %s", c.Limits.OutboxGiveUpAfter)
	}
	for key, d := range map[string]time.Duration{"alerts.unreachable_after": c.Alerts.UnreachableAfter,
		"alerts.outbox_failing_after": c.Alerts.OutboxFailingAfter, "alerts.batch_every": c.Alerts.BatchEvery} {
		if d <= 0 {
			bad(key, "must be positive, got %s", d)
		}
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "must be debug, info, warn or error, got %q", c.Log.Level)
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		bad("log.format", "must be text or json, got %q", c.Log.Format)
	}
	c.validateOperations(bad) // operations.go
	c.validateWeb(bad)        // web.go
	return ps
}

var mailboxNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)

// checkMailbox checks the settings of one mailbox, under key.
func checkMailbox(bad func(string, string, ...any), key string, m IMAP) {
	if m.OAuth2SecretExpires != "" {
		if _, err := time.Parse(time.DateOnly, m.OAuth2SecretExpires); err != nil {
			bad(key+".oauth2_secret_expires", "must be a date YYYY-MM-DD, got %q", m.OAuth2SecretExpires)
		}
	}
	switch m.Provider {
	case "", "imap":
	case "graph":
		validateGraph(bad, key, m)
		return
	default:
		bad(key+".provider", "must be imap or graph, got %q", m.Provider)
		return
	}
	checkTLS(bad, key, m.TLS, m.Port, m.InsecurePlaintext)
	if m.Username == "" {
		bad(key+".username", "is empty but the host is set")
	}
	switch m.Auth {
	case "password":
	case "xoauth2":
		if validateOAuth2Provider(bad, key, m) {
			break
		}
		if m.OAuth2TokenURL == "" && m.OAuth2Tenant == "" {
			bad(key+".oauth2_token_url", "xoauth2 needs oauth2_token_url, or oauth2_tenant for Microsoft 365")
		}
		if m.OAuth2ClientID == "" {
			bad(key+".oauth2_client_id", "xoauth2 needs the application's client id")
		}
	default:
		bad(key+".auth", "must be password or xoauth2, got %q", m.Auth)
	}
	if m.Mailbox == "" {
		bad(key+".mailbox", "is empty")
	}
	if m.ProcessedMailbox == "" || m.ProcessedMailbox == m.Mailbox {
		bad(key+".processed_mailbox", "must be set and differ from %s.mailbox, got %q", key, m.ProcessedMailbox)
	}
	if m.QuarantineMailbox == "" || m.QuarantineMailbox == m.Mailbox {
		bad(key+".quarantine_mailbox", "must be set and differ from %s.mailbox, got %q", key, m.QuarantineMailbox)
	}
}

// SMTPMailbox is the mailbox whose OAuth2 settings smtp.auth: xoauth2
// uses: the one serving the From address, else the first; nil without
// mailboxes.
func (c *Config) SMTPMailbox() *Mailbox {
	list := c.MailboxList()
	if len(list) == 0 {
		return nil
	}
	from := c.SMTP.From
	if from == "" && len(c.Desk.Addresses) > 0 {
		from = c.Desk.Addresses[0]
	}
	for i := range list {
		if strings.EqualFold(list[i].Address, from) {
			return &list[i]
		}
	}
	return &list[0]
}

func checkTLS(bad func(string, string, ...any), sec, mode string, port int, insecureOK bool) {
	switch mode {
	case "implicit", "starttls":
	case "none":
		if !insecureOK {
			bad(sec+".tls", "none sends the password in clear text; set %s.insecure_plaintext: true to allow it (loopback tests only)", sec)
		}
	default:
		bad(sec+".tls", "must be implicit, starttls or none, got %q", mode)
	}
	if port < 0 || port > 65535 {
		bad(sec+".port", "must be a TCP port (1-65535), got %d", port)
	}
}

func validAddress(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Name == "" && a.Address == s
}

// CronParser is the schedule syntax of the jobs section: 5 fields, or 6 with
// seconds first, descriptors such as @every 1m, and an optional CRON_TZ=.
func CronParser() cron.Parser {
	return cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
}

// ParseDatabaseURL returns the driver ("sqlite" or "postgres") and the
// driver's data source for a database.url.
func ParseDatabaseURL(s string) (driver, dsn string, err error) {
	switch {
	case strings.HasPrefix(s, "postgres://"), strings.HasPrefix(s, "postgresql://"):
		if _, err := url.Parse(s); err != nil {
			// url.Error repeats the URL, and even its inner message quotes
			// pieces of it (a password with a '/' is read as a port), so
			// neither is shown.
			return "", "", errors.New("invalid PostgreSQL URL (not shown, it may hold a password): " +
				"percent-encode reserved characters of the user and password (@ : / ? # % as %40 %3A %2F %3F %23 %25)")
		}
		return "postgres", s, nil
	case strings.HasPrefix(s, "sqlite:"):
		path := strings.TrimPrefix(strings.TrimPrefix(s, "sqlite:"), "//")
		if path == "" {
			return "", "", fmt.Errorf("sqlite: needs a file path, as in sqlite:mesa.db")
		}
		return "sqlite", path, nil
	}
	return "", "", fmt.Errorf("must start with sqlite: or postgres://, got %q", RedactURL(s))
}

// Weekday parses a three-letter English day name.
func Weekday(s string) (time.Weekday, bool) {
	for d := time.Sunday; d <= time.Saturday; d++ {
		if strings.EqualFold(s, d.String()[:3]) {
			return d, true
		}
	}
	return 0, false
}

// ClockTime parses HH:MM into the duration since midnight.
func ClockTime(s string) (time.Duration, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, fmt.Errorf("must be a time HH:MM, got %q", s)
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

// TrustedProxyPrefixes parses trusted_proxies: CIDRs, or single addresses
// taken as /32 or /128.
func (h HTTP) TrustedProxyPrefixes() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range h.TrustedProxies {
		s = strings.TrimSpace(s)
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("not a CIDR or an IP address: %q", s)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}
