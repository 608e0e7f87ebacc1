-- Requests on behalf of others (issue 21): who asked, when it is not the requester (the
-- beneficiary, who would hold the grant). All three NULL for a request the requester made.
ALTER TABLE requests ADD COLUMN asked_by_id TEXT;
ALTER TABLE requests ADD COLUMN asked_by_name TEXT;
ALTER TABLE requests ADD COLUMN asked_by_username TEXT;
CREATE INDEX requests_asked_by ON requests (asked_by_id);
