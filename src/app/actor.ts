/**
 * Whether someone acting may act at all: their account as the people service resolved it
 * (app/people.ts, never as a payload names them), against the guest rules (domain/people.ts).
 */
import { accountProblem, describeAccountProblem, type AccountPolicy } from '../domain/people.js';
import type { ReplyTarget } from './decide.js';
import { enqueue } from './effects.js';
import type { ActingPerson } from './people.js';
import type { Store } from './ports/store.js';

export interface ActorRefusal {
  code: string;
  message: string;
}

/** The answer when Slack could not say who someone is, where nothing else vouches for them. */
export const UNVERIFIED: ActorRefusal = { code: 'account_unverified', message: 'access-bot could not check your Slack account just now. Try again in a minute.' };

/**
 * Why the actor may not request or decide, worded for them; undefined when they may.
 *
 * A lookup that failed (Slack down or slow) is not a refusal here, so that an outage of Slack's
 * Web API does not stop decisions: a request's requester is checked again when it is routed (an
 * effect, retried until Slack answers), and an approver's account was checked when they were
 * routed. Callers with no such second check (break-glass reviews) refuse it with UNVERIFIED.
 */
export function actorRefusal(policy: AccountPolicy, actor: ActingPerson, act: 'request' | 'decide'): ActorRefusal | undefined {
  const { account } = actor;
  if (!account.ok) {
    return account.cause === 'not_found' ? { code: 'account_not_found', message: 'Slack does not know your account, so access-bot cannot tell who you are.' } : undefined;
  }
  const problem = accountProblem(account.user.account, policy);
  return problem ? { code: `account_${problem}`, message: describeAccountProblem(problem, act) } : undefined;
}

/** A refused `/access`: told privately (through the outbox, like every reply); no request exists to audit. */
export function refuseRequester(deps: { store: Store }, reply: ReplyTarget, refusal: ActorRefusal): void {
  deps.store.tx((s) => {
    enqueue(s, { kind: 'slack.ephemeral', user: reply.user, channel: reply.channel, responseUrl: reply.responseUrl, text: refusal.message });
  });
}
