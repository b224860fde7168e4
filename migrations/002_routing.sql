-- Routing over time (reminders, escalation, timeouts), break-glass review, and the reason each
-- approver was asked (so authorisation can be re-checked against the catalog at click time).

-- How the approver was routed: owners | email | manager | slack-group:<g> | fallback | escalation
ALTER TABLE approvers ADD COLUMN via TEXT NOT NULL DEFAULT 'email';
ALTER TABLE approvers ADD COLUMN reminded_at INTEGER;

ALTER TABLE requests ADD COLUMN stage_started_at INTEGER;
ALTER TABLE requests ADD COLUMN escalated_stage INTEGER;
-- The earliest reminder, escalation or timeout still to come; NULL when none.
ALTER TABLE requests ADD COLUMN next_timer_at INTEGER;
ALTER TABLE requests ADD COLUMN break_glass_notify TEXT;
ALTER TABLE requests ADD COLUMN alert_channel TEXT;
ALTER TABLE requests ADD COLUMN alert_ts TEXT;
ALTER TABLE requests ADD COLUMN reviewed_at INTEGER;
ALTER TABLE requests ADD COLUMN reviewed_by TEXT;

CREATE INDEX requests_timers ON requests (next_timer_at) WHERE state = 'pending' AND next_timer_at IS NOT NULL;

-- An admin's retry of a dead effect starts a new retry window.
ALTER TABLE outbox ADD COLUMN revived_at INTEGER;

-- Jira webhooks find the request by its issue key.
CREATE INDEX requests_by_jira_key ON requests (jira_key) WHERE jira_key IS NOT NULL;
