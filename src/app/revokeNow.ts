/**
 * Ending a grant before it expires: the requester gives access back, or one of the request's
 * approvers takes it away. Recorded as "Access revoked (by …)".
 */
import { who } from '../domain/steps.js';
import { actorOf, type AppContext } from './context.js';
import type { ReplyTarget } from './decide.js';
import { enqueue } from './effects.js';
import { startRevocation } from './revoke.js';

export type RevokeNowResult = { ok: true } | { ok: false; code: string; message: string };

export function revokeNow(ctx: AppContext, input: { requestId: string; actorSlackId: string; reply: ReplyTarget }): RevokeNowResult {
  return ctx.store.tx(() => {
    const r = ctx.store.getRequest(input.requestId);
    const refuse = (code: string, message: string): RevokeNowResult => {
      if (r) ctx.store.appendAudit(r.id, ctx.now(), input.actorSlackId, { type: 'decision_refused', actor: { slackId: input.actorSlackId }, code });
      enqueue(ctx.store, { kind: 'slack.ephemeral', user: input.reply.user, channel: input.reply.channel, responseUrl: input.reply.responseUrl, text: message });
      return { ok: false, code, message };
    };
    if (!r) return refuse('unknown_request', 'This request does not exist (any more).');
    const approver = ctx.store.approversOf(r.id).find((a) => a.slackId === input.actorSlackId);
    const isRequester = r.requesterSlackId === input.actorSlackId;
    if (!isRequester && !approver) return refuse('not_allowed', 'Only the requester or an approver of this request can revoke it.');
    if (r.state !== 'active') return refuse('not_active', r.state === 'revoking' || r.state === 'revoked' ? 'This access is already being revoked or was revoked.' : 'This access is not active.');
    const by = isRequester ? who(actorOf(r)) : who({ slackId: approver!.slackId, email: approver!.email, name: approver!.name ?? undefined });
    startRevocation(ctx, r.id, 'manual', by);
    return { ok: true };
  });
}
