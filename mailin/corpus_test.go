package mailin_test

import (
	"context"
	"encoding/json"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/desk"
	"github.com/mesadeservicios/mesa/mailin"
	"github.com/mesadeservicios/mesa/rules"
	"github.com/mesadeservicios/mesa/sla"
	"github.com/mesadeservicios/mesa/store"
	"github.com/mesadeservicios/mesa/ticket"
)

var update = flag.Bool("update", false, "rewrite the golden files' dispositions from what intake does")

// golden is what a corpus file must give: parsed fields and the
// disposition of `mesa ingest` when the whole corpus is ingested in name
// order into an empty database.
type golden struct {
	Disposition   string   `json:"disposition"`
	Subject       *string  `json:"subject,omitempty"`
	From          *string  `json:"from,omitempty"`
	TextContains  []string `json:"text_contains,omitempty"`
	Attachments   []string `json:"attachments,omitempty"`
	AutoSubmitted *bool    `json:"auto_submitted,omitempty"`
	Bounce        *bool    `json:"bounce,omitempty"`
	MessageID     *string  `json:"message_id,omitempty"`
}

func corpusFiles(t testing.TB) []string {
	files, err := filepath.Glob("testdata/corpus/*.eml")
	if err != nil || len(files) < 40 {
		t.Fatalf("want at least 40 corpus files, got %d (%v)", len(files), err)
	}
	sort.Strings(files)
	return files
}

func TestCorpusGolden(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite", filepath.Join(t.TempDir(), "m.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	eng, _ := rules.Default()
	cal, _ := sla.New(sla.Options{})
	now := time.Date(2026, 3, 24, 14, 0, 0, 0, time.UTC)
	r := mustRenderer(t)
	d, err := desk.New(desk.Deps{Files: mailin.Decoder{}, Store: db, Mail: r, Classifier: eng, Calendar: cal, Logger: slog.New(slog.DiscardHandler),
		Now: func() time.Time { return now }, Config: desk.Config{Addresses: []string{"mesa@entidad.gov.co", "soporte@entidad.gov.co"}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range corpusFiles(t) {
		name := strings.TrimSuffix(filepath.Base(f), ".eml")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			gpath := strings.TrimSuffix(f, ".eml") + ".golden.json"
			var g golden
			b, err := os.ReadFile(gpath)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &g); err != nil {
				t.Fatalf("%s: %v", gpath, err)
			}
			in, _ := mailin.Parse(raw)
			if g.Subject != nil && in.Subject != *g.Subject {
				t.Errorf("subject: got %q, want %q", in.Subject, *g.Subject)
			}
			if g.From != nil && in.From.Email != *g.From {
				t.Errorf("from: got %q, want %q", in.From.Email, *g.From)
			}
			for _, s := range g.TextContains {
				if !strings.Contains(in.Text, s) {
					t.Errorf("text lacks %q:\n%s", s, in.Text)
				}
			}
			if g.Attachments != nil {
				var names []string
				for _, a := range in.Attachments {
					names = append(names, a.Filename)
				}
				if strings.Join(names, "|") != strings.Join(g.Attachments, "|") {
					t.Errorf("attachments: got %q, want %q", names, g.Attachments)
				}
			}
			if g.AutoSubmitted != nil && in.AutoSubmitted != *g.AutoSubmitted {
				t.Errorf("auto-submitted: got %v, want %v", in.AutoSubmitted, *g.AutoSubmitted)
			}
			if g.Bounce != nil && in.Bounce != *g.Bounce {
				t.Errorf("bounce: got %v, want %v", in.Bounce, *g.Bounce)
			}
			if g.MessageID != nil && in.MessageID != *g.MessageID {
				t.Errorf("message-id: got %q, want %q", in.MessageID, *g.MessageID)
			}
			res, err := d.Intake(ctx, raw, in, ticket.Source{Mailbox: "file", ReceivedAt: now})
			if err != nil {
				t.Fatalf("intake: %v", err)
			}
			if string(res.Disposition) != g.Disposition {
				if *update {
					g.Disposition = string(res.Disposition)
					out, _ := json.MarshalIndent(g, "", " ")
					os.WriteFile(gpath, append(out, '\n'), 0o644)
				}
				t.Errorf("disposition: got %s (%s %s), want %s", res.Disposition, res.Ticket, res.Reason, g.Disposition)
			}
		})
	}

	// Side effects the dispositions alone do not show.
	first, err := db.TicketByNumber(ctx, "MS-2026-000001")
	if err != nil || first.Subject != "La impresora del piso 3 no imprime" {
		t.Fatalf("first ticket: %+v %v", first, err)
	}
	evs, _ := db.Events(ctx, first.ID)
	kinds := map[ticket.EventKind]int{}
	for _, e := range evs {
		kinds[e.Kind]++
	}
	// Five replies (t02–t07 but t08, the stranger), one bounce, one automatic reply.
	if kinds[ticket.EventComment] != 6 || kinds[ticket.EventMailFailed] != 1 || kinds[ticket.EventNote] != 1 {
		t.Errorf("events of the first ticket: %v", kinds)
	}
	ack, err := db.MailByDedupeKey(ctx, "ack:MS-2026-000001")
	if err != nil || ack.State != ticket.OutboxFailed || !strings.Contains(ack.LastError, "5.2.2") {
		t.Errorf("bounced acknowledgement: %+v %v", ack, err)
	}
	for email, want := range map[string]bool{"jefe@entidad.gov.co": true, "mesa@entidad.gov.co": false, "extrano@otro.com": false} {
		if got, _ := db.IsParticipant(ctx, first.ID, email); got != want {
			t.Errorf("participant %s: got %v, want %v", email, got, want)
		}
	}
	list, _ := db.ListTickets(ctx, store.TicketFilter{Limit: 1000})
	requesters := map[string]string{}
	for _, tk := range list {
		requesters[tk.Requester] = tk.Subject
		if strings.Contains(tk.Subject, "MS-2026-999999") || strings.HasPrefix(tk.Subject, "RV:") {
			t.Errorf("title keeps a tag or a forward prefix: %q", tk.Subject)
		}
		if tk.Requester == "mesa@entidad.gov.co" || tk.Requester == "soporte@entidad.gov.co" {
			t.Errorf("a desk address became a requester: %+v", tk)
		}
	}
	if requesters["juan@entidad.gov.co"] != "Teams no abre" {
		t.Errorf("list rewrite: the requester should be juan, got %v", requesters)
	}
}

func FuzzParseCorpus(f *testing.F) {
	for _, p := range corpusFiles(f) {
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		start := time.Now()
		in, _ := mailin.Parse(raw)
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("%d bytes took %v", len(raw), d)
		}
		if in == nil {
			t.Fatal("nil Inbound")
		}
		// Output bounded by the input (windows-1252 decoding triples a byte
		// at most; quote marks and link addresses add a little) and by the
		// parse budget.
		if n := len(in.Text) + len(in.HTML); n > 8*len(raw)+1024 {
			t.Fatalf("%d bytes of text from %d of input", n, len(raw))
		}
		if len(in.Text) > mailin.MaxTextBytes+200 || len(in.HTML) > mailin.MaxTextBytes+200 || len(in.Attachments) > mailin.MaxParts {
			t.Fatalf("budget exceeded: text %d, html %d, %d attachments", len(in.Text), len(in.HTML), len(in.Attachments))
		}
		kept := 0
		for _, a := range in.Attachments {
			kept += len(a.Data)
		}
		if kept > len(raw) || kept > mailin.MaxKeptTotal {
			t.Fatalf("%d attachment bytes kept from %d of input", kept, len(raw))
		}
		for _, a := range in.Attachments {
			if strings.ContainsAny(a.Filename, "/\\\x00") || a.Filename == "" {
				t.Fatalf("unsafe attachment name %q", a.Filename)
			}
		}
	})
}
