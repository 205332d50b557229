package desk

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode"

	"github.com/mesadeservicios/mesa/internal/i18n"
	"github.com/mesadeservicios/mesa/rules"
	"github.com/mesadeservicios/mesa/ticket"
)

// Duplicates, mass incidents and merges: tickets about one thing become
// one thread of work.

// Link kinds.
const (
	linkMass   = "mass"   // a mass incident's child: closed with its parent's answer
	linkMerged = "merged" // merged into its parent (#unir): closed, history copied
)

// The duplicate thresholds on Similarity: a mail at or above
// DuplicateStrong and of the same category as an open ticket of its
// requester from the last DuplicateWindow is a comment on that ticket; at
// or above DuplicatePossible (any category) it opens a ticket flagged as a
// possible duplicate. Chosen on the pairs of links_test.go: rewordings of
// one problem score 0.75–0.95, two problems of one thing (a printer that
// does not print, its toner) about 0.55, unrelated problems under 0.1.
const (
	DuplicateStrong   = 0.65
	DuplicatePossible = 0.3
)

// stopwords are the words that say nothing about what a mail is about.
var stopwords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`
		que los las del por para con una uno unos unas como pero mas sus este esta estos estas ese esa eso esto
		hay muy sin sobre bueno buena dia tarde noche entre cuando donde desde hasta porque tambien ya todo toda todos todas otra otro
		nos les fue ser son era estan esta estoy tengo tiene tienen hace favor buenos buenas dias tardes
		noches hola gracias cordial saludo saludos quedo atento atenta atentamente solicito solicitud
		ayuda ayudar necesito puede pueden podrian podria mesa servicios servicio caso mucho
		the and for with this that from have has are was not but you your please thanks hello regards`) {
		stopwords[w] = true
	}
}

// words is the set of content words of a text: folded (lower case, no
// accents), split at anything but letters and digits, without stopwords
// and words under three characters, a plural "s" dropped.
func words(text string) map[string]bool {
	set := map[string]bool{}
	for _, w := range strings.FieldsFunc(rules.Fold(text), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if stopwords[w] {
			continue
		}
		if len(w) > 4 && strings.HasSuffix(w, "s") {
			w = w[:len(w)-1]
		}
		if len(w) < 3 || stopwords[w] {
			continue
		}
		set[w] = true
		if len(set) >= 2000 {
			break // bounded: a pasted log says what it is about in its first words
		}
	}
	return set
}

// Similarity is the cosine of two texts as sets of content words
// (|A∩B| / √(|A|·|B|)), from 0 (nothing in common) to 1 (the same words).
func Similarity(a, b string) float64 {
	wa, wb := words(a), words(b)
	if len(wa) == 0 || len(wb) == 0 {
		return 0
	}
	common := 0
	for w := range wa {
		if wb[w] {
			common++
		}
	}
	return float64(common) / math.Sqrt(float64(len(wa))*float64(len(wb)))
}

// sameThing finds the open ticket of the sender from the last
// DuplicateWindow closest to a new mail: the best score, and whether the
// match is strong (same category, score at or above DuplicateStrong).
// repeated says that one of those tickets was opened by this very body,
// word for word (what store.RepeatedRequest looks for, found without
// asking it). member says the sender takes part in same already.
func (d *Desk) sameThing(ctx context.Context, m *inMail, body string) (same *ticket.Ticket, score float64, strong, repeated, member bool, err error) {
	recent, firsts, members, err := d.store.RecentOpenTicketsWithFirst(ctx, m.sender, d.now().Add(-DuplicateWindow))
	if err != nil || len(recent) == 0 {
		return nil, 0, false, false, false, err
	}
	text := title(m.in.Subject, d.cfg.Prefix) + "\n" + rules.Clean(body)
	cat := d.classify.Classify(rules.Message{From: m.sender, Subject: m.in.Subject, Body: body}).Category
	for _, t := range recent {
		if first, ok := firsts[t.ID]; ok && first == body {
			repeated = true
		}
		if s := Similarity(text, t.Subject+"\n"+rules.Clean(firsts[t.ID])); s > score || same == nil {
			same, score = t, s
		}
	}
	return same, score, same.Category == cat && score >= DuplicateStrong, repeated, members[same.ID], nil
}

// fresh handles a mail that continues no ticket: desk commands from staff,
// a comment on the sender's open ticket about the same thing, or a new
// ticket (flagged when it may repeat one).
func (d *Desk) fresh(ctx context.Context, m *inMail, body string) (IntakeResult, int64, error) {
	if res, ok, err := d.deskMail(ctx, m, body); ok || err != nil {
		return res, 0, err
	}
	same, score, strong, repeated, member, err := d.sameThing(ctx, m, body)
	if err != nil {
		return IntakeResult{}, 0, err
	}
	if strong {
		m.thread, m.how = same, fmt.Sprintf("same requester and subject as %s within 24 h (similarity %.2f)", same.Number, score)
		m.member = member
		res, id, err := d.reply(ctx, m, comment(body, d.cfg.Language), false)
		if err != nil {
			return res, id, err
		}
		// A responder without RFC 3834 headers that repeats itself lands
		// here: the notice counts for, and may be held by, the loop throttle.
		// A repeat of a recent open ticket's first message (within
		// DuplicateWindow, the 24 h of looksAutomatic) is one already.
		auto := repeated
		if !auto {
			if auto, err = d.looksAutomatic(ctx, m.in, m.sender, body); err != nil {
				return res, id, err
			}
		}
		n := &ticket.Notice{Ticket: same, To: same.Requester, ToName: same.RequesterName, Lang: d.langFor(same.Requester),
			InReplyTo: m.msg.Key, At: d.now().UTC(), DedupeKey: d.senderKey(ctx, m, "linked:"+m.msg.Key), Payload: ticket.LinkedNotice{},
			AnswersAutomatic: auto}
		_, _, err = d.queue(ctx, n)
		return res, id, err
	}
	var details map[string]any
	if same != nil && score >= DuplicatePossible {
		details = map[string]any{"possible_duplicate": same.Number, "similarity": math.Round(score*100) / 100}
	}
	res, id, err := d.newTicket(ctx, m, body, details)
	if err != nil || details == nil {
		return res, id, err
	}
	_, err = d.change(ctx, res.Ticket, func(ctx context.Context, t *ticket.Ticket, now time.Time) error {
		if err := d.record(ctx, t, &ticket.Event{Kind: ticket.EventNote, Actor: ticket.SystemActor, At: now,
			Body: i18n.Tf(d.cfg.Language, "desk.note.possible_duplicate", same.Number, score)}); err != nil {
			return err
		}
		if t.Assignee == "" {
			return nil
		}
		_, _, err := d.queue(ctx, &ticket.Notice{Ticket: t, To: t.Assignee, Lang: d.cfg.Language, At: now,
			DedupeKey: "duplicate:" + t.Number, Payload: ticket.DuplicateNotice{Other: same.Number, Score: score}})
		return err
	})
	return res, id, err
}

// massCheck raises the mass-incident alert when t makes MassThreshold
// open tickets of its category within MassWindow: one alert per burst (a
// category alerted within the window is not alerted again while its
// tickets keep coming), to the group's technicians and managers, with the
// command that links them under the first.
func (d *Desk) massCheck(ctx context.Context, t *ticket.Ticket) error {
	if d.cfg.MassThreshold <= 0 || t.Category == ticket.Unclassified || t.Group == "" {
		return nil
	}
	now := d.now()
	// The count and the last alert first, in one round trip: the tickets
	// themselves are read only for an alert.
	n, last, err := d.store.MassPressure(ctx, t.Category, now.Add(-d.cfg.MassWindow), d.cfg.MassThreshold)
	if err != nil || n < d.cfg.MassThreshold {
		return err
	}
	alerted := !last.IsZero() && now.Sub(last) < d.cfg.MassWindow
	if err := d.store.SetMassAlert(ctx, t.Category, now); err != nil || alerted {
		return err // a burst already alerted goes on: the window slides
	}
	ts, err := d.store.CategoryTicketsSince(ctx, t.Category, now.Add(-d.cfg.MassWindow))
	if err != nil || len(ts) == 0 {
		return err
	}
	numbers := make([]string, len(ts))
	for i, x := range ts {
		numbers[i] = x.Number
	}
	people, err := d.store.GroupPeople(ctx, t.Group)
	if err != nil {
		return err
	}
	p := ticket.MassIncidentNotice{Category: t.Category, Window: d.cfg.MassWindow, Tickets: ts,
		Command: "#masivo " + strings.Join(numbers, " ")}
	for _, q := range people {
		if q.Role != ticket.RoleTechnician && q.Role != ticket.RoleManager {
			continue
		}
		// About the first ticket: a reply to the alert threads with it,
		// the parent the command names first.
		n := &ticket.Notice{Ticket: ts[0], To: q.Email, Lang: d.cfg.Language, At: now.UTC(),
			DedupeKey: fmt.Sprintf("mass:%s:%s:%s", t.Category, ts[0].Number, q.Email), Payload: p}
		if _, _, err := d.queue(ctx, n); err != nil {
			return err
		}
	}
	d.log.Warn("possible mass incident", "category", t.Category, "group", t.Group, "tickets", len(ts))
	return nil
}

// cmdMass is "#masivo MS-… MS-…" (or #vincular): the tickets named become
// children of the ticket replied to (in a new mail: of the first one
// named). Closing the parent closes each child with the parent's answer,
// which reaches each child's requester.
func (d *Desk) cmdMass(ctx context.Context, c cmdCall) (string, error) {
	numbers, err := ticketNumbers(c.arg, d.cfg.Prefix, d.cfg.Language)
	if err != nil {
		return "", err
	}
	parent := c.number
	if parent == "" && len(numbers) > 0 {
		parent, numbers = numbers[0], numbers[1:]
	}
	var children []string
	for _, n := range numbers {
		if n != parent {
			children = append(children, n)
		}
	}
	lang := d.cfg.Language
	if parent == "" || len(children) == 0 {
		return "", shown(ticket.ErrInvalid, i18n.T(lang, "desk.cmd.mass_usage"))
	}
	err = d.store.InTx(ctx, func(ctx context.Context) error {
		_, err := d.change(ctx, parent, func(ctx context.Context, p *ticket.Ticket, now time.Time) error {
			if !p.State.Open() {
				return shown(ticket.ErrInvalid, i18n.Tf(lang, "desk.cmd.closed", p.Number))
			}
			if _, _, err := d.store.ParentOf(ctx, p.ID); err == nil {
				return shown(ticket.ErrInvalid, i18n.Tf(lang, "desk.cmd.already_linked", p.Number))
			} else if !errors.Is(err, ticket.ErrNotFound) {
				return err
			}
			for _, n := range children {
				if _, err := d.change(ctx, n, func(ctx context.Context, ch *ticket.Ticket, now time.Time) error {
					if !ch.State.Open() {
						return shown(ticket.ErrInvalid, i18n.Tf(lang, "desk.cmd.closed", ch.Number))
					}
					if err := d.store.LinkTicket(ctx, p.ID, ch.ID, linkMass, now); errors.Is(err, ticket.ErrAlreadyStored) {
						return shown(ticket.ErrInvalid, i18n.Tf(lang, "desk.cmd.already_linked", ch.Number))
					} else if err != nil {
						return err
					}
					return d.record(ctx, ch, &ticket.Event{Kind: ticket.EventNote, Actor: c.p.Email, At: now,
						Body: i18n.Tf(lang, "desk.note.mass_child", p.Number)})
				}); err != nil {
					return err
				}
			}
			return d.record(ctx, p, &ticket.Event{Kind: ticket.EventNote, Actor: c.p.Email, At: now,
				Body: i18n.Tf(lang, "desk.note.mass_parent", strings.Join(children, ", "))})
		})
		return err
	})
	if err != nil {
		return "", err
	}
	return i18n.Tf(lang, "desk.cmd.mass_done", len(children), parent), nil
}

// closeChildren closes the open mass-incident children of a parent just
// closed, each with the parent's answer (their requesters get it as their
// closure notice).
func (d *Desk) closeChildren(ctx context.Context, parent *ticket.Ticket, actor, note string, now time.Time) error {
	children, err := d.store.LinkedChildren(ctx, parent.ID, linkMass)
	if err != nil {
		return err
	}
	for _, ch := range children {
		if ch.State == ticket.Cerrado || ch.State == ticket.AbiertoPorEncuesta {
			continue
		}
		for _, next := range ch.State.PathTo(ticket.Cerrado) {
			if err := d.step(ctx, ch, next, actor, note, now); err != nil {
				return fmt.Errorf("closing %s with its parent %s: %w", ch.Number, parent.Number, err)
			}
		}
		ch.UpdatedAt = now
		scheduleSLA(ch)
		if err := d.store.UpdateTicket(ctx, ch); err != nil {
			return err
		}
	}
	return nil
}

// cmdMerge is "#unir MS-…" in a reply to a ticket: the ticket named is
// merged into the one replied to. Its request, comments and notes are
// copied here, its attachments and participants move here, and it closes
// with a reference to this ticket (its requester is told by the closure
// notice); later replies to its mail land here.
func (d *Desk) cmdMerge(ctx context.Context, c cmdCall) (string, error) {
	lang := d.cfg.Language
	numbers, err := ticketNumbers(c.arg, d.cfg.Prefix, d.cfg.Language)
	if err != nil {
		return "", err
	}
	if c.number == "" || len(numbers) != 1 || numbers[0] == c.number {
		return "", shown(ticket.ErrInvalid, i18n.T(lang, "desk.cmd.merge_usage"))
	}
	err = d.store.InTx(ctx, func(ctx context.Context) error {
		_, err := d.change(ctx, c.number, func(ctx context.Context, into *ticket.Ticket, now time.Time) error {
			if !into.State.Open() {
				return shown(ticket.ErrInvalid, i18n.Tf(lang, "desk.cmd.closed", into.Number))
			}
			_, err := d.change(ctx, numbers[0], func(ctx context.Context, from *ticket.Ticket, now time.Time) error {
				if !from.State.Open() {
					return shown(ticket.ErrInvalid, i18n.Tf(lang, "desk.cmd.closed", from.Number))
				}
				if err := d.store.LinkTicket(ctx, into.ID, from.ID, linkMerged, now); errors.Is(err, ticket.ErrAlreadyStored) {
					return shown(ticket.ErrInvalid, i18n.Tf(lang, "desk.cmd.already_linked", from.Number))
				} else if err != nil {
					return err
				}
				if err := d.store.MergeTicket(ctx, from, into); err != nil {
					return err
				}
				if err := d.store.AddParticipants(ctx, into.ID, from.Requester); err != nil {
					return err
				}
				solution := i18n.Tf(d.langFor(from.Requester), "desk.merged_into", into.Number)
				for _, next := range from.State.PathTo(ticket.Cerrado) {
					if err := d.step(ctx, from, next, c.p.Email, solution, now); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
			return d.record(ctx, into, &ticket.Event{Kind: ticket.EventNote, Actor: c.p.Email, At: now,
				Body: i18n.Tf(lang, "desk.note.merged_from", numbers[0])})
		})
		return err
	})
	if err != nil {
		return "", err
	}
	return i18n.Tf(lang, "desk.cmd.merge_done", numbers[0], c.number), nil
}

// mergedParent is the ticket t was merged into, or t.
func (d *Desk) mergedParent(ctx context.Context, t *ticket.Ticket) (*ticket.Ticket, error) {
	for range 5 { // a merged ticket's parent may be merged too; never loop
		id, kind, err := d.store.ParentOf(ctx, t.ID)
		if errors.Is(err, ticket.ErrNotFound) || err == nil && kind != linkMerged {
			return t, nil
		}
		if err != nil {
			return nil, err
		}
		if t, err = d.store.TicketByID(ctx, id); err != nil {
			return nil, err
		}
	}
	return t, nil
}
