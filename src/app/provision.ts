/**
 * Granting: the `idp.grant` effect adds the requester to the role's group, and the request
 * becomes active with its expiry clock started when the membership is in place.
 *
 * Ownership (ARCHITECTURE.md §1.5): before the bot's first add for a (group, user), it checks
 * membership and records whether it owns it. The record is written before the add is sent, so a
 * crash between the two still leaves the bot the owner of what it added.
 */
import { canTransition, transition } from '../domain/lifecycle.js';
import { PermanentError } from '../outbox/errors.js';
import { connectorWith } from './connectors.js';
import { mustGet, notifyRequester, recordStep, transitionIssue, updateApproverCards, type AppContext } from './context.js';
import type { EffectOf } from './effects.js';
import { failRequest } from './fail.js';
import type { IdpConnectorWith } from './ports/idp.js';

export interface GrantResult {
  idpUserId: string;
  preexisting: boolean;
}

export function connectorFor(ctx: AppContext, name: string): IdpConnectorWith<'userDirectory' | 'memberships'> {
  return connectorWith(ctx.connectors, name, 'userDirectory', 'memberships');
}

export async function runGrant(ctx: AppContext, e: EffectOf<'idp.grant'>): Promise<GrantResult | { skipped: string }> {
  const r = ctx.store.getRequest(e.requestId);
  if (!r || r.state !== 'approved') return { skipped: `request is ${r?.state ?? 'missing'}` };
  const idp = connectorFor(ctx, e.connector);
  const user = await idp.findUserByEmail(e.email);
  if (!user) throw new PermanentError(`no ${idp.name} user has the email ${e.email}`);
  // Known before the add, so that a grant that fails for good can drop the ownership record below.
  if (r.idpUserId !== user.id) ctx.store.updateRequest(r.id, { idpUserId: user.id }, ctx.now());
  let record = ctx.store.getMembership(idp.name, e.group, user.id);
  if (!record) {
    const member = await idp.isMember(e.group, user.id);
    record = ctx.store.recordMembership(idp.name, e.group, user.id, !member, ctx.now());
  }
  await idp.addMember(e.group, user.id);
  return { idpUserId: user.id, preexisting: !record.owned };
}

export function grantDone(ctx: AppContext, e: EffectOf<'idp.grant'>, result: GrantResult | { skipped: string }): void {
  if ('skipped' in result) return;
  const r = mustGet(ctx, e.requestId);
  if (!canTransition(r.state, 'provisioned')) return;
  const now = ctx.now();
  const expiresAt = r.durationMs === null ? null : now + r.durationMs;
  ctx.store.updateRequest(r.id, { state: transition(r.state, 'provisioned'), grantedAt: now, expiresAt, idpUserId: result.idpUserId }, now);
  recordStep(ctx, r, { type: 'granted', connector: r.connector, group: r.groupId, idpUserId: result.idpUserId, expiresAt, preexisting: result.preexisting }, 'access-bot', now);
  transitionIssue(ctx, r, 'active');
  notifyRequester(ctx, r, { type: 'granted', expiresAt });
  updateApproverCards(ctx, r.id);
  ctx.onExpiryChanged();
}

export function grantDead(ctx: AppContext, e: EffectOf<'idp.grant'>, error: Error): void {
  failRequest(ctx, e.requestId, `granting access failed: ${error.message}`);
  // The ownership record was written before the add; with the add failed for good and no other
  // grant holding the membership, it must not make a later grant believe the bot added it.
  const r = mustGet(ctx, e.requestId);
  if (r.idpUserId && ctx.store.otherHoldersOf(r.connector, r.groupId, e.email, r.id) === 0) ctx.store.deleteMembership(r.connector, r.groupId, r.idpUserId);
}

