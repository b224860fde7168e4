/**
 * Jira as a control plane (issue 16): people move a request's issue to a status the catalog maps
 * (`jira.statuses`), Jira sends its signed `jira:issue_updated` webhook, and the move counts as
 * that person's decision under the rules of a Slack click. Driven through the emulators: each
 * person moves the issue through the Jira REST API under their own credentials, and the Jira
 * emulator records the change and sends its signed webhook to the bot, as Jira does.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_WORKFLOW, type EmuUser, type Workflow } from '../emulators/jira.js';
import { ADMIN_CHANNEL, catalogYaml } from '../support/fixtures.js';
import { GROUPS, Harness, PEOPLE, waitUntil, type Person } from '../support/harness.js';
import { JiraAs } from '../support/jiraAs.js';

const { alice, bob, carol, dave } = PEOPLE;

const STATUSES = { approved: 'Approved', denied: 'Rejected', revoked: 'Access Revoked', cancelled: 'Declined by User' };

/** The default workflow (the bot's transitions), and the moves people make in the Jira UI (and the bot's way back). */
const WORKFLOW: Workflow = {
  ...DEFAULT_WORKFLOW,
  statuses: [...DEFAULT_WORKFLOW.statuses, { name: 'Access Revoked', category: 'done' }, { name: 'Declined by User', category: 'done' }],
  transitions: [
    ...DEFAULT_WORKFLOW.transitions,
    { id: '81', name: 'Revoke access', from: ['Active'], to: 'Access Revoked' },
    { id: '91', name: 'Decline', from: ['To Do'], to: 'Declined by User' },
    { id: '101', name: 'Reopen', from: ['Approved', 'Rejected', 'Declined by User'], to: 'To Do' },
  ],
};

const CATALOG = catalogYaml({
  jira: { statuses: STATUSES },
  applications: [
    {
      id: 'okta-console',
      name: 'Okta admin console',
      owners: ['bob@example.com'],
      roles: [
        // Alice is listed too: her own move still never counts.
        { id: 'read-only', name: 'Read-only', group: GROUPS.readOnly, durations: ['4h', 'permanent'], approvers: ['owners', 'alice@example.com'] },
        { id: 'super-admin', name: 'Super admin', group: GROUPS.superAdmin, durations: ['1h'], approval: { stages: [{ approvers: ['bob@example.com', 'carol@example.com'], required: 2 }] } },
      ],
    },
  ],
});

describe('Jira statuses as decisions (jira.statuses)', () => {
  let h: Harness;
  let jira: JiraAs;
  const account = (p: Person): EmuUser => h.jira.directory.users.get(p.atlassianId!)!;
  const adminAlerts = () => h.slack.messages.filter((m) => m.channel === ADMIN_CHANNEL.id).map((m) => m.text);
  /** The webhook's deliveries and the effects they caused, all settled. */
  const settled = async () => {
    await h.jira.webhooks.idle();
    await h.idle();
  };

  before(async () => {
    h = await new Harness({ catalog: CATALOG, connectors: ['okta', 'atlassian'], jiraWebhook: true, compose: { jiraPollMs: 0 } }).start();
    h.jira.setWorkflow(WORKFLOW);
    jira = new JiraAs(h.jira);
  });
  after(async () => {
    await h.stop();
  });

  /** Alice asks; resolves once the issue exists and the approvers were asked. */
  async function requested(input: { role?: string; duration?: string } = {}): Promise<{ id: string; key: string }> {
    const id = await h.request(alice, { duration: input.duration ?? '4h', ...(input.role ? { role: input.role } : {}) });
    await waitUntil(() => h.bot.store.getRequest(id)?.jiraKey !== null && h.bot.store.approversOf(id).length > 0, 5000, 'issue and approvers');
    await h.idle();
    return { id, key: h.bot.store.getRequest(id)!.jiraKey! };
  }

  const state = (id: string) => h.bot.store.getRequest(id)!.state;

  test("an approver's move to Approved approves: granted, no second transition, the story on the issue", async () => {
    const { id, key } = await requested();
    await jira.move(account(bob), key, 'Approved');
    await waitUntil(() => state(id) === 'active', 5000, 'active');
    await h.idle();
    assert.equal(h.okta.isMember(GROUPS.readOnly, alice.oktaId), true);
    const comments = h.jiraComments(id);
    assert.ok(comments.some((c) => /^Approved by Bob Jones \(bob@example\.com\) on /.test(c)), comments.join('\n'));
    assert.ok(comments.some((c) => c.startsWith('Access granted: okta group 00g1readonly for 00u1alice')), comments.join('\n'));
    assert.ok(!comments.some((c) => c.includes('could not be applied')), 'the Approve transition was done already, not skipped');
    // Bob applied Approve; the bot only Provisioned, from where Bob moved it (its own Approve was done already).
    await settled();
    assert.equal(h.jira.issue(key)!.status, 'Active');
    const moves = h.jira.issue(key)!.changelog.map((c) => [c.items[0]!.toString, c.authorId]);
    assert.deepEqual(moves, [
      ['Approved', bob.atlassianId],
      ['Active', h.jira.myself.accountId],
    ]);
    // Alice hears it as from a Slack click.
    await h.slack.waitForDm(alice.slackId, (m) => m.text.includes('was approved by Bob Jones'));
  });

  test("an outsider's move changes nothing: the comment says so, the issue goes back, admins are told", async () => {
    const { id, key } = await requested();
    const alertsBefore = adminAlerts().length;
    const oktaWrites = h.okta.calls.filter((c) => c.method !== 'GET').length;
    await jira.move(account(dave), key, 'Approved');
    await waitUntil(() => h.jiraComments(id).some((c) => c.startsWith('No access was granted:')), 5000, 'refusal comment');
    await h.idle();
    assert.equal(state(id), 'pending');
    assert.equal(h.okta.calls.filter((c) => c.method !== 'GET').length, oktaWrites, 'nothing changed in the IdP');
    const refusal = h.jiraComments(id).find((c) => c.startsWith('No access was granted:'))!;
    assert.match(refusal, /^No access was granted: Dave Brown \(dave@example\.com\) moved this issue to "Approved" on \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC, but Dave Brown is not an approver of this request\. The issue was moved back to "To Do"\.$/);
    assert.equal(h.jira.issue(key)!.status, 'To Do');
    const alerts = adminAlerts().slice(alertsBefore);
    assert.equal(alerts.length, 1, alerts.join('\n'));
    assert.match(alerts[0]!, new RegExp(`Dave Brown moved ${key} \\(Okta admin console / Read-only\\) to "Approved" in Jira, but Dave Brown is not an approver of this request\\. Nothing changed in the identity provider`));
    assert.ok(h.bot.store.auditOf(id).some((a) => a.step.type === 'decision_refused' && a.step.code === 'not_an_approver'), 'the refusal is audited');
    // The bot's move back came back as a webhook too (by its own account, to an unmapped status): nothing more.
    await settled();
    assert.equal(h.jiraComments(id).filter((c) => c.startsWith('No access was granted:')).length, 1);
    // The request still waits for its approver, who decides as usual.
    await h.click(bob, id, 'approve');
    await waitUntil(() => state(id) === 'active', 5000, 'active after a Slack approval');
  });

  test('the requester moving her own request to Approved is refused, even though the catalog lists her', async () => {
    const { id, key } = await requested();
    await jira.move(account(alice), key, 'Approved');
    await waitUntil(() => h.jiraComments(id).some((c) => c.startsWith('No access was granted:')), 5000, 'refusal comment');
    assert.equal(state(id), 'pending');
    assert.match(h.jiraComments(id).at(-1)!, /but Alice Smith is the requester, and nobody approves or denies their own request\. The issue was moved back to "To Do"\.$/);
  });

  test("a move to Rejected denies, with the reason from the person's latest comment", async () => {
    const { id, key } = await requested();
    await jira.comment(account(bob), key, 'An older remark');
    await jira.comment(account(bob), key, 'Not needed for this project');
    await jira.comment(account(carol), key, 'Not Bob: this is Carol');
    await jira.move(account(bob), key, 'Rejected');
    await waitUntil(() => state(id) === 'denied', 5000, 'denied');
    await h.idle();
    assert.ok(h.jiraComments(id).some((c) => /^Denied by Bob Jones \(bob@example\.com\) on .* — Not needed for this project$/.test(c)), h.jiraComments(id).join('\n'));
    assert.equal(h.jira.issue(key)!.status, 'Rejected', 'the Reject transition was done already');
    assert.ok(!h.jiraComments(id).some((c) => c.includes('could not be applied')), 'no transition was skipped');
    await h.slack.waitForDm(alice.slackId, (m) => /denied by Bob Jones.*: Not needed for this project/.test(m.text));
  });

  test('a denial without a comment of the person\'s reads "denied in Jira"', async () => {
    const { id, key } = await requested();
    await jira.move(account(bob), key, 'Rejected');
    await waitUntil(() => state(id) === 'denied', 5000, 'denied');
    await h.idle();
    assert.ok(h.jiraComments(id).some((c) => /^Denied by Bob Jones \(bob@example\.com\) on .* — denied in Jira$/.test(c)), h.jiraComments(id).join('\n'));
  });

  test('a move to Access Revoked on an active grant revokes it now', async () => {
    const { id, key } = await requested();
    await h.click(bob, id, 'approve');
    await waitUntil(() => state(id) === 'active', 5000, 'active');
    await h.idle();
    assert.equal(h.jira.issue(key)!.status, 'Active');
    await jira.move(account(bob), key, 'Access Revoked');
    await waitUntil(() => state(id) === 'revoked', 5000, 'revoked');
    await h.idle();
    assert.match(h.jiraComments(id).at(-1)!, /^Access revoked \(by Bob Jones \(bob@example\.com\)\) on .*: (removed 00u1alice from okta group 00g1readonly|membership of okta group 00g1readonly kept: another active grant still needs it)\.$/);
    assert.equal(h.jira.issue(key)!.status, 'Access Revoked', 'the Done transition was done already');
    assert.ok(!h.jiraComments(id).some((c) => c.includes('could not be applied')), 'no transition was skipped');
  });

  test('a move to Access Revoked by someone who may not revoke changes nothing and goes back', async () => {
    const { id, key } = await requested();
    await h.click(bob, id, 'approve');
    await waitUntil(() => state(id) === 'active', 5000, 'active');
    await h.idle();
    await jira.move(account(dave), key, 'Access Revoked');
    await waitUntil(() => h.jiraComments(id).some((c) => c.startsWith('No access was removed:')), 5000, 'refusal');
    await h.idle();
    assert.equal(state(id), 'active');
    assert.match(h.jiraComments(id).at(-1)!, /^No access was removed: Dave Brown \(dave@example\.com\) moved this issue to "Access Revoked" on .*, but Dave Brown is neither the requester nor an approver of this request\. The workflow offers no transition back to "Active", so the issue stays in "Access Revoked"; access-bot goes by the request, not the status\.$/);
  });

  test('the requester moving a pending request to Declined by User cancels it; someone else may not', async () => {
    const { id, key } = await requested();
    await jira.move(account(dave), key, 'Declined by User');
    await waitUntil(() => h.jiraComments(id).some((c) => c.startsWith('No access was granted:')), 5000, 'refusal');
    await h.idle();
    assert.match(h.jiraComments(id).at(-1)!, /but Dave Brown is not the requester, and only the requester can withdraw a request\. The issue was moved back to "To Do"\.$/);
    assert.equal(state(id), 'pending');
    await jira.move(account(alice), key, 'Declined by User');
    await waitUntil(() => state(id) === 'cancelled', 5000, 'cancelled');
    await h.idle();
    assert.match(h.jiraComments(id).at(-1)!, /^Cancelled by Alice Smith \(alice@example\.com\) on /);
    assert.equal(h.jira.issue(key)!.status, 'Declined by User');
  });

  test("the bot's own transitions never loop, and a change is handled once however often it comes", async () => {
    const { id, key } = await requested();
    // The next two deliveries of issue updates come twice, and the poll reads them all again.
    await h.jira.webhooks.idle();
    h.jira.webhooks.duplicateNext(2, 'jira:issue_updated');
    await h.click(bob, id, 'approve');
    await waitUntil(() => state(id) === 'active', 5000, 'active');
    await settled();
    await h.bot.jiraPoll.runOnce();
    await settled();
    // Jira reported the bot's Approve and Provisioned, made by its own account: taken in once
    // each, recognised as the bot's own, nothing recorded, nothing moved back.
    const changes = h.bot.sql.all("SELECT payload FROM outbox WHERE request_id = ? AND kind = 'jira.statusChange'", id);
    assert.equal(changes.length, 1, 'Provisioned leads to Active, which means nothing; Approve once, however often it came');
    assert.equal(h.jira.issue(key)!.status, 'Active');
    assert.ok(!h.bot.store.auditOf(id).some((a) => a.step.type === 'decision_refused' || a.step.type === 'jira_status_refused'), 'nothing refused');
    assert.equal(h.jira.issue(key)!.changelog.length, 2, 'the bot moved the issue twice and never back');
  });

  test("a move whose webhook was lost is caught by the poll", async () => {
    const { id, key } = await requested();
    // Every delivery so far has landed: the next issue update is Bob's move, and it is lost.
    await h.jira.webhooks.idle();
    h.jira.webhooks.dropNext(1, 'jira:issue_updated');
    await jira.move(account(bob), key, 'Approved');
    await settled();
    assert.equal(state(id), 'pending', 'the delivery was lost');
    await h.bot.jiraPoll.runOnce();
    await waitUntil(() => state(id) === 'active', 5000, 'active after the poll');
    assert.ok(h.jiraComments(id).some((c) => /^Approved by Bob Jones \(bob@example\.com\) on /.test(c)), h.jiraComments(id).join('\n'));
  });

  test('a quorum counts moves as votes: the first moves the issue back, the second approves', async () => {
    const { id, key } = await requested({ role: 'super-admin', duration: '1h' });
    await jira.move(account(bob), key, 'Approved');
    await waitUntil(() => h.jiraComments(id).some((c) => c.includes('(1 of 2 approvals for stage 1)')), 5000, 'first vote');
    await h.idle();
    assert.equal(state(id), 'pending');
    assert.equal(h.jira.issue(key)!.status, 'To Do', 'moved back for the next approver');
    await jira.move(account(carol), key, 'Approved');
    await waitUntil(() => state(id) === 'active', 5000, 'active');
    assert.equal(h.okta.isMember(GROUPS.superAdmin, alice.oktaId), true);
  });

  test('someone whose email Jira hides cannot be told apart: refused, and admins are told', async () => {
    const { id, key } = await requested();
    const hidden = h.jira.directory.addUser({ email: 'ghost@example.com', displayName: 'Ghost Writer', emailHidden: true });
    await jira.move(hidden, key, 'Approved');
    await waitUntil(() => h.jiraComments(id).some((c) => c.startsWith('No access was granted:')), 5000, 'refusal');
    assert.match(h.jiraComments(id).at(-1)!, /^No access was granted: Ghost Writer moved this issue to "Approved" on .*, but access-bot cannot tell who Ghost Writer is: Jira does not share their email address\. The issue was moved back to "To Do"\.$/);
    assert.equal(state(id), 'pending');
    assert.ok(adminAlerts().some((t) => t.includes('Ghost Writer moved')), adminAlerts().join('\n'));
  });
});
