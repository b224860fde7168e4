/**
 * What every access-review use case does inside its transaction: writes a step of the review's
 * story (audit event + Jira comment on the review's issue), keeps reviewers' messages current,
 * keeps the review's next timer, and closes the review with its summary once it is done.
 */
import { isComplete, nextReviewTimer, type ReviewClock } from '../domain/accessReview.js';
import type { ReviewedPerson, ReviewStep } from '../domain/reviewSteps.js';
import { isRecordedInJira, type Actor, type Step } from '../domain/steps.js';
import { alertAdmins, type Tx } from './context.js';
import { enqueue, reviewerQueue, reviewJiraQueue } from './effects.js';
import type { CampaignRecord, ReviewItem, ReviewStore } from './ports/reviews.js';
import type { PersonRecord } from './ports/store.js';

/** What the review's recording helpers use, inside a transaction. */
export type ReviewTx = Pick<Tx, 'store' | 'now' | 'catalog'> & { reviews: ReviewStore; adminChannel?: string };

/**
 * Appends the audit event (under the review's id); steps of the story reach the review's issue
 * through its one waiting sync effect, which writes every step not yet written, in order.
 */
export function recordReviewStep(ctx: Pick<ReviewTx, 'store' | 'now'>, campaignId: string, step: ReviewStep | Extract<Step, { type: 'failed' | 'decision_refused' }>, actor = 'access-bot', at = ctx.now()): number {
  const audit = ctx.store.appendAudit(campaignId, at, actor, step);
  if (isRecordedInJira(step)) syncJira(ctx, campaignId);
  return audit.seq;
}

/**
 * Makes sure a sync of the review's issue waits: none does when the queue's waiting effect is
 * not there (a running sync may have read the steps before this one). The creation is
 * always followed by a sync (app/reviewStart.ts), so a waiting creation covers it too.
 */
export function syncJira(ctx: Pick<ReviewTx, 'store'>, campaignId: string): void {
  if (ctx.store.openEffectIn(reviewJiraQueue(campaignId)) !== 'pending') enqueue(ctx.store, { kind: 'review.jiraSync', campaignId });
}

export function mustGetCampaign(ctx: Pick<ReviewTx, 'reviews'>, id: string): CampaignRecord {
  const c = ctx.reviews.getCampaign(id);
  if (!c) throw new Error(`access review ${id} not found`);
  return c;
}

/** A row's person, as steps name them. */
export function reviewedPerson(item: Pick<ReviewItem, 'name' | 'email' | 'idpUserId'>): ReviewedPerson {
  return { ...(item.name ? { name: item.name } : {}), ...(item.email ? { email: item.email } : {}), idpUserId: item.idpUserId };
}

/** A stored person as a step's actor. */
export function personActor(p: PersonRecord): Actor {
  return { personId: p.id, ...(p.slackId ? { slackId: p.slackId } : {}), ...(p.email ? { email: p.email } : {}), ...(p.name ? { name: p.name } : {}) };
}

export function clockOf(c: CampaignRecord): ReviewClock {
  return {
    startedAt: c.createdAt,
    dueAt: c.dueAt,
    onDue: c.policy.onDue,
    remindBeforeMs: c.policy.remindBeforeMs,
    ...(c.policy.escalateAfterMs !== undefined ? { escalateAfterMs: c.policy.escalateAfterMs } : {}),
    remindedAt: c.remindedAt,
    escalatedAt: c.escalatedAt,
    dueHandledAt: c.dueHandledAt,
  };
}

/** Recomputes when the review's next reminder, escalation or due date falls. */
export function refreshReviewTimer(ctx: ReviewTx, campaignId: string): void {
  const c = mustGetCampaign(ctx, campaignId);
  const next = c.state === 'open' ? nextReviewTimer(ctx.now(), clockOf(c)) : null;
  if (next !== c.nextTimerAt) ctx.reviews.updateCampaign(c.id, { nextTimerAt: next });
}

/**
 * Re-renders the messages of the people who may decide row `seq` (every reviewer of the review
 * without one). At most one update waits per message: a waiting post or update renders the
 * review as it is when it runs, so another would show nothing new.
 */
export function refreshMessages(ctx: ReviewTx, campaignId: string, seq?: number): void {
  const people = seq === undefined ? ctx.reviews.reviewersOf(campaignId).map((r) => r.personId) : ctx.reviews.assigneesOf(campaignId, seq);
  for (const personId of people) refreshMessageOf(ctx, campaignId, personId);
}

export function refreshMessageOf(ctx: Pick<ReviewTx, 'store' | 'reviews'>, campaignId: string, personId: number): void {
  const open = ctx.store.openEffectIn(reviewerQueue(campaignId, personId));
  if (open === 'pending') return;
  const r = ctx.reviews.reviewerOf(campaignId, personId);
  // No message, and none being posted: nothing to update (not in Slack, or the post failed).
  if (!r || (!r.ts && open !== 'running')) return;
  enqueue(ctx.store, { kind: 'review.update', campaignId, personId });
}

/** Closes the review with its summary once every row is decided and every revocation settled. */
export function completeIfDone(ctx: ReviewTx, campaignId: string): boolean {
  const c = mustGetCampaign(ctx, campaignId);
  if (c.state !== 'open' || !ctx.reviews.settled(c.id)) return false;
  const t = ctx.reviews.tally(c.id);
  if (!isComplete(t)) return false;
  const now = ctx.now();
  ctx.reviews.updateCampaign(c.id, { state: 'closed', closedAt: now, nextTimerAt: null });
  recordReviewStep(ctx, c.id, {
    type: 'review_completed',
    total: t.total,
    kept: t.kept,
    revoked: t.revoked,
    keptAtDue: t.keptAtDue,
    revokedAtDue: t.revokedAtDue,
    removed: t.removed,
    keptMembership: t.keptMembership,
    failed: t.failed,
  });
  refreshMessages(ctx, c.id);
  return true;
}

/** The review cannot go on (its members could not be listed): on the issue and to admins. */
export function failCampaign(ctx: ReviewTx, campaignId: string, cause: string): void {
  const c = mustGetCampaign(ctx, campaignId);
  if (c.state === 'failed' || c.state === 'closed') return;
  ctx.reviews.updateCampaign(c.id, { state: 'failed', failure: cause, nextTimerAt: null });
  recordReviewStep(ctx, c.id, { type: 'review_failed', cause });
  alertAdmins(ctx, `The access review of ${c.scope} (${c.jiraKey ?? c.id}) failed: ${cause}. Fix the cause and start the review again (access-bot review start).`);
}
