/**
 * The outbox table (migrations/001_init.sql, 003_outbox_leases.sql) behind the outbox's port
 * (outbox/repository.ts). Synchronous: the store enqueues inside its own better-sqlite3
 * transaction, and the dispatcher records an outcome and its follow-up writes in one, which
 * write through the handle `T` the repository is given (the store: on one connection, every
 * transaction's handle is the store itself).
 */
import type { ClaimPart, OutboxRepository, QueuePolicy } from '../../outbox/repository.js';
import type { EffectRow, EffectSpec, EffectStatus, Lease } from '../../outbox/outbox.js';
import type { Db } from './db.js';

interface RawRow {
  id: number;
  queue: string;
  kind: string;
  request_id: string | null;
  payload: string;
  status: EffectStatus;
  attempts: number;
  available_at: number;
  last_error: string | null;
  created_at: number;
  revived_at: number | null;
}

function toRow(r: RawRow): EffectRow {
  return {
    id: r.id,
    queue: r.queue,
    kind: r.kind,
    requestId: r.request_id,
    payload: JSON.parse(r.payload) as unknown,
    status: r.status,
    attempts: r.attempts,
    availableAt: r.available_at,
    lastError: r.last_error,
    createdAt: r.created_at,
    revivedAt: r.revived_at ?? null,
  };
}

/**
 * "`o` is first in its queue": no earlier effect of the queue is still open, where a dead one
 * counts only in the policy's `holdBehindDead` queues. The prefixes are bound as named
 * parameters (`held`), so a statement is prepared once whatever the policy.
 */
function firstInQueue(policy: QueuePolicy): { sql: string; held: Record<string, string> } {
  const held: Record<string, string> = {};
  const holds = policy.holdBehindDead.map((prefix, i) => {
    held[`held${i}`] = prefix;
    return `substr(o.queue, 1, length(@held${i})) = @held${i}`;
  });
  const deadHolds = holds.length > 0 ? holds.join(' OR ') : '0';
  return {
    sql: `NOT EXISTS (SELECT 1 FROM outbox p WHERE p.queue = o.queue AND p.id < o.id AND p.status <> 'done' AND (p.status <> 'dead' OR ${deadHolds}))`,
    held,
  };
}

export class SqliteOutboxRepository<T = undefined> implements OutboxRepository<'sync', T> {
  private readonly s;
  /** The transaction's handle for follow-up writes; without one (the outbox alone, in tests) they get undefined. */
  private readonly handle: () => T;
  private readonly held: Record<string, string>;
  private readonly claimTx;
  private readonly completeTx;
  private readonly buryTx;
  private readonly renewTx;

  constructor(db: Db, policy: QueuePolicy, ...[handle]: undefined extends T ? [handle?: () => T] : [handle: () => T]) {
    this.handle = handle ?? (() => undefined as T);
    const first = firstInQueue(policy);
    this.held = first.held;
    this.s = {
      insert: db.prepare(
        "INSERT INTO outbox (queue, kind, request_id, payload, status, attempts, available_at, created_at) VALUES (?, ?, ?, ?, 'pending', 0, ?, ?)",
      ),
      claimable: db.prepare(`
        SELECT o.* FROM outbox o
        WHERE o.status = 'pending' AND o.available_at <= ?
          AND ${first.sql}
        ORDER BY o.available_at, o.id LIMIT ?`),
      // Statements on unfinished effects repeat `status <> 'done'`, the WHERE of the partial index
      // outbox_open, so SQLite may use it instead of scanning the whole table, whose finished rows
      // grow with every request (with 1.9M of them a claim took 170 ms; bench/). Expired leases
      // are found through outbox_leases (migration 003).
      expiredLeases: db.prepare("SELECT id FROM outbox WHERE status <> 'done' AND status = 'running' AND lease_until <= ?"),
      // The same as `claimable`, within the queues whose names fall in [from, to): read through
      // outbox_open, i.e. only those queues' unfinished effects, however long the rest of the line.
      claimableIn: db.prepare(`
        SELECT o.* FROM outbox o INDEXED BY outbox_open
        WHERE o.queue >= ? AND o.queue < ? AND o.status <> 'done' AND o.status = 'pending' AND o.available_at <= ?
          AND ${first.sql}
        ORDER BY o.available_at, o.id LIMIT ?`),
      lease: db.prepare("UPDATE outbox SET status = 'running', attempts = attempts + 1, lease_until = ? WHERE id = ? AND status = 'pending'"),
      release: db.prepare("UPDATE outbox SET status = 'pending', lease_until = NULL WHERE id = ? AND status = 'running'"),
      // Every outcome is fenced by the lease it was claimed under: `attempts` grows with each
      // claim, so a worker whose lease ran out and was claimed again no longer matches.
      releaseLease: db.prepare("UPDATE outbox SET status = 'pending', lease_until = NULL WHERE id = ? AND status = 'running' AND attempts = ?"),
      renew: db.prepare("UPDATE outbox SET lease_until = ? WHERE id = ? AND status = 'running' AND attempts = ?"),
      complete: db.prepare("UPDATE outbox SET status = 'done', result = ?, done_at = ?, lease_until = NULL, last_error = NULL WHERE id = ? AND status = 'running' AND attempts = ?"),
      retry: db.prepare("UPDATE outbox SET status = 'pending', available_at = ?, last_error = ?, lease_until = NULL WHERE id = ? AND status = 'running' AND attempts = ?"),
      bury: db.prepare("UPDATE outbox SET status = 'dead', last_error = ?, lease_until = NULL, done_at = ? WHERE id = ? AND status = 'running' AND attempts = ?"),
      // Only queue heads: an effect held back by an earlier unfinished one is not due, however old.
      nextDue: db.prepare(`SELECT MIN(o.available_at) FROM outbox o WHERE o.status = 'pending' AND ${first.sql}`).pluck(),
      releaseAll: db.prepare("UPDATE outbox SET status = 'pending', lease_until = NULL WHERE status <> 'done' AND status = 'running'"),
      get: db.prepare('SELECT * FROM outbox WHERE id = ?'),
      counts: db.prepare("SELECT status, COUNT(*) AS n FROM outbox WHERE status <> 'done' GROUP BY status"),
      dead: db.prepare("SELECT * FROM outbox INDEXED BY outbox_open WHERE status <> 'done' AND status = 'dead' ORDER BY id"),
      // A revived effect gets a fresh retry window: its age counts from the revival.
      revive: db.prepare("UPDATE outbox SET status = 'pending', available_at = ?, revived_at = ?, done_at = NULL WHERE id = ? AND status = 'dead'"),
    };

    this.claimTx = db.transaction((parts: readonly ClaimPart[], now: number, leaseUntil: number): EffectRow[][] => {
      for (const { id } of this.s.expiredLeases.all(now) as { id: number }[]) this.s.release.run(id);
      return parts.map(({ limit, queuePrefix }) => {
        if (limit <= 0) return [];
        const rows = (
          queuePrefix
            ? this.s.claimableIn.all(queuePrefix, prefixEnd(queuePrefix), now, limit, this.held)
            : this.s.claimable.all(now, limit, this.held)
        ) as RawRow[];
        const out: EffectRow[] = [];
        for (const r of rows) {
          if (this.s.lease.run(leaseUntil, r.id).changes === 1) out.push(toRow({ ...r, attempts: r.attempts + 1, status: 'running' }));
        }
        return out;
      });
    });
    this.completeTx = db.transaction((lease: Lease, result: string | null, at: number, within: ((tx: T) => void) | undefined): boolean => {
      if (this.s.complete.run(result, at, lease.id, lease.attempts).changes !== 1) return false;
      within?.(this.handle());
      return true;
    });
    this.buryTx = db.transaction((lease: Lease, error: string, at: number, within: ((tx: T) => void) | undefined): boolean => {
      if (this.s.bury.run(error, at, lease.id, lease.attempts).changes !== 1) return false;
      within?.(this.handle());
      return true;
    });
    this.renewTx = db.transaction((leases: readonly Lease[], until: number): number[] =>
      leases.filter((l) => this.s.renew.run(until, l.id, l.attempts).changes === 0).map((l) => l.id),
    );
  }

  insert(spec: EffectSpec, at: number): number {
    return Number(this.s.insert.run(spec.queue, spec.kind, spec.requestId ?? null, JSON.stringify(spec.payload), at + (spec.delayMs ?? 0), at).lastInsertRowid);
  }

  claimEach(parts: readonly ClaimPart[], now: number, leaseUntil: number): EffectRow[][] {
    return this.claimTx(parts, now, leaseUntil);
  }

  complete(lease: Lease, result: unknown, at: number, within?: (tx: T) => void): boolean {
    return this.completeTx(lease, result === undefined ? null : JSON.stringify(result), at, within);
  }

  retry(lease: Lease, availableAt: number, error: string): boolean {
    return this.s.retry.run(availableAt, error, lease.id, lease.attempts).changes === 1;
  }

  bury(lease: Lease, error: string, at: number, within?: (tx: T) => void): boolean {
    return this.buryTx(lease, error, at, within);
  }

  release(lease: Lease): boolean {
    return this.s.releaseLease.run(lease.id, lease.attempts).changes === 1;
  }

  renew(leases: readonly Lease[], until: number): number[] {
    return this.renewTx(leases, until);
  }

  releaseAll(): number {
    return this.s.releaseAll.run().changes;
  }

  nextDueAt(): number | undefined {
    return (this.s.nextDue.get(this.held) as number | null) ?? undefined;
  }

  get(id: number): EffectRow | undefined {
    const r = this.s.get.get(id) as RawRow | undefined;
    return r ? toRow(r) : undefined;
  }

  counts(): Record<EffectStatus, number> {
    const out: Record<EffectStatus, number> = { pending: 0, running: 0, done: 0, dead: 0 };
    for (const r of this.s.counts.all() as { status: EffectStatus; n: number }[]) out[r.status] = r.n;
    return out;
  }

  dead(): EffectRow[] {
    return (this.s.dead.all() as RawRow[]).map(toRow);
  }

  revive(id: number, at: number): boolean {
    return this.s.revive.run(at, at, id).changes === 1;
  }
}

/** The smallest string greater than every string that starts with `prefix`. */
function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}
