/**
 * One bot process per database: start-up takes an exclusive lock on `<database>.lock`, held for
 * the life of the process. A second process on the same database refuses to start (its start-up
 * would otherwise release the first one's running effects, and both would run them).
 *
 * The lock is SQLite's own file lock (a POSIX advisory lock, `locking_mode = EXCLUSIVE` plus a
 * write), on a small SQLite file of its own, so it goes with the process when it dies: no stale
 * lock to clean up after a crash. The holder writes its pid into the file's header
 * (`user_version`, bytes 60-63, https://www.sqlite.org/fileformat.html#user_version_number),
 * which another process reads with a plain read: advisory locks do not block reads.
 *
 * The CLI's `effects list | retry` does not take it: it only reads dead effects and revives them
 * (one row update in a transaction of its own), which is safe beside the running bot.
 */
import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { createPrivateFile } from './db.js';

export interface DatabaseLock {
  /** The lock file, `<database>.lock`; undefined for an in-memory database. */
  readonly path: string | undefined;
  release(): void;
}

export class DatabaseInUseError extends Error {
  constructor(
    readonly databasePath: string,
    readonly holderPid: number | undefined,
  ) {
    super(`database ${databasePath} is in use by another access-bot process (pid ${holderPid ?? 'unknown'}); only one may run per database`);
    this.name = 'DatabaseInUseError';
  }
}

/** Takes the database's lock, or throws DatabaseInUseError naming the holder's pid. */
export function lockDatabase(databasePath: string): DatabaseLock {
  if (databasePath === ':memory:') return { path: undefined, release: () => undefined };
  const path = `${databasePath}.lock`;
  createPrivateFile(path);
  // timeout 0: a held lock is an answer, not something to wait for.
  const db = new Database(path, { timeout: 0 });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = MEMORY');
    // In EXCLUSIVE locking mode the write lock a transaction takes is kept after it commits.
    db.exec('BEGIN EXCLUSIVE');
    db.pragma(`user_version = ${process.pid}`);
    db.exec('COMMIT');
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code === 'SQLITE_BUSY') throw new DatabaseInUseError(databasePath, holderPid(path));
    throw err;
  }
  return { path, release: () => db.close() };
}

function holderPid(lockPath: string): number | undefined {
  try {
    const header = readFileSync(lockPath).subarray(0, 100);
    return header.length === 100 && header.readInt32BE(60) > 0 ? header.readInt32BE(60) : undefined;
  } catch {
    return undefined;
  }
}
