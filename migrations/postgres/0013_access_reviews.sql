-- Access reviews (issue 21): campaigns, their items and decisions, standing members a review
-- removed, and people a review revoked.
--
-- A review's removal of a standing member goes through the directory outbox like a grant's,
-- but belongs to no request: directory_ops.request_id no longer references requests (it holds
-- `review:<campaign>:<item>` for those).
ALTER TABLE directory_ops DROP CONSTRAINT directory_ops_request_id_fkey;

-- When a package's reviews were first configured: its first campaign starts at the next
-- midnight (UTC) after `first_seen`, each later one `review_every` after the previous start.
CREATE TABLE review_schedules (
    package    TEXT NOT NULL PRIMARY KEY,
    first_seen BIGINT NOT NULL
);

-- One review of one package for one period; due `review_within` after its start.
CREATE TABLE review_campaigns (
    id             TEXT NOT NULL PRIMARY KEY,
    package        TEXT NOT NULL,
    package_name   TEXT NOT NULL,
    period_start   BIGINT NOT NULL,
    period_end     BIGINT NOT NULL,
    starts_at      BIGINT NOT NULL,
    due_at         BIGINT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('open','closed')),
    closed_at      BIGINT,
    review_by      TEXT NOT NULL CHECK (review_by IN ('deciders','self')),
    review_default TEXT NOT NULL CHECK (review_default IN ('keep','remove','report')),
    reminders_sent BIGINT NOT NULL DEFAULT 0,
    UNIQUE (package, starts_at)
);
CREATE INDEX review_campaigns_open ON review_campaigns (due_at) WHERE status = 'open';

-- What a campaign asks about: the settings snapshot, each standing member, each person who held
-- a grant in the period; the decision (Entra's words) and, once closed, what became of it.
CREATE TABLE review_items (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id       TEXT NOT NULL REFERENCES review_campaigns (id),
    kind              TEXT NOT NULL CHECK (kind IN ('settings','standing','person')),
    subject_id        TEXT,
    subject_name      TEXT NOT NULL,
    details           TEXT NOT NULL,
    decision          TEXT CHECK (decision IN ('Approve','Deny','DontKnow')),
    justification     TEXT,
    reviewer_id       TEXT,
    reviewer_name     TEXT,
    reviewer_username TEXT,
    decided_at        BIGINT,
    outcome           TEXT CHECK (outcome IN ('confirmed','kept','removed','revoked','reported')),
    by_default        BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX review_items_campaign ON review_items (campaign_id, id);

-- A standing member a review removed: no longer standing while the file's list keeps the
-- fingerprint `file_hash` (an admin changing the list ends the override).
CREATE TABLE standing_overrides (
    package     TEXT NOT NULL,
    member_id   TEXT NOT NULL,
    member_name TEXT NOT NULL,
    file_hash   TEXT NOT NULL,
    campaign_id TEXT NOT NULL,
    reason      TEXT NOT NULL,
    at          BIGINT NOT NULL,
    PRIMARY KEY (package, member_id)
);

-- A person a review revoked: refused further requests for the package until an admin restores
-- them (restored_at set; the row stays, with who restored them and why).
CREATE TABLE review_revocations (
    package        TEXT NOT NULL,
    user_id        TEXT NOT NULL,
    user_name      TEXT NOT NULL,
    campaign_id    TEXT NOT NULL,
    reason         TEXT NOT NULL,
    revoked_at     BIGINT NOT NULL,
    restored_at    BIGINT,
    restored_by    TEXT,
    restore_reason TEXT,
    PRIMARY KEY (package, user_id)
);
