/**
 * Runs reminders, escalations and timeouts, and expiry warnings. A one-second tick over an index of the next timer
 * due is cheap (nothing is read when nothing is due) and precise enough for reminders measured
 * in hours.
 */
import type { Logger } from 'pino';

export class RoutingTimers {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly run: () => number,
    private readonly logger: Logger,
    private readonly intervalMs = 1000,
  ) {}

  start(): void {
    this.tick();
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Runs what is due now; returns how many requests were handled. */
  tick(): number {
    try {
      const n = this.run();
      if (n > 0) this.logger.info({ handled: n }, 'routing timers: reminders, escalations or timeouts handled');
      return n;
    } catch (err) {
      this.logger.error({ err }, 'routing timers failed');
      return 0;
    }
  }
}
