-- On-call approval (issue 21): a request approved because its requester is on call ends no later
-- than the end of that on-call shift. Null: the duration asked alone decides when the grant ends.
ALTER TABLE requests ADD COLUMN ends_by INTEGER;
