/**
 * `reviews:` on an application or a role: access reviews of its groups (domain/accessReview.ts).
 *
 * ```yaml
 * reviews: { every: 90d, due: 14d, reviewers: [owners], onDue: keep, remindBefore: [3d, 1d],
 *            escalateAfter: 10d, fallback: [it-lead@example.com], inactiveAfter: 90d }
 * ```
 * Every key is optional; `every` makes it a schedule (without it, reviews of that scope start
 * with `access-bot review start` only).
 */
import { hasCapability } from '../../app/ports/idp.js';
import { DEFAULT_REVIEW_POLICY, ON_DUE, type OnDue, type ReviewerRef, type ReviewPolicy } from '../../domain/accessReview.js';
import type { GrantTarget } from '../../domain/catalog.js';
import { describeMs } from '../../domain/duration.js';
import type { Instances } from './grant.js';
import { EMAIL_RE } from '../values.js';
import { type Reader, oneOf, show } from './reader.js';

const REVIEW_KEYS = ['every', 'due', 'reviewers', 'fallback', 'onDue', 'remindBefore', 'escalateAfter', 'inactiveAfter'] as const;

/** `owners`: the application's, which `reviewers` defaults to. undefined: an error was reported. */
export function reviews(r: Reader, p: string, raw: unknown, owners: string[]): ReviewPolicy | undefined {
  const m = r.map(p, raw, 'a map with every:, due:, reviewers:, onDue: (each optional)');
  if (!m) return undefined;
  r.keys(p, m, REVIEW_KEYS);
  let ok = true;
  const bad = (): undefined => {
    ok = false;
    return undefined;
  };
  const span = (key: string): number | undefined => {
    const v = r.span(`${p}.${key}`, m[key]);
    return v === null ? bad() : v;
  };
  const everyMs = span('every');
  const dueMs = span('due') ?? DEFAULT_REVIEW_POLICY.dueMs;
  const escalateAfterMs = span('escalateAfter');
  const inactiveAfterMs = span('inactiveAfter') ?? DEFAULT_REVIEW_POLICY.inactiveAfterMs;

  let reviewers: ReviewerRef[] = [...DEFAULT_REVIEW_POLICY.reviewers];
  if (m.reviewers !== undefined) reviewers = reviewerRefs(r, `${p}.reviewers`, m.reviewers) ?? bad() ?? [];
  if (ok && reviewers.some((x) => x.kind === 'owners') && owners.length === 0) {
    r.fail(`${p}.reviewers`, m.reviewers === undefined ? "required when the application has no owners (reviewers default to the application's owners)" : 'names owners, but the application has no owners');
    ok = false;
  }
  let fallback: string[] = [];
  if (m.fallback !== undefined) fallback = r.emails(`${p}.fallback`, m.fallback) ?? bad() ?? [];

  let onDue: OnDue = DEFAULT_REVIEW_POLICY.onDue;
  if (m.onDue !== undefined) {
    if (typeof m.onDue === 'string' && (ON_DUE as readonly string[]).includes(m.onDue.trim())) onDue = m.onDue.trim() as OnDue;
    else {
      r.fail(`${p}.onDue`, `${show(m.onDue)} is not ${oneOf(ON_DUE)}`);
      ok = false;
    }
  }

  let remindBeforeMs = [...DEFAULT_REVIEW_POLICY.remindBeforeMs].filter((b) => b < dueMs);
  if (m.remindBefore !== undefined) {
    if (!Array.isArray(m.remindBefore)) {
      r.fail(`${p}.remindBefore`, 'must be a list of spans before the due date, e.g. [3d, 1d], or [] for no reminder');
      ok = false;
    } else {
      remindBeforeMs = [];
      m.remindBefore.forEach((item, i) => {
        const ms = r.span(`${p}.remindBefore[${i}]`, item);
        if (ms === null || ms === undefined) return void bad();
        if (remindBeforeMs.includes(ms)) return void (r.fail(`${p}.remindBefore[${i}]`, `${show(item)} is listed twice`) ?? bad());
        if (ms >= dueMs) return void (r.fail(`${p}.remindBefore[${i}]`, `${show(item)} is not before the due date (due: ${describeMs(dueMs)} after the start)`) ?? bad());
        remindBeforeMs.push(ms);
      });
    }
  }
  if (everyMs !== undefined && everyMs < dueMs) {
    r.fail(`${p}.every`, `${describeMs(everyMs)} is shorter than due (${describeMs(dueMs)}): a review would start before the last one is due`);
    ok = false;
  }
  if (escalateAfterMs !== undefined && escalateAfterMs >= dueMs) {
    r.fail(`${p}.escalateAfter`, `${describeMs(escalateAfterMs)} is not before the due date (due: ${describeMs(dueMs)}); for escalation at the due date use onDue: escalate`);
    ok = false;
  }
  if (!ok) return undefined;
  const policy: ReviewPolicy = { dueMs, reviewers, fallback, onDue, remindBeforeMs: remindBeforeMs.sort((a, b) => b - a), inactiveAfterMs };
  if (everyMs !== undefined) policy.everyMs = everyMs;
  if (escalateAfterMs !== undefined) policy.escalateAfterMs = escalateAfterMs;
  return policy;
}

/** `[owners, someone@example.com]`: who reviews. `manager` and Slack groups are not reviewers. */
function reviewerRefs(r: Reader, p: string, raw: unknown): ReviewerRef[] | undefined {
  if (!Array.isArray(raw) || raw.length === 0) return r.fail(p, 'must be a list of owners and/or emails, e.g. [owners]');
  const out: ReviewerRef[] = [];
  let bad = false;
  raw.forEach((item, i) => {
    const s = typeof item === 'string' ? item.trim() : undefined;
    const ip = `${p}[${i}]`;
    let ref: ReviewerRef | undefined;
    if (s === 'owners') ref = { kind: 'owners' };
    else if (s && EMAIL_RE.test(s)) ref = { kind: 'email', email: s.toLowerCase() };
    else if (s === 'manager' || s?.startsWith('slack-group:')) {
      return void (bad = r.fail(ip, `${show(item)} cannot review: a review asks named people (use owners or an email)`) ?? true);
    } else return void (bad = r.fail(ip, `${show(item)} is not a reviewer (use owners or an email)`) ?? true);
    if (out.some((o) => JSON.stringify(o) === JSON.stringify(ref))) return void (bad = r.fail(ip, `${show(item)} is listed twice`) ?? true);
    out.push(ref);
  });
  return bad ? undefined : out;
}

/**
 * A role under review must be listable: its grant connector lists a group's members. `at`: where
 * the reviews come from (the role's own `reviews:`, or its application's).
 */
export function checkReviewable(r: Reader, at: string, role: { id: string; grant: GrantTarget }, instances: Instances): void {
  const d = instances.byName.get(role.grant.connector);
  if (d && !hasCapability(d.prototype, 'memberListing')) {
    r.fail(at, `role ${role.id} grants through ${role.grant.connector} (${d.label}), which cannot list the members of a group, so it cannot be reviewed`);
  }
}
