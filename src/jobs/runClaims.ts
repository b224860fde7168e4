/**
 * One replica per scheduled run. On Postgres every replica fires the same schedules (the user
 * sync, the Jira poll, inactivity reclaim, the account-status check); each tick is a slot (the
 * schedule's tick, epoch ms), and only the replica that claims it first (`Store.claimRun`, one
 * row per job in `scheduled_runs`) runs it. The others skip it: no second round of IdP or Jira
 * calls, no second admin alert. A run started by hand (`runOnce()`, `reclaim()`,
 * `checkAccounts()`) claims nothing and always runs.
 *
 * Why a claim and not a session-level `pg_try_advisory_lock` held for the run: a lock only keeps
 * two runs from overlapping. A replica whose tick fires a moment after another's run ended (a
 * short run, a busy event loop, clocks a little apart) would take the free lock and run the same
 * tick again, alert included; a claim names the tick, so it is refused whenever it comes. A claim
 * is also one upsert on either store, with nothing held open across the run's awaits (the
 * Postgres store's connection is shared by every use case of the replica), and is tested the same
 * way on SQLite, where the one process claims every tick.
 *
 * The cost: a replica that dies mid-run (kill -9, a lost node) has claimed its slot, so that run
 * is not retried by another replica; the next slot's run (another tick, by whichever replica
 * claims it) does the whole check again, and each holding is recorded in its own transaction, so
 * nothing is lost, only late by one period.
 */
import { hostname } from 'node:os';
import type { Store } from '../app/ports/store.js';

export interface RunClaims {
  /** Whether this process takes the job's run for this slot (epoch ms); false when another took it. */
  claim(job: string, slot: number): boolean;
}

/** The job names in `scheduled_runs`. */
export const JOBS = {
  memberSync: 'member-sync',
  jiraPoll: 'jira-poll',
  reclaim: 'inactivity-reclaim',
  accountStatus: 'account-status',
} as const;

/** Claims recorded through the store, in this process's name (hostname:pid). */
export function storeRunClaims(store: Pick<Store, 'claimRun'>, now: () => number): RunClaims {
  const holder = `${hostname()}:${process.pid}`;
  return { claim: (job, slot) => store.claimRun(job, slot, holder, now()) };
}

/**
 * The job's run for a slot: `run()` when no run of the job is in progress here (`busy`; one is not
 * joined, so the slot stays free for another replica) and this process claims the slot;
 * undefined otherwise. A failed claim (the database down) rejects, as the run would.
 */
export async function runClaimed<T>(claims: RunClaims, job: string, slot: number, busy: boolean, run: () => Promise<T>): Promise<T | undefined> {
  if (busy || !claims.claim(job, slot)) return undefined;
  return run();
}
