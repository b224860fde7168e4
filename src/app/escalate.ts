/**
 * When a stage's approvers do not answer: escalation asks the policy's `escalateTo` people once
 * the stage waited too long (the `request.escalate` effect, enqueued by app/timers.ts), and an
 * approver whose DM cannot be delivered is reported, failing the request when nobody of the
 * stage can be reached. Routing itself is app/route.ts.
 */
import { eligibleApprovers, type Person } from '../domain/approval.js';
import { alertAdmins, mustGet, recordStep, refreshTimers, type InTx, type Tx } from './context.js';
import { failRequest } from './fail.js';
import { approverRef, neverApprovers } from './people.js';
import { askApprovers, resolveRefs, type RouteDeps } from './route.js';

export type EscalationResult = { kind: 'stale' } | { kind: 'escalated'; stage: number; approvers: Person[]; unresolved: string[] };

/** Resolves `escalateTo` for a stage that waited too long: people not yet asked in it. */
export async function resolveEscalation(ctx: RouteDeps, requestId: string, stage: number): Promise<EscalationResult> {
  const r = ctx.store.getRequest(requestId);
  if (!r || r.state !== 'pending' || r.stage !== stage || r.policy.kind !== 'stages' || !r.requesterEmail) return { kind: 'stale' };
  const all = ctx.store.approversOf(r.id);
  const excluded = all.filter((a) => a.stage === stage || a.decision === 'approve').map(approverRef);
  const found = await resolveRefs(ctx, r, r.requesterEmail, r.policy.escalateTo, 'escalation');
  const approvers = eligibleApprovers(found.people, neverApprovers(r), excluded);
  return { kind: 'escalated', stage, approvers, unresolved: found.unresolved };
}

export function applyEscalation(ctx: InTx<RouteDeps>, requestId: string, result: EscalationResult): void {
  if (result.kind === 'stale') return;
  const r = mustGet(ctx, requestId);
  if (r.state !== 'pending' || r.stage !== result.stage || r.policy.kind !== 'stages') return;
  const now = ctx.now();
  if (result.approvers.length === 0) {
    ctx.logger.warn({ requestId, unresolved: result.unresolved }, 'escalation resolved to nobody new; the stage keeps waiting on its approvers');
    return;
  }
  const asked = askApprovers(ctx, r.id, result.stage, result.approvers, now);
  recordStep(
    ctx,
    r,
    { type: 'escalated', stage: result.stage, afterMs: r.policy.escalateAfterMs ?? 0, approvers: asked },
    'access-bot',
    now,
  );
  refreshTimers(ctx, r.id);
}

/**
 * An approver's DM could not be delivered (left Slack, channel_not_found). Admins are told; when
 * nobody of the stage can be reached any more, the request fails rather than wait on nobody.
 */
export function approverUnreachable(ctx: Tx, requestId: string, stage: number, slackId: string, error: Error): void {
  const r = ctx.store.getRequest(requestId);
  if (!r) return;
  const approver = ctx.store.approversOf(r.id, stage).find((a) => a.slackId === slackId);
  const whom = approver ? `${approver.name ?? approver.email} (${approver.email}, Slack user ${slackId})` : `Slack user ${slackId}`;
  alertAdmins(ctx, `Could not ask approver ${whom} about ${r.jiraKey ?? r.id} (${r.appName} / ${r.roleName}): ${error.message}`, r.id);
  if (r.state !== 'pending' || r.stage !== stage) return;
  const reached = ctx.store.approversOf(r.id, stage).some((a) => a.dmTs !== null);
  if (!reached && ctx.store.openEffects(r.id, 'slack.approverDm') === 0) {
    failRequest(ctx, r.id, `no approver of stage ${stage + 1} could be reached in Slack (${error.message})`);
  }
}
