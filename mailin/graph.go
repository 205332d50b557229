package mailin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mesadeservicios/mesa/internal/msgraph"
	"github.com/mesadeservicios/mesa/ticket"
)

// DeltaStore keeps the @odata.deltaLink of a Graph mailbox between rounds,
// restarts and instances.
type DeltaStore interface {
	// DeltaLink returns the link saved for mailbox, "" when there is none.
	DeltaLink(ctx context.Context, mailbox string) (string, error)
	// SaveDeltaLink records the link; "" forgets it (the next round is a
	// full resync).
	SaveDeltaLink(ctx context.Context, mailbox, link string, now time.Time) error
}

// GraphState is the intake's bookkeeping for a Graph mailbox.
type GraphState interface {
	DeltaStore
	// BeginAttempt, FinishAttempt and RecordFailure are the IMAP poller's
	// (State); a Graph message is keyed by a 64-bit hash of its id split
	// into uidValidity and uid.
	BeginAttempt(ctx context.Context, mailbox string, uidValidity, uid uint32, now time.Time) (int, error)
	FinishAttempt(ctx context.Context, mailbox string, uidValidity, uid uint32) error
	RecordFailure(ctx context.Context, mailbox string, uidValidity, uid uint32, reason string, now time.Time) (int, error)
}

// GraphOptions configure a Graph mailbox reader; zero fields take the
// defaults in brackets.
type GraphOptions struct {
	// Client talks to Graph for this mailbox; the same client should serve
	// the mailbox's sender, so that both share its 4-request limit.
	Client *msgraph.Client
	User   string // the mailbox: its user principal name or id
	// Folder to read: a well-known name (inbox), a display name under the
	// root, or a path of display names ("Inbox/Mesa") [inbox].
	Folder           string
	ProcessedFolder  string // created under the root if missing [Procesados]
	QuarantineFolder string // likewise [Cuarentena]
	// Name is the mailbox's name in the store: the key of the delta link,
	// of failure counts and of messages.mailbox [graph:<user>/<folder>].
	Name string

	PollInterval  time.Duration // between delta rounds [30s]
	SweepInterval time.Duration // a full resync: retries, failed moves [5m]
	PageSize      int           // Prefer: odata.maxpagesize [50]
	Parallel      int           // messages fetched at once [4]
	MaxBackoff    time.Duration // reconnect delay cap [5m]
	MaxSize       int64         // larger messages: header only, ticket stub [35 MiB]
	MaxAttempts   int           // failures before quarantine [5]
	// MaxStarts is how many starts on one message may end without an
	// outcome (the process died while parsing or handling it) before it
	// is quarantined unparsed [3], as for IMAP.
	MaxStarts int

	// Report, when set, receives the stats whenever the mailbox is
	// reached (its folders resolved, then after every round) and whenever
	// a round fails, on the reader's goroutine: the daemon shares them
	// through the store, as the IMAP poller's.
	Report func(Stats)

	State      GraphState
	Handle     Handler
	Quarantine Quarantiner
	Logger     *slog.Logger     // [slog.Default()]
	Now        func() time.Time // [time.Now]
}

// Graph reads a Microsoft 365 mailbox folder through Microsoft Graph, for
// tenants where IMAP is switched off. Each round follows the folder's delta
// query from the saved deltaLink; a 410 or an expired sync state starts a
// full resync, harmless because the handler recognises a message it has
// already taken by its dedupe key. The raw MIME comes from $value and is
// handed over unchanged; a message is moved to the processed folder only
// after the handler committed it. Requests share the client's limit of four
// in flight and its handling of 429 and 503.
type Graph struct {
	o   GraphOptions
	log *slog.Logger

	syncMu    sync.Mutex // one round at a time; guards the fields below it
	folderID  string
	doneID    string
	quarID    string
	lastSweep time.Time

	mu      sync.Mutex
	stats   Stats
	alerted map[string]bool
}

// GraphName is the default Name of a Graph mailbox: "graph:" user "/"
// folder (inbox when empty).
func GraphName(user, folder string) string {
	if folder == "" {
		folder = "inbox"
	}
	return "graph:" + strings.ToLower(user) + "/" + folder
}

// NewGraph checks o and fills in defaults.
func NewGraph(o GraphOptions) (*Graph, error) {
	if o.Client == nil || o.User == "" || o.Handle == nil || o.State == nil {
		return nil, errors.New("mailin: graph reader needs Client, User, Handle and State")
	}
	if o.Folder == "" {
		o.Folder = "inbox"
	}
	if o.ProcessedFolder == "" {
		o.ProcessedFolder = "Procesados"
	}
	if o.QuarantineFolder == "" {
		o.QuarantineFolder = "Cuarentena"
	}
	if strings.EqualFold(o.ProcessedFolder, o.Folder) || strings.EqualFold(o.QuarantineFolder, o.Folder) {
		return nil, errors.New("mailin: the processed and quarantine folders must differ from the folder read")
	}
	if o.Name == "" {
		o.Name = GraphName(o.User, o.Folder)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.PollInterval, 30*time.Second)
	def(&o.SweepInterval, 5*time.Minute)
	def(&o.MaxBackoff, 5*time.Minute)
	if o.PageSize <= 0 {
		o.PageSize = 50
	}
	if o.Parallel <= 0 {
		o.Parallel = 4
	}
	if o.MaxSize <= 0 {
		o.MaxSize = 35 << 20
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 5
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
	return &Graph{o: o, log: o.Logger.With("mailbox", o.Name), alerted: map[string]bool{}}, nil
}

// Stats returns a copy of the counters.
func (g *Graph) Stats() Stats {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.stats
}

func (g *Graph) count(f func(s *Stats)) {
	g.mu.Lock()
	f(&g.stats)
	g.mu.Unlock()
}

// reached records that the mailbox answered and reports it.
func (g *Graph) reached() {
	g.mu.Lock()
	g.stats.LastSuccess, g.stats.LastError, g.stats.NeedsReauthorization, g.stats.FailingSince = g.o.Now(), "", false, time.Time{}
	g.mu.Unlock()
	g.report()
}

func (g *Graph) report() {
	if g.o.Report != nil {
		g.o.Report(g.Stats())
	}
}

// Run reads the mailbox until ctx is done, backing off after errors.
func (g *Graph) Run(ctx context.Context) error {
	backoff := time.Second
	for {
		started := g.o.Now()
		err := g.Sync(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		wait := g.o.PollInterval
		if err == nil {
			backoff = time.Second
			g.reached()
		} else {
			reauth := errors.Is(err, ErrNeedsReauthorization)
			g.count(func(s *Stats) {
				s.LastError, s.NeedsReauthorization, s.Reconnects = err.Error(), reauth, s.Reconnects+1
				if s.FailingSince.IsZero() {
					s.FailingSince = started
				}
			})
			g.report()
			if reauth {
				g.log.Error("ALERT: the mailbox needs re-authorisation; intake is stopped until an operator renews the app's credentials",
					"err", err)
				backoff = g.o.MaxBackoff
			}
			wait = backoff/2 + rand.N(backoff/2+1)
			g.log.Warn("graph round failed; retrying", "err", err, "in", wait.Round(time.Millisecond))
			backoff = min(backoff*2, g.o.MaxBackoff)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// Sync runs one round: resolves the folders the first time, then reads the
// changes since the saved deltaLink (everything, at a sweep) and saves the
// new deltaLink. Messages that fail are counted and left for a later sweep.
func (g *Graph) Sync(ctx context.Context) error {
	g.syncMu.Lock()
	defer g.syncMu.Unlock()
	err := g.sync(ctx)
	if err != nil && msgraph.IsTokenError(err) && isInvalidGrant(err) {
		return fmt.Errorf("%w: %v", ErrNeedsReauthorization, err)
	}
	return err
}

func (g *Graph) sync(ctx context.Context) error {
	if g.folderID == "" {
		if err := g.resolveFolders(ctx); err != nil {
			return err
		}
		g.reached() // before a first round that may take long on a full folder
	}
	link, err := g.o.State.DeltaLink(ctx, g.o.Name)
	if err != nil {
		return fmt.Errorf("reading the delta link: %w", err)
	}
	if g.lastSweep.IsZero() && link != "" {
		// A restart (or a standby taking over) resumes from the saved
		// link; the first sweep comes SweepInterval later.
		g.lastSweep = g.o.Now()
	}
	full := g.o.Now().Sub(g.lastSweep) >= g.o.SweepInterval
	if full {
		link = ""
	}
	if err := g.round(ctx, link); err != nil {
		return err
	}
	if full {
		g.lastSweep = g.o.Now()
	}
	return nil
}

// initialLink is the first request of a full round. $select keeps the
// pages small; the message itself comes from $value.
func (g *Graph) initialLink() string {
	return msgraph.UserPath(g.o.User, "mailFolders", g.folderID, "messages", "delta") +
		"?$select=id,receivedDateTime,internetMessageId"
}

type deltaPage struct {
	NextLink  string         `json:"@odata.nextLink"`
	DeltaLink string         `json:"@odata.deltaLink"`
	Value     []deltaMessage `json:"value"`
}

type deltaMessage struct {
	ID                string    `json:"id"`
	ReceivedDateTime  time.Time `json:"receivedDateTime"`
	InternetMessageID string    `json:"internetMessageId"`
	Removed           *struct {
		Reason string `json:"reason"`
	} `json:"@removed"`
}

// isResync tells an expired or reset sync state: 410 Gone, or a 40X with
// code syncStateNotFound or resyncRequired (delta-query-overview, errors).
func isResync(err error) bool {
	var ge *msgraph.Error
	if !errors.As(err, &ge) {
		return false
	}
	return ge.Status == http.StatusGone || ge.Status/100 == 4 &&
		(strings.EqualFold(ge.Code, "syncStateNotFound") || strings.EqualFold(ge.Code, "resyncRequired"))
}

func (g *Graph) round(ctx context.Context, link string) error {
	resynced := false
	if link == "" {
		link, resynced = g.initialLink(), true
	}
	prefer := []string{fmt.Sprintf("odata.maxpagesize=%d", g.o.PageSize)}
	for {
		var page deltaPage
		err := g.o.Client.GetJSON(ctx, link, prefer, &page)
		if isResync(err) && !resynced {
			g.log.Warn("graph delta token expired or reset: full resync (already processed messages are recognised and skipped)",
				"err", err)
			if err := g.o.State.SaveDeltaLink(ctx, g.o.Name, "", g.o.Now().UTC()); err != nil {
				g.log.Warn("cannot forget the delta link", "err", err)
			}
			link, resynced = g.initialLink(), true
			continue
		}
		if err != nil {
			return fmt.Errorf("delta query of %s: %w", g.o.Folder, err)
		}
		if err := g.process(ctx, page.Value); err != nil {
			return err
		}
		switch {
		case page.NextLink != "":
			link = page.NextLink
		case page.DeltaLink != "":
			// Every message of the round was handled (or counted as
			// failed, for the next sweep): the round is done.
			if err := g.o.State.SaveDeltaLink(ctx, g.o.Name, page.DeltaLink, g.o.Now().UTC()); err != nil {
				g.log.Warn("cannot save the delta link; the next round reads more", "err", err)
			}
			return nil
		default:
			return errors.New("graph delta page has neither @odata.nextLink nor @odata.deltaLink")
		}
	}
}

// process handles a page: bodies fetched Parallel at a time, handled one
// by one in the order they were received, committed ones moved.
func (g *Graph) process(ctx context.Context, items []deltaMessage) error {
	items = slices.DeleteFunc(slices.Clone(items), func(m deltaMessage) bool { return m.Removed != nil || m.ID == "" })
	slices.SortStableFunc(items, func(a, b deltaMessage) int { return a.ReceivedDateTime.Compare(b.ReceivedDateTime) })
	seen := map[string]bool{}
	items = slices.DeleteFunc(items, func(m deltaMessage) bool { // a page may repeat an item
		dup := seen[m.ID]
		seen[m.ID] = true
		return dup
	})
	for len(items) > 0 {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		n := min(len(items), g.o.Parallel)
		if err := g.batch(ctx, items[:n]); err != nil {
			return err
		}
		items = items[n:]
	}
	return nil
}

type fetched struct {
	raw       []byte
	size      int64
	truncated bool
	gone      bool
	err       error
}

func (g *Graph) batch(ctx context.Context, items []deltaMessage) error {
	bodies := make([]fetched, len(items))
	var wg sync.WaitGroup
	for i, m := range items {
		wg.Go(func() { bodies[i] = g.fetch(ctx, m.ID) })
	}
	wg.Wait()
	var done, quarantined []string
	for i, m := range items {
		f := bodies[i]
		switch {
		case f.gone:
			continue // moved or deleted meanwhile: someone else has it
		case f.err != nil:
			return fmt.Errorf("fetching message %s: %w", m.ID, f.err)
		}
		received := m.ReceivedDateTime
		if received.IsZero() {
			received = g.o.Now()
		}
		src := ticket.Source{Mailbox: g.o.Name, ReceivedAt: received.UTC(), Size: f.size, Truncated: f.truncated}
		hi, lo := idKey(m.ID)
		// As for IMAP, the attempt is committed before the message is
		// parsed: one on which the process dies is quarantined unparsed
		// after MaxStarts starts instead of killing every start after it.
		died, err := g.o.State.BeginAttempt(ctx, g.o.Name, hi, lo, g.o.Now())
		if err != nil {
			g.log.Error("cannot record the attempt; the message waits for the next round", "graph_id", m.ID, "err", err)
			continue
		}
		if died >= g.o.MaxStarts {
			reason := fmt.Sprintf("processing started %d times without finishing (the process stopped while parsing or handling it); kept unparsed", died)
			if g.o.Quarantine != nil {
				stub := &ticket.Inbound{Problems: []string{"not parsed: " + reason}}
				if qerr := g.quarantine(ctx, f.raw, stub, src, reason); qerr != nil {
					g.log.Error("cannot record quarantine; the message is still moved to the quarantine folder", "graph_id", m.ID, "err", qerr)
				}
			}
			g.log.Error("message quarantined", "graph_id", m.ID, "reason", reason, "folder", g.o.QuarantineFolder)
			quarantined = append(quarantined, m.ID)
			continue
		}
		in, _ := Parse(f.raw) // never fails on content
		log := g.log.With("graph_id", m.ID, "message_id", in.MessageID)
		err = handleThenFinish(ctx, g.o.State, log,
			func(ctx context.Context) error { return g.handle(ctx, f.raw, in, src) },
			func(ctx context.Context) error { return g.o.State.FinishAttempt(ctx, g.o.Name, hi, lo) })
		if err == nil {
			g.count(func(s *Stats) { s.Handled++ })
			done = append(done, m.ID)
			continue
		}
		if ctx.Err() != nil {
			// Interrupted by a shutdown, not failed (as for IMAP).
			abandonAttempt(ctx, g.o.State, log, g.o.Name, hi, lo)
			break
		}
		g.count(func(s *Stats) { s.Failed++ })
		n, rerr := g.o.State.RecordFailure(ctx, g.o.Name, hi, lo, err.Error(), g.o.Now())
		if rerr != nil {
			log.Error("cannot record failure", "err", rerr)
		}
		log.Error("message failed", "err", err, "attempt", n, "max_attempts", g.o.MaxAttempts)
		if n < g.o.MaxAttempts {
			continue
		}
		reason := fmt.Sprintf("failed %d times: %v", n, err)
		if g.o.Quarantine != nil {
			if qerr := g.quarantine(ctx, f.raw, in, src, reason); qerr != nil {
				log.Error("cannot record quarantine; the message is still moved to the quarantine folder", "err", qerr)
			}
		}
		log.Error("message quarantined", "reason", reason, "folder", g.o.QuarantineFolder)
		quarantined = append(quarantined, m.ID)
	}
	// Committed: now, and only now, the mailbox may change.
	g.moveAll(ctx, done, g.doneID, g.o.ProcessedFolder, false)
	g.moveAll(ctx, quarantined, g.quarID, g.o.QuarantineFolder, true)
	return nil
}

// idKey splits a 64-bit FNV-1a hash of a Graph id into the two 32-bit
// numbers the failure counts are keyed by.
func idKey(id string) (uint32, uint32) {
	h := fnv.New64a()
	h.Write([]byte(id))
	s := h.Sum64()
	return uint32(s >> 32), uint32(s)
}

// fetch downloads a message's MIME. Past MaxSize only the header is kept
// (the desk makes a stub ticket, as for IMAP); the rest is read and
// counted, not kept.
func (g *Graph) fetch(ctx context.Context, id string) fetched {
	resp, err := g.o.Client.Do(ctx, msgraph.Request{Method: http.MethodGet,
		URL: msgraph.UserPath(g.o.User, "messages", id, "$value"), Idempotent: true})
	if err != nil {
		if msgraph.StatusOf(err) == http.StatusNotFound {
			return fetched{gone: true}
		}
		return fetched{err: err}
	}
	defer resp.Body.Close()
	capacity := min(g.o.MaxSize+1, 1<<20) // unknown length: grow as it comes
	if resp.ContentLength >= 0 {
		capacity = min(g.o.MaxSize+1, resp.ContentLength+1)
	}
	buf := bytes.NewBuffer(make([]byte, 0, capacity))
	n, err := io.Copy(buf, io.LimitReader(resp.Body, g.o.MaxSize+1))
	if err != nil {
		return fetched{err: err}
	}
	if n <= g.o.MaxSize {
		return fetched{raw: buf.Bytes(), size: n}
	}
	rest, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		return fetched{err: err}
	}
	raw := buf.Bytes()
	end := len(raw)
	if i := bytes.Index(raw, []byte("\r\n\r\n")); i >= 0 {
		end = i + 4
	} else if i := bytes.Index(raw, []byte("\n\n")); i >= 0 {
		end = i + 2
	} else {
		end = min(end, 64<<10)
	}
	return fetched{raw: bytes.Clone(raw[:end]), size: n + rest, truncated: true}
}

// moveAll moves messages, Parallel at a time. A failed move leaves the
// message in the folder: the next sweep sees it again, the handler
// recognises it, and the move is retried.
func (g *Graph) moveAll(ctx context.Context, ids []string, dest, name string, quarantine bool) {
	if len(ids) == 0 {
		return
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, g.o.Parallel)
	for _, id := range ids {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			err := g.o.Client.PostJSON(ctx, msgraph.UserPath(g.o.User, "messages", id, "move"),
				map[string]string{"destinationId": dest}, nil, true)
			if err == nil || msgraph.StatusOf(err) == http.StatusNotFound { // gone already: nothing left to move
				if quarantine {
					g.count(func(s *Stats) { s.Quarantined++ })
				}
				return
			}
			g.count(func(s *Stats) { s.MoveFailures++ })
			g.mu.Lock()
			fresh := !g.alerted[id]
			g.alerted[id] = true
			g.mu.Unlock()
			if fresh {
				g.log.Error("processed message cannot be moved; it stays in the folder and is skipped as a duplicate",
					"err", err, "folder", name, "graph_id", id)
			}
		})
	}
	wg.Wait()
}

func (g *Graph) handle(ctx context.Context, raw []byte, in *ticket.Inbound, src ticket.Source) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
			g.log.Error("panic while handling a message", "panic", r, "stack", strings.TrimSpace(string(debug.Stack())))
		}
	}()
	return g.o.Handle(ctx, raw, in, src)
}

func (g *Graph) quarantine(ctx context.Context, raw []byte, in *ticket.Inbound, src ticket.Source, reason string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return g.o.Quarantine(ctx, raw, in, src, reason)
}

// --- folders ---

type graphFolder struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
}

// wellKnownFolders are the names Graph accepts in place of a folder id
// (mailFolder resource type).
var wellKnownFolders = []string{"archive", "clutter", "conflicts", "conversationhistory", "deleteditems", "drafts",
	"inbox", "junkemail", "localfailures", "msgfolderroot", "outbox", "recoverableitemsdeletions", "scheduled",
	"searchfolders", "sentitems", "serverfailures", "syncissues"}

func (g *Graph) resolveFolders(ctx context.Context) error {
	src, err := g.findFolder(ctx, g.o.Folder, false)
	if err != nil {
		return fmt.Errorf("finding folder %q: %w", g.o.Folder, err)
	}
	done, err := g.findFolder(ctx, g.o.ProcessedFolder, true)
	if err != nil {
		return fmt.Errorf("finding or creating folder %q: %w", g.o.ProcessedFolder, err)
	}
	quar, err := g.findFolder(ctx, g.o.QuarantineFolder, true)
	if err != nil {
		return fmt.Errorf("finding or creating folder %q: %w", g.o.QuarantineFolder, err)
	}
	g.folderID, g.doneID, g.quarID = src, done, quar
	return nil
}

// findFolder resolves a well-known name, or a path of display names from
// the root, to a folder id; with create, missing folders are created.
func (g *Graph) findFolder(ctx context.Context, path string, create bool) (string, error) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	parent := ""
	for i, part := range parts {
		if i == 0 && slices.Contains(wellKnownFolders, strings.ToLower(part)) {
			var f graphFolder
			if err := g.o.Client.GetJSON(ctx, msgraph.UserPath(g.o.User, "mailFolders", strings.ToLower(part)), nil, &f); err != nil {
				return "", err
			}
			parent = f.ID
			continue
		}
		list := msgraph.UserPath(g.o.User, "mailFolders") + "?$top=100"
		if parent != "" {
			list = msgraph.UserPath(g.o.User, "mailFolders", parent, "childFolders") + "?$top=100"
		}
		id, err := g.childNamed(ctx, list, part)
		if err != nil {
			return "", err
		}
		if id == "" {
			if !create {
				return "", fmt.Errorf("no folder %q", part)
			}
			var f graphFolder
			err := g.o.Client.PostJSON(ctx, strings.TrimSuffix(list, "?$top=100"), map[string]string{"displayName": part}, &f, false)
			if msgraph.StatusOf(err) == http.StatusConflict { // created meanwhile by another instance
				id, err = g.childNamed(ctx, list, part)
				if err == nil && id == "" {
					err = fmt.Errorf("folder %q exists but is not listed", part)
				}
			} else {
				id = f.ID
			}
			if err != nil {
				return "", err
			}
			g.log.Info("created mail folder", "folder", part)
		}
		parent = id
	}
	return parent, nil
}

func (g *Graph) childNamed(ctx context.Context, link, name string) (string, error) {
	for pages := 0; link != "" && pages < 100; pages++ {
		var page struct {
			NextLink string        `json:"@odata.nextLink"`
			Value    []graphFolder `json:"value"`
		}
		if err := g.o.Client.GetJSON(ctx, link, nil, &page); err != nil {
			return "", err
		}
		for _, f := range page.Value {
			if strings.EqualFold(f.DisplayName, name) {
				return f.ID, nil
			}
		}
		link = page.NextLink
	}
	return "", nil
}
