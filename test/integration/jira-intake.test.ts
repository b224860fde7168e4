/**
 * Requests raised in Jira (jira.intake): a JSM request becomes a request whose record is its own
 * issue, approved in Slack, granted and revoked; bad fields are told once on the issue and the
 * request starts when they are corrected; duplicates and dropped webhooks, and the poll.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { catalogYaml } from '../support/fixtures.js';
import { GROUPS, Harness, PEOPLE, waitUntil } from '../support/harness.js';
import { INTAKE, JsmDesk } from '../support/jsm.js';

const { alice, bob, carol, dave } = PEOPLE;

const CATALOG = catalogYaml({
  jira: { intake: INTAKE },
  applications: [
    {
      id: 'okta-console',
      name: 'Okta admin console',
      owners: ['bob@example.com'],
      roles: [
        { id: 'read-only', name: 'Read-only', group: GROUPS.readOnly, durations: ['2s', '4h', 'permanent'], approvers: ['owners'] },
        { id: 'super-admin', name: 'Super admin', group: GROUPS.superAdmin, durations: ['30m', '1h'], approvers: ['bob@example.com', 'carol@example.com'] },
      ],
    },
  ],
});

/** The select options on the Jira side: one application the catalog does not have ("Legacy CRM"). */
function setUpDesk(h: Harness): JsmDesk {
  return JsmDesk.setUp(h.jira, {
    people: Object.values(PEOPLE),
    applications: ['Okta admin console', 'Legacy CRM'],
    roles: ['Read-only', 'Super admin'],
    durations: ['2 seconds', '4 hours', '5 hours', 'Permanent', '30 minutes', '1 hour'],
  });
}

/**
 * Starts (before the suite) the bot with a JSM desk and the webhook pointed at it, handing both to
 * `set`; `jiraPollMs` 0: the poll runs only when a test asks.
 */
function startWorld(jiraPollMs: number, set: (h: Harness, desk: JsmDesk) => void): void {
  let h: Harness | undefined;
  before(async () => {
    h = new Harness({ catalog: CATALOG, jiraWebhook: true, compose: { jiraPollMs } });
    const desk = setUpDesk(h);
    await h.start();
    set(h, desk);
  });
  after(async () => {
    await h?.stop();
  });
}

function requestOf(h: Harness, issueId: string) {
  return h.bot.store.findBySubmissionKey(`jira:${issueId}`);
}

async function requestFor(h: Harness, issueId: string): Promise<string> {
  await waitUntil(() => requestOf(h, issueId) !== undefined, 5000, `a request for issue ${issueId}`);
  return requestOf(h, issueId)!.id;
}

describe('Jira intake: a JSM request, approved in Slack', () => {
  let h: Harness;
  let desk: JsmDesk;
  startWorld(0, (bot, jsm) => ((h = bot), (desk = jsm)));

  test('raised on behalf of Alice: her issue is the record, Bob approves in Slack, granted, then expired and revoked', async () => {
    const issuesBefore = h.jira.issues.size;
    const { issueKey, issueId } = await desk.raise(dave, { app: 'Okta admin console', role: 'Read-only', duration: '2 seconds', onBehalfOf: alice, description: 'Checking the SSO settings for a customer' });
    const id = await requestFor(h, issueId);
    const r0 = h.bot.store.getRequest(id)!;
    assert.equal(r0.jiraKey, issueKey, 'the issue raised is the record');
    assert.equal(r0.reason, 'Checking the SSO settings for a customer');

    const card = await h.approverMessage(bob, id);
    assert.match(JSON.stringify(card.blocks), /"text":"Approve"/);
    // Alice is in Slack (found by the email Jira gives for her account): she hears as usual.
    await waitUntil(() => h.slack.dmsTo(alice.slackId).some((m) => m.text.includes(`submitted as ${issueKey}`)), 5000, 'the requester is told in Slack');

    await h.click(bob, id, 'approve');
    await waitUntil(() => h.okta.isMember(GROUPS.readOnly, alice.oktaId), 5000, 'Okta membership');
    await waitUntil(() => h.bot.store.getRequest(id)!.state === 'revoked', 8000, 'revoked at expiry');
    await h.idle();

    assert.equal(h.jira.issues.size, issuesBefore + 1, 'no second issue was created');
    assert.equal(h.jira.issuesWithLabel(`access-bot-${id}`).length, 0);
    assert.deepEqual(h.jira.issue(issueKey)!.properties.get('access-bot-request'), { requestId: id, app: 'okta-console', role: 'read-only' });
    const comments = h.jira.commentsText(issueKey);
    assert.match(comments[0]!, /^Requested by Alice Smith \(alice@example\.com\) on .* UTC \(raised in Jira\): Okta admin console \/ Read-only, 2 seconds\./);
    assert.deepEqual(
      comments.map((c) => c.split(' ').slice(0, 2).join(' ')),
      ['Requested by', 'Approval requested', 'Approved by', 'Access granted:', 'Access revoked'],
    );
    const told = h.slack.dmsTo(alice.slackId).map((m) => m.text).join('\n');
    assert.match(told, /approved by Bob Jones/);
    assert.match(told, /Access granted/);
    assert.equal(h.bot.store.verifyAuditChain(), undefined);
  });

  test('raised by Carol herself, revoked by her approver in Slack', async () => {
    const { issueKey, issueId } = await desk.raise(carol, { app: 'Okta admin console', role: 'Super admin', duration: '1 hour' });
    const id = await requestFor(h, issueId);
    await h.click(bob, id, 'approve');
    await waitUntil(() => h.okta.isMember(GROUPS.superAdmin, carol.oktaId), 5000, 'granted');
    await h.idle();
    const card = await h.slack.waitForDm(bob.slackId, (m) => JSON.stringify(m.blocks ?? []).includes(id) && JSON.stringify(m.blocks ?? []).includes('revoke_access'));
    await h.driver.clickButton(bob.slackId, card, 'revoke_access');
    await waitUntil(() => h.bot.store.getRequest(id)!.state === 'revoked', 5000, 'revoked');
    await h.idle();
    assert.equal(h.okta.isMember(GROUPS.superAdmin, carol.oktaId), false);
    const comments = h.jira.commentsText(issueKey);
    assert.match(comments[0]!, /^Requested by Carol White \(carol@example\.com\) on .* \(raised in Jira\): Okta admin console \/ Super admin, 1 hour\./);
    assert.match(comments.at(-1)!, /^Access revoked \(by Bob Jones \(bob@example\.com\)\)/);
  });

  test('the requester is never asked to approve their own request raised in Jira', async () => {
    // Bob owns the console: his own request is routed to the other approvers only (owners = Bob → nobody).
    const { issueKey, issueId } = await desk.raise(bob, { app: 'Okta admin console', role: 'Super admin', duration: '30 minutes' });
    const id = await requestFor(h, issueId);
    await waitUntil(() => h.bot.store.approversOf(id).length > 0, 5000, 'routed');
    assert.deepEqual(h.bot.store.approversOf(id).map((a) => a.email), ['carol@example.com']);
    await h.idle();
    assert.match(h.jira.commentsText(issueKey)[1]!, /^Approval requested from Carol White/);
  });
});

describe('Jira intake: bad fields, duplicates, dropped webhooks, the poll', () => {
  let h: Harness;
  let desk: JsmDesk;
  startWorld(0, (bot, jsm) => ((h = bot), (desk = jsm)));

  test('bad fields get one comment naming each problem and the values allowed; nothing starts until they are edited', async () => {
    const { issueKey, issueId } = await desk.raise(alice, { app: 'Legacy CRM', duration: '4 hours' });
    await waitUntil(() => h.jira.commentsText(issueKey).length === 1, 5000, 'the comment on the issue');
    await h.idle();
    const [comment] = h.jira.commentsText(issueKey);
    assert.equal(
      comment,
      [
        'Cannot process this request:',
        '- Application "Legacy CRM" is not an application access-bot offers. Allowed values: Okta admin console.',
        'Edit the fields of this issue: access-bot starts the request as soon as they are valid.',
      ].join('\n'),
    );
    assert.equal(requestOf(h, issueId), undefined);

    // The same issue again, by the poll and by a redelivery: nothing more is said.
    await h.bot.jiraPoll.runOnce();
    await h.idle();
    assert.equal(h.jira.commentsText(issueKey).length, 1);

    // Half corrected: the application now, the role still empty; the new problem is told.
    await desk.edit(alice, issueKey, { app: 'Okta admin console' });
    await waitUntil(() => h.jira.commentsText(issueKey).length === 2, 5000, 'the second comment');
    assert.match(h.jira.commentsText(issueKey)[1]!, /^Cannot process this request:\n- Role \(customfield_10051\) is empty\. Allowed values for Okta admin console: Read-only, Super admin\.\n/);
    assert.equal(requestOf(h, issueId), undefined);

    // A duration the role does not offer, with the role set: told with the role's durations.
    await desk.edit(alice, issueKey, { role: 'Read-only', duration: '5 hours' });
    await waitUntil(() => h.jira.commentsText(issueKey).length === 3, 5000, 'the third comment');
    assert.match(h.jira.commentsText(issueKey)[2]!, /- Duration "5 hours" is not offered for Okta admin console \/ Read-only\. Allowed values: 2 seconds, 4 hours, Permanent\./);

    // Corrected: the request starts on this issue, after the refusals.
    await desk.edit(alice, issueKey, { duration: '4 hours' });
    const id = await requestFor(h, issueId);
    await h.approverMessage(bob, id);
    await h.idle();
    const comments = h.jira.commentsText(issueKey);
    assert.equal(comments.length, 5);
    assert.match(comments[3]!, /^Requested by Alice Smith .* \(raised in Jira\): Okta admin console \/ Read-only, 4 hours\./);
    assert.match(comments[4]!, /^Approval requested from Bob Jones/);
    assert.ok(h.bot.store.auditOf(id).filter((a) => a.step.type === 'intake_refused').length === 3, 'the refusals are audited under the request');
  });

  test('an empty duration asks for the role\'s shortest', async () => {
    const { issueId } = await desk.raise(alice, { app: 'Okta admin console', role: 'Super admin' });
    const id = await requestFor(h, issueId);
    assert.equal(h.bot.store.getRequest(id)!.durationToken, '30m');
  });

  test('duplicate deliveries and the poll make one request', async () => {
    h.jira.webhooks.duplicateNext(1, 'jira:issue_created');
    const { issueKey, issueId } = await desk.raise(carol, { app: 'Okta admin console', role: 'Read-only', duration: '4 hours' });
    await h.jira.webhooks.idle();
    const [delivery] = h.jira.webhooks.of('jira:issue_created', issueKey);
    assert.ok(delivery?.duplicated, 'delivered twice under one identifier');
    await h.bot.jiraPoll.runOnce();
    await h.bot.jiraPoll.runOnce();
    const id = await requestFor(h, issueId);
    await h.approverMessage(bob, id);
    await h.idle();
    assert.equal(h.bot.sql.value("SELECT COUNT(*) FROM requests WHERE submission_key = ?", `jira:${issueId}`), 1);
    assert.equal(h.jira.commentsText(issueKey).filter((c) => c.startsWith('Requested by')).length, 1);
    assert.equal(h.slack.dmsTo(bob.slackId).filter((m) => JSON.stringify(m.blocks ?? []).includes(id)).length, 1, 'Bob is asked once');
  });

  test('a dropped webhook is caught by the poll', async () => {
    h.jira.webhooks.dropNext(1, 'jira:issue_created');
    const { issueKey, issueId } = await desk.raise(dave, { app: 'Okta admin console', role: 'Read-only', duration: '4 hours' });
    await h.jira.webhooks.idle();
    assert.equal(h.jira.webhooks.of('jira:issue_created', issueKey)[0]?.outcome, 'dropped');
    assert.equal(requestOf(h, issueId), undefined, 'nothing arrived');
    const polled = await h.bot.jiraPoll.runOnce();
    assert.equal(polled?.results.requested, 1);
    const id = await requestFor(h, issueId);
    await h.approverMessage(bob, id);
  });

  test("the bot's own issues for Slack requests are never taken in", async () => {
    const id = await h.request(alice, { duration: '4h' });
    await h.idle();
    await h.bot.jiraPoll.runOnce();
    await h.jira.webhooks.idle();
    await h.idle();
    const key = h.bot.store.getRequest(id)!.jiraKey!;
    assert.ok(h.jira.webhooks.of('jira:issue_created', key).length === 1, 'Jira told the bot of its own issue');
    assert.equal(h.bot.sql.value("SELECT COUNT(*) FROM requests WHERE jira_key = ?", key), 1);
  });
});

describe('Jira intake: outages and the poll on its schedule', () => {
  let h: Harness;
  let desk: JsmDesk;
  startWorld(300, (bot, jsm) => ((h = bot), (desk = jsm)));

  test('a Jira outage during intake loses nothing: the request completes once Jira is back', async () => {
    h.jira.webhooks.pause();
    const { issueKey, issueId } = await desk.raise(alice, { app: 'Okta admin console', role: 'Read-only', duration: '4 hours' });
    h.jira.outage();
    h.jira.webhooks.resume();
    await h.jira.webhooks.idle();
    // Taken in from the delivery alone; who Alice is must wait for Jira's user API.
    const id = await requestFor(h, issueId);
    await waitUntil(() => h.jira.calls.some((c) => c.path === '/rest/api/3/user' && c.status === 503), 5000, 'the account lookup met the outage');
    assert.equal(h.bot.store.getRequest(id)!.state, 'pending');
    assert.equal(h.bot.store.approversOf(id).length, 0);
    h.jira.recover();
    await h.approverMessage(bob, id);
    await h.click(bob, id, 'approve');
    await waitUntil(() => h.bot.store.getRequest(id)!.state === 'active', 5000, 'granted');
    await h.idle();
    const comments = h.jira.commentsText(issueKey);
    assert.deepEqual(comments.map((c) => c.split(' ').slice(0, 2).join(' ')), ['Requested by', 'Approval requested', 'Approved by', 'Access granted:']);
  });

  test('a webhook dropped during an outage is caught by a poll on its schedule once Jira is back', async () => {
    h.jira.webhooks.dropNext(1, 'jira:issue_created');
    const { issueId } = await desk.raise(carol, { app: 'Okta admin console', role: 'Read-only', duration: '4 hours' });
    h.jira.outage();
    await waitUntil(() => h.jira.calls.some((c) => c.path === '/rest/api/3/search/jql' && c.status === 503), 5000, 'a poll met the outage');
    assert.equal(requestOf(h, issueId), undefined);
    h.jira.recover();
    const id = await requestFor(h, issueId);
    await h.approverMessage(bob, id);
    assert.ok(h.logs.some((l) => l.includes('jira poll failed')), 'the failed poll was logged');
  });
});
