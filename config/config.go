// Package config loads mesa's configuration: one YAML file, then MESA_*
// environment overrides, over documented defaults, and validates the result,
// reporting every problem at once with the key and, where it came from the
// file, its line.
package config

import (
	"time"
)

// Config is the whole configuration. Every field's yaml name is part of the
// operators' interface; env overrides are MESA_<SECTION>_<KEY>.
type Config struct {
	Database Database `yaml:"database"`
	HTTP     HTTP     `yaml:"http"`
	Desk     Desk     `yaml:"desk"`
	IMAP     IMAP     `yaml:"imap"`
	// Mailboxes are the desk's mailboxes when it reads more than one (TI
	// and Operaciones, regional offices); the imap section is then left
	// empty. Without them, the imap section is the one mailbox.
	Mailboxes []Mailbox `yaml:"mailboxes"`
	SMTP      SMTP      `yaml:"smtp"`
	Auth      Auth      `yaml:"auth"`
	SLA       SLA       `yaml:"sla"`
	People    []Person  `yaml:"people"`
	Groups    []Group   `yaml:"groups"`
	Rules     Rules     `yaml:"rules"`
	Jobs      Jobs      `yaml:"jobs"`
	Surveys   Surveys   `yaml:"surveys"`
	Templates Templates `yaml:"templates"`
	Limits    Limits    `yaml:"limits"`
	Alerts    Alerts    `yaml:"alerts"`
	Retention Retention `yaml:"retention"`
	// MassIncident: Threshold tickets of one category within Window make
	// one alert to the group's managers and technicians.
	MassIncident MassIncident `yaml:"mass_incident"`
	Web          Web          `yaml:"web"`
	Log          Log          `yaml:"log"`

	// lines holds the file line of every key Load read, for problems found
	// after loading (CheckOrganisation).
	lines map[string]int
}

// Database says where tickets are stored.
type Database struct {
	// URL is "sqlite:PATH" (embedded, single instance) or
	// "postgres://user:password@host:port/db?sslmode=…".
	URL string `yaml:"url" secret:"url"`
	// AutoMigrate applies pending migrations when serve starts. When false,
	// serve refuses an outdated schema and `mesa migrate` must be run.
	AutoMigrate bool `yaml:"auto_migrate"`
	// MaxOpenConns bounds the connection pool; 0 means the driver default
	// (PostgreSQL: 10, SQLite: 4).
	MaxOpenConns int `yaml:"max_open_conns"`
}

// HTTP configures the public web server (status page, survey page, "Mis
// solicitudes", JSON API, static files) and the admin one (metrics and
// health).
type HTTP struct {
	Listen    string `yaml:"listen"`     // host:port of the public listener
	PublicURL string `yaml:"public_url"` // base of links in mail, e.g. https://mesa.entidad.gov.co
	// AdminListen is the host:port of /metrics, /healthz and /readyz, kept
	// off the public listener; 127.0.0.1:9090. Empty disables the admin
	// listener: no metrics and no health endpoints at all (mesa warns at
	// start), never a fallback to the public one.
	AdminListen string `yaml:"admin_listen"`
	// TLSCertFile and TLSKeyFile, both set, serve the public listener over
	// HTTPS with this PEM certificate chain and key, read again on SIGHUP
	// (a renewed certificate needs no restart). Both empty: plain HTTP,
	// for a reverse proxy that terminates TLS.
	TLSCertFile string `yaml:"tls_cert_file"`
	TLSKeyFile  string `yaml:"tls_key_file"`
	// TrustedProxies are the CIDRs (or single addresses) of reverse proxies
	// whose client-address header is believed: only when the direct peer
	// is inside one is the client taken from ProxyHeader (the rightmost hop
	// not itself trusted); otherwise the peer's address is the client.
	// Per-address limits count that address. Empty: no proxy is trusted.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// ProxyHeader is the header the trusted proxies write: x-forwarded-for
	// (default; nginx, HAProxy, Traefik, Caddy) or forwarded (RFC 7239).
	// Only that one is read, so a client cannot pick the other to forge.
	ProxyHeader string `yaml:"proxy_header"`
	// Server limits of both listeners: time to read a request's headers
	// (10s), the whole request (30s), to write the answer (60s), how long
	// an idle keep-alive connection stays open (120s), and the size of a
	// request's headers (65536 bytes).
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	ReadTimeout       time.Duration `yaml:"read_timeout"`
	WriteTimeout      time.Duration `yaml:"write_timeout"`
	IdleTimeout       time.Duration `yaml:"idle_timeout"`
	MaxHeaderBytes    int           `yaml:"max_header_bytes"`
}

// Desk is the identity of the service desk.
type Desk struct {
	Name string `yaml:"name"`
	// Addresses are the desk's own addresses: the first is the From of every
	// mail mesa sends, the rest are aliases that also reach the mailbox. Mail
	// from any of them never gets an automatic answer.
	Addresses    []string `yaml:"addresses"`
	Language     string   `yaml:"language"`      // es (default) or en
	Timezone     string   `yaml:"timezone"`      // IANA zone of the desk, America/Bogota
	TicketPrefix string   `yaml:"ticket_prefix"` // MS → MS-2026-000123
	// ReopenDays: a requester's reply within this many business days of
	// closure reopens the ticket; later it opens a new linked ticket.
	ReopenDays int `yaml:"reopen_days"`
	// EnglishFor lists requesters (addresses, or @domain) who get mail in
	// English when language is es (or in Spanish when it is en).
	EnglishFor []string `yaml:"english_for"`
	// AcceptAutomatedFrom lists senders (addresses, or @domain) whose
	// automatic mail (Auto-Submitted, Precedence: bulk…) opens tickets —
	// monitoring alerts, web forms — without an acknowledgement or survey.
	// Other automatic mail is kept with the disposition autoreply.
	AcceptAutomatedFrom []string `yaml:"accept_automated_from"`
	// PrivacyURL is the agency's personal-data policy (Ley 1581 de 2012),
	// linked from the acknowledgement and the public pages; empty: none.
	PrivacyURL string `yaml:"privacy_url"`
	// CopyParticipants sends the public answers of a ticket (a
	// technician's answer, the closure) to the people in To/Cc of its
	// request, and to those added with #cc; true.
	CopyParticipants bool `yaml:"copy_participants"`
}

// IMAP is the mailbox the desk reads.
type IMAP struct {
	Host string `yaml:"host"` // empty disables intake
	Port int    `yaml:"port"` // 0 means 993 for implicit TLS, 143 otherwise
	// TLS is implicit (port 993), starttls, or none; none also needs
	// insecure_plaintext: true and is meant for loopback tests.
	TLS               string `yaml:"tls"`
	InsecurePlaintext bool   `yaml:"insecure_plaintext"`
	Username          string `yaml:"username"`
	Password          string `yaml:"password" secret:"true"`
	PasswordFile      string `yaml:"password_file"`
	// Auth is password (LOGIN) or xoauth2 (Microsoft 365, Google: basic
	// authentication is disabled there).
	Auth string `yaml:"auth"`
	// OAuth2 for auth: xoauth2. With oauth2_tenant (Microsoft 365) the
	// token URL and scope default to Microsoft's. Without a refresh token
	// file the client-credentials (app-only) grant is used; with one, the
	// delegated refresh token in it, rewritten whenever it rotates.
	OAuth2Tenant           string        `yaml:"oauth2_tenant"`
	OAuth2TokenURL         string        `yaml:"oauth2_token_url"`
	OAuth2ClientID         string        `yaml:"oauth2_client_id"`
	OAuth2ClientSecret     string        `yaml:"oauth2_client_secret" secret:"true"`
	OAuth2ClientSecretFile string        `yaml:"oauth2_client_secret_file"`
	OAuth2Scopes           []string      `yaml:"oauth2_scopes"`
	OAuth2RefreshTokenFile string        `yaml:"oauth2_refresh_token_file"`
	Mailbox                string        `yaml:"mailbox"`            // INBOX
	ProcessedMailbox       string        `yaml:"processed_mailbox"`  // Procesados
	QuarantineMailbox      string        `yaml:"quarantine_mailbox"` // Cuarentena
	PollInterval           time.Duration `yaml:"poll_interval"`      // without IDLE; 30s
	// OAuth2Provider is microsoft (the default) or google: a Google
	// Workspace service account with domain-wide delegation, its key file
	// in oauth2_service_account_file, acting as username (JWT bearer grant,
	// scope https://mail.google.com/); token_url and client_id come from
	// the key file.
	OAuth2Provider           string `yaml:"oauth2_provider"`
	OAuth2ServiceAccountFile string `yaml:"oauth2_service_account_file"`

	// Provider is imap (the default) or graph: Microsoft Graph, for
	// Microsoft 365 tenants where IMAP is switched off. Graph reads the
	// mailbox user with app-only access (Mail.ReadWrite; Mail.Send to send
	// by smtp.provider: graph) granted to the app client_id of tenant_id,
	// authenticated by a client secret or a certificate and its key.
	Provider              string `yaml:"provider"`
	TenantID              string `yaml:"tenant_id"`
	ClientID              string `yaml:"client_id"`
	ClientSecret          string `yaml:"client_secret" secret:"true"`
	ClientSecretFile      string `yaml:"client_secret_file"`
	ClientCertificateFile string `yaml:"client_certificate_file"` // PEM
	ClientKeyFile         string `yaml:"client_key_file"`         // PEM, RSA
	User                  string `yaml:"user"`                    // the mailbox's address (UPN)
	Folder                string `yaml:"folder"`                  // well-known name or path; empty: inbox
	ProcessedFolder       string `yaml:"processed_folder"`        // empty: Procesados
	QuarantineFolder      string `yaml:"quarantine_folder"`       // empty: Cuarentena
	// GraphURL is Graph's endpoint, for a national cloud (for example
	// https://graph.microsoft.us/v1.0; its token endpoint goes in
	// oauth2_token_url); empty: https://graph.microsoft.com/v1.0.
	GraphURL string `yaml:"graph_url"`
	// OAuth2SecretExpires is the date (YYYY-MM-DD) the client secret or
	// certificate of the OAuth2 application expires (Microsoft: at most 24
	// months after it was made); operators are warned 30, 7 and 1 days
	// before.
	OAuth2SecretExpires string `yaml:"oauth2_secret_expires"`
	// DefaultGroup is a routing hint: the group that receives this
	// mailbox's tickets the classifier leaves sin_clasificar, instead of
	// rules.triage_group.
	DefaultGroup string `yaml:"default_group"`
}

// Mailbox is one of the desk's mailboxes: a name, the desk address it
// serves, and the settings of the imap section.
type Mailbox struct {
	// Name identifies the mailbox among the instances (its lease, its
	// stored state and refresh token) and in /metrics and /readyz
	// (label mailbox): lower-case letters, digits, - and _.
	Name string `yaml:"name"`
	// Address is the desk address this mailbox receives; it counts as one
	// of the desk's own addresses.
	Address string `yaml:"address"`
	IMAP    `yaml:",inline"`
	// Legacy marks the mailbox of the imap section (MailboxList): its
	// lease and stored cursor keep the names they had before mailboxes.
	Legacy bool `yaml:"-"`
}

// LegacyMailboxName is the name of the imap section's mailbox in
// /metrics, /readyz and the store.
const LegacyMailboxName = "imap"

// MailboxList returns the mailboxes the desk reads, their zero fields
// filled with the imap defaults: the mailboxes list, or the imap section
// as the one mailbox (named LegacyMailboxName) when its host is set.
func (c *Config) MailboxList() []Mailbox {
	if len(c.Mailboxes) == 0 {
		if c.IMAP.Host == "" && c.IMAP.Provider != "graph" {
			return nil
		}
		addr := ""
		if len(c.Desk.Addresses) > 0 {
			addr = c.Desk.Addresses[0]
		}
		return []Mailbox{{Name: LegacyMailboxName, Address: addr, IMAP: c.IMAP, Legacy: true}}
	}
	def := Default().IMAP
	out := make([]Mailbox, len(c.Mailboxes))
	for i, m := range c.Mailboxes {
		for _, f := range []struct {
			v *string
			d string
		}{{&m.TLS, def.TLS}, {&m.Auth, def.Auth}, {&m.Mailbox, def.Mailbox},
			{&m.ProcessedMailbox, def.ProcessedMailbox}, {&m.QuarantineMailbox, def.QuarantineMailbox}} {
			if *f.v == "" {
				*f.v = f.d
			}
		}
		if m.PollInterval == 0 {
			m.PollInterval = def.PollInterval
		}
		out[i] = m
	}
	return out
}

// SMTP is the server mesa sends through.
type SMTP struct {
	Host              string `yaml:"host"` // empty: the outbox keeps mail pending
	Port              int    `yaml:"port"` // 0 means 465 for implicit TLS, 587 otherwise
	TLS               string `yaml:"tls"`  // implicit, starttls or none
	InsecurePlaintext bool   `yaml:"insecure_plaintext"`
	// Auth is password (AUTH PLAIN), login (AUTH LOGIN, older relays) or
	// xoauth2, which uses the token source configured in the imap section.
	Auth string `yaml:"auth"`
	// DKIMKeyFile, when set, signs every mail mesa sends (RFC 6376) with
	// this PEM private key (PKCS#8 RSA or Ed25519, or PKCS#1 RSA); the
	// public key must be published at <dkim_selector>._domainkey.<domain>.
	DKIMKeyFile  string `yaml:"dkim_key_file"`
	DKIMSelector string `yaml:"dkim_selector"`
	DKIMDomain   string `yaml:"dkim_domain"` // empty: the domain of the From address
	HELO         string `yaml:"helo"`        // name given in EHLO; empty: the desk address's domain
	Username     string `yaml:"username"`
	Password     string `yaml:"password" secret:"true"`
	PasswordFile string `yaml:"password_file"`
	// From is the sender of mesa's mail; empty means the first desk address.
	From string `yaml:"from"`
	// Provider is smtp (the default) or graph: sendMail through Microsoft
	// Graph as the imap section's Graph mailbox (imap.provider: graph).
	Provider string `yaml:"provider"`
}

// Auth decides when a technician's mail commands are trusted.
type Auth struct {
	// TrustedAuthServID is the authserv-id your mail server writes in
	// Authentication-Results (RFC 8601), e.g. mx.entidad.gov.co; the server
	// must strip headers claiming it from incoming mail. Commands apply only
	// with dmarc=pass, or dkim=pass aligned with the From domain, from it.
	TrustedAuthServID string `yaml:"trusted_authserv_id"`
	// Require turns the check on (default). Turning it off lets anyone who
	// forges a technician's From change tickets; mesa warns at every start.
	Require bool `yaml:"require"`
	// Provider says how the mail platform states its verdict: rfc8601
	// (default: the topmost Authentication-Results of trusted_authserv_id),
	// microsoft365 (Exchange Online: internal mail, or the topmost EOP
	// header with dmarc=pass and compauth=pass), google (mx.google.com) or
	// none (nothing is authenticated; mesa warns at start).
	Provider string `yaml:"provider"`
	// TenantID, with provider microsoft365, is the tenant GUID whose
	// internal mail is trusted (X-MS-Exchange-CrossTenant-Id); empty: any
	// mail Exchange marks internal.
	TenantID string `yaml:"tenant_id"`
	// VERP sends every mail with its own return path,
	// <local>+b.<row>.<mac>@<domain> of the desk's From address, so that a
	// delivery report proves which mail bounced. The mail server must
	// deliver <local>+anything to <local> (subaddressing). Needs
	// bounce_secret.
	VERP bool `yaml:"verp"`
	// BounceSecret keys the return paths' MAC (at least 16 characters);
	// set it here or in bounce_secret_file. Changing it invalidates the
	// return paths of mail already sent.
	BounceSecret     string `yaml:"bounce_secret" secret:"true"`
	BounceSecretFile string `yaml:"bounce_secret_file"`
}

// SLA is the business calendar SLA time is counted in (guide 4.1.3).
type SLA struct {
	Timezone string   `yaml:"timezone"` // empty means desk.timezone
	Workdays []string `yaml:"workdays"` // mon tue wed thu fri
	Start    string   `yaml:"start"`    // 08:00
	End      string   `yaml:"end"`      // 17:00
	// ExtraHolidays are YYYY-MM-DD dates closed besides the national
	// holidays: días cívicos, local holidays.
	ExtraHolidays []string `yaml:"extra_holidays"`
	// WarnAt is the elapsed fraction of the SLA at which the assignee is
	// warned, between 0 and 1; 0.75 by default.
	WarnAt float64 `yaml:"warn_at"`
	// AlertOutOfHours sends SLA warnings and breaches of every criticality
	// at once; by default only alta ones do, the rest wait for the next
	// business-hours opening.
	AlertOutOfHours bool `yaml:"alert_out_of_hours"`
}

// Person is a technician, manager or owner (guide 4.9).
type Person struct {
	Email  string   `yaml:"email"`
	Name   string   `yaml:"name"`
	Role   string   `yaml:"role"`  // technician, manager, owner, operator (gets the operator alerts)
	Level  int      `yaml:"level"` // 1 or 2 for technicians
	Groups []string `yaml:"groups"`
	// Digest: false turns the personal morning digest off for this person
	// (the person can also send #sin_resumen and #resumen).
	Digest *bool `yaml:"digest"`
}

// MassIncident configures the mass-incident alert.
type MassIncident struct {
	Threshold int           `yaml:"threshold"` // 5; 0 turns the alert off
	Window    time.Duration `yaml:"window"`    // 30m
}

// Group owns categories and receives their tickets.
type Group struct {
	Key   string `yaml:"key"`
	Name  string `yaml:"name"`
	Email string `yaml:"email"` // optional list address of the group
}

// Rules select the classification catalogue.
type Rules struct {
	// File replaces the embedded catalogue (rules/catalogo.yaml); empty
	// means the embedded one.
	File string `yaml:"file"`
	// ModelFile replaces the embedded learned model (rules/modeldata/model.bin, made
	// by `mesa rules train`); empty means the embedded one, "none" the
	// catalogue's keywords alone.
	ModelFile string `yaml:"model_file"`
	// MinConfidence is the calibrated confidence (0–1) below which a
	// ticket is sin_clasificar; 0 means the model's own default, chosen by
	// cross-validation when it was trained.
	MinConfidence float64 `yaml:"min_confidence"`
	// TriageGroup receives sin_clasificar tickets; empty means the group of
	// ti.soporte (first-level support, guide 4.2.1.1).
	TriageGroup string `yaml:"triage_group"`
	// TriageResolution is the resolution time of a sin_clasificar ticket,
	// in business time; 2h30m (guide 4.2.1.1).
	TriageResolution time.Duration `yaml:"triage_resolution"`
}

// Jobs are cron schedules, in the 5- or 6-field syntax of robfig/cron with an
// optional CRON_TZ= prefix; without one they run in the desk's time zone.
type Jobs struct {
	SLACheck string `yaml:"sla_check"` // warnings and breaches
	Digest   string `yaml:"digest"`    // managers' daily digest
	// WeeklyDigest is the managers' weekly digest.
	WeeklyDigest string `yaml:"weekly_digest"`
	Surveys      string `yaml:"surveys"` // surveys: sending, reminders, expiry
	// Retention purges raw mail and attachments past retention.*; it
	// does nothing while both are 0.
	Retention string `yaml:"retention"`
	// PersonalDigest is each technician's morning list of their open
	// tickets by SLA risk (business days only, skipped when empty).
	PersonalDigest string `yaml:"personal_digest"`
	// MonthlyReport mails each manager the previous month's follow-up
	// report (XLSX attached) on the month's first business day; it runs
	// every weekday and skips the others.
	MonthlyReport string `yaml:"monthly_report"`
	// OperatorAlerts checks the conditions of the operator alerts.
	OperatorAlerts string `yaml:"operator_alerts"`
}

// Alerts configure the operator alerts mailed to the people with role
// owner or operator (guide 4.9.1): a mailbox that needs re-authorisation
// or cannot be reached, a client secret about to expire (imap
// oauth2_secret_expires), outgoing mail failing, mail held for a staff
// address, and the batch of quarantined messages and mail held for
// requesters.
type Alerts struct {
	UnreachableAfter   time.Duration `yaml:"unreachable_after"`    // a mailbox failing this long; 10m
	OutboxFailingAfter time.Duration `yaml:"outbox_failing_after"` // a mail failing this long; 15m
	BatchEvery         time.Duration `yaml:"batch_every"`          // at most one batch per; 1h
}

// Surveys configure the satisfaction survey after each closure (guide
// section 5).
type Surveys struct {
	Enabled bool          `yaml:"enabled"` // true
	Delay   time.Duration `yaml:"delay"`   // after closure; 1h
	// ReopenAtOrBelow: a rating at or below it reopens the ticket (as does
	// "no, it was not solved") and notifies the group's managers; 2.
	ReopenAtOrBelow int `yaml:"reopen_at_or_below"`
	// RemindAfterDays and ExpireAfterDays count business days after the
	// survey was sent; 2 and 5.
	RemindAfterDays int `yaml:"remind_after_days"`
	ExpireAfterDays int `yaml:"expire_after_days"`
}

// Templates customise the mail mesa sends.
type Templates struct {
	// Dir holds templates that replace the embedded ones, file by file.
	Dir string `yaml:"dir"`
}

// Limits protect the desk and its users.
type Limits struct {
	MaxMessageBytes int64 `yaml:"max_message_bytes"` // 35 MB (guide 4.2.1.2)
	// RepliesPerSenderPerHour caps automatic answers to one address.
	RepliesPerSenderPerHour int `yaml:"replies_per_sender_per_hour"`
	RepliesPerSenderPerDay  int `yaml:"replies_per_sender_per_day"`
	// MaxAttempts is how often an incoming message is tried before it is
	// quarantined. Outgoing mail is not counted in attempts: it is retried
	// (1 min doubling to 1 h) until OutboxGiveUpAfter.
	MaxAttempts int `yaml:"max_attempts"`
	// OutboxGiveUpAfter is how long after it was queued an outgoing mail
	// still refused for a temporary reason is given up (failed, recorded on
	// the ticket); a permanent refusal fails it at once. 24h.
	OutboxGiveUpAfter time.Duration `yaml:"outbox_give_up_after"`
	// UndeliverableFor is how long a proven permanent bounce holds
	// automatic mail to the address, unless the address sends
	// authenticated mail first; 720h (30 days).
	UndeliverableFor time.Duration `yaml:"undeliverable_for"`
	// NoticeAttachmentBytes bounds the requester's files attached to one
	// notice to a technician (and a technician's to the requester),
	// together; beyond it the files travel as download links. 10 MiB.
	NoticeAttachmentBytes int64 `yaml:"notice_attachment_bytes"`
	// AttachmentLinkTTL is how long a file's download link works; 720h
	// (30 days).
	AttachmentLinkTTL time.Duration `yaml:"attachment_link_ttl"`
}

// Log configures the daemon's log.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // text or json
}

// Default returns the configuration mesa runs with when there is no file.
func Default() *Config {
	return &Config{
		Database: Database{URL: "sqlite:mesa.db", AutoMigrate: true},
		Rules:    Rules{TriageResolution: 2*time.Hour + 30*time.Minute},
		HTTP: HTTP{Listen: "127.0.0.1:8080", PublicURL: "http://127.0.0.1:8080", AdminListen: "127.0.0.1:9090",
			ProxyHeader: "x-forwarded-for", ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
			WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10},
		Desk: Desk{
			Name:             "Mesa de Servicios",
			Addresses:        []string{"mesadeservicios@localhost"},
			Language:         "es",
			Timezone:         "America/Bogota",
			TicketPrefix:     "MS",
			ReopenDays:       5,
			CopyParticipants: true,
		},
		IMAP: IMAP{
			TLS:               "implicit",
			Auth:              "password",
			Mailbox:           "INBOX",
			ProcessedMailbox:  "Procesados",
			QuarantineMailbox: "Cuarentena",
			PollInterval:      30 * time.Second,
		},
		SMTP: SMTP{TLS: "starttls", Auth: "password"},
		Auth: Auth{Require: true, Provider: "rfc8601"},
		SLA: SLA{
			Workdays: []string{"mon", "tue", "wed", "thu", "fri"},
			Start:    "08:00",
			End:      "17:00",
			WarnAt:   0.75,
		},
		Jobs: Jobs{
			SLACheck: "@every 1m",
			Digest:   "30 7 * * mon-fri",
			// Every weekday: the weekly digest goes out on the week's first
			// business day (a Monday holiday moves it to Tuesday).
			WeeklyDigest:   "30 7 * * mon-fri",
			Surveys:        "*/5 * * * *",
			PersonalDigest: "0 7 * * mon-fri",
			Retention:      "15 3 * * *",
			MonthlyReport:  "30 7 * * mon-fri",
			OperatorAlerts: "@every 1m",
		},
		Alerts:  Alerts{UnreachableAfter: 10 * time.Minute, OutboxFailingAfter: 15 * time.Minute, BatchEvery: time.Hour},
		Surveys: Surveys{Enabled: true, Delay: time.Hour, ReopenAtOrBelow: 2, RemindAfterDays: 2, ExpireAfterDays: 5},
		Limits: Limits{
			MaxMessageBytes:         35 << 20,
			RepliesPerSenderPerHour: 10,
			RepliesPerSenderPerDay:  40,
			MaxAttempts:             5,
			OutboxGiveUpAfter:       24 * time.Hour,
			UndeliverableFor:        30 * 24 * time.Hour,
			NoticeAttachmentBytes:   10 << 20,
			AttachmentLinkTTL:       30 * 24 * time.Hour,
		},
		MassIncident: MassIncident{Threshold: 5, Window: 30 * time.Minute},
		Log:          Log{Level: "info", Format: "text"},
	}
}
