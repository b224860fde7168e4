-- Claims of the scheduled jobs' runs (issue 20): on Postgres several replicas share the database
-- and each fires the same schedule, so a run is taken by the first replica to claim its slot (the
-- schedule's tick, epoch ms); the others skip it (jobs/claims.ts). One row per job: the latest
-- slot claimed, by whom (hostname:pid) and when. A slot at or before the latest is refused. On
-- SQLite (one process) every tick is claimed by that process.
CREATE TABLE scheduled_runs (
  job TEXT PRIMARY KEY,
  slot INTEGER NOT NULL,
  holder TEXT NOT NULL,
  claimed_at INTEGER NOT NULL
);
