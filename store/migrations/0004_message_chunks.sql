-- 0004: large raw messages are stored in chunks, so that writing a 35 MB
-- message never needs a second 35 MB copy in the driver's buffer.
ALTER TABLE messages ADD COLUMN raw_chunks INTEGER NOT NULL DEFAULT 0;

CREATE TABLE message_chunks (
	message_id BIGINT NOT NULL REFERENCES messages (id),
	seq        INTEGER NOT NULL,
	data       {{BLOB}} NOT NULL,
	PRIMARY KEY (message_id, seq)
);
