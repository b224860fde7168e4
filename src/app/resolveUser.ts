/**
 * Finding the requester's IdP user: the `idp.resolveUser` effect, run after approval, before the
 * grant (app/grant.ts).
 *
 * Why the lookup is an effect of its own, run after approval: the grant must run in the queue of
 * the IdP user (app/effects.ts), which only the lookup names; two requests under two emails of
 * one person then share one line of membership changes. Not at routing time: approval may come
 * days after the request, the IdP account can be created, renamed or replaced meanwhile, and a
 * denied request needs no IdP call at all.
 */
import { formatTime } from '../domain/steps.js';
import { PermanentError } from '../outbox/errors.js';
import { isStoppedPart, STOPPED_CAUSE, stopIfEnded } from './bundle.js';
import { connectorFor } from './connectors.js';
import { mustGet, type Deps, type InTx } from './context.js';
import { enqueue, type EffectOf, type Skipped } from './effects.js';
import { failRequest } from './fail.js';

/** What resolving touches. */
export type ResolveDeps = Deps<'store' | 'catalog' | 'now' | 'connectors' | 'adminChannel'>;

export type ResolveResult = { idpUserId: string } | Skipped;

/** What a resolve (or a grant an older version enqueued by email) needs from its payload. */
type ResolveInput = Omit<EffectOf<'idp.resolveUser'>, 'kind'>;

export async function runResolve(ctx: ResolveDeps, e: ResolveInput): Promise<ResolveResult> {
  const r = ctx.store.getRequest(e.requestId);
  if (!r || r.state !== 'approved') return { skipped: `request is ${r?.state ?? 'missing'}` };
  if (isStoppedPart(r)) return { skipped: STOPPED_CAUSE };
  // Approved by a rule that matched the requester's on-call shift: once the shift is over, nothing is granted.
  if (r.endsBy !== null && r.endsBy <= ctx.now()) throw new PermanentError(`the on-call shift its approval rule matched ended at ${formatTime(r.endsBy)}, before access could be granted`, 'on_call_shift_ended');
  const idp = connectorFor(ctx, e.connector);
  const user = await idp.findUserByEmail(e.email);
  if (!user) throw new PermanentError(`no ${idp.name} user has the email ${e.email}`);
  return { idpUserId: user.id };
}

/**
 * Records the IdP user and enqueues the grant in that user's queue, in one transaction: from
 * here on the request counts as a holder of the membership (Store.otherHoldersOf).
 */
export function resolveDone(ctx: InTx<ResolveDeps>, e: ResolveInput, result: ResolveResult): void {
  if ('skipped' in result) return stopIfEnded(ctx, e.requestId);
  const r = mustGet(ctx, e.requestId);
  if (r.state !== 'approved') return;
  ctx.store.updateRequest(r.id, { idpUserId: result.idpUserId }, ctx.now());
  // Found by the requester's email: that person's id in this IdP.
  ctx.store.setIdpUserId(r.requesterId, e.connector, result.idpUserId, ctx.now());
  enqueue(ctx.store, { kind: 'idp.grant', requestId: r.id, connector: e.connector, group: e.group, idpUserId: result.idpUserId });
}

/** Nothing was sent to the group yet: the request fails with the cause. */
export function resolveDead(ctx: InTx<ResolveDeps>, e: ResolveInput, error: Error): void {
  failRequest(ctx, e.requestId, `granting access failed: ${error.message}`);
}
