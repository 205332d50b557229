-- 0002: intake bookkeeping.

-- Why a message was quarantined or what intake noted about it.
ALTER TABLE messages ADD COLUMN reason TEXT NOT NULL DEFAULT '';

-- People who take part in a ticket: the requester, the Cc of the first
-- message and everyone who replied. Only they may thread into a ticket by
-- its subject tag alone (pain point F4).
CREATE TABLE ticket_participants (
	ticket_id BIGINT NOT NULL REFERENCES tickets (id),
	email     TEXT NOT NULL,
	PRIMARY KEY (ticket_id, email)
);

-- Failed attempts to process a mailbox message; after limits.max_attempts
-- the message is quarantined and never blocks the ones after it.
CREATE TABLE intake_failures (
	mailbox     TEXT NOT NULL,
	uidvalidity BIGINT NOT NULL,
	uid         BIGINT NOT NULL,
	attempts    INTEGER NOT NULL,
	last_error  TEXT NOT NULL DEFAULT '',
	updated_at  {{TS}} NOT NULL,
	PRIMARY KEY (mailbox, uidvalidity, uid)
);
CREATE INDEX outbox_to_created ON outbox (to_addrs, created_at);
