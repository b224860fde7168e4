/**
 * An admin's retry of a dead effect, once its cause is fixed (a missing group created, a scope
 * granted). Reviving a grant that failed the request puts the request back to `approved`, so the
 * grant can complete it; the retry is audited and recorded on the Jira issue.
 */
import { canTransition, transition } from '../domain/lifecycle.js';
import type { Outbox } from '../outbox/outbox.js';
import type { Store } from './ports/store.js';
import { partRefOf } from '../domain/bundle.js';
import { commentOn } from './context.js';

/** Effects whose death fails the request: reviving one puts the request back to `approved`. */
const GRANTING = new Set(['idp.resolveUser', 'idp.grant']);

/**
 * Whether the effect carries out a removal (app/remove.ts). A removal request's failed removal
 * fails it, like a grant; a change's does not (it keeps its new role), so reviving it only
 * runs it again.
 */
function removes(kind: string, payload: unknown): boolean {
  return kind === 'idp.remove' || (kind === 'idp.resolveUser' && (payload as { purpose?: unknown } | null)?.purpose === 'remove');
}

export type RetryResult = { ok: true; message: string } | { ok: false; message: string };

export function retryDeadEffect(deps: { store: Store; outbox: Outbox; now: () => number }, id: number, by: string): RetryResult {
  const { store, outbox, now } = deps;
  return store.tx(() => {
    const e = outbox.get(id);
    if (!e) return { ok: false, message: `effect ${id} does not exist` };
    if (e.status !== 'dead') return { ok: false, message: `effect ${id} is ${e.status}, not dead` };
    const r = e.requestId ? store.getRequest(e.requestId) : undefined;
    const removing = removes(e.kind, e.payload);
    const granting = removing ? r?.kind === 'removal' : GRANTING.has(e.kind);
    // Until the failed grant's clean-up has settled, the grant running again would race it.
    if (granting && r && store.openEffects(r.id, 'idp.undoGrant') > 0) {
      return { ok: false, message: `request ${r.id} is still being cleaned up after its failed grant; retry once it has failed` };
    }
    const bundle = r?.partOf ? store.getRequest(r.partOf) : undefined;
    // A part is retried alone, while its bundle lives; a bundle that failed (no part was granted) lives again.
    if (granting && r && bundle && (bundle.revokeRequestedAt !== null || bundle.state === 'revoking' || bundle.state === 'revoked')) {
      return { ok: false, message: `effect ${id} grants part of bundle ${bundle.jiraKey ?? bundle.id}, which has ended: nothing to retry` };
    }
    if (granting && r && r.state === 'failed' && canTransition(r.state, 'retry')) {
      const t = now();
      store.updateRequest(r.id, { state: transition(r.state, 'retry'), failure: null }, t);
      if (bundle && bundle.state === 'failed') store.updateRequest(bundle.id, { state: transition(bundle.state, 'retry'), failure: null }, t);
      const part = bundle ? partRefOf(bundle.bundleParts ?? [], r) : undefined;
      const audit = store.appendAudit(r.id, t, by, { type: 'retried', by, what: removing ? 'removing access' : 'granting access', ...(part ? { part } : {}) });
      commentOn(store, r, audit.seq);
    } else if (granting && r && r.state !== 'approved') {
      return { ok: false, message: `effect ${id} ${removing ? 'carries out' : 'grants'} request ${r.id}, which is ${r.state}: nothing to retry` };
    }
    outbox.revive(id);
    return { ok: true, message: `effect ${id} (${e.kind}${e.requestId ? ` for ${e.requestId}` : ''}) will run again` };
  });
}
