/**
 * Opening a review once its members are listed: the reviewers are looked up (their Slack account
 * through the people service, their manager through MANAGER_SOURCE, and the fallback's), outside
 * any transaction; then one transaction records them, assigns every row to the people who may
 * decide it (domain `reviewersFor`: never the person themselves), writes who was asked, and
 * enqueues one message per reviewer.
 */
import { reviewersFor, type ReviewerCandidate } from '../domain/accessReview.js';
import { ACCOUNT_PROBLEM_LABEL, accountProblem } from '../domain/people.js';
import type { ReviewedPerson } from '../domain/reviewSteps.js';
import { PermanentError } from '../outbox/errors.js';
import type { Deps, InTx } from './context.js';
import { enqueue, type EffectOf, type Skipped } from './effects.js';
import type { ReviewerVia } from './ports/reviews.js';
import type { PersonRecord } from './ports/store.js';
import { completeIfDone, failCampaign, personActor, recordReviewStep, refreshReviewTimer, reviewedPerson } from './reviewRecord.js';

export type ReviewOpenDeps = Deps<'store' | 'reviews' | 'now' | 'catalog' | 'people' | 'allowGuests' | 'adminChannel' | 'logger'>;

/** A person the review may ask, as Slack knows them; `why` when Slack cannot reach them. */
export interface ResolvedPerson {
  email: string;
  slackId?: string;
  name?: string;
  why?: string;
}

export interface OpenResult {
  reviewers: (ResolvedPerson & { manager?: ResolvedPerson })[];
  fallback: ResolvedPerson[];
}

async function resolve(ctx: ReviewOpenDeps, email: string): Promise<ResolvedPerson> {
  const u = await ctx.people.byEmail(email);
  if (!u) return { email, why: 'they are not in Slack' };
  const problem = accountProblem(u.account, { allowGuests: ctx.allowGuests });
  if (problem) return { email, name: u.name, why: `their Slack account is ${ACCOUNT_PROBLEM_LABEL[problem]}` };
  return { email, slackId: u.slackId, name: u.name };
}

/**
 * The reviewer's manager (MANAGER_SOURCE), whom their own row and their escalations go to. An
 * outage is retried (RetryableError, the outbox's); a manager the IdP cannot name for good (an
 * ambiguous email, say) is no manager: the fallback takes that role.
 */
async function withManager(ctx: ReviewOpenDeps, who: ResolvedPerson): Promise<ResolvedPerson & { manager?: ResolvedPerson }> {
  let m: { email: string } | { unresolved: string };
  try {
    m = await ctx.people.managerEmailOf(who.email);
  } catch (err) {
    if (!(err instanceof PermanentError)) throw err;
    ctx.logger.warn({ reviewer: who.email, err: err.message }, 'the manager of a reviewer could not be found');
    return who;
  }
  return 'email' in m ? { ...who, manager: await resolve(ctx, m.email) } : who;
}

export async function resolveReviewers(ctx: ReviewOpenDeps, e: EffectOf<'review.open'>): Promise<OpenResult | Skipped> {
  const c = ctx.reviews.getCampaign(e.campaignId);
  if (!c || c.state !== 'listing') return { skipped: `the review is ${c?.state ?? 'missing'}` };
  const reviewers: OpenResult['reviewers'] = [];
  for (const email of c.policy.reviewers) {
    const who = await resolve(ctx, email);
    reviewers.push(await withManager(ctx, who));
  }
  const fallback: ResolvedPerson[] = [];
  for (const email of c.policy.fallback) fallback.push(await resolve(ctx, email));
  return { reviewers, fallback };
}

export function openReview(ctx: InTx<ReviewOpenDeps>, e: EffectOf<'review.open'>, result: OpenResult | Skipped): void {
  if ('skipped' in result) return;
  const c = ctx.reviews.getCampaign(e.campaignId);
  if (!c || c.state !== 'listing') return;
  const now = ctx.now();
  const record = (p: ResolvedPerson): PersonRecord => ctx.store.recordPerson({ email: p.email, ...(p.slackId ? { slackId: p.slackId } : {}), ...(p.name ? { name: p.name } : {}) }, now);
  // Only people Slack can reach are asked; the others are named on the issue.
  const reachable = (p: ResolvedPerson | undefined): PersonRecord | undefined => {
    if (!p) return undefined;
    const person = record(p);
    return p.slackId ? person : undefined;
  };
  const managerOf = new Map<number, PersonRecord>();
  const reviewers: PersonRecord[] = [];
  for (const r of result.reviewers) {
    const person = reachable(r);
    if (!person) {
      recordReviewStep(ctx, c.id, { type: 'review_unreachable', reviewer: personActor(record(r)), why: r.why ?? 'they are not in Slack' });
      continue;
    }
    reviewers.push(person);
    const manager = reachable(r.manager);
    if (manager) managerOf.set(person.id, manager);
  }
  const fallback = result.fallback.map(reachable).filter((p): p is PersonRecord => p !== undefined);

  // Who decides each row, by the people's ids in each connector's IdP (one person may have
  // another email there); nobody reviews their own access.
  const candidate = (p: PersonRecord, connector: string): ReviewerCandidate => {
    const idpUserId = ctx.store.idpUserIdOf(p.id, connector);
    return { email: p.email ?? '', ...(idpUserId ? { idpUserId } : {}) };
  };
  const byEmail = new Map<string, PersonRecord>([...reviewers, ...fallback, ...managerOf.values()].map((p) => [p.email ?? '', p]));
  const asked = new Map<number, ReviewerVia>();
  const unassigned: ReviewedPerson[] = [];
  let why = '';
  for (const item of ctx.reviews.allItems(c.id)) {
    const a = reviewersFor(item, {
      reviewers: reviewers.map((p) => candidate(p, item.connector)),
      managerOf: (r) => {
        const m = managerOf.get(byEmail.get(r.email)!.id);
        return m && candidate(m, item.connector);
      },
      fallback: fallback.map((p) => candidate(p, item.connector)),
    });
    if (a.via === 'nobody') {
      unassigned.push(reviewedPerson(item));
      why = a.why;
      continue;
    }
    const people = a.reviewers.map((r) => byEmail.get(r.email)!);
    for (const p of people) {
      ctx.reviews.assign(c.id, item.seq, p.id, a.via, now);
      // Asked as a reviewer if any of their rows is theirs as one; else as whatever first brought them in.
      const before = asked.get(p.id);
      asked.set(p.id, before === 'reviewer' || a.via === 'reviewer' ? 'reviewer' : (before ?? a.via));
    }
    if (a.via !== 'reviewer') recordReviewStep(ctx, c.id, { type: 'review_reassigned', member: reviewedPerson(item), to: people.map(personActor), because: a.via });
  }
  if (unassigned.length > 0) recordReviewStep(ctx, c.id, { type: 'review_unassigned', members: unassigned, count: unassigned.length, why });

  for (const [personId, via] of asked) {
    const person = ctx.store.getPerson(personId)!;
    ctx.reviews.addReviewer({ campaignId: c.id, personId, via, managerPersonId: managerOf.get(personId)?.id ?? null, askedAt: now });
    recordReviewStep(ctx, c.id, { type: 'review_requested', reviewer: personActor(person), people: ctx.reviews.assignedCount(c.id, personId).rows });
    enqueue(ctx.store, { kind: 'review.post', campaignId: c.id, personId });
  }
  // Reviewers with no row (every row is theirs to be reviewed, or the group is empty) are kept
  // for escalation's sake: their manager is known.
  for (const p of reviewers) if (!asked.has(p.id)) ctx.reviews.addReviewer({ campaignId: c.id, personId: p.id, via: 'reviewer', managerPersonId: managerOf.get(p.id)?.id ?? null, askedAt: now });
  ctx.reviews.updateCampaign(c.id, { state: 'open' });
  refreshReviewTimer(ctx, c.id);
  // An empty group: nothing to decide.
  completeIfDone(ctx, c.id);
}

/** The reviewers could not be looked up for good (Slack refused): the review cannot ask anyone. */
export function openDead(ctx: InTx<ReviewOpenDeps>, e: EffectOf<'review.open'>, error: Error): void {
  failCampaign(ctx, e.campaignId, `the reviewers could not be looked up in Slack: ${error.message}`);
}
