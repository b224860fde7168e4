/**
 * Recording a new request: validated against the catalog (domain/submission.ts; a bundle:
 * domain/bundle.ts), stored as
 * pending with its audit event, and routing enqueued, in one transaction. Who the requester is
 * (email, name) and who approves are resolved by the `request.route` effect (app/route.ts),
 * because those are directory lookups.
 *
 * A request made for someone else (checked by app/onBehalf.ts first) is that person's request:
 * `requesterSlackId` names them, and the submitter is recorded beside them.
 */
import { randomBytes } from 'node:crypto';
import { bundleIdOf, bundleRoleName, partLabel, validateBundleSubmission, WHOLE_BUNDLE } from '../domain/bundle.js';
import type { Catalog } from '../domain/catalog.js';
import { describeDuration, type Duration } from '../domain/duration.js';
import { validateSubmission, type FormField, type Submission } from '../domain/submission.js';
import type { Deps } from './context.js';
import { enqueue } from './effects.js';
import type { OnBehalfRequest } from './onBehalf.js';
import type { NewRequest, RequestRecord } from './ports/store.js';

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
type Target = Pick<NewRequest, 'appId' | 'roleId' | 'appName' | 'roleName' | 'connector' | 'groupId' | 'policy' | 'breakGlassNotify' | 'bundleParts'>;

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
  const target: Target = {
    appId: v.app.id,
    roleId: v.role.id,
    appName: v.app.name,
    roleName: v.role.name,
    connector: v.role.grant.connector,
    groupId: v.role.grant.group,
    policy: v.role.approval,
    breakGlassNotify: v.role.breakGlass?.notify ?? null,
    bundleParts: null,
  };
  return { ok: true, target, duration: v.duration, reason: v.reason };
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
    const id = newRequestId();
    // Known by Slack id only until routing asks Slack for the email (outside this transaction).
    const requester = deps.people.forSlackUser(store, opts.requesterSlackId, now);
    const by = opts.onBehalf?.submitter;
    const submitter = by ? deps.people.record(store, { slackId: by.slackId, email: by.email, name: by.name }, now) : undefined;
    store.insertRequest({
      id,
      submissionKey: opts.submissionKey,
      ...target,
      durationToken: duration.token,
      durationMs: duration.ms,
      reason,
      requesterId: requester.id,
      createdAt: now,
      nextTimerAt: target.policy.kind === 'stages' && target.policy.timeoutMs !== undefined ? now + target.policy.timeoutMs : null,
      submitterId: submitter?.id ?? null,
      submittedAs: opts.onBehalf?.as ?? null,
    });
    const r = store.getRequest(id)!;
    // The Jira comment for this step is enqueued once the issue can be created (after routing).
    store.appendAudit(r.id, now, by?.slackId ?? opts.requesterSlackId, {
      type: 'requested',
      actor: { personId: requester.id, slackId: opts.requesterSlackId },
      app: target.appName,
      role: target.roleName,
      duration: describeDuration(duration),
      reason,
      ...(target.bundleParts ? { parts: target.bundleParts.map(partLabel) } : {}),
      ...(submitter && by && opts.onBehalf ? { onBehalf: { by: { personId: submitter.id, slackId: by.slackId, email: by.email, name: by.name }, as: opts.onBehalf.as } } : {}),
    });
    enqueue(store, { kind: 'request.route', requestId: id, stage: 0 });
    return { ok: true, request: r, duplicate: false };
  });
}
