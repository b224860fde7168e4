-- Extensions (issue 17): asking for more time on an active grant is a request of its own, with
-- its own approvers and votes under the same rules, that refers to the grant it extends. It
-- shares the grant's Jira issue (its steps are comments there), so a Jira key names the grant.
ALTER TABLE requests ADD COLUMN extends_id TEXT REFERENCES requests (id);
CREATE INDEX requests_extensions ON requests (extends_id) WHERE extends_id IS NOT NULL;
