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
-- escalation for a request already decided) is marked skipped. SQLite cannot change a CHECK in
-- place: the table is built again with its rows.
CREATE TABLE notifications_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    dedupe_key  TEXT NOT NULL UNIQUE,
    event       TEXT NOT NULL,
    request_id  TEXT REFERENCES requests (id),
    channel     TEXT NOT NULL CHECK (channel IN ('email','teams','slack','webhook')),
    audience    TEXT NOT NULL,
    subject     TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    not_before  BIGINT NOT NULL,
    attempts    BIGINT NOT NULL DEFAULT 0,
    last_error  TEXT,
    lease_owner TEXT,
    lease_until BIGINT,
    done_at     BIGINT,
    outcome     TEXT CHECK (outcome IN ('sent','failed','skipped'))
);
INSERT INTO notifications_new SELECT * FROM notifications;
DROP TABLE notifications;
ALTER TABLE notifications_new RENAME TO notifications;
CREATE INDEX notifications_pending ON notifications (not_before) WHERE done_at IS NULL;
CREATE INDEX notifications_request ON notifications (request_id);
