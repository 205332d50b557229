-- 0008: one survey per closure. closed_at is the closure it asks about
-- (unique per ticket); status is sent, answered, expired or skipped (no
-- survey: reopened and closed again within 7 days, out of scope, automated
-- requester); message_id is the survey mail's, so that an answer by mail
-- finds it; token holds the SHA-256 of the link's token, never the token.
ALTER TABLE surveys ADD COLUMN closed_at {{TS}};
ALTER TABLE surveys ADD COLUMN status TEXT NOT NULL DEFAULT 'sent';
ALTER TABLE surveys ADD COLUMN reminded_at {{TS}};
ALTER TABLE surveys ADD COLUMN message_id TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX surveys_closure ON surveys (ticket_id, closed_at);
CREATE INDEX surveys_open ON surveys (status, sent_at);
CREATE INDEX tickets_closed ON tickets (closed_at) WHERE state = 'cerrado';
