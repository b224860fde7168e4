import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { expireDue } from '../../src/app/expire.js';
import { runEffects } from '../../src/effects-cli.js';
import type { Fault } from '../emulators/base.js';
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
    await h.slack.waitForResponseUrlPost((p) => /Only the requester, an approver of this request or an owner/.test(String(p.body.text)));
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

describe('a grant that fails for good after an add that may have landed', () => {
  let h: Harness;
  before(async () => {
    h = await new Harness().start();
  });
  after(async () => {
    await h.stop();
  });
  afterEach(() => {
    h.okta.clearFaults();
  });

  const addPath = (p: Person) => `/api/v1/groups/${GROUPS.readOnly}/users/${p.oktaId}`;
  /** Okta's answer when the token's admin may not manage the group (E0000006, https://developer.okta.com/docs/reference/error-codes/). */
  const forbidden: Fault = {
    method: 'PUT',
    status: 403,
    body: { errorCode: 'E0000006', errorSummary: 'You do not have permission to perform the requested action', errorLink: 'E0000006', errorId: 'oae403', errorCauses: [] },
  };
  const gatewayTimeout: Fault = { status: 504, headers: { 'content-type': 'text/html' }, body: '<html><body><h1>504 Gateway Time-out</h1></body></html>' };

  /** The first add gets `first`, every later one 403; returns the request once it failed. */
  async function failAfter(p: Person, first: Fault): Promise<string> {
    const putsBefore = h.okta.callsTo('PUT', addPath(p)).length;
    h.okta.inject({ ...first, method: 'PUT', path: addPath(p), times: 1 });
    h.okta.inject({ ...forbidden, path: addPath(p) });
    const id = await h.request(p, { duration: '4h' });
    await h.click(bob, id, 'approve');
    await waitUntil(() => h.bot.store.getRequest(id)!.state === 'failed', 10_000, 'failed');
    await h.idle();
    const puts = h.okta.callsTo('PUT', addPath(p)).slice(putsBefore).map((c) => c.status);
    assert.ok(puts.length >= 2 && puts.slice(1).every((s) => s === 403), `the add was answered ${puts.join(', ')}`);
    return id;
  }

  for (const [what, fault] of [
    ['a 504 from a gateway', { ...gatewayTimeout, afterHandling: true }],
    ['a reset connection', { drop: true, afterHandling: true }],
  ] as const) {
    test(`an add that landed but was answered with ${what}, then refused for good: no membership and no ownership record are left, and Jira says it was removed`, async () => {
      const removesBefore = h.okta.removeCalls;
      const id = await failAfter(alice, fault);
      assert.equal(h.okta.isMember(GROUPS.readOnly, alice.oktaId), false, 'the membership the first add left was removed');
      assert.equal(h.okta.removeCalls - removesBefore, 1, 'one removal');
      assert.equal(h.bot.store.getMembership('okta', GROUPS.readOnly, alice.oktaId), undefined, 'no ownership record');
      const cause = /^granting access failed: Okta rejected the API token while adding user 00u1alice to Okta group 00g1readonly \(403 E0000006: .*\); the membership access-bot may have added was removed$/;
      assert.match(h.bot.store.getRequest(id)!.failure!, cause);
      assert.match(h.jiraComments(id).at(-1)!, /^Failed: granting access failed: .*; the membership access-bot may have added was removed \(on .* UTC\)\.$/);
      await waitUntil(() => h.slack.dmsTo(alice.slackId).some((m) => /may have added was removed/.test(m.text)), 3000, 'the requester is told');
      await waitUntil(() => h.slack.messages.some((m) => m.channel === 'C0ADMIN' && m.text.includes(h.bot.store.getRequest(id)!.jiraKey!) && /may have added was removed/.test(m.text)), 3000, 'the admins are told');
    });
  }

  test('an add that never landed, then refused for good: Jira says the membership was not in place', async () => {
    const removesBefore = h.okta.removeCalls;
    const id = await failAfter(carol, gatewayTimeout);
    assert.equal(h.okta.isMember(GROUPS.readOnly, carol.oktaId), false);
    assert.equal(h.okta.removeCalls, removesBefore, 'nothing to remove');
    assert.equal(h.bot.store.getMembership('okta', GROUPS.readOnly, carol.oktaId), undefined, 'no ownership record');
    assert.match(h.jiraComments(id).at(-1)!, /^Failed: granting access failed: .*; the membership access-bot may have added was not in place \(on .* UTC\)\.$/);
  });

  test('a grant that fails for good never takes away a membership another grant holds', async () => {
    const held = await h.request(dave, { duration: '4h', reason: 'Long running investigation' });
    await approveAndWaitActive(h, held);
    await h.idle();
    const removesBefore = h.okta.removeCalls;
    const id = await failAfter(dave, { ...gatewayTimeout, afterHandling: true });
    assert.equal(h.okta.isMember(GROUPS.readOnly, dave.oktaId), true, 'the active grant keeps its membership');
    assert.equal(h.okta.removeCalls, removesBefore, 'nothing removed');
    assert.deepEqual(h.bot.store.getMembership('okta', GROUPS.readOnly, dave.oktaId), { owned: true }, 'the ownership record stays with the active grant');
    assert.match(h.jiraComments(id).at(-1)!, /^Failed: granting access failed: .*; the membership is kept: another grant still needs it \(on .* UTC\)\.$/);
    assert.equal(h.bot.store.getRequest(held)!.state, 'active');
  });

  test("an admin's retry of the failed grant waits until its clean-up has settled, then grants", async () => {
    // The clean-up's removal meets an outage, so it is still retrying when the admin steps in.
    const heal = h.okta.inject({ method: 'DELETE', path: addPath(bob), status: 503, body: { errorCode: 'E0000009', errorSummary: 'Internal Server Error' } });
    h.okta.inject({ ...gatewayTimeout, afterHandling: true, method: 'PUT', path: addPath(bob), times: 1 });
    const refuse = h.okta.inject({ ...forbidden, path: addPath(bob) });
    const id = await h.request(bob, { duration: '4h' });
    await h.click(alice, id, 'approve');
    await waitUntil(() => h.okta.callsTo('DELETE', addPath(bob)).length >= 2, 10_000, 'the clean-up retrying its removal');
    const dead = h.bot.outbox.dead().find((e) => e.requestId === id && e.kind === 'idp.grant');
    assert.ok(dead, 'the grant died');
    const retry = (): { code: number; out: string[] } => {
      const out: string[] = [];
      const code = runEffects(['retry', String(dead.id)], { DATABASE_PATH: h.config.databasePath, USER: 'ops' }, (l) => out.push(l), (l) => out.push(l));
      return { code, out };
    };
    const early = retry();
    assert.equal(early.code, 1);
    assert.match(early.out.join('\n'), /still being cleaned up after its failed grant; retry once it has failed/);
    assert.equal(h.bot.store.getRequest(id)!.state, 'approved');

    heal();
    await waitUntil(() => h.bot.store.getRequest(id)!.state === 'failed', 10_000, 'failed once the clean-up removed the membership');
    await h.idle();
    assert.equal(h.okta.isMember(GROUPS.readOnly, bob.oktaId), false);
    assert.match(h.jiraComments(id).at(-1)!, /; the membership access-bot may have added was removed \(on .* UTC\)\.$/);
    refuse();
    assert.equal(retry().code, 0);
    await waitUntil(() => h.bot.store.getRequest(id)!.state === 'active', 10_000, 'granted after the retry');
    await h.idle();
    assert.equal(h.okta.isMember(GROUPS.readOnly, bob.oktaId), true);
    assert.deepEqual(h.bot.store.getMembership('okta', GROUPS.readOnly, bob.oktaId), { owned: true });
  });
});
