/**
 * Keep it, on an inactivity warning (app/reclaim.ts): the holder says why they still need the
 * access. The reason is a comment on the Jira issue ("Kept by … — reason"), the warning is
 * withdrawn, and inactivity is counted again from now. Only the holder may, while the warning is
 * in force (domain/reclaim.ts `keepRefusal`); anyone else is told privately and the refusal is
 * audited, as for every button.
 */
import { findRole } from '../domain/catalog.js';
import { samePerson } from '../domain/people.js';
import { keepRefusal } from '../domain/reclaim.js';
import { MAX_REASON_LENGTH } from '../domain/submission.js';
import { actorRefusal } from './actor.js';
import { actorOf, recordStep, type Deps } from './context.js';
import { refuse, type ReplyTarget } from './decide.js';
import { enqueue } from './effects.js';
import { requesterRef, type ActingPerson } from './people.js';
import type { RequestRecord } from './ports/store.js';
import { keyOf } from './requestView.js';

export type KeepDeps = Deps<'store' | 'catalog' | 'now' | 'allowGuests'>;

export type KeepResult = { ok: true } | { ok: false; code: string; message: string };

/** The reason a Keep it needs, as the modal asks for it. */
export const MIN_KEEP_REASON = 3;

function refusalFor(deps: KeepDeps, r: RequestRecord | undefined, actor: ActingPerson): { code: string; message: string } | undefined {
  if (!r) return { code: 'unknown_request', message: 'This access does not exist (any more).' };
  const account = actorRefusal(deps, actor, 'request');
  if (account) return account;
  // The clicker as Slack's directory knows them: by Slack id, and by email once Slack said it.
  const clicker = { ...actor.ref, email: actor.account.ok ? (actor.account.user.email ?? null) : null };
  return keepRefusal({ isHolder: samePerson(requesterRef(r), clicker), active: r.state === 'active', warned: r.reclaimWarnedAt !== null });
}

/** Whether the clicker may keep this access now; checked before the reason modal opens, audited when not. */
export function refuseIfMayNotKeep(deps: KeepDeps, opts: { requestId: string; actor: ActingPerson; reply: ReplyTarget }): boolean {
  return deps.store.tx((store) => {
    const r = store.getRequest(opts.requestId);
    const no = refusalFor(deps, r, opts.actor);
    if (!no) return false;
    refuse({ ...deps, store }, r, opts, no.code, no.message);
    return true;
  });
}

export function keepAccess(deps: KeepDeps, opts: { requestId: string; actor: ActingPerson; reason: string; reply: ReplyTarget }): KeepResult {
  return deps.store.tx((store) => {
    const ctx = { ...deps, store };
    const r = store.getRequest(opts.requestId);
    const no = refusalFor(deps, r, opts.actor);
    if (no || !r) return refuse(ctx, r, opts, no?.code ?? 'unknown_request', no?.message ?? 'This access does not exist (any more).');
    const reason = opts.reason.trim().slice(0, MAX_REASON_LENGTH);
    const now = ctx.now();
    store.updateRequest(r.id, { reclaimKeptAt: now, reclaimWarnedAt: null, reclaimAt: null }, now);
    recordStep(ctx, r, { type: 'reclaim_kept', actor: actorOf(r), reason }, opts.actor.label, now);
    enqueue(store, { kind: 'slack.reclaimWarningUpdate', requestId: r.id });
    const after = findRole(deps.catalog(), r.appId, r.roleId)?.role.reclaim?.afterMs;
    const until = after === undefined ? '' : ` Inactivity is counted again from now: unused, it would be reclaimed on ${new Date(now + after).toISOString().slice(0, 10)} at the earliest.`;
    enqueue(store, { kind: 'slack.ephemeral', user: opts.reply.user, channel: opts.reply.channel, responseUrl: opts.reply.responseUrl, text: `You kept ${r.appName} / ${r.roleName} (${keyOf(r)}); your reason is on its Jira issue.${until}` });
    return { ok: true };
  });
}
