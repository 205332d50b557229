package store

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/mesadeservicios/mesa/ticket"
)

// SaveGroup inserts or updates a group by key.
func (db *DB) SaveGroup(ctx context.Context, g ticket.Group) error {
	_, err := db.exec(ctx, `INSERT INTO desk_groups (key, name, email) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET name = excluded.name, email = excluded.email`,
		clean(g.Key), clean(g.Name), clean(g.Email))
	if err != nil {
		return fmt.Errorf("saving group %s: %w", g.Key, err)
	}
	return nil
}

// Groups returns every group, by key.
func (db *DB) Groups(ctx context.Context) ([]ticket.Group, error) {
	rows, err := db.query(ctx, `SELECT key, name, email FROM desk_groups ORDER BY key`)
	if err != nil {
		return nil, fmt.Errorf("reading groups: %w", err)
	}
	defer rows.Close()
	var out []ticket.Group
	for rows.Next() {
		var g ticket.Group
		if err := rows.Scan(&g.Key, &g.Name, &g.Email); err != nil {
			return nil, fmt.Errorf("reading groups: %w", err)
		}
		out = append(out, g)
	}
	return out, db.translate(rows.Err())
}

// SavePerson inserts or updates a person by e-mail address (lower-cased),
// replaces their group memberships, and sets p.ID.
func (db *DB) SavePerson(ctx context.Context, p *ticket.Person) error {
	return db.InTx(ctx, func(ctx context.Context) error {
		// The absence and the person's own digest choice are theirs: the
		// configuration sync never overwrites them.
		err := db.get(ctx, &p.ID, `INSERT INTO people (email, name, role, level, active, digest) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (email) DO UPDATE SET name = excluded.name, role = excluded.role,
			level = excluded.level, active = excluded.active, digest = excluded.digest RETURNING id`,
			strings.ToLower(clean(p.Email)), clean(p.Name), p.Role, p.Level, p.Active, !p.NoDigest)
		if err != nil {
			return fmt.Errorf("saving person %s: %w", p.Email, err)
		}
		if _, err := db.exec(ctx, `DELETE FROM person_groups WHERE person_id = ?`, p.ID); err != nil {
			return fmt.Errorf("saving groups of %s: %w", p.Email, err)
		}
		for _, g := range p.Groups {
			if _, err := db.exec(ctx, `INSERT INTO person_groups (person_id, group_key) VALUES (?, ?)`, p.ID, g); err != nil {
				return fmt.Errorf("adding %s to group %s: %w", p.Email, g, err)
			}
		}
		return nil
	})
}

// PersonByEmail returns the person with that address, case-insensitively.
func (db *DB) PersonByEmail(ctx context.Context, email string) (*ticket.Person, error) {
	var p ticket.Person
	var digest bool
	err := db.queryRow(ctx, `SELECT id, email, name, role, level, active, absent_until, substitute, digest, digest_choice
		FROM people WHERE email = ?`, strings.ToLower(email)).Scan(&p.ID, &p.Email, &p.Name, &p.Role, &p.Level, &p.Active,
		&p.AbsentUntil, &p.Substitute, &digest, &p.DigestChoice)
	p.NoDigest, p.AbsentUntil = !digest, utcp(p.AbsentUntil)
	if err != nil {
		return nil, fmt.Errorf("reading person %s: %w", email, db.translate(err))
	}
	rows, err := db.query(ctx, `SELECT group_key FROM person_groups WHERE person_id = ? ORDER BY group_key`, p.ID)
	if err != nil {
		return nil, fmt.Errorf("reading groups of %s: %w", email, err)
	}
	defer rows.Close()
	for rows.Next() {
		var g string
		if err := rows.Scan(&g); err != nil {
			return nil, fmt.Errorf("reading groups of %s: %w", email, err)
		}
		p.Groups = append(p.Groups, g)
	}
	return &p, db.translate(rows.Err())
}

// GroupLoad returns the active technicians of a group with their load,
// least loaded first, then least recently assigned, then by address.
func (db *DB) GroupLoad(ctx context.Context, group string) ([]ticket.Load, error) {
	rows, err := db.query(ctx, `SELECT p.email, p.level,
		(SELECT COUNT(*) FROM tickets t WHERE t.assignee = p.email AND t.state IN ('abierto', 'en_proceso', 'retenido')),
		COALESCE((SELECT MAX(e.id) FROM events e WHERE e.kind = 'assigned' AND e.to_value = p.email), 0),
		p.absent_until
		FROM people p JOIN person_groups g ON g.person_id = p.id
		WHERE g.group_key = ? AND p.active AND p.role = 'technician'`, group)
	if err != nil {
		return nil, fmt.Errorf("reading load of group %s: %w", group, err)
	}
	defer rows.Close()
	var out []ticket.Load
	for rows.Next() {
		var l ticket.Load
		if err := rows.Scan(&l.Email, &l.Level, &l.Open, &l.LastAssigned, &l.AbsentUntil); err != nil {
			return nil, fmt.Errorf("reading load of group %s: %w", group, err)
		}
		l.AbsentUntil = utcp(l.AbsentUntil)
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Open != b.Open {
			return a.Open < b.Open
		}
		if a.LastAssigned != b.LastAssigned {
			return a.LastAssigned < b.LastAssigned
		}
		return a.Email < b.Email
	})
	return out, db.translate(rows.Err())
}

// SetAbsence records that a person is away until until (nil: back now)
// and who was offered their tickets.
func (db *DB) SetAbsence(ctx context.Context, email string, until *time.Time, substitute string) error {
	res, err := db.exec(ctx, `UPDATE people SET absent_until = ?, substitute = ? WHERE email = ?`,
		utcp(until), strings.ToLower(clean(substitute)), strings.ToLower(email))
	if err != nil {
		return fmt.Errorf("recording the absence of %s: %w", email, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("recording the absence of %s: %w", email, ticket.ErrNotFound)
	}
	return nil
}

// SetDigestChoice records a person's own choice about the personal
// digest: "on", "off", or "" (the configuration's).
func (db *DB) SetDigestChoice(ctx context.Context, email, choice string) error {
	res, err := db.exec(ctx, `UPDATE people SET digest_choice = ? WHERE email = ?`, choice, strings.ToLower(email))
	if err != nil {
		return fmt.Errorf("recording the digest choice of %s: %w", email, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("recording the digest choice of %s: %w", email, ticket.ErrNotFound)
	}
	return nil
}

// DeactivateMissing deactivates the active staff (every role but
// requester) whose address is not in keep, and returns their addresses.
func (db *DB) DeactivateMissing(ctx context.Context, keep []string) ([]string, error) {
	emails, err := db.strings(ctx, "people", `SELECT email FROM people WHERE active AND role <> 'requester' ORDER BY email`)
	if err != nil {
		return nil, err
	}
	kept := map[string]bool{}
	for _, k := range keep {
		kept[strings.ToLower(strings.TrimSpace(k))] = true
	}
	var gone []string
	for _, e := range emails {
		if kept[e] {
			continue
		}
		if _, err := db.exec(ctx, `UPDATE people SET active = FALSE WHERE email = ?`, e); err != nil {
			return nil, fmt.Errorf("deactivating %s: %w", e, err)
		}
		gone = append(gone, e)
	}
	return gone, nil
}

// InactiveAssignees returns the addresses of deactivated people who still
// have open tickets assigned.
func (db *DB) InactiveAssignees(ctx context.Context) ([]string, error) {
	return db.strings(ctx, "inactive assignees", `SELECT DISTINCT t.assignee FROM tickets t JOIN people p ON p.email = t.assignee
		WHERE NOT p.active AND t.state IN ('abierto', 'en_proceso', 'retenido', 'abierto_por_encuesta') ORDER BY t.assignee`)
}

// GroupPeople returns the active people of a group (any role), by
// address.
func (db *DB) GroupPeople(ctx context.Context, group string) ([]*ticket.Person, error) {
	emails, err := db.strings(ctx, "people of group "+group, `SELECT p.email FROM people p JOIN person_groups g ON g.person_id = p.id
		WHERE g.group_key = ? AND p.active ORDER BY p.email`, group)
	if err != nil {
		return nil, err
	}
	out := make([]*ticket.Person, 0, len(emails))
	for _, e := range emails {
		p, err := db.PersonByEmail(ctx, e)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// strings runs a query of one text column.
func (db *DB) strings(ctx context.Context, what, q string, args ...any) ([]string, error) {
	return scanAll(ctx, db, what, func(r scanner) (string, error) {
		var s string
		return s, r.Scan(&s)
	}, q, args...)
}
