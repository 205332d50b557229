-- 0007: the SLA watch. sla_warn_at is when the warning is due (the
-- configured fraction of the ticket's business time); sla_stage says which
-- alerts went out for the current due time (0 none, 1 warned, 2 breached);
-- sla_next_at is the instant of the next pending alert, NULL while paused,
-- closed or fully alerted, so that the watch reads only what is due through
-- a small partial index however many tickets there are.
ALTER TABLE tickets ADD COLUMN sla_warn_at {{TS}};
ALTER TABLE tickets ADD COLUMN sla_stage INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN sla_next_at {{TS}};
UPDATE tickets SET sla_next_at = due_at WHERE state IN ('abierto', 'en_proceso') AND paused_at IS NULL;
CREATE INDEX tickets_sla_next ON tickets (sla_next_at) WHERE sla_next_at IS NOT NULL;
-- What a job run did (counts as JSON), beside its outcome.
ALTER TABLE job_runs ADD COLUMN detail TEXT NOT NULL DEFAULT '';
