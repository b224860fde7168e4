-- Claims of the scheduled jobs' runs (issue 20): migrations/021_scheduled_runs.sql on Postgres
-- (why, and what a row holds, is said there). The first replica to claim a job's slot runs it;
-- the claim is one upsert, so two replicas claiming at once cannot both win.
CREATE TABLE scheduled_runs (
  job        TEXT PRIMARY KEY,
  slot       BIGINT NOT NULL,
  holder     TEXT NOT NULL,
  claimed_at BIGINT NOT NULL
);
