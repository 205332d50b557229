-- 0010: operations. What operators did outside a ticket's own trail
-- (replaying quarantined mail, releasing or discarding outbox mail,
-- clearing an undeliverable address, exporting a person's data, purges):
-- actor, time, action, target and, when there is one, the ticket.
CREATE TABLE operator_actions (
	id        {{ID}},
	at        {{TS}} NOT NULL,
	actor     TEXT NOT NULL,
	action    TEXT NOT NULL,
	target    TEXT NOT NULL DEFAULT '',
	ticket_id BIGINT REFERENCES tickets (id),
	detail    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX operator_actions_at ON operator_actions (at);

-- Retention: when a message's raw bytes or an attachment's data were
-- removed (retention.raw_mail_days, retention.attachments_days); the
-- rows themselves stay, so the trail says what was received.
ALTER TABLE messages ADD COLUMN raw_purged_at {{TS}};
ALTER TABLE attachments ADD COLUMN data_purged_at {{TS}};
CREATE INDEX messages_quarantined ON messages (disposition) WHERE disposition = 'quarantined';
