-- On behalf of (issue 17): a manager or a catalog delegate asks for access for someone else. The
-- request's requester is the person the access is for (the grant, the rules, `manager`, the
-- self-approval rule all follow them); the person who asked is recorded beside them, with the
-- basis they asked on ('manager' or 'delegate'). NULL on every request someone made for themself.
ALTER TABLE requests ADD COLUMN submitted_by INTEGER REFERENCES people (id);
ALTER TABLE requests ADD COLUMN submitted_as TEXT;
CREATE INDEX requests_by_submitter ON requests (submitted_by, created_at) WHERE submitted_by IS NOT NULL;
