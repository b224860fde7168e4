import type { Logger } from 'pino';
import type { Catalog, JiraTransitionState } from '../domain/catalog.js';
import type { SlackAccount } from '../domain/people.js';
import { isRecordedInJira, type Actor, type Step } from '../domain/steps.js';
import { nextTimerAt } from '../domain/timers.js';
import { enqueue, type RequesterNotice } from './effects.js';
import type { IdpConnector, IdpConnectorWith } from './ports/idp.js';
import type { People } from './people.js';
import type { RequestRecord, Store } from './ports/store.js';

/** A Slack user as the app reads them: who they are, and whether their account may act. */
export interface DirectoryUser {
  slackId: string;
  email?: string;
  name: string;
  account: SlackAccount;
}

/** Looks people up in Slack: the app needs emails and ids, nothing about Block Kit. */
export interface SlackDirectory {
  /**
   * undefined when Slack has no such user. May answer from a cache of a minute or so, unless
   * `fresh`: who a grant goes to is read fresh, so a changed email is seen at once.
   */
  userInfo(userId: string, opts?: { fresh?: boolean }): Promise<DirectoryUser | undefined>;
  /** undefined when no active Slack user has this email. */
  lookupByEmail(email: string): Promise<DirectoryUser | undefined>;
  /** Member ids of a user group given by handle or id; undefined when there is no such group. */
  usergroupMembers(handleOrId: string): Promise<string[] | undefined>;
}

export interface AppContext {
  store: Store;
  catalog(): Catalog;
  now(): number;
  logger: Logger;
  /** Configured connector instances by name. */
  connectors: Readonly<Record<string, IdpConnector>>;
  slack: SlackDirectory;
  people: People;
  adminChannel?: string;
  /** Where `manager` approvers come from (MANAGER_SOURCE); its capabilities are checked at start-up. */
  managerSource?: IdpConnectorWith<'userDirectory' | 'managerSource'>;
  /** Slack guests and Slack Connect users may request and decide (ALLOW_GUESTS). */
  allowGuests: boolean;
  /** Called after a transaction that created or changed an expiry time. */
  onExpiryChanged(): void;
}

export function actorOf(r: RequestRecord): Actor {
  return { personId: r.requesterId, slackId: r.requesterSlackId ?? undefined, email: r.requesterEmail ?? undefined, name: r.requesterName ?? undefined };
}

/** Appends the audit event and, for steps of the story, enqueues its Jira comment. */
export function recordStep(ctx: AppContext, r: RequestRecord, step: Step, actor: string, at = ctx.now()): number {
  const audit = ctx.store.appendAudit(r.id, at, actor, step);
  if (isRecordedInJira(step)) enqueue(ctx.store, { kind: 'jira.comment', requestId: r.id, auditSeq: audit.seq });
  return audit.seq;
}

/** Enqueues the Jira transition the catalog maps to this state, if any. */
export function transitionIssue(ctx: AppContext, r: RequestRecord, state: JiraTransitionState): void {
  const name = ctx.catalog().jira.transitions[state];
  if (name) enqueue(ctx.store, { kind: 'jira.transition', requestId: r.id, transition: name });
}

export function notifyRequester(ctx: AppContext, r: RequestRecord, notice: RequesterNotice): void {
  enqueue(ctx.store, { kind: 'slack.requesterDm', requestId: r.id, notice });
}

/**
 * Tells the admin channel. `text` is plain text, never mrkdwn: names, causes and other text from
 * outside go in as they are, and the Slack adapter escapes the whole of it when it posts.
 */
export function alertAdmins(ctx: AppContext, text: string, requestId?: string): void {
  if (ctx.adminChannel) enqueue(ctx.store, { kind: 'slack.alert', channel: ctx.adminChannel, text, requestId });
}

/** Re-reads a request the caller knows exists (inside a transaction). */
export function mustGet(ctx: AppContext, id: string): RequestRecord {
  const r = ctx.store.getRequest(id);
  if (!r) throw new Error(`request ${id} not found`);
  return r;
}

/**
 * Enqueues the Jira issue and its first comment (the request itself). Called once per request,
 * when the requester is identified, or when the request fails before that.
 */
export function openRecord(ctx: AppContext, r: RequestRecord): void {
  enqueue(ctx.store, { kind: 'jira.create', requestId: r.id });
  enqueue(ctx.store, { kind: 'jira.property', requestId: r.id });
  const requested = ctx.store.auditOf(r.id).find((a) => a.step.type === 'requested');
  if (requested) enqueue(ctx.store, { kind: 'jira.comment', requestId: r.id, auditSeq: requested.seq });
}

/** Recomputes when the request's next reminder, escalation or timeout is due (inside a tx). */
export function refreshTimers(ctx: AppContext, requestId: string): void {
  const r = mustGet(ctx, requestId);
  let next: number | null = null;
  if (r.state === 'pending' && r.policy.kind === 'stages') {
    next = nextTimerAt({
      policy: r.policy,
      createdAt: r.createdAt,
      stage: r.stage,
      stageStartedAt: r.stageStartedAt,
      escalatedStage: r.escalatedStage,
      approvers: ctx.store.approversOf(r.id, r.stage),
    });
  }
  if (next !== r.nextTimerAt) ctx.store.updateRequest(r.id, { nextTimerAt: next }, ctx.now());
}

/** Re-renders every approver's card that was posted (e.g. to show or remove the Revoke button). */
export function updateApproverCards(ctx: AppContext, requestId: string): void {
  for (const a of ctx.store.approversOf(requestId)) {
    if (a.dmTs && a.slackId) enqueue(ctx.store, { kind: 'slack.approverUpdate', requestId, stage: a.stage, slackId: a.slackId });
  }
}
