/**
 * Applies migrations/postgres/NNN_name.sql (read and checked like SQLite's, sqlite/migrate.ts):
 * each not yet recorded in `schema_migrations` in its own transaction. Every transaction takes the
 * global write lock, so replicas starting together apply each migration once: the second waits,
 * then finds it recorded. A database newer than this code is refused.
 */
import type { Migration } from '../sqlite/migrate.js';
import type { PgDb } from './db.js';

export function migratePostgres(db: PgDb, migrations: Migration[], now: () => number = Date.now): number[] {
  const applied = (): Set<number> => new Set(db.all<{ version: number }>('SELECT version FROM schema_migrations').map((r) => r.version));
  db.tx(() => db.run('CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)'));
  const newest = Math.max(0, ...applied());
  if (newest > migrations.length) {
    throw new Error(`database schema version ${newest} is newer than this build knows (${migrations.length}); refusing to start`);
  }
  const done: number[] = [];
  for (const m of migrations) {
    const ran = db.tx(() => {
      if (applied().has(m.version)) return false;
      db.run(m.sql);
      db.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, now()]);
      return true;
    });
    if (ran) done.push(m.version);
  }
  return done;
}
