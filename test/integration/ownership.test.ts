import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { expireDue } from '../../src/app/expire.js';
import { DEFAULT_CATALOG, GROUPS, Harness, PEOPLE, waitUntil, type Person } from '../support/harness.js';

const { alice, bob, carol, dave } = PEOPLE;

async function approveAndWaitActive(h: Harness, id: string) {
  await h.click(bob, id, 'approve');
  await waitUntil(() => h.bot.store.getRequest(id)!.state === 'active', 5000, `${id} active`);
}

describe('membership ownership', () => {
  let h: Harness;
  before(async () => {
    h = await new Harness().start();
  });
  after(async () => {
    await h.stop();
  });

  test('a user who was already in the group keeps it when the temporary grant ends', async () => {
    h.okta.addMember(GROUPS.readOnly, carol.oktaId);
    const id = await h.request(carol, { duration: '2s' });
    await approveAndWaitActive(h, id);
    await waitUntil(() => h.bot.store.getRequest(id)!.state === 'revoked', 5000, 'revoked');
    await h.idle();
    assert.equal(h.okta.isMember(GROUPS.readOnly, carol.oktaId), true, 'pre-existing membership kept');
    const comments = h.jiraComments(id);
    assert.match(comments.find((c) => c.startsWith('Access granted'))!, /already a member before this grant/);
    assert.match(comments.at(-1)!, /^Access revoked \(expired\) on .*: membership of okta group 00g1readonly kept: 00u1carol was a member before this grant\.$/);
    assert.equal(h.okta.removeCalls, 0);
  });

  test('overlapping grants for the same group never cut each other short', async () => {
    const removesBefore = h.okta.removeCalls;
    const long = await h.request(alice, { duration: '4h', reason: 'Long running investigation' });
    const short = await h.request(alice, { duration: '2s', reason: 'Quick check of a setting' });
    await approveAndWaitActive(h, long);
    await approveAndWaitActive(h, short);
    await waitUntil(() => h.bot.store.getRequest(short)!.state === 'revoked', 5000, 'short grant revoked');
    await h.idle();
    assert.equal(h.okta.isMember(GROUPS.readOnly, alice.oktaId), true, 'the 4h grant still holds the membership');
    assert.equal(h.bot.store.getRequest(long)!.state, 'active');
    assert.match(h.jiraComments(short).at(-1)!, /kept: another active grant still needs it\.$/);
    assert.equal(h.okta.removeCalls, removesBefore, 'nothing was removed');
  });

  test('a double click by the approver makes one decision and one grant', async () => {
    const addsBefore = h.okta.addCalls;
    const id = await h.request(alice, { role: 'super-admin', duration: '30m' });
    const msg = await h.approverMessage(bob, id);
    await Promise.all([h.driver.clickButton(bob.slackId, msg, 'approve'), h.driver.clickButton(bob.slackId, msg, 'approve'), h.driver.clickButton(bob.slackId, msg, 'approve')]);
    await waitUntil(() => h.bot.store.getRequest(id)!.state === 'active', 5000, 'active');
    await h.idle();
    assert.equal(h.okta.addCalls - addsBefore, 1, 'one membership add');
    assert.equal(h.jiraComments(id).filter((c) => c.startsWith('Approved by')).length, 1, 'one approval comment');
    assert.equal(h.jiraComments(id).filter((c) => c.startsWith('Access granted')).length, 1, 'one grant comment');
    await h.slack.waitForResponseUrlPost((p) => /already approved/.test(String(p.body.text)));
    // Carol, the other routed approver, sees the decision on her message too.
    const carolsCard = await h.approverMessage(carol, id);
    assert.match(JSON.stringify(carolsCard.blocks), /Approved by Bob Jones/);
    assert.doesNotMatch(JSON.stringify(carolsCard.blocks), /"action_id":"approve"/);
  });
});

describe('revoking before expiry', () => {
  let h: Harness;
  before(async () => {
    h = await new Harness().start();
  });
  after(async () => {
    await h.stop();
  });

  test('the requester gives access back with one click; Jira says by whom', async () => {
    const id = await h.request(alice, { duration: '4h' });
    await approveAndWaitActive(h, id);
    const granted = await h.slack.waitForDm(alice.slackId, (m) => m.text.startsWith('Access granted'));
    const stale = structuredClone(granted);
    await h.driver.clickButton(alice.slackId, granted, 'revoke_access');
    await waitUntil(() => h.bot.store.getRequest(id)!.state === 'revoked', 5000, 'revoked');
    await h.idle();
    assert.equal(h.okta.isMember(GROUPS.readOnly, alice.oktaId), false);
    assert.match(h.jiraComments(id).at(-1)!, /^Access revoked \(by Alice Smith \(alice@example\.com\)\) on .*: removed 00u1alice from okta group 00g1readonly\.$/);
    // The message loses its button; a click on the old version is explained and changes nothing.
    await waitUntil(() => !JSON.stringify(h.slack.findMessage(granted.channel, granted.ts)!.blocks).includes('revoke_access'), 3000, 'button removed');
    assert.match(h.slack.findMessage(granted.channel, granted.ts)!.text, /Ended /);
    await h.driver.clickButton(alice.slackId, stale, 'revoke_access');
    await h.slack.waitForResponseUrlPost((p) => /already being revoked or was revoked/.test(String(p.body.text)));
  });

  test('an approver revokes from their card; an outsider cannot', async () => {
    const id = await h.request(alice, { duration: '4h' });
    await approveAndWaitActive(h, id);
    await h.idle();
    const card = await h.approverMessage(bob, id);
    assert.match(JSON.stringify(card.blocks), /Access granted until/);
    await h.driver.clickButton(dave.slackId, card, 'revoke_access');
    await h.slack.waitForResponseUrlPost((p) => /Only the requester or an approver/.test(String(p.body.text)));
    assert.equal(h.bot.store.getRequest(id)!.state, 'active');
    await h.driver.clickButton(bob.slackId, card, 'revoke_access');
    await waitUntil(() => h.bot.store.getRequest(id)!.state === 'revoked', 5000, 'revoked');
    await h.idle();
    assert.match(h.jiraComments(id).at(-1)!, /^Access revoked \(by Bob Jones \(bob@example\.com\)\)/);
    assert.match(h.slack.dmsTo(alice.slackId).at(-1)!.text, /was revoked by Bob Jones/);
    const after = await h.approverMessage(bob, id);
    assert.doesNotMatch(JSON.stringify(after.blocks), /"action_id":"revoke_access"/);
  });
});

describe('restart', () => {
  test('grants that expired while the bot was down are revoked right after start-up', async () => {
    const h = await new Harness().start();
    try {
      const id = await h.request(alice, { duration: '2s' });
      await approveAndWaitActive(h, id);
      await h.idle();
      await h.bot.stop(1000);
      // Down past the expiry.
      await new Promise((r) => setTimeout(r, 2500));
      assert.equal(h.okta.isMember(GROUPS.readOnly, alice.oktaId), true);
      const startedAt = Date.now();
      await h.restart();
      await waitUntil(() => !h.okta.isMember(GROUPS.readOnly, alice.oktaId), 5000, 'membership removed after restart');
      assert.ok(Date.now() - startedAt < 5000);
      await waitUntil(() => h.bot.store.getRequest(id)!.state === 'revoked', 3000, 'revoked');
      await h.idle();
      assert.equal(h.jiraComments(id).filter((c) => c.startsWith('Access revoked (expired)')).length, 1);
    } finally {
      await h.stop();
    }
  });
});

describe('ownership is keyed by IdP user, whatever email a request came with', () => {
  let h: Harness;
  let offset = 0;
  before(async () => {
    // Read-only grants of 1h and 4h, so one expires while the other still runs (on an injected clock).
    const catalog = DEFAULT_CATALOG.replace('durations: [2s, 3s, 4h, permanent]', 'durations: [1h, 4h]');
    h = await new Harness({ catalog, compose: { now: () => Date.now() + offset } }).start();
  });
  after(async () => {
    await h.stop();
  });
  /** Moves the bot's clock on and runs the expiry sweep, as its timer would. */
  const expireAfter = async (ms: number) => {
    offset += ms;
    expireDue(h.bot.ctx);
    await h.idle();
  };
  const state = (id: string) => h.bot.store.getRequest(id)!.state;

  test('one IdP user under two emails: an expiry never cuts the other grant short', async () => {
    const removesBefore = h.okta.removeCalls;
    const first = await h.request(alice, { duration: '1h', reason: 'On call this afternoon' });
    await approveAndWaitActive(h, first);
    // Alice is renamed: Slack and Okta now know her by a new email; her Okta user id is the same.
    const renamed: Person = { ...alice, email: 'alice.smith@example.com' };
    h.slack.addUser({ id: alice.slackId, email: renamed.email, realName: alice.name });
    h.okta.updateProfile(alice.oktaId, { login: renamed.email, email: renamed.email });
    const second = await h.request(renamed, { duration: '4h', reason: 'Investigation that runs into tomorrow' });
    await approveAndWaitActive(h, second);
    await h.idle();
    assert.deepEqual(
      [first, second].map((id) => [h.bot.store.getRequest(id)!.requesterEmail, h.bot.store.getRequest(id)!.idpUserId]),
      [
        [alice.email, alice.oktaId],
        [renamed.email, alice.oktaId],
      ],
      'two requests, two emails, one IdP user',
    );

    await expireAfter(60 * 60_000 + 1000);
    await waitUntil(() => state(first) === 'revoked', 5000, 'the first grant revoked');
    await h.idle();
    assert.equal(h.okta.isMember(GROUPS.readOnly, alice.oktaId), true, 'the second grant still holds the membership');
    assert.equal(state(second), 'active');
    assert.match(h.jiraComments(first).at(-1)!, /^Access revoked \(expired\) on .*: membership of okta group 00g1readonly kept: another active grant still needs it\.$/);
    assert.equal(h.okta.removeCalls, removesBefore, 'nothing removed yet');

    await expireAfter(3 * 60 * 60_000);
    await waitUntil(() => state(second) === 'revoked', 5000, 'the second grant revoked');
    await h.idle();
    assert.equal(h.okta.isMember(GROUPS.readOnly, alice.oktaId), false, 'the last grant removed the membership access-bot added');
    assert.match(h.jiraComments(second).at(-1)!, /^Access revoked \(expired\) on .*: removed 00u1alice from okta group 00g1readonly\.$/);
    for (const id of [first, second]) {
      assert.ok(!h.jiraComments(id).some((c) => /member before this grant/.test(c)), `no false "was a member before" on ${id}`);
    }
    assert.equal(h.bot.store.getMembership('okta', GROUPS.readOnly, alice.oktaId), undefined, 'no ownership record left');
  });

  test('membership effects an older version queued by email still complete after the upgrade, in the IdP user\'s queue', async () => {
    const id = await h.request(dave, { duration: '4h' });
    await h.approverMessage(bob, id);
    await h.idle();
    const legacyQueue = `idp:okta:${GROUPS.readOnly}:${dave.email}`;
    const legacy = { requestId: id, connector: 'okta', group: GROUPS.readOnly, email: dave.email };
    // What the older version wrote on approval: the request approved, its grant keyed by email.
    h.bot.store.tx(() => {
      h.bot.store.updateRequest(id, { state: 'approved', decidedAt: h.bot.ctx.now(), decidedBy: 'Bob Jones', nextTimerAt: null }, h.bot.ctx.now());
      h.bot.outbox.enqueue({ kind: 'idp.grant', queue: legacyQueue, requestId: id, payload: legacy });
    });
    await waitUntil(() => state(id) === 'active', 5000, 'granted from the old-shaped grant');
    await h.idle();
    assert.equal(h.okta.isMember(GROUPS.readOnly, dave.oktaId), true);
    assert.deepEqual(h.bot.store.getMembership('okta', GROUPS.readOnly, dave.oktaId), { owned: true });
    assert.ok(h.jiraComments(id).some((c) => /^Access granted: okta group 00g1readonly for 00u1dave, expires /.test(c)), 'Jira says it was granted');
    const grants = h.bot.db.prepare("SELECT queue, status FROM outbox WHERE request_id = ? AND kind = 'idp.grant' ORDER BY id").all(id);
    assert.deepEqual(grants, [
      { queue: legacyQueue, status: 'done' },
      { queue: `idp:okta:${GROUPS.readOnly}:${dave.oktaId}`, status: 'done' },
    ]);

    // What the older version wrote at expiry: the request revoking, its revocation keyed by email.
    h.bot.store.tx(() => {
      h.bot.store.updateRequest(id, { state: 'revoking', revokeRequestedAt: h.bot.ctx.now(), revokeCause: 'expired' }, h.bot.ctx.now());
      h.bot.outbox.enqueue({ kind: 'idp.revoke', queue: legacyQueue, requestId: id, payload: legacy });
    });
    await waitUntil(() => state(id) === 'revoked', 5000, 'revoked from the old-shaped revocation');
    await h.idle();
    assert.equal(h.okta.isMember(GROUPS.readOnly, dave.oktaId), false);
    assert.equal(h.bot.store.getMembership('okta', GROUPS.readOnly, dave.oktaId), undefined);
    assert.ok(h.jiraComments(id).some((c) => /^Access revoked \(expired\) on .*: removed 00u1dave from okta group 00g1readonly\.$/.test(c)), 'Jira says it was revoked');
    assert.deepEqual(h.bot.outbox.dead(), []);
  });
});
