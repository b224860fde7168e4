import { randomBytes } from 'node:crypto';
import { describeDuration } from '../domain/duration.js';
import { validateSubmission, type FormField, type Submission } from '../domain/submission.js';
import type { AppContext } from './context.js';
import { enqueue } from './effects.js';
import type { RequestRecord } from './ports/store.js';

export interface SubmitInput extends Submission {
  requesterSlackId: string;
  /** The Slack view id: submitting the same modal twice makes one request. */
  submissionKey: string;
}

export type SubmitResult = { ok: true; request: RequestRecord; duplicate: boolean } | { ok: false; errors: Partial<Record<FormField, string>> };

export function newRequestId(): string {
  return `req_${randomBytes(9).toString('base64url')}`;
}

/**
 * Records a new request: validated against the catalog, stored as pending with its audit event,
 * and routing enqueued. Who the requester is (email, name) and who approves are resolved by the
 * `request.route` effect, because those are Slack and IdP calls.
 */
export function submitRequest(ctx: AppContext, input: SubmitInput): SubmitResult {
  const v = validateSubmission(ctx.catalog(), input);
  if (!v.ok) return v;
  return ctx.store.tx(() => {
    const existing = ctx.store.findBySubmissionKey(input.submissionKey);
    if (existing) return { ok: true, request: existing, duplicate: true };
    const now = ctx.now();
    const id = newRequestId();
    // Known by Slack id only until routing asks Slack for the email (outside this transaction).
    const requester = ctx.people.forSlackUser(input.requesterSlackId, now);
    ctx.store.insertRequest({
      id,
      submissionKey: input.submissionKey,
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
    });
    const r = ctx.store.getRequest(id)!;
    // The Jira comment for this step is enqueued once the issue can be created (after routing).
    ctx.store.appendAudit(r.id, now, input.requesterSlackId, {
      type: 'requested',
      actor: { personId: requester.id, slackId: input.requesterSlackId },
      app: v.app.name,
      role: v.role.name,
      duration: describeDuration(v.duration),
      reason: v.reason,
    });
    enqueue(ctx.store, { kind: 'request.route', requestId: id, stage: 0 });
    return { ok: true, request: r, duplicate: false };
  });
}

