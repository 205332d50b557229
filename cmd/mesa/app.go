package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/mesadeservicios/mesa/config"
	"github.com/mesadeservicios/mesa/desk"
	"github.com/mesadeservicios/mesa/jobs"
	"github.com/mesadeservicios/mesa/mailin"
	"github.com/mesadeservicios/mesa/mailout"
	"github.com/mesadeservicios/mesa/store"
	"github.com/mesadeservicios/mesa/ticket"
	"github.com/mesadeservicios/mesa/web"
)

// The store satisfies the interfaces the use cases declare.
var _ desk.Store = (*store.DB)(nil)

// App is the daemon, wired: tests start it in-process with ports ":0".
type App struct {
	cfg  *config.Config
	log  *slog.Logger
	db   *store.DB
	desk *desk.Desk
	ln   net.Listener
	http *http.Server
	poll *mailin.Poller  // nil when imap.host is empty
	out  *mailout.Worker // nil when smtp.host is empty
	met  *metrics
	jobs *jobs.Scheduler
}

// Open connects the store, brings the schema up to date (or refuses an
// outdated one), loads people and groups from the configuration and binds
// the HTTP listener. It starts no goroutine; Run does.
func Open(ctx context.Context, cfg *config.Config, log *slog.Logger) (*App, error) {
	a := &App{cfg: cfg, log: log}
	db, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	a.db = db
	if cfg.Database.AutoMigrate {
		n, err := db.Migrate(ctx)
		if err != nil {
			a.Close()
			return nil, err
		}
		if n > 0 {
			log.Info("database migrated", "applied", n, "driver", db.Driver())
		}
	}
	if err := db.CheckSchema(ctx); err != nil {
		a.Close()
		return nil, err
	}
	if err := a.loadDirectory(ctx); err != nil {
		a.Close()
		return nil, err
	}
	a.desk, err = buildDesk(cfg, db, log)
	if err != nil {
		a.Close()
		return nil, err
	}
	var tokens oauth2.TokenSource
	if cfg.IMAP.Auth == "xoauth2" {
		o := mailin.OAuth2{TokenURL: cfg.IMAP.OAuth2TokenURL, ClientID: cfg.IMAP.OAuth2ClientID,
			ClientSecret: cfg.IMAP.OAuth2ClientSecret, Scopes: cfg.IMAP.OAuth2Scopes, RefreshTokenFile: cfg.IMAP.OAuth2RefreshTokenFile}
		if cfg.IMAP.OAuth2Tenant != "" {
			if o.TokenURL == "" {
				o.TokenURL = "https://login.microsoftonline.com/" + url.PathEscape(cfg.IMAP.OAuth2Tenant) + "/oauth2/v2.0/token"
			}
			if len(o.Scopes) == 0 {
				o.Scopes = []string{"https://outlook.office365.com/.default"}
			}
		}
		if tokens, err = o.TokenSource(context.WithoutCancel(ctx)); err != nil {
			a.Close()
			return nil, fmt.Errorf("imap oauth2: %w", err)
		}
	}
	if cfg.IMAP.Host != "" {
		port := portOr(cfg.IMAP.Port, cfg.IMAP.TLS, 143, 993)
		a.poll, err = mailin.NewPoller(mailin.Options{Tokens: tokens,
			Addr: net.JoinHostPort(cfg.IMAP.Host, strconv.Itoa(port)), TLS: cfg.IMAP.TLS,
			Username: cfg.IMAP.Username, Password: cfg.IMAP.Password, Mailbox: cfg.IMAP.Mailbox,
			ProcessedMailbox: cfg.IMAP.ProcessedMailbox, QuarantineMailbox: cfg.IMAP.QuarantineMailbox,
			PollInterval: cfg.IMAP.PollInterval, MaxSize: cfg.Limits.MaxMessageBytes, MaxAttempts: cfg.Limits.MaxAttempts,
			State: db, Handle: a.handleMail, Quarantine: a.desk.QuarantineMail, Logger: log,
		})
		if err != nil {
			a.Close()
			return nil, err
		}
	}
	if cfg.SMTP.Host != "" {
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
			so.Tokens = tokens
		case "login":
			so.Login = true
		}
		sender, err := mailout.NewSMTP(so)
		if err != nil {
			a.Close()
			return nil, err
		}
		a.out = mailout.NewWorker(db, sender, mailout.WorkerOptions{Logger: log, Recorder: a.desk})
	} else {
		log.Warn("smtp.host is empty: outgoing mail stays in the outbox until it is set")
	}
	a.ln, err = net.Listen("tcp", cfg.HTTP.Listen)
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("listening on %s: %w", cfg.HTTP.Listen, err)
	}
	eng, err := loadRules(cfg)
	if err != nil {
		a.Close()
		return nil, err
	}
	loc, _ := time.LoadLocation(cfg.Desk.Timezone) // validated by config
	a.met = newMetrics(a)
	if err := a.schedule(loc); err != nil {
		a.Close()
		return nil, err
	}
	a.http = &http.Server{Handler: web.New(web.Options{Desk: a.desk, DB: db, Catalogue: eng, Language: cfg.Desk.Language,
		Location: loc, Logger: log, Ready: a.ready, Metrics: a.met.reg}), ReadHeaderTimeout: 10 * time.Second}
	return a, nil
}

// schedule sets up the scheduled jobs of the jobs section. Schedules run
// in the desk's time zone unless they start with CRON_TZ=.
func (a *App) schedule(loc *time.Location) error {
	a.jobs = jobs.New(jobs.Options{Runs: a.db, Location: loc, Logger: a.log, Observe: a.met.observeJob})
	if err := a.jobs.Add("sla_check", a.cfg.Jobs.SLACheck, a.watchSLA); err != nil {
		return err
	}
	if err := a.jobs.Add("digest", a.cfg.Jobs.Digest, a.sendDigests("daily")); err != nil {
		return err
	}
	if err := a.jobs.Add("weekly_digest", a.cfg.Jobs.WeeklyDigest, a.sendDigests("weekly")); err != nil {
		return err
	}
	if err := a.scheduleRetention(); err != nil { // retention.go
		return err
	}
	if !a.cfg.Surveys.Enabled {
		return nil
	}
	return a.jobs.Add("surveys", a.cfg.Jobs.Surveys, a.sendSurveys)
}

// sendDigests is the job of the daily or weekly digest.
func (a *App) sendDigests(kind string) jobs.Func {
	return func(ctx context.Context) error {
		n, err := a.desk.SendDigests(ctx, kind)
		jobs.Count(ctx, "mails", n)
		return err
	}
}

// sendSurveys is the surveys job.
func (a *App) sendSurveys(ctx context.Context) error {
	rep, err := a.desk.SendSurveys(ctx)
	jobs.Count(ctx, "sent", rep.Sent)
	jobs.Count(ctx, "skipped", rep.Skipped)
	jobs.Count(ctx, "reminded", rep.Reminded)
	jobs.Count(ctx, "expired", rep.Expired)
	return err
}

// watchSLA is the sla_check job.
func (a *App) watchSLA(ctx context.Context) error {
	rep, err := a.desk.WatchSLA(ctx)
	jobs.Count(ctx, "warned", rep.Warned)
	jobs.Count(ctx, "breached", rep.Breached)
	jobs.Count(ctx, "deferred", rep.Deferred)
	jobs.Count(ctx, "mails", rep.Mails)
	a.met.slaAlert.WithLabelValues("warning").Add(float64(rep.Warned))
	a.met.slaAlert.WithLabelValues("breach").Add(float64(rep.Breached))
	return err
}

// loadDirectory copies groups and people from the configuration into the
// store, where the use cases look them up.
func (a *App) loadDirectory(ctx context.Context) error {
	return a.db.InTx(ctx, func(ctx context.Context) error {
		for _, g := range a.cfg.Groups {
			if err := a.db.SaveGroup(ctx, ticket.Group{Key: g.Key, Name: g.Name, Email: g.Email}); err != nil {
				return err
			}
		}
		for _, p := range a.cfg.People {
			err := a.db.SavePerson(ctx, &ticket.Person{Email: strings.ToLower(p.Email), Name: p.Name,
				Role: ticket.Role(p.Role), Level: p.Level, Groups: p.Groups, Active: true})
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// Addr is the HTTP listener's address.
func (a *App) Addr() string { return a.ln.Addr().String() }

// Run serves until ctx is done, then shuts down gracefully.
func (a *App) Run(ctx context.Context) error {
	a.log.Info("mesa started", "http", "http://"+a.Addr(), "driver", a.db.Driver(), "version", version())
	errc := make(chan error, 1)
	go func() { errc <- a.http.Serve(a.ln) }()
	var wg sync.WaitGroup
	if a.poll != nil {
		wg.Add(1)
		go func() { defer wg.Done(); a.readMailbox(ctx) }()
	}
	if a.out != nil {
		wg.Add(1)
		go func() { defer wg.Done(); a.out.Run(ctx) }()
	}
	wg.Add(1)
	go func() { defer wg.Done(); a.jobs.Run(ctx) }()
	defer wg.Wait()
	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := a.http.Shutdown(shut)
	if e := <-errc; !errors.Is(e, http.ErrServerClosed) && err == nil {
		err = e
	}
	a.log.Info("mesa stopped")
	return err
}

// handleMail runs intake on a message from the mailbox and counts its
// disposition.
func (a *App) handleMail(ctx context.Context, raw []byte, in *ticket.Inbound, src ticket.Source) error {
	res, err := a.desk.Intake(ctx, raw, in, src)
	if err == nil {
		a.met.messages.WithLabelValues(string(res.Disposition)).Inc()
	}
	return err
}

// ready reports whether the daemon does its work: intake connected (or
// reconnecting less than ten minutes), no OAuth grant refused, no mail due
// for more than 30 minutes without being sent.
func (a *App) ready(ctx context.Context) error {
	if a.out != nil {
		if _, oldest, err := a.db.OutboxStats(ctx, time.Now()); err != nil {
			return err
		} else if !oldest.IsZero() && time.Since(oldest) > 30*time.Minute {
			return fmt.Errorf("outbox: mail due since %s is not sent", oldest.Format(time.RFC3339))
		}
	}
	if a.poll == nil {
		return nil
	}
	st := a.poll.Stats()
	if st.NeedsReauthorization {
		return fmt.Errorf("imap: the mailbox needs re-authorisation: %s", st.LastError)
	}
	if !st.LastSuccess.IsZero() && time.Since(st.LastSuccess) > 10*time.Minute {
		return fmt.Errorf("imap: no successful fetch since %s: %s", st.LastSuccess.Format(time.RFC3339), st.LastError)
	}
	return nil
}

// readMailbox runs the mailbox poller while this instance holds the
// mailbox's lease: with several instances on one PostgreSQL database, one
// reads and the others stand by, taking over when it dies.
func (a *App) readMailbox(ctx context.Context) {
	for ctx.Err() == nil {
		lease, err := a.db.AcquireLease(ctx, "imap:"+a.cfg.IMAP.Username+"/"+a.cfg.IMAP.Mailbox, 5*time.Second)
		if err != nil {
			if ctx.Err() == nil {
				a.log.Error("cannot take the mailbox lease", "err", err)
				time.Sleep(5 * time.Second)
			}
			continue
		}
		a.log.Info("reading the mailbox", "mailbox", a.cfg.IMAP.Mailbox, "imap", a.cfg.IMAP.Host)
		pctx, cancel := context.WithCancel(ctx)
		go func() {
			select {
			case <-lease.Lost:
				a.log.Error("mailbox lease lost: stopping intake on this instance")
				cancel()
			case <-pctx.Done():
			}
		}()
		a.poll.Run(pctx)
		cancel()
		lease.Release()
	}
}

// Close releases what Open acquired.
func (a *App) Close() error {
	if a.ln != nil {
		a.ln.Close()
	}
	if a.db != nil {
		return a.db.Close()
	}
	return nil
}
