/**
 * The follow-up review of break-glass access: a configured reviewer (the role's
 * `breakGlass.reviewers`, by default the application's owners) acknowledges the alert with the
 * Reviewed button. Recorded once, on the Jira issue, under the reviewer's name from Slack's
 * directory; the requester can't review their own, and anyone else is refused privately.
 */
import { canAcknowledge, type ReviewFacts } from '../domain/approval.js';
import { findRole } from '../domain/catalog.js';
import { actorRefusal, lookUpActor, UNVERIFIED } from './actor.js';
import { recordStep, type AppContext, type DirectoryUser } from './context.js';
import type { ReplyTarget } from './decide.js';
import { enqueue } from './effects.js';
import { requesterRef } from './people.js';
import type { RequestRecord } from './ports/store.js';
import { managerEmailOf } from './route.js';

export type ReviewResult = { ok: true } | { ok: false; code: string; message: string };

/**
 * What the reviewer rule needs about this click. Slack groups and the manager are looked up only
 * when an email or owners entry does not already settle it; `unsure` is set when a lookup failed.
 */
async function reviewFacts(ctx: AppContext, r: RequestRecord, actor: DirectoryUser): Promise<{ facts: ReviewFacts; unsure: boolean }> {
  const found = findRole(ctx.catalog(), r.appId, r.roleId);
  const facts: ReviewFacts = {
    requester: requesterRef(r),
    actor: { slackId: actor.slackId, email: actor.email },
    reviewers: found?.role.breakGlass?.reviewers ?? [],
    owners: found?.app.owners ?? [],
    actorGroups: [],
  };
  let unsure = false;
  if (canAcknowledge(facts)) return { facts, unsure };
  const groups: string[] = [];
  for (const ref of facts.reviewers) {
    try {
      if (ref.kind === 'slackGroup' && (await ctx.slack.usergroupMembers(ref.group))?.includes(actor.slackId)) groups.push(ref.group);
      if (ref.kind === 'manager' && r.requesterEmail) {
        const m = await managerEmailOf(ctx, r.requesterEmail);
        if ('email' in m) facts.managerEmail = m.email;
      }
    } catch (err) {
      unsure = true;
      ctx.logger.warn({ requestId: r.id, err: (err as Error).message }, 'could not resolve a break-glass reviewer reference');
    }
  }
  return { facts: { ...facts, actorGroups: groups }, unsure };
}

export async function reviewBreakGlass(ctx: AppContext, input: { requestId: string; actorSlackId: string; reply: ReplyTarget }): Promise<ReviewResult> {
  const actor = await lookUpActor(ctx, input.actorSlackId);
  const before = ctx.store.getRequest(input.requestId);
  const checked = before?.breakGlassNotify && actor.ok ? await reviewFacts(ctx, before, actor.user) : undefined;
  return ctx.store.tx(() => {
    const r = ctx.store.getRequest(input.requestId);
    const refuse = (code: string, message: string): ReviewResult => {
      if (r) ctx.store.appendAudit(r.id, ctx.now(), input.actorSlackId, { type: 'decision_refused', actor: { slackId: input.actorSlackId }, code });
      enqueue(ctx.store, { kind: 'slack.ephemeral', user: input.reply.user, channel: input.reply.channel, responseUrl: input.reply.responseUrl, text: message });
      return { ok: false, code, message };
    };
    if (!r || !r.breakGlassNotify) return refuse('unknown_request', 'This is not a break-glass request.');
    const refusal = actorRefusal(ctx, actor, 'decide');
    if (refusal) return refuse(refusal.code, refusal.message);
    // Reviewers are not vetted beforehand (approvers are, when routed): no answer from Slack is a refusal.
    if (!actor.ok || !checked) return refuse(UNVERIFIED.code, UNVERIFIED.message);
    if (r.requesterSlackId === input.actorSlackId) return refuse('self_review', 'You cannot review your own emergency access.');
    if (r.reviewedAt) return refuse('already_reviewed', `This emergency access was already reviewed by ${r.reviewedBy ?? 'someone'}.`);
    if (!canAcknowledge(checked.facts)) {
      return checked.unsure
        ? refuse('reviewer_unverified', 'access-bot could not check whether you are a reviewer of this emergency access just now. Try again in a minute.')
        : refuse('not_a_reviewer', 'Only the configured reviewers of this emergency access can mark it reviewed.');
    }
    const now = ctx.now();
    const me = { slackId: actor.user.slackId, email: actor.user.email, name: actor.user.name };
    ctx.store.updateRequest(r.id, { reviewedAt: now, reviewedBy: me.name }, now);
    recordStep(ctx, r, { type: 'reviewed', actor: me }, input.actorSlackId, now);
    enqueue(ctx.store, { kind: 'slack.breakGlassAlertUpdate', requestId: r.id });
    return { ok: true };
  });
}
