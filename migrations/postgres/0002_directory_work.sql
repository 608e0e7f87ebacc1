-- The outbox learns a third kind of operation (revoking a user's sign-in sessions after a
-- removal) and counts throttled attempts (429) apart: they never count toward giving up.
ALTER TABLE directory_ops DROP CONSTRAINT directory_ops_kind_check;
ALTER TABLE directory_ops ADD CONSTRAINT directory_ops_kind_check CHECK (kind IN ('add','remove','revoke_sessions'));
ALTER TABLE directory_ops ADD COLUMN throttled BIGINT NOT NULL DEFAULT 0;
-- Leases are renewed while a call runs; find one worker's leases quickly.
CREATE INDEX directory_ops_lease ON directory_ops (lease_owner) WHERE done_at IS NULL;

-- Jobs that one replica at a time runs (reconciliation): whose turn it is, and until when.
CREATE TABLE job_turns (
    name  TEXT NOT NULL PRIMARY KEY,
    owner TEXT NOT NULL,
    until BIGINT NOT NULL
);
