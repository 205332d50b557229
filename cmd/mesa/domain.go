package main

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/mesadeservicios/mesa/config"
	"github.com/mesadeservicios/mesa/desk"
	"github.com/mesadeservicios/mesa/mailin"
	"github.com/mesadeservicios/mesa/mailout"
	"github.com/mesadeservicios/mesa/rules"
	"github.com/mesadeservicios/mesa/sla"
	"github.com/mesadeservicios/mesa/store"
)

// buildDesk wires the use cases: catalogue, business calendar, the renderer
// of outgoing mail, the store and the clock.
func buildDesk(cfg *config.Config, db *store.DB, log *slog.Logger, now func() time.Time) (*desk.Desk, error) {
	eng, err := loadRules(cfg)
	if err != nil {
		return nil, err
	}
	// The desk reads decisions, confidences and candidates, never which
	// features weighed most (mesa rules test shows those).
	eng = eng.WithoutFeatures()
	cal, err := loadCalendar(cfg)
	if err != nil {
		return nil, err
	}
	loc, _ := time.LoadLocation(cfg.Desk.Timezone) // validated by config
	from := fromAddress(cfg)
	signer, err := dkimOptions(cfg, from)
	if err != nil {
		return nil, err
	}
	r, err := mailout.New(mailout.Options{DeskName: cfg.Desk.Name, From: from, PublicURL: cfg.HTTP.PublicURL,
		Language: cfg.Desk.Language, Location: loc, Catalogue: eng, CommandHelpFor: desk.Help,
		DKIM: signer, TemplateDir: cfg.Templates.Dir, WarnPercent: int(cfg.SLA.WarnAt*100 + 0.5), PrivacyURL: cfg.Desk.PrivacyURL})
	if err != nil {
		return nil, err
	}
	own := append(append([]string(nil), cfg.Desk.Addresses...), from)
	routes := map[string]desk.Route{}
	ops := desk.OperatorOptions{UnreachableAfter: cfg.Alerts.UnreachableAfter, OutboxFailingAfter: cfg.Alerts.OutboxFailingAfter,
		BatchEvery: cfg.Alerts.BatchEvery}
	for _, mb := range cfg.MailboxList() {
		om := desk.OperatorMailbox{Name: mb.Name}
		if mb.OAuth2SecretExpires != "" {
			om.SecretExpires, _ = time.ParseInLocation(time.DateOnly, mb.OAuth2SecretExpires, loc) // validated by config
		} else if mb.Provider == "graph" && mb.ClientCertificateFile != "" {
			// A certificate says when it expires: warn about that date.
			if c, err := graphCredentials(mb); err == nil {
				om.SecretExpires, _ = c.CertificateExpiry()
			}
		}
		ops.Mailboxes = append(ops.Mailboxes, om)
		own = append(own, mb.Address)                                     // every mailbox's address is the desk's own
		routes[storeName(mb)] = desk.Route{DefaultGroup: mb.DefaultGroup} // by the Source.Mailbox of its messages
	}
	attach := cfg.Limits.NoticeAttachmentBytes
	if attach == 0 {
		attach = -1 // links only, which desk spells negative (its zero takes config's default)
	}
	return desk.New(desk.Deps{Store: db, Mail: r, Calendar: cal, Classifier: eng, Files: mailin.Decoder{}, Now: now, Logger: log,
		Config: desk.Config{Location: loc, Prefix: cfg.Desk.TicketPrefix, Language: cfg.Desk.Language,
			EnglishFor: cfg.Desk.EnglishFor, Addresses: own, Routes: routes, Operators: ops,
			RepliesPerHour: cfg.Limits.RepliesPerSenderPerHour, RepliesPerDay: cfg.Limits.RepliesPerSenderPerDay,
			ReopenWithin: reopenWithin(cfg.Desk.ReopenDays, cal.DayLength()), TrustedAuthServID: cfg.Auth.TrustedAuthServID,
			WarnAt: cfg.SLA.WarnAt, AlertOutOfHours: cfg.SLA.AlertOutOfHours, Survey: surveyOptions(cfg, cal.DayLength()),
			AcceptAutomatedFrom: cfg.Desk.AcceptAutomatedFrom, AllowUnauthenticatedCommands: !cfg.Auth.Require,
			TriageGroup: cfg.Rules.TriageGroup, TriageResolution: cfg.Rules.TriageResolution,
			NoCopies: !cfg.Desk.CopyParticipants, NoticeAttachmentBytes: attach, FileLinkTTL: cfg.Limits.AttachmentLinkTTL,
			MassThreshold: massThreshold(cfg.MassIncident.Threshold), MassWindow: cfg.MassIncident.Window,
			Model: modelMeta(eng),
			Auth:  authPolicy(cfg), VERP: verpOf(cfg), UndeliverableFor: cfg.Limits.UndeliverableFor}})
}

// modelMeta is the header of the engine's learned model, nil without one.
func modelMeta(eng *rules.Engine) *rules.ModelMeta {
	if m := eng.Model(); m != nil {
		return &m.Meta
	}
	return nil
}

// massThreshold maps mass_incident.threshold; 0 (off) is negative in
// desk, whose zero takes config's default.
func massThreshold(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

// fromAddress is the From of mesa's mail: smtp.from, or the desk's first
// address.
func fromAddress(cfg *config.Config) string {
	if cfg.SMTP.From != "" {
		return cfg.SMTP.From
	}
	return cfg.Desk.Addresses[0]
}

// portOr is port, or the protocol's default for the TLS mode when zero.
func portOr(port int, tls string, plain, implicit int) int {
	switch {
	case port != 0:
		return port
	case tls == "implicit":
		return implicit
	}
	return plain
}

// loadRules returns the catalogue named by rules.file, or the embedded one,
// with the learned model of rules.model_file (rulescmd.go).
func loadRules(cfg *config.Config) (*rules.Engine, error) {
	eng, err := rules.Default()
	if cfg.Rules.File != "" {
		eng, err = rules.Load(cfg.Rules.File)
	}
	if err != nil {
		return nil, err
	}
	return withModel(eng, cfg)
}

// loadCalendar builds the business calendar of the sla section.
func loadCalendar(cfg *config.Config) (*sla.Calendar, error) {
	zone := cfg.SLA.Timezone
	if zone == "" {
		zone = cfg.Desk.Timezone
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return nil, fmt.Errorf("sla time zone: %w", err)
	}
	opts := sla.Options{Location: loc, Workdays: []time.Weekday{}}
	for _, d := range cfg.SLA.Workdays {
		wd, _ := config.Weekday(d) // validated
		opts.Workdays = append(opts.Workdays, wd)
	}
	opts.Open, _ = config.ClockTime(cfg.SLA.Start)
	opts.Close, _ = config.ClockTime(cfg.SLA.End)
	for _, s := range cfg.SLA.ExtraHolidays {
		d, _ := time.Parse(time.DateOnly, s)
		opts.Extra = append(opts.Extra, d)
	}
	return sla.New(opts)
}

// surveyOptions maps the surveys section; days are business days of the
// calendar (day long). surveys.reopen_at_or_below 0 means no rating
// reopens, which desk spells negative (its zero takes config's default).
func surveyOptions(cfg *config.Config, day time.Duration) desk.SurveyOptions {
	o := desk.SurveyOptions{Disabled: !cfg.Surveys.Enabled, Delay: cfg.Surveys.Delay, ReopenAtOrBelow: cfg.Surveys.ReopenAtOrBelow,
		RemindAfter: time.Duration(cfg.Surveys.RemindAfterDays) * day,
		ExpireAfter: time.Duration(cfg.Surveys.ExpireAfterDays) * day}
	if o.ReopenAtOrBelow == 0 {
		o.ReopenAtOrBelow = -1 // never by rating; "no" still reopens
	}
	return o
}

// reopenWithin turns desk.reopen_days into business time (days of day
// long); 0 days means replies never reopen, which desk spells negative.
func reopenWithin(days int, day time.Duration) time.Duration {
	if days == 0 {
		return -1
	}
	return time.Duration(days) * day
}

// dkimOptions loads the DKIM key of the smtp section, or returns nil.
func dkimOptions(cfg *config.Config, from string) (*dkim.SignOptions, error) {
	if cfg.SMTP.DKIMKeyFile == "" {
		return nil, nil
	}
	b, err := os.ReadFile(cfg.SMTP.DKIMKeyFile)
	if err != nil {
		return nil, fmt.Errorf("smtp.dkim_key_file: %w", err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("smtp.dkim_key_file: %s holds no PEM block", cfg.SMTP.DKIMKeyFile)
	}
	var key any
	if key, err = x509.ParsePKCS8PrivateKey(block.Bytes); err != nil {
		if key, err = x509.ParsePKCS1PrivateKey(block.Bytes); err != nil {
			return nil, fmt.Errorf("smtp.dkim_key_file: not a PKCS#8 or PKCS#1 private key: %w", err)
		}
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("smtp.dkim_key_file: unsupported key type %T", key)
	}
	domain := cfg.SMTP.DKIMDomain
	if domain == "" {
		_, domain, _ = strings.Cut(from, "@")
	}
	return &dkim.SignOptions{Domain: domain, Selector: cfg.SMTP.DKIMSelector, Signer: signer}, nil
}
