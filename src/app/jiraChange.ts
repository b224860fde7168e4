/**
 * Changes to the Jira record made by people (from the Jira webhook). Jira is the record for
 * humans, so deleting the issue or editing or deleting a comment access-bot wrote is tamper
 * evidence: it is audited, admins are alerted, and (when the issue still exists) the issue says so.
 */
import { alertAdmins, recordStep, type Deps } from './context.js';
import type { TxStore } from './ports/store.js';

/** What recording a change to the Jira record touches. */
export type JiraChangeDeps = Deps<'store' | 'now' | 'adminChannel'>;

export interface JiraChange {
  /** X-Atlassian-Webhook-Identifier: the same across redeliveries. */
  deliveryId: string;
  /** SHA-256 of the signed body: the same for a replay under a new delivery id. */
  bodyHash: string;
  event: string;
  issueKey?: string;
  commentId?: string;
  /** Who made the change, as Jira names them. */
  by: string;
}

/** How long deliveries already handled are remembered (older bodies are refused, see webhook.ts). */
export const SEEN_RETENTION_MS = 7 * 24 * 3600_000;

/** Forgets deliveries older than the retention (at start-up and hourly, compose.ts). */
export function pruneDeliveries(ctx: Deps<'store' | 'now'>): number {
  return ctx.store.pruneSeen(ctx.now() - SEEN_RETENTION_MS);
}

export type JiraChangeResult = 'duplicate' | 'ignored' | 'recorded';

const CHANGES: Record<string, 'issue_deleted' | 'comment_deleted' | 'comment_edited'> = {
  'jira:issue_deleted': 'issue_deleted',
  comment_deleted: 'comment_deleted',
  comment_updated: 'comment_edited',
};

/**
 * Whether a webhook delivery is new (inside the transaction that handles it). Both keys are
 * recorded: a redelivery repeats the id, a replay of a captured body repeats the body.
 */
export function firstJiraDelivery(store: Pick<TxStore, 'firstDelivery'>, d: { deliveryId: string; bodyHash: string }, now: number): boolean {
  const newId = store.firstDelivery(`jira:${d.deliveryId}`, now);
  const newBody = store.firstDelivery(`jira-body:${d.bodyHash}`, now);
  return newId && newBody;
}

export function recordJiraChange(deps: JiraChangeDeps, c: JiraChange): JiraChangeResult {
  return deps.store.tx((store) => {
    const ctx = { ...deps, store };
    if (!firstJiraDelivery(ctx.store, c, ctx.now())) return 'duplicate';
    const change = CHANGES[c.event];
    const r = c.issueKey ? ctx.store.findByJiraKey(c.issueKey) : undefined;
    if (!change || !r) return 'ignored';
    if (change !== 'issue_deleted' && (!c.commentId || !ctx.store.isOwnComment(r.id, c.commentId))) return 'ignored';
    recordStep(ctx, r, { type: 'record_changed', change, commentId: c.commentId, by: c.by }, `jira:${c.by}`);
    alertAdmins(
      ctx,
      change === 'issue_deleted'
        ? `The Jira issue ${c.issueKey} of access request ${r.id} (${r.appName} / ${r.roleName}) was deleted by ${c.by}. access-bot's audit log still holds every step.`
        : `A comment access-bot wrote on ${c.issueKey} was ${change === 'comment_deleted' ? 'deleted' : 'edited'} by ${c.by}.`,
      r.id,
    );
    return 'recorded';
  });
}
