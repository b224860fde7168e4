/**
 * Bundles in motion (domain/bundle.ts has the rules). A bundle request is routed, voted on and
 * timed out like any request. Once approved, each part becomes a request of its own (`partOf`)
 * that goes through the ordinary path, one effect at a time and each idempotent: the IdP user
 * lookup, the grant (with the ownership check before the first add), the undo of a grant that
 * failed for good, the revocation. So a part that fails is retried alone (by the outbox, then by
 * an admin's `access-bot effects retry`), and ownership holds per part as for single grants.
 *
 * This file is where the parts report back to their bundle, inside the transaction that records
 * each part's outcome:
 *   - the first part in place makes the bundle active and starts its clock; every part ends then;
 *   - the last part in place completes it ("Bundle complete", and the requester's "Access granted");
 *   - a part that fails for good says which part is missing ("Bundle incomplete"), the others stay;
 *     when no part could be granted at all, the bundle fails;
 *   - revoking the bundle (expiry, Revoke now, or a revocation asked of any one part) revokes
 *     every part; parts still on their way are stopped; once no part holds a membership the
 *     bundle is revoked ("Bundle revoked").
 */
import { bundleProgress, partLabel, partRefOf, type PartRef } from '../domain/bundle.js';
import { canTransition, transition } from '../domain/lifecycle.js';
import { asRevokeCause, type RevokeCause } from '../domain/steps.js';
import { alertAdmins, mustGet, notifyRequester, recordStep, transitionIssue, updateApproverCards, type AppContext, type Tx } from './context.js';
import { enqueue } from './effects.js';
import { failRequest } from './fail.js';
import type { RequestRecord } from './ports/store.js';
import { startRevocation } from './revoke.js';
import { armWarnings } from './warnings.js';

/** What a part reporting back touches (a bundle that becomes active re-arms the expiry timer). */
export type BundleTx = Tx & Pick<AppContext, 'onExpiryChanged'>;

/** Why a part still on its way is stopped when its bundle ends. */
export const STOPPED_CAUSE = 'the bundle ended before this part was granted';

/** A part's bundle and which part of it the part is. */
export function bundleOf(ctx: Pick<Tx, 'store'>, part: RequestRecord): { bundle: RequestRecord; ref: PartRef } | undefined {
  if (!part.partOf) return undefined;
  const bundle = mustGet(ctx, part.partOf);
  return { bundle, ref: partRefOf(bundle.bundleParts ?? [], part) };
}

/** A part whose bundle ended before it was granted: its lookup and grant are skipped. */
export function isStoppedPart(r: RequestRecord): boolean {
  return r.partOf !== null && r.state === 'approved' && r.revokeRequestedAt !== null;
}

/**
 * The request is approved (by its approvers or by policy): granting starts. A bundle's parts
 * become requests of their own, approved as the bundle was, each looking its IdP user up.
 */
export function startGranting(ctx: Pick<Tx, 'store' | 'now'>, r: RequestRecord, email: string): void {
  if (!r.bundleParts) {
    enqueue(ctx.store, { kind: 'idp.resolveUser', requestId: r.id, connector: r.connector, group: r.groupId, email });
    return;
  }
  const now = ctx.now();
  r.bundleParts.forEach((p, i) => {
    // Stable ids: a part is named by its bundle and its place in it.
    const id = `${r.id}.${i + 1}`;
    if (ctx.store.getRequest(id)) return;
    ctx.store.insertRequest({
      id,
      submissionKey: null,
      appId: p.appId,
      roleId: p.roleId,
      appName: p.appName,
      roleName: p.roleName,
      connector: p.connector,
      groupId: p.group,
      durationToken: r.durationToken,
      durationMs: r.durationMs,
      reason: r.reason,
      policy: r.policy,
      requesterId: r.requesterId,
      createdAt: now,
      breakGlassNotify: null,
      nextTimerAt: null,
      partOf: r.id,
    });
    ctx.store.updateRequest(
      id,
      { state: transition('pending', 'approve'), decidedAt: r.decidedAt, decidedBy: r.decidedBy, requesterEmail: r.requesterEmail ?? email, requesterName: r.requesterName, jiraKey: r.jiraKey },
      now,
    );
    enqueue(ctx.store, { kind: 'idp.resolveUser', requestId: id, connector: p.connector, group: p.group, email });
  });
}

/**
 * A part's membership is in place (the part is active, inside the grant's completion). The first
 * part starts the bundle's clock; the last one completes the bundle. A part that lands after its
 * bundle ended (its grant was already on its way) is revoked at once.
 */
export function partGranted(ctx: BundleTx, part: RequestRecord, grant: { idpUserId: string; preexisting: boolean }): void {
  const found = bundleOf(ctx, part);
  if (!found) return;
  const now = ctx.now();
  let b = found.bundle;
  const granted = (expiresAt: number | null) =>
    recordStep(ctx, part, { type: 'granted', connector: part.connector, group: part.groupId, idpUserId: grant.idpUserId, expiresAt, preexisting: grant.preexisting, part: found.ref }, 'access-bot', now);
  if (b.state !== 'approved' && b.state !== 'active') {
    granted(now);
    startRevocation(ctx, part.id, asRevokeCause(b.revokeCause), b.revokedBy ?? undefined, b.revokeReason ?? undefined);
    return;
  }
  const progress = bundleProgress(b.state, ctx.store.partsOf(b.id).map((p) => p.state));
  if (progress.activate) {
    const expiresAt = b.durationMs === null ? null : now + b.durationMs;
    ctx.store.updateRequest(b.id, { state: transition(b.state, 'provisioned'), grantedAt: now, expiresAt }, now);
    b = mustGet(ctx, b.id);
    transitionIssue(ctx, b, 'active');
    armWarnings(ctx, b.id);
    updateApproverCards(ctx, b.id);
    ctx.onExpiryChanged();
  }
  granted(b.expiresAt);
  // Its holder left while the parts were on their way (app/offboard.ts): the bundle ends as it lands.
  if (b.state === 'active' && b.revokeCause === 'offboarded' && b.revokeRequestedAt === null) {
    endBundle(ctx, b, 'offboarded', undefined, b.revokeReason ?? undefined);
    return;
  }
  if (progress.complete) {
    recordStep(ctx, b, { type: 'bundle_complete', parts: (b.bundleParts ?? []).map(partLabel), expiresAt: b.expiresAt }, 'access-bot', now);
    notifyRequester(ctx, b, { type: 'granted', expiresAt: b.expiresAt });
  }
}

/**
 * A part failed for good (app/fail.ts hands parts here). While the bundle lives, the issue says
 * which part is missing and the others stay; the requester and the admins are told. A part
 * stopped because its bundle ended is only recorded.
 */
export function partFailed(ctx: Tx, part: RequestRecord, cause: string): void {
  const found = bundleOf(ctx, part);
  if (!found || !canTransition(part.state, 'fail')) return;
  const { bundle, ref } = found;
  const now = ctx.now();
  ctx.store.updateRequest(part.id, { state: transition(part.state, 'fail'), failure: cause }, now);
  if (bundle.state === 'approved' || bundle.state === 'active') {
    const parts = bundle.bundleParts ?? [];
    const inPlace = ctx.store
      .partsOf(bundle.id)
      .filter((p) => p.state === 'active')
      .map((p) => partRefOf(parts, p))
      .map((r) => `${r.index} (${r.name})`);
    recordStep(ctx, bundle, { type: 'bundle_incomplete', part: ref, grant: `${part.connector} group ${part.groupId}`, cause, inPlace }, 'access-bot', now);
    notifyRequester(ctx, bundle, { type: 'part_missing', part: ref.name, cause });
    alertAdmins(
      ctx,
      `Bundle ${bundle.jiraKey ?? bundle.id} (${bundle.appName}) is missing part ${ref.index} of ${ref.count}, ${ref.name} (${part.connector} group ${part.groupId}): ${cause}. The other parts stay in place. Fix the cause, then run access-bot effects retry on its dead effect (access-bot effects list); only this part is retried.`,
      bundle.id,
    );
  } else {
    recordStep(ctx, part, { type: 'failed', cause, part: ref }, 'access-bot', now);
  }
  settleBundle(ctx, bundle.id);
}

/**
 * Ends a bundle (expiry or a person's revocation, inside that transaction): every part in place
 * is revoked, every part on its way is stopped. Returns false when the bundle is not active.
 */
export function endBundle(ctx: Tx, bundle: RequestRecord, cause: RevokeCause, by?: string, reason?: string): boolean {
  const event = cause === 'expired' ? 'expire' : 'revoke';
  if (!canTransition(bundle.state, event)) return false;
  const now = ctx.now();
  const why = { revokeRequestedAt: now, revokeCause: cause, revokedBy: by ?? null, revokeReason: reason ?? null };
  ctx.store.updateRequest(bundle.id, { state: transition(bundle.state, event), ...why }, now);
  for (const p of ctx.store.partsOf(bundle.id)) {
    if (p.state === 'active') startRevocation(ctx, p.id, cause, by, reason);
    // Its lookup or grant, still to run, is skipped and the part fails (stopIfEnded); a grant
    // already on its way lands and is revoked at once (partGranted).
    else if (p.state === 'approved') ctx.store.updateRequest(p.id, why, now);
  }
  settleBundle(ctx, bundle.id);
  return true;
}

/** A part's lookup or grant was skipped: if its bundle ended, the part is stopped (failed, on the record). */
export function stopIfEnded(ctx: Tx, partId: string): void {
  const p = ctx.store.getRequest(partId);
  if (p && isStoppedPart(p)) failRequest(ctx, p.id, STOPPED_CAUSE);
}

/** After a part settled (revoked or failed): the bundle fails, or ends, when its parts say so. */
export function settleBundle(ctx: Tx, bundleId: string): void {
  const b = mustGet(ctx, bundleId);
  const parts = ctx.store.partsOf(b.id);
  const progress = bundleProgress(b.state, parts.map((p) => p.state));
  if (progress.fail) {
    failRequest(ctx, b.id, `none of its ${parts.length} parts could be granted`);
    return;
  }
  if (!progress.ended) return;
  const now = ctx.now();
  ctx.store.updateRequest(b.id, { state: transition(b.state, 'revoked'), revokedAt: now }, now);
  const cause = asRevokeCause(b.revokeCause);
  const ended = parts.filter((p) => p.state === 'revoked').length;
  recordStep(
    ctx,
    b,
    { type: 'bundle_revoked', cause, actor: b.revokedBy ? { name: b.revokedBy } : undefined, why: b.revokeReason ?? undefined, ended, neverGranted: parts.length - ended },
    b.revokedBy ?? 'access-bot',
    now,
  );
  transitionIssue(ctx, b, 'revoked');
  enqueue(ctx.store, { kind: 'slack.requesterGrantUpdate', requestId: b.id });
  // Someone who left is not written to: their Slack account is gone or about to be.
  if (cause !== 'offboarded') notifyRequester(ctx, b, { type: 'revoked', cause, by: b.revokedBy ?? undefined });
  updateApproverCards(ctx, b.id);
}
