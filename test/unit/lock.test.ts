import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { chmodSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openDatabase } from '../../src/adapters/sqlite/db.js';
import { DatabaseInUseError, lockDatabase } from '../../src/adapters/sqlite/lock.js';

test('one process per database: a second lock on the same database is refused with the holder\'s pid, and free again once released', () => {
  const path = join(mkdtempSync(join(tmpdir(), 'access-bot-lock-')), 'bot.db');
  const first = lockDatabase(path);
  assert.throws(
    () => lockDatabase(path),
    (err: unknown) => err instanceof DatabaseInUseError && err.holderPid === process.pid && err.message === `database ${path} is in use by another access-bot process (pid ${process.pid}); only one may run per database`,
  );
  first.release();
  lockDatabase(path).release();
});

test('the database and its -wal and -shm are narrowed to 0600, also when an older version left them 0644', () => {
  const path = join(mkdtempSync(join(tmpdir(), 'access-bot-mode-')), 'bot.db');
  const db = openDatabase(path);
  db.exec('CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1)');
  for (const f of [path, `${path}-wal`, `${path}-shm`]) assert.equal((statSync(f).mode & 0o777).toString(8), '600', f);
  db.close();

  // As a version before 0600 left it: created by SQLite with its default 0644.
  const old = join(mkdtempSync(join(tmpdir(), 'access-bot-mode-')), 'old.db');
  const legacy = new Database(old);
  legacy.pragma('journal_mode = WAL');
  legacy.exec('CREATE TABLE t (x INTEGER)');
  chmodSync(old, 0o644);
  const reopened = openDatabase(old);
  reopened.exec('INSERT INTO t VALUES (1)');
  for (const f of [old, `${old}-wal`, `${old}-shm`]) assert.equal((statSync(f).mode & 0o777).toString(8), '600', f);
  reopened.close();
  legacy.close();
});
