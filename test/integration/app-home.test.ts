/**
 * The App Home (issue 17), through signed Slack requests: `app_home_opened` publishes the
 * person's Home (views.publish, validated by the emulator's Block Kit and Home limits), every
 * change to a request re-publishes the Homes of the people it concerns, at most once a second
 * each, and the Home's buttons are decided by the DM cards' handlers and rules.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { StoredView } from '../emulators/slack.js';
import { Harness, PEOPLE, waitUntil, type Person } from '../support/harness.js';

const { alice, bob, carol, dave } = PEOPLE;

const blocksOf = (v: StoredView | undefined) => JSON.stringify(v?.view.blocks ?? []);

/** The person's Home once it shows what `pred` wants (it is re-published as things change). */
async function homeShowing(h: Harness, who: Person, pred: (blocks: string) => boolean, what: string): Promise<StoredView> {
  await waitUntil(() => pred(blocksOf(h.slack.homeFor(who.slackId))), 10_000, `${who.name}'s Home showing ${what}; it shows ${blocksOf(h.slack.homeFor(who.slackId)).slice(0, 600)}`);
  return h.slack.homeFor(who.slackId)!;
}

/** views.publish calls for a user, in the order Slack received them. */
function publishesFor(h: Harness, who: Person) {
  return h.slack.callsTo('POST', '/api/views.publish').filter((c) => (c.body as { user_id?: string }).user_id === who.slackId);
}

async function routed(h: Harness, id: string): Promise<string> {
  await waitUntil(() => h.bot.store.getRequest(id)?.jiraKey != null && h.bot.store.approversOf(id).length > 0, 5000, 'routed with a Jira key');
  return h.bot.store.getRequest(id)!.jiraKey!;
}

describe('App Home', () => {
  let h: Harness;
  before(async () => {
    h = await new Harness().start();
    h.slack.addUser({ id: 'U0GUEST', email: 'gus@example.com', realName: 'Gus Guest', guest: 'multi-channel' });
  });
  after(async () => {
    await h.stop();
  });

  test('opening the Home publishes it; nobody who never opened it gets one', async () => {
    const res = await h.driver.appHomeOpened(carol.slackId);
    assert.equal(res.status, 200);
    assert.equal(res.body, '');
    const home = await homeShowing(h, carol, (b) => b.includes('home_request_access'), 'its Request access button');
    assert.equal(home.view.type, 'home');
    assert.match(blocksOf(home), /Nothing is waiting for your decision/);
    // The Messages tab is the DM: no Home for it.
    await h.driver.appHomeOpened(dave.slackId, { tab: 'messages' });
    const id = await h.request(dave, { role: 'super-admin', duration: '1h' });
    await routed(h, id);
    await h.idle();
    assert.equal(h.slack.homeFor(dave.slackId), undefined, 'dave never opened his Home: no views.publish for him');
    assert.equal(h.bot.store.homeOf(dave.slackId), undefined);
    // Carol is asked to approve dave's request: her Home shows it without her opening it again.
    await homeShowing(h, carol, (b) => b.includes(`home:decide:${id}`), "dave's request");
  });

  test("the requester's Home shows pending, active and ended requests, each with its Jira key", async () => {
    await h.driver.appHomeOpened(alice.slackId);
    const pendingId = await h.request(alice, { role: 'super-admin', duration: '1h' });
    const pendingKey = await routed(h, pendingId);
    const activeId = await h.request(alice, { role: 'read-only', duration: '4h' });
    const activeKey = await routed(h, activeId);
    await h.click(bob, activeId, 'approve');
    await waitUntil(() => h.bot.store.getRequest(activeId)?.state === 'active', 5000, 'granted');
    const endedId = await h.request(alice, { role: 'super-admin', duration: '30m' });
    const endedKey = await routed(h, endedId);
    await h.driver.command(alice.slackId, '/access', `cancel ${endedKey}`);
    const home = await homeShowing(h, alice, (b) => b.includes(`${endedKey}: Okta admin console / Super admin, 30 minutes: cancelled`) && b.includes(`home:grant-actions:${activeId}`), 'all three');
    const blocks = blocksOf(home);
    assert.match(blocks, new RegExp(`${pendingKey}: Okta admin console / Super admin, 1 hour: waiting for Bob Jones, Carol White since`));
    assert.match(blocks, new RegExp(`${activeKey}: Okta admin console / Read-only, 4 hours: active until [^"]+ \\(\\d+ hours? [^"]*left\\)`));
    const grantButtons = (home.view.blocks as { block_id?: string; elements?: { action_id?: string }[] }[]).find((b) => b.block_id === `home:grant-actions:${activeId}`);
    assert.ok(grantButtons?.elements?.some((e) => e.action_id === 'revoke_access'), 'Revoke now on the active grant');
    assert.ok(!blocks.includes(`home:grant-actions:${pendingId}`), 'no grant buttons on a pending request');
  });

  test("an approver's Approve on the Home decides like the DM", async () => {
    await h.driver.appHomeOpened(bob.slackId);
    const id = await h.request(alice, { role: 'read-only', duration: '4h' });
    const key = await routed(h, id);
    const home = await homeShowing(h, bob, (b) => b.includes(`home:decide:${id}`), 'the request with Approve / Deny');
    assert.match(blocksOf(home), new RegExp(`${key}: Alice Smith requests Okta admin console / Read-only, 4 hours, asked`));
    const res = await h.driver.clickInView(bob.slackId, home.id, 'approve', { blockId: `home:decide:${id}` });
    assert.equal(res.status, 200);
    // Recorded before the ack, as a DM click is.
    assert.notEqual(h.bot.store.getRequest(id)!.state, 'pending');
    await waitUntil(() => h.bot.store.getRequest(id)?.state === 'active', 5000, 'granted');
    await h.idle();
    assert.ok(h.jiraComments(id).some((c) => c.startsWith('Approved by Bob Jones')));
    assert.match(JSON.stringify((await h.approverMessage(bob, id)).blocks), /Approved by Bob Jones/, 'the DM card shows the decision too');
    const after = await homeShowing(h, bob, (b) => b.includes(`home:approved:${id}`) && !b.includes(`home:decide:${id}`), 'the grant he approved');
    assert.match(blocksOf(after), new RegExp(`${key}: Alice Smith has Okta admin console / Read-only, 4 hours, until`));
  });

  test("a guest's or stranger's click on the Home is refused as elsewhere", async () => {
    await h.driver.appHomeOpened(bob.slackId);
    const id = await h.request(alice, { role: 'super-admin', duration: '1h' });
    await routed(h, id);
    const home = await homeShowing(h, bob, (b) => b.includes(`home:decide:${id}`), 'the request');
    const before = JSON.stringify(h.bot.store.getRequest(id));
    await h.driver.clickInView('U0GUEST', home.id, 'approve', { blockId: `home:decide:${id}` });
    await h.driver.clickInView(dave.slackId, home.id, 'approve', { blockId: `home:decide:${id}` });
    await h.idle();
    assert.equal(JSON.stringify(h.bot.store.getRequest(id)), before, 'nothing changed');
    const refused = h.bot.store
      .auditOf(id)
      .filter((a) => a.step.type === 'decision_refused')
      .map((a) => a.actor);
    assert.deepEqual(refused, ['U0GUEST', dave.slackId]);
    // A Home click has no channel and no response_url: the refusal goes by DM.
    await h.slack.waitForDm('U0GUEST', (m) => /guest/i.test(m.text));
    await h.slack.waitForDm(dave.slackId, (m) => /approver/i.test(m.text));
  });

  test('Revoke now, Extend and Request access on the Home', async () => {
    await h.driver.appHomeOpened(alice.slackId);
    const id = await h.request(alice, { role: 'read-only', duration: '4h' });
    const key = await routed(h, id);
    await h.click(bob, id, 'approve');
    await waitUntil(() => h.bot.store.getRequest(id)?.state === 'active', 5000, 'granted');
    let home = await homeShowing(h, alice, (b) => b.includes(`home:grant-actions:${id}`), 'the grant');
    // Extend asks, as on the expiry warning, for the grant's own duration again (the role allows
    // at most its longest, 4 hours); someone else's click is refused and changes nothing.
    await h.driver.clickInView(dave.slackId, home.id, 'extend_access', { blockId: `home:grant-actions:${id}` });
    await h.slack.waitForDm(dave.slackId, (m) => m.text.includes(`Only the person who holds ${key} can ask to extend it`));
    assert.equal(h.bot.store.extensionsOf(id).length, 0);
    await h.driver.clickInView(alice.slackId, home.id, 'extend_access', { blockId: `home:grant-actions:${id}` });
    await h.slack.waitForDm(alice.slackId, (m) => m.text.includes(`You asked to extend ${key} by 4 hours`));
    assert.deepEqual(
      h.bot.store.extensionsOf(id).map((x) => [x.state, x.durationMs]),
      [['pending', 4 * 3_600_000]],
    );
    const before = new Set(h.slack.views.keys());
    await h.driver.clickInView(alice.slackId, home.id, 'home_request_access');
    await h.slack.waitForView((v) => v.userId === alice.slackId && !before.has(v.id) && v.view.callback_id === 'access_request');
    await h.driver.clickInView(alice.slackId, home.id, 'revoke_access', { blockId: `home:grant-actions:${id}` });
    await waitUntil(() => h.bot.store.getRequest(id)?.state === 'revoked', 5000, 'revoked');
    await h.idle();
    assert.ok(h.jiraComments(id).some((c) => c.startsWith('Access revoked (by Alice Smith')));
    home = await homeShowing(h, alice, (b) => !b.includes(`home:grant-actions:${id}`) && b.includes(`home:ended:${id}`), 'the grant ended');
    assert.match(blocksOf(home), new RegExp(`${key}: Okta admin console / Read-only, 4 hours: ended [^"]+ \\(revoked by Alice Smith`));
  });

  test('url_verification and a bad signature on event_callback still 401', async () => {
    const challenge = JSON.stringify({ token: 'x', challenge: 'c-123', type: 'url_verification' });
    const ok = await h.driver.raw(challenge, { 'Content-Type': 'application/json', ...h.driver.sign(challenge) });
    assert.deepEqual([ok.status, ok.body], [200, { challenge: 'c-123' }]);
    const unsignedChallenge = await h.driver.raw(challenge, { 'Content-Type': 'application/json' });
    assert.equal(unsignedChallenge.status, 401);
    const event = JSON.stringify({ type: 'event_callback', event_id: 'EvFORGED1', event: { type: 'app_home_opened', user: dave.slackId, tab: 'home' } });
    const forged = await h.driver.raw(event, { 'Content-Type': 'application/json', ...h.driver.sign(event, Math.floor(Date.now() / 1000)), 'X-Slack-Signature': `v0=${'0'.repeat(64)}` });
    assert.equal(forged.status, 401);
    const stale = await h.driver.raw(event, { 'Content-Type': 'application/json', ...h.driver.sign(event, Math.floor(Date.now() / 1000) - 600) });
    assert.equal(stale.status, 401);
    await h.idle();
    assert.equal(h.bot.store.homeOf(dave.slackId), undefined, 'nothing recorded');
    assert.equal(publishesFor(h, dave).length, 0, 'nothing published');
  });

  test('a retried app_home_opened delivery is dropped', async () => {
    const user = 'U0RETRY';
    h.slack.addUser({ id: user, email: 'retry@example.com', realName: 'Rita Retry' });
    const count = () => h.bot.db.prepare("SELECT COUNT(*) FROM outbox WHERE queue = ? AND kind = 'slack.homePublish'").pluck().get(`slack:home:${user}`) as number;
    assert.equal((await h.driver.appHomeOpened(user, { eventId: 'EvRETRY0001' })).status, 200);
    await h.idle();
    assert.equal(count(), 1);
    const retry = await h.driver.appHomeOpened(user, { eventId: 'EvRETRY0001', retryNum: 1 });
    assert.equal(retry.status, 200);
    await h.idle();
    assert.equal(count(), 1, 'the retry enqueued nothing');
  });
});

describe('App Home under a burst', () => {
  let h: Harness;
  before(async () => {
    h = await new Harness().start();
  });
  after(async () => {
    await h.stop();
  });

  test('a burst of 200 state changes publishes each Home at most once a second', async () => {
    // Slack's views.publish limit (Tier 4: 100+ a minute): a flood would get 429s.
    h.slack.limitRate('views.publish', { tier: 4 });
    for (const p of [alice, bob, carol]) await h.driver.appHomeOpened(p.slackId);
    await h.idle();
    let changes = 0;
    h.bot.store.watchRequests(() => void (changes += 1));
    // 50 modals opened, then submitted at once: each request is inserted, routed (requester
    // identified, two approvers asked, its stage started), and gets its Jira key.
    const views: string[] = [];
    for (let i = 0; i < 50; i++) {
      const known = new Set(h.slack.views.keys());
      await h.driver.command(alice.slackId);
      views.push((await h.slack.waitForView((v) => v.userId === alice.slackId && !known.has(v.id) && v.view.callback_id === 'access_request')).id);
    }
    const started = Date.now();
    const answers = await Promise.all(
      views.map((v) =>
        h.driver.submitView(alice.slackId, v, {
          application: { application: 'okta-console' },
          role: { role: 'super-admin' },
          duration: { duration: '1h' },
          reason: { reason: 'Burst of requests for the Home test' },
        }),
      ),
    );
    assert.ok(answers.every((a) => a.status === 200));
    await waitUntil(() => h.bot.store.requestsOf(h.bot.store.personBySlackId(alice.slackId)!.id, 100).filter((r) => r.jiraKey && h.bot.store.approversOf(r.id).length === 2).length === 50, 30_000, 'all routed');
    await h.idle(30_000);
    // idle() waits for what is due; a Home's next publish may still be held for its one-second
    // gap (a row due in the future). Wait for the outbox to hold nothing at all.
    await waitUntil(() => {
      const c = h.bot.outbox.counts();
      return c.pending === 0 && c.running === 0;
    }, 30_000, 'every Home publish sent');
    assert.ok(changes >= 200, `${changes} state changes`);
    const span = Date.now() - started;
    for (const p of [alice, bob, carol]) {
      const at = publishesFor(h, p)
        .map((c) => c.at)
        .filter((t) => t >= started);
      assert.ok(at.length >= 1, `${p.name}'s Home was re-published`);
      for (let i = 1; i < at.length; i++) assert.ok(at[i]! - at[i - 1]! >= 1000, `${p.name}: publishes ${at[i]! - at[i - 1]!} ms apart`);
      assert.ok(at.length <= Math.ceil(span / 1000) + 1, `${p.name}: ${at.length} publishes in ${span} ms`);
    }
    assert.equal(h.slack.callsTo('POST', '/api/views.publish').filter((c) => c.status === 429).length, 0, 'never rate-limited');
    assert.deepEqual(h.bot.outbox.dead(), [], 'every publish was accepted (within the Home limits)');
    // The final Home shows everything, within 100 blocks: the long lists end in "and N more".
    const home = await homeShowing(h, alice, (b) => b.includes('and 38 more'), 'the truncated pending list');
    assert.ok((home.view.blocks as unknown[]).length <= 100);
    await homeShowing(h, bob, (b) => b.includes('and 38 more'), 'the truncated list waiting for him');
  });
});
