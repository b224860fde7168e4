/**
 * The requester withdraws a request that is still waiting for approval (`/access cancel ACC-12`,
 * or moving its issue to a `cancelled` status in Jira): "Cancelled by …" on the issue, approvers'
 * cards lose their buttons, its reminders, escalation and timeout stop. Only the requester may,
 * or whoever asked for it on their behalf (withdrawing what they asked for takes nobody's access
 * away); anyone else is refused, audited, and changes nothing.
 */
import type { RequestName } from '../domain/command.js';
import { canTransition, describeState, transition } from '../domain/lifecycle.js';
import type { PersonRef } from '../domain/people.js';
import { who, type Actor } from '../domain/steps.js';
import { isRequester, isSubmitter, personOf, reply } from './commands.js';
import { actorOf, inTx, notifyRequester, openRecord, recordStep, transitionIssue, updateApproverCards, type Deps, type InTx, type Tx } from './context.js';
import type { ReplyTarget } from './decide.js';
import type { RequestRecord } from './ports/store.js';
import { findNamed, keyOf, notYours } from './requestView.js';

export type CancelResult = { ok: true } | { ok: false; code: string; message: string };

export type CancelDeps = Deps<'store' | 'now' | 'catalog' | 'adminChannel'>;

/** `/access cancel ACC-12`: answered privately either way. */
export function cancelRequest(deps: CancelDeps, input: { actorSlackId: string; request: RequestName; reply: ReplyTarget }): CancelResult {
  return deps.store.tx((tx) => {
    const ctx = inTx(deps, tx);
    const r = findNamed(ctx, input.request);
    if (!r) {
      const message = notYours(input.request);
      reply(ctx, input.reply, message);
      return { ok: false, code: 'unknown_request', message };
    }
    const result = withdraw(ctx, r, { ref: personOf(ctx, input.actorSlackId), label: input.actorSlackId, actor: { slackId: input.actorSlackId } });
    reply(ctx, input.reply, result.ok ? `You cancelled ${keyOf(r)} (${r.appName} / ${r.roleName}). Its approvers have been told.` : result.message);
    return result;
  });
}

/** The requester (or its submitter) withdraws `r`, inside the caller's transaction; anyone else is refused and audited. */
export function withdraw(ctx: InTx<CancelDeps>, r: RequestRecord, me: { ref: PersonRef; label: string; actor: Actor }): CancelResult {
  const now = ctx.now();
  const bySubmitter = !isRequester(r, me.ref) && isSubmitter(r, me.ref);
  if (!isRequester(r, me.ref) && !bySubmitter) {
    ctx.store.appendAudit(r.id, now, me.label, { type: 'decision_refused', actor: me.actor, code: 'not_requester' });
    return { ok: false, code: 'not_requester', message: `Only the person who requested ${keyOf(r)}${r.submittedAs ? ', or who asked for it on their behalf,' : ''} can cancel it.` };
  }
  if (!canTransition(r.state, 'cancel')) {
    const hint = r.state === 'active' ? ' To give the access back, use Revoke now on the "Access granted" message.' : '';
    return { ok: false, code: 'not_pending', message: `${keyOf(r)} is ${describeState(r.state)}, so it can no longer be cancelled.${hint}` };
  }
  const actor: Actor = bySubmitter ? { personId: r.submitterId ?? undefined, slackId: me.actor.slackId, email: r.submitterEmail ?? undefined, name: r.submitterName ?? undefined } : actorOf(r);
  endCancelled(ctx, r, me.label, { actor });
  if (bySubmitter) notifyRequester(ctx, r, { type: 'cancelled', by: who(actor) });
  return { ok: true };
}

/**
 * Ends a pending request as cancelled (inside a transaction): "Cancelled by …" on its issue (by
 * `actor`), or with `why` when access-bot withdraws it because the requester left, or because
 * `actor`, who asked for it on `onBehalfOf`'s behalf, left (app/offboard.ts); approvers' cards
 * lose their buttons, its timers stop.
 */
export function endCancelled(ctx: Tx, r: RequestRecord, label: string, opts: { actor?: Actor; why?: string; onBehalfOf?: Actor } = {}): void {
  const now = ctx.now();
  // Cancelled before routing identified the requester: the record has not been opened yet.
  if (r.requesterEmail === null) openRecord(ctx, r);
  ctx.store.updateRequest(r.id, { state: transition(r.state, 'cancel'), nextTimerAt: null }, now);
  recordStep(ctx, r, { type: 'cancelled', actor: opts.actor ?? actorOf(r), ...(opts.why ? { why: opts.why } : {}), ...(opts.onBehalfOf ? { onBehalfOf: opts.onBehalfOf } : {}) }, label, now);
  transitionIssue(ctx, r, 'cancelled');
  updateApproverCards(ctx, r.id);
}
