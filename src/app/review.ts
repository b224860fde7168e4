/**
 * The follow-up review of break-glass access: someone in the alert channel acknowledges it with
 * the Reviewed button. Recorded once, on the Jira issue; the requester can't review their own.
 */
import type { Actor } from '../domain/steps.js';
import { recordStep, type AppContext } from './context.js';
import type { ReplyTarget } from './decide.js';
import { enqueue } from './effects.js';

export type ReviewResult = { ok: true } | { ok: false; code: string; message: string };

export function reviewBreakGlass(ctx: AppContext, input: { requestId: string; actor: Actor & { slackId: string }; reply: ReplyTarget }): ReviewResult {
  return ctx.store.tx(() => {
    const r = ctx.store.getRequest(input.requestId);
    const refuse = (code: string, message: string): ReviewResult => {
      if (r) ctx.store.appendAudit(r.id, ctx.now(), input.actor.slackId, { type: 'decision_refused', actor: input.actor, code });
      enqueue(ctx.store, { kind: 'slack.ephemeral', user: input.reply.user, channel: input.reply.channel, responseUrl: input.reply.responseUrl, text: message });
      return { ok: false, code, message };
    };
    if (!r || !r.breakGlassNotify) return refuse('unknown_request', 'This is not a break-glass request.');
    if (r.requesterSlackId === input.actor.slackId) return refuse('self_review', 'You cannot review your own emergency access.');
    if (r.reviewedAt) return refuse('already_reviewed', `This emergency access was already reviewed by ${r.reviewedBy ?? 'someone'}.`);
    const now = ctx.now();
    const by = input.actor.name ?? input.actor.slackId;
    ctx.store.updateRequest(r.id, { reviewedAt: now, reviewedBy: by }, now);
    recordStep(ctx, r, { type: 'reviewed', actor: input.actor }, input.actor.slackId, now);
    enqueue(ctx.store, { kind: 'slack.breakGlassAlertUpdate', requestId: r.id });
    return { ok: true };
  });
}
