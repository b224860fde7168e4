/**
 * Offboarding (issue 19) through the emulators: a person deactivated in Okta (found by the
 * account-status check) or deactivated in Slack (the `user_change` event the Slack emulator
 * delivers, signed, to the subscription slack-manifest.json asks for) loses every grant at once,
 * a grant still on its way ends as it lands, their pending requests are cancelled, and the
 * approvals waiting on them go to the fallback (or fail when there is none). A pending request they
 * made on someone else's behalf is cancelled too (that person is told); access granted on their
 * word stays. Each step is on its Jira issue; running again, or a redelivered event, changes
 * nothing more.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { Harness, PEOPLE, SIGNING_SECRET, waitUntil, type Person } from '../support/harness.js';
import { ADMIN_CHANNEL, addPerson, catalogYaml, person } from '../support/fixtures.js';

const { alice, bob, carol, dave } = PEOPLE;
/** Erin asks for Frank as a catalog delegate. */
const erin = person('erin', 'Erin Green');
const frank = person('frank', 'Frank Black');
const OPS = '00g1offbops';
const VIEW = '00g1offbview';
const ADMIN = '00g1offbadmin';

const CATALOG = catalogYaml({
  applications: [
    {
      id: 'console',
      name: 'Console',
      owners: [bob.email],
      roles: [
        { id: 'operator', name: 'Operator', group: OPS, durations: ['8h'], approval: { approvers: ['owners'], fallback: [carol.email] } },
        { id: 'viewer', name: 'Viewer', group: VIEW, durations: ['1h', '8h'], approvers: [carol.email] },
        { id: 'admin', name: 'Admin', group: ADMIN, durations: ['1h'], approvers: ['owners'] },
      ],
    },
  ],
}) +
  'bundles:\n  - { id: kit, name: Console kit, parts: [console/viewer, console/admin], approval: auto }\n' +
  'delegates:\n  - { email: erin@example.com, for: [frank@example.com], applications: [console] }\n';

/** The manifest's Events API subscription, as Slack would hold it once the app is installed. */
function manifestEvents(): string[] {
  const manifest = JSON.parse(readFileSync(new URL('../../slack-manifest.json', import.meta.url), 'utf8')) as { settings: { event_subscriptions: { bot_events: string[] } } };
  return manifest.settings.event_subscriptions.bot_events;
}

describe('offboarding', () => {
  let h: Harness;
  before(async () => {
    h = await new Harness({ catalog: CATALOG }).start();
    for (const [id, name] of [
      [OPS, 'Console operators'],
      [VIEW, 'Console viewers'],
      [ADMIN, 'Console admins'],
    ] as const) {
      h.okta.addGroup({ id, name });
    }
    h.slack.subscribeEvents({ requestUrl: h.driver.eventsUrl, signingSecret: SIGNING_SECRET, botEvents: manifestEvents() });
    for (const p of [erin, frank]) addPerson(h, p);
  });
  after(async () => {
    await h.stop();
  });

  async function asked(id: string, approver: Person): Promise<void> {
    await waitUntil(() => h.bot.store.approversOf(id).some((a) => a.slackId === approver.slackId), 5000, `${approver.email} asked`);
  }

  const activeGrant = (who: Person, role: string, approver: Person) => h.approvedGrant(who, approver, { app: 'console', role, duration: role === 'admin' ? '1h' : '8h' });

  const state = (id: string) => h.bot.store.getRequest(id)!.state;
  const adminAlerts = () => h.slack.messages.filter((m) => m.channel === ADMIN_CHANNEL.id).map((m) => m.text);

  test('deactivated in Okta mid-grant: the grant ends at once, one on its way ends as it lands, the pending request is cancelled; each on its issue', async () => {
    const grant = await activeGrant(alice, 'operator', bob);
    // A grant held up in Okta (503s): approved, not yet active, when alice leaves.
    const stopOutage = h.okta.inject({ method: 'PUT', path: `/api/v1/groups/${VIEW}/users/${alice.oktaId}`, status: 503, body: { errorCode: 'E0000009', errorSummary: 'Internal Server Error' } });
    const inFlight = await h.request(alice, { app: 'console', role: 'viewer', duration: '8h' });
    await asked(inFlight, carol);
    await h.click(carol, inFlight, 'approve');
    await waitUntil(() => h.bot.store.getRequest(inFlight)!.idpUserId !== null, 5000, 'the grant on its way');
    const pending = await h.request(alice, { app: 'console', role: 'admin', duration: '1h' });
    await asked(pending, bob);
    await h.idle(10_000).catch(() => undefined);

    assert.equal(state(inFlight), 'approved', 'the viewer grant is still on its way');
    assert.ok(h.okta.calls.some((c) => c.method === 'PUT' && c.path.endsWith(`${VIEW}/users/${alice.oktaId}`)), 'Okta was asked and failed');
    h.okta.setStatus(alice.oktaId, 'DEPROVISIONED');
    const run = await h.bot.holderChecks.checkAccounts();
    assert.equal(run.gone, 1);
    assert.deepEqual(run.offboarded, { revoked: 2, cancelled: 1, approvals: 0, rerouted: 0 });
    stopOutage();
    await waitUntil(() => state(grant) === 'revoked' && state(inFlight) === 'revoked' && state(pending) === 'cancelled', 10_000, 'ended');
    await h.idle();

    assert.equal(h.okta.isMember(OPS, alice.oktaId), false);
    assert.equal(h.okta.isMember(VIEW, alice.oktaId), false, 'the grant that landed after she left was removed');
    const why = 'offboarded: Alice Smith \\(alice@example\\.com\\) was deactivated in okta \\(DEPROVISIONED\\)';
    assert.match(h.jiraComments(grant).at(-1)!, new RegExp(`^Access revoked \\(${why}\\) on .*: removed 00u1alice from okta group ${OPS}\\.$`));
    const landed = h.jiraComments(inFlight);
    assert.match(landed.at(-2)!, /^Access granted: okta group 00g1offbview for 00u1alice/);
    assert.match(landed.at(-1)!, new RegExp(`^Access revoked \\(${why}\\) on .*: removed 00u1alice from okta group ${VIEW}\\.$`));
    assert.match(h.jiraComments(pending).at(-1)!, /^Cancelled by access-bot on .*: the requester Alice Smith \(alice@example\.com\) was deactivated in okta \(DEPROVISIONED\)\.$/);
    await waitUntil(() => /cancelled/.test((h.slack.dmsTo(bob.slackId).find((m) => JSON.stringify(m.blocks).includes(pending)) ?? { text: '' }).text), 5000, "bob's card says it was cancelled");
    assert.ok(adminAlerts().some((t) => /^Offboarding: Alice Smith \(alice@example\.com\) was deactivated in okta \(DEPROVISIONED\)\. 2 grants revoked, 1 pending request cancelled, 0 approvals taken from them/.test(t)));

    // The next check finds nothing left to end.
    const comments = [grant, inFlight, pending].map((id) => h.jiraComments(id).length);
    const again = await h.bot.holderChecks.checkAccounts();
    assert.equal(again.gone, 0);
    await h.idle();
    assert.deepEqual([grant, inFlight, pending].map((id) => h.jiraComments(id).length), comments);
  });

  // Before Bob leaves (the next test): he is asked about the request Erin makes.
  test("someone who asked for another person leaves: the pending request they asked for is cancelled and that person told; access granted on their word stays", async () => {
    /** Erin submits the request modal for Frank. */
    async function erinAsksForFrank(role: 'viewer' | 'admin', duration: string): Promise<string> {
      const viewId = await h.openRequestModal(erin);
      const res = await h.driver.submitView(erin.slackId, viewId, {
        application: { application: 'console' },
        role: { role },
        duration: { duration },
        reason: { reason: 'Frank joins the console rota on Monday' },
        on_behalf: { on_behalf: frank.slackId },
      });
      assert.equal(res.status, 200);
      const r = h.bot.store.findBySubmissionKey(viewId);
      assert.ok(r, 'a request was recorded');
      assert.deepEqual([r.requesterSlackId, r.submitterSlackId, r.submittedAs], [frank.slackId, erin.slackId, 'delegate']);
      return r.id;
    }
    const granted = await erinAsksForFrank('viewer', '8h');
    await asked(granted, carol);
    await h.click(carol, granted, 'approve');
    await waitUntil(() => state(granted) === 'active', 5000, 'granted');
    const pending = await erinAsksForFrank('admin', '1h');
    await asked(pending, bob);
    await h.idle();

    const delivery = await h.slack.deactivateUser(erin.slackId);
    assert.equal(delivery?.status, 200, 'the signed user_change was accepted');
    await waitUntil(() => state(pending) === 'cancelled', 10_000, 'the pending request cancelled');
    await h.idle();

    // The request Erin asked for is no longer waiting on the word of someone who left.
    assert.match(
      h.jiraComments(pending).at(-1)!,
      /^Cancelled by access-bot on .*: Erin Green \(erin@example\.com\), who asked for it on behalf of Frank Black \(frank@example\.com\), left the Slack workspace \(deactivated in Slack\)\.$/,
    );
    await h.slack.waitForDm(frank.slackId, (m) =>
      /^Your request for Console \/ Admin .*was cancelled by access-bot: Erin Green \(erin@example\.com\), who had asked for it on your behalf, left the Slack workspace \(deactivated in Slack\)\. If you still need it, request it again\.$/.test(m.text),
    );
    await waitUntil(() => /cancelled/.test((h.slack.dmsTo(bob.slackId).find((m) => JSON.stringify(m.blocks).includes(pending)) ?? { text: '' }).text), 5000, "bob's card says it was cancelled");
    assert.ok(adminAlerts().some((t) => /^Offboarding: Erin Green \(erin@example\.com\) left the Slack workspace \(deactivated in Slack\)\. 0 grants revoked, 1 pending request cancelled \(1 asked for someone else\), 0 approvals taken from them/.test(t)));
    // Access granted on her word is not ended: Frank still works here, and it was approved.
    assert.equal(state(granted), 'active');
    assert.ok(h.okta.isMember(VIEW, frank.oktaId));
    assert.ok(!h.jiraComments(granted).some((c) => /offboarded|Cancelled/.test(c)));

    // Slack delivers the same event again: nothing more.
    const comments = [granted, pending].map((id) => h.jiraComments(id).length);
    const replay = await h.driver.event({ type: 'user_change', user: { id: erin.slackId, deleted: true } }, { eventId: delivery!.eventId, retryNum: 1 });
    assert.equal(replay.status, 200);
    await h.idle();
    assert.deepEqual([granted, pending].map((id) => h.jiraComments(id).length), comments);
  });

  test('deactivated in Slack: user_change ends their grant, their approvals go to the fallback (or fail without one), and a redelivery changes nothing', async () => {
    assert.ok(manifestEvents().includes('user_change'), 'slack-manifest.json subscribes to user_change');
    const bobsGrant = await activeGrant(bob, 'viewer', carol);
    const withFallback = await h.request(dave, { app: 'console', role: 'operator', duration: '8h' });
    await asked(withFallback, bob);
    const withoutFallback = await h.request(carol, { app: 'console', role: 'admin', duration: '1h' });
    await asked(withoutFallback, bob);
    await h.idle();

    const delivery = await h.slack.deactivateUser(bob.slackId);
    assert.equal(delivery?.status, 200, 'the signed user_change was accepted');
    await waitUntil(() => state(bobsGrant) === 'revoked' && state(withoutFallback) === 'failed', 10_000, 'ended');
    await asked(withFallback, carol);
    await h.idle();

    assert.equal(h.okta.isMember(VIEW, bob.oktaId), false);
    const why = 'Bob Jones \\(bob@example\\.com\\) left the Slack workspace \\(deactivated in Slack\\)';
    assert.match(h.jiraComments(bobsGrant).at(-1)!, new RegExp(`^Access revoked \\(offboarded: ${why}\\) on .*: removed 00u1bob from okta group ${VIEW}\\.$`));
    const rerouted = h.jiraComments(withFallback);
    assert.match(rerouted.at(-2)!, new RegExp(`^Approver ${why}; no longer asked for stage 1 \\(on .*\\)\\.$`));
    assert.match(rerouted.at(-1)!, /^Approval re-routed to Carol White \(carol@example\.com\) \(fallback\) for stage 1 on .*: the approvers still here could not give the 1 approval needed\.$/);
    assert.match(h.jiraComments(withoutFallback).at(-1)!, /^Failed: stage 1 can no longer get its 1 approval: its approvers left and the policy has no fallback \(on .*\)\.$/);

    // Carol, asked in bob's place, approves: dave gets his access.
    await h.click(carol, withFallback, 'approve');
    await waitUntil(() => state(withFallback) === 'active', 5000, 'granted');
    assert.ok(h.okta.isMember(OPS, dave.oktaId));

    // Slack delivers the same event again (a retry): nothing more happens.
    await h.idle();
    const comments = [bobsGrant, withFallback, withoutFallback].map((id) => h.jiraComments(id).length);
    const replay = await h.driver.event({ type: 'user_change', user: { id: bob.slackId, deleted: true } }, { eventId: delivery!.eventId, retryNum: 1 });
    assert.equal(replay.status, 200);
    await h.idle();
    assert.deepEqual([bobsGrant, withFallback, withoutFallback].map((id) => h.jiraComments(id).length), comments);
    assert.ok(h.logs.some((l) => l.includes('dropped a Slack event delivered again')));
    // A user_change that is not a deactivation (a profile edit) changes nothing either.
    const edit = await h.driver.event({ type: 'user_change', user: { id: dave.slackId, deleted: false, real_name: 'Dave B.' } });
    assert.equal(edit.status, 200);
    assert.equal(state(withFallback), 'active');
  });

  test('suspended in Okta while holding a bundle: the bundle ends with all its parts, on its issue', async () => {
    const kit = await h.request(carol, { app: 'bundle:kit', role: 'bundle', duration: '1h', reason: 'Console work this afternoon' });
    await waitUntil(() => state(kit) === 'active' && h.bot.store.partsOf(kit).every((p) => p.state === 'active'), 10_000, 'the bundle granted');
    await h.idle();
    assert.ok(h.okta.isMember(VIEW, carol.oktaId) && h.okta.isMember(ADMIN, carol.oktaId));

    h.okta.setStatus(carol.oktaId, 'SUSPENDED');
    const run = await h.bot.holderChecks.checkAccounts();
    assert.equal(run.gone, 1);
    await waitUntil(() => state(kit) === 'revoked', 10_000, 'the bundle revoked');
    await h.idle();
    assert.equal(h.okta.isMember(VIEW, carol.oktaId), false);
    assert.equal(h.okta.isMember(ADMIN, carol.oktaId), false);
    assert.match(h.jiraComments(kit).at(-1)!, /^Bundle revoked \(offboarded: Carol White \(carol@example\.com\) was suspended in okta \(SUSPENDED\)\) on .*: every part ended \(2 revoked\)\.$/);
  });
});
