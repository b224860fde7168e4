/**
 * Undoing a grant that failed for good. An add whose answer was a timeout or a 5xx may have
 * landed; when the retries then fail for good (403, 404), that membership would stay with
 * nobody tracking it. Before the request ends failed, the `idp.undoGrant` effect checks the
 * membership and removes it if access-bot owns it and no other grant needs it. It runs in the
 * user's membership queue, after every earlier change, and is idempotent: the check is repeated
 * on each attempt, and removing a membership that is gone is success.
 *
 * The request fails when the outcome is known, so its "Failed: …" comment says what was left.
 */
import { canTransition } from '../domain/lifecycle.js';
import { forgetsOwnership, undoNeeds } from '../domain/membership.js';
import { connectorFor } from './connectors.js';
import { mustGet, recordStep, type Deps, type InTx } from './context.js';
import type { EffectOf, Skipped } from './effects.js';
import { failRequest } from './fail.js';

/** What undoing a failed grant touches. */
export type UndoDeps = Deps<'store' | 'catalog' | 'now' | 'connectors' | 'adminChannel'>;

export type UndoOutcome = 'removed' | 'not_in_place' | 'never_added' | 'kept_preexisting' | 'kept_other_grant';
export type UndoResult = { outcome: UndoOutcome } | Skipped;

/** What each outcome adds to the failure's cause; `never_added` adds nothing. */
const AFTERMATH: Record<UndoOutcome, string | undefined> = {
  removed: 'the membership access-bot may have added was removed',
  not_in_place: 'the membership access-bot may have added was not in place',
  never_added: undefined,
  kept_preexisting: 'the membership was there before this grant and is kept',
  kept_other_grant: 'the membership is kept: another grant still needs it',
};

export async function runUndo(ctx: UndoDeps, e: EffectOf<'idp.undoGrant'>): Promise<UndoResult> {
  const r = ctx.store.getRequest(e.requestId);
  // A grant an admin revived made it through meanwhile: there is nothing to undo.
  if (!r || (r.state !== 'approved' && r.state !== 'failed')) return { skipped: `request is ${r?.state ?? 'missing'}` };
  const needs = undoNeeds({
    record: ctx.store.getMembership(e.connector, e.group, e.idpUserId),
    otherHolders: ctx.store.otherHoldersOf(e.connector, e.group, e.idpUserId, r.id),
  });
  if (needs !== 'check_and_remove') return { outcome: needs };
  const idp = connectorFor(ctx, e.connector);
  if (!(await idp.isMember(e.group, e.idpUserId))) return { outcome: 'not_in_place' };
  await idp.removeMember(e.group, e.idpUserId);
  return { outcome: 'removed' };
}

export function undoDone(ctx: InTx<UndoDeps>, e: EffectOf<'idp.undoGrant'>, result: UndoResult): void {
  if ('skipped' in result) return;
  const r = mustGet(ctx, e.requestId);
  if (result.outcome !== 'kept_other_grant' && forgetsOwnership(ctx.store.otherHoldersOf(e.connector, e.group, e.idpUserId, r.id))) {
    ctx.store.deleteMembership(e.connector, e.group, e.idpUserId);
  }
  const aftermath = AFTERMATH[result.outcome];
  const cause = aftermath ? `${e.cause}; ${aftermath}` : e.cause;
  if (canTransition(r.state, 'fail')) return failRequest(ctx, r.id, cause);
  // An admin revived this effect after it died (the request failed then): the outcome goes on record.
  if (r.state === 'failed') {
    ctx.store.updateRequest(r.id, { failure: cause }, ctx.now());
    recordStep(ctx, r, { type: 'failed', cause }, 'access-bot');
  }
}

/**
 * The membership could not be checked (the IdP refuses the read too). The ownership record
 * stays: if the add landed, access-bot owns that membership, and a later grant or revocation
 * must know it. The admins are told to look.
 */
export function undoDead(ctx: InTx<UndoDeps>, e: EffectOf<'idp.undoGrant'>, error: Error): void {
  failRequest(ctx, e.requestId, `${e.cause}; whether access-bot's add landed could not be checked (${error.message}): the membership may be in place`);
}
