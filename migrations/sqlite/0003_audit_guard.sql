-- The audit trail takes new events only: an insert that reuses a sequence number is refused
-- before conflict resolution, so INSERT OR REPLACE (which deletes the old row without firing
-- the delete trigger) cannot rewrite an event, and neither can INSERT ... ON CONFLICT.
CREATE TRIGGER audit_events_no_reuse BEFORE INSERT ON audit_events
WHEN EXISTS (SELECT 1 FROM audit_events WHERE seq = NEW.seq)
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only: an event with this seq exists');
END;
-- Each new event follows the last one: no gaps left to fill in later.
CREATE TRIGGER audit_events_in_order BEFORE INSERT ON audit_events
WHEN NEW.seq <> COALESCE((SELECT MAX(seq) FROM audit_events), 0) + 1
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only: seq must follow the last event');
END;
