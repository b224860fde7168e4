/**
 * What the user sync stored about the catalog's groups (jobs/memberSync.ts), as inactivity
 * reclaim reads it to find standing access: members access-bot never granted. Implemented by
 * adapters/sqlite/groupMembers.ts.
 */

/** A member as the last complete listing of the group saw them. */
export interface ListedMember {
  idpUserId: string;
  email: string | null;
  displayName: string | null;
  /** When the user sync first saw them in the group (this stint). */
  firstSeenAt: number;
}

export interface GroupListing {
  /** Who holds the group, as of its last complete listing. */
  currentMembers(connector: string, groupId: string): ListedMember[];
  /** The group's last sync; undefined when it was never listed. */
  lastSync(connector: string, groupId: string): { outcome: 'running' | 'ok' | 'failed' } | undefined;
}
