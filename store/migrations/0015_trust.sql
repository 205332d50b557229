-- 0015: the loop throttle counts only mail that answered automatic-looking
-- inbound mail (issue 13 item 5): such rows are marked (counted through
-- outbox_to_created). Undeliverable marks
-- expire by their created_at (a query bound), and are deleted by the next
-- authenticated mail from the address.
ALTER TABLE outbox ADD COLUMN answers_automatic BOOLEAN NOT NULL DEFAULT FALSE;
