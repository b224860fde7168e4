import { canTransition, transition } from '../domain/lifecycle.js';
import { partFailed } from './bundle.js';
import { alertAdmins, mustGet, notifyRequester, openRecord, recordStep, transitionIssue, type Tx } from './context.js';

/**
 * Ends a request as failed, with its cause: audited, on the Jira issue, told to the requester and
 * to the admin channel. Call inside a transaction. No-op when the request can no longer fail
 * (it ended some other way meanwhile).
 */
export function failRequest(ctx: Tx, requestId: string, cause: string): void {
  const r = mustGet(ctx, requestId);
  if (!canTransition(r.state, 'fail')) return;
  // A bundle's part fails alone: the bundle says which part is missing (app/bundle.ts).
  if (r.partOf) return partFailed(ctx, r, cause);
  const now = ctx.now();
  // Failed before the requester was identified: the record has not been opened yet.
  if (r.requesterEmail === null) openRecord(ctx, r);
  ctx.store.updateRequest(r.id, { state: transition(r.state, 'fail'), failure: cause }, now);
  recordStep(ctx, r, { type: 'failed', cause }, 'access-bot', now);
  transitionIssue(ctx, r, 'failed');
  notifyRequester(ctx, r, { type: 'failed', cause });
  alertAdmins(ctx, `Access request ${r.jiraKey ?? r.id} (${r.appName} / ${r.roleName}) failed: ${cause}`, r.id);
}
