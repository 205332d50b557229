-- 0005: the Message-ID of the mail that opened a ticket, so that every mail
-- to the requester threads with it (In-Reply-To, References).
ALTER TABLE tickets ADD COLUMN origin_message_id TEXT NOT NULL DEFAULT '';
