-- Ticket validators (issue 20): the link the ticket system gave for a request's ticket, shown
-- on the request's page and in the API.
ALTER TABLE requests ADD COLUMN ticket_url TEXT;
