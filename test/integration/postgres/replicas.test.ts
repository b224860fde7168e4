/**
 * The Postgres outbox as two replicas see it: two connections (each its own bridge worker, as
 * two processes would have) on one database, on a real server (test/support/postgres.ts).
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PostgresTimeoutError, SyncPg } from '../../../src/adapters/postgres/bridge.js';
import { PgDb, WRITE_LOCK } from '../../../src/adapters/postgres/db.js';
import { migratePostgres } from '../../../src/adapters/postgres/migrate.js';
import { PostgresOutboxRepository, WAKE_CHANNEL } from '../../../src/adapters/postgres/outboxRepository.js';
import { readMigrations } from '../../../src/adapters/sqlite/migrate.js';
import { QUEUE_POLICY } from '../../../src/app/effects.js';
import { Outbox } from '../../../src/outbox/outbox.js';
import { createTestDatabase, dropTestDatabase } from '../../support/postgres.js';

const T0 = Date.UTC(2024, 0, 1);
const MIGRATIONS = readMigrations(fileURLToPath(new URL('../../../migrations/postgres', import.meta.url)));

function replica(url: string, onNotify?: () => void) {
  const db = PgDb.open(url, { timeoutMs: 5000, ...(onNotify ? { onNotify } : {}) });
  const clock = { t: T0 };
  const outbox = new Outbox(new PostgresOutboxRepository(db, QUEUE_POLICY), () => clock.t);
  return { db, clock, outbox };
}

describe('two replicas on one Postgres outbox', () => {
  let url: string;
  before(() => {
    url = createTestDatabase('replicas');
    const db = PgDb.open(url);
    migratePostgres(db, MIGRATIONS);
    db.close();
  });
  after(() => dropTestDatabase(url));
  beforeEach(() => {
    const db = PgDb.open(url);
    db.run('DELETE FROM outbox');
    db.close();
  });

  test('an effect is claimed by one replica only; the next of its queue waits for it, across replicas', () => {
    const a = replica(url);
    const b = replica(url);
    try {
      const first = a.outbox.enqueue({ kind: 'k', queue: 'q:1', payload: { n: 1 } });
      a.outbox.enqueue({ kind: 'k', queue: 'q:1', payload: { n: 2 } });
      const other = a.outbox.enqueue({ kind: 'k', queue: 'q:2', payload: { n: 3 } });
      const byA = a.outbox.claim(1, 60_000);
      assert.deepEqual(
        byA.map((e) => e.id),
        [first],
      );
      // B sees q:1 held by A's running effect: only the other queue's effect is runnable.
      const byB = b.outbox.claim(10, 60_000);
      assert.deepEqual(
        byB.map((e) => e.id),
        [other],
      );
      assert.deepEqual(b.outbox.claim(10, 60_000), []);
      // A finishes: B takes the next of q:1; A's lease on it is no longer anyone's.
      assert.equal(a.outbox.complete(byA[0]!, { ok: true }), true);
      assert.deepEqual(
        b.outbox.claim(10, 60_000).map((e) => e.payload),
        [{ n: 2 }],
      );
      assert.equal(a.outbox.complete(byA[0]!, { ok: true }), false, 'a second outcome on a finished lease is refused');
    } finally {
      a.db.close();
      b.db.close();
    }
  });

  test('a replica that dies (its session gone) gives its leases up at once; its late outcome is refused', () => {
    const a = replica(url);
    const b = replica(url);
    try {
      const id = a.outbox.enqueue({ kind: 'k', queue: 'dies', payload: {} });
      const [lease] = a.outbox.claim(1, 3_600_000);
      assert.equal(lease?.id, id);
      assert.deepEqual(b.outbox.claim(10, 60_000), [], 'held by A: nothing for B');
      // A's connection ends, as a kill -9 ends it; its lease had an hour left.
      a.db.close();
      const [again] = b.outbox.claim(10, 60_000);
      assert.equal(again?.id, id, 'claimable at once by B');
      assert.equal(again?.attempts, 2);
      const c = replica(url);
      try {
        assert.equal(c.outbox.complete(lease!, 'late'), false, "the dead replica's attempt is fenced off");
        assert.equal(c.outbox.releaseAll(), 0, "another replica's live lease is not released at start-up");
      } finally {
        c.db.close();
      }
      assert.equal(b.outbox.complete(again!, 'done'), true);
    } finally {
      b.db.close();
    }
  });

  test('an enqueue on one replica notifies the other replicas (at its commit)', async () => {
    let woken = 0;
    const a = replica(url);
    const b = replica(url, () => woken++);
    try {
      b.db.pg.listen(WAKE_CHANNEL);
      a.db.tx(() => {
        a.outbox.enqueue({ kind: 'k', queue: 'wake', payload: {} });
        a.db.run('SELECT pg_sleep(0.2)');
      });
      const deadline = Date.now() + 5000;
      while (woken === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      assert.ok(woken >= 1, 'B was notified');
    } finally {
      a.db.close();
      b.db.close();
    }
  });

  test('writers are serialized across replicas by the global lock; a held lock times out with a clear error', () => {
    const a = replica(url);
    const b = new PgDb(new SyncPg(url, { timeoutMs: 500 }));
    try {
      a.db.query('BEGIN');
      a.db.query('SELECT pg_advisory_xact_lock($1)', [WRITE_LOCK]);
      assert.throws(
        () => b.tx(() => 1),
        (err: unknown) => err instanceof PostgresTimeoutError && /did not answer within 500 ms/.test(err.message),
      );
      a.db.query('COMMIT');
    } finally {
      a.db.close();
      b.close();
    }
  });
});
