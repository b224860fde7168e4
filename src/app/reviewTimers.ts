/**
 * An access review over time, on the routing timers' tick (jobs/routing.ts) and its injected
 * clock: reminders before the due date, escalation of undecided rows to the reviewer's manager,
 * the due date (undecided rows follow the review's `onDue`), and the catalog's schedules that
 * start reviews. Each review is handled in its own transaction.
 */
import { escalationTargets, isSelf, reviewDue, scheduleDue, type ReviewerCandidate } from '../domain/accessReview.js';
import { NAMED_AT_MOST } from '../domain/reviewSteps.js';
import type { Actor } from '../domain/steps.js';
import type { Deps } from './context.js';
import { enqueue } from './effects.js';
import type { CampaignRecord } from './ports/reviews.js';
import type { PersonRecord } from './ports/store.js';
import { clockOf, completeIfDone, mustGetCampaign, personActor, recordReviewStep, refreshMessageOf, refreshMessages, refreshReviewTimer, reviewedPerson, type ReviewTx } from './reviewRecord.js';
import { startItemRevocation } from './reviewRevoke.js';
import { listingProblemIn, scheduleStarter, startReview } from './reviewStart.js';

export type ReviewTimersDeps = Deps<'store' | 'reviews' | 'now' | 'catalog' | 'adminChannel'>;

/** Handles the reviews whose next timer is due (one pass, at most `batch`). Returns how many. */
export function runDueReviews(ctx: ReviewTimersDeps, batch = 50): number {
  const due = ctx.reviews.campaignTimersDue(ctx.now(), batch);
  for (const c of due) ctx.store.tx((store) => applyReviewTimers({ ...ctx, store }, c.id));
  return due.length;
}

function applyReviewTimers(ctx: ReviewTx, id: string): void {
  const c = mustGetCampaign(ctx, id);
  if (c.state === 'open') {
    const now = ctx.now();
    const due = reviewDue(now, clockOf(c));
    if (due.due) {
      applyOnDue(ctx, c);
    } else {
      if (due.escalate) {
        ctx.reviews.updateCampaign(c.id, { escalatedAt: now });
        escalate(ctx, c, false);
      }
      if (due.remind) {
        ctx.reviews.updateCampaign(c.id, { remindedAt: now });
        remind(ctx, c);
      }
    }
  }
  refreshReviewTimer(ctx, id);
  completeIfDone(ctx, id);
}

/** Reviewers with undecided rows are reminded in their message's thread. */
function remind(ctx: ReviewTx, c: CampaignRecord): void {
  const reminded: Actor[] = [];
  for (const r of ctx.reviews.reviewersOf(c.id)) {
    if (!r.ts || ctx.reviews.assignedCount(c.id, r.personId).undecided === 0) continue;
    enqueue(ctx.store, { kind: 'review.remind', campaignId: c.id, personId: r.personId });
    reminded.push(personActor(ctx.store.getPerson(r.personId)!));
  }
  if (reminded.length > 0) recordReviewStep(ctx, c.id, { type: 'review_reminded', reviewers: reminded, undecided: ctx.reviews.tally(c.id).undecided });
}

/**
 * Each reviewer's undecided rows are also asked of their manager (resolved when the review
 * opened), else of the review's fallback; never a row of the escalated-to person themselves.
 */
function escalate(ctx: ReviewTx, c: CampaignRecord, atDue: boolean): void {
  const now = ctx.now();
  const candidate = (p: PersonRecord): ReviewerCandidate => ({ email: p.email ?? '' });
  const fallback = c.policy.fallback.map((e) => ctx.store.personByEmail(e)).filter((p): p is PersonRecord => Boolean(p?.slackId));
  for (const r of ctx.reviews.reviewersOf(c.id)) {
    if (r.via === 'escalation') continue;
    const undecided = ctx.reviews.undecidedOf(c.id, r.personId);
    if (undecided.length === 0) continue;
    const me = ctx.store.getPerson(r.personId)!;
    const manager = r.managerPersonId === null ? undefined : ctx.store.getPerson(r.managerPersonId);
    const chosen = escalationTargets(candidate(me), manager?.slackId ? candidate(manager) : undefined, fallback.map(candidate));
    const targets = chosen.map((t) => ctx.store.personByEmail(t.email)).filter((p): p is PersonRecord => p !== undefined);
    if (targets.length === 0) {
      recordReviewStep(ctx, c.id, { type: 'review_escalation_impossible', from: personActor(me), people: undecided.length });
      continue;
    }
    for (const t of targets) {
      const had = ctx.reviews.reviewerOf(c.id, t.id);
      for (const item of undecided) {
        const idpUserId = ctx.store.idpUserIdOf(t.id, item.connector);
        if (!isSelf({ email: t.email ?? '', ...(idpUserId ? { idpUserId } : {}) }, item)) ctx.reviews.assign(c.id, item.seq, t.id, 'escalation', now);
      }
      ctx.reviews.addReviewer({ campaignId: c.id, personId: t.id, via: 'escalation', managerPersonId: null, askedAt: now });
      if (had) refreshMessageOf(ctx, c.id, t.id);
      else enqueue(ctx.store, { kind: 'review.post', campaignId: c.id, personId: t.id });
    }
    recordReviewStep(ctx, c.id, { type: 'review_escalated', from: personActor(me), to: targets.map(personActor), people: undecided.length, atDue });
  }
}

/** The due date: undecided rows are kept, revoked, or escalated, as the review's `onDue` says. */
function applyOnDue(ctx: ReviewTx, c: CampaignRecord): void {
  const now = ctx.now();
  const { onDue } = c.policy;
  const undecided = ctx.reviews.undecidedItems(c.id);
  ctx.reviews.updateCampaign(c.id, { dueHandledAt: now });
  recordReviewStep(ctx, c.id, { type: 'review_due_passed', onDue, undecided: undecided.length, members: undecided.slice(0, NAMED_AT_MOST).map(reviewedPerson) });
  if (onDue === 'escalate') {
    if (undecided.length > 0) escalate(ctx, c, true);
  } else {
    const by = `policy (onDue: ${onDue})`;
    for (const item of undecided) {
      ctx.reviews.updateItem(c.id, item.seq, { decision: onDue, decidedVia: 'on_due', decidedBy: by, decidedAt: now });
      if (onDue === 'revoke') startItemRevocation(ctx, c, item, by);
    }
  }
  refreshMessages(ctx, c.id);
}

export type ReviewScheduleDeps = Deps<'store' | 'reviews' | 'catalog' | 'now' | 'connectors' | 'logger'>;

/**
 * The catalog's `reviews: { every }`: a review of the scope starts when none started within
 * `every` (the first one when the schedule is first seen). Looked at once a minute.
 */
export class ReviewSchedules {
  private nextCheckAt = Number.NEGATIVE_INFINITY;
  /** Scopes whose start was refused, logged once until one starts. */
  private readonly refused = new Set<string>();

  constructor(
    private readonly ctx: ReviewScheduleDeps,
    private readonly checkEveryMs = 60_000,
  ) {}

  /** Starts the scheduled reviews that are due; returns how many started. */
  tick(): number {
    const { ctx } = this;
    const now = ctx.now();
    if (now < this.nextCheckAt) return 0;
    this.nextCheckAt = now + this.checkEveryMs;
    let started = 0;
    for (const app of ctx.catalog().applications) {
      const scopes: { roleId?: string; everyMs: number }[] = [];
      if (app.reviews?.everyMs !== undefined && app.roles.some((r) => !r.reviews)) scopes.push({ everyMs: app.reviews.everyMs });
      for (const role of app.roles) if (role.reviews?.everyMs !== undefined) scopes.push({ roleId: role.id, everyMs: role.reviews.everyMs });
      for (const s of scopes) {
        const last = ctx.reviews.campaignsOf(app.id, s.roleId ?? null, 1)[0];
        if (!scheduleDue(now, s.everyMs, last?.createdAt)) continue;
        const key = `${app.id}/${s.roleId ?? '*'}`;
        const r = startReview(ctx, { appId: app.id, ...(s.roleId ? { roleId: s.roleId } : {}), origin: 'schedule', by: scheduleStarter(s.everyMs), listingProblem: listingProblemIn(ctx.connectors) });
        if (r.ok) {
          started++;
          this.refused.delete(key);
          ctx.logger.info({ campaign: r.campaign.id, app: app.id, role: s.roleId }, 'scheduled access review started');
        } else if (!this.refused.has(key)) {
          this.refused.add(key);
          ctx.logger.warn({ app: app.id, role: s.roleId, error: r.error }, 'scheduled access review not started');
        }
      }
    }
    return started;
  }
}
