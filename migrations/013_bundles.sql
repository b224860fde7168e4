-- Bundles (issue 19): several roles requested in one request, approved once, granted and revoked
-- together on one Jira issue. The bundle request is a request like any other (its approvers,
-- votes, timers and issue), which records its parts as they were at submission (`bundle_json`,
-- like app_name: later catalog edits don't rewrite history). Once approved, each part becomes a
-- request of its own (`part_of` = the bundle request) that grants one role through the usual
-- grant path and ownership rules, so a part that fails is retried alone. Parts share the
-- bundle's Jira issue, as extensions share their grant's.
ALTER TABLE requests ADD COLUMN bundle_json TEXT;
ALTER TABLE requests ADD COLUMN part_of TEXT REFERENCES requests (id);
CREATE INDEX requests_parts ON requests (part_of) WHERE part_of IS NOT NULL;
