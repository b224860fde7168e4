/**
 * The requester withdraws a request that is still waiting for approval (`/access cancel ACC-12`):
 * "Cancelled by …" on the issue, approvers' cards lose their buttons, its reminders, escalation
 * and timeout stop. Only the requester may, or whoever asked for it on their behalf (withdrawing
 * what they asked for takes nobody's access away); anyone else is refused, audited, and changes
 * nothing.
 */
import type { RequestName } from '../domain/command.js';
import { canTransition, describeState, transition } from '../domain/lifecycle.js';
import { who } from '../domain/steps.js';
import { isRequester, isSubmitter, personOf, reply } from './commands.js';
import { actorOf, inTx, notifyRequester, openRecord, recordStep, transitionIssue, updateApproverCards, type Deps } from './context.js';
import type { ReplyTarget } from './decide.js';
import { findNamed, keyOf, notYours } from './requestView.js';

export type CancelResult = { ok: true } | { ok: false; code: string };

export type CancelDeps = Deps<'store' | 'now' | 'catalog' | 'adminChannel'>;

export function cancelRequest(deps: CancelDeps, input: { actorSlackId: string; request: RequestName; reply: ReplyTarget }): CancelResult {
  return deps.store.tx((tx) => {
    const ctx = inTx(deps, tx);
    const r = findNamed(ctx, input.request);
    const me = personOf(ctx, input.actorSlackId);
    const now = ctx.now();
    if (!r) {
      reply(ctx, input.reply, notYours(input.request));
      return { ok: false, code: 'unknown_request' };
    }
    const bySubmitter = !isRequester(r, me) && isSubmitter(r, me);
    if (!isRequester(r, me) && !bySubmitter) {
      ctx.store.appendAudit(r.id, now, input.actorSlackId, { type: 'decision_refused', actor: { slackId: input.actorSlackId }, code: 'not_requester' });
      reply(ctx, input.reply, `Only the person who requested ${keyOf(r)}${r.submittedAs ? ', or who asked for it on their behalf,' : ''} can cancel it.`);
      return { ok: false, code: 'not_requester' };
    }
    if (!canTransition(r.state, 'cancel')) {
      const hint = r.state === 'active' ? ' To give the access back, use Revoke now on the "Access granted" message.' : '';
      reply(ctx, input.reply, `${keyOf(r)} is ${describeState(r.state)}, so it can no longer be cancelled.${hint}`);
      return { ok: false, code: 'not_pending' };
    }
    // Cancelled before routing identified the requester: the record has not been opened yet.
    if (r.requesterEmail === null) openRecord(ctx, r);
    const actor = bySubmitter ? { personId: r.submitterId ?? undefined, slackId: input.actorSlackId, email: r.submitterEmail ?? undefined, name: r.submitterName ?? undefined } : actorOf(r);
    ctx.store.updateRequest(r.id, { state: transition(r.state, 'cancel'), nextTimerAt: null }, now);
    recordStep(ctx, r, { type: 'cancelled', actor }, input.actorSlackId, now);
    transitionIssue(ctx, r, 'cancelled');
    updateApproverCards(ctx, r.id);
    if (bySubmitter) notifyRequester(ctx, r, { type: 'cancelled', by: who(actor) });
    reply(ctx, input.reply, `You cancelled ${keyOf(r)} (${r.appName} / ${r.roleName}). Its approvers have been told.`);
    return { ok: true };
  });
}
