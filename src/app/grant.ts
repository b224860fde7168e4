/**
 * Granting: `idp.grant` adds the requester's IdP user (found by `idp.resolveUser`,
 * app/resolveUser.ts) to the role's group, and the request becomes active with its expiry clock
 * started when the membership is in place.
 *
 * Ownership (ARCHITECTURE.md §1.5): before the bot's first add for a (group, user), it checks
 * membership and records whether it owns it. The record is written before the add is sent, so a
 * crash between the two still leaves the bot the owner of what it added.
 *
 * A pending add (ports/idp.ts PendingAdd: GitHub's invitation to the organization) is recorded
 * once, as the `grant_pending` step in the transaction that completes the effect, and the grant
 * goes on as a new `idp.grant` in the same queue. While that step is the request's last grant
 * outcome (domain/steps.ts awaitsPendingGrant), a grant only reads the membership, through
 * `confirmMembership`, until it is in force; it never adds again. Running out of the outbox's
 * retry age, or an invitation declined, fails the grant, and the undo removes the pending
 * membership.
 */
import { canTransition, transition } from '../domain/lifecycle.js';
import { ownsFirstAdd } from '../domain/membership.js';
import { grantEnd } from '../domain/onCall.js';
import { awaitsPendingGrant } from '../domain/steps.js';
import { isStoppedPart, partGranted, STOPPED_CAUSE, stopIfEnded } from './bundle.js';
import { connectorFor, connectorWith } from './connectors.js';
import { mustGet, notifyRequester, recordStep, transitionIssue, updateApproverCards, type Deps, type InTx } from './context.js';
import { enqueue, type EffectOf, type Skipped } from './effects.js';
import type { RequestRecord } from './ports/store.js';
import { startChangeRemoval } from './fulfil.js';
import { startRevocation } from './revoke.js';
import { armWarnings } from './warnings.js';

/** What granting touches. */
export type GrantDeps = Deps<'store' | 'catalog' | 'now' | 'connectors' | 'adminChannel' | 'onExpiryChanged'>;

export interface GrantResult {
  idpUserId: string;
  preexisting: boolean;
  /** The add is pending (PendingAdd), in the connector's words: not granted yet. */
  pending?: string;
}

export async function runGrant(ctx: GrantDeps, e: EffectOf<'idp.grant'>): Promise<GrantResult | Skipped> {
  const r = ctx.store.getRequest(e.requestId);
  if (!r || r.state !== 'approved') return { skipped: `request is ${r?.state ?? 'missing'}` };
  if (isStoppedPart(r)) return { skipped: STOPPED_CAUSE };
  const idp = connectorFor(ctx, e.connector);
  let record = ctx.store.getMembership(idp.name, e.group, e.idpUserId);
  if (!record) {
    const member = await idp.isMember(e.group, e.idpUserId);
    record = ctx.store.recordMembership(idp.name, e.group, e.idpUserId, ownsFirstAdd(member), ctx.now());
  }
  const granted = { idpUserId: e.idpUserId, preexisting: !record.owned };
  if (awaitsPendingGrant(ctx.store.auditOf(r.id).map((a) => a.step))) {
    await connectorWith(ctx.connectors, e.connector, 'pendingMemberships').confirmMembership(e.group, e.idpUserId);
    return granted;
  }
  const added = await idp.addMember(e.group, e.idpUserId);
  return added ? { ...granted, pending: added.pending } : granted;
}

export function grantDone(ctx: InTx<GrantDeps>, e: EffectOf<'idp.grant'>, result: GrantResult | Skipped): void {
  if ('skipped' in result) return stopIfEnded(ctx, e.requestId);
  const r = mustGet(ctx, e.requestId);
  if (!canTransition(r.state, 'provisioned')) return;
  if (result.pending !== undefined) return grantPending(ctx, e, r, result.pending);
  const now = ctx.now();
  // A bundle's part has no clock of its own: it ends with its bundle (app/bundle.ts). Approved
  // because the requester is on call: no later than the end of the shift.
  const expiresAt = r.partOf ? null : grantEnd(now, r.durationMs, r.endsBy);
  const shiftEnd = r.endsBy !== null && expiresAt === r.endsBy ? true : undefined;
  ctx.store.updateRequest(r.id, { state: transition(r.state, 'provisioned'), grantedAt: now, expiresAt, idpUserId: result.idpUserId }, now);
  if (r.partOf) return partGranted(ctx, mustGet(ctx, r.id), result);
  recordStep(ctx, r, { type: 'granted', connector: r.connector, group: r.groupId, idpUserId: result.idpUserId, expiresAt, preexisting: result.preexisting, shiftEnd }, 'access-bot', now);
  transitionIssue(ctx, r, 'active');
  // The holder left while the grant was on its way (app/offboard.ts): it ends as it lands.
  if (r.revokeCause === 'offboarded') {
    startRevocation(ctx, r.id, 'offboarded', undefined, r.revokeReason ?? undefined);
    return;
  }
  notifyRequester(ctx, r, { type: 'granted', expiresAt });
  armWarnings(ctx, r.id);
  updateApproverCards(ctx, r.id);
  // A change: the new role is in place, so the one it leaves goes now.
  startChangeRemoval(ctx, mustGet(ctx, r.id));
  ctx.onExpiryChanged();
}

/** Said once, on Jira and to the requester; then the grant waits for the membership in the user's queue. */
function grantPending(ctx: InTx<GrantDeps>, e: EffectOf<'idp.grant'>, r: RequestRecord, notice: string): void {
  recordStep(ctx, r, { type: 'grant_pending', connector: r.connector, group: r.groupId, idpUserId: e.idpUserId, notice }, 'access-bot');
  notifyRequester(ctx, r, { type: 'grant_pending', notice });
  enqueue(ctx.store, { kind: 'idp.grant', requestId: r.id, connector: e.connector, group: e.group, idpUserId: e.idpUserId });
}

/**
 * The grant failed for good, but an earlier attempt's add may have landed (a timeout or a 5xx
 * after the IdP carried it out). This runs in a transaction and cannot ask the IdP, so the
 * check and clean-up are an effect of their own (app/undoGrant.ts), in the user's queue; the
 * request fails once it is known what was left.
 */
export function grantDead(ctx: InTx<GrantDeps>, e: EffectOf<'idp.grant'>, error: Error): void {
  const r = mustGet(ctx, e.requestId);
  if (!canTransition(r.state, 'fail')) return;
  enqueue(ctx.store, { kind: 'idp.undoGrant', requestId: r.id, connector: e.connector, group: e.group, idpUserId: e.idpUserId, cause: `granting access failed: ${error.message}` });
}
