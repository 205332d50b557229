package desk

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/mesadeservicios/mesa/internal/i18n"
	"github.com/mesadeservicios/mesa/ticket"
)

// Operator alerts (guide 4.9.1: the process owner; and people with role
// operator): the conditions that stop the desk without anybody noticing —
// a mailbox that needs re-authorisation or cannot be reached, a client
// secret about to expire, outgoing mail that keeps failing, mail held for
// a staff address — are mailed once per episode, through the one queue,
// and a "resolved" mail follows when the condition clears. Quarantined
// messages and mail held for requesters are events, not conditions: they
// are listed in at most one mail per BatchEvery. OperatorAlerts evaluates
// everything from the store, so any instance may run it (the job runs it
// once a minute on one of them).

// OperatorStore is what the operator alerts need from storage.
type OperatorStore interface {
	MailboxStatuses(ctx context.Context) (map[string]ticket.MailboxStatus, error)
	Conditions(ctx context.Context) ([]ticket.Condition, error)
	SaveCondition(ctx context.Context, c ticket.Condition) error
	FailingMail(ctx context.Context, since time.Time, limit int) ([]*ticket.Outgoing, error)
	HeldMailAfter(ctx context.Context, after int64, limit int) ([]*ticket.Outgoing, error)
	QuarantinedAfter(ctx context.Context, after int64, limit int) ([]ticket.QuarantinedMessage, error)
}

// OperatorOptions configure the operator alerts; zero fields take the
// defaults in brackets.
type OperatorOptions struct {
	Mailboxes          []OperatorMailbox
	UnreachableAfter   time.Duration // a mailbox failing this long [10m]
	OutboxFailingAfter time.Duration // a mail failing this long after it was queued [15m]
	BatchEvery         time.Duration // quarantined messages and requesters' held mail [1h]
}

// OperatorMailbox is a configured mailbox, as the alerts see it.
type OperatorMailbox struct {
	Name string
	// SecretExpires is the day the OAuth2 client secret or certificate
	// expires; zero: not configured.
	SecretExpires time.Time
}

// Secret expiry warnings, in days before the date (each once).
var secretStages = []int{1, 7, 30}

// OperatorReport is what one run of the operator alerts did.
type OperatorReport struct{ Raised, Resolved, Batched int }

// active is a condition that holds now, with the alert that tells it.
type active struct {
	group string
	n     ticket.OperatorNotice
}

// OperatorAlerts raises the alert of every condition that holds and was
// not yet told, tells the resolution of every told condition that no
// longer holds, and mails the batch of quarantined messages and
// requesters' held mail when BatchEvery has passed since the last one.
func (d *Desk) OperatorAlerts(ctx context.Context) (OperatorReport, error) {
	var rep OperatorReport
	o := d.cfg.Operators
	now := d.now().UTC()
	people, err := d.operators(ctx)
	if err != nil || len(people) == 0 {
		if err == nil {
			d.log.Warn("no person with role owner or operator: operator alerts go to nobody")
		}
		return rep, err
	}
	conds := map[string]ticket.Condition{}
	all, err := d.store.Conditions(ctx)
	if err != nil {
		return rep, err
	}
	for _, c := range all {
		conds[c.Key] = c
	}
	holding, err := d.currentConditions(ctx, now, o)
	if err != nil {
		return rep, err
	}
	groupsActive := map[string]bool{}
	for _, a := range holding {
		groupsActive[a.group] = true
	}
	keys := make([]string, 0, len(holding))
	for k := range holding {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		a := holding[key]
		c, seen := conds[key]
		if seen && c.Open {
			continue // told already: once per episode
		}
		c = ticket.Condition{Key: key, Group: a.group, Episode: c.Episode + 1, Open: true, Detail: a.n.Detail, RaisedAt: now}
		err := d.store.InTx(ctx, func(ctx context.Context) error {
			if err := d.store.SaveCondition(ctx, c); err != nil {
				return err
			}
			return d.tellOperators(ctx, people, fmt.Sprintf("op:%s:%d", key, c.Episode), a.n, now)
		})
		if err != nil {
			return rep, err
		}
		d.log.Error("ALERT: operator alert raised", "condition", key, "detail", a.n.Detail)
		rep.Raised++
	}
	for _, c := range all {
		if !c.Open || holding[c.Key].group != "" || c.Key == ticket.CondBatch {
			continue
		}
		cleared := now
		c.Open, c.ClearedAt = false, &cleared
		superseded := groupsActive[c.Group] // a secret's 7-day warning replaces its 30-day one
		err := d.store.InTx(ctx, func(ctx context.Context) error {
			if err := d.store.SaveCondition(ctx, c); err != nil || superseded {
				return err
			}
			kind, about, _ := strings.Cut(c.Key, ":")
			about, _, _ = strings.Cut(about, ":")
			return d.tellOperators(ctx, people, fmt.Sprintf("op-resolved:%s:%d", c.Key, c.Episode),
				ticket.OperatorNotice{Condition: kind, About: about, Since: c.RaisedAt, Detail: c.Detail, Resolved: true}, now)
		})
		if err != nil {
			return rep, err
		}
		if !superseded {
			d.log.Info("operator alert resolved", "condition", c.Key)
			rep.Resolved++
		}
	}
	n, err := d.operatorBatch(ctx, people, conds[ticket.CondBatch], now, o)
	rep.Batched = n
	return rep, err
}

// operators are the addresses of the owners and operators.
func (d *Desk) operators(ctx context.Context) ([]string, error) {
	var out []string
	for _, role := range []ticket.Role{ticket.RoleOwner, ticket.RoleOperator} {
		ps, err := d.store.PeopleWithRole(ctx, role)
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			out = append(out, p.Email)
		}
	}
	return out, nil
}

// currentConditions are the conditions that hold now, by key.
func (d *Desk) currentConditions(ctx context.Context, now time.Time, o OperatorOptions) (map[string]active, error) {
	holding := map[string]active{}
	statuses, err := d.store.MailboxStatuses(ctx)
	if err != nil {
		return nil, err
	}
	for _, mb := range o.Mailboxes {
		st, ok := statuses[mb.Name]
		switch {
		case !ok:
		case st.NeedsReauthorization:
			holding[ticket.CondReauth+":"+mb.Name] = active{ticket.CondReauth + ":" + mb.Name,
				ticket.OperatorNotice{Condition: ticket.CondReauth, About: mb.Name, Since: st.FailingSince, Detail: st.LastError}}
		case !st.FailingSince.IsZero() && now.Sub(st.FailingSince) >= o.UnreachableAfter:
			holding[ticket.CondUnreachable+":"+mb.Name] = active{ticket.CondUnreachable + ":" + mb.Name,
				ticket.OperatorNotice{Condition: ticket.CondUnreachable, About: mb.Name, Since: st.FailingSince, Detail: st.LastError}}
		}
		if mb.SecretExpires.IsZero() {
			continue
		}
		days := int(math.Ceil(mb.SecretExpires.Sub(now).Hours() / 24))
		for _, stage := range secretStages {
			if days <= stage {
				key := fmt.Sprintf("%s:%s:%s:%d", ticket.CondSecret, mb.Name, mb.SecretExpires.Format(time.DateOnly), stage)
				holding[key] = active{ticket.CondSecret + ":" + mb.Name, ticket.OperatorNotice{Condition: ticket.CondSecret,
					About: mb.Name, Days: days, Expires: mb.SecretExpires, Detail: mb.SecretExpires.Format(time.DateOnly)}}
				break
			}
		}
	}
	failing, err := d.store.FailingMail(ctx, now.Add(-o.OutboxFailingAfter), 1)
	if err != nil {
		return nil, err
	}
	if len(failing) > 0 && !isOperatorKey(failing[0].DedupeKey) {
		holding[ticket.CondOutbox] = active{ticket.CondOutbox, ticket.OperatorNotice{Condition: ticket.CondOutbox,
			Since: failing[0].CreatedAt, Detail: failing[0].LastError}}
	}
	held, err := d.store.HeldMailAfter(ctx, 0, 1000)
	if err != nil {
		return nil, err
	}
	for _, m := range held {
		if isOperatorKey(m.DedupeKey) || len(m.To) == 0 || !d.isStaff(ctx, m.To[0]) {
			continue // an alert itself, or a requester's: the hourly batch lists those
		}
		key := ticket.CondHeld + ":" + m.To[0]
		if _, ok := holding[key]; !ok {
			holding[key] = active{key, ticket.OperatorNotice{Condition: ticket.CondHeld, About: m.To[0], Since: m.CreatedAt,
				Detail: m.Subject}}
		}
	}
	return holding, nil
}

// batchMark is how far the batches have listed, kept in the batch
// condition's detail.
type batchMark struct {
	Message int64 `json:"message"`
	Outbox  int64 `json:"outbox"`
}

// operatorBatch mails the quarantined messages and the requesters' held
// mail that no batch listed yet, at most once per BatchEvery.
func (d *Desk) operatorBatch(ctx context.Context, people []string, last ticket.Condition, now time.Time, o OperatorOptions) (int, error) {
	var mark batchMark
	if last.Key != "" {
		json.Unmarshal([]byte(last.Detail), &mark)
		if now.Sub(last.RaisedAt) < o.BatchEvery {
			return 0, nil
		}
	}
	quarantined, err := d.store.QuarantinedAfter(ctx, mark.Message, 200)
	if err != nil {
		return 0, err
	}
	held, err := d.store.HeldMailAfter(ctx, mark.Outbox, 200)
	if err != nil {
		return 0, err
	}
	var items []string
	next := mark
	for _, m := range quarantined {
		items = append(items, fmt.Sprintf("%s: %s — %q", d.i18nWord("quarantined"), m.From, m.Subject))
		next.Message = max(next.Message, m.ID)
	}
	for _, m := range held {
		next.Outbox = max(next.Outbox, m.ID)
		if isOperatorKey(m.DedupeKey) || len(m.To) == 0 || d.isStaff(ctx, m.To[0]) {
			continue // staff addresses are alerted at once
		}
		items = append(items, fmt.Sprintf("%s: %s — %q", d.i18nWord("held"), m.To[0], m.Subject))
	}
	if len(items) == 0 {
		return 0, nil
	}
	b, _ := json.Marshal(next)
	c := ticket.Condition{Key: ticket.CondBatch, Group: ticket.CondBatch, Episode: last.Episode + 1, Detail: string(b), RaisedAt: now}
	err = d.store.InTx(ctx, func(ctx context.Context) error {
		if err := d.store.SaveCondition(ctx, c); err != nil {
			return err
		}
		return d.tellOperators(ctx, people, fmt.Sprintf("op:batch:%d", c.Episode),
			ticket.OperatorNotice{Condition: ticket.CondBatch, Since: last.RaisedAt, Items: items}, now)
	})
	if err != nil {
		return 0, err
	}
	return len(items), nil
}

// i18nWord names a kind of batch item (quarantined, held) in the desk's
// language.
func (d *Desk) i18nWord(what string) string {
	return i18n.T(d.cfg.Language, "desk.operator."+what)
}

// tellOperators queues one alert to each operator under key.
func (d *Desk) tellOperators(ctx context.Context, people []string, key string, p ticket.OperatorNotice, now time.Time) error {
	for _, to := range people {
		n := &ticket.Notice{To: to, Lang: d.cfg.Language, At: now, DedupeKey: key + ":" + to, Payload: p}
		if _, _, err := d.queue(ctx, n); err != nil {
			return err
		}
	}
	return nil
}

// isOperatorKey tells an operator alert's outbox row: alerts about alerts
// would never end.
func isOperatorKey(key string) bool {
	return strings.HasPrefix(key, "op:") || strings.HasPrefix(key, "op-resolved:")
}
