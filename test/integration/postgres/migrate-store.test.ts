/**
 * `access-bot migrate-store`: a bot on SQLite with requests in every stage is stopped, its
 * database copied into Postgres, and a bot on Postgres goes on from there (test/support/postgres.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runMigrateStore } from '../../../src/migrate-store-cli.js';
import { GROUPS, Harness, PEOPLE, waitUntil } from '../../support/harness.js';
import { createTestDatabase, dropTestDatabase } from '../../support/postgres.js';

const { alice, bob, carol } = PEOPLE;

function migrateStore(from: string, to: string): { code: number; out: string } {
  const lines: string[] = [];
  const code = runMigrateStore(['--from', from, '--to', to], {}, (l) => lines.push(l), (l) => lines.push(l));
  return { code, out: lines.join('\n') };
}

describe('migrate-store: from SQLite to Postgres', () => {
  let h: Harness;
  let url: string;
  before(async () => {
    url = createTestDatabase('migrate_store');
    h = await new Harness({ store: 'sqlite' }).start();
  });
  after(async () => {
    await h.stop();
    dropTestDatabase(url);
  });

  test('every table is copied, the audit chain verifies, and a bot on Postgres carries on: an active grant stays, a pending request is approved there', async () => {
    const active = await h.request(alice, { duration: '4h' });
    await h.click(bob, active, 'approve');
    await waitUntil(() => h.okta.isMember(GROUPS.readOnly, alice.oktaId), 5000, 'granted on SQLite');
    const pending = await h.request(carol, { duration: '2s' });
    await h.approverMessage(bob, pending);
    await h.idle();
    const before = { requests: h.bot.sql.value('SELECT COUNT(*) FROM requests'), audit: h.bot.sql.value('SELECT COUNT(*) FROM audit_events'), outbox: h.bot.sql.value('SELECT COUNT(*) FROM outbox') };
    const dbPath = h.config.databasePath;

    // The bot is running: the copy refuses (it needs the SQLite lock).
    const refused = migrateStore(dbPath, url);
    assert.equal(refused.code, 1);
    assert.match(refused.out, /in use by another access-bot process.*stop the bot first/);

    let copied = { code: -1, out: '' };
    await h.restart({ databaseUrl: url, between: () => (copied = migrateStore(dbPath, url)) });
    assert.equal(copied.code, 0, copied.out);
    assert.match(copied.out, /the audit chain \(\d+ events\) verifies/);
    assert.equal(h.bot.storageKind, 'postgres');
    assert.deepEqual(
      { requests: h.bot.sql.value('SELECT COUNT(*) FROM requests'), audit: h.bot.sql.value('SELECT COUNT(*) FROM audit_events'), outbox: h.bot.sql.value('SELECT COUNT(*) FROM outbox') },
      before,
    );
    assert.equal(h.bot.store.verifyAuditChain(), undefined);
    assert.equal(h.bot.store.getRequest(active)!.state, 'active');

    // On Postgres: the pending request is approved, granted, expires and is revoked, its story on
    // the same Jira issue; new rows get new ids after the copied ones.
    await h.click(bob, pending, 'approve');
    await waitUntil(() => h.bot.store.getRequest(pending)!.state === 'revoked', 10_000, 'granted then revoked on Postgres');
    await h.idle();
    const steps = h.jiraComments(pending).map((c) => c.split(' ').slice(0, 2).join(' '));
    assert.deepEqual(steps, ['Requested by', 'Approval requested', 'Approved by', 'Access granted:', 'Access revoked']);
    assert.equal(h.okta.isMember(GROUPS.readOnly, carol.oktaId), false);
    assert.equal(h.bot.store.verifyAuditChain(), undefined);

    // A second copy into the same database is refused: it is not empty any more.
    await h.bot.stop(1000);
    const again = migrateStore(dbPath, url);
    assert.equal(again.code, 1);
    assert.match(again.out, /copies into an empty database only/);
  });
});
