/**
 * The membership listings the user sync stores (migrations/008_group_members.sql): who each
 * catalog group holds, when each member was first and last seen, and how each group's last sync
 * ended. Written a page at a time, each page one short transaction.
 */
import type { IdpMember } from '../../app/ports/idp.js';
import type { Db } from './db.js';

export interface GroupMemberRow {
  connector: string;
  groupId: string;
  idpUserId: string;
  email: string | null;
  displayName: string | null;
  firstSeenAt: number;
  lastSeenAt: number;
  goneAt: number | null;
}

export interface GroupSyncRow {
  connector: string;
  groupId: string;
  startedAt: number;
  finishedAt: number | null;
  outcome: 'running' | 'ok' | 'failed';
  members: number | null;
  cause: string | null;
}

export class SqliteGroupMembers {
  private readonly s;

  constructor(private readonly db: Db) {
    this.s = {
      start: db.prepare(`INSERT INTO group_syncs (connector, group_id, started_at, finished_at, outcome, members, cause) VALUES (?, ?, ?, NULL, 'running', NULL, NULL)
        ON CONFLICT (connector, group_id) DO UPDATE SET started_at = excluded.started_at, finished_at = NULL, outcome = 'running', members = NULL, cause = NULL`),
      // A member seen again after a complete sync had marked them gone starts a new stint.
      seen: db.prepare(`INSERT INTO group_members (connector, group_id, idp_user_id, email, display_name, first_seen_at, last_seen_at, gone_at) VALUES (?, ?, ?, ?, ?, ?, ?, NULL)
        ON CONFLICT (connector, group_id, idp_user_id) DO UPDATE SET email = excluded.email, display_name = excluded.display_name, last_seen_at = excluded.last_seen_at,
          first_seen_at = CASE WHEN group_members.gone_at IS NULL THEN group_members.first_seen_at ELSE excluded.first_seen_at END, gone_at = NULL`),
      gone: db.prepare('UPDATE group_members SET gone_at = ? WHERE connector = ? AND group_id = ? AND gone_at IS NULL AND last_seen_at < ?'),
      finish: db.prepare('UPDATE group_syncs SET finished_at = ?, outcome = ?, members = ?, cause = ? WHERE connector = ? AND group_id = ? AND started_at = ?'),
      current: db.prepare(`SELECT connector, group_id AS groupId, idp_user_id AS idpUserId, email, display_name AS displayName, first_seen_at AS firstSeenAt, last_seen_at AS lastSeenAt, gone_at AS goneAt
        FROM group_members WHERE connector = ? AND group_id = ? AND gone_at IS NULL ORDER BY idp_user_id`),
      all: db.prepare(`SELECT connector, group_id AS groupId, idp_user_id AS idpUserId, email, display_name AS displayName, first_seen_at AS firstSeenAt, last_seen_at AS lastSeenAt, gone_at AS goneAt
        FROM group_members WHERE connector = ? AND group_id = ? ORDER BY idp_user_id`),
      sync: db.prepare(`SELECT connector, group_id AS groupId, started_at AS startedAt, finished_at AS finishedAt, outcome, members, cause FROM group_syncs WHERE connector = ? AND group_id = ?`),
    };
  }

  /** A sync of the group begins at `at` (its members seen from now on are stamped with it). */
  startSync(connector: string, groupId: string, at: number): void {
    this.s.start.run(connector, groupId, at);
  }

  /** One page of the listing, in one transaction. */
  recordPage(connector: string, groupId: string, at: number, members: readonly IdpMember[]): void {
    this.db.transaction(() => {
      for (const m of members) this.s.seen.run(connector, groupId, m.id, m.email ?? null, m.displayName ?? null, at, at);
    })();
  }

  /** The listing was complete: whoever it did not list is gone since `finishedAt`. */
  completeSync(connector: string, groupId: string, startedAt: number, finishedAt: number, members: number): void {
    this.db.transaction(() => {
      this.s.gone.run(finishedAt, connector, groupId, startedAt);
      this.s.finish.run(finishedAt, 'ok', members, null, connector, groupId, startedAt);
    })();
  }

  /** The listing stopped part-way: nobody is marked gone, the cause is kept. */
  failSync(connector: string, groupId: string, startedAt: number, finishedAt: number, cause: string): void {
    this.s.finish.run(finishedAt, 'failed', null, cause, connector, groupId, startedAt);
  }

  /** Who holds the group, as of its last listing. */
  currentMembers(connector: string, groupId: string): GroupMemberRow[] {
    return this.s.current.all(connector, groupId) as GroupMemberRow[];
  }

  /** Every member ever seen in the group, gone ones included. */
  allMembers(connector: string, groupId: string): GroupMemberRow[] {
    return this.s.all.all(connector, groupId) as GroupMemberRow[];
  }

  lastSync(connector: string, groupId: string): GroupSyncRow | undefined {
    return this.s.sync.get(connector, groupId) as GroupSyncRow | undefined;
  }
}
