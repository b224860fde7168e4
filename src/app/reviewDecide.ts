/**
 * A reviewer's Keep or Revoke on one row of an access review, and their page turns. Authorised
 * at click time against the review as it is now: only a person assigned to the row decides it,
 * never the reviewed person themselves, and once. A second click (a double click, Slack's retry
 * of the delivery) changes nothing. The decision is recorded in one transaction, before Slack
 * gets its answer: the row, its Jira comment, the revocation it starts, the messages to update.
 */
import { isSelf } from '../domain/accessReview.js';
import { personText } from '../domain/reviewSteps.js';
import { formatTime, who, type Actor } from '../domain/steps.js';
import { actorRefusal } from './actor.js';
import type { Deps, Tx } from './context.js';
import type { ReplyTarget } from './decide.js';
import { enqueue } from './effects.js';
import type { ActingPerson } from './people.js';
import type { CampaignRecord, ReviewItem } from './ports/reviews.js';
import type { PersonRecord } from './ports/store.js';
import { completeIfDone, personActor, recordReviewStep, refreshMessageOf, refreshMessages, reviewedPerson, type ReviewTx } from './reviewRecord.js';
import { startItemRevocation } from './reviewRevoke.js';

export interface ReviewDecisionOpts {
  campaignId: string;
  seq: number;
  actor: ActingPerson;
  decision: 'keep' | 'revoke';
  /** Required to revoke (the modal asks for it). */
  reason?: string;
  reply: ReplyTarget;
}

export type ReviewDecideDeps = Deps<'store' | 'reviews' | 'now' | 'catalog' | 'allowGuests' | 'adminChannel'>;

export type ReviewDecisionResult = { ok: true } | { ok: false; code: string; message: string };

/** Whether the clicker may decide the row, and as whom. `repeat`: this very decision is already theirs. */
type Check = { ok: true; c: CampaignRecord; item: ReviewItem; me: PersonRecord } | { ok: false; code: string; message: string; repeat?: boolean };

function check(ctx: Pick<ReviewTx, 'store' | 'reviews'> & Pick<Tx, 'now'> & { allowGuests: boolean }, opts: Omit<ReviewDecisionOpts, 'reply' | 'reason' | 'decision'> & { decision?: 'keep' | 'revoke' }): Check {
  const c = ctx.reviews.getCampaign(opts.campaignId);
  const item = c && ctx.reviews.getItem(c.id, opts.seq);
  if (!c || !item) return { ok: false, code: 'unknown_review', message: 'This access review does not exist (any more).' };
  const refusal = actorRefusal(ctx, opts.actor, 'decide');
  if (refusal) return { ok: false, ...refusal };
  const slackId = opts.actor.ref.slackId ?? undefined;
  const me = slackId ? ctx.store.personBySlackId(slackId) : undefined;
  // Who the clicker is, by every identity known: their Slack email now, their person's email and IdP id.
  const emails = [opts.actor.account.ok ? opts.actor.account.user.email : undefined, me?.email ?? undefined].filter((e): e is string => Boolean(e));
  const idpUserId = me ? ctx.store.idpUserIdOf(me.id, item.connector) : undefined;
  if (emails.some((email) => isSelf({ email, ...(idpUserId ? { idpUserId } : {}) }, item)) || (idpUserId !== undefined && idpUserId === item.idpUserId)) {
    const by = ctx.reviews.assigneesOf(c.id, item.seq).map((id) => ctx.store.getPerson(id)).filter((p): p is PersonRecord => p !== undefined);
    const others = by.length > 0 ? `: ${by.map((p) => who(personActor(p))).join(', ')} ${by.length === 1 ? 'reviews' : 'review'} it` : '';
    return { ok: false, code: 'self_review', message: `You cannot review your own access${others}.` };
  }
  if (c.state === 'closed') return { ok: false, code: 'review_closed', message: `This access review (${c.jiraKey ?? c.id}) is closed.` };
  if (c.state !== 'open') return { ok: false, code: 'review_not_open', message: `This access review (${c.jiraKey ?? c.id}) is ${c.state === 'failed' ? 'failed' : 'not open yet'}.` };
  if (!me || !ctx.reviews.isAssigned(c.id, item.seq, me.id)) {
    return { ok: false, code: 'not_a_reviewer', message: `Only the reviewers asked about ${personText(reviewedPerson(item))} can decide: you are not one of them.` };
  }
  if (item.decision !== null) {
    const repeat = item.decidedByPerson === me.id && (opts.decision === undefined || opts.decision === item.decision);
    const what = item.decision === 'keep' ? 'kept' : 'revoked';
    return { ok: false, code: 'already_decided', repeat, message: `Already decided: ${what} by ${item.decidedBy ?? 'someone'} on ${formatTime(item.decidedAt ?? 0)}.` };
  }
  return { ok: true, c, item, me };
}

/** Audited (who tried what, under the review's id), answered privately; nothing else changes. */
function refuse(ctx: Pick<ReviewTx, 'store' | 'now'>, campaignId: string | undefined, opts: { actor: ActingPerson; reply: ReplyTarget }, code: string, message: string): ReviewDecisionResult {
  if (campaignId) recordReviewStep(ctx, campaignId, { type: 'decision_refused', actor: opts.actor.actor, code }, opts.actor.label);
  enqueue(ctx.store, { kind: 'slack.ephemeral', user: opts.reply.user, channel: opts.reply.channel, responseUrl: opts.reply.responseUrl, text: message });
  return { ok: false, code, message };
}

/**
 * Before the Revoke button opens its modal: refuses (recorded, answered) someone who may not
 * decide the row. True when refused; a repeat of one's own revoke is refused silently.
 */
export function refuseIfMayNotReview(deps: ReviewDecideDeps, opts: Omit<ReviewDecisionOpts, 'decision' | 'reason'> & { decision?: 'keep' | 'revoke' }): boolean {
  const checked = check(deps, opts);
  if (checked.ok) return false;
  if (!checked.repeat) deps.store.tx((store) => refuse({ ...deps, store }, deps.reviews.getCampaign(opts.campaignId)?.id, opts, checked.code, checked.message));
  return true;
}

export function decideReviewItem(deps: ReviewDecideDeps, opts: ReviewDecisionOpts): ReviewDecisionResult {
  return deps.store.tx((store) => {
    const ctx = { ...deps, store };
    const checked = check(ctx, opts);
    if (!checked.ok) {
      // The same person repeating the same decision: already done, nothing to say.
      if (checked.repeat) return { ok: true };
      return refuse(ctx, deps.reviews.getCampaign(opts.campaignId)?.id, opts, checked.code, checked.message);
    }
    const { c, item, me } = checked;
    const now = deps.now();
    const account = opts.actor.account.ok ? opts.actor.account.user : undefined;
    const actor: Actor = { ...personActor(me), ...(!me.name && account?.name ? { name: account.name } : {}) };
    const by = who(actor);
    const reason = opts.decision === 'revoke' ? (opts.reason ?? '').trim() || 'no reason given' : null;
    deps.reviews.updateItem(c.id, item.seq, { decision: opts.decision, decidedVia: 'reviewer', decidedBy: by, decidedByPerson: me.id, decidedAt: now, reason });
    recordReviewStep(ctx, c.id, { type: 'review_decided', member: reviewedPerson(item), role: item.roleName, decision: opts.decision, actor, ...(reason ? { reason } : {}) }, opts.actor.label, now);
    if (opts.decision === 'revoke') startItemRevocation(ctx, c, item, by);
    refreshMessages(ctx, c.id, item.seq);
    completeIfDone(ctx, c.id);
    return { ok: true };
  });
}

/** Shows another page of the clicker's own review message. */
export function turnReviewPage(deps: Deps<'store' | 'reviews'>, opts: { campaignId: string; page: number; actorSlackId: string }): boolean {
  return deps.store.tx((store) => {
    const me = store.personBySlackId(opts.actorSlackId);
    const r = me && deps.reviews.reviewerOf(opts.campaignId, me.id);
    if (!me || !r) return false;
    deps.reviews.setReviewerPage(opts.campaignId, me.id, Math.max(0, Math.trunc(opts.page)));
    refreshMessageOf({ store, reviews: deps.reviews }, opts.campaignId, me.id);
    return true;
  });
}
