/**
 * Status changes people make in Jira (ARCHITECTURE.md §4 "Jira as a surface"; the rules are
 * domain/jiraStatus.ts). The signed webhook and the poll that catches dropped deliveries both
 * hand the issue they read to app/jiraIntake.ts, which passes its changelog here
 * (`takeStatusChanges`); each status change is taken once, by its changelog id, and enqueues the
 * `jira.statusChange` effect. Its run finds who moved the issue (accountId → email,
 * and their Slack account for the guest rules) and the text of a denial; its completion acts on
 * the request as that person, through the very use cases a Slack click goes through (decide,
 * revokeNow, withdraw), so quorum, stages, "never the requester" and click-time authorisation
 * hold alike.
 *
 * A refused move changes nothing in the identity provider: the issue is moved back when the
 * workflow allows, a comment says who did what and why it did not count, and admins are alerted
 * when the person may not make the move at all. The bot's own transitions come back as webhooks
 * too: they are recognised by the bot's accountId, and, should that be unknown, by the request
 * already being where the status says (StatusAction `already`), so they never loop.
 */
import type { IssueSnapshot } from '../domain/intake.js';
import { isOwnMove, isUnauthorized, meaningOf, refusalClause, statusAction, type StatusRefusal } from '../domain/jiraStatus.js';
import { MAX_REASON_LENGTH } from '../domain/submission.js';
import type { Actor } from '../domain/steps.js';
import { withdraw } from './cancel.js';
import { alertAdmins, inTx, mustGet, recordStep, type Deps, type InTx, type Tx } from './context.js';
import { decideIn, type DecideDeps } from './decide.js';
import { asEffect, enqueue, type EffectOf, type StatusRefusalNote } from './effects.js';
import { SEEN_RETENTION_MS } from './jiraChange.js';
import type { ActingPerson } from './people.js';
import type { DirectoryUser } from './ports/directory.js';
import type { JiraReads } from './ports/jiraReads.js';
import type { RequestRecord, TxStore } from './ports/store.js';
import { keyOf } from './requestView.js';
import { revokeNowIn } from './revokeNow.js';
import type { EffectHandler } from '../outbox/dispatcher.js';

/** One status change of one issue, however it was learned (a webhook's changelog, the poll's). */
export interface StatusChange {
  issueKey: string;
  /** The changelog entry's id: the webhook and the poll see the same entry, and it is handled once. */
  changelogId: string;
  /** Status names as the changelog gives them (`fromString`, `toString`). */
  from?: string;
  to: string;
  /** The accountId of who moved the issue (the changelog entry's author, the webhook's `user`). */
  accountId?: string;
  /** When (epoch ms). */
  at: number;
}

export type StatusChangeResult = 'duplicate' | 'ignored' | 'queued';

export type ReceiveDeps = Deps<'store' | 'catalog' | 'now'>;

/** The status changes an issue's changelog entries record, oldest first. */
export function statusChangesOf(issue: Pick<IssueSnapshot, 'key' | 'histories'>): StatusChange[] {
  const out: StatusChange[] = [];
  for (const h of issue.histories) {
    const item = h.items.find((i) => i.fieldId === 'status' || i.field === 'status');
    if (!item?.toString) continue;
    out.push({ issueKey: issue.key, changelogId: h.id, to: item.toString, at: h.at, ...(item.fromString ? { from: item.fromString } : {}), ...(h.author ? { accountId: h.author } : {}) });
  }
  return out;
}

/**
 * Takes in the status changes of an issue as a webhook or the poll read it, inside the caller's
 * transaction (app/jiraIntake.ts, which first drops a webhook delivery seen before).
 */
export function takeStatusChanges(ctx: InTx<ReceiveDeps>, issue: Pick<IssueSnapshot, 'key' | 'histories'>): StatusChangeResult[] {
  return statusChangesOf(issue).map((c) => takeStatusChange(ctx, c));
}

/** One status change, in its own transaction (a caller with no issue snapshot). */
export function receiveStatusChange(deps: ReceiveDeps, c: StatusChange): StatusChangeResult {
  return deps.store.tx((store) => takeStatusChange(inTx(deps, store), c));
}

/**
 * Once per changelog entry, only for a request's issue, a status the catalog maps, and a change
 * made since the request exists and within the time deliveries are remembered (an old entry the
 * poll reads again with a newer edit is not a decision now). Nothing is looked up here: it runs
 * on the webhook's answer path.
 */
function takeStatusChange(ctx: InTx<ReceiveDeps>, c: StatusChange): StatusChangeResult {
  const meaning = meaningOf(ctx.catalog().jira.statuses, c.to);
  if (!meaning) return 'ignored';
  const r = ctx.store.findByJiraKey(c.issueKey);
  if (!r || !(c.at >= r.createdAt) || c.at < ctx.now() - SEEN_RETENTION_MS) return 'ignored';
  if (!ctx.store.firstDelivery(`jira-changelog:${c.changelogId}`, ctx.now())) return 'duplicate';
  enqueue(ctx.store, {
    kind: 'jira.statusChange',
    requestId: r.id,
    issueKey: c.issueKey,
    meaning,
    to: c.to,
    at: c.at,
    ...(c.from !== undefined ? { from: c.from } : {}),
    ...(c.accountId ? { accountId: c.accountId } : {}),
  });
  return 'queued';
}

/** What the run learned: whether the bot moved it, who did, and a denial's reason. */
export interface StatusChangeFacts {
  own: boolean;
  person?: { accountId: string; email?: string; name: string; slack?: DirectoryUser };
  /** The person's newest comment on the issue (a denial's reason). */
  comment?: string;
}

export type StatusChangeDeps = DecideDeps & Deps<'people' | 'logger'>;

export async function runStatusChange(ctx: Pick<StatusChangeDeps, 'people'>, jira: JiraReads, e: EffectOf<'jira.statusChange'>): Promise<StatusChangeFacts> {
  if (!e.accountId) return { own: false };
  if (isOwnMove(e.accountId, await jira.myAccountId())) return { own: true };
  const user = await ctx.people.jiraAccount(e.accountId);
  const name = user?.name ?? e.displayName ?? e.accountId;
  const slack = user?.email ? await ctx.people.byEmail(user.email) : undefined;
  const comment = e.meaning === 'denied' ? await jira.latestCommentBy(e.issueKey, e.accountId) : undefined;
  return {
    own: false,
    person: { accountId: e.accountId, name, ...(user?.email ? { email: user.email.toLowerCase() } : {}), ...(slack ? { slack } : {}) },
    ...(comment ? { comment } : {}),
  };
}

/** Acts on the request as the person who moved the issue, or refuses (inside the effect's completion). */
export function applyStatusChange(ctx: InTx<StatusChangeDeps>, e: EffectOf<'jira.statusChange'>, f: StatusChangeFacts): void {
  if (f.own) {
    ctx.logger.debug({ issue: e.issueKey, to: e.to }, "a Jira status change made by access-bot's own account; ignored");
    return;
  }
  const r = mustGet(ctx, e.requestId);
  const action = statusAction(e.meaning, r.state);
  if (action.kind === 'already') return;
  const name = f.person?.name ?? e.displayName ?? 'someone';
  const email = f.person?.email;
  if (!f.person || !email) {
    const actor: Actor = { name };
    ctx.store.appendAudit(r.id, ctx.now(), `jira:${e.accountId ?? 'unknown'}`, { type: 'decision_refused', actor, code: 'unknown_person' });
    return refuseMove(ctx, r, e, actor, { code: 'unknown_person', message: 'unknown person', state: r.state });
  }
  const person = ctx.people.record(ctx.store, { email, atlassianAccountId: f.person.accountId }, ctx.now());
  const acting: ActingPerson = {
    ref: { id: person.id, email, atlassianAccountId: f.person.accountId },
    label: `jira:${email}`,
    actor: { personId: person.id, email, name: person.name ?? name },
    // The guest rules read the person's Slack account; someone Slack does not know is `not_found`.
    account: f.person.slack ? { ok: true, user: f.person.slack } : { ok: false, cause: 'not_found' },
  };
  let result: { ok: true } | { ok: false; code: string; message: string };
  switch (action.kind) {
    case 'approve':
    case 'deny': {
      const reason = action.kind === 'deny' ? (f.comment?.trim() || 'denied in Jira').slice(0, MAX_REASON_LENGTH) : undefined;
      const d = decideIn(ctx, { requestId: r.id, actor: acting, decision: action.kind, ...(reason ? { reason } : {}) });
      // A vote that did not decide yet: the issue goes back so the next approver can move it too.
      if (d.ok && (d.outcome.kind === 'vote_recorded' || d.outcome.kind === 'stage_passed') && e.from !== undefined) {
        enqueue(ctx.store, { kind: 'jira.moveBack', requestId: r.id, status: e.from });
      }
      result = d;
      break;
    }
    case 'revoke':
      result = revokeNowIn(ctx, { requestId: r.id, actor: acting });
      break;
    case 'cancel':
      result = withdraw(ctx, r, { ref: acting.ref, label: acting.label, actor: acting.actor });
      break;
  }
  if (!result.ok) refuseMove(ctx, r, e, acting.actor, { code: result.code, message: result.message, state: r.state });
}

/**
 * A refused move: the issue goes back where it was (then the refusal is recorded, saying whether
 * it could), and admins hear of a move the person may not make at all.
 */
function refuseMove(ctx: Tx, r: RequestRecord, e: EffectOf<'jira.statusChange'>, actor: Actor, refusal: StatusRefusal): void {
  const name = actor.name ?? actor.email ?? 'someone';
  const clause = refusalClause(name, refusal);
  const note: StatusRefusalNote = { actor, meaning: e.meaning, to: e.to, movedAt: e.at, clause };
  if (e.from !== undefined) enqueue(ctx.store, { kind: 'jira.moveBack', requestId: r.id, status: e.from, refusal: note });
  else recordRefusal(ctx, r, note, undefined, false);
  if (isUnauthorized(refusal.code)) {
    const back = e.from !== undefined ? `; access-bot moves the issue back to "${e.from}" where the workflow allows` : '';
    alertAdmins(ctx, `${name} moved ${keyOf(r)} (${r.appName} / ${r.roleName}) to "${e.to}" in Jira, but ${clause}. Nothing changed in the identity provider${back}.`, r.id);
  }
}

/** Records a refused move on the issue, once it is known whether the issue went back to `from`. */
export function recordRefusal(ctx: Pick<Tx, 'store' | 'now'>, r: RequestRecord, note: StatusRefusalNote, from: string | undefined, movedBack: boolean): void {
  const step = { type: 'jira_status_refused' as const, actor: note.actor, meaning: note.meaning, to: note.to, movedAt: note.movedAt, clause: note.clause, movedBack, ...(from !== undefined ? { from } : {}) };
  recordStep(ctx, r, step, `jira:${note.actor.email ?? note.actor.name ?? 'unknown'}`);
}

/** The `jira.statusChange` handler: `run` looks people up, the completion acts in its transaction. */
export function statusChangeHandlers(ctx: StatusChangeDeps, jira: JiraReads): Record<string, EffectHandler<TxStore>> {
  return {
    'jira.statusChange': {
      run: (row) => runStatusChange(ctx, jira, asEffect('jira.statusChange', row.payload)),
      onDone: (row, result, tx) => applyStatusChange(inTx(ctx, tx), asEffect('jira.statusChange', row.payload), result as StatusChangeFacts),
      // Who moved the issue could not be learned (Jira or Slack kept failing): nothing changed, admins look.
      onDead: (row, error, tx) => {
        const e = asEffect('jira.statusChange', row.payload);
        alertAdmins(
          inTx(ctx, tx),
          `${e.displayName ?? e.accountId ?? 'Someone'} moved ${e.issueKey} to "${e.to}" in Jira, but access-bot could not find out who they are (${error.message}); the move changed nothing. Decide in Slack, or fix the cause and retry the effect.`,
          e.requestId,
        );
      },
    },
  };
}
