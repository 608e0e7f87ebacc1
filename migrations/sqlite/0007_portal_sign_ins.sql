-- Device-code sign-ins to jitgate itself (issue 19): a sign-in to the requests API, the one
-- jitgate resource the device-code block excludes, is kept too (it is how a phished token would
-- be used), but it is no use of an exemption: it belongs to no grant and starts no one-shot end.
-- `resource_id` is the application the sign-in was to; `to_portal` is 1 for jitgate's own APIs.
ALTER TABLE sign_ins ADD COLUMN resource_id TEXT NOT NULL DEFAULT '';
ALTER TABLE sign_ins ADD COLUMN to_portal BIGINT NOT NULL DEFAULT 0;
CREATE INDEX sign_ins_portal ON sign_ins (to_portal, user_id, at);
