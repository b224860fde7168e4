/**
 * Who may decide a request, and what a decision does. Pure rules: the caller passes in the
 * request's routing facts and the actor; nothing here reads a clock or a database.
 */
import { DomainError } from './errors.js';
import type { ApprovalPolicy, ApproverRef } from './catalog.js';
import { describeState, type RequestState } from './lifecycle.js';

export interface Person {
  slackId: string;
  email: string;
  name?: string;
  /** How the person was routed: owners | email | manager | slack-group:<g> | fallback | escalation. */
  via?: string;
}

export interface StageFacts {
  /** 0-based index of the stage being asked. */
  index: number;
  /** The number of stages in the policy. */
  count: number;
  /** Distinct approvals needed. */
  required: number;
  /** Slack ids routed to this stage. */
  approvers: readonly string[];
  /** Slack ids that already approved in this stage. */
  approvals: readonly string[];
}

export interface DecisionInput {
  state: RequestState;
  requesterSlackId: string;
  stage: StageFacts;
  actorSlackId: string;
  decision: 'approve' | 'deny';
  /** Who decided, when the request is no longer pending (for the explanation). */
  decidedBy?: string;
}

export type DecisionOutcome =
  /** The vote counts, but the stage needs more approvals. */
  | { kind: 'vote_recorded'; approvals: number; required: number }
  /** Quorum reached in a stage that is not the last: ask the next one. */
  | { kind: 'stage_passed'; nextStage: number }
  /** Quorum reached in the last stage. */
  | { kind: 'approved' }
  | { kind: 'denied' };

/**
 * Checks that the actor may decide now, without deciding. Throws the DomainError that explains
 * why not. Used both before opening the deny-reason modal and when the decision arrives,
 * because authorisation must hold at click time, not only when the DM was sent.
 */
export function assertMayDecide(input: Omit<DecisionInput, 'decision'>): void {
  if (input.state !== 'pending') {
    const decided = input.decidedBy && input.decidedBy !== 'policy' ? `This request was already ${input.state === 'denied' ? 'denied' : 'approved'} by ${input.decidedBy}` : undefined;
    const now = describeState(input.state);
    throw new DomainError(
      'already_decided',
      decided ? `${decided}${input.state === 'denied' || input.state === 'approved' ? '' : `; it is now ${now}`}.` : `This request is already ${now}.`,
      { state: input.state },
    );
  }
  // Checked before routing: a requester listed as an approver still may not decide.
  if (input.actorSlackId === input.requesterSlackId) {
    throw new DomainError('self_approval', 'You cannot approve or deny your own request.');
  }
  if (!input.stage.approvers.includes(input.actorSlackId)) {
    throw new DomainError('not_an_approver', 'You are not an approver of this request at its current stage.');
  }
  if (input.stage.approvals.includes(input.actorSlackId)) {
    throw new DomainError('already_voted', 'You already approved this request; it is waiting for other approvers.');
  }
}

/** Applies one decision. Any deny ends the request; approvals count once per person. */
export function decide(input: DecisionInput): DecisionOutcome {
  assertMayDecide(input);
  if (input.decision === 'deny') return { kind: 'denied' };
  // Distinct people: a quorum is of approvers, not of clicks.
  const approvals = new Set([...input.stage.approvals, input.actorSlackId]).size;
  if (approvals < input.stage.required) return { kind: 'vote_recorded', approvals, required: input.stage.required };
  if (input.stage.index + 1 < input.stage.count) return { kind: 'stage_passed', nextStage: input.stage.index + 1 };
  return { kind: 'approved' };
}

/**
 * The people a stage asks: the resolved candidates less the requester and less anyone who
 * already approved an earlier stage (one person never satisfies two stages), de-duplicated.
 */
export function eligibleApprovers(candidates: readonly Person[], requester: { slackId: string; email?: string }, approvedEarlier: readonly string[]): Person[] {
  const seen = new Set<string>();
  const out: Person[] = [];
  for (const p of candidates) {
    if (p.slackId === requester.slackId) continue;
    if (requester.email && p.email.toLowerCase() === requester.email.toLowerCase()) continue;
    if (approvedEarlier.includes(p.slackId) || seen.has(p.slackId)) continue;
    seen.add(p.slackId);
    out.push(p);
  }
  return out;
}

/**
 * Whether an approver, routed earlier, is still listed by the catalog as it is now. Authorisation
 * holds at click time: an approver removed from the catalog since the DM was sent can't decide.
 *
 * People routed through `manager` or a Slack group stay authorised while the catalog still names
 * that kind of approver: re-resolving them would need the IdP or Slack inside the decision.
 */
export function stillListed(
  now: { policy: ApprovalPolicy | undefined; owners: readonly string[] },
  stage: number,
  approver: { email: string; via: string },
): boolean {
  const policy = now.policy;
  if (!policy || policy.kind !== 'stages') return false;
  const refs: ApproverRef[] =
    approver.via === 'fallback' ? policy.fallback : approver.via === 'escalation' ? policy.escalateTo : (policy.stages[stage]?.approvers ?? []);
  const email = approver.email.toLowerCase();
  return refs.some((ref) => {
    switch (ref.kind) {
      case 'email':
        return ref.email.toLowerCase() === email;
      case 'owners':
        return now.owners.some((o) => o.toLowerCase() === email);
      case 'manager':
        return approver.via === 'manager' || approver.via === 'fallback' || approver.via === 'escalation';
      case 'slackGroup':
        return approver.via === `slack-group:${ref.group}` || approver.via === 'fallback' || approver.via === 'escalation';
    }
  });
}
