-- 0001: the initial schema. {{ID}}, {{TS}} and {{BLOB}} are replaced per
-- dialect (store/migrate.go); everything else is shared SQL.
-- All timestamps are UTC instants.

CREATE TABLE ticket_sequences (
	year     INTEGER PRIMARY KEY,
	last_seq BIGINT NOT NULL
);

CREATE TABLE tickets (
	id             {{ID}},
	number         TEXT NOT NULL UNIQUE,
	year           INTEGER NOT NULL,
	seq            BIGINT NOT NULL,
	subject        TEXT NOT NULL,
	requester      TEXT NOT NULL,
	requester_name TEXT NOT NULL DEFAULT '',
	state          TEXT NOT NULL,
	type           TEXT NOT NULL,
	criticality    TEXT NOT NULL,
	category       TEXT NOT NULL,
	group_key      TEXT NOT NULL DEFAULT '',
	assignee       TEXT NOT NULL DEFAULT '',
	access_key     TEXT NOT NULL,
	solution       TEXT NOT NULL DEFAULT '',
	created_at     {{TS}} NOT NULL,
	updated_at     {{TS}} NOT NULL,
	due_at         {{TS}},
	paused_at      {{TS}},
	closed_at      {{TS}},
	UNIQUE (year, seq)
);
CREATE INDEX tickets_state ON tickets (state, due_at);
CREATE INDEX tickets_requester ON tickets (requester);

-- The audit trail: every action on a ticket, with actor and time.
CREATE TABLE events (
	id         {{ID}},
	ticket_id  BIGINT NOT NULL REFERENCES tickets (id),
	kind       TEXT NOT NULL,
	actor      TEXT NOT NULL,
	at         {{TS}} NOT NULL,
	body       TEXT NOT NULL DEFAULT '',
	from_value TEXT NOT NULL DEFAULT '',
	to_value   TEXT NOT NULL DEFAULT '',
	data       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX events_ticket ON events (ticket_id, id);

-- Inbound mail, verbatim. dedupe_key is the Message-ID, or the SHA-256 of
-- the raw bytes when the header is missing: storing a message twice is
-- impossible, which makes re-reading a mailbox harmless.
CREATE TABLE messages (
	id          {{ID}},
	dedupe_key  TEXT NOT NULL UNIQUE,
	message_id  TEXT NOT NULL DEFAULT '',
	mailbox     TEXT NOT NULL DEFAULT '',
	uidvalidity BIGINT NOT NULL DEFAULT 0,
	uid         BIGINT NOT NULL DEFAULT 0,
	from_addr   TEXT NOT NULL DEFAULT '',
	subject     TEXT NOT NULL DEFAULT '',
	raw         {{BLOB}} NOT NULL,
	received_at {{TS}} NOT NULL,
	ticket_id   BIGINT REFERENCES tickets (id),
	disposition TEXT NOT NULL DEFAULT ''
);
CREATE INDEX messages_message_id ON messages (message_id);
CREATE INDEX messages_ticket ON messages (ticket_id);

CREATE TABLE attachments (
	id           {{ID}},
	message_id   BIGINT NOT NULL REFERENCES messages (id),
	ticket_id    BIGINT REFERENCES tickets (id),
	filename     TEXT NOT NULL DEFAULT '',
	content_type TEXT NOT NULL DEFAULT '',
	size         BIGINT NOT NULL DEFAULT 0,
	sha256       TEXT NOT NULL DEFAULT '',
	data         {{BLOB}} NOT NULL
);
CREATE INDEX attachments_ticket ON attachments (ticket_id);

-- Outgoing mail, rendered when written so that a retry sends the same bytes.
CREATE TABLE outbox (
	id              {{ID}},
	ticket_id       BIGINT REFERENCES tickets (id),
	dedupe_key      TEXT NOT NULL UNIQUE,
	from_addr       TEXT NOT NULL,
	to_addrs        TEXT NOT NULL,
	subject         TEXT NOT NULL DEFAULT '',
	message_id      TEXT NOT NULL DEFAULT '',
	raw             {{BLOB}} NOT NULL,
	state           TEXT NOT NULL,
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at {{TS}} NOT NULL,
	last_error      TEXT NOT NULL DEFAULT '',
	created_at      {{TS}} NOT NULL,
	sent_at         {{TS}}
);
CREATE INDEX outbox_pending ON outbox (state, next_attempt_at);
CREATE INDEX outbox_message_id ON outbox (message_id);

-- How far intake has read each mailbox, per UIDVALIDITY (RFC 9051 §2.3.1.1).
CREATE TABLE mailbox_cursors (
	mailbox     TEXT NOT NULL,
	uidvalidity BIGINT NOT NULL,
	last_uid    BIGINT NOT NULL,
	updated_at  {{TS}} NOT NULL,
	PRIMARY KEY (mailbox, uidvalidity)
);

CREATE TABLE desk_groups (
	key   TEXT PRIMARY KEY,
	name  TEXT NOT NULL DEFAULT '',
	email TEXT NOT NULL DEFAULT ''
);

CREATE TABLE people (
	id     {{ID}},
	email  TEXT NOT NULL UNIQUE,
	name   TEXT NOT NULL DEFAULT '',
	role   TEXT NOT NULL,
	level  INTEGER NOT NULL DEFAULT 0,
	active BOOLEAN NOT NULL DEFAULT TRUE
);

CREATE TABLE person_groups (
	person_id BIGINT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
	group_key TEXT NOT NULL REFERENCES desk_groups (key) ON DELETE CASCADE,
	PRIMARY KEY (person_id, group_key)
);

CREATE TABLE surveys (
	id          {{ID}},
	ticket_id   BIGINT NOT NULL REFERENCES tickets (id),
	token       TEXT NOT NULL UNIQUE,
	sent_at     {{TS}} NOT NULL,
	opened_at   {{TS}},
	answered_at {{TS}},
	rating      INTEGER NOT NULL DEFAULT 0,
	solved      BOOLEAN,
	comment     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX surveys_ticket ON surveys (ticket_id);

-- One row per scheduled run: UNIQUE (job, scheduled_for) makes a run happen
-- once even when several instances fire it.
CREATE TABLE job_runs (
	id            {{ID}},
	job           TEXT NOT NULL,
	scheduled_for {{TS}} NOT NULL,
	started_at    {{TS}} NOT NULL,
	finished_at   {{TS}},
	status        TEXT NOT NULL,
	error         TEXT NOT NULL DEFAULT '',
	UNIQUE (job, scheduled_for)
);
