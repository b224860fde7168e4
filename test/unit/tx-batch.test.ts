/**
 * Group commit (adapters/txBatch.ts): what is recorded before an ack, in a burst, commits once per
 * turn of the event loop. Checked on a SQLite file with a second connection looking on, as another
 * process would.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { openDatabase, type Db } from '../../src/adapters/sqlite/db.js';
import { migrate, readMigrations } from '../../src/adapters/sqlite/migrate.js';
import { SqliteOutboxRepository } from '../../src/adapters/sqlite/outboxRepository.js';
import { SqliteStore } from '../../src/adapters/sqlite/store.js';
import { TxBatch } from '../../src/adapters/txBatch.js';
import { QUEUE_POLICY } from '../../src/app/effects.js';
import { Outbox } from '../../src/outbox/outbox.js';

const T0 = Date.UTC(2024, 0, 1);
const MIGRATIONS = readMigrations(fileURLToPath(new URL('../../migrations', import.meta.url)));
const dirs: string[] = [];
const open: Db[] = [];

afterEach(() => {
  for (const db of open.splice(0)) db.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'tx-batch-'));
  dirs.push(dir);
  const path = join(dir, 'bot.sqlite');
  const db = openDatabase(path);
  migrate(db, MIGRATIONS, () => T0);
  const store = new SqliteStore(db, new Outbox(new SqliteOutboxRepository(db, QUEUE_POLICY), () => T0));
  // Another connection, as the effects CLI or a second process would read the file.
  const other = new Database(path, { readonly: true });
  open.push(db, other);
  const committed = (slackId: string) => other.prepare('SELECT COUNT(*) FROM people WHERE slack_id = ?').pluck().get(slackId) === 1;
  return { db, store, committed };
}

describe('store.batched: one commit for the writes of one turn', () => {
  test('calls made in one turn share a transaction; each is answered after it committed', async () => {
    const { db, store, committed } = setup();
    const seenInside: boolean[] = [];
    const first = store.batched(() => store.tx((s) => s.recordPerson({ slackId: 'U1' }, T0).id));
    const second = store.batched(() =>
      store.tx((s) => {
        // The first call's write is in the same open transaction: this connection sees it, no other does yet.
        seenInside.push(db.inTransaction, s.personBySlackId('U1') !== undefined, committed('U1'));
        return s.recordPerson({ slackId: 'U2' }, T0).id;
      }),
    );
    // Nothing runs before the turn ends: the caller's own synchronous code comes first.
    assert.equal(committed('U1'), false);
    const [a, b] = await Promise.all([first, second]);
    assert.deepEqual(seenInside, [true, true, false]);
    assert.ok(committed('U1') && committed('U2'), 'both committed by the time their callers hear of it');
    assert.notEqual(a, b);
  });

  test('a call that throws rolls back its own writes only, and is told what it threw', async () => {
    const { store, committed } = setup();
    const refused = new Error('no such role');
    const results = await Promise.allSettled([
      store.batched(() => store.tx((s) => s.recordPerson({ slackId: 'U1' }, T0))),
      store.batched(() =>
        store.tx((s) => {
          s.recordPerson({ slackId: 'U2' }, T0);
          throw refused;
        }),
      ),
      store.batched(() => store.tx((s) => s.recordPerson({ slackId: 'U3' }, T0))),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    assert.equal((results[1] as PromiseRejectedResult).reason, refused);
    assert.deepEqual([committed('U1'), committed('U2'), committed('U3')], [true, false, true]);
  });

  test('an error that ends the transaction rejects every call of the batch, and keeps none of them', async () => {
    const { db, store, committed } = setup();
    const results = await Promise.allSettled([
      store.batched(() => store.tx((s) => s.recordPerson({ slackId: 'U1' }, T0))),
      store.batched(() =>
        store.tx(() => {
          // What SQLite does on a full disk or an I/O error: the whole transaction is rolled back.
          db.prepare('ROLLBACK').run();
          throw new Error('database or disk is full');
        }),
      ),
      store.batched(() => store.tx((s) => s.recordPerson({ slackId: 'U3' }, T0))),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['rejected', 'rejected', 'rejected'],
    );
    assert.deepEqual([committed('U1'), committed('U3')], [false, false]);
    assert.equal(db.inTransaction, false);
    // The store goes on: the next batch commits.
    await store.batched(() => store.tx((s) => s.recordPerson({ slackId: 'U4' }, T0)));
    assert.equal(committed('U4'), true);
  });

  test('a call made while a batch commits waits for the next one, and answers keep their order', async () => {
    const { store, committed } = setup();
    const later: Promise<number>[] = [];
    const first = store.batched(() => {
      later.push(store.batched(() => store.tx((s) => s.recordPerson({ slackId: 'U2' }, T0).id)));
      return store.tx((s) => s.recordPerson({ slackId: 'U1' }, T0).id);
    });
    const id1 = await first;
    assert.equal(committed('U1'), true);
    const id2 = await later[0]!;
    assert.equal(committed('U2'), true);
    assert.ok(id2 > id1);
  });
});

describe('TxBatch', () => {
  test('more calls in one turn than a batch holds: several transactions, each at most that size, in order', async () => {
    const sizes: number[] = [];
    let depth = 0;
    let ran = 0;
    const batch = new TxBatch(
      {
        tx: (fn) => {
          depth++;
          const before = ran;
          try {
            fn();
          } finally {
            depth--;
          }
          sizes.push(ran - before);
        },
        inTransaction: () => depth > 0,
      },
      2,
    );
    const answers = await Promise.all(
      [1, 2, 3, 4, 5].map((n) =>
        batch.run(() => {
          ran++;
          return n * 10;
        }),
      ),
    );
    assert.deepEqual(answers, [10, 20, 30, 40, 50]);
    assert.deepEqual(sizes, [2, 2, 1]);
  });

  test('a commit that fails rejects every call of its batch with that error', async () => {
    const failed = new Error('SQLITE_BUSY: database is locked');
    const batch = new TxBatch({
      tx: (fn) => {
        fn();
        throw failed;
      },
      inTransaction: () => true,
    });
    const results = await Promise.allSettled([batch.run(() => 1), batch.run(() => 2)]);
    assert.deepEqual(
      results.map((r) => (r.status === 'rejected' ? r.reason : r.value)),
      [failed, failed],
    );
  });
});
