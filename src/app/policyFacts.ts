/**
 * Approval rules at routing time (catalog `approval: { rules, default }`): the facts a role's
 * rules test are learned here, from the role's connector (its groups and profile) and the on-call
 * services (app/onCall.ts), and the pure rule engine (domain/policy.ts) picks the policy. Routing
 * (app/route.ts), `access-bot policy explain` and `access-bot check`'s sample are the callers;
 * all only read.
 *
 * A look-up that fails is not retried here and not fatal: the fact is unknown, a rule that needs
 * it does not match, and the record says so (the engine refuses to auto-approve past such a rule).
 */
import type { Logger } from 'pino';
import { findRole, type ApprovalPolicy, type PolicyRules, type RequestKind, type Role } from '../domain/catalog.js';
import { transition } from '../domain/lifecycle.js';
import { describeSchedule, onCallKey, shiftAt, type OnCallMatch, type OnCallServiceType, type Roster } from '../domain/onCall.js';
import { formatTime } from '../domain/steps.js';
import { choosePolicy, type IdpGroup, type Known, type PolicyChoice, type PolicyFacts } from '../domain/policy.js';
import { RetryableError } from '../outbox/errors.js';
import { notifyRequester, recordStep, transitionIssue, type Deps, type InTx } from './context.js';
import { enqueue } from './effects.js';
import type { OnCallLookup } from './onCall.js';
import { hasCapability, type IdpConnector, type IdpUser } from './ports/idp.js';
import type { RequestRecord } from './ports/store.js';

export interface FactsDeps {
  connectors: Readonly<Record<string, IdpConnector>>;
  logger: Pick<Logger, 'warn'>;
  /** Rosters of on-call schedules, remembered for a minute. */
  onCall: Pick<OnCallLookup, 'roster'>;
}

export interface FactsRequest {
  email: string;
  durationMs: number | null;
  kind: RequestKind;
  now: number;
}

/** What the role's rules need to know about the requester, looked up only when a rule tests it. */
export async function gatherFacts(deps: FactsDeps, role: Pick<Role, 'rules'>, req: FactsRequest): Promise<PolicyFacts> {
  const rules = role.rules;
  const needsGroups = rules?.rules.some((r) => r.when.memberOf) ?? false;
  const needsProfile = rules?.rules.some((r) => r.when.department ?? r.when.title) ?? false;
  const facts: PolicyFacts = {
    kind: req.kind,
    durationMs: req.durationMs,
    now: req.now,
    groups: { known: false, why: 'not looked up' },
    profile: { known: false, why: 'not looked up' },
    email: req.email,
  };
  if (!rules) return facts;
  const [, onCall] = await Promise.all([idpFacts(deps, rules, req.email, facts, needsGroups, needsProfile), rosters(deps, rules)]);
  if (onCall.size > 0) facts.onCall = onCall;
  return facts;
}

/** The rosters of every schedule the rules name, looked up together. */
async function rosters(deps: FactsDeps, rules: PolicyRules): Promise<Map<string, Known<Roster>>> {
  const wanted = new Map<string, { service: OnCallServiceType; schedule: string }>();
  for (const r of rules.rules) {
    const c = r.when.onCall;
    if (!c) continue;
    for (const schedule of c.schedules) wanted.set(onCallKey(c.service, schedule), { service: c.service, schedule });
  }
  const found = await Promise.all([...wanted].map(async ([key, w]) => [key, await deps.onCall.roster(w.service, w.schedule)] as const));
  return new Map(found);
}

async function idpFacts(deps: FactsDeps, rules: PolicyRules, email: string, facts: PolicyFacts, needsGroups: boolean, needsProfile: boolean): Promise<void> {
  if (!needsGroups && !needsProfile) return;
  const user = await idpUser(deps, rules, email);
  if (!user.known) {
    facts.groups = user;
    facts.profile = user;
    return;
  }
  const c = deps.connectors[rules.factsFrom];
  if (needsGroups) {
    facts.groups = await known(deps, email, 'groups', () => (c && hasCapability(c, 'userGroups') ? c.groupsOf(user.value.id) : lacks(rules, 'list groups')));
  }
  if (needsProfile) {
    facts.profile = await known(deps, email, 'profile', () => (c && hasCapability(c, 'userProfile') ? c.profileOf(user.value.id) : lacks(rules, 'read profiles')));
  }
}

function lacks(rules: PolicyRules, what: string): never {
  throw new Error(`the ${rules.factsFrom} connector cannot ${what}`);
}

async function idpUser(deps: FactsDeps, rules: PolicyRules, email: string): Promise<Known<IdpUser>> {
  const c = deps.connectors[rules.factsFrom];
  if (!c || !hasCapability(c, 'userDirectory')) return { known: false, why: `the ${rules.factsFrom} connector is not configured to look users up` };
  const found = await known(deps, email, 'user', () => c.findUserByEmail(email));
  if (found.known && !found.value) return { known: false, why: `${rules.factsFrom} has no user ${email}` };
  return found as Known<IdpUser>;
}

async function known<T>(deps: FactsDeps, email: string, fact: string, look: () => Promise<T>): Promise<Known<T>> {
  try {
    return { known: true, value: await look() };
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    deps.logger.warn({ requester: email, fact, err: why }, 'could not learn a fact approval rules test; rules that need it do not match');
    return { known: false, why };
  }
}

/** Gathers the facts and picks the rule: what `policy explain` prints and routing applies. */
export async function explainPolicy(deps: FactsDeps, role: Pick<Role, 'approval' | 'rules'>, req: FactsRequest): Promise<{ facts: PolicyFacts; choice: PolicyChoice }> {
  const facts = await gatherFacts(deps, role, req);
  return { facts, choice: choosePolicy(role, facts) };
}

/** Each on-call schedule the rules name, as a line: who asked is on call until when, is not, or it is unknown. */
export function describeOnCall(facts: PolicyFacts): string[] {
  const lines: string[] = [];
  for (const [key, roster] of facts.onCall ?? []) {
    const [service, schedule] = splitKey(key);
    const where = describeSchedule(service, schedule, roster.known ? roster.value.scheduleName : undefined);
    if (!roster.known) lines.push(`on call in ${where}: unknown (${roster.why})`);
    else {
      const shift = facts.email === undefined ? undefined : shiftAt(roster.value, facts.email, facts.now);
      lines.push(`on call in ${where}: ${shift ? (shift.end === null ? 'yes, with no end' : `yes, until ${formatTime(shift.end)}`) : 'no'}`);
    }
  }
  return lines;
}

function splitKey(key: string): [OnCallServiceType, string] {
  const at = key.indexOf(':');
  return [key.slice(0, at) as OnCallServiceType, key.slice(at + 1)];
}

/** The groups as a line, for `policy explain`. */
export function describeGroups(groups: Known<readonly IdpGroup[]>): string {
  if (!groups.known) return `unknown (${groups.why})`;
  return groups.value.length ? groups.value.map((g) => (g.name ? `${g.name} (${g.id})` : g.id)).join(', ') : 'none';
}

/** The rule routing applied: the request's policy from now on, and whom to tell. */
export interface AppliedPolicy {
  policy: ApprovalPolicy;
  label: string;
  /** `notify:` targets as written, with the Slack id (or channel) each message goes to; none: not found. */
  notify: { target: string; to?: string }[];
  unknown: string[];
  /** The on-call shift the rule matched on: the grant ends no later than its end. */
  onCall?: OnCallMatch;
}

export type RulesDeps = FactsDeps & Deps<'catalog' | 'now' | 'people'>;

/**
 * The facts for a request whose role has rules, once, when it is first routed (an extension keeps
 * its `extend:` policy); undefined when rules do not apply to it.
 */
export async function ruleFacts(ctx: RulesDeps, r: RequestRecord, stage: number, email: string): Promise<PolicyFacts | undefined> {
  if (stage !== 0 || r.extendsId || r.policy.rule !== undefined) return undefined;
  const role = findRole(ctx.catalog(), r.appId, r.roleId)?.role;
  if (!role?.rules) return undefined;
  // A removal asks for no time: no `durationOver` holds for it (zero is over nothing).
  return gatherFacts(ctx, role, { email, durationMs: r.kind === 'removal' ? 0 : r.durationMs, kind: r.kind, now: ctx.now() });
}

/**
 * Picks the rule for the facts and finds the Slack targets of its `notify:`. Never auto-approves
 * because a fact was unknown: that is retried (RetryableError), and fails the request when it stays so.
 */
export async function pickRule(ctx: RulesDeps, r: RequestRecord, facts: PolicyFacts | undefined): Promise<AppliedPolicy | undefined> {
  const role = facts && findRole(ctx.catalog(), r.appId, r.roleId)?.role;
  if (!facts || !role) return undefined;
  const choice = choosePolicy(role, facts);
  if (choice.kind === 'undecided') throw new RetryableError(`the approval rules cannot be decided now: ${choice.why}`, undefined, 'policy_undecided');
  const notify: AppliedPolicy['notify'] = [];
  for (const target of choice.notify) {
    if (!target.includes('@')) notify.push({ target, to: target });
    else notify.push({ target, to: (await ctx.people.byEmail(target))?.slackId });
  }
  return { policy: choice.policy, label: choice.label, notify, unknown: choice.unknown, ...(choice.onCall ? { onCall: choice.onCall } : {}) };
}

/** Records the rule on the request (its policy from now on) and tells `notify:`, inside routing's transaction. */
export function recordPolicy(ctx: InTx<Deps<'store' | 'now' | 'logger'>>, r: RequestRecord, applied: AppliedPolicy | undefined): void {
  if (!applied) return;
  const now = ctx.now();
  // Access given because someone is on call lasts no longer than their shift (domain/onCall.ts grantEnd).
  ctx.store.updateRequest(r.id, { policy: applied.policy, ...(applied.onCall?.end != null ? { endsBy: applied.onCall.end } : {}) }, now);
  const notified = applied.notify.filter((n) => n.to).map((n) => n.target);
  recordStep(
    ctx,
    r,
    { type: 'policy_applied', rule: applied.label, notified: notified.length ? notified : undefined, unknown: applied.unknown.length ? applied.unknown : undefined, onCall: applied.onCall },
    'policy',
    now,
  );
  const text = `For your information (no action needed): ${r.requesterName ?? r.requesterEmail ?? 'someone'} asked for ${r.appName} / ${r.roleName} (${r.durationToken}) — "${r.reason}". Policy: ${applied.label}.`;
  for (const n of applied.notify) {
    if (n.to) enqueue(ctx.store, { kind: 'slack.alert', channel: n.to, text, requestId: r.id });
    else ctx.logger.warn({ requestId: r.id, notify: n.target }, 'a notify: target of the approval rule has no Slack account; not told');
  }
}

/** A rule said deny: the request is refused by policy, with the rule's reason. */
export function denyByPolicy(ctx: InTx<Deps<'store' | 'now' | 'catalog'>>, r: RequestRecord, reason: string): void {
  const now = ctx.now();
  ctx.store.updateRequest(r.id, { state: transition(r.state, 'deny'), decidedAt: now, decidedBy: 'policy', nextTimerAt: null }, now);
  recordStep(ctx, r, { type: 'denied', actor: { name: 'policy' }, reason }, 'policy', now);
  transitionIssue(ctx, r, 'denied');
  notifyRequester(ctx, r, { type: 'denied', by: 'policy', reason });
}
