/**
 * Granting, in two effects: `idp.resolveUser` finds the requester's IdP user, then `idp.grant`
 * adds them to the role's group, and the request becomes active with its expiry clock started
 * when the membership is in place.
 *
 * Why the lookup is an effect of its own, run after approval: the grant must run in the queue of
 * the IdP user (app/effects.ts), which only the lookup names; two requests under two emails of
 * one person then share one line of membership changes. Not at routing time: approval may come
 * days after the request, the IdP account can be created, renamed or replaced meanwhile, and a
 * denied request needs no IdP call at all.
 *
 * Ownership (ARCHITECTURE.md §1.5): before the bot's first add for a (group, user), it checks
 * membership and records whether it owns it. The record is written before the add is sent, so a
 * crash between the two still leaves the bot the owner of what it added.
 */
import { canTransition, transition } from '../domain/lifecycle.js';
import { ownsFirstAdd } from '../domain/membership.js';
import { PermanentError } from '../outbox/errors.js';
import { connectorWith } from './connectors.js';
import { mustGet, notifyRequester, recordStep, transitionIssue, updateApproverCards, type Deps } from './context.js';
import { enqueue, type EffectOf } from './effects.js';
import { failRequest } from './fail.js';
import type { IdpConnectorWith } from './ports/idp.js';
import { armWarnings } from './warnings.js';

/** What granting touches. */
export type GrantDeps = Deps<'store' | 'catalog' | 'now' | 'connectors' | 'adminChannel' | 'onExpiryChanged'>;

export interface GrantResult {
  idpUserId: string;
  preexisting: boolean;
}

export type Skipped = { skipped: string };
export type ResolveResult = { idpUserId: string } | Skipped;

export function connectorFor(ctx: Deps<'connectors'>, name: string): IdpConnectorWith<'userDirectory' | 'memberships'> {
  return connectorWith(ctx.connectors, name, 'userDirectory', 'memberships');
}

/** What a resolve (or a grant an older version enqueued by email) needs from its payload. */
type ResolveInput = Omit<EffectOf<'idp.resolveUser'>, 'kind'>;

export async function runResolve(ctx: GrantDeps, e: ResolveInput): Promise<ResolveResult> {
  const r = ctx.store.getRequest(e.requestId);
  if (!r || r.state !== 'approved') return { skipped: `request is ${r?.state ?? 'missing'}` };
  const idp = connectorFor(ctx, e.connector);
  const user = await idp.findUserByEmail(e.email);
  if (!user) throw new PermanentError(`no ${idp.name} user has the email ${e.email}`);
  return { idpUserId: user.id };
}

/**
 * Records the IdP user and enqueues the grant in that user's queue, in one transaction: from
 * here on the request counts as a holder of the membership (Store.otherHoldersOf).
 */
export function resolveDone(ctx: GrantDeps, e: ResolveInput, result: ResolveResult): void {
  if ('skipped' in result) return;
  const r = mustGet(ctx, e.requestId);
  if (r.state !== 'approved') return;
  ctx.store.updateRequest(r.id, { idpUserId: result.idpUserId }, ctx.now());
  // Found by the requester's email: that person's id in this IdP.
  ctx.store.setIdpUserId(r.requesterId, e.connector, result.idpUserId, ctx.now());
  enqueue(ctx.store, { kind: 'idp.grant', requestId: r.id, connector: e.connector, group: e.group, idpUserId: result.idpUserId });
}

/** Nothing was sent to the group yet: the request fails with the cause. */
export function resolveDead(ctx: GrantDeps, e: ResolveInput, error: Error): void {
  failRequest(ctx, e.requestId, `granting access failed: ${error.message}`);
}

export async function runGrant(ctx: GrantDeps, e: EffectOf<'idp.grant'>): Promise<GrantResult | Skipped> {
  const r = ctx.store.getRequest(e.requestId);
  if (!r || r.state !== 'approved') return { skipped: `request is ${r?.state ?? 'missing'}` };
  const idp = connectorFor(ctx, e.connector);
  let record = ctx.store.getMembership(idp.name, e.group, e.idpUserId);
  if (!record) {
    const member = await idp.isMember(e.group, e.idpUserId);
    record = ctx.store.recordMembership(idp.name, e.group, e.idpUserId, ownsFirstAdd(member), ctx.now());
  }
  await idp.addMember(e.group, e.idpUserId);
  return { idpUserId: e.idpUserId, preexisting: !record.owned };
}

export function grantDone(ctx: GrantDeps, e: EffectOf<'idp.grant'>, result: GrantResult | Skipped): void {
  if ('skipped' in result) return;
  const r = mustGet(ctx, e.requestId);
  if (!canTransition(r.state, 'provisioned')) return;
  const now = ctx.now();
  const expiresAt = r.durationMs === null ? null : now + r.durationMs;
  ctx.store.updateRequest(r.id, { state: transition(r.state, 'provisioned'), grantedAt: now, expiresAt, idpUserId: result.idpUserId }, now);
  recordStep(ctx, r, { type: 'granted', connector: r.connector, group: r.groupId, idpUserId: result.idpUserId, expiresAt, preexisting: result.preexisting }, 'access-bot', now);
  transitionIssue(ctx, r, 'active');
  notifyRequester(ctx, r, { type: 'granted', expiresAt });
  armWarnings(ctx, r.id);
  updateApproverCards(ctx, r.id);
  ctx.onExpiryChanged();
}

/**
 * The grant failed for good, but an earlier attempt's add may have landed (a timeout or a 5xx
 * after the IdP carried it out). This runs in a transaction and cannot ask the IdP, so the
 * check and clean-up are an effect of their own (app/undoGrant.ts), in the user's queue; the
 * request fails once it is known what was left.
 */
export function grantDead(ctx: GrantDeps, e: EffectOf<'idp.grant'>, error: Error): void {
  const r = mustGet(ctx, e.requestId);
  if (!canTransition(r.state, 'fail')) return;
  enqueue(ctx.store, { kind: 'idp.undoGrant', requestId: r.id, connector: e.connector, group: e.group, idpUserId: e.idpUserId, cause: `granting access failed: ${error.message}` });
}
