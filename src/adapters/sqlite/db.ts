import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export type Db = Database.Database;

/**
 * Opens the database the way the bot needs it: WAL (readers don't block the writer), foreign
 * keys on, and a busy timeout so a second connection (the check command, a bench) waits rather
 * than failing with SQLITE_BUSY.
 */
export function openDatabase(path: string): Db {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  // WAL with NORMAL is durable across process crashes (the case we test); only an OS crash may
  // lose the last transactions, and the outbox makes every effect safe to run again.
  db.pragma('synchronous = NORMAL');
  return db;
}
