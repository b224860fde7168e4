-- Access reviews (issue 19): migrations/017_access_reviews.sql on Postgres. A campaign asks reviewers, person by person, whether the members of
-- a role's groups keep their access, members access-bot never granted included.

-- One campaign: its scope (an application's role, or all its roles), its settings as they were
-- when it started (a later catalog edit does not change a running review), its clock, its Jira
-- issue. `state`: listing (members being listed) → open (reviewers asked) → closed (every row
-- decided, every revocation settled); failed when the listing could not be done.
CREATE TABLE review_campaigns (
  id             TEXT PRIMARY KEY,
  app_id         TEXT NOT NULL,
  app_name       TEXT NOT NULL,
  -- NULL: every role of the application.
  role_id        TEXT,
  scope          TEXT NOT NULL,
  -- [{ id, name, connector, group }]: the roles and groups reviewed, as the catalog said at the start.
  roles_json     TEXT NOT NULL,
  origin         TEXT NOT NULL CHECK (origin IN ('cli', 'schedule')),
  started_by     TEXT NOT NULL,
  state          TEXT NOT NULL CHECK (state IN ('listing', 'open', 'closed', 'failed')),
  -- { reviewers, fallback, onDue, remindBeforeMs, escalateAfterMs, inactiveAfterMs }: reviewers and fallback as emails.
  policy_json    TEXT NOT NULL,
  created_at     BIGINT NOT NULL,
  due_at         BIGINT NOT NULL,
  jira_key       TEXT,
  -- The last step (audit seq) written to the Jira issue: steps are written in order, a batch at a time.
  jira_synced_seq BIGINT NOT NULL DEFAULT 0,
  next_timer_at  BIGINT,
  reminded_at    BIGINT,
  escalated_at   BIGINT,
  due_handled_at BIGINT,
  closed_at      BIGINT,
  failure        TEXT
);
CREATE INDEX review_campaigns_timers ON review_campaigns (next_timer_at) WHERE next_timer_at IS NOT NULL;
CREATE INDEX review_campaigns_scope ON review_campaigns (app_id, role_id, created_at);

-- One row per person holding a reviewed role: who they are and what the IdP said of them when
-- listed, how they got the access, the bot's recommendation, and the decision and its outcome.
-- `decided_via`: reviewer, or on_due (the due-date policy). `revoke_state`: pending (removal
-- enqueued), removed, kept (a grant approved since still needs the membership), failed.
CREATE TABLE review_items (
  campaign_id        TEXT NOT NULL REFERENCES review_campaigns (id),
  seq                BIGINT NOT NULL,
  role_id            TEXT NOT NULL,
  role_name          TEXT NOT NULL,
  connector          TEXT NOT NULL,
  group_id           TEXT NOT NULL,
  idp_user_id        TEXT NOT NULL,
  email              TEXT,
  name               TEXT,
  title              TEXT,
  department         TEXT,
  manager            TEXT,
  last_login_known   BIGINT NOT NULL,
  last_login_at      BIGINT,
  -- The bot's active grant that holds the membership, when listed (NULL: none).
  grant_request_id   TEXT,
  -- 1: the membership is not (only) the bot's: the person held it before any grant, or without one.
  standing           BIGINT NOT NULL,
  recommendation     TEXT NOT NULL CHECK (recommendation IN ('keep', 'revoke')),
  recommendation_why TEXT NOT NULL,
  decision           TEXT CHECK (decision IN ('keep', 'revoke')),
  decided_via        TEXT CHECK (decided_via IN ('reviewer', 'on_due')),
  decided_by         TEXT,
  decided_by_person  BIGINT REFERENCES people (id),
  decided_at         BIGINT,
  reason             TEXT,
  revoke_state       TEXT CHECK (revoke_state IN ('pending', 'removed', 'kept', 'failed')),
  revoked_at         BIGINT,
  PRIMARY KEY (campaign_id, seq)
);
-- A member is listed once per campaign, however often a listing page is fetched again.
CREATE UNIQUE INDEX review_items_member ON review_items (campaign_id, connector, group_id, idp_user_id);
CREATE INDEX review_items_undecided ON review_items (campaign_id, seq) WHERE decision IS NULL;
CREATE INDEX review_items_removing ON review_items (campaign_id, seq) WHERE revoke_state = 'pending';

-- Who may decide a row: its assigned reviewers (any one of them decides it). `via`: reviewer,
-- manager / fallback / co_reviewer (a reviewer's own row, reviewed by someone else), escalation.
CREATE TABLE review_assignments (
  campaign_id TEXT NOT NULL,
  person_id   BIGINT NOT NULL REFERENCES people (id),
  seq         BIGINT NOT NULL,
  via         TEXT NOT NULL,
  at          BIGINT NOT NULL,
  PRIMARY KEY (campaign_id, person_id, seq),
  FOREIGN KEY (campaign_id, seq) REFERENCES review_items (campaign_id, seq)
);
CREATE INDEX review_assignments_by_item ON review_assignments (campaign_id, seq);

-- Each reviewer of a campaign: their one Slack message (paged: `page` is the page it shows), and
-- their manager as resolved when the review opened (escalation goes there).
CREATE TABLE review_reviewers (
  campaign_id       TEXT NOT NULL REFERENCES review_campaigns (id),
  person_id         BIGINT NOT NULL REFERENCES people (id),
  via               TEXT NOT NULL,
  manager_person_id BIGINT REFERENCES people (id),
  page              BIGINT NOT NULL DEFAULT 0,
  channel           TEXT,
  ts                TEXT,
  asked_at          BIGINT NOT NULL,
  PRIMARY KEY (campaign_id, person_id)
);
