-- (PostgreSQL twin of sqlite/2001_trial_pending.sql)
-- The leader looks every second for chosen testers still owed a sample
-- order (TrialStore.PendingSamples): a partial index keeps that a lookup
-- of the few pending rows, not a scan of every application.
CREATE INDEX trial_applications_pending ON trial_applications(trial_id) WHERE position > 0 AND order_id IS NULL;
