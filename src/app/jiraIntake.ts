/**
 * Requests raised in Jira (catalog `jira.intake`, ARCHITECTURE.md §4 "Jira as a surface"): an
 * issue of a configured request type in the catalog's project becomes a request, and that issue
 * is its record (no second issue is created: the request has its Jira key from the start).
 *
 * The Jira webhook and the poll (app/jiraPoll.ts) both feed `receiveIssue` with what they know
 * of the issue; whichever comes first takes it in, the other finds it done. Each event is one
 * transaction keyed by the issue's id (table `jira_intake`, requests.submission_key
 * `jira:<issue id>`), so the same issue never becomes two requests, whatever arrives twice or
 * races. Nothing here calls Jira: who the reporter is (their email) is learned by routing.
 *
 * An issue whose fields make no request gets one comment saying exactly what is wrong and which
 * values are allowed (`jira.intakeComment`), and nothing else happens until an edit changes what
 * is wrong: the same problems are never told twice.
 */
import { intakeTypeOf, readIntake, type IntakeReading, type IssueSnapshot } from '../domain/intake.js';
import { validateChange, validateRemoval } from '../domain/removal.js';
import type { IntakeRequestType } from '../domain/catalog.js';
import type { Deps, InTx } from './context.js';
import { enqueue } from './effects.js';
import { firstJiraDelivery } from './jiraChange.js';
import { takeStatusChanges } from './jiraStatus.js';
import type { JiraIntakeRecord } from './ports/store.js';
import { recordOnce } from './submitRemoval.js';
import { newRequestId, recordNewRequest, roleTarget } from './submitRequest.js';

/** What taking an issue in touches. */
export type JiraIntakeDeps = Deps<'store' | 'catalog' | 'now' | 'people' | 'logger'>;

/**
 * - `ignored`: not a request (another project or type, the record of a Slack request, intake off);
 * - `predates_intake`: created well before intake was turned on, never taken in;
 * - `already_requested`: the issue is a request already (a redelivery, the poll after the webhook);
 * - `requested`: the request starts now;
 * - `refused`: its fields make no request, and the problems are told on the issue;
 * - `refused_before`: the same problems were told already: nothing more is said;
 * - `stale`: an older view of the issue than one already read (a late webhook, a lagging search);
 * - `duplicate`: a webhook delivery seen before.
 */
export type IntakeResult = 'ignored' | 'predates_intake' | 'already_requested' | 'requested' | 'refused' | 'refused_before' | 'stale' | 'duplicate';

/** Where the poll keeps when intake started (jira_poll). */
export const INTAKE_SINCE = 'intake_since';
/**
 * Issues created up to this long before intake started still count: raised while the bot was
 * being configured, or stamped by a Jira clock a little behind ours.
 */
export const INTAKE_GRACE_MS = 10 * 60_000;

/** A webhook delivery: deduplicated by its identifier and body, then handled as any issue event. */
export interface IssueDelivery {
  deliveryId: string;
  bodyHash: string;
  issue: IssueSnapshot;
}

export function receiveIssueDelivery(deps: JiraIntakeDeps, d: IssueDelivery): IntakeResult {
  return deps.store.tx((store) => {
    const ctx = { ...deps, store };
    if (!firstJiraDelivery(store, d, ctx.now())) return 'duplicate';
    return intakeAndStatuses(ctx, d.issue);
  });
}

/** An issue as the poll found it. */
export function receiveIssue(deps: JiraIntakeDeps, issue: IssueSnapshot): IntakeResult {
  return deps.store.tx((store) => intakeAndStatuses({ ...deps, store }, issue));
}

/**
 * The issue as a request raised in Jira, then its changelog's status changes as people's
 * decisions on the request it records (`jira.statuses`, app/jiraStatus.ts): the same delivery, or
 * the same poll, carries both.
 */
function intakeAndStatuses(ctx: InTx<JiraIntakeDeps>, issue: IssueSnapshot): IntakeResult {
  const result = intake(ctx, issue);
  takeStatusChanges(ctx, issue);
  return result;
}

/**
 * When intake started: recorded the first time it is asked for with intake configured (at
 * start-up, compose.ts; or by the first event). Issues created before it are not requests.
 */
export function intakeSince(ctx: Pick<InTx<JiraIntakeDeps>, 'store' | 'now'>): number {
  const since = ctx.store.pollMark(INTAKE_SINCE);
  if (since !== undefined) return since;
  const now = ctx.now();
  ctx.store.setPollMark(INTAKE_SINCE, now);
  return now;
}

/** Marks the start of intake, when the catalog has it (at start-up and after a catalog edit that turns it on). */
export function startIntake(deps: Pick<JiraIntakeDeps, 'store' | 'now' | 'catalog'>): void {
  if (deps.catalog().jira.intake) deps.store.tx((store) => intakeSince({ store, now: deps.now }));
}

function intake(ctx: InTx<JiraIntakeDeps>, issue: IssueSnapshot): IntakeResult {
  const catalog = ctx.catalog();
  const type = intakeTypeOf(catalog, issue);
  if (!catalog.jira.intake || !type) return 'ignored';
  const seen = ctx.store.jiraIntake(issue.id);
  // The record of a Slack request (its label removed by someone) is not taken in.
  const recordOf = ctx.store.findByJiraKey(issue.key);
  if (recordOf && recordOf.id !== seen?.requestId) return 'ignored';
  if (seen && ctx.store.getRequest(seen.requestId)) return 'already_requested';
  if (!seen && issue.created < intakeSince(ctx) - INTAKE_GRACE_MS) return 'predates_intake';
  // Jira's `updated` orders the views of an issue: webhooks come out of order, the poll's search lags.
  if (seen && updatedOf(issue) < seen.issueUpdated) return 'stale';

  const requestId = seen?.requestId ?? newRequestId();
  const reading = readIntake(catalog, catalog.jira.intake, type, issue);
  if (!reading.ok) return refuse(ctx, issue, type, seen, requestId, reading.problems);
  if (reading.kind !== 'access') return startKind(ctx, issue, type, seen, requestId, reading);
  return start(ctx, issue, seen, requestId, reading);
}

/**
 * A removal or change raised in Jira: recorded by the use cases Slack's forms use
 * (app/submitRemoval.ts), on this issue. What the reporter holds is not checked here (Jira's form
 * could not list it): carrying out the removal finds whether the membership is in place.
 */
function startKind(ctx: InTx<JiraIntakeDeps>, issue: IssueSnapshot, type: IntakeRequestType, seen: JiraIntakeRecord | undefined, requestId: string, reading: Extract<IntakeReading, { ok: true }>): IntakeResult {
  // The rules of Slack's forms (a change to a role granting the same group, to an emergency role…).
  const catalog = ctx.catalog();
  const form = { appId: reading.app.id, reason: reading.reason };
  const v =
    reading.kind === 'removal'
      ? validateRemoval(catalog, { ...form, roleId: reading.role.id }, undefined)
      : validateChange(catalog, { ...form, roleId: reading.fromRole?.id, toRoleId: reading.role.id, durationToken: reading.duration.token }, undefined);
  if (!v.ok) return refuse(ctx, issue, type, seen, requestId, Object.values(v.errors));
  const now = ctx.now();
  ctx.store.saveJiraIntake({ issueId: issue.id, issueKey: issue.key, requestId, problems: null, issueUpdated: updatedOf(issue), seenAt: seen?.seenAt ?? now }, now);
  const common = { requester: { accountId: reading.requester }, submissionKey: `jira:${issue.id}`, jira: { key: issue.key, requestId } };
  if (reading.kind === 'removal') {
    recordOnce(ctx, common, { kind: 'removal', app: reading.app, role: reading.role, duration: reading.duration, reason: reading.reason, ...(reading.subject ? { subject: { accountId: reading.subject } } : {}) });
  } else {
    recordOnce(ctx, common, { kind: 'change', app: reading.app, role: reading.role, duration: reading.duration, reason: reading.reason, ...(reading.fromRole ? { from: reading.fromRole } : {}) });
  }
  ctx.logger.info({ issue: issue.key, requestId, kind: reading.kind }, 'a request raised in Jira starts');
  return 'requested';
}

function refuse(ctx: InTx<JiraIntakeDeps>, issue: IssueSnapshot, type: IntakeRequestType, seen: JiraIntakeRecord | undefined, requestId: string, problems: string[]): IntakeResult {
  const now = ctx.now();
  const record: JiraIntakeRecord = { issueId: issue.id, issueKey: issue.key, requestId, problems, issueUpdated: updatedOf(issue), seenAt: seen?.seenAt ?? now };
  if (seen?.problems && sameList(seen.problems, problems)) {
    ctx.store.saveJiraIntake(record, now);
    return 'refused_before';
  }
  ctx.store.saveJiraIntake(record, now);
  const audit = ctx.store.appendAudit(requestId, now, 'access-bot', { type: 'intake_refused', issueKey: issue.key, requestType: type.name, problems });
  enqueue(ctx.store, { kind: 'jira.intakeComment', requestId, issueKey: issue.key, auditSeq: audit.seq });
  ctx.logger.info({ issue: issue.key, problems }, 'an issue raised in Jira cannot make a request; told on the issue');
  return 'refused';
}

function start(ctx: InTx<JiraIntakeDeps>, issue: IssueSnapshot, seen: JiraIntakeRecord | undefined, requestId: string, reading: Extract<IntakeReading, { ok: true }>): IntakeResult {
  const now = ctx.now();
  // Known by accountId until routing asks Jira for the email.
  const requester = ctx.people.forJiraAccount(ctx.store, reading.requester, now);
  ctx.store.saveJiraIntake({ issueId: issue.id, issueKey: issue.key, requestId, problems: null, issueUpdated: updatedOf(issue), seenAt: seen?.seenAt ?? now }, now);
  recordNewRequest(ctx.store, {
    id: requestId,
    submissionKey: `jira:${issue.id}`,
    target: roleTarget(reading.app, reading.role),
    duration: reading.duration,
    reason: reading.reason,
    requesterId: requester.id,
    actor: { personId: requester.id, ...(requester.email ? { email: requester.email } : {}) },
    actorLabel: `jira:${reading.requester}`,
    now,
    jiraKey: issue.key,
  });
  ctx.logger.info({ issue: issue.key, requestId }, 'a request raised in Jira starts');
  return 'requested';
}

/** Jira's `updated` of the issue, 0 when it gave none readable (then no view is ever stale against it). */
function updatedOf(issue: IssueSnapshot): number {
  return Number.isFinite(issue.updated) ? issue.updated : 0;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
