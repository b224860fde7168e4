import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openDatabase, type Db } from '../../src/adapters/sqlite/db.js';
import { migrate, readMigrations } from '../../src/adapters/sqlite/migrate.js';
import { SqliteOutboxRepository } from '../../src/adapters/sqlite/outboxRepository.js';
import { SqliteStore } from '../../src/adapters/sqlite/store.js';
import { QUEUE_POLICY } from '../../src/app/effects.js';
import type { NewRequest } from '../../src/app/ports/store.js';
import type { Step } from '../../src/domain/steps.js';
import { Outbox } from '../../src/outbox/outbox.js';

const MIGRATIONS = readMigrations(fileURLToPath(new URL('../../migrations', import.meta.url)));
const T0 = Date.UTC(2024, 0, 1);
const GENESIS = '0'.repeat(64);

function setup(): { db: Db; store: SqliteStore; outbox: Outbox } {
  const db = openDatabase(':memory:');
  migrate(db, MIGRATIONS, () => T0);
  const outbox = new Outbox(new SqliteOutboxRepository(db, QUEUE_POLICY), () => T0);
  const store = new SqliteStore(db, outbox);
  // The requester of request(): person 1.
  store.recordPerson({ slackId: 'U_ANN' }, T0);
  return { db, store, outbox };
}

const STEPS: [string | null, string, Step][] = [
  ['R1', 'U_ANN', { type: 'requested', actor: { slackId: 'U_ANN' }, app: 'Okta admin console', role: 'Read-only', duration: '8 hours', reason: 'on-call' }],
  ['R1', 'U_BOB', { type: 'approved', actor: { slackId: 'U_BOB', name: 'Bob' } }],
  ['R2', 'U_CAT', { type: 'cancelled', actor: { slackId: 'U_CAT' } }],
  ['R1', 'access-bot', { type: 'failed', cause: 'group not found' }],
];

/** A store with the four audit events above, at T0, T0+1, ... */
function withAudit() {
  const env = setup();
  STEPS.forEach(([requestId, actor, step], i) => env.store.appendAudit(requestId, T0 + i, actor, step));
  return env;
}

/** What someone with write access to the file could do: the triggers are no obstacle to them. */
function tamper(db: Db, sql: string, ...params: unknown[]): void {
  db.exec('DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete;');
  db.prepare(sql).run(...params);
}

function request(over: Partial<NewRequest> = {}): NewRequest {
  return {
    id: 'R1',
    submissionKey: 'V1',
    appId: 'okta-console',
    roleId: 'read-only',
    appName: 'Okta admin console',
    roleName: 'Read-only',
    connector: 'okta',
    groupId: '00g1readonly',
    durationToken: '8h',
    durationMs: 8 * 3_600_000,
    reason: 'on-call',
    policy: { kind: 'stages', stages: [{ approvers: [{ kind: 'owners' }], required: 1 }], fallback: [], escalateTo: [] },
    requesterId: 1,
    createdAt: T0,
    breakGlassNotify: null,
    nextTimerAt: null,
    ...over,
  };
}

describe('audit log: append-only and hash-chained', () => {
  test('each audit event carries the hash of the previous one', () => {
    const { store } = setup();
    const a = store.appendAudit('R1', T0, 'U_ANN', STEPS[0]![2]);
    const b = store.appendAudit('R1', T0 + 1, 'U_BOB', STEPS[1]![2]);
    assert.equal(a.prevHash, GENESIS, 'the first event links to the genesis hash');
    assert.equal(b.prevHash, a.hash);
    assert.match(a.hash, /^[0-9a-f]{64}$/);
    assert.notEqual(a.hash, b.hash);
    assert.equal(b.seq, a.seq + 1);
    assert.deepEqual(store.getAudit(b.seq), b);
  });

  test('the same event at another place in the chain has another hash', () => {
    const one = setup().store;
    const two = setup().store;
    two.appendAudit('R0', T0, 'U_X', { type: 'auto_approved' });
    const h1 = one.appendAudit('R1', T0, 'U_ANN', STEPS[0]![2]).hash;
    const h2 = two.appendAudit('R1', T0, 'U_ANN', STEPS[0]![2]).hash;
    assert.notEqual(h1, h2);
  });

  test('an intact chain verifies, and so does an empty one', () => {
    assert.equal(setup().store.verifyAuditChain(), undefined);
    assert.equal(withAudit().store.verifyAuditChain(), undefined);
  });

  test("a request's story is read back in order, with its steps as written", () => {
    const { store } = withAudit();
    const story = store.auditOf('R1');
    assert.deepEqual(
      story.map((e) => [e.at, e.actor, e.step]),
      [
        [T0, 'U_ANN', STEPS[0]![2]],
        [T0 + 1, 'U_BOB', STEPS[1]![2]],
        [T0 + 3, 'access-bot', STEPS[3]![2]],
      ],
    );
    assert.deepEqual(store.auditOf('R3'), []);
  });

  test('an event without a request (a system event) joins the same chain', () => {
    const { store } = withAudit();
    const e = store.appendAudit(null, T0 + 9, 'access-bot', { type: 'failed', cause: 'startup check' });
    assert.equal(e.requestId, null);
    assert.equal(store.getAudit(e.seq)?.requestId, null);
    assert.equal(store.verifyAuditChain(), undefined);
  });

  const refused: [string, string][] = [
    ['UPDATE of the data', "UPDATE audit_events SET data = '{}' WHERE seq = 2"],
    ['UPDATE of the actor', "UPDATE audit_events SET actor = 'U_MALLORY'"],
    ['UPDATE of the hash', "UPDATE audit_events SET hash = prev_hash WHERE seq = 1"],
    ['DELETE of one row', 'DELETE FROM audit_events WHERE seq = 2'],
    ['DELETE of every row', 'DELETE FROM audit_events'],
  ];
  for (const [what, sql] of refused) {
    test(`the audit log refuses UPDATE and DELETE: ${what}`, () => {
      const { db, store } = withAudit();
      const before = db.prepare('SELECT * FROM audit_events ORDER BY seq').all();
      assert.throws(() => db.prepare(sql).run(), /audit_events is append-only/);
      assert.deepEqual(db.prepare('SELECT * FROM audit_events ORDER BY seq').all(), before);
      assert.equal(store.verifyAuditChain(), undefined);
    });
  }

  const tampering: [string, string, unknown][] = [
    ['request_id', 'UPDATE audit_events SET request_id = ? WHERE seq = 2', 'R9'],
    ['at', 'UPDATE audit_events SET at = ? WHERE seq = 2', T0 - 86_400_000],
    ['actor', 'UPDATE audit_events SET actor = ? WHERE seq = 2', 'U_MALLORY'],
    ['data', 'UPDATE audit_events SET data = ? WHERE seq = 2', JSON.stringify({ type: 'approved', actor: { slackId: 'U_MALLORY' } })],
    ['prev_hash', 'UPDATE audit_events SET prev_hash = ? WHERE seq = 2', GENESIS],
    ['hash', 'UPDATE audit_events SET hash = ? WHERE seq = 2', 'f'.repeat(64)],
  ];
  for (const [column, sql, value] of tampering) {
    test(`tampering with an audit row breaks the chain at that row: ${column}`, () => {
      const { db, store } = withAudit();
      tamper(db, sql, value);
      assert.equal(store.verifyAuditChain(), 2);
    });
  }

  test(
    'tampering with an audit row breaks the chain at that row: type',
    () => {
      const { db, store } = withAudit();
      tamper(db, 'UPDATE audit_events SET type = ? WHERE seq = 2', 'denied');
      assert.equal(store.verifyAuditChain(), 2);
    },
  );

  test('a rehashed row still breaks the chain at the row after it', () => {
    const { db, store } = withAudit();
    // Mallory rewrites row 2's actor and recomputes its hash, but cannot fix row 3's prev_hash without rewriting everything after.
    const row2 = store.getAudit(2)!;
    const forged = setup().store;
    forged.appendAudit('R1', T0, 'U_ANN', STEPS[0]![2]);
    const rehashed = forged.appendAudit(row2.requestId, row2.at, 'U_MALLORY', row2.step);
    tamper(db, 'UPDATE audit_events SET actor = ?, hash = ? WHERE seq = 2', 'U_MALLORY', rehashed.hash);
    assert.equal(store.verifyAuditChain(), 3);
  });

  test('deleting an audit row breaks the chain at the row after it', () => {
    const { db, store } = withAudit();
    tamper(db, 'DELETE FROM audit_events WHERE seq = 2');
    assert.equal(store.verifyAuditChain(), 3);
  });

  test('a row forged by hand at the end breaks the chain at that row', () => {
    const { db, store } = withAudit();
    const last = store.getAudit(4)!;
    db.prepare('INSERT INTO audit_events (request_id, at, type, actor, data, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
      'R1',
      T0 + 10,
      'approved',
      'U_MALLORY',
      '{"type":"approved","actor":{"slackId":"U_MALLORY"}}',
      last.hash,
      'a'.repeat(64),
    );
    assert.equal(store.verifyAuditChain(), 5);
  });
});

describe('store: transactions', () => {
  test('state change, audit event and effects commit together, or not at all', () => {
    const { db, store, outbox } = setup();
    assert.throws(
      () =>
        store.tx(() => {
          store.insertRequest(request());
          store.appendAudit('R1', T0, 'U_ANN', STEPS[0]![2]);
          store.enqueue({ kind: 'request.route', queue: 'route:R1', requestId: 'R1', payload: { stage: 0 } });
          throw new Error('crash in the middle');
        }),
      /crash in the middle/,
    );
    assert.equal(store.getRequest('R1'), undefined);
    assert.deepEqual(store.auditOf('R1'), []);
    assert.deepEqual(outbox.counts(), { pending: 0, running: 0, done: 0, dead: 0 });
    assert.equal(db.prepare('SELECT COUNT(*) FROM outbox').pluck().get(), 0);

    store.tx(() => {
      store.insertRequest(request());
      store.appendAudit('R1', T0, 'U_ANN', STEPS[0]![2]);
      store.enqueue({ kind: 'request.route', queue: 'route:R1', requestId: 'R1', payload: { stage: 0 } });
    });
    assert.equal(store.getRequest('R1')?.state, 'pending');
    assert.equal(store.auditOf('R1').length, 1);
    assert.equal(outbox.counts().pending, 1);
  });

  test('a delivery is handled once: Slack retries and webhook redeliveries are recognised', () => {
    const { store } = setup();
    assert.equal(store.firstDelivery('slack:Ev1', T0), true);
    assert.equal(store.firstDelivery('slack:Ev1', T0 + 1000), false);
    assert.equal(store.firstDelivery('slack:Ev2', T0 + 1000), true);
  });
});

describe('store: memberships are owned', () => {
  test('ownership is recorded once: the first membership check wins', () => {
    const { store } = setup();
    assert.equal(store.getMembership('okta', 'g1', 'u1'), undefined);
    assert.deepEqual(store.recordMembership('okta', 'g1', 'u1', true, T0), { owned: true });
    // A later grant finds the user already a member (because we added them): still ours.
    assert.deepEqual(store.recordMembership('okta', 'g1', 'u1', false, T0 + 1), { owned: true });
    assert.deepEqual(store.getMembership('okta', 'g1', 'u1'), { owned: true });
  });

  test('a membership that predates the bot stays not owned', () => {
    const { store } = setup();
    assert.deepEqual(store.recordMembership('okta', 'g1', 'u1', false, T0), { owned: false });
    assert.deepEqual(store.recordMembership('okta', 'g1', 'u1', true, T0 + 1), { owned: false });
  });

  test('each (connector, group, user) has its own record, and deleting one leaves the others', () => {
    const { store } = setup();
    store.recordMembership('okta', 'g1', 'u1', true, T0);
    store.recordMembership('okta', 'g1', 'u2', false, T0);
    store.recordMembership('okta', 'g2', 'u1', false, T0);
    store.recordMembership('entra', 'g1', 'u1', false, T0);
    store.deleteMembership('okta', 'g1', 'u1');
    assert.equal(store.getMembership('okta', 'g1', 'u1'), undefined);
    assert.deepEqual(store.getMembership('okta', 'g1', 'u2'), { owned: false });
    assert.deepEqual(store.getMembership('okta', 'g2', 'u1'), { owned: false });
    assert.deepEqual(store.getMembership('entra', 'g1', 'u1'), { owned: false });
  });

  test('overlapping grants: only other live grants of the same IdP user and group hold the membership, whatever email each came with', () => {
    const { store } = setup();
    const holder = (id: string, over: Partial<NewRequest>, state: 'approved' | 'active' | 'revoking' | 'revoked' | 'pending', idpUserId: string | null = '00u1ann', revokeRequestedAt: number | null = null, email = 'ann@example.com') => {
      store.insertRequest(request({ id, submissionKey: id, ...over }));
      store.updateRequest(id, { state, requesterEmail: email, idpUserId, revokeRequestedAt }, T0);
    };
    holder('ME', {}, 'active');
    holder('A1', {}, 'active');
    holder('A2', {}, 'approved');
    // The same IdP user under another email (an alias, or the email changed between requests).
    holder('A3', {}, 'active', '00u1ann', null, 'ann.smith@example.com');
    holder('X1', {}, 'revoked');
    holder('X2', {}, 'pending', null);
    holder('X3', {}, 'revoking', '00u1ann', T0);
    holder('X4', { groupId: 'other' }, 'active');
    holder('X5', { connector: 'entra' }, 'active');
    holder('X6', {}, 'active', '00u1bob', null, 'bob@example.com');
    // Another IdP user who once had Ann's email: not her grant.
    holder('X7', {}, 'active', '00u1other');
    // Approved, its IdP user not looked up yet: its grant is not in the user's queue yet either.
    holder('X8', {}, 'approved', null);
    assert.equal(store.otherHoldersOf('okta', '00g1readonly', '00u1ann', 'ME'), 3);
    store.updateRequest('A1', { state: 'revoking', revokeRequestedAt: T0 + 1 }, T0 + 1);
    assert.equal(store.otherHoldersOf('okta', '00g1readonly', '00u1ann', 'ME'), 2);
  });
});

describe('store: requests', () => {
  test('a new request is pending at stage 0, and reads back as written', () => {
    const { store } = setup();
    store.insertRequest(request());
    const r = store.getRequest('R1');
    assert.ok(r);
    assert.equal(r.state, 'pending');
    assert.equal(r.stage, 0);
    assert.equal(r.updatedAt, T0);
    assert.deepEqual(r.policy, request().policy);
    assert.equal(r.durationMs, 8 * 3_600_000);
    assert.equal(r.jiraKey, null);
    assert.equal(r.expiresAt, null);
    assert.deepEqual(store.findBySubmissionKey('V1'), r);
    assert.equal(store.findBySubmissionKey('V2'), undefined);
  });

  test('a permanent request has no duration', () => {
    const { store } = setup();
    store.insertRequest(request({ durationToken: 'permanent', durationMs: null }));
    assert.equal(store.getRequest('R1')?.durationMs, null);
  });

  test('a re-submitted modal makes one request', () => {
    const { store } = setup();
    store.insertRequest(request());
    assert.throws(() => store.insertRequest(request({ id: 'R2' })), /UNIQUE constraint failed: requests.submission_key/);
    assert.equal(store.getRequest('R2'), undefined);
  });

  test('an update changes only the fields it names, and the update time', () => {
    const { store } = setup();
    store.insertRequest(request());
    const before = store.getRequest('R1')!;
    store.updateRequest('R1', { state: 'approved', decidedAt: T0 + 5, decidedBy: 'Bob', jiraKey: undefined }, T0 + 5);
    assert.deepEqual(store.getRequest('R1'), { ...before, state: 'approved', decidedAt: T0 + 5, decidedBy: 'Bob', updatedAt: T0 + 5 });
    store.updateRequest('R1', { decidedBy: null }, T0 + 6);
    assert.equal(store.getRequest('R1')?.decidedBy, null, 'null clears a field; undefined leaves it');
  });

  test('grants fall due at their expiry, oldest first; the next expiry is the earliest active one', () => {
    const { store } = setup();
    const grant = (id: string, expiresAt: number, state: 'active' | 'revoking' = 'active') => {
      store.insertRequest(request({ id, submissionKey: id }));
      store.updateRequest(id, { state, expiresAt }, T0);
    };
    grant('LATE', T0 + 3000);
    grant('SOON', T0 + 1000);
    grant('EXACT', T0 + 2000);
    grant('GOING', T0 + 500, 'revoking');
    assert.equal(store.nextExpiry(), T0 + 1000);
    assert.deepEqual(
      store.dueGrants(T0 + 2000, 10).map((r) => r.id),
      ['SOON', 'EXACT'],
    );
    assert.deepEqual(
      store.dueGrants(T0 + 5000, 1).map((r) => r.id),
      ['SOON'],
    );
  });

  test('approvers are recorded once per stage, and their votes and messages kept', () => {
    const { store } = setup();
    store.insertRequest(request());
    const person = (slackId: string) => store.recordPerson({ slackId, email: `${slackId}@example.com` }, T0).id;
    const ask = (stage: number, slackId: string, askedAt: number) => store.insertApprover({ requestId: 'R1', stage, personId: person(slackId), askedAt, via: 'owners' });
    ask(0, 'U_BOB', T0 + 1);
    ask(0, 'U_CAT', T0 + 2);
    ask(0, 'U_BOB', T0 + 3); // asked again (a retried routing effect): ignored
    ask(1, 'U_BOB', T0 + 4);
    store.recordVote('R1', 0, person('U_CAT'), 'deny', T0 + 5, 'not now');
    store.setSurfaceRef({ requestId: 'R1', surface: 'slack', purpose: 'approver_card', stage: 0, personId: person('U_BOB'), channel: 'D1', ts: '111.222' }, T0 + 6);
    assert.deepEqual(
      store.approversOf('R1', 0).map((a) => [a.slackId, a.askedAt, a.via, a.decision, a.reason, a.dmTs]),
      [
        ['U_BOB', T0 + 1, 'owners', null, null, '111.222'],
        ['U_CAT', T0 + 2, 'owners', 'deny', 'not now', null],
      ],
    );
    assert.deepEqual(
      store.approversOf('R1').map((a) => [a.stage, a.slackId]),
      [
        [0, 'U_BOB'],
        [0, 'U_CAT'],
        [1, 'U_BOB'],
      ],
    );
  });
});
