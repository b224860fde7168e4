/**
 * Recording a new request: validated against the catalog (domain/submission.ts; a bundle:
 * domain/bundle.ts), stored as
 * pending with its audit event, and routing enqueued, in one transaction. Who the requester is
 * (email, name) and who approves are resolved by the `request.route` effect (app/route.ts),
 * because those are directory lookups.
 *
 * A request made for someone else (checked by app/onBehalf.ts first) is that person's request:
 * `requesterSlackId` names them, and the submitter is recorded beside them. A request raised in
 * Jira is recorded the same way (`recordNewRequest`, from app/jiraIntake.ts), and so are removal
 * and change requests (app/submitRemoval.ts).
 */
import { randomBytes } from 'node:crypto';
import { bundleIdOf, bundleRoleName, partLabel, validateBundleSubmission, WHOLE_BUNDLE } from '../domain/bundle.js';
import type { Application, Catalog, RequestKind, Role } from '../domain/catalog.js';
import { describeDuration, type Duration } from '../domain/duration.js';
import type { OnBehalfBasis } from '../domain/onBehalf.js';
import type { PersonId } from '../domain/people.js';
import type { Actor } from '../domain/steps.js';
import { validateSubmission, type FormField, type Submission } from '../domain/submission.js';
import type { Deps } from './context.js';
import { enqueue } from './effects.js';
import type { OnBehalfRequest } from './onBehalf.js';
import type { NewRequest, RequestRecord, TxStore } from './ports/store.js';

export interface SubmitOpts extends Submission {
  /** Whom the access is for. */
  requesterSlackId: string;
  /** Set when someone else asked for them (app/onBehalf.ts said they may). */
  onBehalf?: OnBehalfRequest;
  /** The Slack view id: submitting the same modal twice makes one request. */
  submissionKey: string;
}

export type SubmitResult = { ok: true; request: RequestRecord; duplicate: boolean } | { ok: false; errors: Partial<Record<FormField, string>> };

export type SubmitDeps = Deps<'store' | 'catalog' | 'now' | 'people'>;

export function newRequestId(): string {
  return `req_${randomBytes(9).toString('base64url')}`;
}

/** What a submission asks for: a role, or a bundle (its parts recorded as they are now). */
export type Target = Pick<NewRequest, 'appId' | 'roleId' | 'appName' | 'roleName' | 'connector' | 'groupId' | 'policy' | 'breakGlassNotify' | 'bundleParts'>;

function targetOf(catalog: Catalog, opts: Submission): { ok: true; target: Target; duration: Duration; reason: string } | { ok: false; errors: Partial<Record<FormField, string>> } {
  if (bundleIdOf(opts.appId) !== undefined) {
    const b = validateBundleSubmission(catalog, opts);
    if (!b.ok) return b;
    const target: Target = {
      appId: b.bundle.id,
      roleId: WHOLE_BUNDLE,
      appName: b.bundle.name,
      roleName: bundleRoleName(b.parts.length),
      // A bundle grants nothing itself: its parts do, once approved (app/bundle.ts).
      connector: '',
      groupId: '',
      policy: b.bundle.approval,
      breakGlassNotify: null,
      bundleParts: b.parts,
    };
    return { ok: true, target, duration: b.duration, reason: b.reason };
  }
  const v = validateSubmission(catalog, opts);
  if (!v.ok) return v;
  return { ok: true, target: roleTarget(v.app, v.role), duration: v.duration, reason: v.reason };
}

/** What a request for one role asks for. */
export function roleTarget(app: Application, role: Role): Target {
  return {
    appId: app.id,
    roleId: role.id,
    appName: app.name,
    roleName: role.name,
    connector: role.grant.connector,
    groupId: role.grant.group,
    policy: role.approval,
    breakGlassNotify: role.breakGlass?.notify ?? null,
    bundleParts: null,
  };
}

/** The form's own problems, by field (an application or a bundle), without recording anything. */
export function formErrors(catalog: Catalog, form: Submission): Partial<Record<FormField, string>> {
  const v = targetOf(catalog, form);
  return v.ok ? {} : v.errors;
}

export function submitRequest(deps: SubmitDeps, opts: SubmitOpts): SubmitResult {
  const v = targetOf(deps.catalog(), opts);
  if (!v.ok) return v;
  const { target, duration, reason } = v;
  return deps.store.tx((store) => {
    const existing = store.findBySubmissionKey(opts.submissionKey);
    if (existing) return { ok: true, request: existing, duplicate: true };
    const now = deps.now();
    // Known by Slack id only until routing asks Slack for the email (outside this transaction).
    const requester = deps.people.forSlackUser(store, opts.requesterSlackId, now);
    const by = opts.onBehalf?.submitter;
    const submitter = by ? deps.people.record(store, { slackId: by.slackId, email: by.email, name: by.name }, now) : undefined;
    const r = recordNewRequest(store, {
      id: newRequestId(),
      submissionKey: opts.submissionKey,
      target,
      duration,
      reason,
      requesterId: requester.id,
      actor: { personId: requester.id, slackId: opts.requesterSlackId },
      actorLabel: by?.slackId ?? opts.requesterSlackId,
      now,
      ...(submitter && by && opts.onBehalf
        ? { submitter: { id: submitter.id, as: opts.onBehalf.as, actor: { personId: submitter.id, slackId: by.slackId, email: by.email, name: by.name } } }
        : {}),
    });
    return { ok: true, request: r, duplicate: false };
  });
}

export interface NewRequestOpts {
  id: string;
  /** What makes a second submission of the same thing the same request (a Slack view id; `jira:<issue id>`). */
  submissionKey: string;
  /** A role (`roleTarget`) or a bundle. */
  target: Target;
  duration: Duration;
  reason: string;
  requesterId: PersonId;
  /** The requester as the audit event names them, and the audit row's actor. */
  actor: Actor;
  actorLabel: string;
  now: number;
  /** Set for a request raised in Jira (its issue is its record). */
  jiraKey?: string;
  /** Set when someone else asked for the requester (app/onBehalf.ts): who, on what basis. */
  submitter?: { id: PersonId; as: OnBehalfBasis; actor: Actor };
  /** A removal or a change (app/submitRemoval.ts); absent: access. */
  kind?: RequestKind;
  /** A change: the role it leaves. */
  from?: Role;
  /** A removal of someone else's access: whose (by email, or by the Jira account that named them). */
  subject?: { email: string; name?: string } | { accountId: string };
}

/**
 * Records a validated request as pending, with its `requested` audit event, and enqueues its
 * routing, in the caller's transaction. The Jira comment for the step is enqueued once the
 * requester is identified (routing opens the record).
 */
export function recordNewRequest(store: TxStore, o: NewRequestOpts): RequestRecord {
  const { target, duration, now } = o;
  store.insertRequest({
    id: o.id,
    submissionKey: o.submissionKey,
    ...target,
    durationToken: duration.token,
    durationMs: duration.ms,
    reason: o.reason,
    requesterId: o.requesterId,
    createdAt: now,
    nextTimerAt: target.policy.kind === 'stages' && target.policy.timeoutMs !== undefined ? now + target.policy.timeoutMs : null,
    submitterId: o.submitter?.id ?? null,
    submittedAs: o.submitter?.as ?? null,
    ...(o.kind ? { kind: o.kind } : {}),
    ...(o.from ? { fromRoleId: o.from.id, fromRoleName: o.from.name, fromConnector: o.from.grant.connector, fromGroupId: o.from.grant.group } : {}),
    ...(o.subject ? ('accountId' in o.subject ? { subjectAccountId: o.subject.accountId } : { subjectEmail: o.subject.email, subjectName: o.subject.name ?? null }) : {}),
  });
  if (o.jiraKey) store.updateRequest(o.id, { jiraKey: o.jiraKey }, now);
  store.appendAudit(o.id, now, o.actorLabel, {
    type: 'requested',
    actor: o.actor,
    app: target.appName,
    role: target.roleName,
    duration: describeDuration(duration),
    reason: o.reason,
    ...(target.bundleParts ? { parts: target.bundleParts.map(partLabel) } : {}),
    ...(o.submitter ? { onBehalf: { by: o.submitter.actor, as: o.submitter.as } } : {}),
    ...(o.jiraKey ? { raisedIn: 'jira' as const } : {}),
    ...(o.kind && o.kind !== 'access' ? { kind: o.kind } : {}),
    ...(o.from ? { from: o.from.name } : {}),
    ...(o.subject ? { subject: 'accountId' in o.subject ? { name: `Jira account ${o.subject.accountId}` } : { email: o.subject.email, ...(o.subject.name ? { name: o.subject.name } : {}) } } : {}),
  });
  enqueue(store, { kind: 'request.route', requestId: o.id, stage: 0 });
  return store.getRequest(o.id)!;
}
