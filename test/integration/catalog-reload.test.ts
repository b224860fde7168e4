import assert from 'node:assert/strict';
import { renameSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { ADMIN_CHANNEL } from '../support/fixtures.js';
import { DEFAULT_CATALOG, Harness, PEOPLE, waitUntil } from '../support/harness.js';

const { alice, bob, carol, dave } = PEOPLE;

describe('catalog hot reload', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await new Harness({ env: { ADMIN_CHANNEL: ADMIN_CHANNEL.id }, compose: { watchCatalog: { debounceMs: 20 } } }).start();
  });
  afterEach(async () => {
    await h.stop();
  });

  /** Saves the catalog the way many editors do: a new file renamed over the old one. */
  const save = (text: string): void => {
    const tmp = `${h.config.catalogPath}.tmp`;
    writeFileSync(tmp, text);
    renameSync(tmp, h.config.catalogPath);
  };
  const reloads = (): number => h.logs.filter((l) => l.includes('"msg":"catalog reloaded"')).length;
  const adminPost = (pred: (text: string) => boolean) => h.slack.waitForMessage((m) => m.channel === ADMIN_CHANNEL.id && pred(m.text ?? ''));

  test('a bad catalog edit keeps the last good catalog and alerts the admin channel', async () => {
    const before = h.bot.ctx.catalog();
    save(DEFAULT_CATALOG.replace('durations: [30m, 1h]', 'durations: [30m, 5x]').replace('owners: [bob@example.com]', 'owners: [bob@example.com]\n    colour: blue'));
    const post = await adminPost((t) => t.includes('was not applied'));
    const lines = post.text!.split('\n');
    assert.match(lines[0]!, /The catalog edit in .*access-catalog\.yaml was not applied \(file changed\); access-bot keeps the last good catalog/);
    // One problem a line, each naming its path.
    assert.deepEqual(
      lines.slice(1).map((l) => l.split(':')[0]),
      ['applications[0].colour', 'applications[0].roles[1].durations[1]'],
    );
    assert.equal(h.bot.ctx.catalog(), before, 'the last good catalog stays in force');
    assert.ok(h.logs.some((l) => l.includes('catalog edit refused; keeping the last good catalog')));

    // The bot still serves requests with it.
    const id = await h.request(alice, { role: 'read-only', duration: '4h' });
    await h.click(bob, id, 'approve');
    await waitUntil(() => h.bot.store.getRequest(id)?.state === 'active', 5000, 'the grant');

    // A change to the connectors: block needs a restart: refused the same way.
    save(`connectors:\n  okta: { type: okta, orgUrl: { env: OKTA_ORG_URL }, apiToken: { env: OKTA_API_TOKEN } }\n${DEFAULT_CATALOG}`);
    const restart = await adminPost((t) => t.includes('connectors: block changed'));
    assert.match(restart.text!, /restart access-bot to apply this edit/);
    assert.equal(h.bot.ctx.catalog(), before);
    assert.equal(reloads(), 0);
  });

  test('a good edit takes effect for the next request without a restart', async () => {
    // Bob (an owner) approves read-only today; a request made now keeps that policy.
    const first = await h.request(alice, { role: 'read-only', duration: '4h' });
    await h.approverMessage(bob, first);

    save(DEFAULT_CATALOG.replace('approvers: [owners, alice@example.com]', 'approvers: [carol@example.com]'));
    await waitUntil(() => reloads() === 1, 5000, 'the reload');

    const second = await h.request(dave, { role: 'read-only', duration: '4h' });
    await h.approverMessage(carol, second);
    assert.ok(!h.slack.dmsTo(bob.slackId).some((m) => JSON.stringify(m.blocks ?? []).includes(second)), 'bob is no longer asked');

    // The new catalog is in force for decisions too: bob, asked before the edit, is no longer
    // listed and is refused (app/decide.ts, assertStillListed); the request waits for carol.
    await h.click(bob, first, 'approve');
    await h.slack.waitForEphemeral((e) => e.user === bob.slackId && e.text.includes('no longer an approver'));
    assert.equal(h.bot.store.getRequest(first)?.state, 'pending');

    // Saving the same text again is no edit: nothing is reloaded.
    save(DEFAULT_CATALOG.replace('approvers: [owners, alice@example.com]', 'approvers: [carol@example.com]'));
    assert.equal(h.bot.reloadCatalog('test').status, 'applied');
    assert.equal(reloads(), 2, 'only the explicit reload read it again');
  });
});
