/**
 * Inactivity reclaim: access nobody uses is taken back. A role's `reclaim: { after: 60d, warn: 7d }`
 * says that access unused for `after` is removed, and that its holder is warned `warn` before,
 * with a grace of at least `warn` from the warning (a warning sent late still gives the whole
 * grace). Pure: the caller passes the facts and the time.
 *
 * "Unused since" is the latest of: the IdP's last sign-in, when access-bot granted the access
 * (a grant made yesterday is not unused for 60 days, whatever the last sign-in), and the holder's
 * last **Keep it**. Standing access (in the group, not granted by access-bot) counts from the
 * last sign-in alone; when the IdP has none on record, from when the user sync first saw it.
 */

export interface ReclaimPolicy {
  /** Access unused this long is removed. */
  afterMs: number;
  /** The holder is warned this long before, and has at least this long after the warning. Less than `afterMs`. */
  warnMs: number;
}

/** How the holding began, as far as access-bot knows. */
export type HeldSince = { granted: number } | { firstSeen: number };

export interface ReclaimFacts {
  policy: ReclaimPolicy;
  /** The IdP's last sign-in of the holder; null: none on record. */
  lastLoginAt: number | null;
  heldSince: HeldSince;
  /** The holder's last Keep it; null: never kept. */
  keptAt: number | null;
  /** The warning in force (null: not warned), and when it said the access goes. */
  warnedAt: number | null;
  revokeAt: number | null;
  now: number;
}

export type ReclaimVerdict =
  /** In use: nothing to do. */
  | { kind: 'none' }
  /** Unused long enough to warn: the access goes at `revokeAt` unless it is used or kept. */
  | { kind: 'warn'; idleSince: number; revokeAt: number }
  /** Warned, and the grace is still running. */
  | { kind: 'wait' }
  /** Warned, the grace is over, and it is still unused: remove it. */
  | { kind: 'revoke'; idleSince: number }
  /** Warned, but the holder signed in since: the warning is withdrawn. */
  | { kind: 'clear'; activeAt: number };

/** Since when the access has been unused. */
export function idleSince(f: Pick<ReclaimFacts, 'lastLoginAt' | 'heldSince' | 'keptAt'>): number {
  const used = 'granted' in f.heldSince ? Math.max(f.lastLoginAt ?? Number.NEGATIVE_INFINITY, f.heldSince.granted) : (f.lastLoginAt ?? f.heldSince.firstSeen);
  return Math.max(used, f.keptAt ?? Number.NEGATIVE_INFINITY);
}

/** What to do with one holding now. */
export function reclaimVerdict(f: ReclaimFacts): ReclaimVerdict {
  const since = idleSince(f);
  const { afterMs, warnMs } = f.policy;
  if (f.warnedAt !== null) {
    if (since > f.warnedAt) return { kind: 'clear', activeAt: since };
    const due = f.revokeAt ?? Math.max(since + afterMs, f.warnedAt + warnMs);
    return f.now >= due ? { kind: 'revoke', idleSince: since } : { kind: 'wait' };
  }
  if (f.now - since < afterMs - warnMs) return { kind: 'none' };
  return { kind: 'warn', idleSince: since, revokeAt: Math.max(since + afterMs, f.now + warnMs) };
}

/** Whether the policy is one reclaim can follow: both spans positive, the warning shorter than `after`. */
export function reclaimPolicyProblem(p: ReclaimPolicy): string | undefined {
  if (p.afterMs <= 0 || p.warnMs <= 0) return 'after and warn must be longer than zero';
  if (p.warnMs >= p.afterMs) return 'warn must be shorter than after (the holder is warned before the access is reclaimed)';
  return undefined;
}

export type KeepRefusal = { code: 'not_holder' | 'not_active' | 'not_warned'; message: string };

/**
 * Whether this click on Keep it keeps the access: only its holder may, only while it is active and
 * an inactivity warning is in force. undefined: it may.
 */
export function keepRefusal(f: { isHolder: boolean; active: boolean; warned: boolean }): KeepRefusal | undefined {
  if (!f.isHolder) return { code: 'not_holder', message: 'Only the person who holds this access can keep it.' };
  if (!f.active) return { code: 'not_active', message: 'This access is no longer active, so there is nothing to keep.' };
  if (!f.warned) return { code: 'not_warned', message: 'This access is not being reclaimed (it was kept, or used since the warning), so there is nothing to keep.' };
  return undefined;
}
