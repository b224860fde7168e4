-- Expiry warnings (issue 17): each active grant's next warning point, indexed like next_timer_at
-- so the once-a-second tick reads nothing when nothing is due. Null: no warning left.
ALTER TABLE requests ADD COLUMN next_warning_at INTEGER;
CREATE INDEX requests_next_warning ON requests (next_warning_at) WHERE next_warning_at IS NOT NULL;
-- Grants active at the upgrade are armed from the start (0): a warning point already passed is
-- warned once, late, and the next points are armed from there.
UPDATE requests SET next_warning_at = 0 WHERE state = 'active' AND expires_at IS NOT NULL AND extends_id IS NULL;
