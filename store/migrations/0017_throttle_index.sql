-- 0017: the loop throttle (MailPressure) counts the mail to an address that
-- answered automatic-looking mail. Through outbox_to_created it visited
-- every row to the address in the last day to test answers_automatic, so
-- intake slowed down with every acknowledgement a requester had been sent
-- (2,000 mails from one sender: 2,000 rows per check). The partial index
-- holds only the counted rows.
CREATE INDEX outbox_to_automatic ON outbox (to_addrs, created_at) WHERE answers_automatic;
