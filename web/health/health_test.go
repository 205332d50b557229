package health_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/web/health"
)

type outbox struct {
	oldest time.Time
	err    error
}

func (o outbox) OutboxStats(context.Context, time.Time) (map[string]int, time.Time, error) {
	return nil, o.oldest, o.err
}

func TestCheck(t *testing.T) {
	now := time.Date(2026, 3, 24, 10, 0, 0, 0, time.UTC)
	intake := func(st health.Intake) []func() health.Intake {
		return []func() health.Intake{func() health.Intake { return st }}
	}
	for _, tc := range []struct {
		name string
		p    health.Policy
		want string // "" ready, else a substring of the error
	}{
		{"nothing configured", health.Policy{}, ""},
		{"outbox empty", health.Policy{Outbox: outbox{}}, ""},
		{"outbox due 29 min", health.Policy{Outbox: outbox{oldest: now.Add(-29 * time.Minute)}}, ""},
		{"outbox due 31 min", health.Policy{Outbox: outbox{oldest: now.Add(-31 * time.Minute)}}, "outbox: mail due since 2026-03-24T09:29:00Z is not sent"},
		{"outbox limit set", health.Policy{Outbox: outbox{oldest: now.Add(-6 * time.Minute)}, MaxOutboxDelay: 5 * time.Minute}, "outbox: mail due"},
		{"outbox unreadable", health.Policy{Outbox: outbox{err: errors.New("db down")}}, "db down"},
		{"intake never reached", health.Policy{Intakes: intake(health.Intake{LastError: "dial tcp: connection refused"})},
			"imap: the mailbox has never been reached: dial tcp: connection refused"},
		{"intake not tried yet", health.Policy{Intakes: intake(health.Intake{Name: "ti"})}, "imap ti: the mailbox has never been reached: no attempt reported yet"},
		{"one of two mailboxes never reached", health.Policy{Intakes: append(intake(health.Intake{Name: "ti", LastSuccess: now}),
			intake(health.Intake{Name: "operaciones", LastError: "login failed"})...)}, "imap operaciones: the mailbox has never been reached: login failed"},
		{"intake fetched 9 min ago", health.Policy{Intakes: intake(health.Intake{LastSuccess: now.Add(-9 * time.Minute)})}, ""},
		{"intake silent 11 min", health.Policy{Intakes: intake(health.Intake{LastSuccess: now.Add(-11 * time.Minute), LastError: "eof"})},
			"imap: no successful fetch since 2026-03-24T09:49:00Z: eof"},
		{"intake named", health.Policy{Intakes: intake(health.Intake{Name: "soporte", NeedsReauthorization: true, LastError: "invalid_grant"})},
			"imap soporte: the mailbox needs re-authorisation: invalid_grant"},
		{"reauthorisation beats a recent fetch", health.Policy{Intakes: intake(health.Intake{LastSuccess: now, NeedsReauthorization: true})},
			"re-authorisation"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.p.Now = func() time.Time { return now }
			err := tc.p.Check(context.Background())
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("got %v, want ready", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
}

// TestReport: every check has a status word; the details are in Errs only.
func TestReport(t *testing.T) {
	now := time.Date(2026, 3, 24, 10, 0, 0, 0, time.UTC)
	p := health.Policy{Now: func() time.Time { return now }, Outbox: outbox{oldest: now.Add(-time.Hour)},
		Intakes: []func() health.Intake{
			func() health.Intake { return health.Intake{Name: "soporte", LastSuccess: now} },
			func() health.Intake {
				return health.Intake{Name: "compras", NeedsReauthorization: true, LastError: "invalid_grant: AADSTS70008"}
			},
		}}
	r := p.Report(context.Background())
	want := map[string]string{"outbox": "stuck", "imap soporte": "ok", "imap compras": "reauthorize"}
	if len(r.Checks) != len(want) {
		t.Errorf("got checks %v, want %v", r.Checks, want)
	}
	for k, v := range want {
		if r.Checks[k] != v {
			t.Errorf("check %q: got %q, want %q", k, r.Checks[k], v)
		}
	}
	if r.Ready() || len(r.Errs) != 2 || !strings.Contains(errors.Join(r.Errs...).Error(), "AADSTS70008") {
		t.Errorf("got ready %v, errs %v; want not ready with 2 errors, the grant's among them", r.Ready(), r.Errs)
	}
	if r := (health.Policy{Outbox: outbox{err: errors.New("db down")}}).Report(context.Background()); r.Checks["outbox"] != "error" {
		t.Errorf("unreadable outbox: got %v, want error", r.Checks)
	}
}
