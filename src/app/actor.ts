/**
 * Who is acting, as Slack knows them now (users.info), never as a payload names them: whether
 * their account may act (domain/people.ts), and the name and email to record. Looked up for
 * every command, submission and click, within a budget that leaves room for Slack's 3 seconds.
 */
import { accountProblem, describeAccountProblem } from '../domain/people.js';
import type { AppContext, DirectoryUser } from './context.js';
import type { ReplyTarget } from './decide.js';
import { enqueue } from './effects.js';

/** How long a command or click waits for users.info (the gateway caches it for a minute). */
export const ACTOR_LOOKUP_BUDGET_MS = 1500;

export type ActorLookup = { ok: true; user: DirectoryUser } | { ok: false; cause: 'not_found' | 'unavailable' };

export interface ActorRefusal {
  code: string;
  message: string;
}

/** users.info for the actor, or why it could not be had in time (never throws). */
export async function lookUpActor(ctx: AppContext, slackId: string, budgetMs = ACTOR_LOOKUP_BUDGET_MS): Promise<ActorLookup> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), budgetMs);
  });
  try {
    const user = await Promise.race([ctx.slack.userInfo(slackId), late]);
    if (user === 'late') {
      ctx.logger.warn({ user: slackId, budgetMs }, 'users.info did not answer in time');
      return { ok: false, cause: 'unavailable' };
    }
    return user ? { ok: true, user } : { ok: false, cause: 'not_found' };
  } catch (err) {
    ctx.logger.warn({ user: slackId, err: (err as Error).message }, 'users.info failed');
    return { ok: false, cause: 'unavailable' };
  } finally {
    clearTimeout(timer);
  }
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
export function actorRefusal(ctx: AppContext, actor: ActorLookup, act: 'request' | 'decide'): ActorRefusal | undefined {
  if (!actor.ok) {
    return actor.cause === 'not_found' ? { code: 'account_not_found', message: 'Slack does not know your account, so access-bot cannot tell who you are.' } : undefined;
  }
  const problem = accountProblem(actor.user.account, { allowGuests: ctx.allowGuests });
  return problem ? { code: `account_${problem}`, message: describeAccountProblem(problem, act) } : undefined;
}

/** A refused `/access`: told privately (through the outbox, like every reply); no request exists to audit. */
export function refuseRequester(ctx: AppContext, reply: ReplyTarget, refusal: ActorRefusal): void {
  ctx.store.tx(() => {
    enqueue(ctx.store, { kind: 'slack.ephemeral', user: reply.user, channel: reply.channel, responseUrl: reply.responseUrl, text: refusal.message });
  });
}
