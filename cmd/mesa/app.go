package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/mesadeservicios/mesa/config"
	"github.com/mesadeservicios/mesa/desk"
	"github.com/mesadeservicios/mesa/jobs"
	"github.com/mesadeservicios/mesa/mailout"
	"github.com/mesadeservicios/mesa/store"
	"github.com/mesadeservicios/mesa/ticket"
	"github.com/mesadeservicios/mesa/web"
	"github.com/mesadeservicios/mesa/web/health"
)

// Options are what Open takes besides the configuration.
type Options struct {
	Logger *slog.Logger // nil: slog.Default()
	// Now is the clock of the desk's use cases (SLA, surveys, digests);
	// nil: time.Now. Tests pass a clock they move to drive SLA
	// time. Network timers (IMAP, SMTP, the scheduler) and readiness keep
	// the wall clock.
	Now func() time.Time
	// Reload, when set, asks Run to read the TLS certificate again on
	// every value (serve passes SIGHUP).
	Reload <-chan os.Signal
}

// App is the daemon, wired: tests start it in-process with ports ":0".
type App struct {
	cfg  *config.Config
	log  *slog.Logger
	now  func() time.Time
	db   *store.DB
	desk *desk.Desk
	ln   net.Listener // public: pages, API, static files
	http *http.Server
	// adminLn serves metrics and health; nil when http.admin_listen is "".
	adminLn net.Listener
	admin   *http.Server
	cert    *web.Certificate // nil without http.tls_cert_file
	reload  <-chan os.Signal
	// boxes are the desk's mailboxes (config.MailboxList): each read by
	// its own reader while this instance holds its lease.
	boxes []*mailbox
	out   *mailout.Worker // nil when neither smtp.host nor smtp.provider graph is set
	met   *metrics
	jobs  *jobs.Scheduler
	// reports builds the monthly report mail's file (monthly.go).
	reports monthlyReporter
}

// Open connects the store, brings the schema up to date (or refuses an
// outdated one), loads people and groups from the configuration and binds
// the HTTP listener. It starts no goroutine; Run does.
func Open(ctx context.Context, cfg *config.Config, o Options) (*App, error) {
	log, now := o.Logger, o.Now
	if log == nil {
		log = slog.Default()
	}
	if now == nil {
		now = time.Now
	}
	a := &App{cfg: cfg, log: log, now: now, reload: o.Reload}
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
	a.desk, err = buildDesk(cfg, db, log, now)
	if err != nil {
		a.Close()
		return nil, err
	}
	// People gone from the configuration were deactivated by loadDirectory:
	// their open tickets go back to their groups.
	if n, err := a.desk.ReleaseDeparted(ctx); err != nil {
		a.Close()
		return nil, err
	} else if n > 0 {
		log.Warn("open tickets of people no longer in the configuration went back to their groups", "tickets", n)
	}
	var smtpMailbox *mailbox // whose identity sends: SMTP XOAUTH2's tokens, or smtp.provider graph's mailbox
	smtpBox := cfg.SMTPMailbox()
	for _, mc := range cfg.MailboxList() {
		mb, err := a.openMailbox(ctx, mc)
		if err != nil {
			a.Close()
			return nil, err
		}
		a.boxes = append(a.boxes, mb)
		if smtpBox != nil && smtpBox.Name == mc.Name {
			smtpMailbox = mb
		}
	}
	sender, err := a.sender(smtpMailbox)
	if err != nil {
		a.Close()
		return nil, err
	}
	if sender != nil {
		wo := mailout.WorkerOptions{Logger: log, Recorder: a.desk, GiveUpAfter: cfg.Limits.OutboxGiveUpAfter, Language: cfg.Desk.Language}
		if v := verpOf(cfg); len(v.Secret) > 0 {
			wo.ReturnPath = v.ReturnPath
		}
		a.out = mailout.NewWorker(db, sender, wo)
	} else {
		log.Warn("smtp.host is empty: outgoing mail stays in the outbox until it is set")
	}
	if cfg.HTTP.TLSCertFile != "" {
		if a.cert, err = web.LoadCertificate(cfg.HTTP.TLSCertFile, cfg.HTTP.TLSKeyFile); err != nil {
			a.Close()
			return nil, fmt.Errorf("http.tls_cert_file: %w", err)
		}
	}
	a.ln, err = net.Listen("tcp", cfg.HTTP.Listen)
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("listening on %s: %w", cfg.HTTP.Listen, err)
	}
	if cfg.HTTP.AdminListen != "" {
		if a.adminLn, err = net.Listen("tcp", cfg.HTTP.AdminListen); err != nil {
			a.Close()
			return nil, fmt.Errorf("listening on http.admin_listen %s: %w", cfg.HTTP.AdminListen, err)
		}
	}
	eng, err := loadRules(cfg)
	if err != nil {
		a.Close()
		return nil, err
	}
	if a.reports, err = newMonthlyReporter(cfg, db, eng, now); err != nil {
		a.Close()
		return nil, err
	}
	loc, _ := time.LoadLocation(cfg.Desk.Timezone) // validated by config
	a.met = newMetrics(a)
	if err := a.schedule(loc); err != nil {
		a.Close()
		return nil, err
	}
	proxies, _ := cfg.HTTP.TrustedProxyPrefixes() // validated by config
	site, err := web.New(web.Deps{Desk: a.desk, DB: db, Catalogue: eng, Logger: log},
		web.Options{Language: cfg.Desk.Language, Location: loc, Ready: a.readiness().Report, Metrics: a.met.reg,
			TrustedProxies: proxies, ProxyHeader: cfg.HTTP.ProxyHeader,
			PrivacyURL: cfg.Desk.PrivacyURL, GovCo: cfg.Web.GovCo, Entity: webEntity(cfg.Web)})
	if err != nil {
		a.Close()
		return nil, err
	}
	a.http = a.httpServer(site)
	if a.cert != nil {
		a.http.TLSConfig = a.cert.TLSConfig()
	}
	a.admin = a.httpServer(site.Admin())
	return a, nil
}

// httpServer is a server with the limits of the http section.
func (a *App) httpServer(h http.Handler) *http.Server {
	c := a.cfg.HTTP
	return &http.Server{Handler: h, ReadHeaderTimeout: c.ReadHeaderTimeout, ReadTimeout: c.ReadTimeout,
		WriteTimeout: c.WriteTimeout, IdleTimeout: c.IdleTimeout, MaxHeaderBytes: c.MaxHeaderBytes,
		ErrorLog: slog.NewLogLogger(a.log.Handler(), slog.LevelDebug)}
}

// webEntity is the entity's contact data for the pages' footer.
func webEntity(w config.Web) web.Entity {
	return web.Entity{Name: w.EntityName, Address: w.EntityAddress, Phone: w.EntityPhone, Hours: w.EntityHours, Email: w.EntityEmail}
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
	if err := a.jobs.Add("personal_digest", a.cfg.Jobs.PersonalDigest, a.sendMorningDigests); err != nil {
		return err
	}
	if err := a.jobs.Add("monthly_report", a.cfg.Jobs.MonthlyReport, a.sendMonthlyReports); err != nil { // monthly.go
		return err
	}
	if err := a.jobs.Add("operator_alerts", a.cfg.Jobs.OperatorAlerts, a.operatorAlerts); err != nil {
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

// sendMorningDigests is the personal_digest job.
func (a *App) sendMorningDigests(ctx context.Context) error {
	n, err := a.desk.SendMorningDigests(ctx)
	jobs.Count(ctx, "mails", n)
	return err
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

// operatorAlerts is the operator_alerts job.
func (a *App) operatorAlerts(ctx context.Context) error {
	rep, err := a.desk.OperatorAlerts(ctx)
	jobs.Count(ctx, "raised", rep.Raised)
	jobs.Count(ctx, "resolved", rep.Resolved)
	jobs.Count(ctx, "batched", rep.Batched)
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
// store, where the use cases look them up, and deactivates the staff the
// configuration no longer lists.
func (a *App) loadDirectory(ctx context.Context) error {
	return a.db.InTx(ctx, func(ctx context.Context) error {
		for _, g := range a.cfg.Groups {
			if err := a.db.SaveGroup(ctx, ticket.Group{Key: g.Key, Name: g.Name, Email: g.Email}); err != nil {
				return err
			}
		}
		keep := make([]string, 0, len(a.cfg.People))
		for _, p := range a.cfg.People {
			err := a.db.SavePerson(ctx, &ticket.Person{Email: strings.ToLower(p.Email), Name: p.Name,
				Role: ticket.Role(p.Role), Level: p.Level, Groups: p.Groups, Active: true, NoDigest: p.Digest != nil && !*p.Digest})
			if err != nil {
				return err
			}
			keep = append(keep, p.Email)
		}
		// Staff no longer in the configuration are deactivated: no tickets,
		// no commands (desk.ReleaseDeparted gives their tickets back).
		gone, err := a.db.DeactivateMissing(ctx, keep)
		if err != nil {
			return err
		}
		if len(gone) > 0 {
			a.log.Warn("people missing from the configuration were deactivated", "people", gone)
		}
		return nil
	})
}

// Addr is the public HTTP listener's address.
func (a *App) Addr() string { return a.ln.Addr().String() }

// AdminAddr is the admin listener's address; "" when it is disabled.
func (a *App) AdminAddr() string {
	if a.adminLn == nil {
		return ""
	}
	return a.adminLn.Addr().String()
}

// ReloadTLS reads the public listener's certificate files again; on error
// the current certificate stays in service. Without TLS it does nothing.
func (a *App) ReloadTLS() error {
	if a.cert == nil {
		return nil
	}
	if err := a.cert.Reload(); err != nil {
		a.log.Error("tls certificate not reloaded, the previous one stays", "err", err)
		return err
	}
	a.log.Info("tls certificate reloaded", "file", a.cfg.HTTP.TLSCertFile)
	return nil
}

// Run serves until ctx is done, then shuts down gracefully.
func (a *App) Run(ctx context.Context) error {
	scheme := "http://"
	if a.cert != nil {
		scheme = "https://"
	}
	admin := "disabled"
	if a.adminLn != nil {
		admin = "http://" + a.AdminAddr()
	} else {
		a.log.Warn("http.admin_listen is empty: no /metrics, /healthz or /readyz")
	}
	a.log.Info("mesa started", "http", scheme+a.Addr(), "admin", admin, "driver", a.db.Driver(), "version", version())
	errc := make(chan error, 2)
	go func() {
		if a.cert != nil {
			errc <- a.http.ServeTLS(a.ln, "", "")
			return
		}
		errc <- a.http.Serve(a.ln)
	}()
	servers := 1
	if a.adminLn != nil {
		servers++
		go func() { errc <- a.admin.Serve(a.adminLn) }()
	}
	var wg sync.WaitGroup
	for _, mb := range a.boxes {
		wg.Add(1)
		go func() { defer wg.Done(); mb.lead.Run(ctx) }() // a mailbox that fails does not stop the others
	}
	if a.out != nil {
		wg.Add(1)
		go func() { defer wg.Done(); a.out.Run(ctx) }()
	}
	wg.Add(1)
	go func() { defer wg.Done(); a.jobs.Run(ctx) }()
	defer wg.Wait()
	for done := false; !done; {
		select {
		case err := <-errc:
			a.http.Close()
			a.admin.Close()
			return fmt.Errorf("http server: %w", err)
		case <-a.reload:
			a.ReloadTLS()
		case <-ctx.Done():
			done = true
		}
	}
	shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := errors.Join(a.http.Shutdown(shut), a.admin.Shutdown(shut))
	for range servers {
		if e := <-errc; !errors.Is(e, http.ErrServerClosed) && err == nil {
			err = e
		}
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

// readiness is the policy of /readyz over this instance's outbox and
// mailbox.
func (a *App) readiness() health.Policy {
	var p health.Policy
	if a.out != nil {
		p.Outbox = a.db
	}
	for _, mb := range a.boxes {
		p.Intakes = append(p.Intakes, func() health.Intake {
			st := a.mailboxStatus(mb)
			return health.Intake{Name: mb.name, LastSuccess: st.LastSuccess, LastError: st.LastError, NeedsReauthorization: st.NeedsReauthorization}
		})
	}
	return p
}

// Close releases what Open acquired.
func (a *App) Close() error {
	if a.ln != nil {
		a.ln.Close()
	}
	if a.adminLn != nil {
		a.adminLn.Close()
	}
	if a.db != nil {
		return a.db.Close()
	}
	return nil
}
