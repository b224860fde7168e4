/**
 * `access-bot migrate-store`: copies every table of a SQLite database (migrated to this build's
 * schema first) into an empty, migrated Postgres database, in one transaction that commits only
 * when every table's row count matches and the audit chain verifies on both sides.
 *
 * Rows are copied as they are (JSON stays text, times stay epoch ms), with their ids, so the audit
 * chain's seq, the outbox's ids and people's ids are unchanged; identity sequences then continue
 * after the largest id. SQLite's rowid becomes `ord` (requests, approvers). Effects left running
 * are copied as pending: their lease belonged to the SQLite process, which is stopped. The
 * request counts behind /metrics are rebuilt by the Postgres triggers as requests are inserted.
 */
import type { Db } from '../sqlite/db.js';
import { checkChain, type StoredAuditEvent } from '../../domain/audit.js';
import { chainHash } from '../storeRows.js';
import type { PgDb } from './db.js';
import { auditEvents } from './store.js';

/** In foreign-key order: every table of the SQLite schema (test/unit/migrations.test.ts holds it so). `request_counts` is not copied (triggers rebuild it) but is compared. */
export const COPIED_TABLES = [
  'people',
  'person_idp_ids',
  'requests',
  'approvers',
  'surface_refs',
  'memberships',
  'audit_events',
  'outbox',
  'inbound_seen',
  'group_members',
  'group_syncs',
  'slack_homes',
  'slack_user_cache',
  'jira_intake',
  'jira_poll',
  'scheduled_runs',
  'review_campaigns',
  'review_items',
  'review_assignments',
  'review_reviewers',
] as const;

/** Extra column values by table, and the order rows are read in (an extension after its grant). */
const READ: Partial<Record<(typeof COPIED_TABLES)[number], { extra: string; order: string }>> = {
  // A request referring to another (an extension to its grant, a part to its bundle) comes after the ones that do not.
  requests: { extra: ', rowid AS ord', order: 'ORDER BY extends_id IS NOT NULL OR part_of IS NOT NULL, rowid' },
  approvers: { extra: ', rowid AS ord', order: 'ORDER BY rowid' },
};

const IDENTITIES: [table: string, column: string][] = [
  ['people', 'id'],
  ['requests', 'ord'],
  ['approvers', 'ord'],
  ['audit_events', 'seq'],
  ['outbox', 'id'],
];

/** Rows per INSERT statement (Postgres takes at most 65,535 parameters in one). */
const CHUNK = 500;

export interface CopyReport {
  tables: { table: string; rows: number }[];
  auditEvents: number;
}

export class MigrateStoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MigrateStoreError';
  }
}

export function copySqliteToPostgres(sqlite: Db, pg: PgDb): CopyReport {
  const source = checkChain(
    sqlite.prepare('SELECT seq, request_id AS requestId, at, type, actor, data, prev_hash AS prevHash, hash FROM audit_events ORDER BY seq').iterate() as Iterable<StoredAuditEvent>,
    chainHash,
  );
  if (!source.ok) throw new MigrateStoreError(`the SQLite audit chain is broken (${source.broken ? `seq ${source.broken.seq}: ` : ''}${source.what}); nothing was copied`);
  return pg.tx(() => {
    const existing = pg.value<number>('SELECT (SELECT COUNT(*) FROM requests) + (SELECT COUNT(*) FROM audit_events) + (SELECT COUNT(*) FROM outbox)') ?? 0;
    if (existing > 0) throw new MigrateStoreError('the Postgres database already holds requests, audit events or effects; migrate-store copies into an empty database only');
    const pgColumns = (table: string) =>
      new Set(pg.all<{ c: string }>('SELECT column_name AS c FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1', [table]).map((r) => r.c));
    const report: CopyReport = { tables: [], auditEvents: 0 };
    for (const table of COPIED_TABLES) {
      const read = READ[table];
      const target = pgColumns(table);
      const source = (sqlite.prepare('SELECT name FROM pragma_table_info(?)').pluck().all(table) as string[]).filter((c) => target.has(c));
      const columns = read ? [...source, 'ord'] : source;
      const rows = sqlite.prepare(`SELECT ${source.join(', ')}${read?.extra ?? ''} FROM ${table} ${read?.order ?? ''}`).raw().all() as unknown[][];
      if (table === 'outbox') {
        const status = columns.indexOf('status');
        const lease = columns.indexOf('lease_until');
        for (const r of rows) {
          if (r[status] === 'running') {
            r[status] = 'pending';
            r[lease] = null;
          }
        }
      }
      for (let i = 0; i < rows.length; i += CHUNK) {
        const chunk = rows.slice(i, i + CHUNK);
        const values = chunk.map((_, j) => `(${columns.map((__, k) => `$${j * columns.length + k + 1}`).join(', ')})`);
        pg.run(`INSERT INTO ${table} (${columns.join(', ')}) OVERRIDING SYSTEM VALUE VALUES ${values.join(', ')}`, chunk.flat());
      }
      const copied = pg.value<number>(`SELECT COUNT(*) FROM ${table}`) ?? 0;
      if (copied !== rows.length) throw new MigrateStoreError(`${table}: ${rows.length} rows in SQLite but ${copied} in Postgres; nothing was copied`);
      report.tables.push({ table, rows: rows.length });
    }
    for (const [table, column] of IDENTITIES) {
      pg.run(`SELECT setval(pg_get_serial_sequence('${table}', '${column}'), COALESCE((SELECT MAX(${column}) FROM ${table}), 0) + 1, false)`);
    }
    const counts = (rows: { state: string; n: number }[]) => JSON.stringify(rows.filter((r) => r.n !== 0));
    const liteCounts = sqlite.prepare('SELECT state, n FROM request_counts ORDER BY state').all() as { state: string; n: number }[];
    const pgCounts = pg.all<{ state: string; n: number }>('SELECT state, n FROM request_counts ORDER BY state COLLATE "C"');
    if (counts(liteCounts) !== counts(pgCounts)) throw new MigrateStoreError(`request counts differ (SQLite ${counts(liteCounts)}, Postgres ${counts(pgCounts)}); nothing was copied`);
    const copied = checkChain(auditEvents(pg), chainHash, source.ok && source.head.seq > 0 ? source.head : undefined);
    if (!copied.ok) throw new MigrateStoreError(`the audit chain does not verify on Postgres (${copied.what}); nothing was copied`);
    report.auditEvents = report.tables.find((t) => t.table === 'audit_events')?.rows ?? 0;
    return report;
  });
}
