-- The outbox learns a third kind of operation (revoking a user's sign-in sessions after a
-- removal) and counts throttled attempts (429) apart: they never count toward giving up.
-- SQLite cannot change a CHECK constraint in place: the table is rebuilt.
CREATE TABLE directory_ops_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id  TEXT NOT NULL REFERENCES requests (id),
    kind        TEXT NOT NULL CHECK (kind IN ('add','remove','revoke_sessions')),
    group_id    TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    not_before  BIGINT NOT NULL,
    attempts    BIGINT NOT NULL DEFAULT 0,
    last_error  TEXT,
    lease_owner TEXT,
    lease_until BIGINT,
    done_at     BIGINT,
    outcome     TEXT CHECK (outcome IN ('done','skipped','failed')),
    throttled   BIGINT NOT NULL DEFAULT 0
);
INSERT INTO directory_ops_new (id, request_id, kind, group_id, user_id, created_at, not_before, attempts,
    last_error, lease_owner, lease_until, done_at, outcome)
    SELECT id, request_id, kind, group_id, user_id, created_at, not_before, attempts,
    last_error, lease_owner, lease_until, done_at, outcome FROM directory_ops;
DROP TABLE directory_ops;
ALTER TABLE directory_ops_new RENAME TO directory_ops;
CREATE INDEX directory_ops_pending ON directory_ops (not_before) WHERE done_at IS NULL;
CREATE INDEX directory_ops_member ON directory_ops (group_id, user_id, id) WHERE done_at IS NULL;
CREATE INDEX directory_ops_request ON directory_ops (request_id);
-- Leases are renewed while a call runs; find one worker's leases quickly.
CREATE INDEX directory_ops_lease ON directory_ops (lease_owner) WHERE done_at IS NULL;

-- Jobs that one replica at a time runs (reconciliation): whose turn it is, and until when.
CREATE TABLE job_turns (
    name  TEXT NOT NULL PRIMARY KEY,
    owner TEXT NOT NULL,
    until BIGINT NOT NULL
);
