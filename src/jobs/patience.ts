/**
 * How a background job calls an identity provider gently (the user sync, inactivity reclaim, the
 * account-status check): one call at a time, a rate limit (RetryableError with the service's
 * hint) waited out and the call made again, up to a bound; past it, or on a PermanentError, the
 * failure is the caller's to record. `stop()` ends a wait at once (the job is stopping).
 */
import { RetryableError } from '../outbox/errors.js';

export interface PatienceOptions {
  /** The longest wait for a rate limit honoured; a longer hint fails the call. Default 5 minutes. */
  maxWaitMs?: number;
  /** Retries of one call after retryable failures. Default 5. */
  maxRetries?: number;
  /** Wait when a retryable failure gives no hint, doubled each time. Default 2 s. */
  backoffMs?: number;
}

/** Thrown from a wait (or a call) once the job is stopping. */
export class Stopped extends Error {
  constructor() {
    super('stopped');
  }
}

export class Patience {
  private stopped = false;
  private readonly wakers = new Set<() => void>();

  constructor(private readonly o: PatienceOptions = {}) {}

  get isStopped(): boolean {
    return this.stopped;
  }

  start(): void {
    this.stopped = false;
  }

  /** Ends every wait in progress (they throw Stopped) and every later one. */
  stop(): void {
    this.stopped = true;
    for (const wake of [...this.wakers]) wake();
  }

  /** `fn`, made again after retryable failures within the bounds. */
  async call<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      if (this.stopped) throw new Stopped();
      try {
        return await fn();
      } catch (err) {
        if (!(err instanceof RetryableError) || attempt >= (this.o.maxRetries ?? 5)) throw err;
        const wait = err.retryAfterMs ?? (this.o.backoffMs ?? 2000) * 2 ** attempt;
        if (wait > (this.o.maxWaitMs ?? 300_000)) throw err;
        await this.sleep(wait);
      }
    }
  }

  /** Lets Slack requests and effects run between calls (a macrotask turn); throws Stopped when stopping. */
  async yieldTurn(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (this.stopped) throw new Stopped();
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.reject(new Stopped());
    return new Promise((resolve, reject) => {
      const wake = () => {
        clearTimeout(timer);
        this.wakers.delete(wake);
        reject(new Stopped());
      };
      const timer = setTimeout(() => {
        this.wakers.delete(wake);
        resolve();
      }, ms);
      timer.unref();
      this.wakers.add(wake);
    });
  }
}
