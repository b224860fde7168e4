/**
 * Exponential backoff with jitter, capped so that a backlog drains soon after a service recovers
 * (ARCHITECTURE.md §4: within a minute). A retry hint from the service (Retry-After,
 * X-Rate-Limit-Reset) is a floor: we never call back earlier than we were told to.
 */
export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
  /** Upper bound on a service's hint, so a bogus far-future reset can't park an effect for days. */
  maxHintMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 500, capMs: 20_000, maxHintMs: 15 * 60_000 };

/** `attempt` is 1 for the first retry. `random` in [0, 1). */
export function backoffDelay(attempt: number, policy: BackoffPolicy, hintMs: number | undefined, random: number): number {
  const exp = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(30, Math.max(0, attempt - 1)));
  // "Equal jitter": half fixed, half random, so retries spread out but never come back at once.
  const jittered = exp / 2 + (exp / 2) * random;
  if (hintMs === undefined) return Math.round(jittered);
  // Spread a crowd told the same reset time over a short window instead of all at the second.
  const hint = Math.min(policy.maxHintMs, hintMs);
  return Math.round(Math.max(hint + 250 * random, jittered / 4));
}
