/**
 * Jira as a control plane (ARCHITECTURE.md §4 "Jira as a surface"). A person who moves a
 * request's issue to a status the catalog maps (`jira.statuses`) acts on the request as that
 * person, under the same rules as a Slack click: `approved` is their approval, `denied` their
 * denial, `revoked` ends an active grant, `cancelled` withdraws a pending request. Pure: which
 * status means what, what a move asks of a request in its state, and how a refused move reads.
 */
import type { Catalog, JiraTransitionState, StatusMeaning } from './catalog.js';
import { describeState, type RequestState } from './lifecycle.js';
import { ACCOUNT_PROBLEM_LABEL, type AccountProblem } from './people.js';

export type StatusMap = NonNullable<Catalog['jira']['statuses']>;

/** Jira status names are compared without case and surrounding spaces. */
export function sameStatus(a: string, b: string): boolean {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}

/** What the status means to the bot, if the catalog maps it. */
export function meaningOf(statuses: StatusMap | undefined, status: string): StatusMeaning | undefined {
  for (const [meaning, names] of Object.entries(statuses ?? {}) as [StatusMeaning, string[]][]) {
    if (names.some((n) => sameStatus(n, status))) return meaning;
  }
  return undefined;
}

/**
 * The statuses in which the issue already says what entering `state` would make it say: the bot's
 * own transition for that state is then done already (a person moved the issue there first).
 */
export function statusesSaying(statuses: StatusMap | undefined, state: JiraTransitionState): string[] {
  return state === 'approved' || state === 'denied' || state === 'revoked' || state === 'cancelled' ? (statuses?.[state] ?? []) : [];
}

/** What a person's move to a status of this meaning asks of a request in this state. */
export type StatusAction =
  | { kind: 'approve' }
  | { kind: 'deny' }
  | { kind: 'revoke' }
  | { kind: 'cancel' }
  /**
   * The request already is where the status says: the bot's own transition coming back, a move
   * back to where it was, a late redelivery. Nothing to do, and nothing to refuse: this is what
   * keeps the bot's own transitions from looping.
   */
  | { kind: 'already' };

export function statusAction(meaning: StatusMeaning, state: RequestState): StatusAction {
  switch (meaning) {
    case 'approved':
      return state === 'approved' || state === 'active' ? { kind: 'already' } : { kind: 'approve' };
    case 'denied':
      return state === 'denied' ? { kind: 'already' } : { kind: 'deny' };
    case 'revoked':
      return state === 'revoking' || state === 'revoked' ? { kind: 'already' } : { kind: 'revoke' };
    case 'cancelled':
      return state === 'cancelled' ? { kind: 'already' } : { kind: 'cancel' };
  }
}

/** Whether the move was made by the bot's own account (its transitions, its moves back). */
export function isOwnMove(actorAccountId: string | undefined, botAccountId: string): boolean {
  return actorAccountId !== undefined && actorAccountId === botAccountId;
}

/** Why a status change was refused: the stable codes of the use cases, plus the Jira-only ones. */
export interface StatusRefusal {
  code: string;
  /** The use case's own explanation (second person, as a Slack user reads it). */
  message: string;
  /** The request's state when the move was refused. */
  state: RequestState;
}

/** Codes that mean the person may not make this move at all (admins are alerted), not that it came too late. */
const UNAUTHORIZED = new Set(['not_an_approver', 'self_approval', 'no_longer_listed', 'not_allowed', 'not_requester', 'unknown_person']);

export function isUnauthorized(code: string): boolean {
  return UNAUTHORIZED.has(code) || code.startsWith('account_');
}

/**
 * The clause after "but" in the refusal comment: "Mallory Evil is not an approver of this
 * request". `name` names the person as the comment does.
 */
export function refusalClause(name: string, r: StatusRefusal): string {
  switch (r.code) {
    case 'not_an_approver':
      return r.message.startsWith('You are no longer')
        ? `${name} is no longer an approver of this request (the access catalog changed since they were asked)`
        : `${name} is not an approver of this request`;
    case 'self_approval':
      return `${name} is the requester, and nobody approves or denies their own request`;
    case 'already_voted':
      return `${name} already approved this request; it is waiting for other approvers`;
    case 'no_longer_listed':
      return `${name} is no longer an approver of this request (the access catalog changed since they were asked)`;
    case 'not_allowed':
      return `${name} is neither the requester nor an approver of this request`;
    case 'not_requester':
      return `${name} is not the requester, and only the requester can withdraw a request`;
    case 'unknown_person':
      return `access-bot cannot tell who ${name} is: Jira does not share their email address`;
    case 'account_not_found':
      return `${name} has no Slack account access-bot can check`;
    case 'already_decided':
    case 'not_active':
    case 'not_pending':
      return `this request is ${describeState(r.state)}`;
    default: {
      const problem = r.code.startsWith('account_') ? (r.code.slice('account_'.length) as AccountProblem) : undefined;
      const label = problem ? ACCOUNT_PROBLEM_LABEL[problem] : undefined;
      return label ? `${name} may not act on access requests (${label})` : `${name} may not do this: ${r.message.replace(/\.$/, '')}`;
    }
  }
}

/** How a refused move's comment begins: nothing changed in the identity provider. */
export function refusalLead(meaning: StatusMeaning): string {
  return meaning === 'revoked' ? 'No access was removed' : 'No access was granted';
}

/** The sentence after a refusal: where the issue went back to, or why it stays. */
export function movedBackSentence(to: string, from: string | undefined, movedBack: boolean): string {
  if (from === undefined) return ` The issue stays in "${to}"; access-bot goes by the request, not the status.`;
  return movedBack
    ? ` The issue was moved back to "${from}".`
    : ` The workflow offers no transition back to "${from}", so the issue stays in "${to}"; access-bot goes by the request, not the status.`;
}
