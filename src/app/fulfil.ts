/**
 * What an approved request does next, by its kind. An access or change request is granted: its
 * requester's IdP user is found (app/resolveUser.ts), then added (app/grant.ts). A removal finds
 * its subject's IdP user, then takes the membership away (app/remove.ts). A change, once its new
 * role is granted, removes the role it leaves the same way (`startChangeRemoval`, from grantDone).
 */
import { startGranting } from './bundle.js';
import type { Tx } from './context.js';
import { enqueue } from './effects.js';
import type { RequestRecord } from './ports/store.js';

/**
 * Enqueues the first step of carrying out an approved request (inside the approving transaction):
 * a grant (app/bundle.ts `startGranting`, a bundle's parts included), or a removal.
 */
export function startFulfilment(ctx: Pick<Tx, 'store' | 'now'>, r: RequestRecord): void {
  const email = r.requesterEmail!;
  if (r.kind === 'removal') {
    // Whose access: the subject's (by email, or by the Jira account that named them), else the requester's.
    const subject = r.subjectEmail ?? (r.subjectAccountId ? '' : email);
    enqueue(ctx.store, { kind: 'idp.resolveUser', requestId: r.id, connector: r.connector, group: r.groupId, email: subject, purpose: 'remove', ...(subject ? {} : { accountId: r.subjectAccountId! }) });
    return;
  }
  startGranting(ctx, r, email);
}

/** A change whose new role is granted removes the one it leaves (inside the granting transaction). */
export function startChangeRemoval(ctx: Pick<Tx, 'store'>, r: RequestRecord): void {
  if (r.kind !== 'change' || !r.fromConnector || !r.fromGroupId || r.removedAt !== null) return;
  enqueue(ctx.store, { kind: 'idp.resolveUser', requestId: r.id, connector: r.fromConnector, group: r.fromGroupId, email: r.requesterEmail!, purpose: 'remove' });
}

/**
 * Whether the request still has a removal to carry out: an approved removal, or a change whose new
 * role was granted (its old role goes even if the new grant has ended since).
 */
export function awaitsRemoval(r: RequestRecord): boolean {
  if (r.removedAt !== null) return false;
  return (r.kind === 'removal' && r.state === 'approved') || (r.kind === 'change' && r.grantedAt !== null);
}

/** The membership a removal takes away: a removal's own role, or the role a change leaves. */
export function removalTarget(r: RequestRecord): { connector: string; group: string } | undefined {
  if (r.kind === 'removal') return { connector: r.connector, group: r.groupId };
  if (r.kind === 'change' && r.fromConnector && r.fromGroupId) return { connector: r.fromConnector, group: r.fromGroupId };
  return undefined;
}
