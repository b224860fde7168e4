/**
 * Durations as the catalog writes them: `<n>s|m|h|d` or `permanent`.
 * `ms === null` means permanent (no expiry).
 */
export interface Duration {
  /** The catalog token, e.g. "4h" or "permanent": stable, used as the select option value. */
  token: string;
  ms: number | null;
}

const UNITS: Record<string, { ms: number; one: string; many: string }> = {
  s: { ms: 1000, one: 'second', many: 'seconds' },
  m: { ms: 60_000, one: 'minute', many: 'minutes' },
  h: { ms: 3_600_000, one: 'hour', many: 'hours' },
  d: { ms: 86_400_000, one: 'day', many: 'days' },
};

/** Longest duration we accept: grants beyond ten years are "permanent" in all but name. */
export const MAX_DURATION_MS = 3650 * UNITS.d!.ms;

/** Parses a duration token; returns undefined when it is not one. */
export function parseDuration(token: string): Duration | undefined {
  const t = token.trim();
  if (t === 'permanent') return { token: t, ms: null };
  const m = /^([1-9][0-9]{0,5})([smhd])$/.exec(t);
  if (!m) return undefined;
  const ms = Number(m[1]) * UNITS[m[2]!]!.ms;
  if (ms > MAX_DURATION_MS) return undefined;
  return { token: t, ms };
}

/** "10 seconds", "1 hour", "7 days", "Permanent". */
export function describeDuration(d: Duration): string {
  if (d.ms === null) return 'Permanent';
  const m = /^([0-9]+)([smhd])$/.exec(d.token);
  if (!m) return `${d.ms / 1000} seconds`;
  const n = Number(m[1]);
  const u = UNITS[m[2]!]!;
  return `${n} ${n === 1 ? u.one : u.many}`;
}

/** Describes a span of milliseconds in the largest whole unit: used for timeouts in messages. */
export function describeMs(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    const u = UNITS[unit]!;
    if (ms >= u.ms && ms % u.ms === 0) {
      const n = ms / u.ms;
      return `${n} ${n === 1 ? u.one : u.many}`;
    }
  }
  const secs = Math.max(1, Math.round(ms / 1000));
  return `${secs} ${secs === 1 ? 'second' : 'seconds'}`;
}

/** A span as a duration token in its largest whole unit (4h, 90m): for a duration computed, not typed. */
export function spanDuration(ms: number): Duration {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    const u = UNITS[unit]!;
    if (ms >= u.ms && ms % u.ms === 0) return { token: `${ms / u.ms}${unit}`, ms };
  }
  return { token: `${Math.max(1, Math.round(ms / 1000))}s`, ms };
}
