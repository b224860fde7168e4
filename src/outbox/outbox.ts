/**
 * The outbox table: side effects written in the same transaction as the state change that
 * implies them, then claimed and run by the dispatcher.
 *
 * Ordering: effects share a `queue` when their order matters (all Jira effects of one request,
 * all membership changes of one user in one group). Only the oldest unfinished effect of a queue
 * can be claimed, so a retrying effect holds back the ones behind it — a comment never lands
 * before its issue exists. A dead effect holds back only the queues the queue policy names
 * (repository.ts; app/effects.ts names the Jira queues, where the record must stay in order until
 * an admin retries it); elsewhere the effects behind a dead one go on (a failed grant must not
 * freeze that person's later requests, nor one undeliverable refusal every later one).
 *
 * The SQL is adapters/sqlite/outboxRepository.ts; this module knows only the port.
 */
import { andThen, type ClaimPart, type Mode, type OutboxRepository, type Returns } from './repository.js';

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


/**
 * The outbox over its storage (`M`: whether that storage answers synchronously; `T`: the handle
 * its transactions give follow-up writes; repository.ts). Adds the clock, and wakes listeners
 * (the dispatcher) when there is new work.
 */
export class Outbox<M extends Mode = 'sync', T = unknown> {
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly repo: OutboxRepository<M, T>,
    private readonly now: () => number,
  ) {}

  /** Call inside the transaction that implies the effect. Returns the effect id. */
  enqueue(spec: EffectSpec): Returns<M, number> {
    return andThen<M, number, number>(this.repo.insert(spec, this.now()), this.announce);
  }

  /** After an insert (a field, not a method: enqueue is on the request path, no closure per call). */
  private readonly announce = (id: number): number => {
    // The dispatcher wakes after the current synchronous transaction has committed.
    if (this.listeners.size > 0) queueMicrotask(() => this.listeners.forEach((l) => l()));
    return id;
  };

  onEnqueue(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Leases up to `limit` runnable effects, oldest due first; with `queuePrefix`, only effects of
   * queues whose name starts with it. Effects whose lease ran out are claimable again.
   */
  claim(limit: number, leaseMs: number, queuePrefix?: string): Returns<M, EffectRow[]> {
    return andThen<M, EffectRow[][], EffectRow[]>(this.claimEach([{ limit, queuePrefix }], leaseMs), (parts) => parts[0]!);
  }

  /** Several claims in one transaction (the dispatcher's reserved lanes and shared slots), in order. */
  claimEach(parts: readonly ClaimPart[], leaseMs: number): Returns<M, EffectRow[][]> {
    const t = this.now();
    return this.repo.claimEach(parts, t, t + leaseMs);
  }

  /**
   * Records the outcome of a claimed effect. Each of `complete`, `retryAt` and `bury` takes the
   * lease it was claimed under and returns false, changing nothing, when that lease is no longer
   * held (it ran out and the effect was claimed again, or it was released). `within` runs in the
   * transaction that records the outcome, only when it is recorded, and writes through the
   * transaction's handle it is given.
   */
  complete(lease: Lease, result: unknown, within?: (tx: T) => void): Returns<M, boolean> {
    return this.repo.complete(lease, result, this.now(), within);
  }

  retryAt(lease: Lease, at: number, error: string): Returns<M, boolean> {
    return this.repo.retry(lease, at, error);
  }

  bury(lease: Lease, error: string, within?: (tx: T) => void): Returns<M, boolean> {
    return this.repo.bury(lease, error, this.now(), within);
  }

  /** Gives back a lease without counting it as a failure (shutdown). */
  release(lease: Lease): Returns<M, boolean> {
    return this.repo.release(lease);
  }

  /**
   * Extends the leases still held to `leaseMs` from now, in one transaction (the dispatcher, for
   * effects in flight). Returns the ids of the leases no longer held.
   */
  renew(leases: readonly Lease[], leaseMs: number): Returns<M, number[]> {
    return this.repo.renew(leases, this.now() + leaseMs);
  }

  /**
   * At start-up: effects left running by a crashed predecessor are claimable at once instead of
   * after their lease. On SQLite this process is the database's only dispatcher (it holds the
   * database's lock, adapters/sqlite/lock.ts), so every lease is given back; on Postgres only the
   * leases of replicas whose database session is gone (adapters/postgres/outboxRepository.ts).
   */
  releaseAll(): Returns<M, number> {
    return this.repo.releaseAll();
  }

  nextDueAt(): Returns<M, number | undefined> {
    return this.repo.nextDueAt();
  }

  get(id: number): Returns<M, EffectRow | undefined> {
    return this.repo.get(id);
  }

  counts(): Returns<M, Record<EffectStatus, number>> {
    return this.repo.counts();
  }

  dead(): Returns<M, EffectRow[]> {
    return this.repo.dead();
  }

  /** An admin's retry of a dead effect, once its cause is fixed. */
  revive(id: number): Returns<M, boolean> {
    return andThen<M, boolean, boolean>(this.repo.revive(id, this.now()), (ok) => {
      if (ok) this.listeners.forEach((l) => l());
      return ok;
    });
  }
}
