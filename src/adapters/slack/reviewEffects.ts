/**
 * Runs the review.post / review.update / review.remind effects: a reviewer's one message,
 * rendered from the review as it is when the effect runs (so a burst of decisions is shown by
 * one update), and reminders in its thread.
 */
import { alertAdmins, inTx, type Deps } from '../../app/context.js';
import { asEffect } from '../../app/effects.js';
import type { ReviewerRecord } from '../../app/ports/reviews.js';
import type { TxStore } from '../../app/ports/store.js';
import { personActor, recordReviewStep } from '../../app/reviewRecord.js';
import { pageOf } from '../../domain/accessReview.js';
import type { EffectHandler } from '../../outbox/dispatcher.js';
import type { SlackGateway, SlackMessage } from './client.js';
import { reviewMessage, reviewReminder } from './reviewBlocks.js';

export type ReviewSlackDeps = Deps<'store' | 'reviews' | 'now' | 'catalog' | 'adminChannel'>;

export function reviewSlackHandlers(ctx: ReviewSlackDeps, slack: SlackGateway): Record<string, EffectHandler<TxStore>> {
  /** The reviewer's message as it is now, or why there is none to send. */
  const render = (campaignId: string, personId: number): { r: ReviewerRecord; msg: SlackMessage } | { skipped: string } => {
    const c = ctx.reviews.getCampaign(campaignId);
    const r = ctx.reviews.reviewerOf(campaignId, personId);
    if (!c || !r?.slackId) return { skipped: 'no reviewer in Slack' };
    const counts = ctx.reviews.assignedCount(c.id, personId);
    const page = pageOf(counts.rows, r.page);
    const rows = ctx.reviews.assignedRows(c.id, personId, page.from, page.to - page.from);
    return { r, msg: reviewMessage({ campaign: c, rows, page, counts, now: ctx.now() }) };
  };
  return {
    'review.post': {
      async run(row) {
        const e = asEffect('review.post', row.payload);
        const m = render(e.campaignId, e.personId);
        if ('skipped' in m) return m;
        // Escalated to someone who already has a message: it is updated instead.
        if (m.r.channel && m.r.ts) {
          await slack.update(m.r.channel, m.r.ts, m.msg);
          return { channel: m.r.channel, ts: m.r.ts };
        }
        return slack.postDm(m.r.slackId!, m.msg);
      },
      onDone(row, result) {
        const e = asEffect('review.post', row.payload);
        const posted = result as { channel?: string; ts?: string };
        // The review store writes in the transaction recording the outcome (one connection).
        if (posted.channel && posted.ts) ctx.reviews.setReviewerMessage(e.campaignId, e.personId, posted.channel, posted.ts);
      },
      onDead(row, error, tx) {
        const e = asEffect('review.post', row.payload);
        const c = inTx(ctx, tx);
        const person = tx.getPerson(e.personId);
        if (person) recordReviewStep(c, e.campaignId, { type: 'review_unreachable', reviewer: personActor(person), why: `their review message could not be sent: ${error.message}` });
        alertAdmins(c, `The access review message to ${person?.email ?? `person ${e.personId}`} (review ${e.campaignId}) could not be sent: ${error.message}. Fix the cause and retry the dead effect.`);
      },
    },
    'review.update': {
      async run(row) {
        const e = asEffect('review.update', row.payload);
        const m = render(e.campaignId, e.personId);
        if ('skipped' in m) return m;
        if (!m.r.channel || !m.r.ts) return { skipped: 'no message to update' };
        await slack.update(m.r.channel, m.r.ts, m.msg);
        return undefined;
      },
    },
    'review.remind': {
      async run(row) {
        const e = asEffect('review.remind', row.payload);
        const c = ctx.reviews.getCampaign(e.campaignId);
        const r = ctx.reviews.reviewerOf(e.campaignId, e.personId);
        const undecided = c && r ? ctx.reviews.assignedCount(c.id, r.personId).undecided : 0;
        if (!c || c.state !== 'open' || !r?.channel || !r.ts || undecided === 0) return { skipped: 'nothing to remind' };
        return slack.post(r.channel, reviewReminder(c, undecided), r.ts);
      },
    },
  };
}
