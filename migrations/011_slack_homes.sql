-- App Home (issue 17): who opened the bot's Home tab, and when their Home was last published.
-- Homes are re-published only for people listed here, so the bot never calls views.publish for
-- someone who never looked. Keyed by Slack user id: a Home is a Slack surface, and views.publish
-- takes the Slack id. `published_at` is when the last views.publish for them was answered; the
-- next one is not due before a second after it (the outbox row carries that time).
CREATE TABLE slack_homes (
  slack_id     TEXT PRIMARY KEY,
  opened_at    INTEGER NOT NULL,
  published_at INTEGER
) WITHOUT ROWID;
