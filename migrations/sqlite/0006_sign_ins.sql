-- Device-code sign-ins read from Entra's sign-in log (issue 10): each once (by the log's id),
-- tied to the grant whose window it fell in, if any. Blocked ones without a grant show who may
-- need an exemption.
CREATE TABLE sign_ins (
    id                  TEXT PRIMARY KEY,
    at                  BIGINT NOT NULL,
    user_id             TEXT NOT NULL,
    user_principal_name TEXT NOT NULL,
    app_id              TEXT NOT NULL,
    app_name            TEXT NOT NULL,
    ip_address          TEXT NOT NULL,
    conditional_access  TEXT NOT NULL,
    error_code          BIGINT NOT NULL,
    failure_reason      TEXT,
    request_id          TEXT REFERENCES requests (id),
    seen_at             BIGINT NOT NULL
);
CREATE INDEX sign_ins_request ON sign_ins (request_id, at);
CREATE INDEX sign_ins_user ON sign_ins (user_id, at);
CREATE INDEX sign_ins_at ON sign_ins (at);
