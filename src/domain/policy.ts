/**
 * Which of a role's approval rules applies to a request (catalog `approval: { rules, default }`).
 * Pure: the caller gathers the facts (app/policyFacts.ts) and passes the time in; nothing here
 * calls the IdP or reads a clock.
 *
 * Rules are tried in order and the first whose every condition holds wins; none: the default.
 * A fact that could not be learned (the IdP failed) never makes a condition hold. Because a rule
 * skipped that way might have been the stricter one, an unknown fact may never lead to approval
 * without a person: when the pick is `auto` past a rule that was skipped for an unknown fact, the
 * outcome is `undecided` and the caller tries again later rather than auto-approve.
 */
import { describeMs } from './duration.js';
import type { ApprovalPolicy, ApproverRef, Conditions, OnCallCondition, PolicyRule, RequestKind, Role, WorkingHours, Weekday } from './catalog.js';
import { describeSchedule, onCallKey, shiftAt, type OnCallMatch, type Roster } from './onCall.js';
import { formatTime } from './steps.js';

/** A fact the IdP gave, or why it could not. */
export type Known<T> = { known: true; value: T } | { known: false; why: string };

export interface IdpGroup {
  id: string;
  name?: string;
}

export interface PolicyFacts {
  kind: RequestKind;
  /** null: permanent. */
  durationMs: number | null;
  /** Epoch ms: when the request is routed. */
  now: number;
  groups: Known<readonly IdpGroup[]>;
  profile: Known<{ department?: string; title?: string }>;
  /** The requester's email: whom `onCall` looks for in a roster. */
  email?: string;
  /** Rosters of the schedules `onCall` rules name, by `onCallKey`; a schedule absent here is unknown. */
  onCall?: ReadonlyMap<string, Known<Roster>>;
}

/** How one rule fared, for the record and `policy explain`. */
export interface RuleVerdict {
  label: string;
  result: 'matched' | 'no_match' | 'unknown';
  why: string;
}

export type PolicyChoice =
  | {
      kind: 'chosen';
      policy: ApprovalPolicy;
      /** 1-based; undefined: the default applied. */
      rule: number | undefined;
      /** "rule 2 (contractors → security review)" or "default (no rule matched)". */
      label: string;
      notify: string[];
      verdicts: RuleVerdict[];
      /** Facts that could not be learned and made a rule not match (said on the record). */
      unknown: string[];
      /** The on-call shift the rule matched on: the record names it and the grant ends with it. */
      onCall?: OnCallMatch;
    }
  /** Only an unknown fact stood between the request and auto-approval: not decided now. */
  | { kind: 'undecided'; why: string; verdicts: RuleVerdict[] };

export function ruleLabel(index: number, rule: Pick<PolicyRule, 'name'>): string {
  return rule.name ? `rule ${index} (${rule.name})` : `rule ${index}`;
}

export const DEFAULT_LABEL = 'default (no rule matched)';

export function choosePolicy(role: Pick<Role, 'approval' | 'rules'>, facts: PolicyFacts): PolicyChoice {
  const rules = role.rules?.rules ?? [];
  const verdicts: RuleVerdict[] = [];
  const unknown: string[] = [];
  for (const [i, rule] of rules.entries()) {
    const label = ruleLabel(i + 1, rule);
    const c = evaluate(rule.when, facts);
    verdicts.push({ label, result: c.result, why: c.why });
    if (c.result === 'unknown') {
      if (!unknown.includes(c.why)) unknown.push(c.why);
      continue;
    }
    if (c.result === 'matched') return settle({ policy: { ...rule.policy, rule: i + 1 }, rule: i + 1, label, notify: rule.notify, onCall: c.onCall }, verdicts, unknown);
  }
  return settle({ policy: role.approval, rule: undefined, label: DEFAULT_LABEL, notify: [] }, verdicts, unknown);
}

interface RulePick {
  policy: ApprovalPolicy;
  rule: number | undefined;
  label: string;
  notify: string[];
  onCall?: OnCallMatch | undefined;
}

function settle({ onCall, ...pick }: RulePick, verdicts: RuleVerdict[], unknown: string[]): PolicyChoice {
  if (pick.policy.kind === 'auto' && unknown.length > 0) {
    return { kind: 'undecided', why: `${pick.label} auto-approves, but an earlier rule could not be checked: ${unknown.join('; ')}`, verdicts };
  }
  return { kind: 'chosen', ...pick, verdicts, unknown, ...(onCall ? { onCall } : {}) };
}

type Outcome = { result: RuleVerdict['result']; why: string; onCall?: OnCallMatch };

/** Every condition must hold; the first that does not (or cannot be told) says why. */
function evaluate(when: Conditions, f: PolicyFacts): Outcome {
  const held: string[] = [];
  let unknownWhy: string | undefined;
  let onCall: OnCallMatch | undefined;
  const checks: (() => Outcome | string)[] = [];
  if (when.kind) {
    const k = when.kind;
    checks.push(() => (k.includes(f.kind) ? `kind is ${f.kind}` : { result: 'no_match', why: `kind is ${f.kind}, not ${k.join(' or ')}` }));
  }
  if (when.durationOverMs !== undefined) {
    const over = when.durationOverMs;
    checks.push(() => {
      const asked = f.durationMs === null ? 'permanent' : describeMs(f.durationMs);
      return f.durationMs === null || f.durationMs > over ? `${asked} is over ${describeMs(over)}` : { result: 'no_match', why: `${asked} is not over ${describeMs(over)}` };
    });
  }
  if (when.hours) {
    const h = when.hours;
    checks.push(() => {
      const at = localTime(f.now, h.tz);
      const text = `${at.day} ${clock(at.minutes)} ${h.tz}`;
      return withinHours(h, at) ? `${text} is within ${describeHours(h)}` : { result: 'no_match', why: `${text} is outside ${describeHours(h)}` };
    });
  }
  if (when.memberOf) {
    const wanted = when.memberOf;
    checks.push(() => {
      if (!f.groups.known) return { result: 'unknown', why: `groups unknown (${f.groups.why})` };
      const hit = wanted.find((w) => f.groups.known && f.groups.value.some((g) => g.id === w || g.name?.toLowerCase() === w.toLowerCase()));
      return hit ? `member of ${hit}` : { result: 'no_match', why: `not a member of ${wanted.join(' or ')}` };
    });
  }
  for (const attr of ['department', 'title'] as const) {
    const wanted = when[attr];
    if (!wanted) continue;
    checks.push(() => {
      if (!f.profile.known) return { result: 'unknown', why: `${attr} unknown (${f.profile.why})` };
      const v = f.profile.value[attr];
      if (v !== undefined && wanted.some((w) => w.toLowerCase() === v.toLowerCase())) return `${attr} is ${v}`;
      return { result: 'no_match', why: `${attr} is ${v === undefined ? 'not recorded' : v}, not ${wanted.join(' or ')}` };
    });
  }
  if (when.onCall) {
    const wanted = when.onCall;
    checks.push(() => {
      const r = onCallNow(wanted, f);
      if (r.result === 'matched') {
        onCall = r.onCall;
        return r.why;
      }
      return r;
    });
  }
  for (const check of checks) {
    const r = check();
    if (typeof r === 'string') held.push(r);
    else if (r.result === 'no_match') return r;
    // An unknown fact: keep looking, a known condition that fails settles it as not matching.
    else unknownWhy ??= r.why;
  }
  if (unknownWhy) return { result: 'unknown', why: unknownWhy };
  return { result: 'matched', why: held.length ? held.join(', ') : 'no conditions', ...(onCall ? { onCall } : {}) };
}

/**
 * On call now in any of the schedules: the first schedule (in catalog order) whose roster has a
 * shift of the requester covering now. A schedule that could not be read, or whose roster names
 * responders by id only, leaves the answer unknown unless another schedule says yes.
 */
function onCallNow(c: OnCallCondition, f: PolicyFacts): Outcome {
  let unknown: string | undefined;
  for (const schedule of c.schedules) {
    const where = describeSchedule(c.service, schedule);
    const roster = f.onCall?.get(onCallKey(c.service, schedule)) ?? { known: false, why: 'not looked up' };
    if (!roster.known) {
      unknown ??= `whether the requester is on call in ${where} (${roster.why})`;
      continue;
    }
    const shift = f.email === undefined ? undefined : shiftAt(roster.value, f.email, f.now);
    if (shift) {
      const named = describeSchedule(c.service, schedule, roster.value.scheduleName);
      const until = shift.end === null ? 'with no end' : `until ${formatTime(shift.end)}`;
      const onCall: OnCallMatch = { service: c.service, schedule, start: shift.start, end: shift.end, ...(roster.value.scheduleName ? { scheduleName: roster.value.scheduleName } : {}) };
      return { result: 'matched', why: `on call in ${named} ${until}`, onCall };
    }
    if (roster.value.unresolved > 0) {
      unknown ??= `whether the requester is on call in ${where} (the email or shift of ${roster.value.unresolved} responder(s) on call could not be read)`;
    }
  }
  if (unknown) return { result: 'unknown', why: unknown };
  return { result: 'no_match', why: `not on call in ${c.schedules.map((s) => describeSchedule(c.service, s)).join(' or ')}` };
}

const WEEKDAY_OF: Record<string, Weekday> = { Mon: 'mon', Tue: 'tue', Wed: 'wed', Thu: 'thu', Fri: 'fri', Sat: 'sat', Sun: 'sun' };

/** The weekday and minutes after midnight at `now` in the IANA zone `tz`. */
export function localTime(now: number, tz: string): { day: Weekday; minutes: number } {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: tz, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(new Date(now));
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return { day: WEEKDAY_OF[get('weekday')] ?? 'mon', minutes: Number(get('hour')) * 60 + Number(get('minute')) };
}

/** Within the window; one spanning midnight belongs to the day it started on. */
function withinHours(h: WorkingHours, at: { day: Weekday; minutes: number }): boolean {
  if (h.fromMin < h.toMin) return h.days.includes(at.day) && at.minutes >= h.fromMin && at.minutes < h.toMin;
  if (at.minutes >= h.fromMin) return h.days.includes(at.day);
  return at.minutes < h.toMin && h.days.includes(previousDay(at.day));
}

function previousDay(d: Weekday): Weekday {
  const order: Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
  return order[(order.indexOf(d) + 6) % 7]!;
}

export function clock(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

export function describeHours(h: WorkingHours): string {
  return `${clock(h.fromMin)}-${clock(h.toMin)} ${h.days.join(',')} (${h.tz})`;
}

/**
 * The policy a request's approvers were routed by, as the catalog says it now: its rule's when a
 * rule chose it, else the role's default. Authorisation holds at click time (domain/approval.ts).
 */
export function policyNow(role: Pick<Role, 'approval' | 'rules'> | undefined, requestPolicy: ApprovalPolicy): ApprovalPolicy | undefined {
  if (!role) return undefined;
  if (requestPolicy.rule === undefined) return role.approval;
  return role.rules?.rules[requestPolicy.rule - 1]?.policy;
}

/** A policy in a few words, for `policy explain` and `check`'s sample: "asks owners", "approved by policy (auto-approve)". */
export function describePolicy(p: ApprovalPolicy): string {
  switch (p.kind) {
    case 'auto':
      return 'approved by policy (auto-approve)';
    case 'deny':
      return `denied by policy: ${p.reason}`;
    case 'stages':
      return p.stages
        .map((s, i) => `${p.stages.length > 1 ? `stage ${i + 1}: ` : 'asks '}${s.approvers.map(refText).join(', ')}${s.required > 1 ? ` (${s.required} approvals)` : ''}`)
        .join('; then ');
  }
}

function refText(r: ApproverRef): string {
  return r.kind === 'email' ? r.email : r.kind === 'slackGroup' ? `slack-group:${r.group}` : r.kind;
}
