/**
 * The follow-up review of break-glass access: a configured reviewer (the role's
 * `breakGlass.reviewers`, by default the application's owners) acknowledges the alert with the
 * Reviewed button. Recorded once, on the Jira issue, under the reviewer's name from Slack's
 * directory; the requester can't review their own, and anyone else is refused privately.
 *
 * Shape: the facts the rule needs (Slack groups, the manager) are looked up through the people
 * service first, outside any transaction; `canAcknowledge` decides; one transaction commits.
 */
import { canAcknowledge, type ReviewFacts } from '../domain/approval.js';
import { findRole } from '../domain/catalog.js';
import { samePerson } from '../domain/people.js';
import { actorRefusal, UNVERIFIED } from './actor.js';
import { recordStep, type Deps } from './context.js';
import { refuse, type ReplyTarget } from './decide.js';
import { enqueue } from './effects.js';
import { requesterRef, type ActingPerson } from './people.js';
import type { DirectoryUser } from './ports/directory.js';
import type { RequestRecord } from './ports/store.js';

export interface ReviewOpts {
  requestId: string;
  /** Who clicked Reviewed, resolved by the people service. */
  actor: ActingPerson;
  reply: ReplyTarget;
}

export type ReviewResult = { ok: true } | { ok: false; code: string; message: string };

export type ReviewDeps = Deps<'store' | 'catalog' | 'now' | 'allowGuests' | 'people' | 'logger'>;

/**
 * What the reviewer rule needs about this click. Slack groups and the manager are looked up only
 * when an email or owners entry does not already settle it; `unsure` is set when a lookup failed.
 */
async function reviewFacts(deps: ReviewDeps, r: RequestRecord, actor: DirectoryUser): Promise<{ facts: ReviewFacts; unsure: boolean }> {
  const found = findRole(deps.catalog(), r.appId, r.roleId);
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
      if (ref.kind === 'slackGroup' && (await deps.people.slackGroupMembers(ref.group))?.includes(actor.slackId)) groups.push(ref.group);
      if (ref.kind === 'manager' && r.requesterEmail) {
        const m = await deps.people.managerEmailOf(r.requesterEmail);
        if ('email' in m) facts.managerEmail = m.email;
      }
    } catch (err) {
      unsure = true;
      deps.logger.warn({ requestId: r.id, err: (err as Error).message }, 'could not resolve a break-glass reviewer reference');
    }
  }
  return { facts: { ...facts, actorGroups: groups }, unsure };
}

export async function reviewBreakGlass(deps: ReviewDeps, opts: ReviewOpts): Promise<ReviewResult> {
  const { actor } = opts;
  const before = deps.store.getRequest(opts.requestId);
  const checked = before?.breakGlassNotify && actor.account.ok ? await reviewFacts(deps, before, actor.account.user) : undefined;
  return deps.store.tx((store) => {
    const ctx = { ...deps, store };
    const r = store.getRequest(opts.requestId);
    const no = (code: string, message: string): ReviewResult => refuse(ctx, r, opts, code, message);
    if (!r || !r.breakGlassNotify) return no('unknown_request', 'This is not a break-glass request.');
    const refusal = actorRefusal(deps, actor, 'decide');
    if (refusal) return no(refusal.code, refusal.message);
    // Reviewers are not vetted beforehand (approvers are, when routed): no answer from Slack is a refusal.
    if (!actor.account.ok || !checked) return no(UNVERIFIED.code, UNVERIFIED.message);
    if (samePerson(requesterRef(r), actor.ref)) return no('self_review', 'You cannot review your own emergency access.');
    if (r.reviewedAt) return no('already_reviewed', `This emergency access was already reviewed by ${r.reviewedBy ?? 'someone'}.`);
    if (!canAcknowledge(checked.facts)) {
      return checked.unsure
        ? no('reviewer_unverified', 'access-bot could not check whether you are a reviewer of this emergency access just now. Try again in a minute.')
        : no('not_a_reviewer', 'Only the configured reviewers of this emergency access can mark it reviewed.');
    }
    const now = deps.now();
    const user = actor.account.user;
    const me = { slackId: user.slackId, email: user.email, name: user.name };
    store.updateRequest(r.id, { reviewedAt: now, reviewedBy: me.name }, now);
    recordStep(ctx, r, { type: 'reviewed', actor: me }, actor.label, now);
    enqueue(store, { kind: 'slack.breakGlassAlertUpdate', requestId: r.id });
    return { ok: true };
  });
}
