import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GROUPS, Harness, PEOPLE, waitUntil, type Person } from '../support/harness.js';

const { alice, bob, carol, dave } = PEOPLE;
const erin: Person = { slackId: 'U0ERIN', email: 'erin@example.com', name: 'Erin Green', oktaId: '00u1erin' };

const CATALOG = `
jira:
  project: ACC
  transitions: { approved: Approve, denied: Reject, active: Provisioned, revoked: Done, timed_out: Time out }
applications:
  - id: prod-db
    name: Production database
    owners: [bob@example.com, carol@example.com, erin@example.com]
    roles:
      - id: admin
        name: Admin
        grant: { connector: okta, group: ${GROUPS.superAdmin} }
        durations: [1h]
        approval:
          stages:
            - approvers: [manager]
            - approvers: [owners]
              required: 2
      - id: reader
        name: Reader
        grant: { connector: okta, group: ${GROUPS.readOnly} }
        durations: [1h]
        approval:
          approvers: [dave@example.com]
          remindAfter: 1h
          escalateAfter: 2h
          escalateTo: [carol@example.com]
          timeout: 1d
      - id: viewer
        name: Viewer
        grant: { connector: okta, group: ${GROUPS.readOnly} }
        durations: [1h]
        approval: auto
      - id: secops
        name: Security review
        grant: { connector: okta, group: ${GROUPS.readOnly} }
        durations: [1h]
        approvers: ["slack-group:secops"]
      - id: ghost
        name: Ghost approver
        grant: { connector: okta, group: ${GROUPS.readOnly} }
        durations: [1h]
        approvers: [ghost@example.com]
      - id: fallback
        name: With fallback
        grant: { connector: okta, group: ${GROUPS.readOnly} }
        durations: [1h]
        approval:
          approvers: [ghost@example.com]
          fallback: [carol@example.com]
      - id: emergency
        name: Emergency admin
        grant: { connector: okta, group: ${GROUPS.superAdmin} }
        durations: [1h]
        breakGlass: { notify: "#security-alerts", minReasonLength: 40 }
`;

describe('approval routing', () => {
  let h: Harness;
  let offset = 0;
  const advance = (ms: number) => {
    offset += ms;
  };
  before(async () => {
    h = await new Harness({ catalog: CATALOG, compose: { now: () => Date.now() + offset } }).start();
    h.slack.addUser({ id: erin.slackId, email: erin.email, realName: erin.name });
    h.okta.addUser({ id: erin.oktaId, login: erin.email, email: erin.email, firstName: 'Erin', lastName: 'Green' });
    h.okta.updateProfile(alice.oktaId, { managerId: bob.oktaId });
    h.slack.addChannel({ id: 'C0SEC', name: 'security-alerts', botIsMember: true });
    h.slack.addUserGroup({ id: 'S0SECOPS', handle: 'secops', users: [carol.slackId] });
  });
  after(async () => {
    await h.stop();
  });

  const ask = (role: string, reason = 'Routine maintenance of the service') => h.request(alice, { app: 'prod-db', role, duration: '1h', reason });
  const state = (id: string) => h.bot.store.getRequest(id)!.state;

  test('two stages: the manager, then two of the owners; one person never satisfies two stages', async () => {
    const id = await ask('admin');
    await h.approverMessage(bob, id); // Bob is Alice's manager in Okta
    await h.click(bob, id, 'approve');
    // Stage 2 asks the owners except Bob, who approved stage 1.
    await h.approverMessage(carol, id);
    await h.approverMessage(erin, id);
    await h.idle();
    assert.equal(h.slack.dmsTo(bob.slackId).filter((m) => JSON.stringify(m.blocks).includes(`request:${id}`)).length, 1, 'Bob is not asked again');
    await h.click(carol, id, 'approve');
    await h.idle();
    assert.equal(state(id), 'pending', 'one of two approvals is not enough');
    await h.click(erin, id, 'approve');
    await waitUntil(() => state(id) === 'active', 5000, 'granted after quorum');
    await h.idle();
    const comments = h.jiraComments(id);
    assert.deepEqual(
      comments.map((c) => c.replace(/( on |, expires )\d{4}-[\s\S]*$/, '')),
      [
        'Requested by Alice Smith (alice@example.com)',
        'Approval requested from Bob Jones (bob@example.com) for stage 1 of 2',
        'Approved by Bob Jones (bob@example.com)',
        'Stage 1 of 2 passed',
        'Approval requested from Carol White (carol@example.com), Erin Green (erin@example.com) for stage 2 of 2 (2 approvals needed)',
        'Approved by Carol White (carol@example.com)',
        'Approved by Erin Green (erin@example.com)',
        `Access granted: okta group ${GROUPS.superAdmin} for ${alice.oktaId}`,
      ],
    );
  });

  test('the requester is told when a stage passes, naming whom the next stage asks', async () => {
    const id = await ask('admin');
    await h.approverMessage(bob, id);
    await h.idle();
    const key = h.bot.store.getRequest(id)!.jiraKey!;
    const stageNews = () => h.slack.dmsTo(alice.slackId).filter((m) => m.text.includes(`(${key}); now waiting for`));
    assert.equal(stageNews().length, 0, 'nothing passed yet');
    await h.click(bob, id, 'approve');
    await h.approverMessage(carol, id);
    await h.idle();
    assert.deepEqual(
      stageNews().map((m) => m.text),
      [`Your manager approved your request for Production database / Admin (${key}); now waiting for the owners: Carol White, Erin Green.`],
    );
    await h.click(carol, id, 'approve');
    await h.click(erin, id, 'approve');
    await waitUntil(() => state(id) === 'active', 5000, 'granted after quorum');
    await h.idle();
    assert.equal(stageNews().length, 1, 'the last stage passing is the approval itself, told as such');
  });

  test('reminder after remindAfter, escalation after escalateAfter (injected clock)', async () => {
    const id = await ask('reader');
    await h.approverMessage(dave, id);
    await h.idle();
    advance(60 * 60_000 + 1000);
    h.bot.timers.tick();
    await h.idle();
    const reminder = await h.slack.waitForMessage((m) => m.channel === h.slack.imChannelFor(dave.slackId) && /^Reminder:/.test(m.text));
    assert.ok(reminder.threadTs, 'the reminder is a reply in the request thread');
    assert.match(h.jiraComments(id).at(-1)!, /^Reminder sent to Dave Brown \(dave@example\.com\) on /);
    h.bot.timers.tick();
    await h.idle();
    assert.equal(h.jiraComments(id).filter((c) => c.startsWith('Reminder')).length, 1, 'reminded once');

    advance(60 * 60_000);
    h.bot.timers.tick();
    await h.approverMessage(carol, id);
    await h.idle();
    assert.match(h.jiraComments(id).at(-1)!, /^Escalated to Carol White \(carol@example\.com\) on .*: no decision within 2 hours at stage 1\.$/);
    await h.click(carol, id, 'approve');
    await waitUntil(() => state(id) === 'active', 5000, 'approved by the escalation approver');
  });

  test('timeout: the request ends timed_out, approvers lose their buttons, a late click is explained', async () => {
    const id = await ask('reader');
    // A copy of the message as Dave saw it, buttons included, for the late click.
    const msg = structuredClone(await h.approverMessage(dave, id));
    await h.idle();
    advance(24 * 60 * 60_000 + 1000);
    h.bot.timers.tick();
    await waitUntil(() => state(id) === 'timed_out', 5000, 'timed out');
    await h.idle();
    assert.match(h.jiraComments(id).at(-1)!, /^Timed out: no decision within 1 day/);
    assert.deepEqual(h.jira.issue(h.bot.store.getRequest(id)!.jiraKey!)!.history, ['Time out']);
    assert.match(h.slack.dmsTo(alice.slackId).at(-1)!.text, /timed out/);
    const updated = await h.approverMessage(dave, id);
    assert.doesNotMatch(JSON.stringify(updated.blocks), /"action_id":"approve"/);
    await h.driver.clickButton(dave.slackId, msg, 'approve');
    await h.slack.waitForResponseUrlPost((p) => /already timed out/.test(String(p.body.text)));
    assert.equal(state(id), 'timed_out');
  });

  test('a request that times out before it could be routed still gets its Jira issue, with the timeout on it', async () => {
    // Slack's users.info keeps failing: routing cannot identify the requester, so the record is
    // not opened, until the timeout ends the request (found by the chaos run, seed 364191171).
    const restore = h.slack.failMethod('users.info', 'internal_error', { times: 1_000, status: 500 });
    let id: string;
    let dmsBefore = 0;
    try {
      id = await ask('reader');
      dmsBefore = h.slack.dmsTo(alice.slackId).length;
      await waitUntil(() => (h.bot.sql.value<number>("SELECT attempts FROM outbox WHERE request_id = ? AND kind = 'request.route'", id) ?? 0) > 0, 5000, 'routing tried');
      assert.equal(h.bot.store.getRequest(id)!.requesterEmail, null, 'not routed');
      advance(24 * 60 * 60_000 + 1000);
      h.bot.timers.tick();
      await waitUntil(() => state(id) === 'timed_out', 5000, 'timed out');
    } finally {
      restore();
    }
    await h.idle();
    const key = h.bot.store.getRequest(id)!.jiraKey;
    assert.ok(key, 'the Jira issue exists');
    assert.match(h.jiraComments(id).at(-1)!, /^Timed out: no decision within 1 day/);
    // The requester is told it was recorded (what routing would have said), then that it timed out.
    const told = h.slack.dmsTo(alice.slackId).slice(dmsBefore).map((m) => m.text);
    assert.ok(told.some((t) => /was submitted/.test(t)), told.join('\n'));
    assert.ok(told.some((t) => /timed out/.test(t)), told.join('\n'));
  });

  test('auto-approve: granted at once, recorded as approved by policy, nobody asked', async () => {
    const dmsBefore = h.slack.messages.length;
    const id = await ask('viewer');
    await waitUntil(() => state(id) === 'active', 5000, 'active');
    await h.idle();
    const comments = h.jiraComments(id);
    assert.match(comments[1]!, /^Approved by policy \(auto-approve\) on /);
    const asked = h.slack.messages.slice(dmsBefore).filter((m) => JSON.stringify(m.blocks ?? []).includes('"action_id":"approve"'));
    assert.equal(asked.length, 0);
  });

  test('a Slack user group as approvers', async () => {
    const id = await ask('secops');
    await h.approverMessage(carol, id);
    await h.click(carol, id, 'approve');
    await waitUntil(() => state(id) === 'active', 5000, 'active');
  });

  test('nobody resolvable and no fallback: the request fails at once and says why', async () => {
    const id = await ask('ghost');
    await waitUntil(() => state(id) === 'failed', 5000, 'failed');
    await h.idle();
    assert.match(h.jiraComments(id).at(-1)!, /^Failed: no approver could be resolved for stage 1 \(ghost@example\.com\)/);
    assert.match(h.slack.dmsTo(alice.slackId).at(-1)!.text, /failed: no approver could be resolved/);
    assert.ok(h.slack.messages.some((m) => m.channel === 'C0ADMIN' && m.text.includes('no approver could be resolved')));
  });

  test('fallback approvers are asked when a stage resolves to nobody', async () => {
    const id = await ask('fallback');
    await h.approverMessage(carol, id);
    await h.idle();
    assert.match(h.jiraComments(id).at(-1)!, /^Approval requested from Carol White \(carol@example\.com\) \(fallback approvers/);
  });

  test('break-glass: reason checked in the modal, immediate grant, loud alert, review recorded once', async () => {
    const before = new Set(h.slack.views.keys());
    await h.driver.command(alice.slackId);
    const v = await h.slack.waitForView((x) => x.userId === alice.slackId && !before.has(x.id));
    const short = await h.driver.submitView(alice.slackId, v.id, {
      application: { application: 'prod-db' },
      role: { role: { value: 'emergency', text: 'Emergency admin (emergency)' } },
      duration: { duration: { value: '1h', text: '1 hour' } },
      reason: { reason: 'prod is down' },
    });
    assert.match((short.body as { errors: Record<string, string> }).errors.reason!, /at least 40 characters/);

    const id = await ask('emergency', 'Production outage INC-4211: the primary database refuses connections <!channel>');
    await waitUntil(() => state(id) === 'active', 5000, 'granted at once');
    await h.idle();
    const key = h.bot.store.getRequest(id)!.jiraKey!;
    const alert = await h.slack.waitForMessage((m) => m.channel === 'C0SEC' && m.text.includes(key));
    const shown = JSON.stringify(alert.blocks);
    assert.match(shown, /Alice Smith/);
    assert.match(shown, /Production database \/ Emergency admin/);
    assert.match(shown, /INC-4211/);
    assert.match(shown, /&lt;!channel&gt;/, 'user text is escaped');
    assert.match(shown, /"text":"Reviewed"/);
    assert.match(h.jiraComments(id)[1]!, /^Approved by policy \(break-glass emergency access\) on .*; alert sent to #security-alerts/);

    await h.driver.clickButton(alice.slackId, alert, 'review_break_glass');
    await h.slack.waitForResponseUrlPost((p) => /your own emergency access/.test(String(p.body.text)));
    const onScreen = structuredClone(alert); // the alert as Carol still sees it
    await h.driver.clickButton(bob.slackId, alert, 'review_break_glass');
    // Reviewed is acked before it is checked: wait for the outcome of each click.
    await waitUntil(() => h.bot.store.getRequest(id)!.reviewedAt !== null, 5000, 'reviewed');
    await h.driver.clickButton(carol.slackId, onScreen, 'review_break_glass');
    await h.slack.waitForResponseUrlPost((p) => p.context.user === carol.slackId && /already reviewed by Bob Jones/.test(String(p.body.text)));
    await h.idle();
    const reviews = h.jiraComments(id).filter((c) => c.startsWith('Break-glass access reviewed by'));
    assert.equal(reviews.length, 1);
    const updated = h.slack.findMessage(alert.channel, alert.ts)!;
    assert.match(JSON.stringify(updated.blocks), /Reviewed by/);
    assert.doesNotMatch(JSON.stringify(updated.blocks), /"action_id":"review_break_glass"/);
  });

  test('an approver removed from the catalog since the DM was sent can no longer decide', async () => {
    const id = await ask('reader');
    const msg = await h.approverMessage(dave, id);
    await h.idle();
    await h.restart({ catalog: CATALOG.replace('approvers: [dave@example.com]', 'approvers: [erin@example.com]') });
    await h.driver.clickButton(dave.slackId, msg, 'approve');
    await h.slack.waitForResponseUrlPost((p) => /no longer an approver/.test(String(p.body.text)));
    await h.idle();
    assert.equal(state(id), 'pending');
  });
});
