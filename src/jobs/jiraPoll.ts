/**
 * Runs the Jira poll (app/jiraPoll.ts) every `intervalMs` (JIRA_POLL_INTERVAL, default a minute)
 * while the catalog has `jira.intake`: once at start, then on the interval. A run never overlaps
 * another; one that fails (Jira down) is logged and the next one asks for the longer span.
 *
 * The interval is cut into slots of `intervalMs` from the epoch, and each slot's poll is run by the
 * one replica that claims it (jobs/runClaims.ts): at start the current slot, then at each slot's
 * start, when every replica's timer fires alike. `runOnce()` by hand always polls.
 */
import type { Logger } from 'pino';
import type { PollOutcome } from '../app/jiraPoll.js';
import { JOBS, runClaimed, type RunClaims } from './runClaims.js';

export const DEFAULT_JIRA_POLL_MS = 60_000;

export interface JiraPollJobOptions {
  poll: () => Promise<PollOutcome>;
  /** Whether intake is on now (the catalog may change while the bot runs). */
  enabled: () => boolean;
  logger: Logger;
  /** Which replica runs a slot's poll. */
  claims: RunClaims;
  /** 0: never on its own (runOnce still works). */
  intervalMs: number;
}

export class JiraPollJob {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<PollOutcome | undefined> | undefined;

  constructor(private readonly o: JiraPollJobOptions) {}

  start(): void {
    if (this.o.intervalMs > 0) this.tick();
  }

  /** Stops the schedule and waits for a poll in flight. */
  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** The current slot's poll (when claimed here), and the timer to the next slot's start. */
  private readonly tick = (): void => {
    const now = Date.now();
    const into = now % this.o.intervalMs;
    void this.scheduledRun(now - into);
    this.timer = setTimeout(this.tick, this.o.intervalMs - into);
    this.timer.unref();
  };

  /**
   * The poll of a slot (epoch ms) if this replica claims it; undefined when another did, a poll is
   * in flight here, intake is off, or the claim failed (logged; the next slot tries again). Never rejects.
   */
  async scheduledRun(slot: number): Promise<PollOutcome | undefined> {
    try {
      return await runClaimed(this.o.claims, JOBS.jiraPoll, slot, this.running !== undefined || !this.o.enabled(), () => this.runOnce());
    } catch (err) {
      this.o.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'jira poll: could not claim its slot; the next slot polls');
      return undefined;
    }
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
