-- 0010: the attempt to process a mailbox message is recorded before the
-- message is parsed. starts counts them; a start that ended neither in an
-- outcome nor in a recorded failure (attempts) is a process that died on the
-- message: after a few, the message is quarantined unparsed instead of
-- killing every start (issue 13 item 6).
ALTER TABLE intake_failures ADD COLUMN starts INTEGER NOT NULL DEFAULT 0;
