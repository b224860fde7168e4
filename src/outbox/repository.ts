/**
 * The outbox's storage, as the outbox and its dispatcher need it. The SQLite implementation is
 * adapters/sqlite/outboxRepository.ts.
 *
 * An implementation is synchronous (better-sqlite3: every method returns its value) or
 * asynchronous (a database reached over the network: every method returns a native Promise). The
 * `M` parameter says which, so code holding the synchronous one (the SQLite store, which enqueues
 * inside its own transaction; the admin CLI; tests) keeps plain values, while the dispatcher takes
 * either and awaits only what is a promise.
 *
 * `T` is the handle of a transaction as the outbox's user knows it (app binds its store port's
 * `TxStore`): `complete` and `bury` hand it to the follow-up writes they run in their
 * transaction, which write through it, never through an outer store. An asynchronous store binds
 * a transaction to one connection, so only its repository can name the handle; for SQLite it is
 * the store itself.
 *
 * Every outcome (`complete`, `retry`, `bury`, `release`, `renew`) is fenced by the lease the claim
 * took: it changes nothing, and returns false (or the lease in `renew`'s list), when the effect is
 * no longer running under that attempt.
 */
import type { EffectRow, EffectSpec, EffectStatus, Lease } from './outbox.js';

export type Mode = 'sync' | 'async';

/** What a method of an `M` implementation returns for `T`. */
export type Returns<M extends Mode, T> = M extends 'sync' ? T : Promise<T>;

/**
 * Queue policy, from whoever names the queues (app/effects.ts). Queues are selected by name
 * prefix, so every storage can apply the policy in its query.
 */
export interface QueuePolicy {
  /**
   * Queues whose effects wait behind a dead one until an admin revives it. In every other queue
   * the effects behind a dead one go on. (Behind a pending or running one, every queue waits.)
   */
  holdBehindDead: readonly string[];
}

/** One claim of `claimEach`: up to `limit` effects, of the queues starting with `queuePrefix` if set. */
export interface ClaimPart {
  limit: number;
  queuePrefix?: string;
}

export interface OutboxRepository<M extends Mode = Mode, T = unknown> {
  /** A pending effect due at `at + delayMs`, created at `at`. Returns its id. */
  insert(spec: EffectSpec, at: number): Returns<M, number>;
  /**
   * In one transaction: makes effects whose lease ran out by `now` claimable again, then for each
   * part leases (until `leaseUntil`) the oldest-due runnable effects: pending, due by `now`, and
   * first in their queue (no earlier effect still open, dead ones counting only in the policy's
   * `holdBehindDead` queues). The rows come back as leased (running, attempt counted).
   */
  claimEach(parts: readonly ClaimPart[], now: number, leaseUntil: number): Returns<M, EffectRow[][]>;
  /**
   * Marks the effect done with its result and, in the same transaction, runs `within` (the
   * handler's follow-up writes) with the transaction's handle; `within` throwing rolls both back
   * and is rethrown.
   */
  complete(lease: Lease, result: unknown, at: number, within?: (tx: T) => void): Returns<M, boolean>;
  retry(lease: Lease, availableAt: number, error: string): Returns<M, boolean>;
  /** Sets the effect aside as dead, with `within` in the same transaction (as `complete`). */
  bury(lease: Lease, error: string, at: number, within?: (tx: T) => void): Returns<M, boolean>;
  /** Gives the lease back: the effect is pending again, its attempt still counted. */
  release(lease: Lease): Returns<M, boolean>;
  /** Extends the leases still held to `until`, in one transaction; returns the ids of those not held. */
  renew(leases: readonly Lease[], until: number): Returns<M, number[]>;
  /** Gives back every lease, whoever holds it; returns how many. */
  releaseAll(): Returns<M, number>;
  /** The earliest time a queue's first pending effect is due, undefined when none is. */
  nextDueAt(): Returns<M, number | undefined>;
  get(id: number): Returns<M, EffectRow | undefined>;
  /** Open effects by status (`done` is always 0). */
  counts(): Returns<M, Record<EffectStatus, number>>;
  dead(): Returns<M, EffectRow[]>;
  /** A dead effect pending again, due at `at`, its retry window counted from `at`. */
  revive(id: number, at: number): Returns<M, boolean>;
}

/**
 * `f` applied to `v`: at once when `v` is a value, when it resolves when it is a promise. Keeps a
 * synchronous implementation's path free of microtask hops.
 */
export function andThen<M extends Mode, T, R>(v: Returns<M, T>, f: (value: T) => R): Returns<M, R> {
  return (v instanceof Promise ? v.then(f) : f(v as T)) as Returns<M, R>;
}
