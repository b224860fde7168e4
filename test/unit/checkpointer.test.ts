/**
 * The WAL checkpointer: the bot's connection stops checkpointing on commit, a worker thread
 * with its own connection does it instead, and a dead worker hands checkpoints back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import pino from 'pino';
import { Checkpointer } from '../../src/adapters/sqlite/checkpointer.js';
import { openDatabase } from '../../src/adapters/sqlite/db.js';

const silent = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail('condition not met in time');
    await sleep(10);
  }
}

function fresh() {
  const dir = mkdtempSync(join(tmpdir(), 'access-bot-ckpt-'));
  const path = join(dir, 'bot.db');
  const db = openDatabase(path);
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
  const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
  const write = (rows: number) => db.transaction(() => { for (let i = 0; i < rows; i++) insert.run('x'.repeat(1000)); })();
  return { dir, path, db, write, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

test('commits no longer checkpoint; the worker does, and the WAL starts over instead of growing', async (t) => {
  const f = fresh();
  t.after(f.cleanup);
  const c = Checkpointer.start(f.db, f.path, silent, 20);
  t.after(() => c.stop());
  assert.equal(f.db.pragma('wal_autocheckpoint', { simple: true }), 0);
  // No commit truncates the file (140 ms on the event loop at 500 MB, bench/README.md).
  assert.equal(f.db.pragma('journal_size_limit', { simple: true }), -1);

  // 2,000 rows of 1 kB: about 500 pages per round. Without any checkpoint the WAL would hold all
  // of them (10 rounds, ~20 MB); with the worker it is copied back and reused between rounds.
  for (let round = 0; round < 10; round++) {
    f.write(2000);
    const written = Date.now();
    await until(() => c.stats.lastCompleteAt > written);
  }
  assert.equal(c.stats.errors, 0);
  const wal = statSync(`${f.path}-wal`).size;
  assert.ok(wal < 6 * 1024 * 1024, `the WAL was reused (${(wal / 1e6).toFixed(1)} MB)`);
  assert.equal(f.db.prepare('SELECT COUNT(*) FROM t').pluck().get(), 20_000);
  await c.stop();
  f.db.close();
});

test('a worker that dies hands checkpoints back to the bot\'s connection', async (t) => {
  const f = fresh();
  t.after(f.cleanup);
  const c = Checkpointer.start(f.db, f.path, silent, 20);
  assert.equal(f.db.pragma('wal_autocheckpoint', { simple: true }), 0);
  await (c as unknown as { worker: Worker }).worker.terminate();
  await until(() => f.db.pragma('wal_autocheckpoint', { simple: true }) === 1000);
  // Commits checkpoint again, and trim the file again.
  assert.equal(f.db.pragma('journal_size_limit', { simple: true }), 64 * 1024 * 1024);
  await c.stop();
  f.db.close();
});

test('an in-memory database gets no worker and keeps its settings', async () => {
  const db = openDatabase(':memory:');
  const c = Checkpointer.start(db, ':memory:', silent);
  assert.equal((c as unknown as { worker?: Worker }).worker, undefined);
  await c.stop();
  db.close();
});

/** Open file descriptors of this process on `path` itself (not its -wal or -shm), from /proc. */
function connectionsTo(path: string): number {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === path;
    } catch {
      return false;
    }
  }).length;
}

test('ready resolves once the worker has booted and opened its connection (start-up waits for it), or has died', { skip: !existsSync('/proc/self/fd') && 'needs /proc' }, async (t) => {
  const f = fresh();
  t.after(f.cleanup);
  assert.equal(connectionsTo(f.path), 1, "the bot's own connection");
  const c = Checkpointer.start(f.db, f.path, silent, 20);
  await c.ready;
  assert.equal(connectionsTo(f.path), 2, "and the worker's, open by then");
  await c.stop();

  const dying = Checkpointer.start(f.db, f.path, silent, 20);
  await (dying as unknown as { worker: Worker }).worker.terminate();
  await dying.ready;
  await dying.stop();
  const memory = openDatabase(':memory:');
  await Checkpointer.start(memory, ':memory:', silent).ready;
  memory.close();
  f.db.close();
});
