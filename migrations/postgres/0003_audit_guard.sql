-- The audit trail takes new events only, in order: an insert whose seq does not follow the
-- last event is refused (INSERT ... ON CONFLICT DO UPDATE already meets the update trigger).
-- Run the portal as a role with only SELECT and INSERT on audit_events: `jitgate migrate`
-- prints the grants.
CREATE FUNCTION audit_events_check_seq() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.seq <> COALESCE((SELECT MAX(seq) FROM audit_events), 0) + 1 THEN
        RAISE EXCEPTION 'audit_events is append-only: seq must follow the last event';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER audit_events_in_order BEFORE INSERT ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_check_seq();
