package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/mesadeservicios/mesa/ticket"
)

// TicketsOfPerson returns every ticket email requested or took part in,
// oldest first: what a personal-data consultation (Ley 1581 de 2012)
// covers.
func (db *DB) TicketsOfPerson(ctx context.Context, email string) ([]*ticket.Ticket, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	return db.tickets(ctx, "tickets of "+email, `SELECT `+ticketCols+` FROM tickets WHERE requester = ?
		OR id IN (SELECT ticket_id FROM ticket_participants WHERE email = ?) ORDER BY id`, email, email)
}

// MessagesOfTicket returns the inbound messages of a ticket with their raw
// bytes (empty once purged), in arrival order.
func (db *DB) MessagesOfTicket(ctx context.Context, ticketID int64) ([]*ticket.RawMessage, error) {
	return db.messagesWhere(ctx, `ticket_id = ?`, ticketID)
}

// MessagesFromWithoutTicket returns the messages from email that went to
// no ticket (automatic replies, quarantine).
func (db *DB) MessagesFromWithoutTicket(ctx context.Context, email string) ([]*ticket.RawMessage, error) {
	return db.messagesWhere(ctx, `ticket_id IS NULL AND LOWER(from_addr) = ?`, strings.ToLower(strings.TrimSpace(email)))
}

func (db *DB) messagesWhere(ctx context.Context, where string, args ...any) ([]*ticket.RawMessage, error) {
	rows, err := db.query(ctx, `SELECT `+messageCols+` FROM messages WHERE `+where+` ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("reading messages: %w", err)
	}
	var out []*ticket.RawMessage
	var chunks []int
	for rows.Next() {
		m, c, err := scanMessage(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("reading messages: %w", err)
		}
		out, chunks = append(out, m), append(chunks, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading messages: %w", db.translate(err))
	}
	for i, m := range out {
		if err := db.readChunks(ctx, m, chunks[i]); err != nil {
			return nil, fmt.Errorf("reading message %d: %w", m.ID, err)
		}
	}
	return out, nil
}

// MailTo returns every outbox mail addressed to email, oldest first.
func (db *DB) MailTo(ctx context.Context, email string) ([]*ticket.Outgoing, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	// to_addrs is newline-separated; LIKE narrows, the loop decides (an
	// address may hold LIKE's wildcards).
	all, err := scanAll(ctx, db, "mail to "+email, scanOutgoing, `SELECT `+outboxCols+` FROM outbox
		WHERE LOWER(to_addrs) LIKE ? ORDER BY id`, "%"+email+"%")
	if err != nil {
		return nil, err
	}
	var out []*ticket.Outgoing
	for _, m := range all {
		for _, to := range m.To {
			if strings.EqualFold(strings.TrimSpace(to), email) {
				out = append(out, m)
				break
			}
		}
	}
	return out, nil
}

// IsUndeliverable returns the reason mail to email is held, and whether it
// is.
func (db *DB) IsUndeliverable(ctx context.Context, email string) (string, bool, error) {
	var reason string
	err := db.get(ctx, &reason, `SELECT reason FROM undeliverable WHERE email = ?`, strings.ToLower(strings.TrimSpace(email)))
	if errors.Is(err, ticket.ErrNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("reading undeliverable %s: %w", email, err)
	}
	return reason, true, nil
}
