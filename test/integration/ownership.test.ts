import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GROUPS, Harness, PEOPLE, waitUntil } from '../support/harness.js';

const { alice, bob, carol } = PEOPLE;

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
