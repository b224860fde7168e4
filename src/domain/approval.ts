/**
 * Who may decide a request, and what a decision does. Pure rules: the caller passes in the
 * request's routing facts and the actor; nothing here reads a clock or a database.
 */
import { DomainError } from './errors.js';
import type { ApprovalPolicy, ApproverRef } from './catalog.js';
import { describeState, type RequestState } from './lifecycle.js';
import { countPeople, includesPerson, samePerson, type PersonRef } from './people.js';

/** A person routing found for a stage (in Slack, where they are asked). */
export interface Person {
  slackId: string;
  email: string;
  name?: string;
  /** How the person was routed (see routedBy): `email`, `owners`, `manager`, `slack-group:<g>`, or `fallback:<ref>` / `escalation:<ref>`. */
  via?: string;
}

export interface StageFacts {
  /** 0-based index of the stage being asked. */
  index: number;
  /** The number of stages in the policy. */
  count: number;
  /** Distinct approvals needed. */
  required: number;
  /** People routed to this stage. */
  approvers: readonly PersonRef[];
  /** People who already approved in this stage. */
  approvals: readonly PersonRef[];
}

export interface DecisionInput {
  state: RequestState;
  requester: PersonRef;
  /** Who asked on the requester's behalf (domain/onBehalf.ts), when someone did. */
  submitter?: PersonRef;
  stage: StageFacts;
  actor: PersonRef;
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
  if (samePerson(input.actor, input.requester)) {
    throw new DomainError('self_approval', 'You cannot approve or deny your own request.');
  }
  // Asking for someone else and approving it would be one person's decision twice over.
  if (input.submitter && samePerson(input.actor, input.submitter)) {
    throw new DomainError('submitter_approval', 'You asked for this access on the requester\'s behalf, so you cannot approve or deny it.');
  }
  if (!includesPerson(input.stage.approvers, input.actor)) {
    throw new DomainError('not_an_approver', 'You are not an approver of this request at its current stage.');
  }
  if (includesPerson(input.stage.approvals, input.actor)) {
    throw new DomainError('already_voted', 'You already approved this request; it is waiting for other approvers.');
  }
}

/** Applies one decision. Any deny ends the request; approvals count once per person. */
export function decide(input: DecisionInput): DecisionOutcome {
  assertMayDecide(input);
  if (input.decision === 'deny') return { kind: 'denied' };
  // Distinct people: a quorum is of approvers, not of clicks.
  const approvals = countPeople([...input.stage.approvals, input.actor]);
  if (approvals < input.stage.required) return { kind: 'vote_recorded', approvals, required: input.stage.required };
  if (input.stage.index + 1 < input.stage.count) return { kind: 'stage_passed', nextStage: input.stage.index + 1 };
  return { kind: 'approved' };
}

/**
 * The people a stage asks: the resolved candidates less the requester (and whoever asked on
 * their behalf: `never` holds both) and less anyone who already approved an earlier stage (one
 * person never satisfies two stages), de-duplicated.
 */
export function eligibleApprovers(candidates: readonly Person[], never: readonly PersonRef[], approvedEarlier: readonly PersonRef[]): Person[] {
  const out: Person[] = [];
  for (const p of candidates) {
    if (includesPerson(never, p) || includesPerson(approvedEarlier, p) || includesPerson(out, p)) continue;
    out.push(p);
  }
  return out;
}

/** The lists a person can be routed from: their stage's approvers, the fallback, or escalateTo. */
export type RoutedList = 'stage' | 'fallback' | 'escalation';

/**
 * Reads how a person was routed (`approvers.via`): the list, and the reference in it that named
 * them (`email`, `owners`, `manager`, `slack-group:<g>`). Fallback and escalation approvers are
 * recorded as `fallback:<ref>` / `escalation:<ref>`; rows written before that say only
 * `fallback` / `escalation`, and their reference is unknown.
 */
export function routedBy(via: string): { list: RoutedList; ref: string | undefined } {
  for (const list of ['fallback', 'escalation'] as const) {
    if (via === list) return { list, ref: undefined };
    if (via.startsWith(`${list}:`)) return { list, ref: via.slice(list.length + 1) };
  }
  return { list: 'stage', ref: via };
}

/** How to record that `ref`, in `list`, routed a person (the inverse of routedBy). */
export function viaOf(list: RoutedList, ref: ApproverRef): string {
  const r = ref.kind === 'slackGroup' ? `slack-group:${ref.group}` : ref.kind;
  return list === 'stage' ? r : `${list}:${r}`;
}

/** The catalog as it is now, for one request's role: its policy (undefined: role gone) and owners. */
export interface CatalogNow {
  policy: ApprovalPolicy | undefined;
  owners: readonly string[];
}

/**
 * Whether an approver, routed earlier, is still listed by the catalog as it is now. Authorisation
 * holds at click time: an approver removed from the catalog since the DM was sent can't decide.
 *
 * Each person is re-checked against the list that routed them. An email or `owners` reference is
 * re-checked by the person's email, whatever routed them. `manager` and `slack-group:<g>` can't be
 * re-resolved here (that needs the IdP or Slack inside the decision), so only a person routed by
 * exactly that reference stays listed while the list still names it; naming a manager or a group
 * vouches for nobody else.
 *
 * Rows from before the reference was recorded (bare `fallback` / `escalation`) are refused only
 * when clearly no longer listed: when their list still names a manager or a Slack group, they
 * might be that person, and they stay listed.
 */
export function stillListed(now: CatalogNow, stage: number, approver: { email: string; via: string }): boolean {
  const policy = now.policy;
  if (!policy || policy.kind !== 'stages') return false;
  const { list, ref } = routedBy(approver.via);
  const refs: ApproverRef[] = list === 'fallback' ? policy.fallback : list === 'escalation' ? policy.escalateTo : (policy.stages[stage]?.approvers ?? []);
  const email = approver.email.toLowerCase();
  return refs.some((r) => {
    switch (r.kind) {
      case 'email':
        return r.email.toLowerCase() === email;
      case 'owners':
        return now.owners.some((o) => o.toLowerCase() === email);
      case 'manager':
        return ref === undefined || ref === 'manager';
      case 'slackGroup':
        return ref === undefined || ref === `slack-group:${r.group}`;
    }
  });
}

export type RevokeRight = { ok: true; as: 'requester' | 'approver' | 'owner' } | { ok: false; code: 'not_allowed' | 'no_longer_listed' };

/**
 * Who may end an active grant early: the requester (giving their own access back), one of the
 * request's approvers whom the catalog, as it is now, still lists where they were routed, or an
 * owner of the application as the catalog lists them now. An approver removed from the catalog
 * lost the say over this access with it.
 */
export function canRevoke(f: {
  actor: PersonRef;
  requester: PersonRef;
  /** The actor's approver rows on this request (any stage; none when not an approver). */
  asApprover: readonly { stage: number; email: string; via: string }[];
  now: CatalogNow;
}): RevokeRight {
  if (samePerson(f.actor, f.requester)) return { ok: true, as: 'requester' };
  if (f.asApprover.some((a) => stillListed(f.now, a.stage, a))) return { ok: true, as: 'approver' };
  const email = f.actor.email?.toLowerCase();
  if (email && f.now.owners.some((o) => o.toLowerCase() === email)) return { ok: true, as: 'owner' };
  return f.asApprover.length === 0 ? { ok: false, code: 'not_allowed' } : { ok: false, code: 'no_longer_listed' };
}

/** What is known about the person clicking Reviewed on a break-glass alert, and about the role. */
export interface ReviewFacts {
  requester: PersonRef;
  /** The clicker, as Slack knows them now (users.info), never as the payload names them. */
  actor: { slackId: string; email?: string };
  /** The role's `breakGlass.reviewers` in the catalog now; empty when the role is gone. */
  reviewers: readonly ApproverRef[];
  owners: readonly string[];
  /** The reviewers' Slack groups (as written) that the actor is a member of, looked up by the caller. */
  actorGroups: readonly string[];
  /** The requester's manager's email, when the reviewers name `manager` and it resolved. */
  managerEmail?: string;
}

/**
 * Whether this click acknowledges the review of emergency access: only a configured reviewer's
 * does, and never the requester's (checked by Slack id and by email), reviewer or not.
 */
export function canAcknowledge(f: ReviewFacts): boolean {
  if (samePerson(f.actor, f.requester)) return false;
  const email = f.actor.email?.toLowerCase();
  return f.reviewers.some((r) => {
    switch (r.kind) {
      case 'email':
        return email !== undefined && r.email.toLowerCase() === email;
      case 'owners':
        return email !== undefined && f.owners.some((o) => o.toLowerCase() === email);
      case 'manager':
        return email !== undefined && f.managerEmail?.toLowerCase() === email;
      case 'slackGroup':
        return f.actorGroups.includes(r.group);
    }
  });
}

/** Whom approver references name, in words: "your manager", "the owners", an email, "@secops". */
export function describeApproverRefs(refs: readonly ApproverRef[]): string {
  const words = refs.map((r) => (r.kind === 'manager' ? 'your manager' : r.kind === 'owners' ? 'the owners' : r.kind === 'email' ? r.email : `@${r.group}`));
  return words.length <= 1 ? (words[0] ?? 'the approvers') : `${words.slice(0, -1).join(', ')} and ${words.at(-1)!}`;
}
