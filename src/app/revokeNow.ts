/**
 * Ending a grant before it expires: the requester gives access back, or one of the request's
 * approvers takes it away. Recorded as "Access revoked (by …)". Who may is `canRevoke`, against
 * the catalog as it is at click time.
 */
import { canRevoke } from '../domain/approval.js';
import { findRole } from '../domain/catalog.js';
import { who } from '../domain/steps.js';
import { actorRefusal, type ActorLookup } from './actor.js';
import { actorOf, type AppContext } from './context.js';
import type { ReplyTarget } from './decide.js';
import { enqueue } from './effects.js';
import { approverActor } from './people.js';
import { startRevocation } from './revoke.js';

export type RevokeNowResult = { ok: true } | { ok: false; code: string; message: string };

export function revokeNow(ctx: AppContext, input: { requestId: string; actorSlackId: string; actor: ActorLookup; reply: ReplyTarget }): RevokeNowResult {
  return ctx.store.tx(() => {
    const r = ctx.store.getRequest(input.requestId);
    const refuse = (code: string, message: string): RevokeNowResult => {
      if (r) ctx.store.appendAudit(r.id, ctx.now(), input.actorSlackId, { type: 'decision_refused', actor: { slackId: input.actorSlackId }, code });
      enqueue(ctx.store, { kind: 'slack.ephemeral', user: input.reply.user, channel: input.reply.channel, responseUrl: input.reply.responseUrl, text: message });
      return { ok: false, code, message };
    };
    if (!r) return refuse('unknown_request', 'This request does not exist (any more).');
    const mine = ctx.store.approversOf(r.id).filter((a) => a.slackId === input.actorSlackId);
    const found = findRole(ctx.catalog(), r.appId, r.roleId);
    const right = canRevoke({
      actorSlackId: input.actorSlackId,
      requesterSlackId: r.requesterSlackId,
      asApprover: mine,
      now: { policy: found?.role.approval, owners: found?.app.owners ?? [] },
    });
    // Giving one's own access back never widens access, so the requester's account is not checked.
    const refusal = right.ok && right.as === 'requester' ? undefined : actorRefusal(ctx, input.actor, 'decide');
    if (refusal) return refuse(refusal.code, refusal.message);
    if (!right.ok) {
      return right.code === 'no_longer_listed'
        ? refuse('no_longer_listed', 'You are no longer an approver of this request: the access catalog changed since you were asked, so you cannot revoke it.')
        : refuse('not_allowed', 'Only the requester or an approver of this request can revoke it.');
    }
    if (r.state !== 'active') return refuse('not_active', r.state === 'revoking' || r.state === 'revoked' ? 'This access is already being revoked or was revoked.' : 'This access is not active.');
    const me = mine[0];
    const by = right.as === 'requester' || !me ? who(actorOf(r)) : who(approverActor(me));
    startRevocation(ctx, r.id, 'manual', by);
    return { ok: true };
  });
}
