/**
 * Group commit for the transactions recorded before an ack (a modal submission, a click).
 *
 * A commit is the most expensive part of such a transaction: SQLite writes every page it changed
 * to the WAL (about twenty, one write each), Postgres waits for its log to reach the disk. When
 * Slack sends many requests at once, the transactions started in one turn of the event loop run
 * one after another inside one outer transaction and commit once; each caller is answered only
 * after that commit, so an ack still means "recorded".
 *
 * Each call's own `tx` is nested in the outer one, which both stores turn into a savepoint: a call
 * that throws rolls back its own writes only, and its promise rejects with what it threw. If the
 * outer transaction itself fails (its commit, or a database error that ends the transaction), every
 * call in it rejects, and nothing of any of them was kept.
 */

interface Queued {
  fn: () => unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/** The database under a store, as the batch needs it. */
export interface BatchTarget {
  /** Runs `fn` in a transaction (a savepoint when one is open), committed when it returns. */
  tx(fn: () => void): void;
  /** Whether a transaction is still open (a database error may have ended it). */
  inTransaction(): boolean;
}

/** Calls made in one turn of the event loop share a transaction; more than this many wait for the next. */
export const MAX_BATCH = 64;

export class TxBatch {
  private queue: Queued[] = [];

  constructor(
    private readonly target: BatchTarget,
    private readonly max = MAX_BATCH,
  ) {}

  /**
   * Runs `fn` (which writes through the store's `tx`) after the current turn of the event loop, in
   * a transaction shared with the other calls made in it; resolves with its result once committed.
   */
  run<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, resolve: resolve as (value: unknown) => void, reject });
      if (this.queue.length === 1) setImmediate(this.flush);
    });
  }

  /** A field, not a method: handed to setImmediate without a closure per batch. */
  private readonly flush = (): void => {
    const items = this.queue.length > this.max ? this.queue.splice(0, this.max) : this.queue.splice(0);
    if (this.queue.length > 0) setImmediate(this.flush);
    const outcomes: { ok: boolean; value: unknown }[] = [];
    try {
      this.target.tx(() => {
        for (const item of items) {
          try {
            outcomes.push({ ok: true, value: item.fn() });
          } catch (err) {
            // The call's savepoint is rolled back; the batch goes on, unless the error ended the
            // transaction (SQLite does so on a full disk or an I/O error): then nothing is kept.
            if (!this.target.inTransaction()) throw err;
            outcomes.push({ ok: false, value: err });
          }
        }
      });
    } catch (err) {
      for (const item of items) item.reject(err);
      return;
    }
    items.forEach((item, i) => {
      const o = outcomes[i]!;
      if (o.ok) item.resolve(o.value);
      else item.reject(o.value);
    });
  };
}
