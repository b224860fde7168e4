-- Inactivity reclaim and offboarding (issue 19).
--
-- `origin`: 'request' for what someone asked for; 'standing' for standing access (a group member
-- access-bot did not add) recorded, with a Jira issue of its own, when inactivity reclaim warns
-- its holder. A standing record is created `active` and ends like a grant: revoked.
ALTER TABLE requests ADD COLUMN origin TEXT NOT NULL DEFAULT 'request' CHECK (origin IN ('request', 'standing'));
-- Why a grant ended, in words, for reclaim and offboarding (which sign-in, which departure).
ALTER TABLE requests ADD COLUMN revoke_reason TEXT;
-- The inactivity warning in force (NULL: none) and when it said the access goes; the holder's
-- last Keep it, from which inactivity is counted again.
ALTER TABLE requests ADD COLUMN reclaim_warned_at INTEGER;
ALTER TABLE requests ADD COLUMN reclaim_at INTEGER;
ALTER TABLE requests ADD COLUMN reclaim_kept_at INTEGER;
-- What the reclaim and account-status checks page through: requests that hold or are about to
-- hold a membership, by id.
CREATE INDEX requests_holders ON requests (id) WHERE state IN ('approved', 'active');

-- An approver who left (offboarding): no longer asked, reminded or counted as waiting; a vote
-- they gave before leaving stands.
ALTER TABLE approvers ADD COLUMN gone_at INTEGER;
