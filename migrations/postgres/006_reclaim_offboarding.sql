-- Inactivity reclaim and offboarding (issue 19): migrations/019_reclaim_offboarding.sql on
-- Postgres (what each column means is said there).
ALTER TABLE requests ADD COLUMN origin TEXT NOT NULL DEFAULT 'request' CHECK (origin IN ('request', 'standing'));
ALTER TABLE requests ADD COLUMN revoke_reason TEXT;
ALTER TABLE requests ADD COLUMN reclaim_warned_at BIGINT;
ALTER TABLE requests ADD COLUMN reclaim_at BIGINT;
ALTER TABLE requests ADD COLUMN reclaim_kept_at BIGINT;
-- The holdings the reclaim and account-status checks page through, by id compared bytewise as
-- SQLite compares it (PostgresStore.holdings).
CREATE INDEX requests_holders ON requests ((id COLLATE "C")) WHERE state IN ('approved', 'active');

ALTER TABLE approvers ADD COLUMN gone_at BIGINT;
