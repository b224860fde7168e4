/**
 * The outbox table: side effects written in the same transaction as the state change that
 * implies them, then claimed and run by the dispatcher.
 *
 * Ordering: effects share a `queue` when their order matters (all Jira effects of one request,
 * all membership changes of one user in one group). Only the oldest unfinished effect of a queue
 * can be claimed, so a retrying effect holds back the ones behind it — a comment never lands
 * before its issue exists. A dead effect holds back only a Jira queue (`jira:`), where the record
 * must stay in order until an admin retries it; elsewhere the effects behind a dead one go on (a
 * failed grant must not freeze that person's later requests, nor one undeliverable refusal every
 * later one).
 */
import type { Db } from '../adapters/sqlite/db.js';

export type EffectStatus = 'pending' | 'running' | 'done' | 'dead';

export interface EffectSpec {
  kind: string;
  queue: string;
  requestId?: string;
  payload: unknown;
  /** Run no earlier than this many ms from now. */
  delayMs?: number;
}

/** The lease a claim took: the effect and the attempt it was claimed for. */
export type Lease = Pick<EffectRow, 'id' | 'attempts'>;

export interface EffectRow {
  id: number;
  queue: string;
  kind: string;
  requestId: string | null;
  payload: unknown;
  status: EffectStatus;
  attempts: number;
  availableAt: number;
  lastError: string | null;
  createdAt: number;
  /** When an admin last revived it (its retry window starts again there). */
  revivedAt: number | null;
}

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

export class Outbox {
  private readonly listeners = new Set<() => void>();
  private readonly stmts;

  constructor(
    private readonly db: Db,
    private readonly now: () => number,
  ) {
    this.stmts = {
      insert: db.prepare(
        'INSERT INTO outbox (queue, kind, request_id, payload, status, attempts, available_at, created_at) VALUES (?, ?, ?, ?, ?, 0, ?, ?)',
      ),
      claimable: db.prepare(`
        SELECT o.* FROM outbox o
        WHERE o.status = 'pending' AND o.available_at <= ?
          AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.queue = o.queue AND p.id < o.id AND p.status <> 'done' AND (p.status <> 'dead' OR substr(o.queue, 1, 5) = 'jira:'))
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
          AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.queue = o.queue AND p.id < o.id AND p.status <> 'done' AND (p.status <> 'dead' OR substr(o.queue, 1, 5) = 'jira:'))
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
      nextDue: db
        .prepare(
          `SELECT MIN(o.available_at) FROM outbox o WHERE o.status = 'pending'
             AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.queue = o.queue AND p.id < o.id AND p.status <> 'done' AND (p.status <> 'dead' OR substr(o.queue, 1, 5) = 'jira:'))`,
        )
        .pluck(),
      releaseAll: db.prepare("UPDATE outbox SET status = 'pending', lease_until = NULL WHERE status <> 'done' AND status = 'running'"),
      get: db.prepare('SELECT * FROM outbox WHERE id = ?'),
      counts: db.prepare("SELECT status, COUNT(*) AS n FROM outbox WHERE status <> 'done' GROUP BY status"),
      dead: db.prepare("SELECT * FROM outbox INDEXED BY outbox_open WHERE status <> 'done' AND status = 'dead' ORDER BY id"),
      // A revived effect gets a fresh retry window: its age counts from the revival.
      revive: db.prepare("UPDATE outbox SET status = 'pending', available_at = ?, revived_at = ?, done_at = NULL WHERE id = ? AND status = 'dead'"),
    };
  }

  /** Call inside the transaction that implies the effect. Returns the effect id. */
  enqueue(spec: EffectSpec): number {
    const t = this.now();
    const id = Number(
      this.stmts.insert.run(spec.queue, spec.kind, spec.requestId ?? null, JSON.stringify(spec.payload), 'pending', t + (spec.delayMs ?? 0), t).lastInsertRowid,
    );
    // The dispatcher wakes after the current synchronous transaction has committed.
    if (this.listeners.size > 0) queueMicrotask(() => this.listeners.forEach((l) => l()));
    return id;
  }

  onEnqueue(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Leases up to `limit` runnable effects, oldest due first; with `queuePrefix`, only effects of
   * queues whose name starts with it. Effects whose lease ran out are claimable again.
   */
  claim(limit: number, leaseMs: number, queuePrefix?: string): EffectRow[] {
    return this.claimEach([{ limit, queuePrefix }], leaseMs)[0]!;
  }

  /** Several claims in one transaction (the dispatcher's reserved lanes and shared slots), in order. */
  claimEach(parts: { limit: number; queuePrefix?: string }[], leaseMs: number): EffectRow[][] {
    return this.db.transaction(() => {
      const t = this.now();
      for (const { id } of this.stmts.expiredLeases.all(t) as { id: number }[]) this.stmts.release.run(id);
      return parts.map(({ limit, queuePrefix }) => {
        if (limit <= 0) return [];
        const rows = (
          queuePrefix
            ? this.stmts.claimableIn.all(queuePrefix, prefixEnd(queuePrefix), t, limit)
            : this.stmts.claimable.all(t, limit)
        ) as RawRow[];
        const out: EffectRow[] = [];
        for (const r of rows) {
          if (this.stmts.lease.run(t + leaseMs, r.id).changes === 1) out.push(toRow({ ...r, attempts: r.attempts + 1, status: 'running' }));
        }
        return out;
      });
    })();
  }

  /**
   * Records the outcome of a claimed effect. Each of `complete`, `retryAt` and `bury` takes the
   * lease it was claimed under and returns false, changing nothing, when that lease is no longer
   * held (it ran out and the effect was claimed again, or it was released).
   */
  complete(lease: Lease, result: unknown): boolean {
    return this.stmts.complete.run(result === undefined ? null : JSON.stringify(result), this.now(), lease.id, lease.attempts).changes === 1;
  }

  retryAt(lease: Lease, at: number, error: string): boolean {
    return this.stmts.retry.run(at, error, lease.id, lease.attempts).changes === 1;
  }

  bury(lease: Lease, error: string): boolean {
    return this.stmts.bury.run(error, this.now(), lease.id, lease.attempts).changes === 1;
  }

  /** Gives back a lease without counting it as a failure (shutdown). */
  release(lease: Lease): boolean {
    return this.stmts.releaseLease.run(lease.id, lease.attempts).changes === 1;
  }

  /**
   * Extends the leases still held to `leaseMs` from now, in one transaction (the dispatcher, for
   * effects in flight). Returns the ids of the leases no longer held.
   */
  renew(leases: Lease[], leaseMs: number): number[] {
    return this.db.transaction(() => {
      const until = this.now() + leaseMs;
      return leases.filter((l) => this.stmts.renew.run(until, l.id, l.attempts).changes === 0).map((l) => l.id);
    })();
  }

  /**
   * At start-up: this process is the database's only dispatcher (it holds the database's lock,
   * adapters/sqlite/lock.ts), so effects left running by a crashed predecessor are claimable at
   * once instead of after their lease.
   */
  releaseAll(): number {
    return this.stmts.releaseAll.run().changes;
  }

  nextDueAt(): number | undefined {
    const v = this.stmts.nextDue.get() as number | null;
    return v ?? undefined;
  }

  get(id: number): EffectRow | undefined {
    const r = this.stmts.get.get(id) as RawRow | undefined;
    return r ? toRow(r) : undefined;
  }

  counts(): Record<EffectStatus, number> {
    const out: Record<EffectStatus, number> = { pending: 0, running: 0, done: 0, dead: 0 };
    for (const r of this.stmts.counts.all() as { status: EffectStatus; n: number }[]) out[r.status] = r.n;
    return out;
  }

  dead(): EffectRow[] {
    return (this.stmts.dead.all() as RawRow[]).map(toRow);
  }

  /** An admin's retry of a dead effect, once its cause is fixed. */
  revive(id: number): boolean {
    const t = this.now();
    const ok = this.stmts.revive.run(t, t, id).changes === 1;
    if (ok) this.listeners.forEach((l) => l());
    return ok;
  }
}

/** The smallest string greater than every string that starts with `prefix`. */
function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}
