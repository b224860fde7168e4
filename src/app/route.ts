/**
 * Routing: who is asked at each stage. Runs as the `request.route` effect because it looks people
 * up (app/people.ts: Slack's users.info, users.lookupByEmail and user groups, the IdP's manager).
 * `resolveStage` does the lookups and returns plain facts; `applyRouting` records them in one
 * transaction.
 */
import { describeApproverRefs, eligibleApprovers, viaOf, type Person, type RoutedList } from '../domain/approval.js';
import { ownersOf } from '../domain/bundle.js';
import type { ApproverRef, StagedPolicy } from '../domain/catalog.js';
import { canTransition, transition } from '../domain/lifecycle.js';
import { ACCOUNT_PROBLEM_LABEL, accountProblem, samePerson } from '../domain/people.js';
import type { Actor } from '../domain/steps.js';
import { PermanentError } from '../outbox/errors.js';
import { mustGet, notifyRequester, openRecord, recordStep, refreshTimers, transitionIssue, type Deps, type InTx } from './context.js';
import { enqueue } from './effects.js';
import { failRequest } from './fail.js';
import { startFulfilment } from './fulfil.js';
import { approverRef, neverApprovers, submitterRef } from './people.js';
import { denyByPolicy, pickRule, recordPolicy, ruleFacts, type AppliedPolicy } from './policyFacts.js';
import type { RequestRecord } from './ports/store.js';

/** What routing touches: people are looked up through the people service, never Slack directly. */
export type RouteDeps = Deps<'store' | 'catalog' | 'now' | 'people' | 'allowGuests' | 'logger' | 'adminChannel' | 'connectors' | 'onCall'>;

export type RoutingResult = (
  | { kind: 'approvers'; stage: number; requester: Requester; approvers: Person[]; fallback: boolean; unresolved: string[] }
  | { kind: 'auto'; requester: Requester }
  | { kind: 'nobody'; stage: number; requester: Requester; cause: string }
  /** An approval rule refused the request. */
  | { kind: 'denied'; requester: Requester; reason: string }
  /** The request moved on (decided, cancelled) before routing ran: nothing to do. */
  | { kind: 'stale' }
) & { /** The approval rule that chose the policy (first routing of a role with rules). */ applied?: AppliedPolicy };

/** Who asks, as routing learns it: their email and name, and the Slack account to tell them in. */
type Requester = { email: string; name: string; slackId?: string };

async function identifyRequester(ctx: RouteDeps, r: RequestRecord): Promise<Requester> {
  if (r.requesterEmail) return { email: r.requesterEmail, name: r.requesterName ?? r.requesterEmail };
  if (r.requesterSlackId) return identifySlackUser(ctx, r.requesterSlackId);
  if (r.requesterAccountId) return identifyJiraReporter(ctx, r.requesterAccountId);
  throw new PermanentError('the requester has no email on record and is neither a Slack user nor a Jira account');
}

async function identifySlackUser(ctx: RouteDeps, slackId: string): Promise<Requester> {
  // Fresh, not from the click-time cache: the email decides who is granted (a rename is seen at once).
  const u = await ctx.people.slackUser(slackId, { fresh: true });
  if (!u || u.account.deleted) throw new PermanentError(`the requester (Slack user ${slackId}) could not be found in Slack`);
  // Checked at submission too; this holds when the account changed in between.
  const problem = accountProblem(u.account, { allowGuests: ctx.allowGuests });
  if (problem) throw new PermanentError(`the requester (Slack user ${slackId}) may not request access: ${ACCOUNT_PROBLEM_LABEL[problem]}`);
  if (!u.email) throw new PermanentError('Slack did not return the requester\'s email: grant the bot the users:read.email scope');
  return { email: u.email.toLowerCase(), name: u.name };
}

/**
 * A request raised in Jira: its reporter's email from Jira's user API, and their Slack account,
 * found by that email, when they have one (they then get the usual DMs).
 */
async function identifyJiraReporter(ctx: RouteDeps, accountId: string): Promise<Requester> {
  const a = await ctx.people.jiraAccount(accountId);
  if (!a) throw new PermanentError(`the requester (Jira account ${accountId}) could not be found in Jira`);
  if (!a.active) throw new PermanentError(`the requester ${a.name} (Jira account ${accountId}) is deactivated in Jira`);
  if (!a.email) {
    throw new PermanentError(
      `Jira did not show the email of the requester ${a.name} (account ${accountId}); access-bot identifies people by email, so the bot's Jira account must be able to see it (the person's profile visibility, or an organization-managed account)`,
    );
  }
  const email = a.email.toLowerCase();
  const u = await ctx.people.byEmail(email);
  const slackId = u && !u.account.deleted && !u.account.bot ? u.slackId : undefined;
  return { email, name: a.name, ...(slackId ? { slackId } : {}) };
}

/**
 * Resolves approver references to people with a Slack account who may act (domain/people.ts).
 * Unresolvable ones are listed. Each person records the reference that routed them (`via`).
 */
export async function resolveRefs(
  ctx: RouteDeps,
  r: RequestRecord,
  requesterEmail: string,
  refs: ApproverRef[],
  list: RoutedList = 'stage',
): Promise<{ people: Person[]; unresolved: string[] }> {
  const people: Person[] = [];
  const unresolved: string[] = [];
  const policy = { allowGuests: ctx.allowGuests };
  const byEmail = async (email: string, label: string, ref: ApproverRef) => {
    const u = await ctx.people.byEmail(email);
    const problem = u && accountProblem(u.account, policy);
    if (!u) unresolved.push(label);
    else if (problem) unresolved.push(`${label} (${ACCOUNT_PROBLEM_LABEL[problem]})`);
    else people.push({ slackId: u.slackId, email: email.toLowerCase(), name: u.name, via: viaOf(list, ref) });
  };
  for (const ref of refs) {
    switch (ref.kind) {
      case 'email':
        await byEmail(ref.email, ref.email, ref);
        break;
      case 'owners': {
        // The application's owners, or a bundle's (domain/bundle.ts).
        const owners = ownersOf(ctx.catalog(), r.appId);
        if (owners.length === 0) unresolved.push('owners (none listed)');
        for (const o of owners) await byEmail(o, `owner ${o}`, ref);
        break;
      }
      case 'manager': {
        const manager = await ctx.people.managerEmailOf(requesterEmail);
        if ('email' in manager) await byEmail(manager.email, `manager ${manager.email}`, ref);
        else unresolved.push(manager.unresolved);
        break;
      }
      case 'slackGroup': {
        const ids = await ctx.people.slackGroupMembers(ref.group);
        if (!ids || ids.length === 0) {
          unresolved.push(`slack-group:${ref.group} (${ids ? 'empty' : 'not found'})`);
          break;
        }
        for (const id of ids) {
          const u = await ctx.people.slackUser(id);
          if (!u?.email) continue;
          const problem = accountProblem(u.account, policy);
          if (problem) unresolved.push(`${u.email} in slack-group:${ref.group} (${ACCOUNT_PROBLEM_LABEL[problem]})`);
          else people.push({ slackId: id, email: u.email.toLowerCase(), name: u.name, via: viaOf(list, ref) });
        }
        break;
      }
    }
  }
  return { people, unresolved };
}

export async function resolveStage(ctx: RouteDeps, requestId: string, stage: number): Promise<RoutingResult> {
  const r = ctx.store.getRequest(requestId);
  if (!r || r.state !== 'pending' || r.stage !== stage) return { kind: 'stale' };
  const requester = await identifyRequester(ctx, r);
  const applied = await pickRule(ctx, r, await ruleFacts(ctx, r, stage, requester.email));
  const chosen = applied?.policy ?? r.policy;
  if (chosen.kind === 'auto') return { kind: 'auto', requester, applied };
  if (chosen.kind === 'deny') return { kind: 'denied', requester, reason: chosen.reason, applied };
  const policy: StagedPolicy = chosen;
  const spec = policy.stages[stage];
  if (!spec) throw new PermanentError(`stage ${stage + 1} does not exist in the request's policy`);
  const approvedEarlier = ctx.store
    .approversOf(r.id)
    .filter((a) => a.stage < stage && a.decision === 'approve')
    .map(approverRef);
  const never = neverApprovers(r, requester.email);
  const first = await resolveRefs(ctx, r, requester.email, spec.approvers);
  let approvers = eligibleApprovers(first.people, never, approvedEarlier);
  // Named, so a stage that resolves to nobody says why: the submitter was its only approver.
  const submitter = submitterRef(r);
  const asker = submitter && first.people.find((p) => samePerson(p, submitter));
  if (asker) first.unresolved.push(`${asker.name ?? asker.email} (asked for this access on the requester's behalf, so may not approve it)`);
  let fallback = false;
  if (approvers.length < spec.required && policy.fallback.length > 0) {
    const fb = await resolveRefs(ctx, r, requester.email, policy.fallback, 'fallback');
    approvers = eligibleApprovers([...approvers, ...fb.people], never, approvedEarlier);
    fallback = true;
  }
  if (approvers.length === 0) {
    return { kind: 'nobody', stage, requester, cause: `no approver could be resolved for stage ${stage + 1}${first.unresolved.length ? ` (${first.unresolved.join('; ')})` : ''}`, applied };
  }
  if (approvers.length < spec.required) {
    return { kind: 'nobody', stage, requester, cause: `stage ${stage + 1} needs ${spec.required} approvals but only ${approvers.length} approver(s) could be resolved`, applied };
  }
  return { kind: 'approvers', stage, requester, approvers, fallback, unresolved: first.unresolved, applied };
}

/** Records the routing outcome (inside the transaction that marks the effect done). */
export function applyRouting(ctx: InTx<RouteDeps>, requestId: string, result: RoutingResult): void {
  if (result.kind === 'stale') return;
  let r = mustGet(ctx, requestId);
  if (r.state !== 'pending') return;
  const now = ctx.now();
  if (!r.requesterEmail) {
    // The person learns their email now; a record of them under that email (an approver of
    // another request, say) and this one become one person.
    ctx.people.record(
      ctx.store,
      { slackId: r.requesterSlackId ?? result.requester.slackId, atlassianAccountId: r.requesterAccountId ?? undefined, email: result.requester.email, name: result.requester.name },
      now,
    );
    ctx.store.updateRequest(r.id, { requesterEmail: result.requester.email, requesterName: result.requester.name }, now);
    r = mustGet(ctx, requestId);
    openRecord(ctx, r);
    notifyRequester(ctx, r, { type: 'submitted' });
  }
  recordPolicy(ctx, r, result.applied);
  r = mustGet(ctx, requestId);
  switch (result.kind) {
    case 'denied':
      denyByPolicy(ctx, r, result.reason);
      return;
    case 'auto': {
      ctx.store.updateRequest(r.id, { state: transition(r.state, 'approve'), decidedAt: now, decidedBy: 'policy' }, now);
      const breakGlass = r.breakGlassNotify ? { notify: r.breakGlassNotify } : undefined;
      recordStep(ctx, r, { type: 'auto_approved', breakGlass }, 'policy', now);
      // Loud at once, before the grant and whatever Jira does: security must see emergency access.
      if (breakGlass) enqueue(ctx.store, { kind: 'slack.breakGlassAlert', requestId: r.id });
      transitionIssue(ctx, r, 'approved');
      startFulfilment(ctx, mustGet(ctx, r.id));
      return;
    }
    case 'nobody':
      failRequest(ctx, r.id, result.cause);
      return;
    case 'approvers': {
      const policy = r.policy.kind === 'stages' ? r.policy : undefined;
      const asked = askApprovers(ctx, r.id, result.stage, result.approvers, now);
      ctx.store.updateRequest(r.id, { stageStartedAt: now }, now);
      recordStep(
        ctx,
        r,
        {
          type: 'approval_requested',
          stage: result.stage,
          stageCount: policy?.stages.length ?? 1,
          required: policy?.stages[result.stage]?.required ?? 1,
          approvers: asked,
          fallback: result.fallback || undefined,
        },
        'access-bot',
        now,
      );
      // Past the first stage the requester hears where their request stands, with whom it waits for now.
      const passed = policy?.stages[result.stage - 1];
      if (passed && policy) {
        const next = result.fallback ? 'the fallback approvers' : describeApproverRefs(policy.stages[result.stage]?.approvers ?? []);
        notifyRequester(ctx, r, { type: 'stage_passed', passed: describeApproverRefs(passed.approvers), next, asked: asked.map((a) => a.name ?? a.email ?? 'someone') });
      }
      if (result.unresolved.length > 0) {
        ctx.logger.warn({ requestId: r.id, unresolved: result.unresolved }, 'some approvers could not be resolved');
      }
      refreshTimers(ctx, r.id);
      return;
    }
  }
}

/** Routing failed for good (e.g. the requester has no email): the request fails with the cause. */
export function routingDead(ctx: InTx<RouteDeps>, requestId: string, error: Error): void {
  const r = ctx.store.getRequest(requestId);
  if (!r || !canTransition(r.state, 'fail')) return;
  failRequest(ctx, requestId, error.message);
}

/** Records the people routing found and asks each in Slack; returns them as audit actors. */
export function askApprovers(ctx: InTx<RouteDeps>, requestId: string, stage: number, people: Person[], now: number): Actor[] {
  return people.map((p) => {
    const person = ctx.people.record(ctx.store, { slackId: p.slackId, email: p.email, name: p.name }, now);
    ctx.store.insertApprover({ requestId, stage, personId: person.id, askedAt: now, via: p.via ?? 'email' });
    enqueue(ctx.store, { kind: 'slack.approverDm', requestId, stage, slackId: p.slackId });
    return { personId: person.id, slackId: p.slackId, email: p.email, name: p.name };
  });
}
