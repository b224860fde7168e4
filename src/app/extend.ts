/**
 * More time on an active grant (`/access extend ACC-12 4h`, or Extend on the expiry warning).
 *
 * An extension is a request of its own that refers to the grant (`extendsId`): it is routed,
 * voted on and timed out by the same code and the same domain rules as any request, so the
 * requester is never asked and never counts, quorums and stages hold, and a late click is
 * refused. It shares the grant's Jira issue. The grant stays active meanwhile; approval moves
 * its expiry (the expiry timer re-arms), denial leaves it. It ends `approved` or `denied` (or
 * `timed_out`, `failed`), never `active`: it holds no membership of its own.
 */
import type { RequestName } from '../domain/command.js';
import { findRole, type Catalog } from '../domain/catalog.js';
import { describeDuration, describeMs, spanDuration, type Duration } from '../domain/duration.js';
import { describeState, transition } from '../domain/lifecycle.js';
import { formatTime, who, type Actor } from '../domain/steps.js';
import { isRequester, personOf, reply } from './commands.js';
import { actorOf, inTx, mustGet, notifyRequester, recordStep, updateApproverCards, type Deps, type Tx } from './context.js';
import type { ReplyTarget } from './decide.js';
import { enqueue } from './effects.js';
import { failRequest } from './fail.js';
import type { RequestRecord } from './ports/store.js';
import { findNamed, keyOf, notYours } from './requestView.js';
import { newRequestId } from './submitRequest.js';
import { armWarnings } from './warnings.js';

export type ExtendResult = { ok: true; extensionId: string } | { ok: false; code: string };

export type ExtendDeps = Deps<'store' | 'now' | 'catalog' | 'adminChannel' | 'onExpiryChanged'>;

export function requestExtension(deps: ExtendDeps, input: { actorSlackId: string; request: RequestName; duration: Duration; reply: ReplyTarget }): ExtendResult {
  return deps.store.tx((tx) => {
    const ctx = inTx(deps, tx);
    const now = ctx.now();
    const r = findNamed(ctx, input.request);
    const no = (code: string, text: string): ExtendResult => {
      reply(ctx, input.reply, text);
      return { ok: false, code };
    };
    if (!r || r.extendsId) return no('unknown_request', notYours(input.request));
    if (!isRequester(r, personOf(ctx, input.actorSlackId))) {
      ctx.store.appendAudit(r.id, now, input.actorSlackId, { type: 'decision_refused', actor: { slackId: input.actorSlackId }, code: 'not_requester' });
      return no('not_requester', `Only the person who holds ${keyOf(r)} can ask to extend it.`);
    }
    if (r.state !== 'active' || r.expiresAt === null) {
      return no('not_extendable', r.state === 'active' ? `${keyOf(r)} does not expire, so there is nothing to extend.` : `${keyOf(r)} is ${describeState(r.state)}; only active access can be extended.`);
    }
    // Approved for an on-call shift: the access ends with the shift, and so does any extension.
    if (r.endsBy !== null && r.expiresAt >= r.endsBy) {
      return no('not_extendable', `${keyOf(r)} was granted for an on-call shift and ends with it (${formatTime(r.endsBy)}); it cannot be extended past the shift.`);
    }
    const ext = findRole(ctx.catalog(), r.appId, r.roleId)?.role.extend;
    if (!ext) return no('not_extendable', `${r.appName} / ${r.roleName} cannot be extended (the access catalog allows no extension for it). Request it anew with /access.`);
    const ms = input.duration.ms ?? Number.POSITIVE_INFINITY;
    if (ms > ext.maxMs) return no('too_long', `${r.appName} / ${r.roleName} can be extended by at most ${describeMs(ext.maxMs)} at a time.`);
    if (ctx.store.extensionsOf(r.id).some((x) => x.state === 'pending')) return no('already_pending', `An extension of ${keyOf(r)} is already waiting for approval.`);

    const id = newRequestId();
    ctx.store.insertRequest({
      id,
      submissionKey: null,
      appId: r.appId,
      roleId: r.roleId,
      appName: r.appName,
      roleName: r.roleName,
      connector: r.connector,
      groupId: r.groupId,
      durationToken: input.duration.token,
      durationMs: ms,
      reason: `Extension of ${keyOf(r)}`,
      policy: ext.policy,
      requesterId: r.requesterId,
      createdAt: now,
      breakGlassNotify: null,
      nextTimerAt: ext.policy.kind === 'stages' && ext.policy.timeoutMs !== undefined ? now + ext.policy.timeoutMs : null,
      extendsId: r.id,
    });
    // The requester is the grant's, already identified: routing opens no record of its own.
    ctx.store.updateRequest(id, { jiraKey: r.jiraKey, requesterEmail: r.requesterEmail, requesterName: r.requesterName }, now);
    const x = mustGet(ctx, id);
    const until = r.endsBy !== null ? Math.min(r.endsBy, r.expiresAt + ms) : r.expiresAt + ms;
    recordStep(ctx, x, { type: 'extension_requested', actor: actorOf(r), more: describeDuration(input.duration), until }, input.actorSlackId, now);
    if (ext.policy.kind === 'auto') {
      settleExtension(ctx, x, { approved: true });
      reply(ctx, input.reply, `${keyOf(r)} was extended by ${describeDuration(input.duration)}: your access now ends ${formatTime(mustGet(ctx, r.id).expiresAt!)}.`);
    } else {
      enqueue(ctx.store, { kind: 'request.route', requestId: id, stage: 0 });
      reply(ctx, input.reply, `You asked to extend ${keyOf(r)} by ${describeDuration(input.duration)} (until ${formatTime(until)}). Your access stays as it is while the approvers decide.`);
    }
    return { ok: true, extensionId: id };
  });
}

/**
 * What the Extend button on an expiry warning asks for: the grant's own duration again, at most
 * the role's extension maximum. undefined: the role cannot be extended.
 */
export function warningExtension(catalog: Catalog, r: RequestRecord): Duration | undefined {
  const ext = findRole(catalog, r.appId, r.roleId)?.role.extend;
  if (!ext) return undefined;
  return r.durationMs !== null && r.durationMs <= ext.maxMs ? { token: r.durationToken, ms: r.durationMs } : spanDuration(ext.maxMs);
}

/** The Extend button on an expiry warning: an extension by `warningExtension`, under the same rules as `/access extend`. */
export function extendFromWarning(ctx: ExtendDeps, input: { actorSlackId: string; requestId: string; reply: ReplyTarget }): ExtendResult {
  const r = ctx.store.getRequest(input.requestId);
  // Without an extension to offer, requestExtension refuses as it refuses /access extend.
  const duration: Duration = r ? (warningExtension(ctx.catalog(), r) ?? { token: r.durationToken, ms: r.durationMs }) : { token: 'permanent', ms: null };
  return requestExtension(ctx, { actorSlackId: input.actorSlackId, request: { requestId: input.requestId }, duration, reply: input.reply });
}

/**
 * An extension decided (inside the decision's transaction): approval moves the grant's expiry
 * from where it is now, denial leaves it. When the grant ended meanwhile, the extension fails.
 */
export function settleExtension(ctx: Tx & Deps<'onExpiryChanged'>, x: RequestRecord, d: { approved: true; actor?: Actor } | { approved: false; actor: Actor; reason: string }): void {
  const now = ctx.now();
  const grant = mustGet(ctx, x.extendsId!);
  if (grant.state !== 'active' || grant.expiresAt === null || x.durationMs === null) {
    failRequest(ctx, x.id, `the access it extends is ${describeState(grant.state)}`);
    return;
  }
  const by = d.actor ? who(d.actor) : 'policy';
  if (!d.approved) {
    ctx.store.updateRequest(x.id, { state: transition(x.state, 'deny'), decidedAt: now, decidedBy: by, nextTimerAt: null }, now);
    recordStep(ctx, x, { type: 'extension_denied', actor: d.actor, reason: d.reason, expiresAt: grant.expiresAt }, by, now);
    notifyRequester(ctx, x, { type: 'extension_denied', by, reason: d.reason, expiresAt: grant.expiresAt });
    return;
  }
  // Never past the end of the on-call shift that approved the grant.
  const until = grant.endsBy !== null ? Math.min(grant.endsBy, grant.expiresAt + x.durationMs) : grant.expiresAt + x.durationMs;
  ctx.store.updateRequest(x.id, { state: transition(x.state, 'approve'), decidedAt: now, decidedBy: by, nextTimerAt: null }, now);
  ctx.store.updateRequest(grant.id, { expiresAt: until }, now);
  // The warnings still ahead of the new end are armed again.
  armWarnings(ctx, grant.id);
  recordStep(ctx, x, { type: 'extended', actor: d.actor, until }, by, now);
  notifyRequester(ctx, x, { type: 'extended', by, expiresAt: until });
  // The "Access granted" DM and the approvers' cards show the new end.
  enqueue(ctx.store, { kind: 'slack.requesterGrantUpdate', requestId: grant.id });
  updateApproverCards(ctx, grant.id);
  ctx.onExpiryChanged();
}
