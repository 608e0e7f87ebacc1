-- Floods (issue 19): a decider is never sent more than one e-mail a minute about the same
-- person. Decider e-mails carry the person they are about as `pace_key`; the sender sends at
-- most one a minute per key (`mail_pace` holds when the last went out) and gathers what was
-- held back meanwhile into one digest.
ALTER TABLE notifications ADD COLUMN pace_key TEXT;
CREATE INDEX notifications_paced ON notifications (pace_key, not_before) WHERE done_at IS NULL AND pace_key IS NOT NULL;
CREATE TABLE mail_pace (
    pace_key TEXT PRIMARY KEY,
    sent_at  BIGINT NOT NULL
);
-- What the limits count: a person's extensions asked in the last hour are found from the hour's
-- extensions, whatever the length of the person's history.
CREATE INDEX extensions_requested ON extensions (requested_at);
