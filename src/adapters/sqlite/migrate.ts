import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Db } from './db.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Reads `NNN_name.sql` files in version order. A gap or a duplicate number is an error. */
export function readMigrations(dir: string): Migration[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.sql'));
  const out: Migration[] = [];
  for (const f of files) {
    const m = /^(\d+)_([a-z0-9_]+)\.sql$/.exec(f);
    if (!m) throw new Error(`migrations: "${f}" is not named NNN_name.sql`);
    out.push({ version: Number(m[1]), name: m[2]!, sql: readFileSync(join(dir, f), 'utf8') });
  }
  out.sort((a, b) => a.version - b.version);
  out.forEach((mig, i) => {
    if (mig.version !== i + 1) throw new Error(`migrations: expected version ${i + 1}, found ${mig.version} (${mig.name})`);
  });
  return out;
}

/**
 * Applies the migrations not yet recorded in `schema_migrations`, each in its own transaction,
 * and returns the versions applied. A database newer than this code is refused rather than
 * silently run against a schema it doesn't know.
 */
export function migrate(db: Db, migrations: Migration[], now: () => number = Date.now): number[] {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
  const applied = new Set(db.prepare('SELECT version FROM schema_migrations').pluck().all() as number[]);
  const newest = Math.max(0, ...applied);
  if (newest > migrations.length) {
    throw new Error(`database schema version ${newest} is newer than this build knows (${migrations.length}); refusing to start`);
  }
  const done: number[] = [];
  for (const m of migrations) {
    if (applied.has(m.version)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, now());
    })();
    done.push(m.version);
  }
  return done;
}
