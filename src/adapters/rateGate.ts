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
 * Per key, the gate remembers the lowest count of calls left that an answer of the current window
 * reported (the service's count only goes down within a window, so the lowest is the latest), when
 * the window resets, and the calls in flight: reserved by `reserve`, not yet `release`d. A call in
 * flight may not have reached the service when it counted for the last answer, so it is taken off
 * what that answer allowed; once it is answered, its own answer says where the count stands. A
 * call is let through while calls left minus calls in flight is above zero; so calls sent together
 * cannot overshoot the window, also right after a reset, when the window is unknown until its
 * first answer and every call reserved meanwhile goes out. (Taking that first answer's count as it
 * stood forgot those calls and overshot each window's end by one outbox lane's concurrency.)
 * Calls do not reach the service in the order they were reserved (one waits for a new
 * connection while a later one takes a free one), so a count per call ("this answer's count
 * less the calls reserved after it") would be wrong both ways; the calls in flight are not.
 *
 * With nothing left, `reserve` refuses until the reset, and the caller turns that into a retry at
 * the reset time instead of a call that would get a 429. The gate only avoids 429s: the key may
 * not match the service's own buckets exactly, other clients share the service's budget, and a
 * window that is reset is trusted again at once, so the 429 handling stays the safety net.
 */
interface Window {
  /** The lowest count of calls left an answer of this window reported; 0 after a 429. */
  reported: number;
  /** Epoch ms, on our clock. */
  resetAt: number;
}

interface KeyState {
  window?: Window;
  /** Tickets of the calls in flight, and when each was reserved, oldest first. */
  inFlight: Map<number, number>;
}

export type Reservation = { ok: true; ticket: number } | { ok: false; waitMs: number };

/**
 * A reservation that is never released (a caller's bug) stops counting after this long: longer
 * than any adapter's timeout, short enough that a leak cannot hold an endpoint for good.
 */
export const FORGET_IN_FLIGHT_AFTER_MS = 5 * 60_000;

export class RateGate {
  private readonly state = new Map<string, KeyState>();
  private nextTicket = 1;

  constructor(private readonly now: () => number) {}

  /**
   * Reserves a call under `key`; the caller releases the ticket once the call is over, answered or
   * not. Refused, it says how long to wait (ms) instead.
   */
  reserve(key: string): Reservation {
    const s = this.stateOf(key);
    const now = this.now();
    forgetStale(s.inFlight, now);
    const w = s.window;
    if (w && now >= w.resetAt) s.window = undefined; // a new window: unknown until its first answer
    else if (w && w.reported - s.inFlight.size <= 0) return { ok: false, waitMs: w.resetAt - now };
    const ticket = this.nextTicket++;
    s.inFlight.set(ticket, now);
    return { ok: true, ticket };
  }

  /** The call holding `ticket` is over: answered, failed or timed out. Releasing twice is harmless. */
  release(key: string, ticket: number): void {
    this.state.get(key)?.inFlight.delete(ticket);
  }

  /**
   * What an answer said: calls left in the window and when it resets (epoch ms, our clock). An
   * answer about a window that has already ended is ignored.
   */
  observe(key: string, remaining: number, resetAt: number): void {
    if (!Number.isFinite(remaining) || !Number.isFinite(resetAt) || remaining < 0 || resetAt <= this.now()) return;
    const s = this.stateOf(key);
    const w = s.window;
    if (!w || resetAt > w.resetAt + 1000) {
      // First answer of this window (or a later window than the one we track).
      s.window = { reported: remaining, resetAt };
      return;
    }
    w.reported = Math.min(w.reported, remaining);
    w.resetAt = Math.max(w.resetAt, resetAt);
  }

  /** A 429: nothing is left until `resetAt`. A hold in force is never shortened (a 429 to a call sent earlier may name an earlier time). */
  exhausted(key: string, resetAt: number): void {
    const s = this.stateOf(key);
    const w = s.window;
    s.window = { reported: 0, resetAt: w && w.reported <= 0 ? Math.max(w.resetAt, resetAt) : resetAt };
  }

  private stateOf(key: string): KeyState {
    let s = this.state.get(key);
    if (!s) this.state.set(key, (s = { inFlight: new Map() }));
    return s;
  }
}

function forgetStale(inFlight: Map<number, number>, now: number): void {
  for (const [ticket, at] of inFlight) {
    if (now - at < FORGET_IN_FLIGHT_AFTER_MS) return;
    inFlight.delete(ticket);
  }
}
