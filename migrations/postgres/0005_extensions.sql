-- Extensions of live grants (issue 9): asked for by the requester, decided like requests, moving
-- the grant's end only when approved. At most one waits per grant.
CREATE TABLE extensions (
    id            TEXT PRIMARY KEY,
    request_id    TEXT NOT NULL REFERENCES requests (id),
    minutes       BIGINT NOT NULL CHECK (minutes > 0),
    justification TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('pending','approved','denied','lapsed')),
    requested_at  BIGINT NOT NULL,
    ends_before   BIGINT NOT NULL,
    ends_after    BIGINT,
    decided_at    BIGINT,
    approvals     TEXT NOT NULL DEFAULT '[]',
    updated_at    BIGINT NOT NULL
);
CREATE UNIQUE INDEX extensions_one_pending ON extensions (request_id) WHERE status = 'pending';
CREATE INDEX extensions_request ON extensions (request_id, requested_at);

-- A notification that no longer applies when due (a reminder for an end that moved, an
-- escalation for a request already decided) is marked skipped.
ALTER TABLE notifications DROP CONSTRAINT notifications_outcome_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_outcome_check
    CHECK (outcome IN ('sent','failed','skipped'));
