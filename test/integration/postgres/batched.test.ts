/**
 * Group commit on Postgres (store.batched, adapters/txBatch.ts): the writes recorded before acks
 * in one turn commit once, each caller answered after that commit; one that throws loses only its
 * own writes. A second storage (another connection, as another replica) looks on. Also the kept
 * users.info answers of a turn, written in one statement.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openStorage, type Storage } from '../../../src/storage.js';
import { createTestDatabase, dropTestDatabase } from '../../support/postgres.js';

const T0 = Date.UTC(2024, 0, 1);

describe('store.batched on Postgres', () => {
  let url: string;
  let mine: Storage;
  let other: Storage;
  before(() => {
    url = createTestDatabase('batched');
    mine = openStorage({ databasePath: '', databaseUrl: url });
    other = openStorage({ databasePath: '', databaseUrl: url });
  });
  after(() => {
    mine?.close();
    other?.close();
    if (url) dropTestDatabase(url);
  });
  const committed = (slackId: string) => other.store.personBySlackId(slackId) !== undefined;

  test('calls made in one turn share a transaction; each is answered after it committed', async () => {
    const { store } = mine;
    const seenInside: boolean[] = [];
    const first = store.batched(() => store.tx((s) => s.recordPerson({ slackId: 'U1' }, T0).id));
    const second = store.batched(() =>
      store.tx((s) => {
        seenInside.push(s.personBySlackId('U1') !== undefined, committed('U1'));
        return s.recordPerson({ slackId: 'U2' }, T0).id;
      }),
    );
    const [a, b] = await Promise.all([first, second]);
    assert.deepEqual(seenInside, [true, false], 'the first write is visible in the shared transaction only');
    assert.ok(committed('U1') && committed('U2'));
    assert.notEqual(a, b);
  });

  test('a call that throws rolls back its own writes only', async () => {
    const { store } = mine;
    const refused = new Error('no such role');
    const results = await Promise.allSettled([
      store.batched(() => store.tx((s) => s.recordPerson({ slackId: 'U11' }, T0))),
      store.batched(() =>
        store.tx((s) => {
          s.recordPerson({ slackId: 'U12' }, T0);
          throw refused;
        }),
      ),
      store.batched(() => store.tx((s) => s.recordPerson({ slackId: 'U13' }, T0))),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    assert.equal((results[1] as PromiseRejectedResult).reason, refused);
    assert.deepEqual([committed('U11'), committed('U12'), committed('U13')], [true, false, true]);
  });

  test("users.info answers are kept in one statement, the newest answer winning", () => {
    const user = (email: string) => ({ slackId: 'U21', email, name: 'Dee', account: { deleted: false, bot: false, restricted: false, ultraRestricted: false, external: false, emailConfirmed: true } });
    mine.slackUsers.writeAll([
      { slackId: 'U21', user: user('dee@example.com'), at: T0 + 10 },
      { slackId: 'U22', user: { ...user('eve@example.com'), slackId: 'U22' }, at: T0 },
    ]);
    // An older answer does not replace a newer one.
    mine.slackUsers.writeAll([{ slackId: 'U21', user: user('old@example.com'), at: T0 }]);
    assert.equal(other.slackUsers.read('U21')?.user.email, 'dee@example.com');
    assert.equal(other.slackUsers.read('U22')?.at, T0);
  });
});
