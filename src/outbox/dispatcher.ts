/**
 * Runs outbox effects: claims due rows with a lease, runs their handler, and records the
 * outcome in the same transaction as the follow-up state change (`onDone` / `onDead`).
 *
 * A handler may run more than once for one effect (a crash after the call but before the
 * outcome was recorded, or a lease that ran out), so every handler must be idempotent.
 *
 * Leases: the dispatcher renews the lease of every effect in flight every `leaseMs / 3`, so a
 * slow handler (paged Okta listings, Jira comment scans) keeps its effect however long it runs.
 * Outcomes are fenced by the lease: an effect whose lease was lost (a stall longer than
 * `leaseMs`, and the effect claimed again) has its outcome refused, and its `onDone` / `onDead`
 * does not run; the worker that holds the lease now records it.
 *
 * The outbox may be synchronous (SQLite) or asynchronous (outbox/repository.ts): the dispatcher
 * waits only for answers that are promises, so with SQLite a claim and its launches happen in
 * one turn of the event loop, as they always did.
 */
import type { Logger } from 'pino';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.js';
import { PermanentError, RetryableError } from './errors.js';
import type { EffectRow, Lease, Outbox } from './outbox.js';
import type { ClaimPart, Mode } from './repository.js';

/**
 * How an effect kind is run. `T` is the handle of the transaction that records the outcome
 * (the outbox repository's, repository.ts): `onDone` and `onDead` write through it.
 */
export interface EffectHandler<T = unknown> {
  run(effect: EffectRow): Promise<unknown>;
  // Properties, not methods: checked strictly, so a handler that needs a store handle cannot be
  // given an outbox whose transactions hand it something else.
  /** Runs inside the transaction that marks the effect done, `tx` its handle. Must not call services. */
  onDone?: (effect: EffectRow, result: unknown, tx: T) => void;
  /** Runs inside the transaction that marks the effect dead, `tx` its handle. Must not call services. */
  onDead?: (effect: EffectRow, error: Error, tx: T) => void;
}

/** What the dispatcher uses of the outbox, whose storage may answer synchronously or not. */
export type DispatcherOutbox<T = unknown> = Pick<Outbox<Mode, T>, 'onEnqueue' | 'releaseAll' | 'claimEach' | 'complete' | 'retryAt' | 'bury' | 'release' | 'renew' | 'nextDueAt' | 'counts'>;

export interface DispatcherOptions<T = unknown> {
  outbox: DispatcherOutbox<T>;
  handlers: Record<string, EffectHandler<T>>;
  logger: Logger;
  now?: () => number;
  random?: () => number;
  concurrency?: number;
  leaseMs?: number;
  backoff?: BackoffPolicy;
  /** A retryable effect older than this is given up as dead (its cause is surely not passing). */
  maxRetryAgeMs?: number;
  /** Longest sleep between looks at the table, for effects enqueued by another process. */
  idlePollMs?: number;
  /**
   * Lanes: queues (by name prefix) with slots of their own on top of `concurrency`, so their
   * effects never wait behind a backlog of others (app/effects.ts says which). A lane has
   * `concurrency` slots unless it says otherwise. Its effects may also take shared slots.
   * Default: none.
   */
  reserved?: readonly Lane[];
  /**
   * Whether foreground work is waiting (Slack requests not yet answered). While it is, each lane
   * runs at most `busyConcurrency` effects, so the event loop that answers Slack is not taken
   * by a backlog of effects whose callers wait for nothing. The effects still progress; the
   * dispatcher should be woken when the foreground empties.
   */
  foreground?: () => boolean;
  busyConcurrency?: number;
  /**
   * Whether no effect may start at all while the foreground waits (the first moments of a burst
   * of Slack requests: it gets the event loop to itself). Whoever holds must bound the hold and
   * wake the dispatcher when it ends; until then it does not look again on its own, or only
   * after `idlePollMs`.
   */
  held?: () => boolean;
}

export interface Lane {
  queuePrefix: string;
  concurrency?: number;
}

export interface DispatcherStats {
  succeeded: number;
  retried: number;
  dead: number;
  byKind: Record<string, { ok: number; retry: number; dead: number }>;
}

export class Dispatcher<T = unknown> {
  readonly stats: DispatcherStats = { succeeded: 0, retried: 0, dead: 0, byKind: {} };
  /** Effects in flight by id: the lease each was claimed under, and its run. */
  private readonly inFlight = new Map<number, { lease: Lease; done: Promise<void> }>();
  private renewTimer: NodeJS.Timeout | undefined;
  /** Effects in flight in each reserved lane, and in the shared slots. */
  private readonly laneInFlight: number[];
  private sharedInFlight = 0;
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private pumping = false;
  private pumpAgain = false;
  private wakePending = false;
  private unsubscribe: (() => void) | undefined;
  /** An asynchronous outbox's claim not yet answered: stop() waits for it, and for what it took. */
  private claiming: Promise<void> | undefined;
  private readonly o: Required<Omit<DispatcherOptions, 'outbox' | 'handlers' | 'logger' | 'foreground' | 'reserved' | 'held'>> & { reserved: Required<Lane>[] };
  /** The last look at the table found every slot held (see `held`). */
  private isHeld = false;

  constructor(private readonly opts: DispatcherOptions<T>) {
    this.o = {
      now: opts.now ?? Date.now,
      random: opts.random ?? Math.random,
      concurrency: opts.concurrency ?? 16,
      leaseMs: opts.leaseMs ?? 120_000,
      backoff: opts.backoff ?? DEFAULT_BACKOFF,
      maxRetryAgeMs: opts.maxRetryAgeMs ?? 3 * 86_400_000,
      idlePollMs: opts.idlePollMs ?? 1000,
      reserved: (opts.reserved ?? []).map((l) => ({ queuePrefix: l.queuePrefix, concurrency: l.concurrency ?? opts.concurrency ?? 16 })),
      busyConcurrency: opts.busyConcurrency ?? 2,
    };
    this.laneInFlight = this.o.reserved.map(() => 0);
  }

  get isRunning(): boolean {
    return this.running;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const released = this.opts.outbox.releaseAll();
    this.unsubscribe = this.opts.outbox.onEnqueue(() => this.wake());
    this.renewTimer = setInterval(() => this.renewLeases(), Math.max(1, Math.floor(this.o.leaseMs / 3)));
    this.renewTimer.unref();
    const started = (n: number) => {
      if (n > 0) this.opts.logger.info({ released: n }, 'outbox: released effects left running by a previous process');
      this.wake();
    };
    if (!(released instanceof Promise)) return started(released);
    // Claiming before the release would wait out the leases it frees; its failure is logged and the poll goes on.
    void released.then(started, (err: unknown) => {
      this.opts.logger.error({ err }, 'outbox: releasing effects left running failed');
      this.wake();
    });
  }

  /** Extends the leases of the effects in flight (every leaseMs / 3, and during stop's grace). */
  private renewLeases(): void {
    if (this.inFlight.size === 0) return;
    const failed = (err: unknown) => this.opts.logger.error({ err }, 'outbox: renewing leases failed');
    const report = (lost: number[]) => {
      if (lost.length > 0) this.opts.logger.warn({ effects: lost }, 'outbox: leases lost while running (their outcome will be refused)');
    };
    try {
      const lost = this.opts.outbox.renew([...this.inFlight.values()].map((f) => f.lease), this.o.leaseMs);
      if (lost instanceof Promise) void lost.then(report, failed); // the next renewal comes from the timer, not from here
      else report(lost);
    } catch (err) {
      failed(err);
    }
  }

  /**
   * Stops claiming, waits up to `graceMs` for effects in flight, and gives back the leases of
   * those still running so the next process picks them up at once.
   */
  async stop(graceMs = 5000): Promise<void> {
    this.running = false;
    this.unsubscribe?.();
    if (this.timer) clearTimeout(this.timer);
    await this.claiming;
    const pending = [...this.inFlight.values()].map((f) => f.done);
    let timedOut = false;
    await Promise.race([Promise.allSettled(pending), new Promise<void>((r) => setTimeout(() => ((timedOut = true), r()), graceMs).unref())]);
    if (this.renewTimer) clearInterval(this.renewTimer);
    if (timedOut) {
      for (const { lease } of this.inFlight.values()) {
        const released = this.opts.outbox.release(lease);
        if (released instanceof Promise) await released;
      }
      this.opts.logger.warn({ released: this.inFlight.size }, 'outbox: released effects still in flight at shutdown');
    }
  }

  /** Looks for work now (called on enqueue and after each effect finishes). */
  wake(): void {
    if (!this.running) return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    // One look serves every wake before it runs: a transaction that enqueues six effects, or
    // effects finishing together, cost one claim instead of one each.
    if (this.wakePending) return;
    this.wakePending = true;
    setImmediate(() => {
      this.wakePending = false;
      this.pump();
    });
  }

  /** Resolves when no effect is pending-and-due or running (tests and the demo use it). */
  async idle(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const c = await this.opts.outbox.counts();
      const next = await this.opts.outbox.nextDueAt();
      const dueNow = next !== undefined && next <= this.o.now();
      if (this.inFlight.size === 0 && c.running === 0 && !dueNow) return;
      if (Date.now() > deadline) throw new Error(`outbox not idle after ${timeoutMs} ms: ${JSON.stringify(c)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  private pump(): void {
    if (!this.running) return;
    // An idle-poll timer can fire while an asynchronous claim is still unanswered: a second claim
    // then would count slots the first one already took. One round at a time; it looks again.
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    this.claimRounds(this.o.now());
  }

  /**
   * Claims for every lane's free slots, and again while a lane came back full (more may be due);
   * then schedules the next look. Reserved lanes first, then the shared slots, in one transaction.
   */
  private claimRounds(lookedAt: number): void {
    try {
      do {
        this.pumpAgain = false;
        const foreground = this.opts.foreground?.() ?? false;
        this.isHeld = foreground && (this.opts.held?.() ?? false);
        if (this.isHeld) break;
        const cap = foreground ? this.o.busyConcurrency : Number.POSITIVE_INFINITY;
        const parts: ClaimPart[] = [
          ...this.o.reserved.map((lane, i) => ({ limit: Math.min(lane.concurrency, cap) - this.laneInFlight[i]!, queuePrefix: lane.queuePrefix })),
          { limit: Math.min(this.o.concurrency, cap) - this.sharedInFlight },
        ];
        if (parts.every((p) => p.limit <= 0)) break;
        const claimed = this.opts.outbox.claimEach(parts, this.o.leaseMs);
        if (claimed instanceof Promise) {
          // Both outcomes go on in claimed() / claimFailed(), which end the round and never throw.
          this.claiming = claimed.then(
            (c) => this.claimed(c, parts, lookedAt),
            (err: unknown) => this.claimFailed(err, lookedAt),
          );
          return;
        }
        this.launchAll(claimed, parts);
      } while (this.pumpAgain && this.running);
    } catch (err) {
      this.opts.logger.error({ err }, 'outbox: claim failed');
    }
    this.pumpDone(lookedAt);
  }

  /** An asynchronous claim's answer. */
  private claimed(claimed: EffectRow[][], parts: ClaimPart[], lookedAt: number): void {
    try {
      this.launchAll(claimed, parts);
    } catch (err) {
      return this.claimFailed(err, lookedAt);
    }
    if (this.pumpAgain && this.running) this.claimRounds(lookedAt);
    else this.pumpDone(lookedAt);
  }

  private claimFailed(err: unknown, lookedAt: number): void {
    this.opts.logger.error({ err }, 'outbox: claim failed');
    this.pumpDone(lookedAt);
  }

  /** Launches what one claim took; a lane that came back full asks for another round. */
  private launchAll(claimed: EffectRow[][], parts: ClaimPart[]): void {
    claimed.forEach((effects, i) => {
      const lane = i < this.o.reserved.length ? i : -1;
      for (const e of effects) this.launch(e, lane);
      if (effects.length > 0 && effects.length === parts[i]!.limit) this.pumpAgain = true;
    });
  }

  private pumpDone(lookedAt: number): void {
    this.pumping = false;
    this.scheduleNext(lookedAt);
  }

  /** Runs a claimed effect in a reserved lane (its index) or a shared slot (-1). */
  private launch(e: EffectRow, lane: number): void {
    if (lane >= 0) this.laneInFlight[lane]!++;
    else this.sharedInFlight++;
    const p = this.execute(e).finally(() => {
      this.inFlight.delete(e.id);
      if (lane >= 0) this.laneInFlight[lane]!--;
      else this.sharedInFlight--;
      this.wake();
    });
    this.inFlight.set(e.id, { lease: { id: e.id, attempts: e.attempts }, done: p });
  }

  private scheduleNext(lookedAt: number): void {
    if (this.timer) clearTimeout(this.timer);
    if (!this.running) return;
    // Held: whoever holds wakes us when the hold ends; no need to look at the table until then.
    if (this.isHeld) return this.sleepUntil(undefined, lookedAt);
    const next = this.opts.outbox.nextDueAt();
    if (!(next instanceof Promise)) return this.sleepUntil(next, lookedAt);
    // A failed look sleeps the idle poll and looks again.
    void next.then(
      (at) => this.sleepUntil(at, lookedAt),
      (err: unknown) => {
        this.opts.logger.error({ err }, 'outbox: finding the next due effect failed');
        this.sleepUntil(undefined, lookedAt);
      },
    );
  }

  private sleepUntil(next: number | undefined, lookedAt: number): void {
    if (this.timer) clearTimeout(this.timer);
    if (!this.running) return;
    let wait = next === undefined ? this.o.idlePollMs : Math.max(0, Math.min(this.o.idlePollMs, next - this.o.now()));
    // Due when we looked and still not claimed: its slots are all taken, and the effect that
    // frees one wakes us. Looking again at once would only spin (bench/: 1,500 empty claims a
    // second while Jira was slow).
    if (next !== undefined && next <= lookedAt && this.inFlight.size > 0) wait = this.o.idlePollMs;
    this.timer = setTimeout(() => this.pump(), wait);
    this.timer.unref();
  }

  private async execute(e: EffectRow): Promise<void> {
    const log = this.opts.logger.child({ effect: e.id, kind: e.kind, requestId: e.requestId ?? undefined, attempt: e.attempts });
    const handler = this.opts.handlers[e.kind];
    const k = (this.stats.byKind[e.kind] ??= { ok: 0, retry: 0, dead: 0 });
    if (!handler) {
      const buried = this.finishDead(e, new PermanentError(`no handler for effect kind "${e.kind}"`), undefined, log);
      if (buried instanceof Promise ? await buried : buried) k.dead++;
      return;
    }
    let result: unknown;
    try {
      result = await handler.run(e);
    } catch (raw) {
      const err = raw instanceof Error ? raw : new Error(String(raw));
      const tooOld = this.o.now() - (e.revivedAt ?? e.createdAt) > this.o.maxRetryAgeMs;
      if (err instanceof PermanentError || tooOld) {
        const cause = tooOld && !(err instanceof PermanentError) ? new PermanentError(`gave up after ${e.attempts} attempts: ${err.message}`) : err;
        const buried = this.finishDead(e, cause, handler, log);
        if (buried instanceof Promise ? await buried : buried) k.dead++;
        return;
      }
      const hint = err instanceof RetryableError ? err.retryAfterMs : undefined;
      const delay = backoffDelay(e.attempts, this.o.backoff, hint, this.o.random());
      const retried = this.opts.outbox.retryAt(e, this.o.now() + delay, err.message);
      if (!(retried instanceof Promise ? await retried : retried)) return leaseLost(log, 'retry');
      this.stats.retried++;
      k.retry++;
      log.warn({ err: err.message, retryInMs: delay, hinted: hint !== undefined }, 'effect failed; will retry');
      return;
    }
    try {
      const recorded = this.opts.outbox.complete(e, result, (tx) => handler.onDone?.(e, result, tx));
      if (!(recorded instanceof Promise ? await recorded : recorded)) return leaseLost(log, 'done');
      this.stats.succeeded++;
      k.ok++;
      log.debug('effect done');
    } catch (err) {
      // The call succeeded but recording it failed: leave it to be retried; handlers are idempotent.
      const message = err instanceof Error ? err.message : String(err);
      const retried = this.opts.outbox.retryAt(e, this.o.now() + backoffDelay(e.attempts, this.o.backoff, undefined, this.o.random()), `recording the outcome failed: ${message}`);
      if (retried instanceof Promise) await retried;
      log.error({ err }, 'effect succeeded but its outcome could not be recorded; will retry');
    }
  }

  /** Buries the effect with its onDead; false when it was not recorded. */
  private finishDead(e: EffectRow, err: Error, handler: EffectHandler<T> | undefined, log: Logger): boolean | Promise<boolean> {
    const failed = (txErr: unknown) => {
      log.error({ err: txErr }, 'could not record a dead effect');
      return false;
    };
    const recorded = (held: boolean) => {
      if (!held) {
        leaseLost(log, 'dead');
        return false;
      }
      this.stats.dead++;
      log.error({ err: err.message }, 'effect failed for good');
      return true;
    };
    try {
      const held = this.opts.outbox.bury(e, err.message, (tx) => handler?.onDead?.(e, err, tx));
      return held instanceof Promise ? held.then(recorded, failed) : recorded(held);
    } catch (txErr) {
      return failed(txErr);
    }
  }
}

/** The effect was claimed again after this run's lease ran out: its holder records the outcome. */
function leaseLost(log: Logger, outcome: 'done' | 'retry' | 'dead'): void {
  log.warn({ outcome }, 'effect outcome refused: its lease was lost and the effect claimed again');
}
