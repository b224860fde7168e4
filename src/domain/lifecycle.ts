/**
 * The request lifecycle (ARCHITECTURE.md §3) as one table of allowed transitions.
 *
 *   pending ──approve──▶ approved ──provisioned──▶ active ──expire|revoke──▶ revoking ──revoked──▶ revoked
 *      ├─deny──▶ denied          ├─fail──▶ failed ──retry──▶ approved
 *      │                         └─removed (a removal request, carried out)──▶ revoked
 *      ├─cancel──▶ cancelled
 *      ├─time_out──▶ timed_out
 *      └─fail──▶ failed (no approver could be resolved)
 *
 * `revoking` is the short span between "the grant ended" and "the membership change is done":
 * the expiry decision is recorded at once (so a restart cannot forget it) and `revoked` is
 * entered only once the identity provider confirmed it.
 */
import { DomainError } from './errors.js';

export const REQUEST_STATES = ['pending', 'approved', 'active', 'revoking', 'revoked', 'denied', 'cancelled', 'timed_out', 'failed'] as const;
export type RequestState = (typeof REQUEST_STATES)[number];

export type LifecycleEvent = 'approve' | 'deny' | 'cancel' | 'time_out' | 'fail' | 'provisioned' | 'expire' | 'revoke' | 'revoked' | 'retry' | 'removed';

const TRANSITIONS: Readonly<Record<RequestState, Partial<Record<LifecycleEvent, RequestState>>>> = {
  pending: { approve: 'approved', deny: 'denied', cancel: 'cancelled', time_out: 'timed_out', fail: 'failed' },
  // A removal request holds nothing: once carried out, the access it removed is revoked.
  approved: { provisioned: 'active', fail: 'failed', removed: 'revoked' },
  active: { expire: 'revoking', revoke: 'revoking' },
  revoking: { revoked: 'revoked' },
  failed: { retry: 'approved' },
  revoked: {},
  denied: {},
  cancelled: {},
  timed_out: {},
};

/** How each event reads in "A request that is … cannot be …". */
const EVENT_WORDS: Readonly<Record<LifecycleEvent, string>> = {
  approve: 'approved',
  deny: 'denied',
  cancel: 'cancelled',
  time_out: 'timed out',
  fail: 'failed',
  provisioned: 'provisioned',
  expire: 'expired',
  revoke: 'revoked',
  revoked: 'marked revoked',
  retry: 'retried',
  removed: 'carried out',
};

/** The state after `event`, or a DomainError('invalid_transition'). */
export function transition(from: RequestState, event: LifecycleEvent): RequestState {
  const to = TRANSITIONS[from][event];
  if (!to) {
    throw new DomainError('invalid_transition', `A request that is ${describeState(from)} cannot be ${EVENT_WORDS[event]}`, { from, event });
  }
  return to;
}

export function canTransition(from: RequestState, event: LifecycleEvent): boolean {
  return TRANSITIONS[from][event] !== undefined;
}

/** States from which nothing can happen any more (besides an admin retry of `failed`). */
export function isFinal(state: RequestState): boolean {
  return state === 'revoked' || state === 'denied' || state === 'cancelled' || state === 'timed_out' || state === 'failed';
}

/** States in which the request holds, or is about to hold, a group membership. */
export const HOLDING_STATES: readonly RequestState[] = ['approved', 'active', 'revoking'];

export function describeState(s: RequestState): string {
  switch (s) {
    case 'pending':
      return 'waiting for approval';
    case 'approved':
      return 'approved (access being granted)';
    case 'active':
      return 'active';
    case 'revoking':
      return 'being revoked';
    case 'revoked':
      return 'revoked';
    case 'denied':
      return 'denied';
    case 'cancelled':
      return 'cancelled';
    case 'timed_out':
      return 'timed out';
    case 'failed':
      return 'failed';
  }
}
