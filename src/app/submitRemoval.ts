/**
 * Removal and change requests (domain/removal.ts), from Slack's forms (adapters/slack/kindListeners.ts)
 * or raised in Jira (app/jiraIntake.ts). Recorded like any request (app/submitRequest.ts
 * `recordNewRequest`): routed by the role's policy, whose rules see the kind. A removal is routed
 * by the policy of the role it removes; a change by the policy of the role it asks for.
 */
import type { Role } from '../domain/catalog.js';
import { parseDuration, type Duration } from '../domain/duration.js';
import { validateChange, validateRemoval, type ChangeField, type ChangeForm, type Holding, type RemovalField, type RemovalForm } from '../domain/removal.js';
import type { Actor } from '../domain/steps.js';
import type { InTx } from './context.js';
import type { RequestRecord, TxStore } from './ports/store.js';
import { newRequestId, recordNewRequest, roleTarget, type SubmitDeps } from './submitRequest.js';

/** Who asks: a Slack user, or a Jira account (a request raised in Jira); routing learns their email. */
export type RequesterIdentity = { slackId: string } | { accountId: string };

interface Common {
  requester: RequesterIdentity;
  /** Submitting the same form (or the same Jira issue) twice makes one request. */
  submissionKey: string;
  /** The roles the requester holds, when the form listed them (Slack); absent: not checked here. */
  holdings?: readonly Holding[];
  /** A request raised in Jira: its issue is its record (and the request may carry its reserved id). */
  jira?: { key: string; requestId?: string };
}

export interface RemovalOpts extends RemovalForm, Common {
  /** Whose access, when not the requester's own (a removal raised in Jira may name someone, by accountId). */
  subject?: Subject;
}

export type Subject = { email: string; name?: string } | { accountId: string };

export type ChangeOpts = ChangeForm & Common;

export type RemovalResult = { ok: true; request: RequestRecord; duplicate: boolean } | { ok: false; errors: Partial<Record<RemovalField, string>> };
export type ChangeResult = { ok: true; request: RequestRecord; duplicate: boolean } | { ok: false; errors: Partial<Record<ChangeField, string>> };

/** A removal asks for no time; it is stored as permanent and never shown with a duration. */
const NO_TIME = parseDuration('permanent')!;

export function submitRemoval(deps: SubmitDeps, opts: RemovalOpts): RemovalResult {
  const v = validateRemoval(deps.catalog(), opts, opts.holdings);
  if (!v.ok) return v;
  return deps.store.tx((store) => recordOnce({ ...deps, store }, opts, { kind: 'removal', role: v.role, app: v.app, duration: NO_TIME, reason: v.reason, ...(opts.subject ? { subject: opts.subject } : {}) }));
}

export function submitChange(deps: SubmitDeps, opts: ChangeOpts): ChangeResult {
  const v = validateChange(deps.catalog(), opts, opts.holdings);
  if (!v.ok) return v;
  return deps.store.tx((store) => recordOnce({ ...deps, store }, opts, { kind: 'change', role: v.role, app: v.app, duration: v.duration, reason: v.reason, from: v.from }));
}

interface KindRecord {
  kind: 'removal' | 'change';
  app: Parameters<typeof roleTarget>[0];
  role: Role;
  duration: Duration;
  reason: string;
  from?: Role;
  subject?: Subject;
}

/** One request per submission key, inside the caller's transaction: the same form (or issue) submitted twice makes one. */
export function recordOnce(ctx: InTx<SubmitDeps>, opts: Common, k: KindRecord): { ok: true; request: RequestRecord; duplicate: boolean } {
  const existing = ctx.store.findBySubmissionKey(opts.submissionKey);
  if (existing) return { ok: true, request: existing, duplicate: true };
  const now = ctx.now();
  const { person, actor, label } = requesterOf(ctx, ctx.store, opts.requester, now);
  // Emergency access is taken at once with an alert; giving it up or trading it is not an emergency.
  const target = { ...roleTarget(k.app, k.role), breakGlassNotify: null };
  const request = recordNewRequest(ctx.store, {
    id: opts.jira?.requestId ?? newRequestId(),
    submissionKey: opts.submissionKey,
    target,
    duration: k.duration,
    reason: k.reason,
    requesterId: person,
    actor,
    actorLabel: label,
    now,
    kind: k.kind,
    ...(opts.jira ? { jiraKey: opts.jira.key } : {}),
    ...(k.from ? { from: k.from } : {}),
    // Someone's own removal is not someone else's.
    ...(k.subject && !isPerson(ctx.store, person, k.subject) ? { subject: k.subject } : {}),
  });
  return { ok: true, request, duplicate: false };
}

function requesterOf(ctx: Pick<InTx<SubmitDeps>, 'people'>, store: TxStore, who: RequesterIdentity, now: number): { person: number; actor: Actor; label: string } {
  if ('slackId' in who) {
    const p = ctx.people.forSlackUser(store, who.slackId, now);
    return { person: p.id, actor: { personId: p.id, slackId: who.slackId }, label: who.slackId };
  }
  const p = ctx.people.forJiraAccount(store, who.accountId, now);
  return { person: p.id, actor: { personId: p.id, ...(p.email ? { email: p.email } : {}) }, label: `jira:${who.accountId}` };
}

/** Whether the subject named is the requester themself. */
function isPerson(store: TxStore, person: number, subject: Subject): boolean {
  const p = store.getPerson(person);
  return 'accountId' in subject ? p?.atlassianAccountId === subject.accountId : p?.email === subject.email.trim().toLowerCase();
}
