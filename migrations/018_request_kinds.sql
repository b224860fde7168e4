-- Removal and change requests (issue 16). Every request so far asked for access; a request now
-- says its kind, and the approval rules see it (`when: { kind: [...] }`).
--   access:  the role is granted, as before.
--   removal: the role (app_id, role_id, connector, group_id) is taken away from the subject.
--   change:  the role is the one wanted (B), granted on approval; then the role it leaves (A,
--            the from_* columns, as the catalog had it when asked) is removed.
ALTER TABLE requests ADD COLUMN kind TEXT NOT NULL DEFAULT 'access' CHECK (kind IN ('access', 'removal', 'change'));
ALTER TABLE requests ADD COLUMN from_role_id TEXT;
ALTER TABLE requests ADD COLUMN from_role_name TEXT;
ALTER TABLE requests ADD COLUMN from_connector TEXT;
ALTER TABLE requests ADD COLUMN from_group_id TEXT;
-- A removal of someone else's access (a request raised in Jira names whose): that person, by
-- email once known, and by Atlassian accountId when named in Jira (the email is then learned
-- from Jira when the removal is carried out); all NULL: the requester's own access.
ALTER TABLE requests ADD COLUMN subject_email TEXT;
ALTER TABLE requests ADD COLUMN subject_name TEXT;
ALTER TABLE requests ADD COLUMN subject_account_id TEXT;
-- What carrying out the removal found (domain/removal.ts RemovalOutcome): ended_grant, standing
-- or not_member, recorded before the removal is sent (a retry after a lost answer must not
-- mistake its own removal for "not a member"); `removed_at` once it is done. A removal holds no
-- membership, so it never counts as a holder (Store.otherHoldersOf).
ALTER TABLE requests ADD COLUMN removal_outcome TEXT;
ALTER TABLE requests ADD COLUMN removed_at INTEGER;
