/** A role's end of access: `extend:` (asking for more time) and `warnBefore:` (warnings before the end). */
import type { ApprovalPolicy, Extension } from '../../domain/catalog.js';
import { describeMs, parseDuration, type Duration } from '../../domain/duration.js';
import { type Reader, show } from './reader.js';

const EXTEND_KEYS = ['max', 'approval'] as const;

/**
 * `extend: { max, approval: same | auto }`. Default: the role's own policy, at most its longest
 * duration. A break-glass role is not extended (a new request alerts again), nor a role that
 * offers only permanent. undefined: no extension; null: an error was reported.
 */
export function extension(r: Reader, p: string, raw: unknown, durations: Duration[], approval: ApprovalPolicy, isBreakGlass: boolean): Extension | undefined | null {
  const longest = Math.max(0, ...durations.map((d) => d.ms ?? 0));
  // A role whose default denies has no policy an extension could be asked under.
  if (raw === undefined) return isBreakGlass || longest === 0 || approval.kind === 'deny' ? undefined : { maxMs: longest, policy: structuredClone(approval) };
  const m = r.map(p, raw, 'a map with max: and/or approval: (same or auto)');
  if (!m) return null;
  r.keys(p, m, EXTEND_KEYS);
  if (isBreakGlass) return r.fail(p, 'a break-glass role cannot be extended (a new request alerts again)') ?? null;
  if (longest === 0) return r.fail(p, 'the role offers only permanent, so there is nothing to extend') ?? null;
  let maxMs = longest;
  if (m.max !== undefined) {
    const d = typeof m.max === 'string' ? parseDuration(m.max) : undefined;
    if (!d || d.ms === null) return r.fail(`${p}.max`, `${show(m.max)} is not a duration like 4h (permanent is not an extension)`) ?? null;
    if (d.ms > longest) return r.fail(`${p}.max`, `${d.token} is longer than the role's longest duration (${describeMs(longest)})`) ?? null;
    maxMs = d.ms;
  }
  if ((m.approval === undefined || m.approval === 'same') && approval.kind === 'deny') return r.fail(`${p}.approval`, "the role's default denies, so there is no same policy to extend under (use approval: auto)") ?? null;
  if (m.approval === undefined || m.approval === 'same') return { maxMs, policy: structuredClone(approval) };
  if (m.approval === 'auto') return { maxMs, policy: { kind: 'auto' } };
  return r.fail(`${p}.approval`, `${show(m.approval)} is not one of: same, auto`) ?? null;
}

/** `warnBefore: [1d, 1h]` (or `[]`: never warned). null: an error was reported. */
export function warnBefore(r: Reader, p: string, raw: unknown): number[] | null {
  if (!Array.isArray(raw)) return r.fail(p, 'must be a list of spans before the end, e.g. [1d, 1h], or [] for no warning') ?? null;
  const out: number[] = [];
  let bad = false;
  raw.forEach((item, i) => {
    const ms = r.span(`${p}[${i}]`, item);
    if (ms === null || ms === undefined) return void (bad = true);
    if (out.includes(ms)) return void (bad = r.fail(`${p}[${i}]`, `${show(item)} is listed twice`) ?? true);
    out.push(ms);
  });
  return bad ? null : out;
}
