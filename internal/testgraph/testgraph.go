// Package testgraph is a fake Microsoft Graph for tests: the mail calls
// mesa makes (mail folders, message delta, $value, move, sendMail) and the
// Entra client-credentials token endpoint, built from the documented wire
// format recorded in testdata/ (see testdata/README.md for the sources),
// on an httptest server bound to 127.0.0.1.
//
// It injects the faults a real tenant produces: throttling (429 with
// Retry-After), 503s, an expired delta token (410 Gone), an expired access
// token (401 InvalidAuthenticationToken), and it answers more than four
// concurrent requests to one mailbox with 429 as Exchange Online does,
// counting the most it ever saw so a test can assert the client stayed
// within the limit.
package testgraph

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// GraphScope is the only scope the fake token endpoint grants.
const GraphScope = "https://graph.microsoft.com/.default"

// MaxConcurrent is Exchange Online's limit of concurrent requests per app
// per mailbox; the fake answers the fifth concurrent request with 429.
const MaxConcurrent = 4

// Options configure the fake; zero fields take the defaults in brackets.
type Options struct {
	Tenant       string // [contoso.onmicrosoft.com]
	ClientID     string // [00000000-0000-0000-0000-00000000c11e]
	ClientSecret string // accepted secret; empty: secrets are refused
	// Certificate, when set, is the certificate registered with the app:
	// client assertions signed with its key are accepted.
	Certificate *x509.Certificate
	TokenTTL    time.Duration // lifetime of an access token [1h]
}

// Server is the fake.
type Server struct {
	srv *httptest.Server
	o   Options

	mu        sync.Mutex
	seq       int64 // change sequence of all mailboxes
	nextID    int
	boxes     map[string]*mailbox // by lower-case user
	tokens    map[string]time.Time
	rounds    map[string]*round // $skiptoken → round in progress
	deltas    map[string]deltaState
	faults    faults
	inflight  map[string]int
	maxFlight map[string]int
	counts    map[string]int
	latency   time.Duration
	lastJWT   *Assertion
	jtis      map[string]bool
	tokenErr  string
	onMove    func(raw []byte, folder string)
}

type faults struct {
	throttle   int
	retryAfter time.Duration
	unavail    int
	moveFail   int
}

type mailbox struct {
	user    string
	folders []*folder
	msgs    map[string]*message // by id
	removed []removal
	sent    [][]byte
}

type folder struct {
	ID, Name, WellKnown, Parent string
}

type message struct {
	id, folder string
	raw        []byte
	received   time.Time
	changed    int64
}

type removal struct {
	id, folder string
	seq        int64
}

type round struct {
	user, folder string
	items        []item
	offset       int
	select_      []string
	upto         int64
}

type item struct {
	msg     message // a copy, as the round saw it
	removed bool
}

type deltaState struct {
	user, folder string
	since        int64
	select_      []string
}

// Assertion is a client assertion the token endpoint accepted, decoded.
type Assertion struct {
	Header map[string]any
	Claims map[string]any
}

// New starts the fake; it stops when t ends.
func New(t testing.TB, o Options) *Server {
	t.Helper()
	if o.Tenant == "" {
		o.Tenant = "contoso.onmicrosoft.com"
	}
	if o.ClientID == "" {
		o.ClientID = "00000000-0000-0000-0000-00000000c11e"
	}
	if o.TokenTTL <= 0 {
		o.TokenTTL = time.Hour
	}
	s := &Server{o: o, boxes: map[string]*mailbox{}, tokens: map[string]time.Time{}, rounds: map[string]*round{},
		deltas: map[string]deltaState{}, inflight: map[string]int{}, maxFlight: map[string]int{}, counts: map[string]int{},
		jtis: map[string]bool{}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.srv.Listener.Close()
	s.srv.Listener = l
	s.srv.Start()
	t.Cleanup(s.srv.Close)
	return s
}

// URL is the Graph base URL, like https://graph.microsoft.com/v1.0.
func (s *Server) URL() string { return s.srv.URL + "/v1.0" }

// TokenURL is the tenant's v2.0 token endpoint.
func (s *Server) TokenURL() string {
	return s.srv.URL + "/" + url.PathEscape(s.o.Tenant) + "/oauth2/v2.0/token"
}

// Tenant and ClientID are the app's identity.
func (s *Server) Tenant() string   { return s.o.Tenant }
func (s *Server) ClientID() string { return s.o.ClientID }

// HTTPClient is a client for the fake (plain HTTP on loopback).
func (s *Server) HTTPClient() *http.Client { return s.srv.Client() }

var wellKnown = []folder{{Name: "Inbox", WellKnown: "inbox"}, {Name: "Sent Items", WellKnown: "sentitems"},
	{Name: "Deleted Items", WellKnown: "deleteditems"}, {Name: "Drafts", WellKnown: "drafts"},
	{Name: "Archive", WellKnown: "archive"}, {Name: "Junk Email", WellKnown: "junkemail"}}

// AddMailbox creates a mailbox with the well-known folders.
func (s *Server) AddMailbox(user string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mailboxLocked(user)
}

func (s *Server) mailboxLocked(user string) *mailbox {
	key := strings.ToLower(user)
	if b := s.boxes[key]; b != nil {
		return b
	}
	b := &mailbox{user: user, msgs: map[string]*message{}}
	for _, f := range wellKnown {
		f.ID = s.newID("F")
		b.folders = append(b.folders, &f)
	}
	s.boxes[key] = b
	return b
}

func (s *Server) newID(prefix string) string {
	s.nextID++
	// Graph ids are long base64; these are shorter but keep + / = out of
	// the way the same (URL-safe alphabet with padding).
	return base64.URLEncoding.EncodeToString([]byte(fmt.Sprintf("AAMk%s%08d", prefix, s.nextID)))
}

// Deliver puts raw into the folder named by display name, path ("Inbox/Sub")
// or well-known name, and returns the new message's id.
func (s *Server) Deliver(user, folderName string, raw []byte, received time.Time) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.mailboxLocked(user)
	f := b.find(folderName)
	if f == nil {
		panic("testgraph: no folder " + folderName)
	}
	s.seq++
	id := s.newID("M")
	b.msgs[id] = &message{id: id, folder: f.ID, raw: bytes.Clone(raw), received: received.UTC(), changed: s.seq}
	return id
}

// Touch marks a message changed (as a person marking it read), so the next
// delta round returns it again.
func (s *Server) Touch(user, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.mailboxLocked(user).msgs[id]; m != nil {
		s.seq++
		m.changed = s.seq
	}
}

// Message is a message in a folder of the fake.
type Message struct {
	ID  string
	Raw []byte
}

// Messages returns the messages in a folder, oldest first.
func (s *Server) Messages(user, folderName string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.mailboxLocked(user)
	f := b.find(folderName)
	if f == nil {
		return nil
	}
	var out []Message
	for _, m := range b.sorted() {
		if m.folder == f.ID {
			out = append(out, Message{ID: m.id, Raw: bytes.Clone(m.raw)})
		}
	}
	return out
}

// Sent returns the MIME of every message sent with sendMail, in order.
func (s *Server) Sent(user string) [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.mailboxLocked(user).sent)
}

// Throttle answers the next n Graph requests with 429 and Retry-After.
func (s *Server) Throttle(n int, retryAfter time.Duration) {
	s.mu.Lock()
	s.faults.throttle, s.faults.retryAfter = n, retryAfter
	s.mu.Unlock()
}

// Unavailable answers the next n Graph requests with 503.
func (s *Server) Unavailable(n int) {
	s.mu.Lock()
	s.faults.unavail = n
	s.mu.Unlock()
}

// FailMoves answers the next n move requests with 500 (after the retries a
// client makes, it sees the move fail).
func (s *Server) FailMoves(n int) {
	s.mu.Lock()
	s.faults.moveFail = n
	s.mu.Unlock()
}

// ExpireDeltaTokens forgets every delta and skip token: their next use
// answers 410 Gone, as when Exchange drops a sync state.
func (s *Server) ExpireDeltaTokens() {
	s.mu.Lock()
	clear(s.rounds)
	clear(s.deltas)
	s.mu.Unlock()
}

// ExpireAccessTokens makes every access token issued so far invalid: the
// next request with one answers 401 InvalidAuthenticationToken.
func (s *Server) ExpireAccessTokens() {
	s.mu.Lock()
	clear(s.tokens)
	s.mu.Unlock()
}

// RefuseTokens makes the token endpoint answer every request with this
// OAuth2 error code (invalid_client: an expired secret); "" stops it.
func (s *Server) RefuseTokens(code string) {
	s.mu.Lock()
	s.tokenErr = code
	s.mu.Unlock()
}

// SetOnMove calls f with the MIME of every message moved and the display
// name of its destination, before the move is answered (f must not call
// the Server).
func (s *Server) SetOnMove(f func(raw []byte, folder string)) {
	s.mu.Lock()
	s.onMove = f
	s.mu.Unlock()
}

// SetLatency delays every Graph answer, so concurrent requests overlap.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	s.latency = d
	s.mu.Unlock()
}

// MaxInFlight is the most concurrent requests the mailbox ever had.
func (s *Server) MaxInFlight(user string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxFlight[strings.ToLower(user)]
}

// Count returns how many requests of a kind were answered: token, delta,
// value, move, sendmail, folders, 429, 503, 410, 401, and the kinds of
// delta request: delta_initial (no token), delta_token, delta_skip.
func (s *Server) Count(kind string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[kind]
}

// LastAssertion is the last client assertion the token endpoint accepted.
func (s *Server) LastAssertion() *Assertion {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastJWT
}

func (b *mailbox) find(name string) *folder {
	parent := ""
	var f *folder
	for part := range strings.SplitSeq(name, "/") {
		f = nil
		for _, c := range b.folders {
			if c.Parent == parent && (strings.EqualFold(c.Name, part) || (parent == "" && strings.EqualFold(c.WellKnown, part))) {
				f = c
				break
			}
		}
		if f == nil {
			return nil
		}
		parent = f.ID
	}
	return f
}

func (b *mailbox) byID(id string) *folder {
	for _, f := range b.folders {
		if f.ID == id || (f.Parent == "" && strings.EqualFold(f.WellKnown, id)) {
			return f
		}
	}
	return nil
}

func (b *mailbox) sorted() []*message {
	ms := make([]*message, 0, len(b.msgs))
	for _, m := range b.msgs {
		ms = append(ms, m)
	}
	slices.SortFunc(ms, func(x, y *message) int { return int(x.changed - y.changed) })
	return ms
}

// --- HTTP ---

type graphErr struct {
	status     int
	code, msg  string
	retryAfter time.Duration
	location   string
}

func writeErr(w http.ResponseWriter, e graphErr) {
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((e.retryAfter+time.Second-1)/time.Second)))
	}
	if e.location != "" {
		w.Header().Set("Location", e.location)
	}
	writeJSON(w, e.status, map[string]any{"error": map[string]any{"code": e.code, "message": e.msg,
		"innerError": map[string]string{"request-id": "fake", "date": time.Now().UTC().Format(time.RFC3339)}}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (s *Server) count(kind string) {
	s.counts[kind]++
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token") {
		s.token(w, r)
		return
	}
	segs := segments(r.URL.EscapedPath())
	if len(segs) < 3 || segs[0] != "v1.0" || segs[1] != "users" {
		writeErr(w, graphErr{status: 400, code: "BadRequest", msg: "Resource not found for the segment '" + r.URL.Path + "'."})
		return
	}
	user := strings.ToLower(segs[2])
	s.mu.Lock()
	s.inflight[user]++
	n := s.inflight[user]
	s.maxFlight[user] = max(s.maxFlight[user], n)
	latency := s.latency
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inflight[user]--
		s.mu.Unlock()
	}()
	if latency > 0 {
		time.Sleep(latency)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if n > MaxConcurrent {
		s.count("429")
		writeErr(w, graphErr{status: 429, code: "ApplicationThrottled", msg: "Application is over its MailboxConcurrency limit.", retryAfter: time.Second})
		return
	}
	if e, ok := s.auth(r); !ok {
		s.count("401")
		writeErr(w, e)
		return
	}
	if s.faults.throttle > 0 {
		s.faults.throttle--
		s.count("429")
		writeErr(w, graphErr{status: 429, code: "ApplicationThrottled", msg: "Application is over its MailboxConcurrency limit.", retryAfter: s.faults.retryAfter})
		return
	}
	if s.faults.unavail > 0 {
		s.faults.unavail--
		s.count("503")
		writeErr(w, graphErr{status: 503, code: "serviceNotAvailable", msg: "The service is not available. Try the request again after a delay."})
		return
	}
	b := s.boxes[user]
	if b == nil {
		writeErr(w, graphErr{status: 404, code: "ErrorInvalidUser", msg: "The requested user '" + segs[2] + "' is invalid."})
		return
	}
	rest := segs[3:]
	switch {
	case len(rest) >= 1 && strings.EqualFold(rest[0], "sendMail") && r.Method == http.MethodPost:
		s.sendMail(w, r, b)
	case len(rest) == 3 && rest[0] == "messages" && rest[2] == "$value" && r.Method == http.MethodGet:
		s.value(w, b, rest[1])
	case len(rest) == 3 && rest[0] == "messages" && rest[2] == "move" && r.Method == http.MethodPost:
		s.move(w, r, b, rest[1])
	case len(rest) >= 1 && isFolders(rest[0]):
		s.folders(w, r, b, rest)
	default:
		writeErr(w, graphErr{status: 400, code: "BadRequest", msg: "Unsupported request " + r.Method + " " + r.URL.Path})
	}
}

// segments splits an escaped path and unescapes each segment, so an id
// with %2F stays one segment.
func segments(p string) []string {
	var out []string
	for s := range strings.SplitSeq(strings.Trim(p, "/"), "/") {
		if u, err := url.PathUnescape(s); err == nil {
			s = u
		}
		out = append(out, s)
	}
	return out
}

// isFolders accepts mailFolders, mailfolders and mailFolders('id'), the
// forms the documented links use.
func isFolders(seg string) bool {
	return strings.EqualFold(seg, "mailFolders") || strings.HasPrefix(strings.ToLower(seg), "mailfolders(")
}

func (s *Server) auth(r *http.Request) (graphErr, bool) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		return graphErr{status: 401, code: "InvalidAuthenticationToken", msg: "Access token is empty."}, false
	}
	exp, ok := s.tokens[tok]
	if !ok || time.Now().After(exp) {
		return graphErr{status: 401, code: "InvalidAuthenticationToken", msg: "Access token has expired or is not yet valid."}, false
	}
	return graphErr{}, true
}

func (s *Server) folderJSON(b *mailbox, f *folder) map[string]any {
	n, children := 0, 0
	for _, m := range b.msgs {
		if m.folder == f.ID {
			n++
		}
	}
	for _, c := range b.folders {
		if c.Parent == f.ID {
			children++
		}
	}
	parent := f.Parent
	if parent == "" {
		parent = "AAMkROOT"
	}
	return map[string]any{"id": f.ID, "displayName": f.Name, "parentFolderId": parent, "childFolderCount": children,
		"unreadItemCount": n, "totalItemCount": n, "isHidden": false}
}

func (s *Server) folders(w http.ResponseWriter, r *http.Request, b *mailbox, rest []string) {
	s.count("folders")
	var f *folder
	var tail []string
	notFound := func() {
		writeErr(w, graphErr{status: 404, code: "ErrorItemNotFound", msg: "The specified object was not found in the store."})
	}
	if i := strings.Index(rest[0], "("); i >= 0 { // mailFolders('id')
		if f = b.byID(strings.Trim(strings.TrimSuffix(rest[0][i+1:], ")"), "'")); f == nil {
			notFound()
			return
		}
		tail = rest[1:]
	} else if len(rest) >= 2 {
		if f = b.byID(rest[1]); f == nil {
			notFound()
			return
		}
		tail = rest[2:]
	}
	switch {
	case f == nil && len(tail) == 0, f != nil && len(tail) == 1 && strings.EqualFold(tail[0], "childFolders"):
		parent := ""
		if f != nil {
			parent = f.ID
		}
		if r.Method == http.MethodPost {
			var in struct {
				DisplayName string `json:"displayName"`
			}
			if json.NewDecoder(r.Body).Decode(&in) != nil || in.DisplayName == "" {
				writeErr(w, graphErr{status: 400, code: "ErrorInvalidRequest", msg: "displayName is required"})
				return
			}
			for _, c := range b.folders {
				if c.Parent == parent && strings.EqualFold(c.Name, in.DisplayName) {
					writeErr(w, graphErr{status: 409, code: "ErrorFolderExists", msg: "A folder with the specified name already exists."})
					return
				}
			}
			nf := &folder{ID: s.newID("F"), Name: in.DisplayName, Parent: parent}
			b.folders = append(b.folders, nf)
			writeJSON(w, 201, s.folderJSON(b, nf))
			return
		}
		s.listFolders(w, r, b, parent)
	case f != nil && len(tail) == 0 && r.Method == http.MethodGet:
		writeJSON(w, 200, s.folderJSON(b, f))
	case f != nil && len(tail) == 2 && tail[0] == "messages" && tail[1] == "delta" && r.Method == http.MethodGet:
		s.delta(w, r, b, f)
	default:
		writeErr(w, graphErr{status: 400, code: "BadRequest", msg: "Unsupported request " + r.Method + " " + r.URL.Path})
	}
}

// listFolders pages by $top (default 10, as the documentation says) with
// $skip in the @odata.nextLink.
func (s *Server) listFolders(w http.ResponseWriter, r *http.Request, b *mailbox, parent string) {
	q := r.URL.Query()
	top, _ := strconv.Atoi(q.Get("$top"))
	if top <= 0 {
		top = 10
	}
	skip, _ := strconv.Atoi(q.Get("$skip"))
	var all []*folder
	for _, f := range b.folders {
		if f.Parent == parent {
			all = append(all, f)
		}
	}
	page := all[min(skip, len(all)):min(skip+top, len(all))]
	out := map[string]any{"@odata.context": s.URL() + "/$metadata#users('" + b.user + "')/mailFolders"}
	vals := []any{}
	for _, f := range page {
		vals = append(vals, s.folderJSON(b, f))
	}
	out["value"] = vals
	if skip+top < len(all) {
		u := *r.URL
		q.Set("$skip", strconv.Itoa(skip+top))
		q.Set("$top", strconv.Itoa(top))
		u.RawQuery = q.Encode()
		out["@odata.nextLink"] = s.srv.URL + u.RequestURI()
	}
	writeJSON(w, 200, out)
}

func (s *Server) delta(w http.ResponseWriter, r *http.Request, b *mailbox, f *folder) {
	s.count("delta")
	q := r.URL.Query()
	pageSize := 10
	for p := range strings.SplitSeq(r.Header.Get("Prefer"), ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(p), "odata.maxpagesize="); ok {
			if n, err := strconv.Atoi(v); err == nil && n > 0 {
				pageSize = n
			}
		}
	}
	gone := func() {
		s.count("410")
		writeErr(w, graphErr{status: 410, code: "syncStateNotFound",
			msg:      "The sync state generation is not found. The delta token is expired and data must be synchronized again.",
			location: s.URL() + "/users/" + url.PathEscape(b.user) + "/mailFolders/" + url.PathEscape(f.ID) + "/messages/delta?$deltatoken="})
	}
	var rd *round
	switch {
	case q.Has("$skiptoken"):
		rd = s.rounds[q.Get("$skiptoken")]
		if rd == nil || rd.folder != f.ID {
			gone()
			return
		}
		delete(s.rounds, q.Get("$skiptoken"))
		s.count("delta_skip")
	case q.Get("$deltatoken") != "":
		ds, ok := s.deltas[q.Get("$deltatoken")]
		if !ok || ds.folder != f.ID {
			gone()
			return
		}
		rd = s.newRound(b, f, ds.since, ds.select_)
		s.count("delta_token")
	default:
		s.count("delta_initial")
		var sel []string
		if v := q.Get("$select"); v != "" {
			sel = strings.Split(v, ",")
		}
		rd = s.newRound(b, f, 0, sel)
	}
	end := min(rd.offset+pageSize, len(rd.items))
	vals := []any{}
	for _, it := range rd.items[rd.offset:end] {
		vals = append(vals, messageJSON(it, rd.select_))
	}
	rd.offset = end
	link := s.URL() + "/users/" + url.PathEscape(b.user) + "/mailFolders('" + f.ID + "')/messages/delta?"
	out := map[string]any{"@odata.context": s.URL() + "/$metadata#Collection(message)", "value": vals}
	tok := randToken()
	if rd.offset < len(rd.items) {
		s.rounds[tok] = rd
		out["@odata.nextLink"] = link + "$skiptoken=" + tok
	} else {
		s.deltas[tok] = deltaState{user: b.user, folder: f.ID, since: rd.upto, select_: rd.select_}
		out["@odata.deltaLink"] = link + "$deltatoken=" + tok
	}
	writeJSON(w, 200, out)
}

// newRound snapshots the changes after since: messages in the folder that
// changed, and messages that left it.
func (s *Server) newRound(b *mailbox, f *folder, since int64, sel []string) *round {
	rd := &round{user: b.user, folder: f.ID, select_: sel, upto: s.seq}
	for _, m := range b.sorted() {
		if m.folder == f.ID && m.changed > since {
			rd.items = append(rd.items, item{msg: *m})
		}
	}
	if since > 0 {
		for _, rm := range b.removed {
			if rm.folder == f.ID && rm.seq > since {
				rd.items = append(rd.items, item{msg: message{id: rm.id}, removed: true})
			}
		}
	}
	return rd
}

func randToken() string {
	var b [12]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func messageJSON(it item, sel []string) map[string]any {
	if it.removed {
		return map[string]any{"@odata.type": "#microsoft.graph.message", "id": it.msg.id, "@removed": map[string]string{"reason": "deleted"}}
	}
	m := it.msg
	full := map[string]any{"receivedDateTime": m.received.Format(time.RFC3339), "parentFolderId": m.folder, "isRead": false}
	if pm, err := mail.ReadMessage(bytes.NewReader(m.raw)); err == nil {
		full["subject"] = pm.Header.Get("Subject")
		full["internetMessageId"] = pm.Header.Get("Message-ID")
	}
	out := map[string]any{"@odata.type": "#microsoft.graph.message",
		"@odata.etag": fmt.Sprintf("W/\"CQAAABYAAAA%d\"", m.changed), "id": m.id}
	for k, v := range full {
		if len(sel) == 0 || slices.Contains(sel, k) {
			out[k] = v
		}
	}
	return out
}

func (s *Server) value(w http.ResponseWriter, b *mailbox, id string) {
	s.count("value")
	m := b.msgs[id]
	if m == nil {
		writeErr(w, graphErr{status: 404, code: "ErrorItemNotFound", msg: "The specified object was not found in the store."})
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("Content-Length", strconv.Itoa(len(m.raw)))
	w.WriteHeader(200)
	w.Write(m.raw)
}

func (s *Server) move(w http.ResponseWriter, r *http.Request, b *mailbox, id string) {
	s.count("move")
	if s.faults.moveFail > 0 {
		s.faults.moveFail--
		writeErr(w, graphErr{status: 500, code: "ErrorInternalServerError", msg: "An internal server error occurred. The operation failed."})
		return
	}
	var in struct {
		DestinationID string `json:"destinationId"`
	}
	if json.NewDecoder(r.Body).Decode(&in) != nil || in.DestinationID == "" {
		writeErr(w, graphErr{status: 400, code: "ErrorInvalidRequest", msg: "destinationId is required"})
		return
	}
	m := b.msgs[id]
	if m == nil {
		writeErr(w, graphErr{status: 404, code: "ErrorItemNotFound", msg: "The specified object was not found in the store."})
		return
	}
	dst := b.byID(in.DestinationID)
	if dst == nil {
		writeErr(w, graphErr{status: 404, code: "ErrorItemNotFound", msg: "The specified folder was not found in the store."})
		return
	}
	if s.onMove != nil {
		s.onMove(m.raw, dst.Name)
	}
	// A move creates a new copy with a new id and removes the original.
	s.seq++
	b.removed = append(b.removed, removal{id: id, folder: m.folder, seq: s.seq})
	delete(b.msgs, id)
	nm := &message{id: s.newID("M"), folder: dst.ID, raw: m.raw, received: m.received, changed: s.seq}
	b.msgs[nm.id] = nm
	writeJSON(w, 201, messageJSON(item{msg: *nm}, nil))
}

func (s *Server) sendMail(w http.ResponseWriter, r *http.Request, b *mailbox) {
	s.count("sendmail")
	body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		writeErr(w, graphErr{status: 400, code: "ErrorNotSupportedByFake", msg: "the fake accepts only MIME (text/plain) sendMail, got " + ct})
		return
	}
	clean := strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, string(body))
	raw, err := base64.StdEncoding.DecodeString(clean)
	if err != nil || len(raw) == 0 {
		writeErr(w, graphErr{status: 400, code: "ErrorMimeContentInvalidBase64String", msg: "Invalid base64 string for MIME content."})
		return
	}
	if _, err := mail.ReadMessage(bytes.NewReader(raw)); err != nil {
		writeErr(w, graphErr{status: 400, code: "ErrorMimeContentInvalid", msg: "Invalid MIME content."})
		return
	}
	b.sent = append(b.sent, raw)
	if sent := b.find("sentitems"); sent != nil {
		s.seq++
		id := s.newID("M")
		b.msgs[id] = &message{id: id, folder: sent.ID, raw: raw, received: time.Now().UTC(), changed: s.seq}
	}
	w.WriteHeader(http.StatusAccepted)
}

// --- token endpoint ---

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count("token")
	fail := func(status int, code, desc string) {
		s.count("token_error")
		writeJSON(w, status, map[string]any{"error": code, "error_description": desc, "error_codes": []int{0},
			"timestamp": time.Now().UTC().Format("2006-01-02 15:04:05Z"), "trace_id": "fake", "correlation_id": "fake"})
	}
	if r.Method != http.MethodPost || r.ParseForm() != nil {
		fail(400, "invalid_request", "AADSTS900561: The endpoint only accepts POST requests.")
		return
	}
	if !strings.EqualFold(strings.Trim(r.URL.Path, "/"), url.PathEscape(s.o.Tenant)+"/oauth2/v2.0/token") &&
		!strings.EqualFold(strings.Trim(r.URL.Path, "/"), s.o.Tenant+"/oauth2/v2.0/token") {
		fail(400, "invalid_request", "AADSTS90002: Tenant not found.")
		return
	}
	if s.tokenErr != "" {
		fail(401, s.tokenErr, "AADSTS7000222: The provided client secret keys are expired.")
		return
	}
	f := r.PostForm
	switch {
	case f.Get("grant_type") != "client_credentials":
		fail(400, "unsupported_grant_type", "AADSTS70003: The app requested an unsupported grant type.")
		return
	case f.Get("client_id") != s.o.ClientID:
		fail(400, "unauthorized_client", "AADSTS700016: Application not found in the directory.")
		return
	case f.Get("scope") != GraphScope:
		fail(400, "invalid_scope", "AADSTS70011: The provided value for the input parameter 'scope' is not valid.")
		return
	}
	switch {
	case f.Has("client_secret"):
		if s.o.ClientSecret == "" || f.Get("client_secret") != s.o.ClientSecret {
			fail(401, "invalid_client", "AADSTS7000215: Invalid client secret provided.")
			return
		}
	case f.Get("client_assertion_type") == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
		a, err := s.verifyAssertion(f.Get("client_assertion"), s.srv.URL+r.URL.Path)
		if err != nil {
			fail(401, "invalid_client", "AADSTS700027: Client assertion failed signature validation: "+err.Error())
			return
		}
		s.lastJWT = a
	default:
		fail(401, "invalid_client", "AADSTS7000218: The request body must contain client_assertion or client_secret.")
		return
	}
	tok := "fake." + randToken()
	s.tokens[tok] = time.Now().Add(s.o.TokenTTL)
	writeJSON(w, 200, map[string]any{"token_type": "Bearer", "expires_in": int(s.o.TokenTTL / time.Second),
		"ext_expires_in": int(s.o.TokenTTL / time.Second), "access_token": tok})
}

func (s *Server) verifyAssertion(jwt, aud string) (*Assertion, error) {
	if s.o.Certificate == nil {
		return nil, fmt.Errorf("no certificate registered")
	}
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("not a JWS compact serialization")
	}
	a := &Assertion{}
	for i, dst := range []*map[string]any{&a.Header, &a.Claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			return nil, fmt.Errorf("part %d: %v", i, err)
		}
		if err := json.Unmarshal(b, dst); err != nil {
			return nil, fmt.Errorf("part %d: %v", i, err)
		}
	}
	if a.Header["alg"] != "RS256" {
		return nil, fmt.Errorf("alg %v, want RS256", a.Header["alg"])
	}
	thumb := sha1.Sum(s.o.Certificate.Raw)
	if a.Header["x5t"] != base64.RawURLEncoding.EncodeToString(thumb[:]) {
		return nil, fmt.Errorf("x5t %v does not name the registered certificate (%s)", a.Header["x5t"], hex.EncodeToString(thumb[:]))
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, fmt.Errorf("signature: %v", err)
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(s.o.Certificate.PublicKey.(*rsa.PublicKey), crypto.SHA256, sum[:], sig); err != nil {
		return nil, fmt.Errorf("signature does not verify")
	}
	now := float64(time.Now().Unix())
	switch {
	case a.Claims["aud"] != aud:
		return nil, fmt.Errorf("aud %v, want %s", a.Claims["aud"], aud)
	case a.Claims["iss"] != s.o.ClientID || a.Claims["sub"] != s.o.ClientID:
		return nil, fmt.Errorf("iss and sub must be the client id")
	}
	exp, _ := a.Claims["exp"].(float64)
	nbf, _ := a.Claims["nbf"].(float64)
	jti, _ := a.Claims["jti"].(string)
	switch {
	case exp <= now:
		return nil, fmt.Errorf("assertion expired")
	case nbf > now+60:
		return nil, fmt.Errorf("assertion not yet valid")
	case exp-nbf > 600:
		return nil, fmt.Errorf("assertion valid for more than 10 minutes")
	case jti == "" || s.jtis[jti]:
		return nil, fmt.Errorf("jti missing or replayed")
	}
	s.jtis[jti] = true
	return a, nil
}
