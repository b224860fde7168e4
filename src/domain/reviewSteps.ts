/**
 * The steps of an access review's story, as its Jira issue and the audit log tell it: one comment
 * per step, past tense, who and when (the same style as a request's steps in steps.ts).
 */
import type { OnDue } from './accessReview.js';
import type { Actor } from './steps.js';

/** A reviewed person as the record names them. */
export interface ReviewedPerson {
  name?: string;
  email?: string;
  idpUserId: string;
}

export type ReviewStep =
  | { type: 'review_started'; by: string; scope: string; groups: string[]; reviewers: string[]; dueAt: number; onDue: OnDue }
  | { type: 'review_listed'; role: string; connector: string; group: string; members: number; granted: number; standing: number }
  | { type: 'review_requested'; reviewer: Actor; people: number }
  /** A reviewer's own row went to someone else. */
  | { type: 'review_reassigned'; member: ReviewedPerson; to: Actor[]; because: 'manager' | 'fallback' | 'co_reviewer' }
  | { type: 'review_unassigned'; members: ReviewedPerson[]; count: number; why: string }
  | { type: 'review_unreachable'; reviewer: Actor; why: string }
  | { type: 'review_decided'; member: ReviewedPerson; role: string; decision: 'keep' | 'revoke'; actor: Actor; reason?: string }
  /** The removal a revoke decision asked for has settled. `endedStanding`: inactivity reclaim's records of the standing access, ended with it. */
  | { type: 'review_revoked'; member: ReviewedPerson; connector: string; group: string; removed: boolean; endedGrants: string[]; endedStanding?: string[]; decidedBy: string }
  | { type: 'review_reminded'; reviewers: Actor[]; undecided: number }
  | { type: 'review_escalated'; from: Actor; to: Actor[]; people: number; atDue: boolean }
  | { type: 'review_escalation_impossible'; from: Actor; people: number }
  | { type: 'review_due_passed'; onDue: OnDue; undecided: number; members: ReviewedPerson[] }
  | { type: 'review_completed'; total: number; kept: number; revoked: number; keptAtDue: number; revokedAtDue: number; removed: number; keptMembership: number; failed: number }
  | { type: 'review_failed'; cause: string };

/** How many people a due-date comment names before "…and N more". */
export const NAMED_AT_MOST = 50;

export function describeOnDue(onDue: OnDue): string {
  switch (onDue) {
    case 'keep':
      return 'kept (onDue: keep)';
    case 'revoke':
      return 'revoked (onDue: revoke)';
    case 'escalate':
      return "escalated to the reviewer's manager, and the review stays open until they are decided (onDue: escalate)";
  }
}

export function personText(p: ReviewedPerson): string {
  if (p.name && p.email) return `${p.name} (${p.email})`;
  return p.name ?? p.email ?? `IdP user ${p.idpUserId}`;
}

function people(n: number): string {
  return `${n} ${n === 1 ? 'person' : 'people'}`;
}

function named(members: ReviewedPerson[], count: number): string {
  const list = members.slice(0, NAMED_AT_MOST).map(personText).join(', ');
  const more = count - Math.min(members.length, NAMED_AT_MOST);
  return more > 0 ? `${list}, and ${more} more` : list;
}

const BECAUSE: Record<'manager' | 'fallback' | 'co_reviewer', string> = { manager: 'their manager', fallback: "the review's fallback", co_reviewer: 'another reviewer' };

/** One line: the step in words, past tense, who, when; people and times worded by steps.ts's `who` and `time`. */
export function describeReviewStep(step: ReviewStep, at: number, f: { who: (a: Actor) => string; time: (ms: number) => string }): string {
  const { who } = f;
  const when = f.time(at);
  const list = (as: Actor[]) => as.map(who).join(', ');
  switch (step.type) {
    case 'review_started':
      return `Access review started by ${step.by} on ${when}: ${step.scope} (${step.groups.join(', ')}). Reviewers: ${step.reviewers.join(', ') || 'none'}. Due ${f.time(step.dueAt)}; undecided at the due date: ${describeOnDue(step.onDue)}.`;
    case 'review_listed':
      return `Listed ${people(step.members)} holding ${step.role} (${step.connector} group ${step.group}) on ${when}: ${step.granted} by a grant of access-bot, ${step.standing} by standing access not granted by access-bot.`;
    case 'review_requested':
      return `Review requested from ${who(step.reviewer)} on ${when}: ${people(step.people)}.`;
    case 'review_reassigned':
      return `${personText(step.member)} is a reviewer, so their own access is reviewed by ${list(step.to)} (${BECAUSE[step.because]}) on ${when}: nobody reviews their own access.`;
    case 'review_unassigned':
      return `Nobody can review ${named(step.members, step.count)} (on ${when}): ${step.why}. ${step.count === 1 ? 'This row follows' : 'These rows follow'} the due-date policy.`;
    case 'review_unreachable':
      return `${who(step.reviewer)} cannot be asked (on ${when}): ${step.why}.`;
    case 'review_decided':
      return step.decision === 'keep'
        ? `Kept: ${personText(step.member)} keeps ${step.role} — decided by ${who(step.actor)} on ${when}.`
        : `Revoke: ${personText(step.member)} loses ${step.role} — decided by ${who(step.actor)} on ${when}: ${step.reason ?? 'no reason given'}`;
    case 'review_revoked': {
      if (!step.removed) {
        return `Access not removed: ${personText(step.member)} stays in ${step.connector} group ${step.group} (on ${when}): a grant approved since the decision by ${step.decidedBy} still needs the membership.`;
      }
      const how = step.endedGrants.length > 0 ? `the grant${step.endedGrants.length === 1 ? '' : 's'} ${step.endedGrants.join(', ')} ended` : 'standing access, not granted by access-bot';
      const records = step.endedStanding?.length ? `; its inactivity reclaim record ${step.endedStanding.join(', ')} ended` : '';
      return `Access revoked: removed ${step.member.idpUserId} (${personText(step.member)}) from ${step.connector} group ${step.group} on ${when}, as decided by ${step.decidedBy}; ${how}${records}.`;
    }
    case 'review_reminded':
      return `Reminder sent to ${list(step.reviewers)} on ${when}: ${people(step.undecided)} still undecided.`;
    case 'review_escalated':
      return `Escalated to ${list(step.to)} on ${when}: ${people(step.people)} ${who(step.from)} had not decided${step.atDue ? ' by the due date' : ''}.`;
    case 'review_escalation_impossible':
      return `Could not escalate ${people(step.people)} ${who(step.from)} had not decided (on ${when}): no manager is recorded for them and the review has no fallback.`;
    case 'review_due_passed': {
      const head = `Due date passed on ${when}: ${people(step.undecided)} undecided`;
      if (step.undecided === 0) return `${head}.`;
      if (step.onDue === 'escalate') return `${head}, escalated to their reviewers' managers (onDue: escalate); the review stays open until they are decided.`;
      return `${head}, ${step.onDue === 'keep' ? 'kept by policy (onDue: keep)' : 'revoked by policy (onDue: revoke)'}: ${named(step.members, step.undecided)}.`;
    }
    case 'review_completed': {
      const failed = step.failed > 0 ? `, ${step.failed} failed (still in place)` : '';
      const kept = step.keptMembership > 0 ? `, ${step.keptMembership} kept because a newer grant needs them` : '';
      return (
        `Review completed on ${when}: ${people(step.total)} reviewed — ${step.kept} kept (${step.keptAtDue} at the due date), ` +
        `${step.revoked} revoked (${step.revokedAtDue} at the due date); ${step.removed} ${step.removed === 1 ? 'membership' : 'memberships'} removed${kept}${failed}.`
      );
    }
    case 'review_failed':
      return `Review failed on ${when}: ${step.cause}`;
  }
}
