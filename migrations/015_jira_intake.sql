-- Requests raised in Jira (issue 16, jira.intake). One row per issue of an intake request type
-- the bot has seen, keyed by Jira's issue id (a moved issue changes its key, never its id).
-- `request_id` is reserved at first sight: the "Cannot process this request" comments go in that
-- request's Jira queue, so they stay in order with the request's own comments once the fields
-- are corrected and the request starts (with this id: requests.submission_key = 'jira:<issue id>').
-- `problems` is the last list of problems commented (JSON), so the same problems are told once.
-- `issue_updated` is Jira's `updated` time of the issue as last read: webhooks arrive out of order
-- (a retry can come minutes late) and the poll's search lags, so an older view of the issue
-- than the one already read is ignored instead of reopening problems since fixed.
CREATE TABLE jira_intake (
  issue_id      TEXT PRIMARY KEY,
  issue_key     TEXT NOT NULL,
  request_id    TEXT NOT NULL UNIQUE,
  problems      TEXT,
  issue_updated INTEGER NOT NULL,
  seen_at     INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
) WITHOUT ROWID;

-- The poll's marks (app/jiraPoll.ts): `intake_since`, when intake was first turned on (issues
-- created well before it are never taken in), and `updated`, the latest `updated` time of an
-- issue the poll has handled (the next poll asks for issues updated since, with an overlap).
CREATE TABLE jira_poll (
  name TEXT PRIMARY KEY,
  at   INTEGER NOT NULL
) WITHOUT ROWID;
