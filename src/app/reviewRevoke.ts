/**
 * A revoke decision of an access review, carried out like any revocation, through the outbox.
 *
 * The decision ends every active grant of access-bot that holds the membership (each on its own
 * issue, "Access revoked (by … in access review ACC-7)", where membership.ts's ownership rules
 * decide whether that grant's revocation removes the membership). Then `review.revoke`, queued
 * behind them in the membership's own queue, removes what is left: for standing access, which
 * access-bot never granted, the approved review decision is the authority to remove it. It
 * removes nothing a grant approved since the decision needs (that grant is a newer authority),
 * and lands on the review's issue either way.
 *
 * Standing access inactivity reclaim has recorded (a request of origin `standing`, app/reclaim.ts)
 * is not a grant: the review's own removal takes it away, as standing access, and its record ends
 * with it ("Access revoked (by … in access review ACC-7)" on the record's issue). The record is
 * claimed (`revoking`) with the decision, so reclaim does not also revoke it.
 */
import { forgetsOwnership } from '../domain/membership.js';
import { personText } from '../domain/reviewSteps.js';
import { connectorFor } from './connectors.js';
import { alertAdmins, type Deps, type InTx } from './context.js';
import { enqueue, type EffectOf, type Skipped } from './effects.js';
import type { CampaignRecord, ReviewItem } from './ports/reviews.js';
import type { RequestRecord } from './ports/store.js';
import { finishRevocation, markRevoking, startRevocation } from './revoke.js';
import { completeIfDone, recordReviewStep, refreshMessages, reviewedPerson, type ReviewTx } from './reviewRecord.js';

export type ReviewRevokeDeps = Deps<'store' | 'reviews' | 'now' | 'catalog' | 'connectors' | 'adminChannel'>;

export interface ReviewRevokeResult {
  removed: boolean;
}

/** Inside the decision's transaction: ends the grants, then enqueues the removal behind them. `by`: who decided, in words. */
export function startItemRevocation(ctx: ReviewTx, c: CampaignRecord, item: ReviewItem, by: string): void {
  const revokedBy = `${by} in access review ${c.jiraKey ?? c.id}`;
  const grants = ctx.reviews.activeGrantsOf(item.connector, item.groupId, item.idpUserId);
  for (const id of grants) startRevocation(ctx, id, 'manual', revokedBy);
  const standing: string[] = [];
  for (const r of ctx.store.activeGrantsOf(item.connector, item.groupId, item.idpUserId, '')) {
    if (r.origin === 'standing' && markRevoking(ctx, r, 'manual', revokedBy)) standing.push(r.id);
  }
  ctx.reviews.updateItem(c.id, item.seq, { revokeState: 'pending' });
  enqueue(ctx.store, { kind: 'review.revoke', campaignId: c.id, seq: item.seq, connector: item.connector, group: item.groupId, idpUserId: item.idpUserId, grants, standing });
}

export async function runReviewRevoke(ctx: ReviewRevokeDeps, e: EffectOf<'review.revoke'>): Promise<ReviewRevokeResult | Skipped> {
  const item = ctx.reviews.getItem(e.campaignId, e.seq);
  // `failed`: an admin retries the dead effect once its cause is fixed.
  if (!item || item.decision !== 'revoke' || (item.revokeState !== 'pending' && item.revokeState !== 'failed')) return { skipped: 'nothing to revoke' };
  // The effects before this one in the queue (the ended grants' revocations) have settled.
  if (ctx.store.otherHoldersOf(e.connector, e.group, e.idpUserId, '') > 0) return { removed: false };
  await connectorFor(ctx, e.connector).removeMember(e.group, e.idpUserId);
  return { removed: true };
}

export function reviewRevokeDone(ctx: InTx<ReviewRevokeDeps>, e: EffectOf<'review.revoke'>, result: ReviewRevokeResult | Skipped): void {
  if ('skipped' in result) return;
  const item = ctx.reviews.getItem(e.campaignId, e.seq);
  if (!item) return;
  const now = ctx.now();
  ctx.reviews.updateItem(e.campaignId, e.seq, { revokeState: result.removed ? 'removed' : 'kept', revokedAt: result.removed ? now : null });
  // The reclaim records of the standing access end with it (claimed with the decision); kept, a
  // grant approved since the decision holds the membership now.
  const standing = (e.standing ?? []).map((id) => ctx.store.getRequest(id)).filter((r): r is RequestRecord => r?.state === 'revoking');
  for (const r of standing) finishRevocation(ctx, r, result.removed ? { removed: true } : { removed: false, keptBecause: 'other_grant' });
  if (result.removed) {
    // The ownership record goes with the membership, as when the last grant's revocation removes it;
    // the user sync's listing stops showing it (reclaim must not find it as standing access again).
    if (forgetsOwnership(ctx.store.otherHoldersOf(e.connector, e.group, e.idpUserId, ''))) ctx.store.deleteMembership(e.connector, e.group, e.idpUserId);
    ctx.store.membershipRemoved(e.connector, e.group, e.idpUserId, now);
  }
  recordReviewStep(ctx, e.campaignId, {
    type: 'review_revoked',
    member: reviewedPerson(item),
    connector: e.connector,
    group: e.group,
    removed: result.removed,
    endedGrants: e.grants.map((id) => ctx.store.getRequest(id)?.jiraKey ?? id),
    ...(standing.length > 0 ? { endedStanding: standing.map((r) => r.jiraKey ?? r.id) } : {}),
    decidedBy: item.decidedBy ?? 'a reviewer',
  });
  refreshMessages(ctx, e.campaignId, e.seq);
  completeIfDone(ctx, e.campaignId);
}

/** The removal failed for good: the person still has access. On the issue and to admins. */
export function reviewRevokeDead(ctx: InTx<ReviewRevokeDeps>, e: EffectOf<'review.revoke'>, error: Error): void {
  const item = ctx.reviews.getItem(e.campaignId, e.seq);
  const c = ctx.reviews.getCampaign(e.campaignId);
  if (!item || !c) return;
  ctx.reviews.updateItem(e.campaignId, e.seq, { revokeState: 'failed' });
  const who = personText(reviewedPerson(item));
  recordReviewStep(ctx, e.campaignId, { type: 'failed', cause: `revoking ${who}'s access (${e.connector} group ${e.group}) failed, the membership is still in place: ${error.message}` });
  alertAdmins(ctx, `Revoking ${who}'s access to ${c.scope} in access review ${c.jiraKey ?? c.id} (${e.connector} group ${e.group}) failed: ${error.message}. The membership is still in place; fix the cause and retry the effect.`);
  refreshMessages(ctx, e.campaignId, e.seq);
  completeIfDone(ctx, e.campaignId);
}
