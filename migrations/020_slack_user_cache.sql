-- users.info answers, kept for the cache's minute across a restart (issue 14). The gateway
-- (adapters/slack/client.ts) reads a row only while it is younger than that minute, exactly as it
-- reads its in-memory entry; so a deploy does not make the first burst of modal submissions and
-- clicks after it wait for Slack, one users.info each, before their acks. One row per Slack user
-- (the same facts the people table keeps); a user_change event deletes the user's row.
CREATE TABLE slack_user_cache (
  slack_id TEXT PRIMARY KEY,
  user_json TEXT NOT NULL,
  fetched_at INTEGER NOT NULL
);
