/**
 * Web API rate limits as the emulator enforces them: per method, in Slack's tiers or any limit a
 * test sets, answered the way Slack answers a call over its limit.
 */
import type { EmuResponse, Fault } from '../base.js';

// Web API rate limits: per method per workspace per app, in tiers of calls a minute (Tier 1: 1+,
// 2: 20+, 3: 50+, 4: 100+; chat.postMessage is "special": about one a second per channel under a
// workspace-wide limit). Over the limit Slack answers HTTP 429 with `Retry-After` (seconds) and
// `{ok:false, error:'ratelimited'}`. https://docs.slack.dev/apis/web-api/rate-limits
// Slack does not publish its window; `limitRate` uses a fixed one (the limit per `windowMs`).
export const SLACK_TIERS = { 1: 1, 2: 20, 3: 50, 4: 100 } as const;

interface RateWindow {
  limit: number;
  windowMs: number;
  start: number;
  count: number;
}

/** Slack's answer to a call over its method's limit. */
export function ratelimited(retryAfterSec: number, headers: Record<string, string> = {}): EmuResponse {
  // https://docs.slack.dev/apis/web-api/rate-limits : 429 Too Many Requests with Retry-After (seconds).
  return { status: 429, headers: { ...headers, 'Retry-After': String(retryAfterSec) }, body: { ok: false, error: 'ratelimited' } };
}

/** The next `times` calls of `method` are answered as over its limit. */
export function rateLimitFault(method: string, times: number, retryAfterSec: number): Fault {
  const { status, headers, body } = ratelimited(retryAfterSec);
  return { path: `/api/${method}`, times, status, headers, body };
}

/** The limits set per method, each counted in a fixed window on the workspace's clock. */
export class RateLimits {
  private readonly windows = new Map<string, RateWindow>();

  /** Sets `method`'s limit; returns a function that lifts it. */
  limit(method: string, limit: number | { tier: keyof typeof SLACK_TIERS }, windowMs: number): () => void {
    const perWindow = typeof limit === 'number' ? limit : SLACK_TIERS[limit.tier];
    this.windows.set(method, { limit: perWindow, windowMs, start: Number.NEGATIVE_INFINITY, count: 0 });
    return () => void this.windows.delete(method);
  }

  /** Seconds to wait when `method` is over its limit, else undefined (and the call counts). */
  over(method: string, now: number): number | undefined {
    const w = this.windows.get(method);
    if (!w) return undefined;
    if (now >= w.start + w.windowMs) {
      w.start = now;
      w.count = 0;
    }
    if (w.count < w.limit) {
      w.count += 1;
      return undefined;
    }
    return Math.max(1, Math.ceil((w.start + w.windowMs - now) / 1000));
  }
}
