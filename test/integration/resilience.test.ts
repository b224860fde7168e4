import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runEffects } from '../../src/effects-cli.js';
import { GROUPS, Harness, PEOPLE, waitUntil } from '../support/harness.js';

const { alice, bob } = PEOPLE;

describe('outages and rate limits', () => {
  let h: Harness;
  before(async () => {
    h = await new Harness().start();
  });
  after(async () => {
    await h.stop();
  });

  test('Jira down: approval and grant proceed; when Jira returns every comment lands once, in order', async () => {
    h.jira.outage({ retryAfterSec: 0 });
    const id = await h.request(alice, { duration: '4h' });
    await h.click(bob, id, 'approve');
    await waitUntil(() => h.okta.isMember(GROUPS.readOnly, alice.oktaId), 5000, 'granted while Jira is down');
    await waitUntil(() => h.bot.store.getRequest(id)!.state === 'active', 5000, 'active');
    assert.equal(h.bot.store.getRequest(id)!.jiraKey, null, 'no issue yet');
    h.jira.recover();
    await waitUntil(() => h.jiraComments(id).length === 4, 10_000, 'comments landed');
    await h.idle();
    const comments = h.jiraComments(id);
    assert.deepEqual(
      comments.map((c) => c.slice(0, 16)),
      ['Requested by Ali', 'Approval request', 'Approved by Bob ', 'Access granted: '],
    );
    assert.equal(h.jira.issuesWithLabel(`access-bot-${id}`).length, 1, 'one issue');
    assert.equal(h.jira.issue(h.bot.store.getRequest(id)!.jiraKey!)!.status, 'Active');
  });

  test("Okta 429: the grant waits for X-Rate-Limit-Reset instead of hammering", async () => {
    const id = await h.request(alice, { role: 'super-admin', duration: '30m' });
    await h.approverMessage(bob, id);
    await h.idle();
    const before429 = h.okta.tooManyRequests;
    h.okta.forceRateLimit(2, { resetAt: Math.ceil(Date.now() / 1000) + 1 });
    const t0 = Date.now();
    await h.click(bob, id, 'approve');
    await waitUntil(() => h.okta.isMember(GROUPS.superAdmin, alice.oktaId), 8000, 'granted after the reset');
    assert.equal(h.okta.tooManyRequests - before429, 2, 'exactly the forced 429s, no storm');
    assert.ok(Date.now() - t0 >= 900, 'waited for the reset');
  });

  test('a permanent error fails the request with its cause; an admin retries it once the cause is fixed', async () => {
    const catalogGroup = GROUPS.superAdmin;
    h.okta.removeGroup(catalogGroup);
    const callsBefore = h.okta.calls.length;
    const id = await h.request(alice, { role: 'super-admin', duration: '30m' });
    await h.click(bob, id, 'approve');
    await waitUntil(() => h.bot.store.getRequest(id)!.state === 'failed', 5000, 'failed');
    await h.idle();
    const addsToMissingGroup = h.okta.calls.slice(callsBefore).filter((c) => c.method === 'PUT' && c.path.includes(catalogGroup)).length;
    assert.equal(addsToMissingGroup, 1, 'a permanent error is not retried');
    assert.match(h.jiraComments(id).at(-1)!, new RegExp(`^Failed: granting access failed: .*${catalogGroup}`));
    assert.match(h.slack.dmsTo(alice.slackId).at(-1)!.text, /failed: granting access failed/);
    const key = h.bot.store.getRequest(id)!.jiraKey!;
    assert.ok(h.slack.messages.some((m) => m.channel === 'C0ADMIN' && m.text.includes(key) && m.text.includes('not found')), 'the admin channel is alerted with the cause');

    const lines: string[] = [];
    assert.equal(runEffects(['list'], { DATABASE_PATH: h.config.databasePath }, (l) => lines.push(l), (l) => lines.push(l)), 0);
    const dead = lines.find((l) => l.includes('idp.grant') && l.includes(id));
    assert.ok(dead, `the dead grant is listed: ${lines.join('\n')}`);

    h.okta.addGroup({ id: catalogGroup, name: 'Okta console super admins' });
    const effectId = dead.split('\t')[0]!;
    assert.equal(runEffects(['retry', effectId], { DATABASE_PATH: h.config.databasePath, USER: 'root' }, () => undefined, (l) => lines.push(l)), 0);
    await waitUntil(() => h.bot.store.getRequest(id)!.state === 'active', 8000, 'granted after the retry');
    await h.idle();
    assert.equal(h.okta.isMember(catalogGroup, alice.oktaId), true);
    assert.match(h.jiraComments(id).at(-3)!, /^Failed: granting access failed: /);
    assert.match(h.jiraComments(id).at(-1)!, /^Access granted: okta group 00g1superadm for 00u1alice/);
    assert.match(h.jiraComments(id).at(-2)!, /^Retried by admin root on /);
  });

  test("Slack's Web API down: clicks are still acknowledged and decided; messages follow on recovery", async () => {
    const id = await h.request(alice, { duration: '4h' });
    const card = await h.approverMessage(bob, id);
    await h.idle();
    const authTests = h.slack.callsTo('POST', '/api/auth.test').length;
    const heal = h.slack.inject({ path: /^\/api\//, status: 503, body: { ok: false, error: 'service_unavailable' } });
    const res = await h.driver.clickButton(bob.slackId, card, 'approve');
    assert.equal(res.status, 200, 'acknowledged without calling Slack');
    await waitUntil(() => h.bot.store.getRequest(id)!.state !== 'pending', 5000, 'decided while Slack is down');
    heal();
    await waitUntil(() => h.slack.dmsTo(alice.slackId).some((m) => /approved by Bob Jones/.test(m.text)), 8000, 'the requester is told after recovery');
    assert.equal(h.slack.callsTo('POST', '/api/auth.test').length, authTests, 'no auth.test per request');
  });
});
