-- Credentials without a client secret (issue 22). The login cookies' key was derived from the
-- client secret, which every replica has; a portal with a certificate, a workload identity or a
-- managed identity keeps a random one here instead, made by the first replica to start.
CREATE TABLE portal_keys (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
-- The admins' alerts that the portal's credential expires (30 and 7 days before): one per
-- credential and threshold, sent once.
CREATE TABLE credential_alerts (
    alert_key TEXT PRIMARY KEY,
    sent_at   BIGINT NOT NULL
);
