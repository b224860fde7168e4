import Database from 'better-sqlite3';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

export type Db = Database.Database;

/**
 * Opens the database the way the bot needs it: WAL (readers don't block the writer), foreign
 * keys on, and a busy timeout so a second connection (the check command, a bench) waits rather
 * than failing with SQLITE_BUSY.
 */
export function openDatabase(path: string): Db {
  if (path !== ':memory:') createPrivateFile(path);
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  // SQLite creates -wal and -shm with the database file's permissions; files left by an older
  // version (0644) are narrowed too.
  if (path !== ':memory:') for (const f of [`${path}-wal`, `${path}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  // WAL with NORMAL is durable across process crashes (the case we test); only an OS crash may
  // lose the last transactions, and the outbox makes every effect safe to run again.
  db.pragma('synchronous = NORMAL');
  return db;
}

/**
 * Creates `path` (and its folder, 0700) readable and writable by the owner only, or narrows an
 * existing file to 0600: the database holds who has access to what, and Slack response URLs.
 */
export function createPrivateFile(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  closeSync(openSync(path, 'a', 0o600));
  chmodSync(path, 0o600);
}
