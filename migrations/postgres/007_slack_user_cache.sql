-- users.info answers kept for the cache's minute across a restart (issue 14):
-- migrations/020_slack_user_cache.sql on Postgres (what it holds and when it is read is said
-- there). Every replica reads and writes it; a user_change event on any replica deletes the row.
CREATE TABLE slack_user_cache (
  slack_id   TEXT PRIMARY KEY,
  user_json  TEXT NOT NULL,
  fetched_at BIGINT NOT NULL
);
