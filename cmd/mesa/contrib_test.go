package main

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.yaml.in/yaml/v3"

	"github.com/mesadeservicios/mesa/config"
	"github.com/mesadeservicios/mesa/mailin"
	"github.com/mesadeservicios/mesa/ticket"
)

var metricRE = regexp.MustCompile(`\bmesa_[a-z_]+`)

// TestContribMetrics: the alert rules are valid (promtool when
// installed) and every metric they and the Grafana dashboard name is one
// mesa exposes on /metrics.
func TestContribMetrics(t *testing.T) {
	b, err := os.ReadFile("../../contrib/prometheus/mesa-alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	var rules struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []struct {
				Alert       string            `yaml:"alert"`
				Expr        string            `yaml:"expr"`
				For         string            `yaml:"for"`
				Labels      map[string]string `yaml:"labels"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(b, &rules); err != nil {
		t.Fatalf("alert rules: %v", err)
	}
	named := map[string]string{}
	n := 0
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			n++
			if r.Alert == "" || r.Expr == "" || r.Labels["severity"] == "" || r.Annotations["summary"] == "" {
				t.Errorf("rule %+v lacks alert, expr, severity or summary", r)
			}
			if r.For != "" {
				if _, err := time.ParseDuration(r.For); err != nil {
					t.Errorf("%s: for %q: %v", r.Alert, r.For, err)
				}
			}
			for _, m := range metricRE.FindAllString(r.Expr, -1) {
				named[m] = "alert " + r.Alert
			}
		}
	}
	if n < 10 {
		t.Errorf("got %d alert rules, want the dozen of docs/OPERATIONS.md", n)
	}
	if p, err := exec.LookPath("promtool"); err == nil {
		if out, err := exec.Command(p, "check", "rules", "../../contrib/prometheus/mesa-alerts.yml").CombinedOutput(); err != nil {
			t.Errorf("promtool check rules: %v\n%s", err, out)
		}
	} else if os.Getenv("CI") == "true" {
		t.Error("promtool is not installed (apt-get install prometheus)")
	}

	db, err := os.ReadFile("../../contrib/grafana/mesa-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Title  string `json:"title"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(db, &dash); err != nil || len(dash.Panels) < 8 {
		t.Fatalf("dashboard: %d panels, %v", len(dash.Panels), err)
	}
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			for _, m := range metricRE.FindAllString(tg.Expr, -1) {
				named[m] = "panel " + p.Title
			}
		}
	}

	exposed := exposedMetrics(t)
	for m, where := range named {
		base := m
		for _, suf := range []string{"_bucket", "_count", "_sum"} {
			if strings.HasSuffix(m, suf) && exposed[strings.TrimSuffix(m, suf)] {
				base = strings.TrimSuffix(m, suf)
			}
		}
		if !exposed[base] {
			t.Errorf("%s names %s, which mesa does not expose", where, m)
		}
	}
}

// exposedMetrics runs mesa with a mailbox and a relay configured (both
// unreachable: the gauges exist all the same), lets every kind of work
// happen once, and returns the metric families of /metrics.
func exposedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	closed := func() string {
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		defer ln.Close()
		return ln.Addr().String()
	}
	env := loopbackEnv("sqlite:"+filepath.Join(t.TempDir(), "m.db"), closed(), closed())
	cfg, err := config.Load("", env)
	if err != nil {
		t.Fatal(err)
	}
	app, ctx, _ := startApp(t, cfg)
	raw := []byte(mail("ana@entidad.gov.co", "metrics-1@x", "Prueba", "hola"))
	in, _ := mailin.Parse(raw)
	if err := app.handleMail(ctx, raw, in, ticket.Source{Mailbox: "INBOX"}); err != nil {
		t.Fatal(err)
	}
	if err := app.jobs.RunNow(context.Background(), "sla_check_metrics", app.watchSLA); err != nil {
		t.Fatal(err)
	}
	get(t, "http://"+app.AdminAddr()+"/healthz")
	out := get(t, "http://"+app.AdminAddr()+"/metrics")
	fams := map[string]bool{}
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) >= 3 && f[0] == "#" && f[1] == "TYPE" {
			fams[f[2]] = true
		}
	}
	// Gauges shown only once they have a value (the last successful
	// fetch) are declared by the state collector.
	ch := make(chan *prometheus.Desc, 32)
	(&stateCollector{a: app}).Describe(ch)
	close(ch)
	for d := range ch {
		if m := regexp.MustCompile(`fqName: "([a-z_]+)"`).FindStringSubmatch(d.String()); m != nil {
			fams[m[1]] = true
		}
	}
	if !fams["mesa_imap_connected"] || !fams["mesa_outbox_events_total"] {
		t.Fatalf("mesa's /metrics lacks the poller's and worker's metrics:\n%s", out)
	}
	return fams
}
