-- Who is in each catalog group, as the identity provider lists it (issue 18's user sync), for
-- reviews and drift checks (issue 19): members the bot never granted included.
--
-- One row per (connector instance, group, IdP user id), the bot's membership key. A complete
-- listing stamps `last_seen_at` on everyone it lists; a member it no longer lists gets
-- `gone_at` (kept, with its dates, for the record). Someone who comes back starts a new stint:
-- `first_seen_at` is reset and `gone_at` cleared. A listing that fails part-way marks nobody gone.
CREATE TABLE group_members (
  connector     TEXT NOT NULL,
  group_id      TEXT NOT NULL,
  idp_user_id   TEXT NOT NULL,
  email         TEXT,
  display_name  TEXT,
  first_seen_at INTEGER NOT NULL,
  last_seen_at  INTEGER NOT NULL,
  gone_at       INTEGER,
  PRIMARY KEY (connector, group_id, idp_user_id)
) WITHOUT ROWID;

-- Who holds a group now: the rows not gone.
CREATE INDEX group_members_current ON group_members (connector, group_id) WHERE gone_at IS NULL;

-- The last sync of each group and how it ended: `running` while it pages, then `ok` (with how
-- many members it listed) or `failed` (with the cause, as the connector worded it).
CREATE TABLE group_syncs (
  connector   TEXT NOT NULL,
  group_id    TEXT NOT NULL,
  started_at  INTEGER NOT NULL,
  finished_at INTEGER,
  outcome     TEXT NOT NULL CHECK (outcome IN ('running', 'ok', 'failed')),
  members     INTEGER,
  cause       TEXT,
  PRIMARY KEY (connector, group_id)
) WITHOUT ROWID;
