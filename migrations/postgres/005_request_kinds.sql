-- Removal and change requests (issue 16): migrations/018_request_kinds.sql on Postgres (what each
-- column means is said there).
ALTER TABLE requests ADD COLUMN kind TEXT NOT NULL DEFAULT 'access' CHECK (kind IN ('access', 'removal', 'change'));
ALTER TABLE requests ADD COLUMN from_role_id TEXT;
ALTER TABLE requests ADD COLUMN from_role_name TEXT;
ALTER TABLE requests ADD COLUMN from_connector TEXT;
ALTER TABLE requests ADD COLUMN from_group_id TEXT;
ALTER TABLE requests ADD COLUMN subject_email TEXT;
ALTER TABLE requests ADD COLUMN subject_name TEXT;
ALTER TABLE requests ADD COLUMN subject_account_id TEXT;
ALTER TABLE requests ADD COLUMN removal_outcome TEXT;
ALTER TABLE requests ADD COLUMN removed_at BIGINT;
