/**
 * Revoking: when a grant ends (expiry, or a person revokes it), the `idp.revoke` effect removes
 * the membership only if access-bot owns it and no other grant still needs it.
 *
 * The decision is taken when the effect runs, not when it is enqueued: effects of one
 * (group, IdP user) run in one queue, so it sees every earlier grant and revocation settled.
 */
import { canTransition, transition } from '../domain/lifecycle.js';
import { forgetsOwnership, revokeRemoves, type KeptBecause } from '../domain/membership.js';
import { bundleOf, endBundle, settleBundle } from './bundle.js';
import { asRevokeCause, type RevokeCause } from '../domain/steps.js';
import { connectorFor } from './connectors.js';
import { alertAdmins, mustGet, notifyRequester, recordStep, transitionIssue, updateApproverCards, type Deps, type InTx, type Tx } from './context.js';
import { enqueue, type EffectOf } from './effects.js';
import type { RequestRecord } from './ports/store.js';

/** What revoking touches. */
export type RevokeDeps = Deps<'store' | 'catalog' | 'now' | 'connectors' | 'adminChannel'>;

export interface RevokeResult {
  removed: boolean;
  keptBecause?: KeptBecause;
}

/**
 * Starts revocation of an active grant (inside a transaction); returns whether it started. A
 * bundle ends every part (app/bundle.ts), and ending one part of an active bundle ends the bundle.
 * `reason` says why in words, for reclaim (the sign-in facts) and offboarding (the departure).
 */
export function startRevocation(ctx: Tx, requestId: string, cause: RevokeCause, by?: string, reason?: string): boolean {
  const r = mustGet(ctx, requestId);
  const bundle = r.partOf ? mustGet(ctx, r.partOf) : undefined;
  if (bundle?.state === 'active') return endBundle(ctx, bundle, cause, by, reason);
  if (r.bundleParts) return endBundle(ctx, r, cause, by, reason);
  if (!markRevoking(ctx, r, cause, by, reason) || !r.idpUserId) return false;
  enqueue(ctx.store, { kind: 'idp.revoke', requestId: r.id, connector: r.connector, group: r.groupId, idpUserId: r.idpUserId });
  return true;
}

/**
 * Claims the end of an active grant (inside a transaction): `revoking`, with why, and no longer a
 * holder of its membership (Store.otherHoldersOf). Whoever calls it removes the membership, or
 * learns it is gone, and then calls `finishRevocation`. False when it cannot end (not active).
 */
export function markRevoking(ctx: Pick<Tx, 'store' | 'now'>, r: RequestRecord, cause: RevokeCause, by?: string, reason?: string): boolean {
  const event = cause === 'expired' ? 'expire' : 'revoke';
  if (!canTransition(r.state, event) || !r.idpUserId) return false;
  const now = ctx.now();
  ctx.store.updateRequest(r.id, { state: transition(r.state, event), revokeRequestedAt: now, revokeCause: cause, revokedBy: by ?? null, revokeReason: reason ?? null }, now);
  return true;
}

/**
 * An `idp.revoke` an older version enqueued by email, in an email-keyed queue: it moves to the
 * IdP user's queue (enqueued anew there) instead of running beside that queue's changes.
 */
export function handOverRevoke(ctx: InTx<RevokeDeps>, requestId: string): void {
  const r = mustGet(ctx, requestId);
  if (r.state === 'revoking' && r.idpUserId) enqueue(ctx.store, { kind: 'idp.revoke', requestId: r.id, connector: r.connector, group: r.groupId, idpUserId: r.idpUserId });
}

export async function runRevoke(ctx: RevokeDeps, e: EffectOf<'idp.revoke'>): Promise<RevokeResult | { skipped: string }> {
  const r = ctx.store.getRequest(e.requestId);
  if (!r || r.state !== 'revoking' || !r.idpUserId) return { skipped: `request is ${r?.state ?? 'missing'}` };
  const verdict = revokeRemoves({
    record: ctx.store.getMembership(r.connector, r.groupId, r.idpUserId),
    otherHolders: ctx.store.otherHoldersOf(r.connector, r.groupId, r.idpUserId, r.id),
    whoeverAdded: r.origin === 'standing' || r.revokeCause === 'reclaimed',
  });
  if (!verdict.remove) return { removed: false, keptBecause: verdict.keptBecause };
  await connectorFor(ctx, r.connector).removeMember(r.groupId, r.idpUserId);
  return { removed: true };
}

export function revokeDone(ctx: InTx<RevokeDeps>, e: EffectOf<'idp.revoke'>, result: RevokeResult | { skipped: string }): void {
  if ('skipped' in result) return;
  finishRevocation(ctx, mustGet(ctx, e.requestId), result);
}

/**
 * A grant being revoked (`revoking`) whose membership change is settled: revoked, on the record,
 * told. Also how a removal ends the grants of the membership it removed (app/remove.ts).
 */
export function finishRevocation(ctx: Pick<Tx, 'store' | 'now' | 'catalog'>, r: RequestRecord, result: RevokeResult): void {
  if (!canTransition(r.state, 'revoked') || !r.idpUserId) return;
  const now = ctx.now();
  ctx.store.updateRequest(r.id, { state: transition(r.state, 'revoked'), revokedAt: now }, now);
  if (result.removed) ctx.store.membershipRemoved(r.connector, r.groupId, r.idpUserId, now);
  if (result.keptBecause !== 'other_grant' && forgetsOwnership(ctx.store.otherHoldersOf(r.connector, r.groupId, r.idpUserId, r.id))) {
    ctx.store.deleteMembership(r.connector, r.groupId, r.idpUserId);
  }
  if (result.removed) ctx.store.membershipRemoved(r.connector, r.groupId, r.idpUserId, now);
  const cause = asRevokeCause(r.revokeCause);
  const part = bundleOf(ctx, r);
  recordStep(
    ctx,
    r,
    {
      type: 'revoked',
      cause,
      actor: r.revokedBy ? { name: r.revokedBy } : undefined,
      why: r.revokeReason ?? undefined,
      standing: r.origin === 'standing' || undefined,
      connector: r.connector,
      group: r.groupId,
      idpUserId: r.idpUserId,
      removed: result.removed,
      keptBecause: result.keptBecause,
      part: part?.ref,
    },
    r.revokedBy ?? 'access-bot',
    now,
  );
  // A part is told of, and shown, through its bundle, which ends once every part has.
  if (part) return settleBundle(ctx, part.bundle.id);
  transitionIssue(ctx, r, 'revoked');
  enqueue(ctx.store, { kind: 'slack.requesterGrantUpdate', requestId: r.id });
  if (r.reclaimWarnedAt !== null) enqueue(ctx.store, { kind: 'slack.reclaimWarningUpdate', requestId: r.id });
  // Someone who left is not written to: their Slack account is gone or about to be.
  if (cause !== 'offboarded') notifyRequester(ctx, r, { type: 'revoked', cause, by: r.revokedBy ?? undefined });
  updateApproverCards(ctx, r.id);
}

/** Removal failed for good: the person still has access. Loud, on the issue and to admins. */
export function revokeDead(ctx: InTx<RevokeDeps>, e: EffectOf<'idp.revoke'>, error: Error): void {
  const r = mustGet(ctx, e.requestId);
  recordStep(ctx, r, { type: 'failed', cause: `revoking access failed, the membership is still in place: ${error.message}`, part: bundleOf(ctx, r)?.ref }, 'access-bot');
  alertAdmins(ctx, `Revoking ${r.jiraKey ?? r.id} (${r.connector} group ${r.groupId} for ${r.requesterEmail}) failed: ${error.message}. The membership is still in place; fix the cause and retry the effect.`, r.id);
}
