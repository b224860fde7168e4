/**
 * Client-side pacing per rate-limit bucket, shared by the adapters that call a rate-limited API
 * directly. A bucket's key is the adapter's: an Okta endpoint shape (`PUT api/v1/groups/{}/users/{}`),
 * a Slack Web API method (`chat.postMessage`).
 *
 * - Okta reports its limit on every answer (`X-Rate-Limit-Limit`, `-Remaining`, `-Reset` per
 *   endpoint bucket; https://developer.okta.com/docs/reference/rl-best-practices/ asks clients to
 *   watch `X-Rate-Limit-Remaining` and hold off until `X-Rate-Limit-Reset` rather than run into
 *   429s): `observe` each answer, `exhausted` on a 429.
 * - Slack only says so when it is too late: HTTP 429 with `Retry-After` seconds, per method per
 *   workspace (https://docs.slack.dev/apis/web-api/rate-limits): `exhausted` on a 429 only.
 *
 * Per key, the gate remembers how many calls the current window has left and when it resets.
 * Each call reserves one before it is sent, so calls in flight together cannot overshoot what the
 * last answer allowed; each answer lowers the count to what the service said, never raises it
 * (an answer to an earlier call does not know about the calls sent after it). With nothing left,
 * `reserve` refuses until the reset, and the caller turns that into a retry at the reset time
 * instead of a call that would get a 429.
 *
 * The gate only avoids 429s: the key may not match the service's own buckets exactly, and a
 * window that is reset is trusted again at once, so the 429 handling stays the safety net.
 */
export interface GateState {
  remaining: number;
  /** Epoch ms, on our clock. */
  resetAt: number;
}

export class RateGate {
  private readonly state = new Map<string, GateState>();

  constructor(private readonly now: () => number) {}

  /** Reserves a call under `key`; returns how long to wait (ms) instead when none is left. */
  reserve(key: string): { ok: true } | { ok: false; waitMs: number } {
    const s = this.state.get(key);
    if (!s) return { ok: true };
    const now = this.now();
    if (now >= s.resetAt) {
      this.state.delete(key); // a new window: unknown until its first answer
      return { ok: true };
    }
    if (s.remaining <= 0) return { ok: false, waitMs: s.resetAt - now };
    s.remaining -= 1;
    return { ok: true };
  }

  /** What an answer said: calls left in the window and when it resets (epoch ms, our clock). */
  observe(key: string, remaining: number, resetAt: number): void {
    if (!Number.isFinite(remaining) || !Number.isFinite(resetAt) || remaining < 0) return;
    const s = this.state.get(key);
    if (!s || resetAt > s.resetAt + 1000) {
      // First answer of this window (or a later window than the one we track).
      this.state.set(key, { remaining, resetAt });
      return;
    }
    s.remaining = Math.min(s.remaining, remaining);
    s.resetAt = Math.max(s.resetAt, resetAt);
  }

  /** A 429: nothing is left until `resetAt`. A hold in force is never shortened (a 429 to a call sent earlier may name an earlier time). */
  exhausted(key: string, resetAt: number): void {
    const s = this.state.get(key);
    this.state.set(key, { remaining: 0, resetAt: s && s.remaining <= 0 ? Math.max(s.resetAt, resetAt) : resetAt });
  }
}
