-- A reconciliation run names the instance carrying it out and beats while it runs: a run whose instance stopped or
-- died mid-run (its heartbeat long past) is marked FAILED by the next instance that looks, instead of staying RUNNING.
ALTER TABLE reconciliation_run ADD COLUMN instance_id VARCHAR(200);
ALTER TABLE reconciliation_run ADD COLUMN heartbeat_at TIMESTAMP WITH TIME ZONE;
CREATE INDEX reconciliation_run_status ON reconciliation_run (status);
