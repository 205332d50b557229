package mailin

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"mime"
	"net"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-message/charset"
	"golang.org/x/oauth2"

	"github.com/mesadeservicios/mesa/config"
	"github.com/mesadeservicios/mesa/ticket"
)

// State is the intake's bookkeeping in the store.
type State interface {
	// Cursor returns how far mailbox was read under uidValidity.
	Cursor(ctx context.Context, mailbox string, uidValidity uint32) (ticket.Cursor, error)
	// BeginAttempt records, committed, that processing of a message starts,
	// before it is parsed, and returns how many earlier starts ended neither
	// with FinishAttempt nor with RecordFailure (the process died on it).
	BeginAttempt(ctx context.Context, mailbox string, uidValidity, uid uint32, now time.Time) (int, error)
	// FinishAttempt forgets the attempts of a message that was handled.
	FinishAttempt(ctx context.Context, mailbox string, uidValidity, uid uint32) error
	// RecordFailure counts a failed attempt and returns the count so far.
	RecordFailure(ctx context.Context, mailbox string, uidValidity, uid uint32, reason string, now time.Time) (int, error)
	// SaveCursor records how far the mailbox was read; it never moves back.
	SaveCursor(ctx context.Context, c ticket.Cursor) error
}

// Handler processes one message. It must commit everything the message
// causes before it returns nil: only then is the message moved out of the
// mailbox. Processing a message that was already
// processed must change nothing and return nil.
type Handler func(ctx context.Context, raw []byte, in *ticket.Inbound, src ticket.Source) error

// Quarantiner keeps a message that failed too often, with the reason, so a
// person can review it; it should store the raw bytes.
type Quarantiner func(ctx context.Context, raw []byte, in *ticket.Inbound, src ticket.Source, reason string) error

// Options configure a Poller; zero fields take the defaults in brackets.
type Options struct {
	Addr      string      // host:port
	TLS       string      // implicit, starttls or none
	TLSConfig *tls.Config // nil: system roots, ServerName from Addr
	Username  string
	Password  string
	// Tokens, when set, authenticates with XOAUTH2 using its access tokens
	// instead of LOGIN with Password.
	Tokens oauth2.TokenSource

	// Name is the mailbox's name in the store — its cursor, its attempts —
	// and the Source.Mailbox of its messages [Mailbox]: two mailboxes
	// with the same folder (two users' INBOX) need different names.
	Name string

	// The mailboxes' defaults are config.Default()'s imap section.
	Mailbox           string // [INBOX]
	ProcessedMailbox  string // [Procesados] created if missing
	QuarantineMailbox string // [Cuarentena] created if missing

	PollInterval time.Duration // without IDLE [config's imap.poll_interval, 30s]
	// ReadTimeout is the longest silence from the server before the
	// connection is declared dead [30s, go-imap's own response timeout].
	ReadTimeout time.Duration
	// IdleRestart is how often IDLE is re-issued; it must be shorter than
	// ReadTimeout so that a healthy idle connection is never silent that
	// long [25s; always below ReadTimeout].
	IdleRestart   time.Duration
	SweepInterval time.Duration // full reconcile of the mailbox [5m]
	DialTimeout   time.Duration // connect and greeting [30s]
	MaxBackoff    time.Duration // reconnect delay cap [5m]
	MaxSize       int64         // larger messages: header only, ticket stub [config's limits.max_message_bytes, 35 MiB]
	MaxAttempts   int           // failures before quarantine [config's limits.max_attempts, 5]
	// MaxStarts is how many starts on one message may end without an
	// outcome (the process died parsing or handling it) before the message
	// is quarantined unparsed [3].
	MaxStarts int

	// Report, when set, receives the stats whenever the mailbox is
	// reached (selected, then after every fetch) and whenever a session
	// fails, on the poller's goroutine: the daemon shares them through the
	// store.
	Report func(Stats)

	State      State
	Handle     Handler
	Quarantine Quarantiner
	Logger     *slog.Logger     // [slog.Default()]
	Now        func() time.Time // [time.Now]
}

// Poller reads a mailbox: IDLE when the server has it, polling otherwise,
// a full reconcile sweep every SweepInterval, reconnecting with exponential
// backoff and jitter. Every message is handled exactly once: a message is
// moved to the processed folder only after the handler committed it, and a
// message seen again (a failed move, a crash, a UIDVALIDITY change) is
// recognised by its dedupe key.
type Poller struct {
	o   Options
	log *slog.Logger

	mu       sync.Mutex
	alerted  map[imap.UID]bool // moves already reported as failing
	lastOK   time.Time
	stats    Stats
	uidvalid uint32
}

// Stats counts what a poller did since it started.
type Stats struct {
	Handled, Failed, Quarantined, MoveFailures, Reconnects int
	LastSuccess                                            time.Time
	// FailingSince is when the sessions started failing without a
	// successful fetch since (zero while fetching works).
	FailingSince time.Time
	LastError    string
	// NeedsReauthorization is set when the identity provider refused the
	// OAuth2 grant; the poller keeps trying slowly, and the rest of the
	// daemon runs on.
	NeedsReauthorization bool
}

// NewPoller checks opts and fills in defaults.
func NewPoller(o Options) (*Poller, error) {
	if o.Addr == "" || o.Handle == nil || o.State == nil {
		return nil, errors.New("mailin: poller needs Addr, Handle and State")
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	cfg := config.Default() // the one owner of every default value
	if o.Mailbox == "" {
		o.Mailbox = cfg.IMAP.Mailbox
	}
	if o.ProcessedMailbox == "" {
		o.ProcessedMailbox = cfg.IMAP.ProcessedMailbox
	}
	if o.QuarantineMailbox == "" {
		o.QuarantineMailbox = cfg.IMAP.QuarantineMailbox
	}
	if o.Name == "" {
		o.Name = o.Mailbox
	}
	def(&o.PollInterval, cfg.IMAP.PollInterval)
	def(&o.ReadTimeout, 30*time.Second)
	def(&o.IdleRestart, 25*time.Second)
	if o.IdleRestart >= o.ReadTimeout {
		o.IdleRestart = o.ReadTimeout - o.ReadTimeout/6
	}
	def(&o.SweepInterval, 5*time.Minute)
	def(&o.DialTimeout, 30*time.Second)
	def(&o.MaxBackoff, 5*time.Minute)
	if o.MaxSize <= 0 {
		o.MaxSize = cfg.Limits.MaxMessageBytes
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = cfg.Limits.MaxAttempts
	}
	if o.MaxStarts <= 0 {
		o.MaxStarts = 3
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	switch o.TLS {
	case "implicit", "starttls", "none":
	default:
		return nil, fmt.Errorf("mailin: tls must be implicit, starttls or none, got %q", o.TLS)
	}
	return &Poller{o: o, log: o.Logger.With("mailbox", o.Name), alerted: map[imap.UID]bool{}}, nil
}

// Stats returns a copy of the counters.
func (p *Poller) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

func (p *Poller) count(f func(s *Stats)) {
	p.mu.Lock()
	f(&p.stats)
	p.mu.Unlock()
}

// reached records that the mailbox answered and reports it.
func (p *Poller) reached() {
	p.mu.Lock()
	p.lastOK = p.o.Now()
	p.stats.LastSuccess, p.stats.LastError, p.stats.NeedsReauthorization, p.stats.FailingSince = p.lastOK, "", false, time.Time{}
	p.mu.Unlock()
	p.report()
}

func (p *Poller) report() {
	if p.o.Report != nil {
		p.o.Report(p.Stats())
	}
}

// Run reads the mailbox until ctx is done, reconnecting after any error.
func (p *Poller) Run(ctx context.Context) error {
	backoff := time.Second
	for {
		started := p.o.Now()
		err := p.session(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		reauth := errors.Is(err, ErrNeedsReauthorization)
		p.count(func(s *Stats) {
			s.LastError, s.NeedsReauthorization = err.Error(), reauth
			if s.FailingSince.IsZero() {
				s.FailingSince = started
			}
		})
		p.report()
		if reauth {
			p.log.Error("ALERT: the mailbox needs re-authorisation; intake is stopped until an operator renews the OAuth2 grant",
				"err", err)
			backoff = p.o.MaxBackoff
		}
		if p.o.Now().Sub(started) > time.Minute {
			backoff = time.Second // the session worked for a while: start over
		}
		p.count(func(s *Stats) { s.Reconnects++ })
		wait := backoff/2 + rand.N(backoff/2+1) // jitter: [backoff/2, backoff]
		p.log.Warn("imap session ended; reconnecting", "err", err, "in", wait.Round(time.Millisecond))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		backoff = min(backoff*2, p.o.MaxBackoff)
	}
}

// deadlineConn bounds the silence the IMAP client waits through. go-imap
// sets no deadline between responses and a 30 s one while it waits for a
// response; both become ReadTimeout, so that a connection that went silent
// without closing (a NAT or firewall drop during IDLE) is noticed. Longer
// deadlines, for large literals, are left alone.
type deadlineConn struct {
	net.Conn
	idle time.Duration
}

func (c deadlineConn) SetReadDeadline(t time.Time) error {
	now := time.Now()
	if t.IsZero() || t.Sub(now) <= 31*time.Second && t.Sub(now) > c.idle {
		t = now.Add(c.idle)
	}
	return c.Conn.SetReadDeadline(t)
}

func (p *Poller) dial(ctx context.Context, wake chan<- struct{}) (*imapclient.Client, error) {
	d := &net.Dialer{Timeout: p.o.DialTimeout, KeepAlive: 30 * time.Second}
	raw, err := d.DialContext(ctx, "tcp", p.o.Addr)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", p.o.Addr, err)
	}
	conn := net.Conn(deadlineConn{raw, p.o.ReadTimeout})
	conn.SetReadDeadline(time.Now().Add(p.o.DialTimeout))
	opts := &imapclient.Options{
		WordDecoder: &mime.WordDecoder{CharsetReader: charset.Reader},
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(d *imapclient.UnilateralDataMailbox) {
				if d.NumMessages != nil {
					select {
					case wake <- struct{}{}:
					default:
					}
				}
			},
		},
	}
	tlsConf := p.o.TLSConfig
	if tlsConf == nil {
		host, _, _ := net.SplitHostPort(p.o.Addr)
		tlsConf = &tls.Config{ServerName: host}
	}
	opts.TLSConfig = tlsConf
	var c *imapclient.Client
	switch p.o.TLS {
	case "implicit":
		tc := tls.Client(conn, tlsConf)
		if err := tc.HandshakeContext(ctx); err != nil {
			raw.Close()
			return nil, fmt.Errorf("tls handshake with %s: %w", p.o.Addr, err)
		}
		c = imapclient.New(tc, opts)
	case "starttls":
		c, err = imapclient.NewStartTLS(conn, opts)
		if err != nil {
			raw.Close()
			return nil, fmt.Errorf("starttls with %s: %w", p.o.Addr, err)
		}
	default:
		c = imapclient.New(conn, opts)
	}
	if err := c.WaitGreeting(); err != nil {
		c.Close()
		return nil, fmt.Errorf("greeting from %s: %w", p.o.Addr, err)
	}
	if p.o.Tokens != nil {
		tok, err := p.o.Tokens.Token()
		if err != nil {
			c.Close()
			if isInvalidGrant(err) {
				return nil, fmt.Errorf("%w: %v", ErrNeedsReauthorization, err)
			}
			return nil, fmt.Errorf("getting an OAuth2 token: %w", err)
		}
		if err := c.Authenticate(&xoauth2{user: p.o.Username, token: tok.AccessToken}); err != nil {
			c.Close()
			return nil, fmt.Errorf("XOAUTH2 as %s: %w", p.o.Username, err)
		}
		return c, nil
	}
	if err := c.Login(p.o.Username, p.o.Password).Wait(); err != nil {
		c.Close()
		return nil, fmt.Errorf("login as %s: %w", p.o.Username, err)
	}
	return c, nil
}

// session is one connection: select, catch up, then wait for mail.
func (p *Poller) session(ctx context.Context) error {
	wake := make(chan struct{}, 1)
	c, err := p.dial(ctx, wake)
	if err != nil {
		return err
	}
	defer c.Close()
	for _, mb := range []string{p.o.ProcessedMailbox, p.o.QuarantineMailbox} {
		if err := ensureMailbox(c, mb); err != nil {
			return err
		}
	}
	sel, err := c.Select(p.o.Mailbox, nil).Wait()
	if err != nil {
		return fmt.Errorf("selecting %s: %w", p.o.Mailbox, err)
	}
	if p.uidvalid != 0 && p.uidvalid != sel.UIDValidity {
		p.log.Warn("uidvalidity changed: rescanning the mailbox", "old", p.uidvalid, "new", sel.UIDValidity)
	}
	p.uidvalid = sel.UIDValidity
	p.reached()
	idle := c.Caps().Has(imap.CapIdle)
	var lastSweep time.Time
	for {
		full := p.o.Now().Sub(lastSweep) >= p.o.SweepInterval
		if err := p.catchUp(ctx, c, sel.UIDValidity, full); err != nil {
			return err
		}
		if full {
			lastSweep = p.o.Now()
		}
		p.reached()
		wait := min(p.o.SweepInterval-p.o.Now().Sub(lastSweep), p.o.IdleRestart)
		if !idle {
			wait = min(wait, p.o.PollInterval)
		}
		if err := p.wait(ctx, c, idle, wake, max(wait, 10*time.Millisecond)); err != nil {
			return err
		}
	}
}

// wait returns when new mail may have arrived, when d has passed, or with
// the error that ended the connection.
func (p *Poller) wait(ctx context.Context, c *imapclient.Client, idle bool, wake <-chan struct{}, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	if !idle {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-c.Closed():
			return errors.New("connection closed")
		case <-wake:
		case <-timer.C:
		}
		return c.Noop().Wait()
	}
	cmd, err := c.Idle()
	if err != nil {
		return fmt.Errorf("idle: %w", err)
	}
	select {
	case <-ctx.Done():
	case <-c.Closed():
	case <-wake:
	case <-timer.C:
	}
	if err := cmd.Close(); err != nil {
		return fmt.Errorf("ending idle: %w", err)
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("idle: %w", err)
	}
	return ctx.Err()
}

func ensureMailbox(c *imapclient.Client, name string) error {
	if _, err := c.Status(name, &imap.StatusOptions{NumMessages: true}).Wait(); err == nil {
		return nil
	}
	if err := c.Create(name, nil).Wait(); err != nil {
		// Another client may have created it in between.
		if _, err2 := c.Status(name, &imap.StatusOptions{NumMessages: true}).Wait(); err2 != nil {
			return fmt.Errorf("creating mailbox %s: %w", name, err)
		}
	}
	return nil
}

// catchUp handles the messages after the cursor, or every message of the
// mailbox when full is set (the reconcile sweep: messages whose move failed,
// messages waiting for another attempt, and a reset UIDVALIDITY).
func (p *Poller) catchUp(ctx context.Context, c *imapclient.Client, uidValidity uint32, full bool) error {
	from := imap.UID(1)
	if !full {
		cur, err := p.o.State.Cursor(ctx, p.o.Name, uidValidity)
		if err != nil {
			return fmt.Errorf("reading cursor: %w", err)
		}
		from = imap.UID(cur.LastUID + 1)
	}
	var set imap.UIDSet
	set.AddRange(from, 0)
	sd, err := c.UIDSearch(&imap.SearchCriteria{UID: []imap.UIDSet{set}, NotFlag: []imap.Flag{imap.FlagDeleted}}, nil).Wait()
	if err != nil {
		return fmt.Errorf("searching %s: %w", p.o.Mailbox, err)
	}
	uids := sd.AllUIDs()
	uids = slices.DeleteFunc(uids, func(u imap.UID) bool { return u < from }) // "n:*" matches the last UID (RFC 9051 §6.4.4)
	slices.Sort(uids)
	if len(uids) == 0 {
		return nil
	}
	metas, err := c.Fetch(imap.UIDSetNum(uids...), &imap.FetchOptions{UID: true, Flags: true, RFC822Size: true, InternalDate: true}).Collect()
	if err != nil {
		return fmt.Errorf("fetching sizes: %w", err)
	}
	slices.SortFunc(metas, func(a, b *imapclient.FetchMessageBuffer) int { return int(a.UID) - int(b.UID) })
	metas = slices.DeleteFunc(metas, func(m *imapclient.FetchMessageBuffer) bool {
		return slices.Contains(m.Flags, imap.FlagDeleted) // another client is deleting it
	})
	// Bodies are fetched in batches of up to batchMessages messages or
	// batchBytes bytes (a large message comes alone), and the batch's
	// committed messages are moved with one command: two round trips per
	// batch instead of two per message.
	for len(metas) > 0 {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		n, bytes := 0, int64(0)
		for n < len(metas) && n < batchMessages && (n == 0 || bytes+metas[n].RFC822Size <= batchBytes) {
			bytes += metas[n].RFC822Size
			n++
		}
		if err := p.batch(ctx, c, uidValidity, metas[:n]); err != nil {
			return err
		}
		metas = metas[n:]
	}
	return nil
}

const (
	batchMessages = 100
	batchBytes    = 16 << 20
)

// batch fetches and handles some messages. Only connection errors are
// returned; a message that cannot be handled is counted, retried in later
// sweeps and quarantined after MaxAttempts, never blocking the ones after it.
func (p *Poller) batch(ctx context.Context, c *imapclient.Client, uidValidity uint32, metas []*imapclient.FetchMessageBuffer) error {
	whole := &imap.FetchItemBodySection{Peek: true} // BODY.PEEK[]: reading does not set \Seen
	header := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, Peek: true}
	var small, large imap.UIDSet
	for _, m := range metas {
		if m.RFC822Size > p.o.MaxSize {
			large.AddNum(m.UID)
		} else {
			small.AddNum(m.UID)
		}
	}
	bodies := map[imap.UID][]byte{}
	for _, f := range []struct {
		set     imap.UIDSet
		section *imap.FetchItemBodySection
	}{{small, whole}, {large, header}} {
		if len(f.set) == 0 {
			continue
		}
		if err := fetchBodies(c, f.set, f.section, bodies); err != nil {
			return fmt.Errorf("fetching %d messages: %w", len(metas), err)
		}
	}
	var done, quarantined imap.UIDSet
	// begun is the start of the next message, already recorded and
	// committed in the transaction of the one before (FinishAndBegin).
	var begun struct {
		uid  imap.UID
		died int
	}
	chain, _ := p.o.State.(attemptChainer)
	for i, meta := range metas {
		raw, ok := bodies[meta.UID]
		if !ok {
			continue // expunged meanwhile
		}
		if ctx.Err() != nil {
			// Shutting down: the start the message before committed for
			// this one is taken back, since it was never handled.
			if begun.uid == meta.UID {
				abandonAttempt(ctx, p.o.State, p.log, p.o.Name, uidValidity, uint32(meta.UID))
			}
			break
		}
		delete(bodies, meta.UID) // let a large body go as soon as it is handled
		src := ticket.Source{Mailbox: p.o.Name, UIDValidity: uidValidity, UID: uint32(meta.UID),
			ReceivedAt: meta.InternalDate, Size: meta.RFC822Size, Truncated: meta.RFC822Size > p.o.MaxSize}
		// The attempt is committed before the message is parsed: a message
		// that kills the process is quarantined after MaxStarts starts,
		// unparsed, instead of killing every start after it.
		died, err := begun.died, error(nil)
		if begun.uid != meta.UID {
			died, err = p.o.State.BeginAttempt(ctx, p.o.Name, uidValidity, uint32(meta.UID), p.o.Now())
		}
		begun.uid = 0
		if err != nil {
			p.log.Error("cannot record the attempt; the message waits for the next pass", "imap_uid", uint32(meta.UID), "err", err)
			continue
		}
		if died >= p.o.MaxStarts {
			reason := fmt.Sprintf("processing started %d times without finishing (the process stopped while parsing or handling it); kept unparsed", died)
			in := &ticket.Inbound{Problems: []string{"not parsed: " + reason}}
			if p.o.Quarantine != nil {
				if qerr := p.quarantine(ctx, raw, in, src, reason); qerr != nil {
					p.log.Error("cannot record quarantine; the message is still moved to the quarantine folder", "imap_uid", uint32(meta.UID), "err", qerr)
				}
			}
			p.log.Error("message quarantined", "imap_uid", uint32(meta.UID), "reason", reason, "folder", p.o.QuarantineMailbox)
			quarantined.AddNum(meta.UID)
			continue
		}
		in, _ := Parse(raw) // never fails on content
		log := p.log.With("imap_uid", uint32(meta.UID), "message_id", in.MessageID)
		// The next message of the batch, whose start the transaction of
		// this one records when the store runs transactions.
		var next imap.UID
		if _, tx := p.o.State.(txRunner); tx && chain != nil {
			for _, m := range metas[i+1:] {
				if _, ok := bodies[m.UID]; ok {
					next = m.UID
					break
				}
			}
		}
		err = handleThenFinish(ctx, p.o.State, log,
			func(ctx context.Context) error { return p.handle(ctx, raw, in, src) },
			func(ctx context.Context) error {
				if next == 0 || ctx.Err() != nil {
					return p.o.State.FinishAttempt(ctx, p.o.Name, uidValidity, uint32(meta.UID))
				}
				d, err := chain.FinishAndBegin(ctx, p.o.Name, uidValidity, uint32(meta.UID), uint32(next), p.o.Now())
				if err == nil {
					begun.uid, begun.died = next, d // kept only once committed: see below
				}
				return err
			})
		if err != nil {
			begun.uid = 0 // rolled back with the transaction: the next one begins on its own
		}
		if err == nil {
			p.count(func(s *Stats) { s.Handled++ })
			done.AddNum(meta.UID)
			continue
		}
		if ctx.Err() != nil {
			// Interrupted by a shutdown, not failed: no failure is counted
			// and its start is taken back (a restart or a deploy must not
			// quarantine the message it happened to be handling).
			abandonAttempt(ctx, p.o.State, log, p.o.Name, uidValidity, uint32(meta.UID))
			break
		}
		p.count(func(s *Stats) { s.Failed++ })
		n, rerr := p.o.State.RecordFailure(ctx, p.o.Name, uidValidity, uint32(meta.UID), err.Error(), p.o.Now())
		if rerr != nil {
			log.Error("cannot record failure", "err", rerr)
		}
		log.Error("message failed", "err", err, "attempt", n, "max_attempts", p.o.MaxAttempts)
		if n < p.o.MaxAttempts {
			continue
		}
		reason := fmt.Sprintf("failed %d times: %v", n, err)
		if p.o.Quarantine != nil {
			if qerr := p.quarantine(ctx, raw, in, src, reason); qerr != nil {
				log.Error("cannot record quarantine; the message is still moved to the quarantine folder", "err", qerr)
			}
		}
		log.Error("message quarantined", "reason", reason, "folder", p.o.QuarantineMailbox)
		quarantined.AddNum(meta.UID)
	}
	// The cursor only saves work (the dedupe key makes a re-read harmless):
	// one write per batch, after the batch's transactions committed.
	var last imap.UID
	for _, set := range []imap.UIDSet{done, quarantined} {
		for _, u := range uidsOf(set) {
			last = max(last, u)
		}
	}
	if last != 0 {
		if err := p.o.State.SaveCursor(ctx, ticket.Cursor{Mailbox: p.o.Name, UIDValidity: uidValidity,
			LastUID: uint32(last), UpdatedAt: p.o.Now().UTC()}); err != nil {
			p.log.Warn("cannot save the mailbox cursor; the next pass reads more", "err", err)
		}
	}
	if len(quarantined) > 0 {
		if _, err := c.Move(quarantined, p.o.QuarantineMailbox).Wait(); err != nil {
			p.log.Error("cannot move messages to quarantine", "err", err, "folder", p.o.QuarantineMailbox, "uids", quarantined.String())
		} else {
			p.count(func(s *Stats) { s.Quarantined += len(uidsOf(quarantined)) })
		}
	}
	if len(done) == 0 {
		return nil
	}
	// Committed: now, and only now, the mailbox may change.
	if _, err := c.Move(done, p.o.ProcessedMailbox).Wait(); err == nil {
		return nil
	}
	// One MOVE for the batch failed: another client (a second instance, a
	// person) may have expunged some of them, which fails the whole command
	// on some servers (NO [EXPUNGEISSUED]). Move them one by one.
	var failed []imap.UID
	var lastErr error
	for _, u := range uidsOf(done) {
		if _, err := c.Move(imap.UIDSetNum(u), p.o.ProcessedMailbox).Wait(); err != nil {
			var ierr *imap.Error
			if errors.As(err, &ierr) && ierr.Code == "EXPUNGEISSUED" { // RFC 5530 §3
				continue // gone already: nothing left to move
			}
			failed, lastErr = append(failed, u), err
		}
	}
	if len(failed) == 0 {
		return nil
	}
	p.count(func(s *Stats) { s.MoveFailures += len(failed) })
	p.mu.Lock()
	var fresh []imap.UID
	for _, u := range failed {
		if !p.alerted[u] {
			fresh = append(fresh, u)
			p.alerted[u] = true
		}
	}
	p.mu.Unlock()
	if len(fresh) > 0 {
		p.log.Error("processed message cannot be moved; it stays in the mailbox and is skipped as a duplicate",
			"err", lastErr, "folder", p.o.ProcessedMailbox, "uids", imap.UIDSetNum(fresh...).String())
	}
	// Fall back to marking them, for people reading the mailbox.
	c.Store(imap.UIDSetNum(failed...), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true,
		Flags: []imap.Flag{imap.FlagSeen, "$MesaProcesado"}}, nil).Close()
	return nil
}

// fetchBodies streams the literals of a FETCH into buffers of their exact
// size: collecting them would grow each buffer step by step, and for a
// 35 MB message that garbage costs as much memory as the message.
func fetchBodies(c *imapclient.Client, set imap.UIDSet, section *imap.FetchItemBodySection, into map[imap.UID][]byte) error {
	fc := c.Fetch(set, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}})
	for msg := fc.Next(); msg != nil; msg = fc.Next() {
		var uid imap.UID
		var body []byte
		for item := msg.Next(); item != nil; item = msg.Next() {
			switch it := item.(type) {
			case imapclient.FetchItemDataUID:
				uid = it.UID
			case imapclient.FetchItemDataBodySection:
				if it.Literal == nil {
					continue
				}
				buf := make([]byte, it.Literal.Size())
				if _, err := io.ReadFull(it.Literal, buf); err != nil {
					fc.Close()
					return err
				}
				body = buf
			}
		}
		if uid != 0 && body != nil {
			into[uid] = body
		}
	}
	return fc.Close()
}

func uidsOf(set imap.UIDSet) []imap.UID {
	var out []imap.UID
	for _, r := range set {
		for u := r.Start; u <= r.Stop && u != 0; u++ {
			out = append(out, u)
		}
	}
	return out
}

// attemptChainer is a State that clears the attempts of the message it
// finished and records the start of the next in one call (store.DB), run
// in the finished message's transaction: the next start is committed with
// it, before the next message is parsed, saving that start its own commit.
type attemptChainer interface {
	FinishAndBegin(ctx context.Context, mailbox string, uidValidity, finished, next uint32, now time.Time) (int, error)
}

// attemptAbandoner is a State that can take back a start (store.DB):
// without it, a start interrupted by a shutdown is forgotten with
// FinishAttempt.
type attemptAbandoner interface {
	AbandonAttempt(ctx context.Context, mailbox string, uidValidity, uid uint32) error
}

// attemptState is what abandonAttempt needs of a reader's State.
type attemptState interface {
	FinishAttempt(ctx context.Context, mailbox string, uidValidity, uid uint32) error
}

// abandonAttempt takes back the start of a message whose processing a
// shutdown interrupted, on a context of its own (the reader's is
// cancelled), within five seconds.
func abandonAttempt(ctx context.Context, st attemptState, log *slog.Logger, mailbox string, uidValidity, uid uint32) {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	var err error
	if a, ok := st.(attemptAbandoner); ok {
		err = a.AbandonAttempt(actx, mailbox, uidValidity, uid)
	} else {
		err = st.FinishAttempt(actx, mailbox, uidValidity, uid)
	}
	if err != nil {
		log.Warn("cannot take back the start of a message interrupted by the shutdown; it counts as one death", "uid", uid, "err", err)
	}
}

// txRunner is a State that runs a function in one transaction carried by
// its context, which the calls made with that context join (store.DB).
type txRunner interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}

// handleThenFinish runs handle and, once it succeeded, finish (which
// clears the message's attempt counter). When state runs transactions,
// both are one: the handler's own transaction joins it, so a message costs
// one commit (one fsync of the database) less, and a failure to clear
// fails the message like any other, with nothing of it kept. The attempt
// itself was committed before: on its own (BeginAttempt), or by the
// transaction of the message before (FinishAndBegin). Otherwise the
// counter is cleared after the handler committed, and a failure to clear
// is only logged: the message was handled.
func handleThenFinish(ctx context.Context, state any, log *slog.Logger, handle, finish func(ctx context.Context) error) error {
	if tx, ok := state.(txRunner); ok {
		return tx.InTx(ctx, func(ctx context.Context) error {
			if err := handle(ctx); err != nil {
				return err
			}
			return finish(ctx)
		})
	}
	if err := handle(ctx); err != nil {
		return err
	}
	if err := finish(ctx); err != nil {
		log.Warn("cannot clear the attempt counter", "err", err)
	}
	return nil
}

// handle runs the handler, turning a panic into an error: one bad message
// never takes the daemon down.
func (p *Poller) handle(ctx context.Context, raw []byte, in *ticket.Inbound, src ticket.Source) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
			p.log.Error("panic while handling a message", "imap_uid", src.UID, "panic", r, "stack", strings.TrimSpace(string(debug.Stack())))
		}
	}()
	return p.o.Handle(ctx, raw, in, src)
}

func (p *Poller) quarantine(ctx context.Context, raw []byte, in *ticket.Inbound, src ticket.Source, reason string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return p.o.Quarantine(ctx, raw, in, src, reason)
}
