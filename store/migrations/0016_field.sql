-- 0015 (issue 15): OAuth2 refresh tokens shared by the instances, the state
-- of each mailbox as its leader last saw it, and the operator alerts'
-- conditions.

-- Every refresh token a mailbox's grant was given, newest last. Only the
-- newest keeps its text; older ones keep their hash, so a stale copy in an
-- instance's local file is recognised as stale, and a token never seen is an
-- operator's new grant.
CREATE TABLE oauth_tokens (
	id         {{ID}},
	name       TEXT NOT NULL,
	token      TEXT NOT NULL,
	token_hash TEXT NOT NULL,
	created_at {{TS}} NOT NULL,
	UNIQUE (name, token_hash)
);
CREATE INDEX oauth_tokens_name ON oauth_tokens (name, id);

-- One row per configured mailbox, written by the instance that reads it.
CREATE TABLE mailbox_status (
	name          TEXT PRIMARY KEY,
	last_success  {{TS}},
	failing_since {{TS}},
	last_error    TEXT NOT NULL DEFAULT '',
	needs_reauth  BOOLEAN NOT NULL DEFAULT FALSE,
	updated_at    {{TS}} NOT NULL
);

-- An operator alert's condition: raised once per episode (the alert), and
-- cleared once (the "resolved" mail). Conditions of one grp supersede each
-- other (a secret expiring in 7 days replaces the 30-day one).
CREATE TABLE operator_conditions (
	cond       TEXT PRIMARY KEY,
	grp        TEXT NOT NULL,
	episode    INTEGER NOT NULL,
	open       BOOLEAN NOT NULL,
	detail     TEXT NOT NULL DEFAULT '',
	raised_at  {{TS}} NOT NULL,
	cleared_at {{TS}}
);
CREATE INDEX operator_conditions_grp ON operator_conditions (grp);
