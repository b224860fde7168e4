/**
 * Listing who holds each reviewed role, one page per `review.list` effect: the connector's
 * MemberListing (members access-bot never granted included), each page recorded in the
 * transaction that marks its effect done, the next page enqueued there. A rate limit or an
 * outage is the outbox's to wait out (the connector's RetryableError carries the service's
 * hint; Okta's rate gate holds calls once its budget is used up), and a crash resumes at the
 * page that was not recorded. A group that cannot be listed fails the review, on its issue.
 */
import { recommend, type LastLogin } from '../domain/accessReview.js';
import { PermanentError } from '../outbox/errors.js';
import { connectorWith } from './connectors.js';
import type { Deps, InTx } from './context.js';
import { enqueue, type EffectOf, type Skipped } from './effects.js';
import { hasCapability, type IdpMember } from './ports/idp.js';
import type { NewReviewItem } from './ports/reviews.js';
import { failCampaign, recordReviewStep } from './reviewRecord.js';

/** Members asked for per page (Okta allows up to 1000; 200 keeps each answer and transaction small). */
export const REVIEW_LIST_PAGE = 200;

export type ReviewListDeps = Deps<'store' | 'reviews' | 'now' | 'catalog' | 'connectors' | 'adminChannel'>;

export interface ListedPage {
  members: IdpMember[];
  next?: string;
}

export async function runListPage(ctx: ReviewListDeps, e: EffectOf<'review.list'>): Promise<ListedPage | Skipped> {
  const c = ctx.reviews.getCampaign(e.campaignId);
  if (!c || c.state !== 'listing') return { skipped: `the review is ${c?.state ?? 'missing'}` };
  const role = c.roles[e.role];
  if (!role) return { skipped: `the review has no role ${e.role}` };
  const connector = connectorWith(ctx.connectors, role.connector, 'memberListing');
  const page = await connector.listMembers(role.group, e.cursor === undefined ? { size: REVIEW_LIST_PAGE } : { cursor: e.cursor, size: REVIEW_LIST_PAGE });
  // The last sign-in the listing did not carry, from the connector when it can say.
  if (hasCapability(connector, 'loginActivity')) {
    for (const m of page.members) {
      if (m.lastLoginAt !== undefined) continue;
      try {
        m.lastLoginAt = await connector.lastLoginOf(m.id);
      } catch (err) {
        // A service that cannot say for good (Entra without the licence sign-in activity needs, a
        // member gone since the listing) leaves the last login unknown: the review goes on.
        if (err instanceof PermanentError) break;
        throw err;
      }
    }
  }
  return page.next === undefined ? { members: page.members } : { members: page.members, next: page.next };
}

export function listPageDone(ctx: InTx<ReviewListDeps>, e: EffectOf<'review.list'>, result: ListedPage | Skipped): void {
  if ('skipped' in result) return;
  const c = ctx.reviews.getCampaign(e.campaignId);
  if (!c || c.state !== 'listing') return;
  const role = c.roles[e.role]!;
  const now = ctx.now();
  const items: NewReviewItem[] = result.members.map((m) => {
    const grants = ctx.reviews.activeGrantsOf(role.connector, role.group, m.id);
    const record = ctx.store.getMembership(role.connector, role.group, m.id);
    const lastLogin: LastLogin = m.lastLoginAt === undefined ? { known: false } : { known: true, at: m.lastLoginAt };
    const advice = recommend({ lastLogin, now, inactiveAfterMs: c.policy.inactiveAfterMs, source: role.connector });
    return {
      campaignId: c.id,
      roleId: role.id,
      roleName: role.name,
      connector: role.connector,
      groupId: role.group,
      idpUserId: m.id,
      email: m.email?.toLowerCase() ?? null,
      name: m.displayName ?? null,
      title: m.profile?.title ?? null,
      department: m.profile?.department ?? null,
      manager: m.profile?.manager ?? null,
      lastLoginKnown: lastLogin.known,
      lastLoginAt: lastLogin.known ? lastLogin.at : null,
      // The grant that ends last is the one the person holds the access by.
      grantRequestId: grants.at(-1) ?? null,
      // access-bot's ownership record says whether the membership is only the bot's (ARCHITECTURE.md §1.5).
      standing: record?.owned !== true,
      recommendation: advice.action,
      recommendationWhy: advice.why,
    };
  });
  ctx.reviews.insertItems(items);
  if (result.next !== undefined) {
    enqueue(ctx.store, { kind: 'review.list', campaignId: c.id, role: e.role, cursor: result.next });
    return;
  }
  const counts = ctx.reviews.roleCounts(c.id, role.id);
  recordReviewStep(ctx, c.id, {
    type: 'review_listed',
    role: role.name,
    connector: role.connector,
    group: role.group,
    members: counts.members,
    granted: counts.granted,
    standing: counts.members - counts.granted,
  });
  enqueue(ctx.store, e.role + 1 < c.roles.length ? { kind: 'review.list', campaignId: c.id, role: e.role + 1 } : { kind: 'review.open', campaignId: c.id });
}

export function listDead(ctx: InTx<ReviewListDeps>, e: EffectOf<'review.list'>, error: Error): void {
  const c = ctx.reviews.getCampaign(e.campaignId);
  const role = c?.roles[e.role];
  if (!c || !role) return;
  failCampaign(ctx, c.id, `the members of ${role.connector} group ${role.group} (${role.name}) could not be listed: ${error.message}`);
}
