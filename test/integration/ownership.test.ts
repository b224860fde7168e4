import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GROUPS, Harness, PEOPLE, waitUntil } from '../support/harness.js';

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
