/**
 * The user sync's membership listings on Postgres: the same tables and rules as
 * adapters/sqlite/groupMembers.ts. Every replica may run the sync; its writes are upserts keyed
 * by (connector, group, user), each page one transaction under the global write lock, so two
 * replicas listing the same group at once end with the same rows either would have written.
 */
import type { IdpMember } from '../../app/ports/idp.js';
import type { GroupMemberRow, GroupSyncRow } from '../sqlite/groupMembers.js';
import type { PgDb } from './db.js';

const MEMBER_COLUMNS =
  'connector, group_id AS "groupId", idp_user_id AS "idpUserId", email, display_name AS "displayName", first_seen_at AS "firstSeenAt", last_seen_at AS "lastSeenAt", gone_at AS "goneAt"';

export class PostgresGroupMembers {
  constructor(private readonly db: PgDb) {}

  startSync(connector: string, groupId: string, at: number): void {
    this.db.tx(() =>
      this.db.run(
        `INSERT INTO group_syncs (connector, group_id, started_at, finished_at, outcome, members, cause) VALUES ($1, $2, $3, NULL, 'running', NULL, NULL)
          ON CONFLICT (connector, group_id) DO UPDATE SET started_at = excluded.started_at, finished_at = NULL, outcome = 'running', members = NULL, cause = NULL`,
        [connector, groupId, at],
      ),
    );
  }

  recordPage(connector: string, groupId: string, at: number, members: readonly IdpMember[]): void {
    if (members.length === 0) return;
    // One statement for the page. A member seen again after a complete sync had marked them gone
    // starts a new stint.
    this.db.tx(() =>
      this.db.run(
        `INSERT INTO group_members (connector, group_id, idp_user_id, email, display_name, first_seen_at, last_seen_at, gone_at)
          SELECT $1, $2, m.id, m.email, m.name, $3, $3, NULL FROM unnest($4::text[], $5::text[], $6::text[]) AS m(id, email, name)
          ON CONFLICT (connector, group_id, idp_user_id) DO UPDATE SET email = excluded.email, display_name = excluded.display_name, last_seen_at = excluded.last_seen_at,
            first_seen_at = CASE WHEN group_members.gone_at IS NULL THEN group_members.first_seen_at ELSE excluded.first_seen_at END, gone_at = NULL`,
        [connector, groupId, at, members.map((m) => m.id), members.map((m) => m.email ?? null), members.map((m) => m.displayName ?? null)],
      ),
    );
  }

  completeSync(connector: string, groupId: string, startedAt: number, finishedAt: number, members: number): void {
    this.db.tx(() => {
      this.db.run('UPDATE group_members SET gone_at = $1 WHERE connector = $2 AND group_id = $3 AND gone_at IS NULL AND last_seen_at < $4', [finishedAt, connector, groupId, startedAt]);
      this.finish(connector, groupId, startedAt, finishedAt, 'ok', members, null);
    });
  }

  failSync(connector: string, groupId: string, startedAt: number, finishedAt: number, cause: string): void {
    this.db.tx(() => this.finish(connector, groupId, startedAt, finishedAt, 'failed', null, cause));
  }

  private finish(connector: string, groupId: string, startedAt: number, finishedAt: number, outcome: 'ok' | 'failed', members: number | null, cause: string | null): void {
    this.db.run('UPDATE group_syncs SET finished_at = $1, outcome = $2, members = $3, cause = $4 WHERE connector = $5 AND group_id = $6 AND started_at = $7', [
      finishedAt,
      outcome,
      members,
      cause,
      connector,
      groupId,
      startedAt,
    ]);
  }

  currentMembers(connector: string, groupId: string): GroupMemberRow[] {
    return this.db.all<GroupMemberRow>(`SELECT ${MEMBER_COLUMNS} FROM group_members WHERE connector = $1 AND group_id = $2 AND gone_at IS NULL ORDER BY idp_user_id COLLATE "C"`, [connector, groupId]);
  }

  allMembers(connector: string, groupId: string): GroupMemberRow[] {
    return this.db.all<GroupMemberRow>(`SELECT ${MEMBER_COLUMNS} FROM group_members WHERE connector = $1 AND group_id = $2 ORDER BY idp_user_id COLLATE "C"`, [connector, groupId]);
  }

  lastSync(connector: string, groupId: string): GroupSyncRow | undefined {
    return this.db.get<GroupSyncRow>(
      'SELECT connector, group_id AS "groupId", started_at AS "startedAt", finished_at AS "finishedAt", outcome, members, cause FROM group_syncs WHERE connector = $1 AND group_id = $2',
      [connector, groupId],
    );
  }
}
