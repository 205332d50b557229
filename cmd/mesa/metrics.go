package main

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the daemon's counters and the collector that reads state
// from the store and the poller at each scrape.
type metrics struct {
	reg      *prometheus.Registry
	messages *prometheus.CounterVec
	jobRuns  *prometheus.CounterVec
	jobTime  *prometheus.HistogramVec
	jobLast  *prometheus.GaugeVec
	slaAlert *prometheus.CounterVec
}

// observeJob counts a job run and, when it succeeded, records its time.
func (m *metrics) observeJob(job, outcome string, d time.Duration) {
	m.jobRuns.WithLabelValues(job, outcome).Inc()
	if outcome != "skipped" {
		m.jobTime.WithLabelValues(job).Observe(d.Seconds())
	}
	if outcome == "ok" {
		m.jobLast.WithLabelValues(job).SetToCurrentTime()
	}
}

func newMetrics(a *App) *metrics {
	m := &metrics{reg: prometheus.NewRegistry(),
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mesa_messages_total",
			Help: "Inbound messages processed, by disposition (ticket, reply, autoreply, bounce, quarantined, duplicate)."},
			[]string{"disposition"}),
		jobRuns: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mesa_job_runs_total",
			Help: "Scheduled job runs by outcome (ok, failed, skipped: still running or run by another instance)."},
			[]string{"job", "outcome"}),
		jobTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "mesa_job_duration_seconds",
			Help: "Duration of scheduled job runs.", Buckets: prometheus.ExponentialBuckets(0.005, 4, 8)}, []string{"job"}),
		jobLast: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "mesa_job_last_success_timestamp_seconds",
			Help: "When each job last succeeded."}, []string{"job"}),
		slaAlert: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mesa_sla_alerts_total",
			Help: "SLA warnings and breaches recorded by the SLA watch."}, []string{"kind"})}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.messages, m.jobRuns, m.jobTime, m.jobLast, m.slaAlert, &stateCollector{a: a})
	return m
}

var (
	descTickets   = prometheus.NewDesc("mesa_tickets", "Tickets by state.", []string{"state"}, nil)
	descOutbox    = prometheus.NewDesc("mesa_outbox_mails", "Outbox rows by state (pending, sent, failed, held).", []string{"state"}, nil)
	descOutboxAge = prometheus.NewDesc("mesa_outbox_oldest_due_seconds", "Age of the oldest due mail not yet sent.", nil, nil)
	descIMAPUp    = prometheus.NewDesc("mesa_imap_connected",
		"1 when the mailbox was reached within ten minutes, by whichever instance reads it.", []string{"mailbox"}, nil)
	descIMAPLast   = prometheus.NewDesc("mesa_imap_last_success_timestamp_seconds", "Time the mailbox was last reached.", []string{"mailbox"}, nil)
	descIMAPReauth = prometheus.NewDesc("mesa_imap_needs_reauthorization", "1 when the OAuth2 grant was refused.", []string{"mailbox"}, nil)
	descIMAP       = prometheus.NewDesc("mesa_imap_events_total",
		"Events of this instance's poller: handled, failed, quarantined, move_failures, reconnects.", []string{"mailbox", "event"}, nil)
	descSent = prometheus.NewDesc("mesa_outbox_events_total", "Outbox worker events: sent, retried, failed.", []string{"event"}, nil)
)

// stateCollector reads what the store and the workers know at scrape time.
type stateCollector struct{ a *App }

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descTickets, descOutbox, descOutboxAge, descIMAPUp, descIMAPLast, descIMAPReauth, descIMAP, descSent} {
		ch <- d
	}
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if by, err := c.a.db.CountByState(ctx); err == nil {
		for s, n := range by {
			ch <- prometheus.MustNewConstMetric(descTickets, prometheus.GaugeValue, float64(n), string(s))
		}
	}
	now := time.Now()
	if counts, oldest, err := c.a.db.OutboxStats(ctx, now); err == nil {
		for s, n := range counts {
			ch <- prometheus.MustNewConstMetric(descOutbox, prometheus.GaugeValue, float64(n), s)
		}
		age := 0.0
		if !oldest.IsZero() {
			age = now.Sub(oldest).Seconds()
		}
		ch <- prometheus.MustNewConstMetric(descOutboxAge, prometheus.GaugeValue, age)
	}
	statuses, err := c.a.db.MailboxStatuses(ctx)
	if err != nil {
		statuses = nil
	}
	for _, mb := range c.a.boxes {
		st := statuses[mb.name] // shared: the standby reports what the reader saw
		up, reauth := 0.0, 0.0
		if !st.LastSuccess.IsZero() && now.Sub(st.LastSuccess) < 10*time.Minute {
			up = 1
		}
		if st.NeedsReauthorization {
			reauth = 1
		}
		ch <- prometheus.MustNewConstMetric(descIMAPUp, prometheus.GaugeValue, up, mb.name)
		ch <- prometheus.MustNewConstMetric(descIMAPReauth, prometheus.GaugeValue, reauth, mb.name)
		if !st.LastSuccess.IsZero() {
			ch <- prometheus.MustNewConstMetric(descIMAPLast, prometheus.GaugeValue, float64(st.LastSuccess.Unix()), mb.name)
		}
		ps := mb.reader.Stats()
		for name, v := range map[string]int{"handled": ps.Handled, "failed": ps.Failed, "quarantined": ps.Quarantined,
			"move_failures": ps.MoveFailures, "reconnects": ps.Reconnects} {
			ch <- prometheus.MustNewConstMetric(descIMAP, prometheus.CounterValue, float64(v), mb.name, name)
		}
	}
	if c.a.out != nil {
		st := c.a.out.Stats()
		for name, v := range map[string]int{"sent": st.Sent, "retried": st.Retried, "failed": st.Failed} {
			ch <- prometheus.MustNewConstMetric(descSent, prometheus.CounterValue, float64(v), name)
		}
	}
}
