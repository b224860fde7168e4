/**
 * Carrying out a removal: the `idp.remove` effect takes a membership away on the authority of an
 * approved removal request, or of an approved change once its new role is granted (the role it
 * leaves). It runs in the membership's queue (app/effects.ts), after every earlier grant and
 * revocation of it.
 *
 * Ownership (ARCHITECTURE.md §1.5) decides what a grant's end removes; a removal is different: it
 * was approved for this membership, so it removes it whoever added it. What the record says
 * follows ownership (domain/removal.ts): access-bot's own grant, which ends with it, or standing
 * access it did not grant. What the check found is recorded before the removal is sent, so a
 * retry after a lost answer does not take its own removal for "not a member".
 */
import { transition } from '../domain/lifecycle.js';
import { removalOutcome, requestTitle, type RemovalOutcome } from '../domain/removal.js';
import { connectorFor } from './connectors.js';
import { alertAdmins, mustGet, notifyRequester, recordStep, transitionIssue, type Deps, type InTx, type Tx } from './context.js';
import type { EffectOf, Skipped } from './effects.js';
import { failRequest } from './fail.js';
import { awaitsRemoval } from './fulfil.js';
import type { RequestRecord } from './ports/store.js';
import { keyOf } from './requestView.js';
import { finishRevocation, markRevoking } from './revoke.js';

/** What removing touches. */
export type RemoveDeps = Deps<'store' | 'catalog' | 'now' | 'connectors' | 'adminChannel'>;

export type RemoveResult = { outcome: RemovalOutcome } | Skipped;

export async function runRemove(ctx: RemoveDeps, e: EffectOf<'idp.remove'>): Promise<RemoveResult> {
  const r = ctx.store.getRequest(e.requestId);
  if (!r || !awaitsRemoval(r)) return { skipped: `request is ${r?.state ?? 'missing'}` };
  const idp = connectorFor(ctx, e.connector);
  let outcome = r.removalOutcome;
  if (outcome === null) {
    outcome = removalOutcome({
      isMember: await idp.isMember(e.group, e.idpUserId),
      record: ctx.store.getMembership(e.connector, e.group, e.idpUserId),
      // access-bot's grants only: inactivity reclaim's record of standing access is not one.
      activeGrants: ctx.store.activeGrantsOf(e.connector, e.group, e.idpUserId, r.id).filter((g) => g.origin === 'request').length,
    });
    ctx.store.updateRequest(r.id, { removalOutcome: outcome }, ctx.now());
  }
  // "Not a member" is success: a retry removes what is already gone without an error.
  if (outcome !== 'not_member') await idp.removeMember(e.group, e.idpUserId);
  return { outcome };
}

/**
 * The membership is gone: access-bot's grants of it end ("Access revoked (by removal request
 * ACC-5)" on theirs), and so does inactivity reclaim's record of it as standing access; its
 * ownership record goes, and the request's record says what was removed.
 */
export function removeDone(ctx: InTx<RemoveDeps>, e: EffectOf<'idp.remove'>, result: RemoveResult): void {
  if ('skipped' in result) return;
  const r = mustGet(ctx, e.requestId);
  if (!awaitsRemoval(r)) return;
  const now = ctx.now();
  const by = `${requestTitle(r.kind).toLowerCase()} ${keyOf(r)}`;
  const ended = ctx.store.activeGrantsOf(e.connector, e.group, e.idpUserId, r.id);
  for (const g of ended) {
    if (markRevoking(ctx, g, 'manual', by)) finishRevocation(ctx, mustGet(ctx, g.id), { removed: true });
  }
  // Nobody holds the membership any more: the next grant checks it afresh.
  ctx.store.deleteMembership(e.connector, e.group, e.idpUserId);
  ctx.store.membershipRemoved(e.connector, e.group, e.idpUserId, now);
  if (r.kind === 'removal') ctx.store.updateRequest(r.id, { state: transition(r.state, 'removed'), removedAt: now }, now);
  else ctx.store.updateRequest(r.id, { removedAt: now }, now);
  recordStep(
    ctx,
    r,
    {
      type: 'removed',
      request: r.kind === 'change' ? 'change' : 'removal',
      connector: e.connector,
      group: e.group,
      idpUserId: e.idpUserId,
      outcome: result.outcome,
      ended: ended.filter((g) => g.origin === 'request').map(keyOf),
      ...(ended.some((g) => g.origin === 'standing') ? { endedStanding: ended.filter((g) => g.origin === 'standing').map(keyOf) } : {}),
      ...(r.kind === 'change' ? { fromRole: r.fromRoleName ?? undefined, toRole: r.roleName } : {}),
    },
    'access-bot',
    now,
  );
  if (r.kind === 'removal') transitionIssue(ctx, r, 'revoked');
  notifyRequester(ctx, r, { type: 'removed', outcome: result.outcome, ...(r.kind === 'change' ? { from: r.fromRoleName ?? undefined } : {}) });
}

/** The removal failed for good: the membership may still be in place. Loud, on the issue and to admins. */
export function removeDead(ctx: InTx<RemoveDeps>, e: EffectOf<'idp.remove'>, error: Error): void {
  removalFailed(ctx, e.requestId, `removing access failed, the membership may still be in place: ${error.message}`);
}

/**
 * A removal that could not be carried out. A removal request fails with the cause; a change keeps
 * the new role it was granted, and its record and the admins say the old one was not removed.
 */
export function removalFailed(ctx: Tx, requestId: string, cause: string): void {
  const r = mustGet(ctx, requestId);
  if (!awaitsRemoval(r)) return;
  if (r.kind === 'removal') return failRequest(ctx, r.id, cause);
  recordStep(ctx, r, { type: 'failed', cause: `${cause} (the old role ${r.fromRoleName ?? '?'} is still held; the new one stays granted)` }, 'access-bot');
  alertAdmins(ctx, changeFailedText(r, cause), r.id);
}

function changeFailedText(r: RequestRecord, cause: string): string {
  return `Change request ${keyOf(r)} (${r.appName}: ${r.fromRoleName ?? '?'} → ${r.roleName}) granted the new role, but ${cause}. Remove ${r.fromConnector ?? '?'} group ${r.fromGroupId ?? '?'} by hand or retry the effect.`;
}
