/**
 * Finding the requester's IdP user: the `idp.resolveUser` effect, run after approval, before the
 * grant (app/grant.ts).
 *
 * Why the lookup is an effect of its own, run after approval: the grant must run in the queue of
 * the IdP user (app/effects.ts), which only the lookup names; two requests under two emails of
 * one person then share one line of membership changes. Not at routing time: approval may come
 * days after the request, the IdP account can be created, renamed or replaced meanwhile, and a
 * denied request needs no IdP call at all.
 */
import { formatTime } from '../domain/steps.js';
import { PermanentError } from '../outbox/errors.js';
import { isStoppedPart, STOPPED_CAUSE, stopIfEnded } from './bundle.js';
import { connectorFor } from './connectors.js';
import { mustGet, type Deps, type InTx } from './context.js';
import { enqueue, type EffectOf, type Skipped } from './effects.js';
import { failRequest } from './fail.js';
import { awaitsRemoval } from './fulfil.js';
import type { RequestRecord } from './ports/store.js';
import { removalFailed } from './remove.js';

/** What resolving touches. */
export type ResolveDeps = Deps<'store' | 'catalog' | 'now' | 'connectors' | 'adminChannel' | 'people'>;

/** `subject`: the email and name learned for a removal's subject named in Jira. */
export type ResolveResult = { idpUserId: string; subject?: { email: string; name: string } } | Skipped;

/** What a resolve (or a grant an older version enqueued by email) needs from its payload. */
type ResolveInput = Omit<EffectOf<'idp.resolveUser'>, 'kind'>;

/** Whether the lookup is still wanted: for a grant, the request is approved; for a removal, it still awaits one. */
function wanted(r: RequestRecord, e: ResolveInput): boolean {
  return e.purpose === 'remove' ? awaitsRemoval(r) : r.state === 'approved';
}

export async function runResolve(ctx: ResolveDeps, e: ResolveInput): Promise<ResolveResult> {
  const r = ctx.store.getRequest(e.requestId);
  if (!r || !wanted(r, e)) return { skipped: `request is ${r?.state ?? 'missing'}` };
  if (e.purpose !== 'remove') {
    if (isStoppedPart(r)) return { skipped: STOPPED_CAUSE };
    // Approved by a rule that matched the requester's on-call shift: once the shift is over, nothing is granted.
    if (r.endsBy !== null && r.endsBy <= ctx.now()) throw new PermanentError(`the on-call shift its approval rule matched ended at ${formatTime(r.endsBy)}, before access could be granted`, 'on_call_shift_ended');
  }
  const idp = connectorFor(ctx, e.connector);
  const subject = e.email ? undefined : await subjectOf(ctx, e.accountId);
  const email = subject?.email ?? e.email;
  const user = await idp.findUserByEmail(email);
  if (!user) throw new PermanentError(`no ${idp.name} user has the email ${email}`);
  return { idpUserId: user.id, ...(subject ? { subject } : {}) };
}

/** A removal's subject named in Jira: their email from Jira's user API. */
async function subjectOf(ctx: Pick<ResolveDeps, 'people'>, accountId: string | undefined): Promise<{ email: string; name: string }> {
  const a = accountId ? await ctx.people.jiraAccount(accountId) : undefined;
  if (!a) throw new PermanentError(`whose access to remove is not known: Jira has no account ${accountId ?? '(none named)'}`);
  if (!a.email) throw new PermanentError(`Jira did not show the email of ${a.name} (account ${a.accountId}), whose access is to be removed; access-bot identifies people by email`);
  return { email: a.email.toLowerCase(), name: a.name };
}

/**
 * Records the IdP user and enqueues the grant in that user's queue, in one transaction: from
 * here on the request counts as a holder of the membership (Store.otherHoldersOf).
 */
export function resolveDone(ctx: InTx<ResolveDeps>, e: ResolveInput, result: ResolveResult): void {
  if ('skipped' in result) return e.purpose === 'remove' ? undefined : stopIfEnded(ctx, e.requestId);
  const r = mustGet(ctx, e.requestId);
  if (!wanted(r, e)) return;
  // Found by the requester's email (a removal of someone else's access: the subject's).
  if (e.email === r.requesterEmail) ctx.store.setIdpUserId(r.requesterId, e.connector, result.idpUserId, ctx.now());
  if (e.purpose === 'remove') {
    // A removal's record names the IdP user it removed (and whose, once learned); a change keeps the new grant's.
    if (r.kind === 'removal') ctx.store.updateRequest(r.id, { idpUserId: result.idpUserId, ...(result.subject ? { subjectEmail: result.subject.email, subjectName: result.subject.name } : {}) }, ctx.now());
    enqueue(ctx.store, { kind: 'idp.remove', requestId: r.id, connector: e.connector, group: e.group, idpUserId: result.idpUserId });
    return;
  }
  ctx.store.updateRequest(r.id, { idpUserId: result.idpUserId }, ctx.now());
  enqueue(ctx.store, { kind: 'idp.grant', requestId: r.id, connector: e.connector, group: e.group, idpUserId: result.idpUserId });
}

/** Nothing was sent to the group yet: the request fails with the cause (a change's removal: see removalFailed). */
export function resolveDead(ctx: InTx<ResolveDeps>, e: ResolveInput, error: Error): void {
  if (e.purpose === 'remove') return removalFailed(ctx, e.requestId, `removing access failed: ${error.message}`);
  failRequest(ctx, e.requestId, `granting access failed: ${error.message}`);
}
