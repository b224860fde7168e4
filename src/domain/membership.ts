/**
 * Who still holds a group membership (ARCHITECTURE.md §1.5). access-bot removes only what it
 * added, and only when no grant still needs it: a membership someone had before any grant is
 * theirs, and two grants of one person to one group share one membership.
 *
 * The facts are per (connector, group, IdP user): the ownership record access-bot wrote before
 * its first add (none: it never added, or a settled revocation forgot it), and how many other
 * requests hold the membership or are about to (approved, active or revoking for that user).
 */

/** What is known about one membership when a grant ends or a failed grant is undone. */
export interface MembershipFacts {
  /** The ownership record: `owned` is false when the user was a member before access-bot's first add. */
  record: { owned: boolean } | undefined;
  /** Other requests that hold or are about to hold the membership. */
  otherHolders: number;
}

export type KeptBecause = 'preexisting' | 'other_grant';

/**
 * Whether ending a grant removes the membership: only one access-bot owns that no other grant
 * needs. No record means the user was a member before any grant we know of, or an overlapping
 * grant's revocation already settled it: either way this grant removes nothing.
 *
 * `whoeverAdded`: inactivity reclaim, and the end of standing access access-bot recorded, take
 * the membership back whoever added it (that is their point); another grant that still needs it
 * keeps it all the same.
 */
export function revokeRemoves(f: MembershipFacts & { whoeverAdded?: boolean }): { remove: true } | { remove: false; keptBecause: KeptBecause } {
  if (!f.whoeverAdded && (!f.record || !f.record.owned)) return { remove: false, keptBecause: 'preexisting' };
  if (f.otherHolders > 0) return { remove: false, keptBecause: 'other_grant' };
  return { remove: true };
}

/**
 * What undoing a failed grant must do before the request fails. The record is written before any
 * add is sent, so without one no add was sent. Otherwise the add may have landed: if access-bot
 * owns the membership and no other grant needs it, the IdP is asked and the membership removed.
 */
export function undoNeeds(f: MembershipFacts): 'never_added' | 'kept_preexisting' | 'kept_other_grant' | 'check_and_remove' {
  if (!f.record) return 'never_added';
  if (!f.record.owned) return 'kept_preexisting';
  if (f.otherHolders > 0) return 'kept_other_grant';
  return 'check_and_remove';
}

/**
 * Whether the ownership record is forgotten once a revocation or an undo has settled: it lives as
 * long as some grant holds the membership, so the next grant checks membership afresh.
 */
export function forgetsOwnership(otherHolders: number): boolean {
  return otherHolders === 0;
}

/** Before its first add, access-bot owns the membership only if the user was not already a member. */
export function ownsFirstAdd(alreadyMember: boolean): boolean {
  return !alreadyMember;
}
