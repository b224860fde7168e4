-- access-bot schema v1. Never edit once landed: add a new numbered file instead.

CREATE TABLE requests (
  id                  TEXT PRIMARY KEY,
  -- The Slack view id of the submitted modal: a re-submitted modal makes one request.
  submission_key      TEXT UNIQUE,
  state               TEXT NOT NULL,
  app_id              TEXT NOT NULL,
  role_id             TEXT NOT NULL,
  -- Snapshots taken at submission, so later catalog edits don't rewrite history.
  app_name            TEXT NOT NULL,
  role_name           TEXT NOT NULL,
  connector           TEXT NOT NULL,
  group_id            TEXT NOT NULL,
  duration_token      TEXT NOT NULL,
  duration_ms         INTEGER,            -- NULL: permanent
  reason              TEXT NOT NULL,
  policy_json         TEXT NOT NULL,
  requester_slack_id  TEXT NOT NULL,
  requester_email     TEXT,
  requester_name      TEXT,
  idp_user_id         TEXT,
  stage               INTEGER NOT NULL DEFAULT 0,
  jira_key            TEXT,
  -- The requester's confirmation DM, updated once the Jira key exists.
  requester_dm_channel TEXT,
  requester_dm_ts     TEXT,
  created_at          INTEGER NOT NULL,
  updated_at          INTEGER NOT NULL,
  decided_at          INTEGER,
  decided_by          TEXT,
  granted_at          INTEGER,
  expires_at          INTEGER,
  revoke_requested_at INTEGER,
  revoke_cause        TEXT,
  revoked_by          TEXT,
  revoked_at          INTEGER,
  failure             TEXT
);
-- The expiry timer and sweep read only the head of this index.
CREATE INDEX requests_due ON requests (expires_at) WHERE state = 'active';
CREATE INDEX requests_holding ON requests (connector, group_id, requester_email) WHERE state IN ('approved', 'active', 'revoking');
CREATE INDEX requests_pending ON requests (created_at) WHERE state = 'pending';

CREATE TABLE approvers (
  request_id  TEXT NOT NULL REFERENCES requests (id),
  stage       INTEGER NOT NULL,
  slack_id    TEXT NOT NULL,
  email       TEXT NOT NULL,
  name        TEXT,
  asked_at    INTEGER NOT NULL,
  decision    TEXT,                       -- 'approve' | 'deny' | NULL
  decided_at  INTEGER,
  reason      TEXT,
  dm_channel  TEXT,
  dm_ts       TEXT,
  PRIMARY KEY (request_id, stage, slack_id)
);

-- Whether access-bot owns a membership: decided by a membership check before its first add,
-- and written before the add is sent (ARCHITECTURE.md §1.5).
CREATE TABLE memberships (
  connector   TEXT NOT NULL,
  group_id    TEXT NOT NULL,
  idp_user_id TEXT NOT NULL,
  owned       INTEGER NOT NULL,
  recorded_at INTEGER NOT NULL,
  PRIMARY KEY (connector, group_id, idp_user_id)
);

-- Append-only and hash-chained: each row carries the hash of the previous one.
CREATE TABLE audit_events (
  seq        INTEGER PRIMARY KEY AUTOINCREMENT,
  request_id TEXT,
  at         INTEGER NOT NULL,
  type       TEXT NOT NULL,
  actor      TEXT NOT NULL,
  data       TEXT NOT NULL,
  prev_hash  TEXT NOT NULL,
  hash       TEXT NOT NULL
);
CREATE INDEX audit_by_request ON audit_events (request_id, seq);
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;

CREATE TABLE outbox (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  -- Effects of one queue run one at a time, in id order (e.g. all Jira effects of a request).
  queue        TEXT NOT NULL,
  kind         TEXT NOT NULL,
  request_id   TEXT,
  payload      TEXT NOT NULL,
  status       TEXT NOT NULL DEFAULT 'pending',  -- pending | running | done | dead
  attempts     INTEGER NOT NULL DEFAULT 0,
  available_at INTEGER NOT NULL,
  lease_until  INTEGER,
  last_error   TEXT,
  result       TEXT,
  created_at   INTEGER NOT NULL,
  done_at      INTEGER
);
CREATE INDEX outbox_open ON outbox (queue, id) WHERE status <> 'done';
CREATE INDEX outbox_due ON outbox (available_at, id) WHERE status = 'pending';
CREATE INDEX outbox_by_request ON outbox (request_id);

-- Inbound deliveries already handled (Slack retries, Jira webhook redeliveries).
CREATE TABLE inbound_seen (
  key TEXT PRIMARY KEY,
  at  INTEGER NOT NULL
);
