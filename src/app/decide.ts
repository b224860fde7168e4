/**
 * An approver's decision (Approve, or Deny with a reason). Authorisation is checked here, at
 * click time, against the request as it is now: a DM sent earlier proves nothing.
 *
 * Shape: the actor arrives resolved (app/people.ts); one transaction loads the request and its
 * stage's approvers, the domain decides (domain/approval.ts), and the outcome commits with its
 * audit events and effects. Nothing here calls anybody, so a click is recorded before its ack.
 */
import { assertMayDecide, decide as decideRule, stillListed, type DecisionOutcome } from '../domain/approval.js';
import { samePerson, type PersonRef } from '../domain/people.js';
import { catalogNowOf } from '../domain/bundle.js';
import { DomainError, isDomainError } from '../domain/errors.js';
import { transition } from '../domain/lifecycle.js';
import { who, type Actor } from '../domain/steps.js';
import { actorRefusal } from './actor.js';
import { inTx, mustGet, notifyRequester, recordStep, refreshTimers, transitionIssue, type Deps, type InTx, type Tx } from './context.js';
import { enqueue } from './effects.js';
import { settleExtension } from './extend.js';
import { startFulfilment } from './fulfil.js';
import { approverActor, approverRef, requesterRef, submitterRef, type ActingPerson } from './people.js';
import type { ApproverRecord, RequestRecord } from './ports/store.js';

export interface ReplyTarget {
  user: string;
  channel?: string;
  responseUrl?: string;
}

export interface DecideOpts {
  requestId: string;
  /** Who decides, resolved by the people service: a guest, bot or unknown account may not decide. */
  actor: ActingPerson;
  decision: 'approve' | 'deny';
  reason?: string;
  /** Where a refusal is answered privately; absent: the caller answers it (a decision made in Jira). */
  reply?: ReplyTarget;
}

/** What a decision touches. */
export type DecideDeps = Deps<'store' | 'catalog' | 'now' | 'allowGuests' | 'adminChannel' | 'onExpiryChanged'>;

export type DecideResult = { ok: true; outcome: DecisionOutcome } | { ok: false; code: string; message: string };

function stageFacts(ctx: Pick<Tx, 'store'>, r: RequestRecord) {
  const approvers = ctx.store.approversOf(r.id, r.stage);
  const stages = r.policy.kind === 'stages' ? r.policy.stages : [];
  return {
    approvers,
    facts: {
      index: r.stage,
      count: Math.max(1, stages.length),
      required: stages[r.stage]?.required ?? 1,
      // An approver who left (app/offboard.ts) decides no more; a vote given before stands.
      approvers: approvers.filter((a) => a.goneAt === null || a.decision !== null).map(approverRef),
      approvals: approvers.filter((a) => a.decision === 'approve').map(approverRef),
    },
  };
}

/**
 * The person acting, among the people the decision already loaded (no extra read on the click
 * path): a routed approver of the stage, the requester, or someone the request does not know.
 */
function whoActs(r: RequestRecord, approvers: ApproverRecord[], actor: PersonRef): { ref: PersonRef; approver?: ApproverRecord } {
  const approver = approvers.find((a) => samePerson(approverRef(a), actor));
  if (approver) return { ref: approverRef(approver), approver };
  const requester = requesterRef(r);
  if (samePerson(requester, actor)) return { ref: requester };
  return { ref: actor };
}

/**
 * The catalog as it is now must still list the approver (it may have changed since the DM was
 * sent). Only checked for a routed approver of a pending request: other refusals explain better.
 */
function assertStillListed(ctx: Pick<Tx, 'catalog'>, r: RequestRecord, me: ApproverRecord | undefined): void {
  if (!me || r.state !== 'pending' || samePerson(approverRef(me), requesterRef(r))) return;
  if (!stillListed(catalogNowOf(ctx.catalog(), r), r.stage, me)) {
    throw new DomainError('not_an_approver', 'You are no longer an approver of this request: the access catalog changed since you were asked.');
  }
}

function ephemeral(ctx: Pick<Tx, 'store'>, reply: ReplyTarget, text: string): void {
  enqueue(ctx.store, { kind: 'slack.ephemeral', user: reply.user, channel: reply.channel, responseUrl: reply.responseUrl, text });
}

/** Refusals are audited (who tried what), answered privately, and change nothing else. */
export function refuse(ctx: Pick<Tx, 'store' | 'now'>, r: RequestRecord | undefined, input: { actor: ActingPerson; reply?: ReplyTarget }, code: string, message: string): { ok: false; code: string; message: string } {
  if (r) ctx.store.appendAudit(r.id, ctx.now(), input.actor.label, { type: 'decision_refused', actor: input.actor.actor, code });
  if (input.reply) ephemeral(ctx, input.reply, message);
  return { ok: false, code, message };
}

/** Whether the actor may decide now; used before opening the deny-reason modal. */
export function checkMayDecide(deps: DecideDeps, opts: { requestId: string; actor: ActingPerson }): { ok: true } | { ok: false; code: string; message: string } {
  const r = deps.store.getRequest(opts.requestId);
  if (!r) return { ok: false, code: 'unknown_request', message: 'This request does not exist (any more).' };
  const refusal = actorRefusal(deps, opts.actor, 'decide');
  if (refusal) return { ok: false, ...refusal };
  try {
    const { approvers, facts } = stageFacts(deps, r);
    const me = whoActs(r, approvers, opts.actor.ref);
    assertMayDecide({ state: r.state, requester: requesterRef(r), submitter: submitterRef(r), stage: facts, actor: me.ref, decidedBy: r.decidedBy ?? undefined });
    assertStillListed(deps, r, me.approver);
    return { ok: true };
  } catch (err) {
    if (isDomainError(err)) return { ok: false, code: err.code, message: err.message };
    throw err;
  }
}

/** Same as checkMayDecide, but audits and answers the refusal (for a refused Deny click). */
export function refuseIfMayNotDecide(deps: DecideDeps, opts: { requestId: string; actor: ActingPerson; reply: ReplyTarget }): boolean {
  const check = checkMayDecide(deps, opts);
  if (check.ok) return false;
  deps.store.tx((store) => refuse({ ...deps, store }, store.getRequest(opts.requestId), opts, check.code, check.message));
  return true;
}

export function decide(deps: DecideDeps, input: DecideOpts): DecideResult {
  return deps.store.tx((store) => decideIn(inTx(deps, store), input));
}

/** The decision inside the caller's transaction (a status change in Jira decides in the effect's). */
export function decideIn(ctx: InTx<DecideDeps>, input: DecideOpts): DecideResult {
  const r = ctx.store.getRequest(input.requestId);
  if (!r) return refuse(ctx, undefined, input, 'unknown_request', 'This request does not exist (any more).');
  const refusal = actorRefusal(ctx, input.actor, 'decide');
  if (refusal) return refuse(ctx, r, input, refusal.code, refusal.message);
  const { approvers, facts } = stageFacts(ctx, r);
  const clicked = whoActs(r, approvers, input.actor.ref);
  let outcome: DecisionOutcome;
  try {
    assertStillListed(ctx, r, clicked.approver);
    outcome = decideRule({
      state: r.state,
      requester: requesterRef(r),
      submitter: submitterRef(r),
      stage: facts,
      actor: clicked.ref,
      decision: input.decision,
      decidedBy: r.decidedBy ?? undefined,
    });
  } catch (err) {
    if (isDomainError(err)) return refuse(ctx, r, input, err.code, err.message);
    throw err;
  }
  const now = ctx.now();
  // The domain let the decision through: the clicker is a routed approver of this stage.
  const me = clicked.approver!;
  const actor: Actor = approverActor(me);
  // Audit rows name a Slack actor by Slack id, as before; someone outside Slack by email.
  const by = me.slackId ?? me.email;
  const reason = input.decision === 'deny' ? (input.reason ?? '').trim() || 'no reason given' : null;
  ctx.store.recordVote(r.id, r.stage, me.personId, input.decision, now, reason);
  const updateCard = (a: ApproverRecord) => {
    if (a.slackId) enqueue(ctx.store, { kind: 'slack.approverUpdate', requestId: r.id, stage: a.stage, slackId: a.slackId });
  };
  const updateStage = (stage: number) => ctx.store.approversOf(r.id, stage).forEach(updateCard);

  switch (outcome.kind) {
    case 'vote_recorded':
      recordStep(ctx, r, { type: 'vote_recorded', actor, approvals: outcome.approvals, required: outcome.required, stage: r.stage }, by, now);
      updateCard(me);
      refreshTimers(ctx, r.id);
      break;
    case 'stage_passed':
      recordStep(ctx, r, { type: 'vote_recorded', actor, approvals: facts.approvals.length + 1, required: facts.required, stage: r.stage }, by, now);
      recordStep(ctx, r, { type: 'stage_passed', stage: r.stage, stageCount: facts.count }, 'access-bot', now);
      // The next stage's clock starts when its approvers are asked (after routing).
      ctx.store.updateRequest(r.id, { stage: outcome.nextStage, stageStartedAt: null }, now);
      updateStage(r.stage);
      enqueue(ctx.store, { kind: 'request.route', requestId: r.id, stage: outcome.nextStage });
      refreshTimers(ctx, r.id);
      break;
    case 'approved': {
      if (r.extendsId) {
        settleExtension(ctx, r, { approved: true, actor });
        updateStage(r.stage);
        break;
      }
      const by = who(actor);
      ctx.store.updateRequest(r.id, { state: transition(r.state, 'approve'), decidedAt: now, decidedBy: by, nextTimerAt: null }, now);
      recordStep(ctx, r, { type: 'approved', actor }, by, now);
      transitionIssue(ctx, r, 'approved');
      updateStage(r.stage);
      notifyRequester(ctx, r, { type: 'approved', by });
      startFulfilment(ctx, mustGet(ctx, r.id));
      break;
    }
    case 'denied': {
      if (r.extendsId) {
        settleExtension(ctx, r, { approved: false, actor, reason: reason! });
        updateStage(r.stage);
        break;
      }
      const by = who(actor);
      ctx.store.updateRequest(r.id, { state: transition(r.state, 'deny'), decidedAt: now, decidedBy: by, nextTimerAt: null }, now);
      recordStep(ctx, r, { type: 'denied', actor, reason: reason! }, by, now);
      transitionIssue(ctx, r, 'denied');
      updateStage(r.stage);
      notifyRequester(ctx, r, { type: 'denied', by, reason: reason! });
      break;
    }
  }
  return { ok: true, outcome };
}
