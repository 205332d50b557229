package main

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/mesadeservicios/mesa/config"
	"github.com/mesadeservicios/mesa/internal/msgraph"
	"github.com/mesadeservicios/mesa/mailin"
	"github.com/mesadeservicios/mesa/mailout"
	"github.com/mesadeservicios/mesa/store"
	"github.com/mesadeservicios/mesa/ticket"
)

// mailbox is one of the desk's mailboxes, wired.
type mailbox struct {
	name   string // config's name: label, lease, stored status
	cfg    config.Mailbox
	tokens oauth2.TokenSource // IMAP (and SMTP) XOAUTH2; nil with a password or Graph
	// graph is a Graph mailbox's client, shared by its reader and, with
	// smtp.provider graph, its sender: one limit of four requests in flight.
	graph  *msgraph.Client
	reader mailin.Reader // the IMAP poller or the Graph reader
	lead   *mailin.Leader
}

// storeName is the mailbox's name in the store (its cursor or delta link,
// its attempts) and the Source.Mailbox of its messages: the imap section's
// IMAP mailbox keeps the folder name it had before mailboxes.
func storeName(mc config.Mailbox) string {
	switch {
	case !mc.Legacy:
		return mc.Name
	case mc.Provider == "graph":
		return mailin.GraphName(mc.User, strings.Trim(mc.Folder, "/"))
	default:
		return mc.Mailbox
	}
}

// leaseName is the mailbox's lease among instances.
func leaseName(mc config.Mailbox) string {
	switch {
	case !mc.Legacy:
		return "mailbox:" + mc.Name
	case mc.Provider == "graph":
		return storeName(mc)
	default:
		return mailin.LeaseName(mc.Username, mc.Mailbox) // the lease of before mailboxes
	}
}

// openMailbox builds a mailbox's reader (IMAP with its token source, its
// refresh token shared through the store; or Graph with its app-only
// credentials) and its leader.
func (a *App) openMailbox(ctx context.Context, mc config.Mailbox) (*mailbox, error) {
	mb := &mailbox{name: mc.Name, cfg: mc}
	log := a.log.With("mailbox_name", mc.Name)
	report := func(st mailin.Stats) { a.saveMailboxStatus(mb, st) }
	if mc.Provider == "graph" {
		var err error
		if mb.graph, err = graphClient(ctx, mc); err != nil {
			return nil, fmt.Errorf("mailbox %s: %w", mc.Name, err)
		}
		g, err := mailin.NewGraph(mailin.GraphOptions{Client: mb.graph, User: mc.User, Folder: strings.Trim(mc.Folder, "/"),
			ProcessedFolder: strings.Trim(mc.ProcessedFolder, "/"), QuarantineFolder: strings.Trim(mc.QuarantineFolder, "/"),
			Name: storeName(mc), PollInterval: mc.PollInterval, MaxSize: a.cfg.Limits.MaxMessageBytes, MaxAttempts: a.cfg.Limits.MaxAttempts,
			State: a.db, Handle: a.handleMail, Quarantine: a.desk.QuarantineMail, Logger: log, Report: report})
		if err != nil {
			return nil, fmt.Errorf("mailbox %s: %w", mc.Name, err)
		}
		mb.reader = g
	} else {
		if mc.Auth == "xoauth2" {
			o := mailin.OAuth2{Tenant: mc.OAuth2Tenant, TokenURL: mc.OAuth2TokenURL, ClientID: mc.OAuth2ClientID,
				ClientSecret: mc.OAuth2ClientSecret, Scopes: mc.OAuth2Scopes, RefreshTokenFile: mc.OAuth2RefreshTokenFile}
			if mc.OAuth2Provider == "google" {
				sa, err := mailin.LoadGoogleServiceAccount(mc.OAuth2ServiceAccountFile, mc.Username)
				if err != nil {
					return nil, fmt.Errorf("mailbox %s oauth2: %w", mc.Name, err)
				}
				o.Google = &sa
			} else if o.RefreshTokenFile != "" {
				o.Tokens, o.TokensName = a.db, mc.Name // any instance that takes the mailbox over uses the newest token
			}
			var err error
			if mb.tokens, err = o.TokenSource(context.WithoutCancel(ctx)); err != nil {
				return nil, fmt.Errorf("mailbox %s oauth2: %w", mc.Name, err)
			}
		}
		port := portOr(mc.Port, mc.TLS, 143, 993)
		p, err := mailin.NewPoller(mailin.Options{Tokens: mb.tokens, Name: storeName(mc),
			Addr: net.JoinHostPort(mc.Host, strconv.Itoa(port)), TLS: mc.TLS,
			Username: mc.Username, Password: mc.Password, Mailbox: mc.Mailbox,
			ProcessedMailbox: mc.ProcessedMailbox, QuarantineMailbox: mc.QuarantineMailbox,
			PollInterval: mc.PollInterval, MaxSize: a.cfg.Limits.MaxMessageBytes, MaxAttempts: a.cfg.Limits.MaxAttempts,
			State: a.db, Handle: a.handleMail, Quarantine: a.desk.QuarantineMail, Logger: log, Report: report,
		})
		if err != nil {
			return nil, fmt.Errorf("mailbox %s: %w", mc.Name, err)
		}
		mb.reader = p
	}
	mb.lead = mailin.NewLeader(mb.reader, leases{db: a.db, retry: 5 * time.Second},
		mailin.LeaderOptions{Name: leaseName(mc), Logger: log})
	return mb, nil
}

// graphCredentials are a Graph mailbox's app-only credentials: its client
// secret, or its certificate and key read from their files.
func graphCredentials(mc config.Mailbox) (mailin.GraphCredentials, error) {
	c := mailin.GraphCredentials{TenantID: mc.TenantID, ClientID: mc.ClientID, ClientSecret: mc.ClientSecret, TokenURL: mc.OAuth2TokenURL}
	if mc.ClientCertificateFile != "" {
		var err error
		if c.CertificatePEM, c.KeyPEM, err = mailin.LoadGraphCertificate(mc.ClientCertificateFile, mc.ClientKeyFile); err != nil {
			return c, err
		}
	}
	return c, nil
}

// graphClient is a Graph mailbox's client: its token source (the grant at
// every call; the client caches) and its limit of four requests in flight.
func graphClient(ctx context.Context, mc config.Mailbox) (*msgraph.Client, error) {
	c, err := graphCredentials(mc)
	if err != nil {
		return nil, err
	}
	src, err := c.TokenSource(context.WithoutCancel(ctx))
	if err != nil {
		return nil, err
	}
	return msgraph.New(msgraph.Options{BaseURL: mc.GraphURL, Tokens: src})
}

// sender is how the outbox leaves: Graph sendMail as the Graph mailbox mb
// (smtp.provider graph, the mailbox's client shared with its reader), or
// SMTP (XOAUTH2 with mb's tokens); nil when neither is configured.
func (a *App) sender(mb *mailbox) (mailout.Sender, error) {
	cfg := a.cfg
	if cfg.SMTP.Provider == "graph" {
		if mb == nil || mb.graph == nil {
			return nil, fmt.Errorf("smtp.provider graph: no Graph mailbox serves %s", fromAddress(cfg))
		}
		return mailout.NewGraphSender(mb.graph, mb.cfg.User)
	}
	if cfg.SMTP.Host == "" {
		return nil, nil
	}
	port := portOr(cfg.SMTP.Port, cfg.SMTP.TLS, 587, 465)
	from := fromAddress(cfg)
	helo := cfg.SMTP.HELO
	if helo == "" {
		_, helo, _ = strings.Cut(from, "@")
	}
	so := mailout.SMTPOptions{Addr: net.JoinHostPort(cfg.SMTP.Host, strconv.Itoa(port)), TLS: cfg.SMTP.TLS,
		Username: cfg.SMTP.Username, Password: cfg.SMTP.Password, HELO: helo}
	switch cfg.SMTP.Auth {
	case "xoauth2":
		if mb == nil || mb.tokens == nil {
			return nil, fmt.Errorf("smtp.auth xoauth2: the mailbox serving %s has no OAuth2 tokens", from)
		}
		so.Tokens = mb.tokens
	case "login":
		so.Login = true
	}
	return mailout.NewSMTP(so)
}

// saveMailboxStatus shares what the mailbox's reader saw through the
// store, for every instance's /readyz and /metrics and the operator
// alerts.
func (a *App) saveMailboxStatus(mb *mailbox, st mailin.Stats) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := a.db.SaveMailboxStatus(ctx, ticket.MailboxStatus{Name: mb.name, LastSuccess: st.LastSuccess, FailingSince: st.FailingSince,
		LastError: st.LastError, NeedsReauthorization: st.NeedsReauthorization, UpdatedAt: time.Now()})
	if err != nil {
		a.log.Warn("cannot record the mailbox's status", "mailbox_name", mb.name, "err", err)
	}
}

// mailboxStatus is the mailbox's state as its reader (this instance or
// another) last recorded it; the zero status when none did yet.
func (a *App) mailboxStatus(mb *mailbox) ticket.MailboxStatus {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	all, err := a.db.MailboxStatuses(ctx)
	if err != nil {
		return ticket.MailboxStatus{Name: mb.name, LastError: err.Error()}
	}
	return all[mb.name]
}

// leases adapts the store's advisory locks to mailin.Leases: with several
// instances on one PostgreSQL database, one reads each mailbox and the
// others stand by, retrying every retry.
type leases struct {
	db    *store.DB
	retry time.Duration
}

func (l leases) Acquire(ctx context.Context, name string) (<-chan struct{}, func(), error) {
	lease, err := l.db.AcquireLease(ctx, name, l.retry)
	if err != nil {
		return nil, nil, err
	}
	return lease.Lost, lease.Release, nil
}
