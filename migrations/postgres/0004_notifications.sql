-- The notification outbox: written in the same transaction as the change it tells of, carried
-- out by the sender under a lease, marked done once. `dedupe_key` keeps a notification from being
-- queued twice (a reminder per grant, a message per event and channel).
CREATE TABLE notifications (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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
    outcome     TEXT CHECK (outcome IN ('sent','failed'))
);
CREATE INDEX notifications_pending ON notifications (not_before) WHERE done_at IS NULL;
CREATE INDEX notifications_request ON notifications (request_id);
