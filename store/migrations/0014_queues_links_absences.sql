-- 0010: working the desk by mail (issue 16, items 3–5).
-- An absence (#ausente): no new assignments until absent_until; substitute
-- is offered the person's open tickets. digest is the config's opt-out of
-- the personal morning digest (people[].digest), digest_choice the
-- person's own (#resumen on, #sin_resumen off, '' the config's); the
-- configuration sync never writes the last three columns.
ALTER TABLE people ADD COLUMN absent_until {{TS}};
ALTER TABLE people ADD COLUMN substitute TEXT NOT NULL DEFAULT '';
ALTER TABLE people ADD COLUMN digest BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE people ADD COLUMN digest_choice TEXT NOT NULL DEFAULT '';

-- A ticket linked under another: kind 'mass' (a mass incident's child,
-- closed with its parent) or 'merged' (#unir: closed, its history copied
-- into the parent). A child has at most one parent.
CREATE TABLE ticket_links (
	child_id  BIGINT NOT NULL UNIQUE REFERENCES tickets (id),
	parent_id BIGINT NOT NULL REFERENCES tickets (id),
	kind      TEXT NOT NULL,
	at        {{TS}} NOT NULL
);
CREATE INDEX ticket_links_parent ON ticket_links (parent_id);

-- The last mass-incident alert per category: one alert per burst.
CREATE TABLE mass_alerts (
	category TEXT PRIMARY KEY,
	at       {{TS}} NOT NULL
);

-- Intake counts a category's recent tickets, and a requester's.
CREATE INDEX tickets_category_created ON tickets (category, created_at);
CREATE INDEX tickets_requester_created ON tickets (requester, created_at);
