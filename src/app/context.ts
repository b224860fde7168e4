import type { Logger } from 'pino';
import type { Catalog, JiraTransitionState } from '../domain/catalog.js';
import { statusesSaying } from '../domain/jiraStatus.js';
import { isRecordedInJira, type Actor, type Step } from '../domain/steps.js';
import { nextTimerAt } from '../domain/timers.js';
import { enqueue, type RequesterNotice } from './effects.js';
import type { OnCallLookup } from './onCall.js';
import type { IdpConnector } from './ports/idp.js';
import type { People } from './people.js';
import type { ReviewStore } from './ports/reviews.js';
import type { RequestRecord, Store, TxStore } from './ports/store.js';

export interface AppContext {
  store: Store;
  /** Access reviews; its operations join the transaction of `store.tx` (app/ports/reviews.ts). */
  reviews: ReviewStore;
  catalog(): Catalog;
  now(): number;
  logger: Logger;
  /** Configured connector instances by name. */
  connectors: Readonly<Record<string, IdpConnector>>;
  /** Who is who: the only way to Slack's directory and the manager source. */
  people: People;
  /** Who is on call in a schedule (approval rules' `onCall`), remembered for a minute. */
  onCall: OnCallLookup;
  adminChannel?: string;
  /** Slack guests and Slack Connect users may request and decide (ALLOW_GUESTS). */
  allowGuests: boolean;
  /** Called after a transaction that created or changed an expiry time. */
  onExpiryChanged(): void;
}

/**
 * A use case's dependencies: the pieces of the context it touches, named in its signature
 * (`decide(deps: Deps<'store' | 'catalog' | 'now' | 'allowGuests'>, opts)`).
 */
export type Deps<K extends keyof AppContext> = Pick<AppContext, K>;

/**
 * A use case's dependencies inside a transaction: `store` is the transaction's handle. An outbox
 * completion (`onDone` / `onDead`) gets it from the outbox repository, which runs it in the
 * transaction that records the effect's outcome (app/handlers.ts).
 */
export type InTx<D extends { store: unknown }> = Omit<D, 'store'> & { store: TxStore };

/** `deps` working through the transaction handle `tx`. */
export function inTx<D extends { store: unknown }>(deps: D, tx: TxStore): InTx<D> {
  return { ...deps, store: tx };
}

/** What the recording helpers below use, inside a transaction: its handle, the clock, the catalog. */
export interface Tx {
  store: TxStore;
  now(): number;
  catalog(): Catalog;
  adminChannel?: string;
}

export function actorOf(r: RequestRecord): Actor {
  return { personId: r.requesterId, slackId: r.requesterSlackId ?? undefined, email: r.requesterEmail ?? undefined, name: r.requesterName ?? undefined };
}

/** Appends the audit event and, for steps of the story, enqueues its Jira comment. */
export function recordStep(ctx: Pick<Tx, 'store' | 'now'>, r: RequestRecord, step: Step, actor: string, at = ctx.now()): number {
  const audit = ctx.store.appendAudit(r.id, at, actor, step);
  if (isRecordedInJira(step)) commentOn(ctx.store, r, audit.seq);
  return audit.seq;
}

/**
 * Enqueues the Jira comment of an audit event. A bundle's part writes on the bundle's issue, in
 * the bundle's line of Jira effects, so its steps land in the order they happened among the
 * bundle's own.
 */
export function commentOn(store: TxStore, r: RequestRecord, auditSeq: number): void {
  enqueue(store, { kind: 'jira.comment', requestId: r.id, auditSeq, ...(r.partOf ? { issueOf: r.partOf } : {}) });
}

/**
 * Enqueues the Jira transition the catalog maps to this state, if any. When a person already
 * moved the issue to a status that says the same (`jira.statuses`: they decided in Jira), the
 * transition is done already and is not applied.
 */
export function transitionIssue(ctx: Pick<Tx, 'store' | 'catalog'>, r: RequestRecord, state: JiraTransitionState): void {
  // An extension shares its grant's issue, a part its bundle's; the issue follows the grant or the
  // bundle. Standing access was never requested: its issue records the reclaim, outside the workflow.
  if (r.extendsId || r.partOf || r.origin === 'standing') return;
  const jira = ctx.catalog().jira;
  const name = jira.transitions[state];
  const doneIn = statusesSaying(jira.statuses, state);
  if (name) enqueue(ctx.store, { kind: 'jira.transition', requestId: r.id, transition: name, ...(doneIn.length > 0 ? { doneIn } : {}) });
}

/** DMs the requester. A bundle's part says nothing of its own: the bundle tells (app/bundle.ts). */
export function notifyRequester(ctx: Pick<Tx, 'store'>, r: RequestRecord, notice: RequesterNotice): void {
  if (r.partOf) return;
  enqueue(ctx.store, { kind: 'slack.requesterDm', requestId: r.id, notice });
}

/**
 * Tells the admin channel. `text` is plain text, never mrkdwn: names, causes and other text from
 * outside go in as they are, and the Slack adapter escapes the whole of it when it posts.
 */
export function alertAdmins(ctx: Pick<Tx, 'store' | 'adminChannel'>, text: string, requestId?: string): void {
  if (ctx.adminChannel) enqueue(ctx.store, { kind: 'slack.alert', channel: ctx.adminChannel, text, requestId });
}

/** Re-reads a request the caller knows exists (inside a transaction). */
export function mustGet(ctx: Pick<Tx, 'store'>, id: string): RequestRecord {
  const r = ctx.store.getRequest(id);
  if (!r) throw new Error(`request ${id} not found`);
  return r;
}

/**
 * Enqueues the Jira issue and its first comment (the request itself). Called once per request,
 * when the requester is identified, or when the request fails before that.
 */
export function openRecord(ctx: Pick<Tx, 'store'>, r: RequestRecord): void {
  enqueue(ctx.store, { kind: 'jira.create', requestId: r.id });
  enqueue(ctx.store, { kind: 'jira.property', requestId: r.id });
  const requested = ctx.store.auditOf(r.id).find((a) => a.step.type === 'requested');
  if (requested) commentOn(ctx.store, r, requested.seq);
}

/** Recomputes when the request's next reminder, escalation or timeout is due (inside a tx). */
export function refreshTimers(ctx: Pick<Tx, 'store' | 'now'>, requestId: string): void {
  const r = mustGet(ctx, requestId);
  let next: number | null = null;
  if (r.state === 'pending' && r.policy.kind === 'stages') {
    next = nextTimerAt({
      policy: r.policy,
      createdAt: r.createdAt,
      stage: r.stage,
      stageStartedAt: r.stageStartedAt,
      escalatedStage: r.escalatedStage,
      approvers: ctx.store.approversOf(r.id, r.stage).filter((a) => a.goneAt === null),
    });
  }
  if (next !== r.nextTimerAt) ctx.store.updateRequest(r.id, { nextTimerAt: next }, ctx.now());
}

/** Re-renders every approver's card that was posted (e.g. to show or remove the Revoke button). */
export function updateApproverCards(ctx: Pick<Tx, 'store'>, requestId: string): void {
  for (const a of ctx.store.approversOf(requestId)) {
    if (a.dmTs && a.slackId) enqueue(ctx.store, { kind: 'slack.approverUpdate', requestId, stage: a.stage, slackId: a.slackId });
  }
}
