-- Instants are BIGINT milliseconds since the Unix epoch (UTC).

CREATE TABLE requests (
    id                 TEXT PRIMARY KEY,
    package            TEXT NOT NULL,
    group_id           TEXT NOT NULL,
    requester_id       TEXT NOT NULL,
    requester_name     TEXT NOT NULL,
    requester_username TEXT NOT NULL,
    manager_id         TEXT,
    status             TEXT NOT NULL CHECK (status IN ('pending','approved','active','denied','cancelled','expired','ended','revoked','timed_out','failed')),
    duration_minutes   BIGINT NOT NULL CHECK (duration_minutes > 0),
    justification      TEXT NOT NULL,
    ticket             TEXT,
    created_at         BIGINT NOT NULL,
    requested_start    BIGINT,
    timeout_at         BIGINT NOT NULL,
    starts_at          BIGINT,
    ends_at            BIGINT,
    decided_at         BIGINT,
    added_at           BIGINT,
    removed_at         BIGINT,
    close_reason       TEXT,
    updated_at         BIGINT NOT NULL
);
-- One open request or grant per user and package.
CREATE UNIQUE INDEX requests_one_open ON requests (requester_id, package) WHERE status IN ('pending','approved','active');
CREATE INDEX requests_status ON requests (status, created_at);
CREATE INDEX requests_requester ON requests (requester_id, created_at);

CREATE TABLE approvals (
    request_id        TEXT NOT NULL REFERENCES requests (id),
    approver_id       TEXT NOT NULL,
    approver_name     TEXT NOT NULL,
    approver_username TEXT NOT NULL,
    decision          TEXT NOT NULL CHECK (decision IN ('approve','deny')),
    comment           TEXT,
    at                BIGINT NOT NULL,
    PRIMARY KEY (request_id, approver_id)
);

-- The outbox: directory operations written in the same transaction as the state change that implies them.
CREATE TABLE directory_ops (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id  TEXT NOT NULL REFERENCES requests (id),
    kind        TEXT NOT NULL CHECK (kind IN ('add','remove')),
    group_id    TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    not_before  BIGINT NOT NULL,
    attempts    BIGINT NOT NULL DEFAULT 0,
    last_error  TEXT,
    lease_owner TEXT,
    lease_until BIGINT,
    done_at     BIGINT,
    outcome     TEXT CHECK (outcome IN ('done','skipped','failed'))
);
CREATE INDEX directory_ops_pending ON directory_ops (not_before) WHERE done_at IS NULL;
CREATE INDEX directory_ops_member ON directory_ops (group_id, user_id, id) WHERE done_at IS NULL;
CREATE INDEX directory_ops_request ON directory_ops (request_id);

CREATE TABLE audit_events (
    seq        BIGINT PRIMARY KEY,
    at         BIGINT NOT NULL,
    actor_id   TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    action     TEXT NOT NULL,
    request_id TEXT,
    subject_id TEXT,
    details    TEXT NOT NULL,
    client_ip  TEXT,
    user_agent TEXT,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
);
CREATE INDEX audit_events_request ON audit_events (request_id, seq);
CREATE INDEX audit_events_actor ON audit_events (actor_id, seq);
CREATE INDEX audit_events_subject ON audit_events (subject_id, seq);
CREATE INDEX audit_events_action ON audit_events (action, seq);
CREATE INDEX audit_events_at ON audit_events (at);

CREATE FUNCTION audit_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % is refused', TG_OP;
END;
$$;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change();

CREATE TABLE heartbeats (
    name TEXT PRIMARY KEY,
    at   BIGINT NOT NULL
);
