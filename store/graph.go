package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mesadeservicios/mesa/ticket"
)

// DeltaLink returns the saved @odata.deltaLink of a Graph mailbox, "" when
// none was saved.
func (db *DB) DeltaLink(ctx context.Context, mailbox string) (string, error) {
	var link string
	err := db.translate(db.get(ctx, &link, `SELECT delta_link FROM graph_delta_links WHERE mailbox = ?`, clean(mailbox)))
	if errors.Is(err, ticket.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading delta link of %s: %w", mailbox, err)
	}
	return link, nil
}

// SaveDeltaLink records the delta link of a Graph mailbox; "" forgets it.
func (db *DB) SaveDeltaLink(ctx context.Context, mailbox, link string, now time.Time) error {
	var err error
	if link == "" {
		_, err = db.exec(ctx, `DELETE FROM graph_delta_links WHERE mailbox = ?`, clean(mailbox))
	} else {
		_, err = db.exec(ctx, `INSERT INTO graph_delta_links (mailbox, delta_link, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (mailbox) DO UPDATE SET delta_link = excluded.delta_link, updated_at = excluded.updated_at`,
			clean(mailbox), link, now.UTC())
	}
	if err != nil {
		return fmt.Errorf("saving delta link of %s: %w", mailbox, err)
	}
	return nil
}
