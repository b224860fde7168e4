/**
 * The user sync: on a node-cron schedule (`MEMBER_SYNC_SCHEDULE`, default hourly), every group
 * the catalog grants is listed through its connector's MemberListing and stored
 * (adapters/sqlite/groupMembers.ts), so reviews and drift checks know who holds what, members
 * the bot never granted included. Generic over connectors: any instance with `listMembers`.
 *
 * Gentle by construction: one group at a time, one page at a time, a macrotask yield between
 * pages so Slack requests are never held up, each page written in its own short transaction. A
 * rate limit (RetryableError with the service's hint) is waited out and the same page asked again,
 * up to a bound; past it, or on a PermanentError, the group's sync is recorded as failed with the
 * cause and the next group goes on. A run never overlaps another. A scheduled run is run by the
 * one replica that claims its tick (jobs/runClaims.ts); the first run after start is each
 * replica's own (it has no tick), and `runOnce()` by hand always runs.
 */
import { schedule, type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import { hasCapability, type IdpConnector, type IdpMember } from '../app/ports/idp.js';
import type { Catalog } from '../domain/catalog.js';
import { Patience, Stopped, type PatienceOptions } from './patience.js';
import { JOBS, runClaimed, type RunClaims } from './runClaims.js';

/** Where listings are stored (SqliteGroupMembers). */
export interface GroupMemberStore {
  startSync(connector: string, groupId: string, at: number): void;
  recordPage(connector: string, groupId: string, at: number, members: readonly IdpMember[]): void;
  completeSync(connector: string, groupId: string, startedAt: number, finishedAt: number, members: number): void;
  failSync(connector: string, groupId: string, startedAt: number, finishedAt: number, cause: string): void;
}

export interface MemberSyncOptions extends PatienceOptions {
  connectors: Readonly<Record<string, IdpConnector>>;
  catalog: () => Catalog;
  store: GroupMemberStore;
  /** Which replica runs a scheduled tick. */
  claims: RunClaims;
  now: () => number;
  logger: Logger;
  /** node-cron expression; `off` turns the schedule off (runOnce still works). Default hourly. */
  schedule?: string;
  /** Members asked for per page. Default 200 (each connector caps it). */
  pageSize?: number;
}

export const DEFAULT_MEMBER_SYNC_SCHEDULE = '17 * * * *';
const FIRST_RUN_DELAY_MS = 30_000;

export interface GroupSyncResult {
  connector: string;
  group: string;
  outcome: 'ok' | 'failed';
  members?: number;
  cause?: string;
}

/** The (connector, group) pairs the catalog grants, each once, in catalog order. */
export function grantedGroups(catalog: Catalog): { connector: string; group: string }[] {
  const seen = new Set<string>();
  const out: { connector: string; group: string }[] = [];
  for (const app of catalog.applications) {
    for (const role of app.roles) {
      const key = `${role.grant.connector}\u0000${role.grant.group}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ connector: role.grant.connector, group: role.grant.group });
    }
  }
  return out;
}

export class MemberSync {
  private task: ScheduledTask | undefined;
  private first: NodeJS.Timeout | undefined;
  private running: Promise<GroupSyncResult[]> | undefined;
  private readonly patience: Patience;

  constructor(private readonly o: MemberSyncOptions) {
    this.patience = new Patience(o);
  }

  start(): void {
    this.patience.start();
    const expr = this.o.schedule ?? DEFAULT_MEMBER_SYNC_SCHEDULE;
    if (expr === 'off') return;
    // node-cron's `date` is the tick the run is for: the slot every replica names alike.
    this.task = schedule(expr, (c) => void this.scheduledRun(c.date.getTime()).catch((err: unknown) => this.o.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'member sync failed')));
    // A first listing soon after start, so reviews need not wait for the schedule; not at once, to keep start-up light.
    this.first = setTimeout(() => void this.runOnce(), FIRST_RUN_DELAY_MS);
    this.first.unref();
  }

  /** Stops the schedule and a run in progress (between pages), and waits for it to end. */
  async stop(): Promise<void> {
    this.patience.stop();
    if (this.first) clearTimeout(this.first);
    void this.task?.stop();
    this.task = undefined;
    await this.running?.catch(() => undefined);
  }

  /** One pass over every granted group; joins the pass in progress if there is one. */
  runOnce(): Promise<GroupSyncResult[]> {
    this.running ??= this.pass().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** The pass of a schedule tick (`slot`, epoch ms) if this replica claims it; undefined when another did, or a pass is running here. */
  scheduledRun(slot: number): Promise<GroupSyncResult[] | undefined> {
    return runClaimed(this.o.claims, JOBS.memberSync, slot, this.running !== undefined, () => this.runOnce());
  }

  private async pass(): Promise<GroupSyncResult[]> {
    const results: GroupSyncResult[] = [];
    for (const { connector, group } of grantedGroups(this.o.catalog())) {
      if (this.patience.isStopped) break;
      const c = this.o.connectors[connector];
      if (!c || !hasCapability(c, 'memberListing')) continue;
      try {
        results.push(await this.syncGroup(c, connector, group));
      } catch (err) {
        if (err instanceof Stopped) break;
        throw err;
      }
    }
    const failed = results.filter((r) => r.outcome === 'failed');
    this.o.logger.info({ groups: results.length, failed: failed.length }, 'member sync: pass done');
    return results;
  }

  private async syncGroup(c: IdpConnector & { listMembers: NonNullable<IdpConnector['listMembers']> }, connector: string, group: string): Promise<GroupSyncResult> {
    const startedAt = this.o.now();
    this.o.store.startSync(connector, group, startedAt);
    let cursor: string | undefined;
    let count = 0;
    try {
      do {
        const size = this.o.pageSize ?? 200;
        const at = cursor;
        const page = await this.patience.call(() => c.listMembers(group, at === undefined ? { size } : { cursor: at, size }));
        this.o.store.recordPage(connector, group, startedAt, page.members);
        count += page.members.length;
        cursor = page.next;
        // Let Slack requests and effects run between pages of a large group.
        await this.patience.yieldTurn();
      } while (cursor !== undefined);
    } catch (err) {
      const cause = err instanceof Stopped ? 'stopped before the listing was complete' : err instanceof Error ? err.message : String(err);
      this.o.store.failSync(connector, group, startedAt, this.o.now(), cause);
      this.o.logger.warn({ connector, group, cause }, 'member sync: group listing failed');
      if (err instanceof Stopped) throw err;
      return { connector, group, outcome: 'failed', cause };
    }
    this.o.store.completeSync(connector, group, startedAt, this.o.now(), count);
    return { connector, group, outcome: 'ok', members: count };
  }
}
