/**
 * Removal and change requests from Slack (issue 16), driven through the emulators: `/access
 * remove` and `/access change` (or the request modal's buttons) list what the person holds,
 * the request is routed by the role's policy (whose rules see its kind), and on approval the
 * membership is removed, whoever granted it, or, for a change, the new role is granted and then
 * the old one removed, all on one Jira issue.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { StoredView } from '../emulators/slack.js';
import { catalogYaml, type ApplicationSpec } from '../support/fixtures.js';
import { GROUPS, Harness, PEOPLE, waitUntil, type Person } from '../support/harness.js';
import { INTAKE, JsmDesk } from '../support/jsm.js';

const { alice, bob, carol, dave } = PEOPLE;
const WIKI = '00g1wikiread';

/** The console: read-only approved by its owner, super-admin by Carol. */
const CONSOLE: ApplicationSpec = {
  id: 'okta-console',
  name: 'Okta admin console',
  owners: ['bob@example.com'],
  roles: [
    { id: 'read-only', name: 'Read-only', group: GROUPS.readOnly, durations: ['4h', 'permanent'], approvers: ['owners'] },
    { id: 'super-admin', name: 'Super admin', group: GROUPS.superAdmin, durations: ['30m', '1h'], approvers: ['carol@example.com'] },
  ],
};

const CATALOG = catalogYaml({
  applications: [
    CONSOLE,
    {
      id: 'wiki',
      name: 'Company wiki',
      owners: ['bob@example.com'],
      roles: [
        {
          id: 'reader',
          name: 'Reader',
          group: WIKI,
          durations: ['permanent'],
          approval: { rules: [{ name: 'removals need nobody', when: { kind: ['removal'] }, auto: true }], default: { approvers: ['owners'] } },
        },
      ],
    },
  ],
});

type Opt = { value: string; text: { text: string } };

/** A removal's issue takes `approved`, then `revoked` once carried out: Done is offered from Approved too. */
function doneFromApproved(h: Harness): void {
  const w = h.jira.getWorkflow();
  w.transitions = w.transitions.map((t) => (t.name === 'Done' ? { ...t, from: ['Active', 'Approved'] } : t));
  h.jira.setWorkflow(w);
}

describe('removal and change requests from Slack', () => {
  let h: Harness;
  before(async () => {
    h = await new Harness({ catalog: CATALOG }).start();
    h.okta.addGroup({ id: WIKI, name: 'Wiki readers' });
    doneFromApproved(h);
  });
  after(async () => {
    await h.stop();
  });

  /** `/access <sub>` typed by `who`; resolves with the form it opened. */
  async function form(who: Person, sub: 'remove' | 'change'): Promise<StoredView> {
    const before = new Set(h.slack.views.keys());
    await h.driver.command(who.slackId, '/access', sub);
    const callback = sub === 'remove' ? 'access_removal' : 'access_change';
    return h.slack.waitForView((v) => v.userId === who.slackId && !before.has(v.id) && v.view.callback_id === callback, 5000);
  }

  const options = (v: StoredView, block: string) =>
    ((v.view.blocks as { block_id?: string; element?: { options?: Opt[] } }[]).find((b) => b.block_id === block)?.element?.options ?? []).map((o) => [o.value, o.text.text]);

  async function removal(who: Person, holding: string, reason = 'I no longer need this'): Promise<string> {
    const v = await form(who, 'remove');
    const res = await h.driver.submitView(who.slackId, v.id, { holding: { holding }, reason: { reason } });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { response_action: 'clear' });
    return h.bot.store.findBySubmissionKey(v.id)!.id;
  }

  const state = (id: string) => h.bot.store.getRequest(id)!.state;

  test('removal of standing access: listed from the user sync, approved by the owner, removed, and the record says whose it was', async () => {
    h.okta.addMember(GROUPS.readOnly, alice.oktaId);
    await h.bot.memberSync.runOnce();
    const v = await form(alice, 'remove');
    assert.deepEqual(options(v, 'holding'), [['okta-console/read-only', 'Okta admin console / Read-only (standing access)']]);
    const res = await h.driver.submitView(alice.slackId, v.id, { holding: { holding: 'okta-console/read-only' }, reason: { reason: 'Moved to another team' } });
    assert.deepEqual(res.body, { response_action: 'clear' });
    const id = h.bot.store.findBySubmissionKey(v.id)!.id;
    const card = await h.approverMessage(bob, id);
    assert.match(card.text, /^Removal request: Alice Smith → Okta admin console \/ Read-only/);
    assert.match(JSON.stringify(card.blocks), /asks to remove \*Okta admin console \/ Read-only\*/);
    await h.click(bob, id, 'approve');
    await waitUntil(() => state(id) === 'revoked', 5000, 'carried out');
    await h.idle();
    assert.equal(h.okta.isMember(GROUPS.readOnly, alice.oktaId), false);
    const r = h.bot.store.getRequest(id)!;
    assert.equal(r.kind, 'removal');
    assert.equal(r.removalOutcome, 'standing');
    const issue = h.jira.issue(r.jiraKey!)!;
    assert.equal(issue.summary, 'Removal request: Alice Smith → removal of Okta admin console / Read-only');
    const comments = h.jiraComments(id);
    assert.match(comments[0]!, /^Requested by Alice Smith \(alice@example\.com\) on .*: removal of Okta admin console \/ Read-only\./);
    assert.match(comments.at(-1)!, /^Access removed: okta group 00g1readonly for 00u1alice \(removal request; standing access, not granted by access-bot\) on [^.]*\.$/);
    assert.ok(!comments.some((c) => c.includes('could not be applied')), comments.join('\n'));
    assert.equal(issue.status, 'Done');
    await h.slack.waitForDm(alice.slackId, (m) => m.text.includes('was carried out: the access was removed'));
  });

  test("removal of access-bot's own grant ends the grant on its own issue and removes the membership", async () => {
    const grant = await h.request(alice, { duration: '4h' });
    await h.click(bob, grant, 'approve');
    await waitUntil(() => state(grant) === 'active', 5000, 'granted');
    await h.idle();
    const grantKey = h.bot.store.getRequest(grant)!.jiraKey!;
    const v = await form(alice, 'remove');
    assert.match(String(options(v, 'holding')[0]?.[1]), /^Okta admin console \/ Read-only \(until \d{4}-/);
    const res = await h.driver.submitView(alice.slackId, v.id, { holding: { holding: 'okta-console/read-only' }, reason: { reason: 'Done with the investigation' } });
    assert.deepEqual(res.body, { response_action: 'clear' });
    const id = h.bot.store.findBySubmissionKey(v.id)!.id;
    await h.click(bob, id, 'approve');
    await waitUntil(() => state(id) === 'revoked' && state(grant) === 'revoked', 5000, 'removal and grant ended');
    await h.idle();
    assert.equal(h.okta.isMember(GROUPS.readOnly, alice.oktaId), false);
    const key = h.bot.store.getRequest(id)!.jiraKey!;
    assert.equal(h.bot.store.getRequest(id)!.removalOutcome, 'ended_grant');
    assert.match(h.jiraComments(id).at(-1)!, new RegExp(`^Access removed: okta group 00g1readonly for 00u1alice \\(removal request\\) on [^.]*\\. access-bot's grant ${grantKey} ended with it\\.$`));
    assert.match(h.jiraComments(grant).at(-1)!, new RegExp(`^Access revoked \\(by removal request ${key}\\) on .*: removed 00u1alice from okta group 00g1readonly\\.$`));
    assert.equal(h.bot.store.getMembership('okta', GROUPS.readOnly, alice.oktaId), undefined, 'ownership forgotten');
  });

  test('a change A → B: approved as a request for B; B granted, then A removed, one issue telling both', async () => {
    h.okta.addMember(GROUPS.readOnly, alice.oktaId);
    await h.bot.memberSync.runOnce();
    const v = await form(alice, 'change');
    assert.deepEqual(options(v, 'holding'), [['okta-console/read-only', 'Okta admin console / Read-only (standing access)']]);
    await h.driver.selectInView(alice.slackId, v.id, 'holding', 'holding', 'okta-console/read-only');
    const roles = await h.driver.suggest(alice.slackId, v.id, 'to_role', 'to_role', '');
    assert.deepEqual((roles.body as { options: Opt[] }).options.map((o) => o.value), ['super-admin'], 'the other roles of the application');
    await h.driver.selectInView(alice.slackId, v.id, 'to_role', 'to_role', { value: 'super-admin', text: 'Super admin' });
    const durations = await h.driver.suggest(alice.slackId, v.id, 'change_duration', 'change_duration', '');
    assert.deepEqual((durations.body as { options: Opt[] }).options.map((o) => o.text.text), ['30 minutes', '1 hour']);
    const res = await h.driver.submitView(alice.slackId, v.id, {
      holding: { holding: 'okta-console/read-only' },
      to_role: { to_role: { value: 'super-admin', text: 'Super admin' } },
      change_duration: { change_duration: { value: '1h', text: '1 hour' } },
      reason: { reason: 'Taking over the on-call rotation' },
    });
    assert.deepEqual(res.body, { response_action: 'clear' });
    const id = h.bot.store.findBySubmissionKey(v.id)!.id;
    // Routed by B's policy: Carol, not the owner.
    const card = await h.approverMessage(carol, id);
    assert.match(card.text, /^Change request: Alice Smith → Okta admin console \/ Super admin/);
    await h.click(carol, id, 'approve');
    await waitUntil(() => h.bot.store.getRequest(id)!.removedAt !== null, 5000, 'old role removed');
    await h.idle();
    assert.equal(state(id), 'active');
    assert.equal(h.okta.isMember(GROUPS.superAdmin, alice.oktaId), true);
    assert.equal(h.okta.isMember(GROUPS.readOnly, alice.oktaId), false);
    const key = h.bot.store.getRequest(id)!.jiraKey!;
    assert.equal(h.jira.issuesWithLabel(`access-bot-${id}`).length, 1, 'one issue');
    assert.equal(h.jira.issue(key)!.summary, 'Change request: Alice Smith → Okta admin console: change from Read-only to Super admin, 1 hour');
    const comments = h.jiraComments(id);
    const granted = comments.findIndex((c) => c.startsWith('Access granted: okta group 00g1superadm for 00u1alice'));
    const removed = comments.findIndex((c) => /^Access removed: okta group 00g1readonly for 00u1alice \(change request: Read-only for Super admin; standing access, not granted by access-bot\) on /.test(c));
    assert.ok(granted >= 0 && removed > granted, comments.join('\n'));
    await h.slack.waitForDm(alice.slackId, (m) => m.text.includes('Your previous role Read-only of Okta admin console was removed'));
  });

  test("the request's kind reaches the approval rules: a rule for removals auto-approves one", async () => {
    h.okta.addMember(WIKI, alice.oktaId);
    await h.bot.memberSync.runOnce();
    const id = await removal(alice, 'wiki/reader');
    await waitUntil(() => state(id) === 'revoked', 5000, 'carried out by policy');
    await h.idle();
    assert.equal(h.okta.isMember(WIKI, alice.oktaId), false);
    const comments = h.jiraComments(id);
    assert.ok(comments.some((c) => c.startsWith('Policy: rule 1 (removals need nobody).')), comments.join('\n'));
    assert.ok(comments.some((c) => c.startsWith('Approved by policy (auto-approve)')), comments.join('\n'));
    // An access request for the same role still goes to the owner.
    const access = await h.request(alice, { app: 'wiki', role: 'reader', duration: 'permanent' });
    await h.approverMessage(bob, access);
    await h.idle();
    assert.ok(h.jiraComments(access).some((c) => c.startsWith('Policy: default (no rule matched).')), h.jiraComments(access).join('\n'));
  });

  test('the request modal offers the other two kinds; its button opens the removal form on top', async () => {
    const modal = await h.openRequestModal(alice);
    const before = new Set(h.slack.views.keys());
    await h.driver.clickInView(alice.slackId, modal, 'open_removal');
    const pushed = await h.slack.waitForView((v) => !before.has(v.id) && v.view.callback_id === 'access_removal', 5000);
    assert.equal(pushed.view.previous_view_id, modal);
    // What the change above granted her, by access-bot, and nothing she gave up.
    const held = options(pushed, 'holding');
    assert.equal(held.length, 1, JSON.stringify(held));
    assert.equal(held[0]![0], 'okta-console/super-admin');
    assert.match(String(held[0]![1]), /^Okta admin console \/ Super admin \(until \d{4}-/);
  });

  test('someone who holds nothing is told so, and the form has nothing to submit', async () => {
    const v = await form(carol, 'remove');
    assert.ok(!v.view.submit, 'no submit button');
    assert.match(JSON.stringify(v.view.blocks), /knows of no access you hold/);
  });
});

describe('removal and change raised in Jira (jira.intake)', () => {
  let h: Harness;
  let desk: JsmDesk;
  before(async () => {
    h = new Harness({ catalog: catalogYaml({ jira: { intake: INTAKE }, applications: [CONSOLE] }), jiraWebhook: true, compose: { jiraPollMs: 0 } });
    desk = JsmDesk.setUp(h.jira, { people: Object.values(PEOPLE), applications: ['Okta admin console'], roles: ['Read-only', 'Super admin'], durations: ['30 minutes', '1 hour', '4 hours', 'Permanent'] });
    await h.start();
    doneFromApproved(h);
  });
  after(async () => {
    await h.stop();
  });

  const requestOf = async (issueId: string) => {
    await waitUntil(() => h.bot.store.findBySubmissionKey(`jira:${issueId}`) !== undefined, 5000, 'a request for the issue');
    return h.bot.store.findBySubmissionKey(`jira:${issueId}`)!;
  };

  test("a manager's removal of someone else's access: the issue is the record, the owner approves in Slack, the subject's membership goes", async () => {
    h.okta.addMember(GROUPS.readOnly, carol.oktaId);
    const { issueKey, issueId } = await desk.raise(dave, { type: 'removal', app: 'Okta admin console', role: 'Read-only', subject: carol, description: 'Carol moved to the sales team' });
    const r = await requestOf(issueId);
    assert.equal(r.kind, 'removal');
    assert.equal(r.jiraKey, issueKey);
    await h.approverMessage(bob, r.id);
    await h.click(bob, r.id, 'approve');
    await waitUntil(() => h.bot.store.getRequest(r.id)!.state === 'revoked', 5000, 'carried out');
    await h.idle();
    assert.equal(h.okta.isMember(GROUPS.readOnly, carol.oktaId), false);
    const done = h.bot.store.getRequest(r.id)!;
    assert.equal(done.subjectEmail, 'carol@example.com', 'whose access was learned from Jira');
    const comments = h.jira.commentsText(issueKey);
    assert.match(comments[0]!, /^Requested by Dave Brown \(dave@example\.com\) on .* \(raised in Jira\): removal of Okta admin console \/ Read-only for Jira account /);
    assert.match(comments.at(-1)!, /^Access removed: okta group 00g1readonly for 00u1carol \(removal request; standing access, not granted by access-bot\) on /);
    assert.equal(h.jira.issues.size, 1, 'no second issue');
  });

  test('a change raised in Jira: the new role is granted, then the old one removed, on the issue raised', async () => {
    h.okta.addMember(GROUPS.readOnly, alice.oktaId);
    const { issueKey, issueId } = await desk.raise(alice, { type: 'change', app: 'Okta admin console', fromRole: 'Read-only', role: 'Super admin', duration: '1 hour', description: 'Taking over the on-call rotation' });
    const r = await requestOf(issueId);
    assert.equal(r.kind, 'change');
    await h.click(carol, r.id, 'approve');
    await waitUntil(() => h.bot.store.getRequest(r.id)!.removedAt !== null, 5000, 'old role removed');
    await h.idle();
    assert.equal(h.okta.isMember(GROUPS.superAdmin, alice.oktaId), true);
    assert.equal(h.okta.isMember(GROUPS.readOnly, alice.oktaId), false);
    const comments = h.jira.commentsText(issueKey);
    const granted = comments.findIndex((c) => c.startsWith('Access granted: okta group 00g1superadm for 00u1alice'));
    const removed = comments.findIndex((c) => c.startsWith('Access removed: okta group 00g1readonly for 00u1alice (change request: Read-only for Super admin'));
    assert.ok(granted >= 0 && removed > granted, comments.join('\n'));
  });

  test('a change to the role one has is refused on the issue, with the reason (intake reads the fields)', async () => {
    const { issueKey } = await desk.raise(alice, { type: 'change', app: 'Okta admin console', fromRole: 'Super admin', role: 'Super admin', duration: '1 hour' });
    await waitUntil(() => h.jira.commentsText(issueKey).some((c) => c.startsWith('Cannot process this request:')), 5000, 'the refusal');
    assert.match(h.jira.commentsText(issueKey).at(-1)!, /Current role and Role are both Super admin/);
  });
});
