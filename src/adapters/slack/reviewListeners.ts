/**
 * The listeners of access reviews: Keep (recorded before the ack), Revoke (refused before the
 * ack when the clicker may not decide, else the reason modal, opened after the ack), the reason
 * modal's submission (recorded before the ack), and the page buttons of a reviewer's message.
 * Who may decide is the use case's to say (app/reviewDecide.ts), at click time.
 */
import type { Logger } from 'pino';
import type { AppContext } from '../../app/context.js';
import { decideReviewItem, refuseIfMayNotReview, turnReviewPage } from '../../app/reviewDecide.js';
import type { SlackApi } from './api.js';
import type { SlackListenerRegistry } from './inbound.js';
import { IDS } from './blocks.js';
import { openView, reasonProblem, replyOf, selected, type AfterAck, type StateValues } from './listeners.js';
import { parseReviewValue, REVIEW_IDS, revokeReasonModal } from './reviewBlocks.js';

function buttonValue(body: { actions?: unknown[] }): unknown {
  const action = body.actions?.[0];
  return typeof action === 'object' && action !== null ? (action as { value?: unknown }).value : undefined;
}

export function registerReviewListeners(app: SlackListenerRegistry, ctx: AppContext, slack: SlackApi, logger: Logger, later: AfterAck): void {
  app.action(REVIEW_IDS.keep, async ({ ack, body }) => {
    const target = parseReviewValue(buttonValue(body));
    if (!target) {
      await ack();
      logger.warn({ user: body.user.id }, 'review Keep without a valid review row');
      return;
    }
    // Recorded before the ack (the account lookup is bounded, the transaction synchronous).
    const actor = await ctx.people.slackActor(body.user.id);
    decideReviewItem(ctx, { campaignId: target.campaignId, seq: target.n, actor, decision: 'keep', reply: replyOf(body) });
    await ack();
  });

  app.action(REVIEW_IDS.revoke, async ({ ack, body }) => {
    const target = parseReviewValue(buttonValue(body));
    if (!target) {
      await ack();
      logger.warn({ user: body.user.id }, 'review Revoke without a valid review row');
      return;
    }
    const actor = await ctx.people.slackActor(body.user.id);
    // A refusal is recorded before the ack; the modal opens after it.
    const refused = refuseIfMayNotReview(ctx, { campaignId: target.campaignId, seq: target.n, actor, decision: 'revoke', reply: replyOf(body) });
    await ack();
    if (refused) return;
    const c = ctx.reviews.getCampaign(target.campaignId)!;
    const item = ctx.reviews.getItem(target.campaignId, target.n)!;
    later(() => openView(slack, logger, body.trigger_id, revokeReasonModal(c, item), 'review revoke modal', { campaign: c.id, seq: item.seq }));
  });

  app.view(REVIEW_IDS.revokeModal, async ({ ack, body, view }) => {
    const target = parseReviewValue(view.private_metadata);
    const reason = selected(view.state?.values as StateValues | undefined, IDS.reason)?.trim() ?? '';
    if (!target) {
      await ack();
      logger.warn({ user: body.user.id }, 'review revoke modal with a tampered review row');
      return;
    }
    const problem = reasonProblem(reason, 'Say why (at least 3 characters): it goes on the review’s Jira issue.');
    if (problem) {
      await ack({ response_action: 'errors', errors: { [IDS.reason]: problem } });
      return;
    }
    const actor = await ctx.people.slackActor(body.user.id);
    // A modal submission has no response_url: a refusal is told by DM. Recorded before the ack.
    decideReviewItem(ctx, { campaignId: target.campaignId, seq: target.n, actor, decision: 'revoke', reason, reply: { user: body.user.id } });
    await ack();
  });

  for (const id of [REVIEW_IDS.previous, REVIEW_IDS.next]) {
    app.action(id, async ({ ack, body }) => {
      const target = parseReviewValue(buttonValue(body));
      // Only the reviewer's own message turns: the page is theirs (app/reviewDecide.ts).
      if (target) turnReviewPage(ctx, { campaignId: target.campaignId, page: target.n, actorSlackId: body.user.id });
      await ack();
    });
  }
}
