/**
 * Re-routing a stage whose approvers left (app/offboard.ts): when the approvals it has and the
 * approvers still here cannot reach its quorum, the policy's `fallback` is asked, as when a stage
 * resolves to nobody at routing (the existing fallback rule). Without a fallback, or when it
 * resolves to too few, the request fails with the cause. Runs as the `request.reroute` effect
 * (the fallback is looked up in Slack and the IdP); `applyReroute` records it in one transaction.
 */
import { eligibleApprovers, type Person } from '../domain/approval.js';
import { stageCanPass } from '../domain/offboarding.js';
import { countPeople } from '../domain/people.js';
import { mustGet, recordStep, refreshTimers, type InTx } from './context.js';
import { failRequest } from './fail.js';
import { approverRef, neverApprovers } from './people.js';
import type { ApproverRecord, RequestRecord } from './ports/store.js';
import { askApprovers, resolveRefs, type RouteDeps } from './route.js';

export type RerouteResult = { kind: 'stale' } | { kind: 'fallback'; stage: number; approvers: Person[]; unresolved: string[] };

/** What the stage has: approvals given, approvers still asked and here, and the quorum. */
function standing(r: RequestRecord, asked: ApproverRecord[]): { required: number; approvals: number; waiting: number } {
  const required = r.policy.kind === 'stages' ? (r.policy.stages[r.stage]?.required ?? 1) : 1;
  return {
    required,
    approvals: countPeople(asked.filter((a) => a.decision === 'approve').map(approverRef)),
    waiting: asked.filter((a) => a.decision === null && a.goneAt === null).length,
  };
}

export async function resolveReroute(ctx: RouteDeps, requestId: string, stage: number): Promise<RerouteResult> {
  const r = ctx.store.getRequest(requestId);
  if (!r || r.state !== 'pending' || r.stage !== stage || r.policy.kind !== 'stages' || !r.requesterEmail) return { kind: 'stale' };
  const asked = ctx.store.approversOf(r.id, stage);
  if (stageCanPass(standing(r, asked))) return { kind: 'stale' };
  // Nobody asked at this stage is asked again (those who left least of all), nor the requester or
  // whoever asked on their behalf, nor anyone who approved an earlier stage.
  const excluded = ctx.store
    .approversOf(r.id)
    .filter((a) => a.stage === stage || a.decision === 'approve')
    .map(approverRef);
  const found = await resolveRefs(ctx, r, r.requesterEmail, r.policy.fallback, 'fallback');
  return { kind: 'fallback', stage, approvers: eligibleApprovers(found.people, neverApprovers(r), excluded), unresolved: found.unresolved };
}

export function applyReroute(ctx: InTx<RouteDeps>, requestId: string, result: RerouteResult): void {
  if (result.kind === 'stale') return;
  const r = mustGet(ctx, requestId);
  if (r.state !== 'pending' || r.stage !== result.stage || r.policy.kind !== 'stages') return;
  const now = ctx.now();
  const have = standing(r, ctx.store.approversOf(r.id, r.stage));
  if (stageCanPass(have)) return;
  if (!stageCanPass({ ...have, waiting: have.waiting + result.approvers.length })) {
    const fallback = r.policy.fallback.length === 0 ? 'the policy has no fallback' : `the fallback resolved to ${result.approvers.length === 0 ? 'nobody' : `only ${result.approvers.length}`}${result.unresolved.length ? ` (${result.unresolved.join('; ')})` : ''}`;
    failRequest(ctx, r.id, `stage ${r.stage + 1} can no longer get its ${have.required} approval${have.required === 1 ? '' : 's'}: its approvers left and ${fallback}`);
    return;
  }
  const asked = askApprovers(ctx, r.id, r.stage, result.approvers, now);
  recordStep(ctx, r, { type: 'rerouted', stage: r.stage, required: have.required, approvers: asked }, 'access-bot', now);
  refreshTimers(ctx, r.id);
}
