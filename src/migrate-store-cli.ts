/**
 * `access-bot migrate-store --from <sqlite file> --to postgres://…`: moves a SQLite deployment to
 * Postgres (adapters/postgres/copyFromSqlite.ts). The bot must be stopped: the SQLite database's
 * lock is taken for the copy, so a running bot makes it refuse. `--to` defaults to DATABASE_URL.
 */
import { existsSync } from 'node:fs';
import { copySqliteToPostgres } from './adapters/postgres/copyFromSqlite.js';
import { PgDb } from './adapters/postgres/db.js';
import { migratePostgres } from './adapters/postgres/migrate.js';
import { openDatabase } from './adapters/sqlite/db.js';
import { lockDatabase } from './adapters/sqlite/lock.js';
import { migrate, readMigrations } from './adapters/sqlite/migrate.js';
import { postgresWhere } from './check/config.js';
import { migrationsDir } from './storage.js';

export const MIGRATE_STORE_USAGE = `Usage: access-bot migrate-store --from <sqlite file> [--to postgres://user:password@host:5432/db]

Copies every table of the SQLite database into an empty Postgres database (migrated first), in
one transaction, then checks row counts and the audit chain; nothing is written unless they
match. Stop the bot first. --to defaults to DATABASE_URL.`;

export function runMigrateStore(args: string[], env: Record<string, string | undefined>, out: (l: string) => void, err: (l: string) => void): number {
  const opts = new Map<string, string>();
  for (let i = 0; i < args.length; i += 2) {
    const [flag, value] = [args[i]!, args[i + 1]];
    if ((flag !== '--from' && flag !== '--to') || value === undefined || opts.has(flag)) {
      err(MIGRATE_STORE_USAGE);
      return 2;
    }
    opts.set(flag, value);
  }
  const from = opts.get('--from');
  const to = opts.get('--to') ?? env.DATABASE_URL?.trim();
  if (!from || !to) {
    err(MIGRATE_STORE_USAGE);
    return 2;
  }
  if (!/^postgres(ql)?:\/\//i.test(to)) {
    err('migrate-store: --to must be a postgres:// URL');
    return 2;
  }
  if (!existsSync(from)) {
    err(`migrate-store: ${from} does not exist`);
    return 2;
  }
  let lock;
  try {
    lock = lockDatabase(from);
  } catch (e) {
    err(`migrate-store: ${(e as Error).message}; stop the bot first`);
    return 1;
  }
  const sqlite = openDatabase(from);
  let pg: PgDb | undefined;
  try {
    migrate(sqlite, readMigrations(migrationsDir()));
    pg = PgDb.open(to, { timeoutMs: 300_000 });
    migratePostgres(pg, readMigrations(migrationsDir('postgres')));
    const report = copySqliteToPostgres(sqlite, pg);
    for (const t of report.tables) out(`${t.table.padEnd(16)} ${t.rows}`);
    out(`Copied ${from} to Postgres at ${postgresWhere(to)}; the audit chain (${report.auditEvents} events) verifies. Start the bot with DATABASE_URL set.`);
    return 0;
  } catch (e) {
    err(`migrate-store: ${(e as Error).message}`);
    return 1;
  } finally {
    pg?.close();
    sqlite.close();
    lock.release();
  }
}
