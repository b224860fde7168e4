import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openDatabase, type Db } from '../../src/adapters/sqlite/db.js';
import { migrate, readMigrations } from '../../src/adapters/sqlite/migrate.js';
import { COPIED_TABLES } from '../../src/adapters/postgres/copyFromSqlite.js';
import { SqliteOutboxRepository } from '../../src/adapters/sqlite/outboxRepository.js';
import { SqliteReviewStore } from '../../src/adapters/sqlite/reviewStore.js';
import { SqliteStore } from '../../src/adapters/sqlite/store.js';
import { QUEUE_POLICY } from '../../src/app/effects.js';
import { Outbox } from '../../src/outbox/outbox.js';

const SHIPPED = fileURLToPath(new URL('../../migrations', import.meta.url));
const SHIPPED_FILES = readdirSync(SHIPPED)
  .filter((f) => f.endsWith('.sql'))
  .map((file) => ({ file, version: Number(file.slice(0, 3)) }));
/** The number of migrations this build ships; a test's own migrations come after them. */
const N = SHIPPED_FILES.length;
const next = (k = 1): string => String(N + k).padStart(3, '0');
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const T0 = Date.UTC(2024, 0, 1);

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'access-bot-migrations-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A fresh migrations folder: the shipped files up to version `upTo`, plus `extra` ones. */
function migrationsDir(extra: Record<string, string> = {}, upTo = Infinity): string {
  const d = mkdtempSync(join(dir, 'migrations-'));
  for (const m of SHIPPED_FILES) if (m.version <= upTo) copyFileSync(join(SHIPPED, m.file), join(d, m.file));
  for (const [name, sql] of Object.entries(extra)) writeFileSync(join(d, name), sql);
  return d;
}

function tables(db: Db): string[] {
  return db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all() as string[];
}

function versions(db: Db): number[] {
  return db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all() as number[];
}

/**
 * An audit row as v1 wrote it: sha256 over JSON [prev, request id, at, actor, data]. Rows in the
 * field keep this hash forever, so the chain they form must keep verifying.
 */
function v1AuditRow(db: Db, prev: string, requestId: string, at: number, actor: string, step: { type: string; [k: string]: unknown }): string {
  const data = JSON.stringify(step);
  const hash = createHash('sha256').update(JSON.stringify([prev, requestId, at, actor, data])).digest('hex');
  db.prepare('INSERT INTO audit_events (request_id, at, type, actor, data, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)').run(requestId, at, step.type, actor, data, prev, hash);
  return hash;
}

describe('migrations', () => {
  test('the shipped migrations are numbered from 1 without gaps, starting with init', () => {
    const ms = readMigrations(SHIPPED);
    assert.ok(N >= 1);
    assert.deepEqual(
      ms.map((m) => m.version),
      range(1, N),
    );
    assert.equal(ms[0]?.name, 'init');
  });

  test('migrate-store copies every table of the schema (a table added later is not left behind)', () => {
    const db = openDatabase(':memory:');
    migrate(db, readMigrations(SHIPPED), () => T0);
    // schema_migrations is each store's own; request_counts is rebuilt by Postgres's triggers.
    const own = new Set(['schema_migrations', 'request_counts']);
    const schema = tables(db).filter((t) => !own.has(t) && !t.startsWith('sqlite_'));
    assert.deepEqual([...COPIED_TABLES].sort(), schema.sort());
  });

  test('an empty database migrates', () => {
    const db = openDatabase(':memory:');
    assert.deepEqual(migrate(db, readMigrations(SHIPPED), () => T0), range(1, N));
    for (const t of ['approvers', 'audit_events', 'inbound_seen', 'memberships', 'outbox', 'requests', 'schema_migrations', 'review_campaigns', 'review_items', 'review_assignments', 'review_reviewers']) {
      assert.ok(tables(db).includes(t), `table ${t} is missing`);
    }
    assert.deepEqual(db.prepare('SELECT version, name, applied_at FROM schema_migrations WHERE version = 1').get(), { version: 1, name: 'init', applied_at: T0 });
    // The store and the outbox prepare every statement they use against the migrated schema.
    assert.doesNotThrow(() => new SqliteStore(db, new Outbox(new SqliteOutboxRepository(db, QUEUE_POLICY), () => T0)));
    assert.doesNotThrow(() => new SqliteReviewStore(db));
  });

  test('migrating an up-to-date database applies nothing', () => {
    const db = openDatabase(':memory:');
    migrate(db, readMigrations(SHIPPED));
    assert.deepEqual(migrate(db, readMigrations(SHIPPED)), []);
    assert.deepEqual(versions(db), range(1, N));
  });

  test('rows written by schema v1 survive later migrations', () => {
    const path = join(dir, 'data', 'bot.db');
    let db = openDatabase(path);
    assert.deepEqual(migrate(db, readMigrations(migrationsDir({}, 1)), () => T0), [1]);
    // Written the way v1 wrote them: plain SQL against the v1 columns.
    db.prepare(
      `INSERT INTO requests (id, submission_key, state, app_id, role_id, app_name, role_name, connector, group_id, duration_token, duration_ms,
        reason, policy_json, requester_slack_id, requester_email, idp_user_id, stage, jira_key, created_at, updated_at, granted_at, expires_at)
       VALUES ('R1', 'V123', 'active', 'okta-console', 'read-only', 'Okta admin console', 'Read-only', 'okta', '00g1readonly', '8h', 28800000,
        'on-call', '{"kind":"auto"}', 'U_ANN', 'ann@example.com', '00u1ann', 0, 'ACC-1', ?, ?, ?, ?)`,
    ).run(T0, T0 + 5, T0 + 5, T0 + 5 + 28_800_000);
    db.prepare("INSERT INTO approvers (request_id, stage, slack_id, email, asked_at, decision, decided_at) VALUES ('R1', 0, 'U_BOB', 'bob@example.com', ?, 'approve', ?)").run(T0 + 1, T0 + 2);
    db.prepare("INSERT INTO memberships (connector, group_id, idp_user_id, owned, recorded_at) VALUES ('okta', '00g1readonly', '00u1ann', 1, ?)").run(T0 + 3);
    db.prepare("INSERT INTO outbox (queue, kind, request_id, payload, available_at, created_at) VALUES ('jira:R1', 'jira.comment', 'R1', ?, ?, ?)").run('{"text":"x"}', T0, T0);
    const h1 = v1AuditRow(db, '0'.repeat(64), 'R1', T0, 'U_ANN', { type: 'auto_approved' });
    v1AuditRow(db, h1, 'R1', T0 + 5, 'access-bot', { type: 'failed', cause: 'x' });
    db.close();

    // Every later migration this build ships, plus one more that adds a column.
    const later = migrationsDir({ [`${next()}_ticket_url.sql`]: "ALTER TABLE requests ADD COLUMN ticket_url TEXT NOT NULL DEFAULT '';\n" });
    db = openDatabase(path);
    assert.deepEqual(migrate(db, readMigrations(later), () => T0 + 10), range(2, N + 1));

    const store = new SqliteStore(db, new Outbox(new SqliteOutboxRepository(db, QUEUE_POLICY), () => T0 + 10));
    const r = store.getRequest('R1');
    assert.ok(r, 'the v1 request is still there');
    assert.deepEqual(
      {
        state: r.state,
        submissionKey: r.submissionKey,
        connector: r.connector,
        groupId: r.groupId,
        durationMs: r.durationMs,
        policy: r.policy,
        requesterEmail: r.requesterEmail,
        idpUserId: r.idpUserId,
        jiraKey: r.jiraKey,
        expiresAt: r.expiresAt,
      },
      {
        state: 'active',
        submissionKey: 'V123',
        connector: 'okta',
        groupId: '00g1readonly',
        durationMs: 28_800_000,
        policy: { kind: 'auto' },
        requesterEmail: 'ann@example.com',
        idpUserId: '00u1ann',
        jiraKey: 'ACC-1',
        expiresAt: T0 + 5 + 28_800_000,
      },
    );
    assert.equal(db.prepare("SELECT ticket_url FROM requests WHERE id = 'R1'").pluck().get(), '');
    assert.deepEqual(
      store.approversOf('R1').map((a) => [a.slackId, a.decision]),
      [['U_BOB', 'approve']],
    );
    assert.deepEqual(store.getMembership('okta', '00g1readonly', '00u1ann'), { owned: true });
    assert.deepEqual(
      store.dueGrants(T0 + 5 + 28_800_000, 10).map((g) => g.id),
      ['R1'],
      'the v1 grant still expires',
    );
    assert.deepEqual(
      new Outbox(new SqliteOutboxRepository(db, QUEUE_POLICY), () => T0 + 10).claim(10, 1000).map((e) => [e.kind, e.payload]),
      [['jira.comment', { text: 'x' }]],
    );
    assert.equal(store.verifyAuditChain(), undefined, 'the v1 audit chain still verifies');
    // The counts behind /metrics were backfilled from the v1 rows and follow later changes.
    const counts = () => Object.fromEntries((db.prepare('SELECT state, n FROM request_counts WHERE n > 0').all() as { state: string; n: number }[]).map((c) => [c.state, c.n]));
    assert.deepEqual(counts(), { active: 1 });
    db.prepare("UPDATE requests SET state = 'revoking' WHERE id = 'R1'").run();
    db.prepare("UPDATE requests SET updated_at = updated_at + 1 WHERE id = 'R1'").run();
    db.prepare(
      `INSERT INTO requests (id, submission_key, state, app_id, role_id, app_name, role_name, connector, group_id, duration_token, reason, policy_json, requester_id, created_at, updated_at)
       SELECT 'R2', 'V124', 'pending', app_id, role_id, app_name, role_name, connector, group_id, duration_token, reason, policy_json, requester_id, created_at, updated_at FROM requests WHERE id = 'R1'`,
    ).run();
    assert.deepEqual(counts(), Object.fromEntries((db.prepare('SELECT state, COUNT(*) AS n FROM requests GROUP BY state').all() as { state: string; n: number }[]).map((c) => [c.state, c.n])));
    assert.deepEqual(counts(), { revoking: 1, pending: 1 });
    assert.deepEqual(
      store.auditOf('R1').map((a) => a.step.type),
      ['auto_approved', 'failed'],
    );
    db.close();
  });

  test('rows written by schema v5 survive 006: the holder check finds grants by IdP user, and old email-keyed effects are still there', () => {
    const path = join(dir, 'data', 'bot.db');
    let db = openDatabase(path);
    assert.deepEqual(migrate(db, readMigrations(migrationsDir({}, 5)), () => T0), range(1, 5));
    const insert = db.prepare(
      `INSERT INTO requests (id, submission_key, state, app_id, role_id, app_name, role_name, connector, group_id, duration_token, duration_ms,
        reason, policy_json, requester_slack_id, requester_email, idp_user_id, created_at, updated_at, revoke_requested_at)
       VALUES (?, ?, ?, 'okta-console', 'read-only', 'Okta admin console', 'Read-only', 'okta', '00g1readonly', '8h', 28800000,
        'on-call', '{"kind":"auto"}', 'U_ANN', ?, '00u1ann', ?, ?, ?)`,
    );
    // One person, two emails: the first grant under her old email, the second after a rename.
    insert.run('R1', 'V1', 'revoking', 'ann@example.com', T0, T0, T0 + 9);
    insert.run('R2', 'V2', 'active', 'ann.smith@example.com', T0 + 1, T0 + 1, null);
    db.prepare("INSERT INTO memberships (connector, group_id, idp_user_id, owned, recorded_at) VALUES ('okta', '00g1readonly', '00u1ann', 1, ?)").run(T0);
    // The revocation as v5 enqueued it: by email, in an email-keyed queue.
    const payload = { requestId: 'R1', connector: 'okta', group: '00g1readonly', email: 'ann@example.com' };
    db.prepare("INSERT INTO outbox (queue, kind, request_id, payload, available_at, created_at) VALUES ('idp:okta:00g1readonly:ann@example.com', 'idp.revoke', 'R1', ?, ?, ?)").run(
      JSON.stringify(payload),
      T0 + 9,
      T0 + 9,
    );
    db.close();

    db = openDatabase(path);
    assert.deepEqual(migrate(db, readMigrations(SHIPPED), () => T0 + 10), range(6, N));
    const store = new SqliteStore(db, new Outbox(new SqliteOutboxRepository(db, QUEUE_POLICY), () => T0 + 10));
    assert.equal(store.otherHoldersOf('okta', '00g1readonly', '00u1ann', 'R1'), 1, "R2 holds Ann's membership, whatever email it came with");
    assert.equal(store.otherHoldersOf('okta', '00g1readonly', '00u1ann', 'R2'), 0, 'R1 is being revoked: it holds nothing');
    const plan = db
      .prepare("EXPLAIN QUERY PLAN SELECT COUNT(*) FROM requests WHERE connector = 'okta' AND group_id = 'g' AND idp_user_id = 'u' AND id <> 'x' AND state IN ('approved', 'active', 'revoking') AND revoke_requested_at IS NULL")
      .all() as { detail: string }[];
    assert.match(plan.map((p) => p.detail).join('\n'), /requests_holding_by_user/, 'the holder check reads its index');
    assert.deepEqual(store.getMembership('okta', '00g1readonly', '00u1ann'), { owned: true });
    const [legacy] = new Outbox(new SqliteOutboxRepository(db, QUEUE_POLICY), () => T0 + 10).claim(10, 1000);
    assert.deepEqual([legacy?.kind, legacy?.queue, legacy?.payload], ['idp.revoke', 'idp:okta:00g1readonly:ann@example.com', payload], 'the v5 effect is still there, as written');
    db.close();
  });

  test('rows written by schema v6 survive 007 (people): requesters and approvers become people, messages become surface references', () => {
    const path = join(dir, 'data', 'bot.db');
    let db = openDatabase(path);
    assert.deepEqual(migrate(db, readMigrations(migrationsDir({}, 6)), () => T0), range(1, 6));
    const policy = JSON.stringify({ kind: 'stages', stages: [{ approvers: [{ kind: 'owners' }], required: 1 }], fallback: [], escalateTo: [] });
    const insert = db.prepare(
      `INSERT INTO requests (id, submission_key, state, app_id, role_id, app_name, role_name, connector, group_id, duration_token, duration_ms,
        reason, policy_json, requester_slack_id, requester_email, requester_name, idp_user_id, jira_key, requester_dm_channel, requester_dm_ts,
        created_at, updated_at, expires_at, alert_channel, alert_ts)
       VALUES (@id, @id, @state, 'okta-console', 'read-only', 'Okta admin console', 'Read-only', 'okta', '00g1readonly', '8h', 28800000,
        'on-call', @policy, @slack, @email, @name, @idp, @jira, @dmChannel, @dmTs, @at, @at, @expires, @alertChannel, @alertTs)`,
    );
    const row = { policy, idp: null, jira: null, dmChannel: null, dmTs: null, expires: null, alertChannel: null, alertTs: null, name: null };
    // Ann: an active grant (her email in mixed case), a pending request and, before routing knew her email, a new one.
    insert.run({ ...row, id: 'R_ACTIVE', state: 'active', slack: 'U_ANN', email: 'Ann@Example.com', name: 'Ann', idp: '00u1ann', jira: 'ACC-1', dmChannel: 'D_ANN', dmTs: '1.1', at: T0, expires: T0 + 28_800_000, alertChannel: 'C_SEC', alertTs: '9.9' });
    insert.run({ ...row, id: 'R_PENDING', state: 'pending', slack: 'U_ANN', email: 'ann@example.com', name: 'Ann', jira: 'ACC-2', dmChannel: 'D_ANN', dmTs: '2.1', at: T0 + 1 });
    insert.run({ ...row, id: 'R_NEW', state: 'pending', slack: 'U_ANN', email: null, at: T0 + 2 });
    // Dee: known by Slack id only (routing never ran); Bob approved Ann's grant, Carol denied Dee's old one.
    insert.run({ ...row, id: 'R_DENIED', state: 'denied', slack: 'U_DEE', email: 'dee@example.com', jira: 'ACC-3', at: T0 + 3 });
    insert.run({ ...row, id: 'R_DEE', state: 'pending', slack: 'U_DEE_NEW', email: null, at: T0 + 4 });
    const approver = db.prepare(
      'INSERT INTO approvers (request_id, stage, slack_id, email, name, asked_at, decision, decided_at, reason, dm_channel, dm_ts, via) VALUES (?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    approver.run('R_ACTIVE', 'U_BOB', 'bob@example.com', 'Bob', T0 + 5, 'approve', T0 + 6, null, 'D_BOB', '3.1', 'owners');
    approver.run('R_PENDING', 'U_BOB', 'bob@example.com', 'Bob', T0 + 5, null, null, null, 'D_BOB', '3.2', 'owners');
    approver.run('R_PENDING', 'U_CAT', 'carol@example.com', 'Carol', T0 + 5, null, null, null, null, null, 'owners');
    approver.run('R_DENIED', 'U_CAT', 'carol@example.com', 'Carol', T0 + 5, 'deny', T0 + 7, 'not now', 'D_CAT', '4.1', 'email');
    // The "Access granted" DM was found from the outbox's result.
    db.prepare("INSERT INTO outbox (queue, kind, request_id, payload, status, result, available_at, created_at, done_at) VALUES ('slack:R_ACTIVE:requester', 'slack.requesterDm', 'R_ACTIVE', ?, 'done', ?, ?, ?, ?)").run(
      JSON.stringify({ requestId: 'R_ACTIVE', notice: { type: 'granted', expiresAt: T0 + 28_800_000 } }),
      JSON.stringify({ channel: 'D_ANN', ts: '5.1' }),
      T0,
      T0,
      T0 + 8,
    );
    db.close();

    db = openDatabase(path);
    assert.deepEqual(migrate(db, readMigrations(SHIPPED), () => T0 + 10), range(7, N));
    const store = new SqliteStore(db, new Outbox(new SqliteOutboxRepository(db, QUEUE_POLICY), () => T0 + 10));
    assert.deepEqual(db.pragma('foreign_key_check'), [], 'every reference points at a row');

    const ann = store.personByEmail('ann@example.com');
    assert.ok(ann, 'Ann is a person, identified by her lowercased email');
    assert.equal(ann.slackId, 'U_ANN');
    for (const id of ['R_ACTIVE', 'R_PENDING', 'R_NEW']) {
      assert.equal(store.getRequest(id)?.requesterId, ann.id, `${id} is Ann's, whether or not routing had learned her email`);
      assert.equal(store.getRequest(id)?.requesterSlackId, 'U_ANN');
    }
    assert.equal(store.getRequest('R_NEW')?.requesterEmail, null, 'R_NEW still waits for routing to identify its requester');
    const r = store.getRequest('R_ACTIVE');
    assert.deepEqual([r?.state, r?.idpUserId, r?.jiraKey, r?.expiresAt, r?.requesterEmail, r?.requesterName], ['active', '00u1ann', 'ACC-1', T0 + 28_800_000, 'Ann@Example.com', 'Ann']);
    assert.deepEqual(store.dueGrants(T0 + 28_800_000, 10).map((g) => g.id), ['R_ACTIVE'], 'the grant still expires');

    const dee = store.personBySlackId('U_DEE');
    assert.equal(dee?.email, 'dee@example.com');
    const deeNew = store.personBySlackId('U_DEE_NEW');
    assert.ok(deeNew && deeNew.email === null, 'a requester known by Slack id alone is a person whose email is learned later');
    assert.equal(store.getRequest('R_DEE')?.requesterId, deeNew.id);

    assert.deepEqual(
      store.approversOf('R_PENDING').map((a) => [a.slackId, a.email, a.name, a.via, a.decision, a.dmChannel, a.dmTs]),
      [
        ['U_BOB', 'bob@example.com', 'Bob', 'owners', null, 'D_BOB', '3.2'],
        ['U_CAT', 'carol@example.com', 'Carol', 'owners', null, null, null],
      ],
    );
    assert.deepEqual(
      store.approversOf('R_DENIED').map((a) => [a.slackId, a.decision, a.reason, a.dmTs]),
      [['U_CAT', 'deny', 'not now', '4.1']],
    );
    assert.equal(store.approversOf('R_ACTIVE')[0]?.personId, store.approversOf('R_PENDING')[0]?.personId, 'Bob is one person across requests');

    assert.deepEqual(store.surfaceRef('R_ACTIVE', 'slack', 'requester_dm', 0, ann.id), { channel: 'D_ANN', ts: '1.1' });
    assert.deepEqual(store.surfaceRef('R_PENDING', 'slack', 'requester_dm', 0, ann.id), { channel: 'D_ANN', ts: '2.1' });
    assert.deepEqual(store.surfaceRef('R_ACTIVE', 'slack', 'break_glass_alert'), { channel: 'C_SEC', ts: '9.9' });
    assert.deepEqual(store.surfaceRef('R_ACTIVE', 'slack', 'grant_notice', 0, ann.id), { channel: 'D_ANN', ts: '5.1' });

    const counts = Object.fromEntries((db.prepare('SELECT state, n FROM request_counts WHERE n > 0').all() as { state: string; n: number }[]).map((c) => [c.state, c.n]));
    assert.deepEqual(counts, { active: 1, pending: 3, denied: 1 }, 'the /metrics counts were untouched by the rebuild');
    db.prepare("UPDATE requests SET state = 'approved' WHERE id = 'R_PENDING'").run();
    const after = Object.fromEntries((db.prepare('SELECT state, n FROM request_counts WHERE n > 0').all() as { state: string; n: number }[]).map((c) => [c.state, c.n]));
    assert.deepEqual(after, { active: 1, pending: 2, denied: 1, approved: 1 }, 'and the rebuilt table keeps them current');
    for (const index of ['requests_due', 'requests_pending', 'requests_timers', 'requests_by_jira_key', 'requests_holding_by_user']) {
      assert.ok(db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?").get(index), `index ${index} is back`);
    }
    db.close();
  });

  test('rows written by schema v11 survive 012 (on behalf of): old requests have no submitter; a submitter follows a merge of people', () => {
    const db = openDatabase(':memory:');
    assert.deepEqual(migrate(db, readMigrations(migrationsDir({}, 11)), () => T0), range(1, 11));
    db.prepare('INSERT INTO people (id, email, slack_id, name, created_at, updated_at) VALUES (1, ?, ?, ?, ?, ?)').run('ann@example.com', 'U_ANN', 'Ann', T0, T0);
    db.prepare(
      `INSERT INTO requests (id, state, app_id, role_id, app_name, role_name, connector, group_id, duration_token, duration_ms, reason, policy_json, requester_id, created_at, updated_at)
       VALUES ('R_OLD', 'pending', 'okta-console', 'read-only', 'Okta admin console', 'Read-only', 'okta', '00g1readonly', '8h', 28800000, 'on-call', '{"kind":"auto"}', 1, ?, ?)`,
    ).run(T0, T0);
    assert.deepEqual(migrate(db, readMigrations(SHIPPED), () => T0), range(12, N));
    const store = new SqliteStore(db, new Outbox(new SqliteOutboxRepository(db, QUEUE_POLICY), () => T0));
    const old = store.getRequest('R_OLD')!;
    assert.deepEqual([old.submitterId, old.submitterSlackId, old.submittedAs], [null, null, null]);
    // Cid asked for Ann, known then by Slack id only; learning Cid's email merges two records of him.
    const cidBySlack = store.recordPerson({ slackId: 'U_CID' }, T0);
    const cidByEmail = store.recordPerson({ email: 'cid@example.com', name: 'Cid' }, T0);
    store.insertRequest({ ...old, id: 'R_FOR_ANN', submissionKey: 'V1', createdAt: T0 + 1, nextTimerAt: null, breakGlassNotify: null, submitterId: cidBySlack.id, submittedAs: 'manager' });
    store.recordPerson({ slackId: 'U_CID', email: 'cid@example.com' }, T0 + 2);
    const mine = store.getRequest('R_FOR_ANN')!;
    assert.deepEqual([mine.requesterId, mine.submitterId, mine.submitterSlackId, mine.submitterEmail, mine.submittedAs], [1, cidByEmail.id, 'U_CID', 'cid@example.com', 'manager']);
    assert.deepEqual(store.submittedBy(cidByEmail.id, 10).map((r) => r.id), ['R_FOR_ANN']);
    assert.equal(store.verifyAuditChain(), undefined);
  });

  test('a database newer than the code is refused', () => {
    const path = join(dir, 'bot.db');
    let db = openDatabase(path);
    migrate(db, readMigrations(migrationsDir({ [`${next()}_newer.sql`]: 'CREATE TABLE newer (x INTEGER);' })));
    db.close();

    db = openDatabase(path);
    assert.throws(() => migrate(db, readMigrations(SHIPPED)), {
      message: `database schema version ${N + 1} is newer than this build knows (${N}); refusing to start`,
    });
    assert.deepEqual(versions(db), range(1, N + 1), 'nothing was changed');
    db.close();
  });

  test('a migration that fails leaves no trace, and the ones before it stay applied', () => {
    const db = openDatabase(':memory:');
    const broken = migrationsDir({ [`${next()}_broken.sql`]: 'CREATE TABLE half (x INTEGER);\nINSERT INTO no_such_table VALUES (1);\n' });
    assert.throws(() => migrate(db, readMigrations(broken)), /no such table: no_such_table/);
    assert.deepEqual(versions(db), range(1, N));
    assert.equal(tables(db).includes('half'), false, 'the first statement of the failed migration was rolled back');
    assert.equal(tables(db).includes('requests'), true);
  });

  const badFolders: [string, Record<string, string>, RegExp][] = [
    ['a gap in the numbers', { [`${next(2)}_skip.sql`]: 'SELECT 1;' }, new RegExp(`expected version ${N + 1}, found ${N + 2} \\(skip\\)`)],
    ['a duplicate number', { '001_again.sql': 'SELECT 1;' }, /expected version 2, found 1/],
    ['a file not named NNN_name.sql', { '2-add.sql': 'SELECT 1;' }, /"2-add\.sql" is not named NNN_name\.sql/],
    ['an upper-case name', { [`${next()}_AddColumn.sql`]: 'SELECT 1;' }, new RegExp(`"${next()}_AddColumn\\.sql" is not named NNN_name\\.sql`)],
  ];
  for (const [what, extra, error] of badFolders) {
    test(`a migrations folder with ${what} is refused`, () => {
      assert.throws(() => readMigrations(migrationsDir(extra)), error);
    });
  }

  test('files other than .sql in the migrations folder are ignored', () => {
    const ms = readMigrations(migrationsDir({ 'README.md': '# notes', [`${next()}_next.sql`]: 'SELECT 1;' }));
    assert.deepEqual(
      ms.map((m) => m.version),
      range(1, N + 1),
    );
    assert.equal(ms.at(-1)?.name, 'next');
  });
});

describe('openDatabase', () => {
  test('a file database is opened in WAL mode, with foreign keys on and a busy timeout, its folder created', () => {
    const path = join(dir, 'nested', 'deeper', 'bot.db');
    const db = openDatabase(path);
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
    assert.equal(db.pragma('busy_timeout', { simple: true }), 5000);
    assert.equal(db.pragma('synchronous', { simple: true }), 1, 'NORMAL');
    db.close();
  });

  test('an approver row needs its request (foreign keys are enforced)', () => {
    const db = openDatabase(':memory:');
    migrate(db, readMigrations(SHIPPED));
    assert.throws(
      () => db.prepare("INSERT INTO approvers (request_id, stage, person_id, asked_at) VALUES ('nope', 0, 1, 1)").run(),
      /FOREIGN KEY constraint failed/,
    );
  });
});
