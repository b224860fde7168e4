/**
 * Recording a new request: validated against the catalog (domain/submission.ts), stored as
 * pending with its audit event, and routing enqueued, in one transaction. Who the requester is
 * (email, name) and who approves are resolved by the `request.route` effect (app/route.ts),
 * because those are directory lookups.
 *
 * A request made for someone else (checked by app/onBehalf.ts first) is that person's request:
 * `requesterSlackId` names them, and the submitter is recorded beside them.
 */
import { randomBytes } from 'node:crypto';
import { describeDuration } from '../domain/duration.js';
import { validateSubmission, type FormField, type Submission } from '../domain/submission.js';
import type { Deps } from './context.js';
import { enqueue } from './effects.js';
import type { OnBehalfRequest } from './onBehalf.js';
import type { RequestRecord } from './ports/store.js';

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

export function submitRequest(deps: SubmitDeps, opts: SubmitOpts): SubmitResult {
  const v = validateSubmission(deps.catalog(), opts);
  if (!v.ok) return v;
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
      appId: v.app.id,
      roleId: v.role.id,
      appName: v.app.name,
      roleName: v.role.name,
      connector: v.role.grant.connector,
      groupId: v.role.grant.group,
      durationToken: v.duration.token,
      durationMs: v.duration.ms,
      reason: v.reason,
      policy: v.role.approval,
      requesterId: requester.id,
      createdAt: now,
      breakGlassNotify: v.role.breakGlass?.notify ?? null,
      nextTimerAt: v.role.approval.kind === 'stages' && v.role.approval.timeoutMs !== undefined ? now + v.role.approval.timeoutMs : null,
      submitterId: submitter?.id ?? null,
      submittedAs: opts.onBehalf?.as ?? null,
    });
    const r = store.getRequest(id)!;
    // The Jira comment for this step is enqueued once the issue can be created (after routing).
    store.appendAudit(r.id, now, by?.slackId ?? opts.requesterSlackId, {
      type: 'requested',
      actor: { personId: requester.id, slackId: opts.requesterSlackId },
      app: v.app.name,
      role: v.role.name,
      duration: describeDuration(v.duration),
      reason: v.reason,
      ...(submitter && by && opts.onBehalf ? { onBehalf: { by: { personId: submitter.id, slackId: by.slackId, email: by.email, name: by.name }, as: opts.onBehalf.as } } : {}),
    });
    enqueue(store, { kind: 'request.route', requestId: id, stage: 0 });
    return { ok: true, request: r, duplicate: false };
  });
}
