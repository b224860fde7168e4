/**
 * Runs the inactivity warning's effects: the DM with Keep it (`slack.reclaimWarning`) and its
 * update once settled (`slack.reclaimWarningUpdate`). The holder of standing access may never
 * have used access-bot: when their Slack id is not known yet they are found by email
 * (users.lookupByEmail), and what Slack said is recorded on the person.
 */
import type { Deps } from '../../app/context.js';
import { asEffect } from '../../app/effects.js';
import type { TxStore } from '../../app/ports/store.js';
import type { EffectHandler } from '../../outbox/dispatcher.js';
import type { SlackGateway } from './client.js';
import { reclaimWarning } from './reclaimBlocks.js';

export type ReclaimEffectDeps = Deps<'store' | 'now'>;

export function reclaimHandlers(ctx: ReclaimEffectDeps, slack: SlackGateway): Record<string, EffectHandler<TxStore>> {
  return {
    'slack.reclaimWarning': {
      async run(row) {
        const e = asEffect('slack.reclaimWarning', row.payload);
        const r = ctx.store.getRequest(e.requestId);
        // Kept, used or revoked since it was enqueued: the warning would be wrong.
        if (!r || r.state !== 'active' || r.reclaimAt !== e.revokeAt) return { skipped: 'the warning was settled before it was sent' };
        const found = r.requesterSlackId ? undefined : r.requesterEmail ? await slack.lookupByEmail(r.requesterEmail) : undefined;
        const slackId = r.requesterSlackId ?? found?.slackId;
        if (!slackId) return { skipped: 'the holder is not in Slack' };
        const posted = await slack.postDm(slackId, reclaimWarning(r, e.revokeAt));
        return { ...posted, slackId, ...(found ? { name: found.name } : {}) };
      },
      onDone(row, result, tx) {
        const e = asEffect('slack.reclaimWarning', row.payload);
        const posted = result as { channel?: string; ts?: string; slackId?: string; name?: string };
        const r = tx.getRequest(e.requestId);
        if (!r || !posted.channel || !posted.ts) return;
        const now = ctx.now();
        // Found by email: the person now has their Slack id, so their Keep it click is recognised.
        if (!r.requesterSlackId && posted.slackId && r.requesterEmail) tx.recordPerson({ email: r.requesterEmail, slackId: posted.slackId, ...(posted.name ? { name: posted.name } : {}) }, now);
        tx.setSurfaceRef({ requestId: r.id, surface: 'slack', purpose: 'reclaim_warning', personId: r.requesterId, channel: posted.channel, ts: posted.ts }, now);
      },
    },
    'slack.reclaimWarningUpdate': {
      async run(row) {
        const r = ctx.store.getRequest(asEffect('slack.reclaimWarningUpdate', row.payload).requestId);
        const posted = r && ctx.store.surfaceRef(r.id, 'slack', 'reclaim_warning', 0, r.requesterId);
        if (!r || !posted) return { skipped: 'no warning message' };
        await slack.update(posted.channel, posted.ts, reclaimWarning(r, r.reclaimAt));
        return undefined;
      },
    },
  };
}
