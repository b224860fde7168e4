/**
 * An approver's decision (Approve, or Deny with a reason). Authorisation is checked here, at
 * click time, against the request as it is now: a DM sent earlier proves nothing.
 */
import { assertMayDecide, decide as decideRule, stillListed, type DecisionOutcome } from '../domain/approval.js';
import { samePerson, type PersonRef } from '../domain/people.js';
import { findRole } from '../domain/catalog.js';
import { DomainError, isDomainError } from '../domain/errors.js';
import { transition } from '../domain/lifecycle.js';
import { who, type Actor } from '../domain/steps.js';
import { actorRefusal, type ActorLookup } from './actor.js';
import { notifyRequester, recordStep, refreshTimers, transitionIssue, type AppContext } from './context.js';
import { enqueue } from './effects.js';
import { approverActor, approverRef, requesterRef } from './people.js';
import type { ApproverRecord, RequestRecord } from './ports/store.js';

export interface ReplyTarget {
  user: string;
  channel?: string;
  responseUrl?: string;
}

export interface DecideInput {
  requestId: string;
  actorSlackId: string;
  /** The actor as Slack knows them now (lookUpActor): a guest, bot or unknown account may not decide. */
  actor: ActorLookup;
  decision: 'approve' | 'deny';
  reason?: string;
  reply: ReplyTarget;
}

export type DecideResult = { ok: true; outcome: DecisionOutcome } | { ok: false; code: string; message: string };

function stageFacts(ctx: AppContext, r: RequestRecord) {
  const approvers = ctx.store.approversOf(r.id, r.stage);
  const stages = r.policy.kind === 'stages' ? r.policy.stages : [];
  return {
    approvers,
    facts: {
      index: r.stage,
      count: Math.max(1, stages.length),
      required: stages[r.stage]?.required ?? 1,
      approvers: approvers.map(approverRef),
      approvals: approvers.filter((a) => a.decision === 'approve').map(approverRef),
    },
  };
}

/**
 * The person behind a click, from what the decision already loaded (no extra read on the click
 * path): a routed approver of the stage, the requester, or someone known only by Slack id.
 */
function clicker(r: RequestRecord, approvers: ApproverRecord[], slackId: string): { ref: PersonRef; approver?: ApproverRecord } {
  const approver = approvers.find((a) => a.slackId === slackId);
  if (approver) return { ref: approverRef(approver), approver };
  if (r.requesterSlackId === slackId) return { ref: requesterRef(r) };
  return { ref: { slackId } };
}

/**
 * The catalog as it is now must still list the approver (it may have changed since the DM was
 * sent). Only checked for a routed approver of a pending request: other refusals explain better.
 */
function assertStillListed(ctx: AppContext, r: RequestRecord, me: ApproverRecord | undefined): void {
  if (!me || r.state !== 'pending' || samePerson(approverRef(me), requesterRef(r))) return;
  const found = findRole(ctx.catalog(), r.appId, r.roleId);
  if (!stillListed({ policy: found?.role.approval, owners: found?.app.owners ?? [] }, r.stage, me)) {
    throw new DomainError('not_an_approver', 'You are no longer an approver of this request: the access catalog changed since you were asked.');
  }
}

function ephemeral(ctx: AppContext, reply: ReplyTarget, text: string): void {
  enqueue(ctx.store, { kind: 'slack.ephemeral', user: reply.user, channel: reply.channel, responseUrl: reply.responseUrl, text });
}

/** Refusals are audited (who tried what), answered privately, and change nothing else. */
function refuse(ctx: AppContext, r: RequestRecord | undefined, input: { actorSlackId: string; reply: ReplyTarget }, code: string, message: string): DecideResult {
  if (r) ctx.store.appendAudit(r.id, ctx.now(), input.actorSlackId, { type: 'decision_refused', actor: { slackId: input.actorSlackId }, code });
  ephemeral(ctx, input.reply, message);
  return { ok: false, code, message };
}

/** Whether the actor may decide now; used before opening the deny-reason modal. */
export function checkMayDecide(ctx: AppContext, requestId: string, actorSlackId: string, actor: ActorLookup): { ok: true } | { ok: false; code: string; message: string } {
  const r = ctx.store.getRequest(requestId);
  if (!r) return { ok: false, code: 'unknown_request', message: 'This request does not exist (any more).' };
  const refusal = actorRefusal(ctx, actor, 'decide');
  if (refusal) return { ok: false, ...refusal };
  try {
    const { approvers, facts } = stageFacts(ctx, r);
    const me = clicker(r, approvers, actorSlackId);
    assertMayDecide({ state: r.state, requester: requesterRef(r), stage: facts, actor: me.ref, decidedBy: r.decidedBy ?? undefined });
    assertStillListed(ctx, r, me.approver);
    return { ok: true };
  } catch (err) {
    if (isDomainError(err)) return { ok: false, code: err.code, message: err.message };
    throw err;
  }
}

/** Same as checkMayDecide, but audits and answers the refusal (for a refused Deny click). */
export function refuseIfMayNotDecide(ctx: AppContext, requestId: string, actorSlackId: string, actor: ActorLookup, reply: ReplyTarget): boolean {
  const check = checkMayDecide(ctx, requestId, actorSlackId, actor);
  if (check.ok) return false;
  ctx.store.tx(() => refuse(ctx, ctx.store.getRequest(requestId), { actorSlackId, reply }, check.code, check.message));
  return true;
}

export function decide(ctx: AppContext, input: DecideInput): DecideResult {
  return ctx.store.tx(() => {
    const r = ctx.store.getRequest(input.requestId);
    if (!r) return refuse(ctx, undefined, input, 'unknown_request', 'This request does not exist (any more).');
    const refusal = actorRefusal(ctx, input.actor, 'decide');
    if (refusal) return refuse(ctx, r, input, refusal.code, refusal.message);
    const { approvers, facts } = stageFacts(ctx, r);
    const clicked = clicker(r, approvers, input.actorSlackId);
    let outcome: DecisionOutcome;
    try {
      assertStillListed(ctx, r, clicked.approver);
      outcome = decideRule({ state: r.state, requester: requesterRef(r), stage: facts, actor: clicked.ref, decision: input.decision, decidedBy: r.decidedBy ?? undefined });
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
        const by = who(actor);
        ctx.store.updateRequest(r.id, { state: transition(r.state, 'approve'), decidedAt: now, decidedBy: by, nextTimerAt: null }, now);
        recordStep(ctx, r, { type: 'approved', actor }, by, now);
        transitionIssue(ctx, r, 'approved');
        updateStage(r.stage);
        notifyRequester(ctx, r, { type: 'approved', by });
        enqueue(ctx.store, { kind: 'idp.resolveUser', requestId: r.id, connector: r.connector, group: r.groupId, email: r.requesterEmail! });
        break;
      }
      case 'denied': {
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
  });
}
