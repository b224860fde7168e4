/**
 * Approval rules on a role: `approval: { rules: [...], default: ... }`, each rule's conditions
 * (`when:`, including working `hours:`), its outcome and whom it notifies.
 */
import { type ApprovalPolicy, type Conditions, type GrantTarget, type OnCallCondition, type PolicyRule, type PolicyRules, type RequestKind, type Weekday, type WorkingHours, REQUEST_KINDS, WEEKDAYS } from '../../domain/catalog.js';
import { ON_CALL_SERVICES, ON_CALL_TYPES, isOnCallType, type OnCallServiceType } from '../../domain/onCall.js';
import { ON_CALL_SETUP } from '../onCall.js';
import { ruleLabel } from '../../domain/policy.js';
import { describeMs, type Duration } from '../../domain/duration.js';
import { hasCapability, type Capability } from '../../app/ports/idp.js';
import { EMAIL_RE } from '../values.js';
import type { Instances } from './grant.js';
import { APPROVAL_KEYS, type ParsedPolicy, approval } from './policy.js';
import { type Obj, type Reader, oneOf, show, suggest } from './reader.js';

const RULED_KEYS = ['rules', 'default'] as const;
const RULE_KEYS = ['name', 'when', 'notify', 'auto', 'deny', ...APPROVAL_KEYS] as const;
const WHEN_KEYS = ['memberOf', 'department', 'title', 'durationOver', 'kind', 'hours', 'onCall'] as const;
const HOURS_KEYS = ['tz', 'from', 'to', 'days'] as const;

/** What a rule's conditions are checked against: the role's durations and grant connector, and the on-call services configured. */
interface RoleFacts {
  durations: Duration[] | undefined;
  grant: GrantTarget | undefined;
  instances: Instances;
  /** Undefined: not checked (the catalog is read without an environment). */
  onCall: readonly OnCallServiceType[] | undefined;
}

/**
 * `approval: { rules: [...], default: ... }`: rules tried in order, first match wins, the default
 * when none matches. Refused: a rule that can never match (after a rule with no conditions, a
 * `durationOver` no offered duration exceeds, an empty `hours` window), a `default` that can never
 * apply, and rules that leave a case with no policy. Returns the default (or the last rule's
 * policy, when that rule has no conditions) as the role's plain policy, with the rules.
 */
export function ruled(r: Reader, p: string, role: Obj, facts: RoleFacts, isBreakGlass: boolean): { parsed: ParsedPolicy; rules: PolicyRules } | undefined {
  if (role.approvers !== undefined) return r.fail(p.replace(/\.approval$/, ''), 'set either approvers or approval, not both');
  if (isBreakGlass) return r.fail(`${p}.rules`, 'a break-glass role takes no rules (it is auto-approved; the alert and the review are its control)');
  const m = role.approval as Obj;
  r.keys(p, m, RULED_KEYS);
  const ownersAt: string[] = [];
  const list = r.list(`${p}.rules`, m.rules, 'rule');
  if (!list) return undefined;
  const rules: (PolicyRule | undefined)[] = list.map((raw, i) => rule(r, `${p}.rules[${i}]`, raw, ownersAt, facts));
  // A rule with no conditions matches every request: anything after it is dead.
  const catchAll = rules.findIndex((x) => x !== undefined && Object.keys(x.when).length === 0);
  for (let i = catchAll + 1; catchAll >= 0 && i < rules.length; i++) {
    r.fail(`${p}.rules[${i}]`, `can never match: ${ruleLabel(catchAll + 1, rules[catchAll]!)} before it has no conditions (when:) and matches every request`);
  }
  let fallback: ApprovalPolicy | undefined;
  if (m.default !== undefined) {
    if (catchAll >= 0) {
      r.fail(`${p}.default`, `never applies: ${ruleLabel(catchAll + 1, rules[catchAll]!)} has no conditions (when:) and matches every request`);
    }
    fallback = ruleOutcome(r, `${p}.default`, m.default, ownersAt);
    if (!fallback) return undefined;
  } else if (catchAll < 0 && rules.every((x) => x !== undefined)) {
    return r.fail(p, 'a request that no rule matches has no policy: add default: (e.g. default: { approvers: [owners] }) or end with a rule without when:');
  }
  if (!rules.every((x): x is PolicyRule => x !== undefined)) return undefined;
  const policy = fallback ?? rules[catchAll]!.policy;
  if (!facts.grant) return undefined;
  return { parsed: { policy, ownersAt, at: p }, rules: { rules, factsFrom: facts.grant.connector } };
}

function rule(r: Reader, p: string, raw: unknown, ownersAt: string[], facts: RoleFacts): PolicyRule | undefined {
  const m = r.map(p, raw, 'a map with when: and approvers:, stages:, auto: true or deny: <reason>');
  if (!m) return undefined;
  r.keys(p, m, RULE_KEYS);
  const name = m.name === undefined ? undefined : r.name(`${p}.name`, m.name);
  const w = m.when === undefined ? {} : when(r, `${p}.when`, m.when, facts);
  const notify = m.notify === undefined ? [] : notifyList(r, `${p}.notify`, m.notify);
  const { name: _n, when: _w, notify: _t, ...policyKeys } = m;
  const policy = ruleOutcome(r, p, policyKeys, ownersAt);
  if ((m.name !== undefined && !name) || !w || !notify || !policy) return undefined;
  const out: PolicyRule = { when: w, policy, notify };
  if (name) out.name = name;
  return out;
}

/** A rule's (or the default's) policy: `auto: true`, `deny: <reason>`, or an approval map; `default` may also be the word auto. */
function ruleOutcome(r: Reader, p: string, raw: unknown, ownersAt: string[]): ApprovalPolicy | undefined {
  if (raw === 'auto') return { kind: 'auto' };
  const m = r.map(p, raw, 'auto: true, deny: <reason>, or approvers: / stages:');
  if (!m) return undefined;
  // A rule's own keys were checked with the rule; the default's are checked here.
  if (p.endsWith('.default')) r.keys(p, m, ['auto', 'deny', ...APPROVAL_KEYS]);
  const approvalKeys = Object.fromEntries(Object.entries(m).filter(([k]) => (APPROVAL_KEYS as readonly string[]).includes(k)));
  const given = ['auto', 'deny', 'approval'].filter((k) => (k === 'approval' ? Object.keys(approvalKeys).length > 0 : m[k] !== undefined));
  if (given.length !== 1) return r.fail(p, given.length === 0 ? 'says nothing to do: give approvers: / stages:, auto: true, or deny: <reason>' : 'set only one of auto:, deny:, or approvers: / stages:');
  if (m.auto !== undefined) return m.auto === 'true' ? { kind: 'auto' } : r.fail(`${p}.auto`, `${show(m.auto)} is not true (write auto: true, or leave it out)`);
  if (m.deny !== undefined) {
    const reason = r.str(`${p}.deny`, m.deny, 'the reason the requester is told, e.g. "contractors may not hold production access"');
    return reason === undefined ? undefined : { kind: 'deny', reason };
  }
  const parsed = approval(r, p, approvalKeys);
  if (!parsed) return undefined;
  ownersAt.push(...parsed.ownersAt);
  return parsed.policy;
}

function when(r: Reader, p: string, raw: unknown, { durations, grant, instances, onCall }: RoleFacts): Conditions | undefined {
  const m = r.map(p, raw, `a map of conditions (${oneOf(WHEN_KEYS)})`);
  if (!m) return undefined;
  r.keys(p, m, WHEN_KEYS);
  const c: Conditions = {};
  let ok = true;
  const needs = (key: string, capability: Capability, what: string): void => {
    const d = grant ? instances.byName.get(grant.connector) : undefined;
    if (grant && d && !hasCapability(d.prototype, capability)) {
      ok = r.fail(`${p}.${key}`, `the role's connector ${grant.connector} (${d.label}) cannot tell ${what}; ${key} rules need a connector that can (okta)`) ?? false;
    }
  };
  if (m.memberOf !== undefined) {
    const v = r.words(`${p}.memberOf`, m.memberOf, 'IdP group ids or names');
    if (v) c.memberOf = v;
    else ok = false;
    needs('memberOf', 'userGroups', "a user's groups");
  }
  for (const attr of ['department', 'title'] as const) {
    if (m[attr] === undefined) continue;
    const v = r.words(`${p}.${attr}`, m[attr], `${attr} values as the IdP profile holds them`);
    if (v) c[attr] = v;
    else ok = false;
    needs(attr, 'userProfile', `a user's ${attr}`);
  }
  if (m.durationOver !== undefined) {
    const ms = r.span(`${p}.durationOver`, m.durationOver);
    if (ms === null || ms === undefined) ok = false;
    else if (durations && !durations.some((d) => d.ms === null || d.ms > ms)) {
      const longest = Math.max(...durations.map((d) => d.ms ?? 0));
      ok = r.fail(`${p}.durationOver`, `can never match: the role's longest duration is ${describeMs(longest)}`) ?? false;
    } else c.durationOverMs = ms;
  }
  if (m.kind !== undefined) {
    const v = r.words(`${p}.kind`, m.kind, oneOf(REQUEST_KINDS));
    const bad = v?.find((k) => !(REQUEST_KINDS as readonly string[]).includes(k));
    if (bad !== undefined) ok = r.fail(`${p}.kind`, `"${bad}" is not a request kind (${oneOf(REQUEST_KINDS)}${suggest(bad, REQUEST_KINDS)})`) ?? false;
    else if (v) c.kind = v as RequestKind[];
    else ok = false;
  }
  if (m.hours !== undefined) {
    const h = hours(r, `${p}.hours`, m.hours);
    if (h) c.hours = h;
    else ok = false;
  }
  if (m.onCall !== undefined) {
    const o = onCallCondition(r, `${p}.onCall`, m.onCall, onCall);
    if (o) c.onCall = o;
    else ok = false;
  }
  return ok ? c : undefined;
}

/** Schedule ids as each service writes them. */
const SCHEDULE_ID: Record<OnCallServiceType, { re: RegExp; hint: string }> = {
  pagerduty: { re: /^[A-Z0-9]{5,20}$/, hint: 'a PagerDuty schedule id like P1ABCDE (the last part of the schedule’s URL, …/schedules/P1ABCDE)' },
  'jsm-ops': { re: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, hint: 'a JSM Operations schedule id, a UUID (Operations → On-call schedules → the schedule → its id in the URL)' },
};

/** `onCall: { pagerduty: P1ABCDE }` (or a list of schedules): one on-call service, its schedule ids. */
function onCallCondition(r: Reader, p: string, raw: unknown, configured: readonly OnCallServiceType[] | undefined): OnCallCondition | undefined {
  const example = 'a map naming one on-call service and its schedule ids, e.g. { pagerduty: P1ABCDE } or { jsm-ops: [<schedule id>, …] }';
  const m = r.map(p, raw, example);
  if (!m) return undefined;
  const keys = Object.keys(m);
  if (keys.length !== 1) return r.fail(p, keys.length === 0 ? `names no on-call service (${oneOf(ON_CALL_TYPES)})` : `names ${keys.length} on-call services; a condition tests one (write one rule per service)`);
  const service = keys[0]!;
  if (!isOnCallType(service)) return r.fail(`${p}.${service}`, `"${service}" is not an on-call service (${oneOf(ON_CALL_TYPES)}${suggest(service, ON_CALL_TYPES)})`);
  const schedules = r.words(`${p}.${service}`, m[service], SCHEDULE_ID[service].hint);
  if (!schedules) return undefined;
  const bad = schedules.find((s) => !SCHEDULE_ID[service].re.test(s));
  if (bad !== undefined) return r.fail(`${p}.${service}`, `"${bad}" is not ${SCHEDULE_ID[service].hint}`);
  if (configured && !configured.includes(service)) return r.fail(`${p}.${service}`, `${ON_CALL_SERVICES[service]} is not configured (${ON_CALL_SETUP[service]})`);
  return { service, schedules: [...new Set(schedules)] };
}

function hours(r: Reader, p: string, raw: unknown): WorkingHours | undefined {
  const m = r.map(p, raw, "a map with tz:, from:, to: and days:, e.g. { tz: Europe/Paris, from: '09:00', to: '18:00', days: [mon, tue, wed, thu, fri] }");
  if (!m) return undefined;
  r.keys(p, m, HOURS_KEYS);
  let tz = r.str(`${p}.tz`, m.tz, 'an IANA time zone, e.g. Europe/Paris');
  if (tz !== undefined && !validZone(tz)) tz = r.fail(`${p}.tz`, `"${tz}" is not an IANA time zone (e.g. Europe/Paris, America/New_York, UTC)`);
  const time = (k: 'from' | 'to'): number | undefined => {
    const s = r.str(`${p}.${k}`, m[k], "a time like '09:00'");
    const t = s === undefined ? undefined : /^([01][0-9]|2[0-3]):([0-5][0-9])$/.exec(s);
    if (s !== undefined && !t) return r.fail(`${p}.${k}`, `"${s}" is not a time like '09:00' (24-hour, quoted)`);
    return t ? Number(t[1]) * 60 + Number(t[2]) : undefined;
  };
  const fromMin = time('from');
  const toMin = time('to');
  if (fromMin !== undefined && fromMin === toMin) return r.fail(p, 'can never match: from and to are the same time (an empty window)');
  const days = m.days === undefined ? r.fail(`${p}.days`, 'required (e.g. [mon, tue, wed, thu, fri])') : r.words(`${p}.days`, m.days, 'days like mon, tue');
  const bad = days?.find((d) => !(WEEKDAYS as readonly string[]).includes(d.toLowerCase()));
  if (bad !== undefined) return r.fail(`${p}.days`, `"${bad}" is not a day (${oneOf(WEEKDAYS)})`);
  if (tz === undefined || fromMin === undefined || toMin === undefined || !days) return undefined;
  return { tz, fromMin, toMin, days: [...new Set(days.map((d) => d.toLowerCase() as Weekday))] };
}

/** `notify:` targets: Slack channels (#name or an id) or emails. */
function notifyList(r: Reader, p: string, raw: unknown): string[] | undefined {
  const v = r.words(p, raw, 'Slack channels (#name or id) or emails');
  const bad = v?.find((t) => !(t.startsWith('#') || /^[CG][A-Z0-9]{6,}$/.test(t) || EMAIL_RE.test(t)));
  if (bad !== undefined) return r.fail(p, `"${bad}" is not a Slack channel (#name or a channel id) nor an email`);
  return v?.map((t) => (t.includes('@') ? t.toLowerCase() : t));
}

function validZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
