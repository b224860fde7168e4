-- Requests raised in Jira (issue 16): migrations/015_jira_intake.sql on Postgres (what each
-- column means is said there).
CREATE TABLE jira_intake (
  issue_id      TEXT PRIMARY KEY,
  issue_key     TEXT NOT NULL,
  request_id    TEXT NOT NULL UNIQUE,
  problems      TEXT,
  issue_updated BIGINT NOT NULL,
  seen_at       BIGINT NOT NULL,
  updated_at    BIGINT NOT NULL
);

-- The poll's marks (app/jiraPoll.ts).
CREATE TABLE jira_poll (
  name TEXT PRIMARY KEY,
  at   BIGINT NOT NULL
);
