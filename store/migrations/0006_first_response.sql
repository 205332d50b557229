-- 0006: when a technician first answered the requester (a plain reply by
-- mail, an answer from the page, or the closure with its solution). Digests
-- report the first-response time from it.
ALTER TABLE tickets ADD COLUMN first_response_at {{TS}};
