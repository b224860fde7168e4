/**
 * The account-status check (issue 19) beyond the holders of grants: someone who holds nothing but
 * whom a pending request waits on (its requester, who asked on the requester's behalf, an approver
 * its stage still waits for) and who is deactivated or suspended in Okta only, still in Slack, is
 * offboarded like a holder: the request is cancelled on its Jira issue, or the approval re-routed
 * to the fallback. They are found by the Okta user id known for them, else by email; someone Okta
 * does not know by that email is not taken for gone.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Harness, PEOPLE, waitUntil, type Person } from '../support/harness.js';
import type { OffboardResult } from '../../src/app/offboard.js';
import { ADMIN_CHANNEL, addPerson, catalogYaml, nameParts, person } from '../support/fixtures.js';

const { alice, bob, carol, dave } = PEOPLE;
/** Erin asks for Frank as a catalog delegate. */
const erin = person('erin', 'Erin Green');
const frank = person('frank', 'Frank Black');
/** In Slack, not in Okta (a contractor from another directory). */
const grace = person('grace', 'Grace Hopper');
/** Her Okta account is replaced under the same email. */
const henry = person('henry', 'Henry Ford');
/** Asks for a bundle. */
const ivan = person('ivan', 'Ivan Petrov');
const OPS = '00g1pendops';
const VIEW = '00g1pendview';

const CATALOG =
  catalogYaml({
    applications: [
      {
        id: 'console',
        name: 'Console',
        owners: [bob.email],
        roles: [
          { id: 'operator', name: 'Operator', group: OPS, durations: ['8h'], approval: { approvers: ['owners'], fallback: [carol.email] } },
          { id: 'viewer', name: 'Viewer', group: VIEW, durations: ['8h'], approvers: [carol.email] },
        ],
      },
    ],
  }) +
  'bundles:\n  - { id: kit, name: Console kit, parts: [console/viewer, console/operator] }\n' +
  'delegates:\n  - { email: erin@example.com, for: [frank@example.com], applications: [console] }\n';

describe('offboarding: the account-status check finds those pending requests wait on', () => {
  let h: Harness;
  before(async () => {
    h = await new Harness({ catalog: CATALOG }).start();
    h.okta.addGroup({ id: OPS, name: 'Console operators' });
    h.okta.addGroup({ id: VIEW, name: 'Console viewers' });
    for (const p of [erin, frank, henry, ivan]) addPerson(h, p);
    h.slack.addUser({ id: grace.slackId, email: grace.email, realName: grace.name });
  });
  after(async () => {
    await h.stop();
  });

  const state = (id: string) => h.bot.store.getRequest(id)!.state;
  const knownOktaId = (p: Person) => h.bot.store.idpUserIdOf(h.bot.store.personByEmail(p.email)!.id, 'okta');
  const adminAlerts = () => h.slack.messages.filter((m) => m.channel === ADMIN_CHANNEL.id).map((m) => m.text);
  /** Okta searched for the email (the lookup by email, findUserByEmail). */
  const searchedFor = (p: Person) => h.okta.calls.some((c) => c.method === 'GET' && c.path === '/api/v1/users' && (c.query.get('search') ?? '').includes(`"${p.email}"`));

  /** `p` leaves in Okta; the next check finds them, alone, and does what `done` counts. */
  async function leavesInOkta(p: Person, status: 'SUSPENDED' | 'DEPROVISIONED', done: Partial<OffboardResult>): Promise<void> {
    h.okta.setStatus(p.oktaId, status);
    const run = await h.bot.holderChecks.checkAccounts();
    assert.equal(run.gone, 1);
    assert.deepEqual(run.offboarded, { revoked: 0, cancelled: 0, approvals: 0, rerouted: 0, ...done });
  }

  /**
   * A check while `p` still works here finds them by email and keeps their Okta id: Okta does not
   * find a DEPROVISIONED user by email, so the id is what reads a later deactivation.
   */
  async function checkedWhileHere(p: Person): Promise<void> {
    const run = await h.bot.holderChecks.checkAccounts();
    assert.equal(run.gone, 0);
    assert.equal(knownOktaId(p), p.oktaId);
  }

  async function pendingRequest(who: Person, role: 'operator' | 'viewer', approver: Person): Promise<string> {
    const id = await h.request(who, { app: 'console', role, duration: '8h' });
    await waitUntil(() => h.bot.store.approversOf(id).some((a) => a.slackId === approver.slackId), 5000, `${approver.email} asked`);
    await h.idle();
    return id;
  }

  test('someone Okta does not know by email: looked up, nothing happens, no failure', async () => {
    const id = await pendingRequest(grace, 'viewer', carol);
    const alerts = adminAlerts().length;

    const run = await h.bot.holderChecks.checkAccounts();
    await h.idle();
    assert.ok(searchedFor(grace), 'Okta was asked for her email');
    assert.equal(run.gone, 0);
    assert.deepEqual(run.failed, []);
    assert.equal(state(id), 'pending');
    assert.equal(knownOktaId(grace), undefined);
    assert.equal(adminAlerts().length, alerts, 'nothing told to admins');
    assert.ok(!h.jiraComments(id).some((c) => /Cancelled/.test(c)));
  });

  test('a lookup by email Okta refuses is counted and told to admins once; the next run looks again', async () => {
    // Carol's id is known from the last run; Grace is still looked up by email, which fails.
    const stop = h.okta.inject({
      method: 'GET',
      path: '/api/v1/users',
      status: 403,
      body: { errorCode: 'E0000006', errorSummary: 'You do not have permission to perform the requested action', errorLink: 'E0000006', errorId: 'oae403test', errorCauses: [] },
    });
    const run = await h.bot.holderChecks.checkAccounts();
    stop();
    assert.equal(run.gone, 0);
    assert.equal(run.failed.length, 1);
    assert.deepEqual([run.failed[0]!.connector, run.failed[0]!.count], ['okta', 1]);
    assert.match(run.failed[0]!.cause, /permission/);
    const told = () => adminAlerts().filter((t) => /^The account-status check could not read some accounts; they are checked again next run:\nokta: 1 account not checked \(.*permission.*\)$/.test(t));
    await waitUntil(() => told().length > 0, 5000, 'admins told');

    const again = await h.bot.holderChecks.checkAccounts();
    await h.idle();
    assert.deepEqual(again.failed, []);
    assert.equal(told().length, 1);
  });

  test('holding no grant, suspended in Okta: found by email, the pending request is cancelled on its issue', async () => {
    const id = await pendingRequest(dave, 'viewer', carol);
    assert.equal(knownOktaId(dave), undefined, 'no Okta id known for dave yet');

    await leavesInOkta(dave, 'SUSPENDED', { cancelled: 1 });
    assert.ok(searchedFor(dave));
    await waitUntil(() => state(id) === 'cancelled', 10_000, 'cancelled');
    await h.idle();
    assert.match(h.jiraComments(id).at(-1)!, /^Cancelled by access-bot on .*: the requester Dave Brown \(dave@example\.com\) was suspended in okta \(SUSPENDED\)\.$/);
    await waitUntil(() => /cancelled/.test((h.slack.dmsTo(carol.slackId).find((m) => JSON.stringify(m.blocks).includes(id)) ?? { text: '' }).text), 5000, "carol's card says it was cancelled");
    assert.ok(adminAlerts().some((t) => /^Offboarding: Dave Brown \(dave@example\.com\) was suspended in okta \(SUSPENDED\)\. 0 grants revoked, 1 pending request cancelled/.test(t)));
  });

  test("a pending bundle (which grants nothing itself): read in its parts' connector, cancelled on its issue", async () => {
    const id = await h.request(ivan, { app: 'bundle:kit', role: 'bundle', duration: '8h', reason: 'Console work this week' });
    await waitUntil(() => h.bot.store.approversOf(id).length > 0, 5000, 'approvers asked');
    await h.idle();

    await leavesInOkta(ivan, 'SUSPENDED', { cancelled: 1 });
    await waitUntil(() => state(id) === 'cancelled', 10_000, 'cancelled');
    await h.idle();
    assert.match(h.jiraComments(id).at(-1)!, /^Cancelled by access-bot on .*: the requester Ivan Petrov \(ivan@example\.com\) was suspended in okta \(SUSPENDED\)\.$/);
  });

  test('someone who asked for another person is deactivated in Okta: the pending request is cancelled, that person told', async () => {
    const viewId = await h.openRequestModal(erin);
    const res = await h.driver.submitView(erin.slackId, viewId, {
      application: { application: 'console' },
      role: { role: 'viewer' },
      duration: { duration: '8h' },
      reason: { reason: 'Frank joins the console rota on Monday' },
      on_behalf: { on_behalf: frank.slackId },
    });
    assert.equal(res.status, 200);
    const id = h.bot.store.findBySubmissionKey(viewId)!.id;
    await waitUntil(() => h.bot.store.approversOf(id).some((a) => a.slackId === carol.slackId), 5000, 'carol asked');
    await h.idle();

    await checkedWhileHere(erin);
    await leavesInOkta(erin, 'DEPROVISIONED', { cancelled: 1 });
    await waitUntil(() => state(id) === 'cancelled', 10_000, 'cancelled');
    await h.idle();
    assert.match(
      h.jiraComments(id).at(-1)!,
      /^Cancelled by access-bot on .*: Erin Green \(erin@example\.com\), who asked for it on behalf of Frank Black \(frank@example\.com\), was deactivated in okta \(DEPROVISIONED\)\.$/,
    );
    await h.slack.waitForDm(frank.slackId, (m) =>
      /^Your request for Console \/ Viewer .*was cancelled by access-bot: Erin Green \(erin@example\.com\), who had asked for it on your behalf, was deactivated in okta \(DEPROVISIONED\)\. If you still need it, request it again\.$/.test(m.text),
    );
  });

  test('a waiting approver deactivated in Okta only: their approval goes to the fallback, who grants it', async () => {
    const id = await pendingRequest(alice, 'operator', bob);
    await checkedWhileHere(bob);
    await leavesInOkta(bob, 'DEPROVISIONED', { approvals: 1, rerouted: 1 });
    await waitUntil(() => h.bot.store.approversOf(id).some((a) => a.slackId === carol.slackId), 10_000, 'carol asked');
    await h.idle();
    assert.equal(state(id), 'pending');
    const comments = h.jiraComments(id);
    assert.match(comments.at(-2)!, /^Approver Bob Jones \(bob@example\.com\) was deactivated in okta \(DEPROVISIONED\); no longer asked for stage 1 \(on .*\)\.$/);
    assert.match(comments.at(-1)!, /^Approval re-routed to Carol White \(carol@example\.com\) \(fallback\) for stage 1 on .*: the approvers still here could not give the 1 approval needed\.$/);

    await h.click(carol, id, 'approve');
    await waitUntil(() => state(id) === 'active', 5000, 'granted');
    assert.ok(h.okta.isMember(OPS, alice.oktaId));
  });

  test('an Okta account replaced under the same email: the account the email leads to now decides, nothing ends', async () => {
    const id = await pendingRequest(henry, 'viewer', carol);
    await checkedWhileHere(henry);

    // Re-provisioned: the old account is deleted, a new one has his email.
    h.okta.removeUser(henry.oktaId);
    h.okta.addUser({ id: '00u2henry', login: henry.email, email: henry.email, ...nameParts(henry.name) });
    const run = await h.bot.holderChecks.checkAccounts();
    await h.idle();
    assert.equal(run.gone, 0);
    assert.deepEqual(run.failed, []);
    assert.equal(state(id), 'pending');
    assert.equal(knownOktaId(henry), '00u2henry', 'the new account is the one known from now on');
  });
});
