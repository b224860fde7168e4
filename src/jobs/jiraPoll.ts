/**
 * Runs the Jira poll (app/jiraPoll.ts) every `intervalMs` (JIRA_POLL_INTERVAL, default a minute)
 * while the catalog has `jira.intake`: once at start, then on the interval. A run never overlaps
 * another; one that fails (Jira down) is logged and the next one asks for the longer span.
 */
import type { Logger } from 'pino';
import type { PollOutcome } from '../app/jiraPoll.js';

export const DEFAULT_JIRA_POLL_MS = 60_000;

export interface JiraPollJobOptions {
  poll: () => Promise<PollOutcome>;
  /** Whether intake is on now (the catalog may change while the bot runs). */
  enabled: () => boolean;
  logger: Logger;
  /** 0: never on its own (runOnce still works). */
  intervalMs: number;
}

export class JiraPollJob {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<PollOutcome | undefined> | undefined;

  constructor(private readonly o: JiraPollJobOptions) {}

  start(): void {
    if (this.o.intervalMs <= 0) return;
    void this.runOnce();
    this.timer = setInterval(() => void this.runOnce(), this.o.intervalMs);
    this.timer.unref();
  }

  /** Stops the schedule and waits for a poll in flight. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Polls now (or joins the poll in flight); never rejects. undefined when intake is off or the poll failed. */
  runOnce(): Promise<PollOutcome | undefined> {
    if (this.running) return this.running;
    if (!this.o.enabled()) return Promise.resolve(undefined);
    const run = this.o
      .poll()
      .then((out) => {
        const taken = Object.entries(out.results).filter(([k]) => !['already_requested', 'ignored', 'refused_before', 'stale', 'predates_intake'].includes(k));
        if (taken.length > 0 || out.failed > 0) this.o.logger.info({ read: out.read, results: out.results, failed: out.failed }, 'jira poll');
        return out;
      })
      .catch((err: unknown) => {
        this.o.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'jira poll failed; the next poll reads from the same mark');
        return undefined;
      })
      .finally(() => {
        this.running = undefined;
      });
    this.running = run;
    return run;
  }
}
