-- 0003: addresses whose mail bounced permanently (RFC 3463 5.x.x). Further
-- automatic mail to them is held until a person clears the row.
CREATE TABLE undeliverable (
	email      TEXT PRIMARY KEY,
	reason     TEXT NOT NULL DEFAULT '',
	created_at {{TS}} NOT NULL
);
