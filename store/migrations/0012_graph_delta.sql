-- 0010: Microsoft Graph mailboxes.

-- The @odata.deltaLink of each Graph mailbox folder: where the next delta
-- round starts, shared by the instances so that a standby taking over the
-- mailbox resumes instead of resyncing. Losing it only costs a full resync.
CREATE TABLE graph_delta_links (
	mailbox    TEXT PRIMARY KEY,
	delta_link TEXT NOT NULL,
	updated_at {{TS}} NOT NULL
);
