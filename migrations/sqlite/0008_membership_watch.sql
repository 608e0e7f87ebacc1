-- Watching group membership between full reconciliations (issue 19). `group_deltas` keeps,
-- per group, Graph's delta link (`/groups/delta`): the next drift check asks only for what
-- changed since, on whichever replica takes the turn, and after a restart. `member_watch` lists
-- members whose membership is uncertain (a Graph write with an unknown outcome, or drift left to
-- the outbox while it was busy with them): each drift check reads them back until `until`.
-- Times are milliseconds since the epoch, as elsewhere.
CREATE TABLE group_deltas (
    group_id   TEXT NOT NULL PRIMARY KEY,
    delta_link TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE TABLE member_watch (
    group_id TEXT NOT NULL,
    user_id  TEXT NOT NULL,
    until    BIGINT NOT NULL,
    reason   TEXT NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
