/**
 * Runs the slack.* outbox effects. Messages are rendered from the request as it is when sent;
 * every text app/ gave (alerts, ephemeral replies) is plain and escaped in blocks.ts.
 */
import { inTx, type Deps } from '../../app/context.js';
import { approverUnreachable } from '../../app/escalate.js';
import { asEffect } from '../../app/effects.js';
import { warningExtension } from '../../app/extend.js';
import { describeLeft } from '../../app/requestView.js';
import type { TxStore } from '../../app/ports/store.js';
import type { EffectHandler } from '../../outbox/dispatcher.js';
import { approvalCard, breakGlassAlert, expiryWarning, reminderText, requesterNotice, submitterNotice, textMessage } from './blocks.js';
import type { SlackGateway } from './client.js';

/** What the Slack effects touch (an undeliverable approver DM may fail the request: app/escalate.ts). */
export type SlackEffectDeps = Deps<'store' | 'now' | 'catalog' | 'adminChannel' | 'logger'>;

/** `onDone` / `onDead` write through `tx`, the handle of the transaction recording the outcome. */
export function slackHandlers(ctx: SlackEffectDeps, slack: SlackGateway): Record<string, EffectHandler<TxStore>> {
  const request = (id: string) => ctx.store.getRequest(id);
  return {
    'slack.requesterDm': {
      async run(row) {
        const e = asEffect('slack.requesterDm', row.payload);
        const r = request(e.requestId);
        if (!r) return { skipped: 'request missing' };
        if (!r.requesterSlackId) return { skipped: 'the requester is not in Slack' };
        return slack.postDm(r.requesterSlackId, requesterNotice(r, e.notice));
      },
      onDone(row, result, tx) {
        const e = asEffect('slack.requesterDm', row.payload);
        const posted = result as { channel?: string; ts?: string };
        // The confirmation is updated once the Jira key exists; the grant notice loses its
        // Revoke button when the grant ends.
        const purpose = e.notice.type === 'submitted' ? 'requester_dm' : e.notice.type === 'granted' ? 'grant_notice' : undefined;
        const r = purpose && posted.channel && posted.ts ? tx.getRequest(e.requestId) : undefined;
        if (purpose && r && posted.channel && posted.ts) {
          tx.setSurfaceRef({ requestId: r.id, surface: 'slack', purpose, personId: r.requesterId, channel: posted.channel, ts: posted.ts }, ctx.now());
        }
      },
    },
    'slack.submitterDm': {
      async run(row) {
        const r = request(asEffect('slack.submitterDm', row.payload).requestId);
        if (!r?.submitterSlackId) return { skipped: 'nobody asked on the requester\'s behalf in Slack' };
        return slack.postDm(r.submitterSlackId, submitterNotice(r));
      },
    },
    'slack.requesterConfirmationUpdate': {
      async run(row) {
        const e = asEffect('slack.requesterConfirmationUpdate', row.payload);
        const r = request(e.requestId);
        const posted = r && ctx.store.surfaceRef(r.id, 'slack', 'requester_dm', 0, r.requesterId);
        if (!r || !posted) return { skipped: 'no confirmation message' };
        await slack.update(posted.channel, posted.ts, requesterNotice(r, { type: 'submitted' }));
        return undefined;
      },
    },
    'slack.requesterGrantUpdate': {
      async run(row) {
        const e = asEffect('slack.requesterGrantUpdate', row.payload);
        const r = request(e.requestId);
        const posted = r && ctx.store.surfaceRef(r.id, 'slack', 'grant_notice', 0, r.requesterId);
        if (!r || !posted || r.expiresAt === undefined) return { skipped: 'no grant message' };
        await slack.update(posted.channel, posted.ts, requesterNotice(r, { type: 'granted', expiresAt: r.expiresAt }));
        return undefined;
      },
    },
    'slack.expiryWarning': {
      async run(row) {
        const e = asEffect('slack.expiryWarning', row.payload);
        const r = request(e.requestId);
        // An extension or a revocation since it was enqueued makes the warning wrong: not sent.
        if (!r || r.state !== 'active' || r.expiresAt !== e.expiresAt) return { skipped: 'the grant ended or its expiry moved' };
        if (!r.requesterSlackId) return { skipped: 'the holder is not in Slack' };
        return slack.postDm(r.requesterSlackId, expiryWarning(r, e.expiresAt, describeLeft(e.expiresAt - ctx.now()), warningExtension(ctx.catalog(), r)));
      },
    },
    'slack.approverDm': {
      async run(row) {
        const e = asEffect('slack.approverDm', row.payload);
        const r = request(e.requestId);
        const all = ctx.store.approversOf(e.requestId);
        const me = all.find((a) => a.stage === e.stage && a.slackId === e.slackId);
        if (!r || !me) return { skipped: 'approver missing' };
        return slack.postDm(e.slackId, approvalCard(r, me, all));
      },
      onDone(row, result, tx) {
        const e = asEffect('slack.approverDm', row.payload);
        const posted = result as { channel?: string; ts?: string };
        const me = tx.approversOf(e.requestId, e.stage).find((a) => a.slackId === e.slackId);
        if (me && posted.channel && posted.ts) {
          tx.setSurfaceRef({ requestId: e.requestId, surface: 'slack', purpose: 'approver_card', stage: e.stage, personId: me.personId, channel: posted.channel, ts: posted.ts }, ctx.now());
        }
      },
      onDead(row, error, tx) {
        const e = asEffect('slack.approverDm', row.payload);
        approverUnreachable(inTx(ctx, tx), e.requestId, e.stage, e.slackId, error);
      },
    },
    'slack.approverUpdate': {
      async run(row) {
        const e = asEffect('slack.approverUpdate', row.payload);
        const r = request(e.requestId);
        const all = ctx.store.approversOf(e.requestId);
        const me = all.find((a) => a.stage === e.stage && a.slackId === e.slackId);
        if (!r || !me?.dmChannel || !me.dmTs) return { skipped: 'no approver message to update' };
        await slack.update(me.dmChannel, me.dmTs, approvalCard(r, me, all));
        return undefined;
      },
    },
    'slack.approverReminder': {
      async run(row) {
        const e = asEffect('slack.approverReminder', row.payload);
        const r = request(e.requestId);
        const me = ctx.store.approversOf(e.requestId, e.stage).find((a) => a.slackId === e.slackId);
        if (!r || r.state !== 'pending' || !me?.dmChannel || !me.dmTs || me.decision) return { skipped: 'nothing to remind' };
        // In the thread of the original request, so the buttons are one tap away.
        return slack.post(me.dmChannel, reminderText(r), me.dmTs);
      },
    },
    'slack.breakGlassAlert': {
      async run(row) {
        const r = request(asEffect('slack.breakGlassAlert', row.payload).requestId);
        if (!r?.breakGlassNotify) return { skipped: 'not break-glass' };
        return slack.post(r.breakGlassNotify, breakGlassAlert(r));
      },
      onDone(row, result, tx) {
        const e = asEffect('slack.breakGlassAlert', row.payload);
        const posted = result as { channel?: string; ts?: string };
        if (posted.channel && posted.ts) tx.setSurfaceRef({ requestId: e.requestId, surface: 'slack', purpose: 'break_glass_alert', channel: posted.channel, ts: posted.ts }, ctx.now());
      },
    },
    'slack.breakGlassAlertUpdate': {
      async run(row) {
        const r = request(asEffect('slack.breakGlassAlertUpdate', row.payload).requestId);
        const alert = r && ctx.store.surfaceRef(r.id, 'slack', 'break_glass_alert');
        if (!r || !alert) return { skipped: 'no alert to update' };
        await slack.update(alert.channel, alert.ts, breakGlassAlert(r));
        return undefined;
      },
    },
    'slack.ephemeral': {
      async run(row) {
        const e = asEffect('slack.ephemeral', row.payload);
        const sent = await slack.ephemeral(e, textMessage(e.text));
        if (sent.refusedResponseUrl) {
          ctx.logger.warn({ effect: row.id, user: e.user, origin: sent.refusedResponseUrl, via: sent.via }, "a response_url that is not Slack's was not contacted; replied another way");
        }
        return sent;
      },
    },
    'slack.alert': {
      async run(row) {
        const e = asEffect('slack.alert', row.payload);
        return slack.post(e.channel, textMessage(e.text));
      },
    },
  };
}
