/**
 * Offboarding: a person left (deactivated or suspended in an identity provider, or gone from the
 * Slack workspace). In one transaction, every grant they hold starts its revocation ("Access
 * revoked (offboarded: …)" on its issue), a grant still on its way ends as it lands, their pending
 * requests are cancelled ("Cancelled by access-bot …: the requester … left …"), and so are the
 * pending requests they made on someone else's behalf ("…: …, who asked for it on behalf of …,
 * left …"; that person is told by DM), and the approvals
 * waiting on them are taken from them; a stage that can then no longer pass is re-routed to its
 * fallback (app/reroute.ts). Everything after the transaction goes through the outbox.
 *
 * Idempotent: what already ended is not touched again, so a Slack event delivered twice, or the
 * account-status check finding the same departure every run, changes nothing more.
 */
import { describeDeparture, stageCanPass, type Departure } from '../domain/offboarding.js';
import { countPeople } from '../domain/people.js';
import { who, type Actor } from '../domain/steps.js';
import { endCancelled } from './cancel.js';
import { actorOf, alertAdmins, notifyRequester, recordStep, refreshTimers, type Deps, type Tx } from './context.js';
import { enqueue } from './effects.js';
import { approverActor, approverRef } from './people.js';
import type { PersonRecord, RequestRecord } from './ports/store.js';
import { startRevocation } from './revoke.js';

export type OffboardDeps = Deps<'store' | 'catalog' | 'now' | 'logger' | 'adminChannel'>;

export interface OffboardResult {
  /** Grants whose revocation started (or that will end as they land). */
  revoked: number;
  /** Pending requests cancelled: their own, and those they made on someone else's behalf. */
  cancelled: number;
  /** Approvals taken from them; `rerouted` of those left a stage that could no longer pass. */
  approvals: number;
  rerouted: number;
}

const NOTHING: OffboardResult = { revoked: 0, cancelled: 0, approvals: 0, rerouted: 0 };
/** How many approvals waiting on one person are handled in one departure. */
const APPROVALS_SCAN = 1000;

function actorOfPerson(p: PersonRecord): Actor {
  return { personId: p.id, email: p.email ?? undefined, slackId: p.slackId ?? undefined, name: p.name ?? undefined };
}

/** Ends what the person holds, asks and is asked about (inside a transaction). */
export function offboardInTx(ctx: Tx & Pick<OffboardDeps, 'logger'>, person: PersonRecord, departure: Departure): OffboardResult {
  const now = ctx.now();
  const why = describeDeparture(departure);
  const reason = `${who(actorOfPerson(person))} ${why}`;
  const out = { ...NOTHING };
  for (const r of ctx.store.openRequestsOfPerson(person.id)) {
    // A bundle's parts end with their bundle (app/bundle.ts), which is in this list too.
    if (r.partOf) continue;
    if (r.state === 'active' && startRevocation(ctx, r.id, 'offboarded', undefined, reason)) out.revoked += 1;
    // A removal on its way takes access away: it may finish.
    else if (r.state === 'approved' && !r.extendsId && r.kind !== 'removal' && r.revokeCause !== 'offboarded') {
      // The grant (or a bundle's parts) may be in the IdP's hands right now: it ends as it lands
      // (app/grant.ts, app/bundle.ts).
      ctx.store.updateRequest(r.id, { revokeCause: 'offboarded', revokeReason: reason }, now);
      out.revoked += 1;
    } else if (r.state === 'pending') {
      endCancelled(ctx, r, 'access-bot', { why });
      out.cancelled += 1;
    }
  }
  const forOthers = cancelAskedForOthers(ctx, person, why);
  out.cancelled += forOthers;
  for (const r of ctx.store.awaitingDecisionOf(person.id, APPROVALS_SCAN)) {
    const left = approverLeft(ctx, r, person, why);
    if (left === 'none') continue;
    out.approvals += 1;
    if (left === 'rerouted') out.rerouted += 1;
  }
  if (out.revoked + out.cancelled + out.approvals > 0) {
    ctx.logger.info({ person: person.id, departure: why, ...out }, 'offboarded');
    const n = (k: number, one: string, many: string) => `${k} ${k === 1 ? one : many}`;
    const others = forOthers > 0 ? ` (${forOthers} asked for someone else)` : '';
    alertAdmins(ctx, `Offboarding: ${reason}. ${n(out.revoked, 'grant', 'grants')} revoked, ${n(out.cancelled, 'pending request', 'pending requests')} cancelled${others}, ${n(out.approvals, 'approval', 'approvals')} taken from them (${out.rerouted} re-routed to a fallback). Each is on its Jira issue.`);
  }
  return out;
}

/**
 * Pending requests the person made on someone else's behalf would be approved on the word of
 * someone who left: they are cancelled, and the person each was for is told (as when a submitter
 * cancels). What they asked for that was approved, or is granted, stays: the person it is for
 * still works here, and approvers approved it for them. Returns how many were cancelled.
 */
function cancelAskedForOthers(ctx: Tx, person: PersonRecord, why: string): number {
  const leaver = actorOfPerson(person);
  let cancelled = 0;
  for (const r of ctx.store.pendingSubmittedBy(person.id)) {
    endCancelled(ctx, r, 'access-bot', { actor: leaver, why, onBehalfOf: actorOf(r) });
    notifyRequester(ctx, r, { type: 'cancelled', by: who(leaver), why });
    cancelled += 1;
  }
  return cancelled;
}

/**
 * The person no longer decides the request's current stage. When the approvals it has and the
 * approvers still waiting cannot reach its quorum, its fallback is asked (request.reroute).
 */
function approverLeft(ctx: Tx, r: RequestRecord, person: PersonRecord, why: string): 'none' | 'left' | 'rerouted' {
  const now = ctx.now();
  const asked = ctx.store.approversOf(r.id, r.stage);
  const me = asked.find((a) => a.personId === person.id && a.decision === null && a.goneAt === null);
  if (!me || r.policy.kind !== 'stages') return 'none';
  ctx.store.markApproverGone(r.id, r.stage, person.id, now);
  recordStep(ctx, r, { type: 'approver_left', actor: approverActor(me), stage: r.stage, why }, 'access-bot', now);
  const required = r.policy.stages[r.stage]?.required ?? 1;
  const approvals = countPeople(asked.filter((a) => a.decision === 'approve').map(approverRef));
  const waiting = asked.filter((a) => a.decision === null && a.goneAt === null && a.personId !== person.id).length;
  refreshTimers(ctx, r.id);
  if (stageCanPass({ required, approvals, waiting })) return 'left';
  enqueue(ctx.store, { kind: 'request.reroute', requestId: r.id, stage: r.stage });
  return 'rerouted';
}

/** Offboards the person in a transaction of its own. */
export function offboardPerson(deps: OffboardDeps, input: { personId: number; departure: Departure }): OffboardResult {
  return deps.store.tx((store) => {
    const person = store.getPerson(input.personId);
    return person ? offboardInTx({ ...deps, store }, person, input.departure) : { ...NOTHING };
  });
}

/**
 * Slack's `user_change` with `deleted: true`: the person left the workspace. Recorded before the
 * ack; a delivery seen before (Slack retries with the same event id) changes nothing.
 */
export function personLeftSlack(deps: OffboardDeps, input: { slackId: string; eventId: string }): { duplicate: boolean; result: OffboardResult } {
  return deps.store.tx((store) => {
    if (!store.firstDelivery(`slack-event:${input.eventId}`, deps.now())) return { duplicate: true, result: { ...NOTHING } };
    const person = store.personBySlackId(input.slackId);
    return { duplicate: false, result: person ? offboardInTx({ ...deps, store }, person, { source: 'slack' }) : { ...NOTHING } };
  });
}
