import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { openDatabase } from '../../src/adapters/sqlite/db.js';
import { migrate, readMigrations } from '../../src/adapters/sqlite/migrate.js';
import { SqliteOutboxRepository } from '../../src/adapters/sqlite/outboxRepository.js';
import { SqliteStore } from '../../src/adapters/sqlite/store.js';
import { QUEUE_POLICY } from '../../src/app/effects.js';
import { Outbox } from '../../src/outbox/outbox.js';

const T0 = Date.UTC(2024, 0, 1);
const MIGRATIONS = readMigrations(fileURLToPath(new URL('../../migrations', import.meta.url)));

function setup() {
  const db = openDatabase(':memory:');
  migrate(db, MIGRATIONS, () => T0);
  return { db, store: new SqliteStore(db, new Outbox(new SqliteOutboxRepository(db, QUEUE_POLICY), () => T0)) };
}

function request(store: SqliteStore, id: string, requesterId: number) {
  store.insertRequest({
    id,
    submissionKey: id,
    appId: 'a',
    roleId: 'r',
    appName: 'A',
    roleName: 'R',
    connector: 'okta',
    groupId: 'g',
    durationToken: '1h',
    durationMs: 3_600_000,
    reason: 'x',
    policy: { kind: 'auto' },
    requesterId,
    createdAt: T0,
    breakGlassNotify: null,
    nextTimerAt: null,
  });
}

describe('people in the store: email is the identity', () => {
  test('two records that turn out to be one person become one: what referred to the Slack-only record follows the email', () => {
    const { db, store } = setup();
    // Bob approved something before (known by email); then he requests in Slack (known by Slack id only).
    const bobByEmail = store.recordPerson({ email: 'Bob@Example.com', name: 'Bob' }, T0);
    const other = store.recordPerson({ slackId: 'U_X', email: 'x@example.com' }, T0);
    request(store, 'R0', other.id);
    store.insertApprover({ requestId: 'R0', stage: 0, personId: bobByEmail.id, askedAt: T0, via: 'email' });
    const bobInSlack = store.recordPerson({ slackId: 'U_BOB' }, T0 + 1);
    assert.notEqual(bobInSlack.id, bobByEmail.id);
    request(store, 'R1', bobInSlack.id);
    store.setSurfaceRef({ requestId: 'R1', surface: 'slack', purpose: 'requester_dm', personId: bobInSlack.id, channel: 'D_BOB', ts: '1.1' }, T0 + 1);

    // Routing learns his email (users.info).
    const bob = store.recordPerson({ slackId: 'U_BOB', email: 'bob@example.com', name: 'Bob B' }, T0 + 2);
    assert.equal(bob.id, bobByEmail.id, 'the record holding the email survives');
    assert.deepEqual([bob.email, bob.slackId, bob.name], ['bob@example.com', 'U_BOB', 'Bob B']);
    assert.equal(store.getPerson(bobInSlack.id), undefined, 'the Slack-only record is gone');
    assert.equal(store.getRequest('R1')?.requesterId, bob.id);
    assert.equal(store.getRequest('R1')?.requesterSlackId, 'U_BOB');
    assert.deepEqual(store.surfaceRef('R1', 'slack', 'requester_dm', 0, bob.id), { channel: 'D_BOB', ts: '1.1' });
    assert.deepEqual(store.approversOf('R0').map((a) => [a.personId, a.slackId]), [[bob.id, 'U_BOB']]);
    assert.equal(db.prepare('SELECT COUNT(*) FROM people').pluck().get(), 2);
    assert.deepEqual(db.pragma('foreign_key_check'), []);
  });

  test('a Slack id claimed under another email moves to that person; the old email stays its own person', () => {
    const { store } = setup();
    const old = store.recordPerson({ slackId: 'U_ANN', email: 'ann@old.example' }, T0);
    const renamed = store.recordPerson({ slackId: 'U_ANN', email: 'ann@new.example' }, T0 + 1);
    assert.notEqual(renamed.id, old.id);
    assert.equal(store.getPerson(old.id)?.slackId, null);
    assert.equal(store.getPerson(old.id)?.email, 'ann@old.example');
    assert.equal(store.personBySlackId('U_ANN')?.id, renamed.id);
  });

  test('recording a known person with nothing new writes nothing', () => {
    const { db, store } = setup();
    const p = store.recordPerson({ slackId: 'U_CAT', email: 'cat@example.com', name: 'Cat' }, T0);
    assert.deepEqual(store.recordPerson({ slackId: 'U_CAT' }, T0 + 5), p);
    assert.equal(db.prepare('SELECT updated_at FROM people WHERE id = ?').pluck().get(p.id), T0);
  });

  test("a person's IdP user id is kept per connector", () => {
    const { store } = setup();
    const p = store.recordPerson({ email: 'dee@example.com' }, T0);
    store.setIdpUserId(p.id, 'okta', '00u1dee', T0);
    store.setIdpUserId(p.id, 'okta', '00u2dee', T0 + 1);
    assert.equal(store.idpUserIdOf(p.id, 'okta'), '00u2dee');
    assert.equal(store.idpUserIdOf(p.id, 'entra'), undefined);
  });
});
