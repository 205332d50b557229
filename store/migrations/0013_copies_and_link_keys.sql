-- 0010: participants in copy, and the server's link keys.

-- copies is 1 for the participants who receive the public answers of a
-- ticket (the To and Cc of its first message, and #cc), 0 for the others
-- (people who only replied, or were taken off with #sin_cc).
ALTER TABLE ticket_participants ADD COLUMN copies INTEGER NOT NULL DEFAULT 0;

-- Keys the server signs its links with (HMAC-SHA256), one row per use,
-- made once and shared by every instance.
CREATE TABLE server_keys (
	name       TEXT PRIMARY KEY,
	secret     {{BLOB}} NOT NULL,
	created_at {{TS}} NOT NULL
);
