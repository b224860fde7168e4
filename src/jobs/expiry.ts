/**
 * Revocation on the second: one timer armed for the next grant to expire, re-armed whenever an
 * expiry time is added, plus a node-cron sweep every minute as the safety net (a timer lost to a
 * bug, a clock jump). At start the sweep runs at once, so grants that expired while the bot was
 * down are revoked right away.
 */
import { schedule, type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';

export interface ExpirySchedulerOptions {
  /** Starts revocation of every due grant. */
  expireDue(): number;
  nextExpiry(): number | undefined;
  now(): number;
  logger: Logger;
  /** node-cron expression for the safety sweep. */
  sweep?: string;
}

/** setTimeout's limit: longer delays fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class ExpiryScheduler {
  private timer: NodeJS.Timeout | undefined;
  private task: ScheduledTask | undefined;
  private armedFor: number | undefined;
  private stopped = true;

  constructor(private readonly o: ExpirySchedulerOptions) {}

  start(): void {
    this.stopped = false;
    this.tick('start');
    this.task = schedule(this.o.sweep ?? '* * * * *', () => this.tick('sweep'));
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    void this.task?.stop();
    this.task = undefined;
  }

  /** An expiry was added or changed: arm the timer if it is now the earliest. */
  reschedule(): void {
    if (this.stopped) return;
    const next = this.o.nextExpiry();
    if (next === undefined) return;
    if (this.armedFor !== undefined && this.armedFor <= next && this.timer) return;
    this.arm(next);
  }

  private arm(at: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.armedFor = at;
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, at - this.o.now()));
    this.timer = setTimeout(() => this.tick('timer'), delay);
    this.timer.unref();
  }

  private tick(source: string): void {
    if (this.stopped) return;
    this.timer = undefined;
    this.armedFor = undefined;
    try {
      const n = this.o.expireDue();
      if (n > 0) this.o.logger.info({ started: n, source }, 'expiry: revocations started');
    } catch (err) {
      this.o.logger.error({ err, source }, 'expiry: sweep failed');
    }
    const next = this.o.nextExpiry();
    if (next !== undefined) this.arm(next);
  }
}
