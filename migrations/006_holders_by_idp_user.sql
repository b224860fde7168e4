-- "Does another grant still need this membership" is asked by IdP user, as ownership is recorded
-- (memberships), no longer by requester email: one person may request under two emails (an
-- alias, a rename, UPN vs mail). The index the email-keyed question used goes.
DROP INDEX requests_holding;
CREATE INDEX requests_holding_by_user ON requests (connector, group_id, idp_user_id) WHERE state IN ('approved', 'active', 'revoking');
