/**
 * Reminders, escalations and timeouts of pending requests, run by a periodic job. Each request
 * is handled in its own transaction: its state change, audit events and effects commit together.
 */
import { transition } from '../domain/lifecycle.js';
import { dueActions } from '../domain/timers.js';
import { mustGet, notifyRequester, openRecord, recordStep, refreshTimers, transitionIssue, type Deps, type Tx } from './context.js';
import { enqueue } from './effects.js';
import { approverActor } from './people.js';

/** What the timers touch. */
export type TimersDeps = Deps<'store' | 'catalog' | 'now'>;

function applyDue(ctx: Tx, requestId: string): void {
  const r = mustGet(ctx, requestId);
  if (r.state !== 'pending' || r.policy.kind !== 'stages') return refreshTimers(ctx, requestId);
  const now = ctx.now();
  // Approvers who left (app/offboard.ts) are neither reminded nor told.
  const approvers = ctx.store.approversOf(r.id, r.stage).filter((a) => a.goneAt === null);
  const due = dueActions(now, { policy: r.policy, createdAt: r.createdAt, stage: r.stage, stageStartedAt: r.stageStartedAt, escalatedStage: r.escalatedStage, approvers });
  if (due.timeOut) {
    // Timed out before routing identified the requester (Slack or the IdP down, routing retrying): the
    // record is opened now, else its comments would wait for an issue never created, and the
    // requester gets the confirmation routing would have sent, then the timeout.
    if (r.requesterEmail === null) {
      openRecord(ctx, r);
      notifyRequester(ctx, r, { type: 'submitted' });
    }
    ctx.store.updateRequest(r.id, { state: transition(r.state, 'time_out'), nextTimerAt: null }, now);
    recordStep(ctx, r, { type: 'timed_out', afterMs: r.policy.timeoutMs! }, 'access-bot', now);
    transitionIssue(ctx, r, 'timed_out');
    notifyRequester(ctx, r, { type: 'timed_out' });
    // Approvers' messages lose their buttons; a late click is answered with an explanation.
    for (const a of approvers) if (a.slackId) enqueue(ctx.store, { kind: 'slack.approverUpdate', requestId: r.id, stage: r.stage, slackId: a.slackId });
    return;
  }
  if (due.remind.length > 0) {
    const reminded = approvers.filter((a) => due.remind.includes(a.personId));
    for (const a of reminded) {
      ctx.store.markReminded(r.id, r.stage, a.personId, now);
      if (a.slackId) enqueue(ctx.store, { kind: 'slack.approverReminder', requestId: r.id, stage: r.stage, slackId: a.slackId });
    }
    recordStep(ctx, r, { type: 'reminded', approvers: reminded.map(approverActor) }, 'access-bot', now);
  }
  if (due.escalate) {
    ctx.store.updateRequest(r.id, { escalatedStage: r.stage }, now);
    enqueue(ctx.store, { kind: 'request.escalate', requestId: r.id, stage: r.stage });
  }
  refreshTimers(ctx, r.id);
}

/** Handles every pending request whose next timer is due. Returns how many were handled. */
export function runDueTimers(ctx: TimersDeps, batch = 200): number {
  let handled = 0;
  for (;;) {
    const due = ctx.store.timersDue(ctx.now(), batch);
    for (const r of due) ctx.store.tx((store) => applyDue({ ...ctx, store }, r.id));
    handled += due.length;
    if (due.length < batch) return handled;
  }
}
