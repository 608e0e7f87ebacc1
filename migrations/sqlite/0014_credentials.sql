-- Credentials without a client secret (issue 22). The login cookies' key was derived from the
-- client secret, which every replica has; a portal with a certificate, a workload identity or a
-- managed identity keeps a random one here instead, made by the first replica to start.
CREATE TABLE portal_keys (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
