/**
 * migrations/postgres and their migrator, on a real Postgres server (test/support/postgres.ts),
 * a database per test.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PgDb } from '../../src/adapters/postgres/db.js';
import { migratePostgres } from '../../src/adapters/postgres/migrate.js';
import { PostgresOutboxRepository } from '../../src/adapters/postgres/outboxRepository.js';
import { PostgresStore } from '../../src/adapters/postgres/store.js';
import { openDatabase } from '../../src/adapters/sqlite/db.js';
import { migrate, readMigrations } from '../../src/adapters/sqlite/migrate.js';
import { QUEUE_POLICY } from '../../src/app/effects.js';
import { Outbox } from '../../src/outbox/outbox.js';
import { createTestDatabase, dropTestDatabase } from '../support/postgres.js';

const SHIPPED = fileURLToPath(new URL('../../migrations/postgres', import.meta.url));
const SQLITE = fileURLToPath(new URL('../../migrations', import.meta.url));
const N = readdirSync(SHIPPED).filter((f) => f.endsWith('.sql')).length;
const T0 = Date.UTC(2024, 0, 1);
/** Columns Postgres has that SQLite does not: the rowid it lacks, and the lease's session. */
const POSTGRES_ONLY = new Set(['requests.ord', 'approvers.ord', 'outbox.lease_owner']);

let url: string;
let db: PgDb;
let dir: string;
beforeEach(() => {
  url = createTestDatabase('migr');
  db = PgDb.open(url);
  dir = mkdtempSync(join(tmpdir(), 'access-bot-pg-migrations-'));
});
afterEach(() => {
  db.close();
  dropTestDatabase(url);
  rmSync(dir, { recursive: true, force: true });
});

function withExtra(extra: Record<string, string>): string {
  const d = mkdtempSync(join(dir, 'm-'));
  for (const f of readdirSync(SHIPPED)) copyFileSync(join(SHIPPED, f), join(d, f));
  for (const [name, sql] of Object.entries(extra)) writeFileSync(join(d, name), sql);
  return d;
}

function versions(): number[] {
  return db.all<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version').map((r) => r.version);
}

describe('Postgres migrations', () => {
  test('the shipped migrations are numbered from 1 without gaps, starting with init', () => {
    const ms = readMigrations(SHIPPED);
    assert.deepEqual(
      ms.map((m) => m.version),
      Array.from({ length: N }, (_, i) => i + 1),
    );
    assert.equal(ms[0]?.name, 'init');
  });

  test('an empty database migrates, and again applies nothing', () => {
    assert.deepEqual(migratePostgres(db, readMigrations(SHIPPED), () => T0), Array.from({ length: N }, (_, i) => i + 1));
    assert.deepEqual(versions(), Array.from({ length: N }, (_, i) => i + 1));
    assert.deepEqual(migratePostgres(db, readMigrations(SHIPPED), () => T0), []);
  });

  test('the schema has every table and column the SQLite schema has, and only the documented extras', () => {
    migratePostgres(db, readMigrations(SHIPPED));
    const lite = openDatabase(':memory:');
    migrate(lite, readMigrations(SQLITE));
    const sqliteCols = new Set<string>();
    for (const t of lite.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").pluck().all() as string[]) {
      for (const c of lite.prepare(`SELECT name FROM pragma_table_info(?)`).pluck().all(t) as string[]) sqliteCols.add(`${t}.${c}`);
    }
    lite.close();
    const pgCols = new Set(
      db.all<{ c: string }>("SELECT table_name || '.' || column_name AS c FROM information_schema.columns WHERE table_schema = 'public'").map((r) => r.c),
    );
    assert.deepEqual([...sqliteCols].filter((c) => !pgCols.has(c)).sort(), [], 'columns missing on Postgres (a SQLite migration needs its Postgres twin)');
    assert.deepEqual([...pgCols].filter((c) => !sqliteCols.has(c) && !POSTGRES_ONLY.has(c)).sort(), [], 'columns only on Postgres');
  });

  test('a database newer than this build is refused', () => {
    migratePostgres(db, readMigrations(SHIPPED));
    db.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [N + 1, 'future', T0]);
    assert.throws(() => migratePostgres(db, readMigrations(SHIPPED)), /newer than this build knows/);
  });

  test('a migration that fails is rolled back whole and not recorded; the next start applies it once fixed', () => {
    const name = `${String(N + 1).padStart(3, '0')}_broken.sql`;
    const broken = withExtra({ [name]: 'CREATE TABLE half_done (x INT);\nSELECT no_such_function();' });
    assert.throws(() => migratePostgres(db, readMigrations(broken)), /no_such_function/);
    assert.deepEqual(versions(), Array.from({ length: N }, (_, i) => i + 1));
    assert.equal(db.value("SELECT to_regclass('half_done')::text"), null, 'the first statement was rolled back with the second');
    const fixed = withExtra({ [name]: 'CREATE TABLE half_done (x INT);' });
    assert.deepEqual(migratePostgres(db, readMigrations(fixed)), [N + 1]);
  });

  test('the audit log is append-only and its chain verifies', () => {
    migratePostgres(db, readMigrations(SHIPPED));
    const store = new PostgresStore(db, new Outbox(new PostgresOutboxRepository(db, QUEUE_POLICY), () => T0));
    store.tx((s) => {
      s.appendAudit(null, T0, 'admin', { type: 'stage_passed', stage: 1, stageCount: 2 });
      s.appendAudit(null, T0 + 1, 'admin', { type: 'stage_passed', stage: 1, stageCount: 2 });
    });
    assert.equal(store.verifyAuditChain(), undefined);
    assert.throws(() => db.run("UPDATE audit_events SET actor = 'mallory'"), /append-only/);
    assert.throws(() => db.run('DELETE FROM audit_events'), /append-only/);
  });

  test('request counts follow state changes (the /metrics gauge)', () => {
    migratePostgres(db, readMigrations(SHIPPED));
    db.run("INSERT INTO people (id, email, created_at, updated_at) VALUES (1, 'a@example.com', 0, 0)");
    const insert = (id: string, state: string) =>
      db.run(
        `INSERT INTO requests (id, state, app_id, role_id, app_name, role_name, connector, group_id, duration_token, reason, policy_json, requester_id, created_at, updated_at)
          VALUES ($1, $2, 'a', 'r', 'A', 'R', 'okta', 'g', '1h', 'x', '{}', 1, 0, 0)`,
        [id, state],
      );
    insert('r1', 'pending');
    insert('r2', 'pending');
    db.run("UPDATE requests SET state = 'active' WHERE id = 'r1'");
    db.run("UPDATE requests SET reason = 'y' WHERE id = 'r2'");
    assert.deepEqual(db.all('SELECT state, n FROM request_counts WHERE n > 0 ORDER BY state'), [
      { state: 'active', n: 1 },
      { state: 'pending', n: 1 },
    ]);
  });
});
