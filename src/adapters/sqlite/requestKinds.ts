/**
 * The queries of removal and change requests (migrations/018_request_kinds.sql), kept beside the
 * store (store.ts) that uses them: which grants a removal ends; what the user sync saw a person
 * in. The kind columns and their insert values are shared with Postgres (../storeRows.ts).
 */

/** Active grants (not removals) of one membership, but one request: what a removal of it ends. `request`: the store's SELECT of requests. */
export function activeGrantsSql(request: string): string {
  return `${request} WHERE r.connector = ? AND r.group_id = ? AND r.idp_user_id = ? AND r.id <> ?
    AND r.state = 'active' AND r.kind <> 'removal' ORDER BY r.created_at, r.rowid`;
}

/** access-bot removed the membership: the user sync's listing stops showing it. */
export const MEMBER_GONE_SQL = 'UPDATE group_members SET gone_at = ? WHERE connector = ? AND group_id = ? AND idp_user_id = ? AND gone_at IS NULL';

/** The user sync's listing of a person, by the email the IdP gave or an IdP user id known to be theirs. */
export const SEEN_MEMBERSHIPS_SQL = `SELECT DISTINCT g.connector, g.group_id AS groupId, g.idp_user_id AS idpUserId FROM group_members g
  WHERE g.gone_at IS NULL AND ((@email IS NOT NULL AND lower(g.email) = @email)
    OR EXISTS (SELECT 1 FROM person_idp_ids i WHERE i.person_id = @personId AND i.connector = g.connector AND i.idp_user_id = g.idp_user_id))
  ORDER BY g.connector, g.group_id`;
