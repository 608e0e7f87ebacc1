-- Throttled attempts (429) are counted apart: they never count toward giving up an addition.
ALTER TABLE directory_ops ADD COLUMN throttled BIGINT NOT NULL DEFAULT 0;
-- Leases are renewed while a call runs; find one worker's leases quickly.
CREATE INDEX directory_ops_lease ON directory_ops (lease_owner) WHERE done_at IS NULL;
