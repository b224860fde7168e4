/**
 * Expiry warnings: when a grant's holder is told their access is about to end. Pure: the caller
 * passes the grant's facts and the time.
 *
 * A role's `warnBefore` lists spans before the end (`[1d, 1h]`); without it a grant over a day is
 * warned a day and an hour before, one over an hour ten minutes before, a shorter one not at all.
 * A warning point is `expiresAt - before`. Points are armed when the expiry is set (the grant, an
 * extension): only points still ahead then are warned, each once; a point missed while the bot
 * was down is warned late, and when several were missed only the nearest to the end is sent.
 */
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** The spans before the end at which a grant lasting `grantMs` is warned, longest first. */
export function warningSpans(configured: readonly number[] | undefined, grantMs: number): number[] {
  const spans = configured ?? (grantMs > DAY ? [DAY, HOUR] : grantMs > HOUR ? [10 * MINUTE] : []);
  // A span as long as the grant would warn the moment it starts: that is no warning.
  return [...new Set(spans)].filter((s) => s > 0 && s < grantMs).sort((a, b) => b - a);
}

/** The next warning point strictly after `after`, or null when none is left. */
export function nextWarningAt(spans: readonly number[], expiresAt: number, after: number): number | null {
  const ahead = spans.map((s) => expiresAt - s).filter((at) => at > after);
  return ahead.length === 0 ? null : Math.min(...ahead);
}

/**
 * The warning to send now: of the points reached since `from` (the armed point), the one nearest
 * to the end, as its span; undefined when none was reached.
 */
export function dueWarning(spans: readonly number[], expiresAt: number, from: number, now: number): number | undefined {
  const reached = spans.filter((s) => expiresAt - s >= from && expiresAt - s <= now);
  return reached.length === 0 ? undefined : Math.min(...reached);
}
