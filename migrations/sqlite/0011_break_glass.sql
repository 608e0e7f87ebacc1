-- Break-glass (issue 21): a grant taken in an emergency, without approval, and its review. One
-- row per such grant, written in the transaction that grants it; the review (an approver's
-- "justified" or "not justified" with a comment) is written once. The request itself carries
-- its approver of record (`break-glass`), so that it reads like any other grant.
CREATE TABLE break_glass (
    request_id     TEXT PRIMARY KEY REFERENCES requests (id),
    package        TEXT NOT NULL,
    requester_id   TEXT NOT NULL,
    used_at        BIGINT NOT NULL,
    review_due     BIGINT NOT NULL,
    reviewed_at    BIGINT,
    reviewer_id    TEXT,
    reviewer_name  TEXT,
    verdict        TEXT,
    comment        TEXT
);
-- What break_glass_per_user counts: one person's uses of one package in a rolling window.
CREATE INDEX break_glass_per_user ON break_glass (requester_id, package, used_at);
-- What waits for a review (the operations page, the metric).
CREATE INDEX break_glass_unreviewed ON break_glass (review_due) WHERE reviewed_at IS NULL;
