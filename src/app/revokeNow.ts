/**
 * Ending a grant before it expires: the requester gives access back, or one of the request's
 * approvers (or an owner of the application) takes it away. Recorded as "Access revoked (by …)".
 * Who may is `canRevoke`, against the catalog as it is at click time.
 */
import { canRevoke } from '../domain/approval.js';
import { catalogNowOf } from '../domain/bundle.js';
import { samePerson } from '../domain/people.js';
import { who } from '../domain/steps.js';
import { actorRefusal } from './actor.js';
import { actorOf, inTx, type Deps, type InTx } from './context.js';
import { refuse, type ReplyTarget } from './decide.js';
import { approverActor, approverRef, requesterRef, type ActingPerson } from './people.js';
import { startRevocation } from './revoke.js';

export interface RevokeNowOpts {
  requestId: string;
  /** Who clicked Revoke (or moved the issue to a revoked status), resolved by the people service. */
  actor: ActingPerson;
  /** Where a refusal is answered privately; absent: the caller answers it (a move in Jira). */
  reply?: ReplyTarget;
}

export type RevokeNowResult = { ok: true } | { ok: false; code: string; message: string };

export type RevokeNowDeps = Deps<'store' | 'catalog' | 'now' | 'allowGuests' | 'adminChannel'>;

export function revokeNow(deps: RevokeNowDeps, opts: RevokeNowOpts): RevokeNowResult {
  return deps.store.tx((store) => revokeNowIn(inTx(deps, store), opts));
}

/** Revoking inside the caller's transaction (a move in Jira revokes in the effect's). */
export function revokeNowIn(ctx: InTx<RevokeNowDeps>, opts: RevokeNowOpts): RevokeNowResult {
  const r = ctx.store.getRequest(opts.requestId);
  if (!r) return refuse(ctx, r, opts, 'unknown_request', 'This request does not exist (any more).');
  const mine = ctx.store.approversOf(r.id).filter((a) => samePerson(approverRef(a), opts.actor.ref));
  const { account } = opts.actor;
  // An owner is recognised by email: the one the directory gave for a Slack user.
  const email = opts.actor.ref.email ?? (account.ok ? account.user.email : undefined);
  const right = canRevoke({ actor: { ...opts.actor.ref, email }, requester: requesterRef(r), asApprover: mine, now: catalogNowOf(ctx.catalog(), r) });
  // Giving one's own access back never widens access, so the requester's account is not checked.
  const refusal = right.ok && right.as === 'requester' ? undefined : actorRefusal(ctx, opts.actor, 'decide');
  if (refusal) return refuse(ctx, r, opts, refusal.code, refusal.message);
  if (!right.ok) {
    return right.code === 'no_longer_listed'
      ? refuse(ctx, r, opts, 'no_longer_listed', 'You are no longer an approver of this request: the access catalog changed since you were asked, so you cannot revoke it.')
      : refuse(ctx, r, opts, 'not_allowed', 'Only the requester, an approver of this request or an owner of the application can revoke it.');
  }
  if (r.state !== 'active') return refuse(ctx, r, opts, 'not_active', r.state === 'revoking' || r.state === 'revoked' ? 'This access is already being revoked or was revoked.' : 'This access is not active.');
  const me = mine[0];
  const by = right.as === 'requester' ? who(actorOf(r)) : right.as === 'approver' && me ? who(approverActor(me)) : who({ ...opts.actor.actor, email });
  startRevocation(ctx, r.id, 'manual', by);
  return { ok: true };
}
