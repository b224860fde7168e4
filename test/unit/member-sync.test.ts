import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pino from 'pino';
import type { IdpConnector, MemberPage } from '../../src/app/ports/idp.js';
import { loadConfig } from '../../src/config/env.js';
import type { Catalog } from '../../src/domain/catalog.js';
import { grantedGroups, MemberSync, type GroupMemberStore } from '../../src/jobs/memberSync.js';
import { RetryableError } from '../../src/outbox/errors.js';

const ENV = {
  SLACK_BOT_TOKEN: 'xoxb-test-bot-token-1234567890',
  SLACK_SIGNING_SECRET: 'test-signing-secret',
  JIRA_HOST: 'https://example.atlassian.net',
  JIRA_EMAIL: 'bot@example.com',
  JIRA_API_TOKEN: 'jira-token-0123456789',
};

function catalog(grants: [string, string][]): Catalog {
  return { applications: [{ id: 'a', name: 'A', roles: grants.map(([connector, group], i) => ({ id: `r${i}`, name: `R${i}`, grant: { connector, group } })) }] } as unknown as Catalog;
}

/** Records what the job stores, in order. */
function recordingStore(): GroupMemberStore & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    startSync: (c, g) => void log.push(`start ${c}/${g}`),
    recordPage: (c, g, _at, m) => void log.push(`page ${c}/${g} ${m.map((x) => x.id).join(',')}`),
    completeSync: (c, g, _s, _f, n) => void log.push(`ok ${c}/${g} ${n}`),
    failSync: (c, g, _s, _f, cause) => void log.push(`failed ${c}/${g}: ${cause}`),
  };
}

const quiet = pino({ level: 'silent' });

describe('the user sync job', () => {
  test('lists each granted (connector, group) once, in catalog order', () => {
    assert.deepEqual(grantedGroups(catalog([['okta', 'g1'], ['okta', 'g1'], ['entra', 'g1'], ['okta', 'g2']])), [
      { connector: 'okta', group: 'g1' },
      { connector: 'entra', group: 'g1' },
      { connector: 'okta', group: 'g2' },
    ]);
  });

  test('yields to the event loop between pages: a timer due meanwhile runs before the listing ends', async () => {
    const pages: MemberPage[] = Array.from({ length: 50 }, (_, i) => ({ members: [{ id: `u${i}` }], ...(i < 49 ? { next: String(i + 1) } : {}) }));
    const fake: IdpConnector = { name: 'x', type: 'x', listMembers: (_g, p) => Promise.resolve(pages[Number(p?.cursor ?? 0)]!) };
    const store = recordingStore();
    const sync = new MemberSync({ connectors: { x: fake }, catalog: () => catalog([['x', 'g']]), store, claims: { claim: () => true }, now: Date.now, logger: quiet, schedule: 'off' });
    let ranAt = -1;
    setImmediate(() => (ranAt = store.log.length));
    await sync.runOnce();
    assert.equal(store.log.at(-1), 'ok x/g 50');
    assert.ok(ranAt > 0 && ranAt < store.log.length - 1, `the other task ran after ${ranAt} of ${store.log.length} writes`);
  });

  test('a rate limit longer than the bound fails the group with the cause; the next group still syncs', async () => {
    const limited: IdpConnector = { name: 'l', type: 'l', listMembers: () => Promise.reject(new RetryableError('slow down', 3_600_000)) };
    const fine: IdpConnector = { name: 'f', type: 'f', listMembers: () => Promise.resolve({ members: [{ id: 'u1' }] }) };
    const store = recordingStore();
    const sync = new MemberSync({ connectors: { l: limited, f: fine }, catalog: () => catalog([['l', 'g'], ['f', 'g']]), store, claims: { claim: () => true }, now: Date.now, logger: quiet, schedule: 'off', maxWaitMs: 60_000 });
    const results = await sync.runOnce();
    assert.deepEqual(results.map((r) => r.outcome), ['failed', 'ok']);
    assert.ok(store.log.includes('failed l/g: slow down'));
  });

  test('stop() ends a run waiting out a rate limit at once, recording the listing as incomplete', async () => {
    const limited: IdpConnector = { name: 'l', type: 'l', listMembers: () => Promise.reject(new RetryableError('slow down', 50_000)) };
    const store = recordingStore();
    const sync = new MemberSync({ connectors: { l: limited }, catalog: () => catalog([['l', 'g']]), store, claims: { claim: () => true }, now: Date.now, logger: quiet, schedule: 'off' });
    const run = sync.runOnce();
    await new Promise((r) => setTimeout(r, 20));
    const t0 = Date.now();
    await sync.stop();
    await run;
    assert.ok(Date.now() - t0 < 1000);
    assert.deepEqual(store.log, ['start l/g', 'failed l/g: stopped before the listing was complete']);
  });

  test('MEMBER_SYNC_SCHEDULE takes a cron expression or off; anything else is a configuration error', () => {
    const on = loadConfig({ ...ENV, MEMBER_SYNC_SCHEDULE: '*/30 * * * *' });
    assert.ok(on.ok && on.config.memberSyncSchedule === '*/30 * * * *');
    const off = loadConfig({ ...ENV, MEMBER_SYNC_SCHEDULE: 'off' });
    assert.ok(off.ok && off.config.memberSyncSchedule === 'off');
    const bad = loadConfig({ ...ENV, MEMBER_SYNC_SCHEDULE: 'hourly' });
    assert.equal(bad.ok, false);
    assert.ok(!bad.ok && bad.errors.some((e) => e.includes('MEMBER_SYNC_SCHEDULE') && e.includes('"hourly" is not a cron expression')));
  });
});
