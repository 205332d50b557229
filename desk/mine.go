package desk

import (
	"context"
	"errors"
	"net/mail"
	"strings"
	"time"

	"github.com/mesadeservicios/mesa/internal/i18n"
	"github.com/mesadeservicios/mesa/ticket"
)

// "Mis solicitudes": anyone who can read a mailbox can list the tickets it
// created, without an account. The page asks for an address and always
// answers the same; when the address has tickets a link (256-bit token,
// stored hashed, valid MyTicketsTTL) is mailed to it.

// MyTicketsTTL is how long a "Mis solicitudes" link works.
const MyTicketsTTL = 30 * time.Minute

// myTicketsPerHour bounds the links mailed to one address per hour.
const myTicketsPerHour = 3

// MineStore is what "Mis solicitudes" needs from storage.
type MineStore interface {
	CreateMagicLink(ctx context.Context, tokenHash, email string, created, expires time.Time) error
	MagicLink(ctx context.Context, tokenHash string) (string, time.Time, error)
	CountMagicLinks(ctx context.Context, email string, since time.Time) (int, error)
	TicketsByRequester(ctx context.Context, email string, limit int) ([]*ticket.Ticket, error)
}

// ErrLinkExpired is returned for a link past its time.
var ErrLinkExpired = errors.New("link expired")

// RequestMyTickets mails a link to the tickets of addr, when it has any
// and has not asked too often; it says nothing either way, so the page
// cannot tell who has tickets. Only a malformed address is an error.
func (d *Desk) RequestMyTickets(ctx context.Context, addr string) error {
	a, err := mail.ParseAddress(strings.TrimSpace(addr))
	if err != nil || len(a.Address) > 254 {
		return shown(ticket.ErrInvalid, i18n.T(d.langFor(strings.TrimSpace(addr)), "desk.mine.bad_address"))
	}
	email := strings.ToLower(a.Address)
	ms := d.store
	if d.isOwn(email) {
		return nil
	}
	now := d.now().UTC()
	return d.store.InTx(ctx, func(ctx context.Context) error {
		n, err := ms.CountMagicLinks(ctx, email, now.Add(-time.Hour))
		if err != nil || n >= myTicketsPerHour {
			return err
		}
		ts, err := ms.TicketsByRequester(ctx, email, 1)
		if err != nil || len(ts) == 0 {
			return err
		}
		token, hash := newLinkToken()
		if err := ms.CreateMagicLink(ctx, hash, email, now, now.Add(MyTicketsTTL)); err != nil {
			return err
		}
		_, _, err = d.queue(ctx, &ticket.Notice{To: email, Lang: d.langFor(email), At: now, DedupeKey: "mine:" + hash,
			Payload: ticket.MineNotice{Token: token}})
		return err
	})
}

// MyTickets returns the address of a link and its tickets (at most 200,
// newest first).
func (d *Desk) MyTickets(ctx context.Context, token string) (string, []*ticket.Ticket, error) {
	email, err := d.linkOwner(ctx, token)
	if err != nil {
		return "", nil, err
	}
	ts, err := d.store.TicketsByRequester(ctx, email, 200)
	return email, ts, err
}

// LookupMine shows one ticket of a link's address, like Lookup.
func (d *Desk) LookupMine(ctx context.Context, token, number string) (*View, error) {
	email, err := d.linkOwner(ctx, token)
	if err != nil {
		return nil, err
	}
	n, err := ticket.ParseNumber(strings.TrimSpace(number))
	if err != nil {
		return nil, ticket.ErrNotFound
	}
	t, err := d.store.TicketByNumber(ctx, n.String())
	if errors.Is(err, ticket.ErrNotFound) || err == nil && t.Requester != email {
		return nil, ticket.ErrNotFound // another person's ticket looks like no ticket
	}
	if err != nil {
		return nil, err
	}
	return d.view(ctx, t)
}

func (d *Desk) linkOwner(ctx context.Context, token string) (string, error) {
	if len(token) < 20 || len(token) > 100 {
		return "", ticket.ErrNotFound
	}
	email, expires, err := d.store.MagicLink(ctx, ticket.HashAccessKey(token))
	if err != nil {
		return "", err
	}
	if !d.now().Before(expires) {
		return "", ErrLinkExpired
	}
	return email, nil
}
