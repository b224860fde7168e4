/**
 * The outbox table on Postgres (migrations/postgres/001_init.sql) behind the outbox's port
 * (outbox/repository.ts), synchronous through the bridge like the rest of the Postgres store, and
 * fenced exactly as SQLite's (adapters/sqlite/outboxRepository.ts): every outcome names the lease
 * (id and attempt) it was claimed under.
 *
 * Replicas. Several processes claim from one table:
 *   - a claim locks the rows it takes with `FOR UPDATE SKIP LOCKED` and leases them in the same
 *     statement, so two replicas never take the same effect (one skips what the other holds, and
 *     the lease's `status = 'pending'` is checked again under the row lock). Claims do not take
 *     the global write lock: they never wait on a lock (SKIP LOCKED), and "first in its queue" can
 *     only be seen wrongly in the safe direction: an earlier effect finished by a transaction not
 *     yet committed still counts as open, so the next one waits for the next claim; an effect is
 *     never seen as finished before its commit.
 *   - a lease names its holder's database session (`lease_owner`, pid@backend_start). A replica
 *     killed with -9 loses its session at once; the next claim, by any replica, makes its
 *     effects claimable then, instead of when their lease runs out. The fence (attempts) still
 *     refuses the outcome of a holder that was only cut off and comes back.
 *   - `releaseAll` is per process on SQLite (one process per database). Here it gives back only
 *     leases whose session is gone: other replicas' leases are alive.
 *   - complete and bury run the handler's follow-up writes (audit appends, state changes), so
 *     they take the global write lock like every store transaction; retry, release and renew
 *     change only the leased rows, fenced, and need no lock.
 *   - an insert NOTIFYs `outbox_wake` (delivered at commit) so the other replicas' dispatchers
 *     look at once (LISTEN in storage, bridge.ts); polling stays the fallback.
 */
import type { ClaimPart, OutboxRepository, QueuePolicy } from '../../outbox/repository.js';
import type { EffectRow, EffectSpec, EffectStatus, Lease } from '../../outbox/outbox.js';
import type { PgDb, Row } from './db.js';

/** The channel an enqueue notifies, and every replica listens on. */
export const WAKE_CHANNEL = 'outbox_wake';

/** This session's identity, as `lease_owner` records it: pid@backend_start (computed by the server in each statement). */
const SESSION = "(SELECT pid::text || '@' || backend_start::text FROM pg_stat_activity WHERE pid = pg_backend_pid())";
/**
 * A lease whose holder's session no longer exists. A role sees other roles' sessions without
 * their backend_start (pg_stat_activity hides it): then a live pid counts as the holder, so a
 * lease is never taken from a replica that is alive.
 */
const ORPHANED = `NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid::text = split_part(o.lease_owner, '@', 1)
  AND (a.backend_start IS NULL OR a.backend_start::text = split_part(o.lease_owner, '@', 2)))`;

function toRow(r: Row): EffectRow {
  return {
    id: r.id as number,
    queue: r.queue as string,
    kind: r.kind as string,
    requestId: (r.request_id as string | null) ?? null,
    payload: JSON.parse(r.payload as string) as unknown,
    status: r.status as EffectStatus,
    attempts: r.attempts as number,
    availableAt: r.available_at as number,
    lastError: (r.last_error as string | null) ?? null,
    createdAt: r.created_at as number,
    revivedAt: (r.revived_at as number | null) ?? null,
  };
}

export class PostgresOutboxRepository<T = undefined> implements OutboxRepository<'sync', T> {
  private readonly handle: () => T;
  /** "`o` is first in its queue", the policy's prefixes inlined as literals (they are ours, fixed at start-up). */
  private readonly first: string;

  constructor(
    private readonly db: PgDb,
    policy: QueuePolicy,
    ...[handle]: undefined extends T ? [handle?: () => T] : [handle: () => T]
  ) {
    this.handle = handle ?? (() => undefined as T);
    const holds = policy.holdBehindDead.map((prefix) => `starts_with(p.queue, '${prefix.replace(/'/g, "''")}')`);
    const deadHolds = holds.length > 0 ? holds.join(' OR ') : 'false';
    this.first = `NOT EXISTS (SELECT 1 FROM outbox p WHERE p.queue = o.queue AND p.id < o.id AND p.status <> 'done' AND (p.status <> 'dead' OR ${deadHolds}))`;
  }

  insert(spec: EffectSpec, at: number): number {
    return this.db.value<number>(
      `WITH e AS (
        INSERT INTO outbox (queue, kind, request_id, payload, status, attempts, available_at, created_at) VALUES ($1, $2, $3, $4, 'pending', 0, $5, $6) RETURNING id
      ) SELECT e.id, pg_notify('${WAKE_CHANNEL}', '') FROM e`,
      [spec.queue, spec.kind, spec.requestId ?? null, JSON.stringify(spec.payload), at + (spec.delayMs ?? 0), at],
    )!;
  }

  claimEach(parts: readonly ClaimPart[], now: number, leaseUntil: number): EffectRow[][] {
    return this.db.tx(
      () => {
        // Leases run out, or held by a replica that is gone: claimable again. Rows another claim
        // holds are skipped (it is releasing or leasing them itself).
        this.db.run(
          `UPDATE outbox SET status = 'pending', lease_until = NULL, lease_owner = NULL WHERE id IN (
            SELECT o.id FROM outbox o WHERE o.status = 'running' AND (o.lease_until <= $1 OR o.lease_owner IS NULL OR ${ORPHANED}) FOR UPDATE SKIP LOCKED)`,
          [now],
        );
        return parts.map(({ limit, queuePrefix }) => {
          if (limit <= 0) return [];
          const inQueues = queuePrefix ? 'AND starts_with(o.queue, $4)' : '';
          const rows = this.db.all(
            `WITH c AS (
              SELECT o.id FROM outbox o
              WHERE o.status = 'pending' AND o.available_at <= $1 ${inQueues} AND ${this.first}
              ORDER BY o.available_at, o.id LIMIT $2
              FOR UPDATE SKIP LOCKED)
            UPDATE outbox o SET status = 'running', attempts = o.attempts + 1, lease_until = $3, lease_owner = ${SESSION}
            FROM c WHERE o.id = c.id AND o.status = 'pending'
            RETURNING o.*`,
            queuePrefix ? [now, limit, leaseUntil, queuePrefix] : [now, limit, leaseUntil],
          );
          return rows.map(toRow).sort((a, b) => a.availableAt - b.availableAt || a.id - b.id);
        });
      },
      { lock: false },
    );
  }

  complete(lease: Lease, result: unknown, at: number, within?: (tx: T) => void): boolean {
    return this.db.tx(() => {
      const done = this.db.run(
        "UPDATE outbox SET status = 'done', result = $1, done_at = $2, lease_until = NULL, lease_owner = NULL, last_error = NULL WHERE id = $3 AND status = 'running' AND attempts = $4",
        [result === undefined ? null : JSON.stringify(result), at, lease.id, lease.attempts],
      );
      if (done !== 1) return false;
      within?.(this.handle());
      return true;
    });
  }

  retry(lease: Lease, availableAt: number, error: string): boolean {
    return (
      this.db.run("UPDATE outbox SET status = 'pending', available_at = $1, last_error = $2, lease_until = NULL, lease_owner = NULL WHERE id = $3 AND status = 'running' AND attempts = $4", [
        availableAt,
        error,
        lease.id,
        lease.attempts,
      ]) === 1
    );
  }

  bury(lease: Lease, error: string, at: number, within?: (tx: T) => void): boolean {
    return this.db.tx(() => {
      const dead = this.db.run("UPDATE outbox SET status = 'dead', last_error = $1, lease_until = NULL, lease_owner = NULL, done_at = $2 WHERE id = $3 AND status = 'running' AND attempts = $4", [
        error,
        at,
        lease.id,
        lease.attempts,
      ]);
      if (dead !== 1) return false;
      within?.(this.handle());
      return true;
    });
  }

  release(lease: Lease): boolean {
    return this.db.run("UPDATE outbox SET status = 'pending', lease_until = NULL, lease_owner = NULL WHERE id = $1 AND status = 'running' AND attempts = $2", [lease.id, lease.attempts]) === 1;
  }

  renew(leases: readonly Lease[], until: number): number[] {
    if (leases.length === 0) return [];
    const held = new Set(
      this.db
        .all<{ id: number }>(
          `UPDATE outbox o SET lease_until = $1 FROM unnest($2::bigint[], $3::bigint[]) AS l(id, attempts)
            WHERE o.id = l.id AND o.status = 'running' AND o.attempts = l.attempts RETURNING o.id`,
          [until, leases.map((l) => l.id), leases.map((l) => l.attempts)],
        )
        .map((r) => r.id),
    );
    return leases.filter((l) => !held.has(l.id)).map((l) => l.id);
  }

  releaseAll(): number {
    return this.db.run(`UPDATE outbox o SET status = 'pending', lease_until = NULL, lease_owner = NULL WHERE o.status <> 'done' AND o.status = 'running' AND (o.lease_owner IS NULL OR ${ORPHANED})`);
  }

  nextDueAt(): number | undefined {
    // Only queue heads: an effect held back by an earlier unfinished one is not due, however old.
    return this.db.value<number | null>(`SELECT MIN(o.available_at) FROM outbox o WHERE o.status = 'pending' AND ${this.first}`) ?? undefined;
  }

  get(id: number): EffectRow | undefined {
    const r = this.db.get('SELECT * FROM outbox WHERE id = $1', [id]);
    return r ? toRow(r) : undefined;
  }

  counts(): Record<EffectStatus, number> {
    const out: Record<EffectStatus, number> = { pending: 0, running: 0, done: 0, dead: 0 };
    for (const r of this.db.all<{ status: EffectStatus; n: number }>("SELECT status, COUNT(*) AS n FROM outbox WHERE status <> 'done' GROUP BY status")) out[r.status] = r.n;
    return out;
  }

  dead(): EffectRow[] {
    return this.db.all("SELECT * FROM outbox WHERE status <> 'done' AND status = 'dead' ORDER BY id").map(toRow);
  }

  revive(id: number, at: number): boolean {
    // A revived effect gets a fresh retry window: its age counts from the revival.
    return this.db.run("WITH r AS (UPDATE outbox SET status = 'pending', available_at = $1, revived_at = $1, done_at = NULL WHERE id = $2 AND status = 'dead' RETURNING id) SELECT pg_notify('" + WAKE_CHANNEL + "', '') FROM r", [at, id]) === 1;
  }
}
