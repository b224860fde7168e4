-- People, not Slack ids (issue 15 §1). A request raised in Jira, a reviewer deciding in Jira, an
-- IdP user seen in a membership listing: none has to be a Slack user. Requests and approvers
-- refer to a person; where a message went is a surface reference, Slack being one surface.
--
-- `requests` and `approvers` are rebuilt: the requester's Slack id was NOT NULL and the
-- approvers' key was (request_id, stage, slack_id). The new child tables reference requests_v7,
-- so dropping the old tables deletes no parent of theirs; the rename then points them at
-- `requests` (SQLite rewrites foreign keys on RENAME since 3.26).

-- Email (lowercased) is the identity; it may be learned after the record exists (a Slack
-- submission knows only the Slack id until routing asks users.info). Two records that turn
-- out to share an email, Slack id or accountId are one person and are merged by the store.
CREATE TABLE people (
  id                   INTEGER PRIMARY KEY,
  email                TEXT UNIQUE,
  slack_id             TEXT UNIQUE,
  atlassian_account_id TEXT UNIQUE,
  name                 TEXT,
  created_at           INTEGER NOT NULL,
  updated_at           INTEGER NOT NULL
);

-- A person's user id in each identity provider, as last resolved by email. Not unique per
-- (connector, user): two emails (an alias, a rename) may lead to one IdP user.
CREATE TABLE person_idp_ids (
  person_id   INTEGER NOT NULL REFERENCES people (id),
  connector   TEXT NOT NULL,
  idp_user_id TEXT NOT NULL,
  recorded_at INTEGER NOT NULL,
  PRIMARY KEY (person_id, connector)
) WITHOUT ROWID;
CREATE INDEX person_idp_ids_by_user ON person_idp_ids (connector, idp_user_id);

-- Carry the people over. Emails first, one person each; then the Slack id seen with each email
-- (the latest row wins; a Slack id already taken by another email stays with the first); then
-- requesters known only by their Slack id (routing had not identified them yet).
INSERT OR IGNORE INTO people (email, name, created_at, updated_at)
  SELECT lower(email), name, at, at FROM (
    SELECT requester_email AS email, requester_name AS name, created_at AS at FROM requests WHERE requester_email IS NOT NULL
    UNION ALL
    SELECT email, name, asked_at FROM approvers
  ) ORDER BY at DESC;
UPDATE OR IGNORE people SET slack_id = (
  SELECT slack_id FROM (
    SELECT requester_slack_id AS slack_id, lower(requester_email) AS email, created_at AS at FROM requests WHERE requester_email IS NOT NULL
    UNION ALL
    SELECT slack_id, lower(email), asked_at FROM approvers
  ) seen WHERE seen.email = people.email ORDER BY at DESC LIMIT 1
);
INSERT OR IGNORE INTO people (slack_id, created_at, updated_at)
  SELECT requester_slack_id, MIN(created_at), MIN(created_at) FROM requests WHERE requester_email IS NULL GROUP BY requester_slack_id;

CREATE TABLE requests_v7 (
  id                  TEXT PRIMARY KEY,
  submission_key      TEXT UNIQUE,
  state               TEXT NOT NULL,
  app_id              TEXT NOT NULL,
  role_id             TEXT NOT NULL,
  app_name            TEXT NOT NULL,
  role_name           TEXT NOT NULL,
  connector           TEXT NOT NULL,
  group_id            TEXT NOT NULL,
  duration_token      TEXT NOT NULL,
  duration_ms         INTEGER,
  reason              TEXT NOT NULL,
  policy_json         TEXT NOT NULL,
  requester_id        INTEGER NOT NULL REFERENCES people (id),
  -- Snapshots taken when routing identified the requester (NULL until then), like app_name.
  requester_email     TEXT,
  requester_name      TEXT,
  idp_user_id         TEXT,
  stage               INTEGER NOT NULL DEFAULT 0,
  jira_key            TEXT,
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
  failure             TEXT,
  stage_started_at    INTEGER,
  escalated_stage     INTEGER,
  next_timer_at       INTEGER,
  break_glass_notify  TEXT,
  reviewed_at         INTEGER,
  reviewed_by         TEXT
);
INSERT INTO requests_v7
  SELECT r.id, r.submission_key, r.state, r.app_id, r.role_id, r.app_name, r.role_name, r.connector, r.group_id, r.duration_token,
    r.duration_ms, r.reason, r.policy_json,
    COALESCE((SELECT p.id FROM people p WHERE p.email = lower(r.requester_email)), (SELECT p.id FROM people p WHERE p.slack_id = r.requester_slack_id)),
    r.requester_email, r.requester_name, r.idp_user_id, r.stage, r.jira_key, r.created_at, r.updated_at, r.decided_at, r.decided_by,
    r.granted_at, r.expires_at, r.revoke_requested_at, r.revoke_cause, r.revoked_by, r.revoked_at, r.failure, r.stage_started_at,
    r.escalated_stage, r.next_timer_at, r.break_glass_notify, r.reviewed_at, r.reviewed_by
  FROM requests r;

CREATE TABLE approvers_v7 (
  request_id  TEXT NOT NULL REFERENCES requests_v7 (id),
  stage       INTEGER NOT NULL,
  person_id   INTEGER NOT NULL REFERENCES people (id),
  -- How the approver was routed: owners | email | manager | slack-group:<g> | fallback | escalation
  via         TEXT NOT NULL DEFAULT 'email',
  asked_at    INTEGER NOT NULL,
  reminded_at INTEGER,
  decision    TEXT,                       -- 'approve' | 'deny' | NULL: one vote per person and stage
  decided_at  INTEGER,
  reason      TEXT,
  PRIMARY KEY (request_id, stage, person_id)
);
INSERT OR IGNORE INTO approvers_v7 (request_id, stage, person_id, via, asked_at, reminded_at, decision, decided_at, reason)
  SELECT a.request_id, a.stage, p.id, a.via, a.asked_at, a.reminded_at, a.decision, a.decided_at, a.reason
  FROM approvers a JOIN people p ON p.email = lower(a.email)
  ORDER BY a.rowid;

-- Where a message about a request went, per surface. `channel` and `ts` are Slack's
-- conversation and message ts; another surface keeps its container and message id there.
-- person_id 0 and stage 0 stand for "not about one person" and "no stage" (the key needs values).
CREATE TABLE surface_refs (
  request_id TEXT NOT NULL REFERENCES requests_v7 (id),
  surface    TEXT NOT NULL,               -- slack
  purpose    TEXT NOT NULL,               -- requester_dm | approver_card | break_glass_alert | grant_notice
  stage      INTEGER NOT NULL DEFAULT 0,
  person_id  INTEGER NOT NULL DEFAULT 0,
  channel    TEXT NOT NULL,
  ts         TEXT NOT NULL,
  at         INTEGER NOT NULL,
  PRIMARY KEY (request_id, surface, purpose, stage, person_id)
) WITHOUT ROWID;

INSERT INTO surface_refs (request_id, surface, purpose, stage, person_id, channel, ts, at)
  SELECT r.id, 'slack', 'requester_dm', 0, n.requester_id, r.requester_dm_channel, r.requester_dm_ts, r.created_at
  FROM requests r JOIN requests_v7 n ON n.id = r.id
  WHERE r.requester_dm_channel IS NOT NULL AND r.requester_dm_ts IS NOT NULL;
INSERT INTO surface_refs (request_id, surface, purpose, stage, person_id, channel, ts, at)
  SELECT id, 'slack', 'break_glass_alert', 0, 0, alert_channel, alert_ts, created_at
  FROM requests WHERE alert_channel IS NOT NULL AND alert_ts IS NOT NULL;
INSERT OR IGNORE INTO surface_refs (request_id, surface, purpose, stage, person_id, channel, ts, at)
  SELECT a.request_id, 'slack', 'approver_card', a.stage, p.id, a.dm_channel, a.dm_ts, a.asked_at
  FROM approvers a JOIN people p ON p.email = lower(a.email)
  WHERE a.dm_channel IS NOT NULL AND a.dm_ts IS NOT NULL;
-- The "Access granted" DM was found from the outbox's results; it becomes a reference too.
INSERT OR REPLACE INTO surface_refs (request_id, surface, purpose, stage, person_id, channel, ts, at)
  SELECT o.request_id, 'slack', 'grant_notice', 0, n.requester_id, json_extract(o.result, '$.channel'), json_extract(o.result, '$.ts'), COALESCE(o.done_at, o.created_at)
  FROM outbox o JOIN requests_v7 n ON n.id = o.request_id
  WHERE o.kind = 'slack.requesterDm' AND o.status = 'done' AND json_extract(o.payload, '$.notice.type') = 'granted'
    AND json_extract(o.result, '$.channel') IS NOT NULL AND json_extract(o.result, '$.ts') IS NOT NULL
  ORDER BY o.id;

DROP TABLE approvers;
DROP TABLE requests;
ALTER TABLE requests_v7 RENAME TO requests;
ALTER TABLE approvers_v7 RENAME TO approvers;

-- The indexes and triggers of the old table went with it.
CREATE INDEX requests_due ON requests (expires_at) WHERE state = 'active';
CREATE INDEX requests_pending ON requests (created_at) WHERE state = 'pending';
CREATE INDEX requests_timers ON requests (next_timer_at) WHERE state = 'pending' AND next_timer_at IS NOT NULL;
CREATE INDEX requests_by_jira_key ON requests (jira_key) WHERE jira_key IS NOT NULL;
CREATE INDEX requests_holding_by_user ON requests (connector, group_id, idp_user_id) WHERE state IN ('approved', 'active', 'revoking');
CREATE INDEX requests_by_requester ON requests (requester_id, created_at);
CREATE INDEX approvers_by_person ON approvers (person_id);

CREATE TRIGGER request_counts_insert AFTER INSERT ON requests BEGIN
  INSERT INTO request_counts (state, n) VALUES (NEW.state, 1)
    ON CONFLICT (state) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER request_counts_update AFTER UPDATE OF state ON requests WHEN OLD.state IS NOT NEW.state BEGIN
  UPDATE request_counts SET n = n - 1 WHERE state = OLD.state;
  INSERT INTO request_counts (state, n) VALUES (NEW.state, 1)
    ON CONFLICT (state) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER request_counts_delete AFTER DELETE ON requests BEGIN
  UPDATE request_counts SET n = n - 1 WHERE state = OLD.state;
END;
