/**
 * Who pending requests wait on (TxStore.pendingParties), for the account-status check: besides the
 * holders of grants, someone who only asked, asked for someone else, or is asked to decide can
 * leave too, and offboarding ends what waits on them. One query for both stores, written in each
 * one's dialect (how a bundle's parts are read from its snapshot, parameters, byte order).
 */
import type { PendingParty } from '../app/ports/store.js';
import type { PersonId } from '../domain/people.js';

export interface PendingPartiesDialect {
  /** The FROM item listing a pending bundle `r`'s parts as `p`, and a part's connector in it. */
  bundleParts: string;
  partConnector: string;
  /** The parameters: the person id the page starts after, and how many people. */
  after: string;
  limit: string;
  /** `t.connector` in byte order. */
  connectorOrder: string;
}

/**
 * A page of people by id after `after`, `limit` of them, one row per (person, connector).
 * A bundle's own connector is empty: its parts' connectors (from its snapshot) stand for it.
 * Pending requests are few beside the table (the `requests_pending` index finds them).
 */
export function pendingPartiesSql(d: PendingPartiesDialect): string {
  return `WITH parts(id, requester_id, submitted_by, stage, connector) AS (
    SELECT r.id, r.requester_id, r.submitted_by, r.stage, r.connector FROM requests r
      WHERE r.state = 'pending' AND r.part_of IS NULL AND r.bundle_json IS NULL
    UNION ALL
    SELECT r.id, r.requester_id, r.submitted_by, r.stage, ${d.partConnector} FROM requests r, ${d.bundleParts}
      WHERE r.state = 'pending' AND r.part_of IS NULL AND r.bundle_json IS NOT NULL
  ),
  pending AS (SELECT * FROM parts WHERE connector IS NOT NULL AND connector <> ''),
  parties(person_id, connector) AS (
    SELECT requester_id, connector FROM pending
    UNION SELECT submitted_by, connector FROM pending WHERE submitted_by IS NOT NULL
    UNION SELECT a.person_id, q.connector FROM pending q JOIN approvers a ON a.request_id = q.id
      WHERE a.stage = q.stage AND a.decision IS NULL AND a.gone_at IS NULL
  ),
  page AS (SELECT DISTINCT person_id FROM parties WHERE person_id > ${d.after} ORDER BY person_id LIMIT ${d.limit})
  SELECT p.id AS person_id, p.email, t.connector, i.idp_user_id
  FROM page JOIN people p ON p.id = page.person_id JOIN parties t ON t.person_id = page.person_id
    LEFT JOIN person_idp_ids i ON i.person_id = p.id AND i.connector = t.connector
  ORDER BY p.id, ${d.connectorOrder}`;
}

export type PendingPartyRow = { person_id: PersonId; email: string | null; connector: string; idp_user_id: string | null };

/** The query's rows, one per (person, connector), as one record per person. */
export function toPendingParties(rows: PendingPartyRow[]): PendingParty[] {
  const out: PendingParty[] = [];
  for (const row of rows) {
    let last = out.at(-1);
    if (last?.personId !== row.person_id) out.push((last = { personId: row.person_id, email: row.email, accounts: [] }));
    last.accounts.push({ connector: row.connector, idpUserId: row.idp_user_id });
  }
  return out;
}
