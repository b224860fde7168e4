/**
 * Who may act (issue 14, items 7-9), through signed Slack requests: break-glass reviews count only
 * from configured reviewers, under the name Slack's directory gives; approvers are re-checked
 * against the reference that routed them, for a decision and for Revoke; guests, Slack Connect
 * users and unconfirmed emails neither request nor decide unless ALLOW_GUESTS=true.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GROUPS, Harness, PEOPLE, SIGNING_SECRET, waitUntil, type Person } from '../support/harness.js';

const { alice, bob, carol, dave } = PEOPLE;
const erin: Person = { slackId: 'U0ERIN', email: 'erin@example.com', name: 'Erin Green', oktaId: '00u1erin' };
const gus: Person = { slackId: 'U0GUS', email: 'gus@example.com', name: 'Gus Guest', oktaId: '00u1gus' };
const uma: Person = { slackId: 'U0UMA', email: 'uma@example.com', name: 'Uma Unconfirmed', oktaId: '00u1uma' };
const sam: Person = { slackId: 'U0SAM', email: 'sam@partner.example', name: 'Sam Partner', oktaId: '00u1sam' };
const fay: Person = { slackId: 'U0FAY', email: 'fay@example.com', name: 'Fay Fields', oktaId: '00u1fay' };
const hal: Person = { slackId: 'U0HAL', email: 'hal@example.com', name: 'Hal Hart', oktaId: '00u1hal' };

function addPerson(h: Harness, p: Person, slack: Partial<Parameters<Harness['slack']['addUser']>[0]> = {}): void {
  h.slack.addUser({ id: p.slackId, email: p.email, realName: p.name, ...slack });
  const [first, last] = p.name.split(' ');
  h.okta.addUser({ id: p.oktaId, login: p.email, email: p.email, firstName: first!, lastName: last! });
}

const refusals = (h: Harness, id: string, who: string) =>
  h.bot.store
    .auditOf(id)
    .filter((a) => a.step.type === 'decision_refused' && a.actor === who)
    .map((a) => (a.step as { code: string }).code);

/** A private answer to this person (through the response_url Slack gave with their click or command). */
const privately = (h: Harness, who: Person, text: RegExp) => h.slack.waitForResponseUrlPost((p) => p.context.user === who.slackId && text.test(String(p.body.text)));

// -------------------------------------------------------------------------------------------------

const CATALOG = `
jira: { project: ACC }
applications:
  - id: prod-db
    name: Production database
    owners: [bob@example.com]
    roles:
      - id: emergency
        name: Emergency admin
        grant: { connector: okta, group: ${GROUPS.superAdmin} }
        durations: [1h]
        breakGlass: { notify: "#security-alerts", minReasonLength: 20, reviewers: [carol@example.com, "slack-group:secops"] }
      - id: emergency-owners
        name: Emergency admin (owners review)
        grant: { connector: okta, group: ${GROUPS.superAdmin} }
        durations: [1h]
        breakGlass: { notify: "#security-alerts", minReasonLength: 20 }
      - id: fallback
        name: With fallback
        grant: { connector: okta, group: ${GROUPS.readOnly} }
        durations: [4h]
        approval:
          approvers: [ghost@example.com]
          fallback: [carol@example.com, manager]
      - id: reader
        name: Reader
        grant: { connector: okta, group: ${GROUPS.readOnly} }
        durations: [4h]
        approvers: [owners]
      - id: partner
        name: Partner-approved
        grant: { connector: okta, group: ${GROUPS.readOnly} }
        durations: [4h]
        approvers: [sam@partner.example]
`;

describe('break-glass: only the configured reviewers acknowledge', () => {
  let h: Harness;
  before(async () => {
    h = await new Harness({ catalog: CATALOG }).start();
    addPerson(h, erin);
    h.slack.addChannel({ id: 'C0SEC', name: 'security-alerts', botIsMember: true });
    h.slack.addUserGroup({ id: 'S0SECOPS', handle: 'secops', users: [erin.slackId] });
  });
  after(async () => {
    await h.stop();
  });

  async function emergency(role = 'emergency') {
    const id = await h.request(alice, { app: 'prod-db', role, duration: '1h', reason: 'Production outage INC-77: primary refuses connections' });
    await waitUntil(() => h.bot.store.getRequest(id)!.state === 'active', 10_000, 'granted at once');
    await h.idle();
    const key = h.bot.store.getRequest(id)!.jiraKey!;
    const alert = await h.slack.waitForMessage((m) => m.channel === 'C0SEC' && m.text.includes(key));
    return { id, alert };
  }
  const reviews = (id: string) => h.jiraComments(id).filter((c) => c.startsWith('Break-glass access reviewed by'));
  /** Reviewed is acked before it is checked (it may need Slack group and IdP lookups): wait for it. */
  const reviewed = async (id: string) => {
    await waitUntil(() => h.bot.store.getRequest(id)!.reviewedAt !== null, 5000, 'review recorded');
    await h.idle();
  };

  test("only a configured reviewer's Reviewed click counts", async () => {
    const { id, alert } = await emergency();
    // Bob owns the application, but this role names its reviewers: his click does not count.
    await h.driver.clickButton(bob.slackId, alert, 'review_break_glass');
    await privately(h, bob, /Only the configured reviewers/);
    await h.idle();
    assert.equal(h.bot.store.getRequest(id)!.reviewedAt, null);
    await h.driver.clickButton(carol.slackId, alert, 'review_break_glass');
    await reviewed(id);
    assert.deepEqual(reviews(id).map((c) => c.replace(/ on .*$/, '')), ['Break-glass access reviewed by Carol White (carol@example.com)']);

    // A member of a listed Slack group is a reviewer too.
    const second = await emergency();
    await h.driver.clickButton(erin.slackId, second.alert, 'review_break_glass');
    await reviewed(second.id);
    assert.equal(reviews(second.id).length, 1);

    // Without reviewers:, the application's owners review.
    const third = await emergency('emergency-owners');
    await h.driver.clickButton(carol.slackId, third.alert, 'review_break_glass');
    await privately(h, carol, /Only the configured reviewers/);
    await h.driver.clickButton(bob.slackId, third.alert, 'review_break_glass');
    await reviewed(third.id);
    assert.deepEqual(reviews(third.id).map((c) => c.replace(/ on .*$/, '')), ['Break-glass access reviewed by Bob Jones (bob@example.com)']);
  });

  test("a non-reviewer's click is refused privately and changes nothing", async () => {
    const { id, alert } = await emergency();
    const before = { request: JSON.stringify(h.bot.store.getRequest(id)), comments: h.jiraComments(id).length, versions: h.slack.findMessage(alert.channel, alert.ts)!.history.length };
    const posted = h.slack.messages.length;
    await h.driver.clickButton(dave.slackId, alert, 'review_break_glass');
    await privately(h, dave, /Only the configured reviewers of this emergency access/);
    await h.idle();
    assert.equal(JSON.stringify(h.bot.store.getRequest(id)), before.request);
    assert.equal(h.jiraComments(id).length, before.comments);
    assert.equal(h.slack.findMessage(alert.channel, alert.ts)!.history.length, before.versions, 'the alert is not updated');
    assert.match(JSON.stringify(h.slack.findMessage(alert.channel, alert.ts)!.blocks), /"action_id":"review_break_glass"/);
    assert.equal(h.slack.messages.length, posted, 'nothing posted in the channel');
    assert.deepEqual(refusals(h, id, dave.slackId), ['not_a_reviewer']);
  });

  test('the name on Jira is the users.info name even when the payload says otherwise', async () => {
    const { id, alert } = await emergency();
    await h.driver.clickButton(carol.slackId, alert, 'review_break_glass', { userName: 'The CEO' });
    await reviewed(id);
    assert.deepEqual(reviews(id).map((c) => c.replace(/ on .*$/, '')), ['Break-glass access reviewed by Carol White (carol@example.com)']);
    assert.match(JSON.stringify(h.slack.findMessage(alert.channel, alert.ts)!.blocks), /Reviewed by Carol White/);
    assert.doesNotMatch(JSON.stringify(h.slack.findMessage(alert.channel, alert.ts)!.blocks), /The CEO/);
  });
});

// -------------------------------------------------------------------------------------------------

describe('approvers are re-checked by what routed them, for decisions and for Revoke', () => {
  let h: Harness;
  before(async () => {
    h = await new Harness({ catalog: CATALOG }).start();
    h.okta.updateProfile(alice.oktaId, { managerId: dave.oktaId });
  });
  after(async () => {
    await h.stop();
  });
  const state = (id: string) => h.bot.store.getRequest(id)!.state;

  test('an approver removed from the fallback list by email can no longer decide, even when the list also names manager', async () => {
    const id = await h.request(alice, { app: 'prod-db', role: 'fallback', duration: '4h' });
    const carols = await h.approverMessage(carol, id);
    const daves = await h.approverMessage(dave, id);
    await h.idle();
    assert.deepEqual(
      h.bot.store
        .approversOf(id)
        .map((a) => `${a.email} ${a.via}`)
        .sort(),
      ['carol@example.com fallback:email', 'dave@example.com fallback:manager'],
    );
    await h.restart({ catalog: CATALOG.replace('fallback: [carol@example.com, manager]', 'fallback: [manager]') });
    try {
      await h.driver.clickButton(carol.slackId, carols, 'approve');
      await privately(h, carol, /no longer an approver/);
      await h.idle();
      assert.equal(state(id), 'pending');
      // The manager, routed by the reference still listed, decides.
      await h.driver.clickButton(dave.slackId, daves, 'approve');
      await waitUntil(() => state(id) === 'active', 10_000, 'approved by the manager');
    } finally {
      await h.restart({ catalog: CATALOG });
    }
  });

  test('an approver removed from the catalog cannot revoke; the requester still can', async () => {
    const id = await h.request(alice, { app: 'prod-db', role: 'reader', duration: '4h' });
    await h.click(bob, id, 'approve');
    await waitUntil(() => state(id) === 'active', 10_000, 'active');
    await h.idle();
    const card = await h.approverMessage(bob, id);
    const granted = await h.slack.waitForDm(alice.slackId, (m) => m.text.startsWith('Access granted') && JSON.stringify(m.blocks).includes(id));
    await h.restart({ catalog: CATALOG.replace('owners: [bob@example.com]', 'owners: [carol@example.com]') });
    try {
      await h.driver.clickButton(bob.slackId, card, 'revoke_access');
      await privately(h, bob, /no longer an approver of this request/);
      await h.idle();
      assert.equal(state(id), 'active');
      assert.equal(h.okta.isMember(GROUPS.readOnly, alice.oktaId), true);
      assert.deepEqual(refusals(h, id, bob.slackId), ['no_longer_listed']);
      await h.driver.clickButton(alice.slackId, granted, 'revoke_access');
      await waitUntil(() => state(id) === 'revoked', 10_000, 'revoked by the requester');
    } finally {
      await h.restart({ catalog: CATALOG });
    }
  });
});

// -------------------------------------------------------------------------------------------------

describe('guests, Slack Connect users and unconfirmed emails', () => {
  let h: Harness;
  let offset = 0;
  before(async () => {
    h = await new Harness({ catalog: CATALOG, compose: { now: () => Date.now() + offset } }).start();
    addPerson(h, gus, { guest: 'multi-channel' });
    addPerson(h, uma, { emailConfirmed: false });
    addPerson(h, erin);
  });
  after(async () => {
    await h.stop();
  });
  const requestsBy = (p: Person) => h.bot.sql.value<number>('SELECT count(*) AS n FROM requests r JOIN people p ON p.id = r.requester_id WHERE p.slack_id = ?', p.slackId);
  const modalsFor = (p: Person) => [...h.slack.views.values()].filter((v) => v.userId === p.slackId).length;

  test('a guest may not request', async () => {
    await h.driver.command(gus.slackId);
    await privately(h, gus, /^Slack guests cannot request access\.$/);
    assert.equal(modalsFor(gus), 0, 'no modal for a guest');

    // Demoted to a guest while the modal is open: the submission is refused (the lookup cache has expired).
    await h.driver.command(erin.slackId);
    const view = await h.slack.waitForView((v) => v.userId === erin.slackId && v.view.callback_id === 'access_request');
    h.slack.addUser({ id: erin.slackId, email: erin.email, realName: erin.name, guest: 'single-channel' });
    offset += 61_000;
    const res = await h.driver.submitView(erin.slackId, view.id, {
      application: { application: 'prod-db' },
      role: { role: 'reader' },
      duration: { duration: '4h' },
      reason: { reason: 'Submitted after becoming a guest' },
    });
    assert.deepEqual(res.body, { response_action: 'errors', errors: { application: 'Slack guests cannot request access.' } });
    assert.equal(requestsBy(erin), 0);
    assert.equal(requestsBy(gus), 0);
  });

  const reader = (reason: string) => ({ application: { application: 'prod-db' }, role: { role: 'reader' }, duration: { duration: '4h' }, reason: { reason } });

  test('a member made a guest is refused at once: user_change drops the cached users.info answer', async () => {
    h.slack.subscribeEvents({ requestUrl: h.driver.eventsUrl, signingSecret: SIGNING_SECRET, botEvents: ['user_change'] });
    addPerson(h, fay);
    await h.driver.command(fay.slackId);
    const view = await h.slack.waitForView((v) => v.userId === fay.slackId && v.view.callback_id === 'access_request');
    // Within the cache's minute (the clock does not move): only the event can make the bot ask again.
    const delivery = await h.slack.changeUser({ id: fay.slackId, email: fay.email, realName: fay.name, guest: 'multi-channel' });
    assert.equal(delivery?.status, 200, 'the signed user_change was accepted');
    const res = await h.driver.submitView(fay.slackId, view.id, reader('Submitted after becoming a guest'));
    assert.deepEqual(res.body, { response_action: 'errors', errors: { application: 'Slack guests cannot request access.' } });
    assert.equal(requestsBy(fay), 0);
  });

  test('users.info answers outlive a restart for their minute, and no longer', async () => {
    addPerson(h, hal);
    const views: string[] = [];
    for (let i = 0; i < 2; i++) {
      await h.driver.command(hal.slackId);
      const v = await h.slack.waitForView((x) => x.userId === hal.slackId && x.view.callback_id === 'access_request' && !views.includes(x.id));
      views.push(v.id);
    }
    await h.idle();
    await h.restart({ catalog: CATALOG });
    // Made a guest without an event reaching the bot: only asking Slack would show it.
    h.slack.addUser({ id: hal.slackId, email: hal.email, realName: hal.name, guest: 'multi-channel' });
    const kept = await h.driver.submitView(hal.slackId, views[0]!, reader('Right after a restart'));
    assert.equal(kept.status, 200);
    assert.equal(kept.body, '', 'accepted on the users.info answer kept from before the restart: Slack was not asked');
    await waitUntil(() => requestsBy(hal) === 1, 5000, 'recorded');
    offset += 61_000;
    const stale = await h.driver.submitView(hal.slackId, views[1]!, reader('A minute later'));
    assert.deepEqual(stale.body, { response_action: 'errors', errors: { application: 'Slack guests cannot request access.' } }, 'a minute later Slack is asked again');
    assert.equal(requestsBy(hal), 1);
  });

  test('an unconfirmed email may not request', async () => {
    await h.driver.command(uma.slackId);
    await privately(h, uma, /Slack email address is not confirmed/);
    assert.equal(modalsFor(uma), 0);
    assert.equal(requestsBy(uma), 0);
  });

  test('a Slack Connect stranger may not approve', async () => {
    // Listed as an approver, but from another organisation: never asked; nobody else is listed.
    h.slack.addUser({ id: sam.slackId, email: sam.email, realName: sam.name, stranger: true, teamId: 'T0PARTNER' });
    const never = await h.request(alice, { app: 'prod-db', role: 'partner', duration: '4h' });
    await waitUntil(() => h.bot.store.getRequest(never)!.state === 'failed', 10_000, 'failed: nobody to ask');
    assert.match(h.bot.store.getRequest(never)!.failure!, /sam@partner\.example \(a Slack Connect user from another organisation\)/);
    assert.equal(h.slack.dmsTo(sam.slackId).length, 0);

    // Asked while a member of this workspace, then moved to a partner organisation: the click is refused.
    h.slack.addUser({ id: sam.slackId, email: sam.email, realName: sam.name });
    const id = await h.request(alice, { app: 'prod-db', role: 'partner', duration: '4h' });
    const card = await h.approverMessage(sam, id);
    await h.idle();
    h.slack.addUser({ id: sam.slackId, email: sam.email, realName: sam.name, stranger: true, teamId: 'T0PARTNER' });
    offset += 61_000;
    await h.driver.clickButton(sam.slackId, card, 'approve');
    await privately(h, sam, /^People from outside this organisation \(Slack Connect\) cannot approve, deny, revoke or review access requests here\.$/);
    await h.driver.clickButton(sam.slackId, card, 'deny');
    await h.idle();
    assert.equal(h.bot.store.getRequest(id)!.state, 'pending');
    assert.deepEqual(refusals(h, id, sam.slackId), ['account_external', 'account_external']);
    assert.equal(h.slack.callsTo('POST', '/api/views.open').filter((c) => JSON.stringify(c.body).includes('deny_reason')).length, 0, 'no deny modal');
  });
});

describe('ALLOW_GUESTS=true', () => {
  let h: Harness;
  before(async () => {
    h = await new Harness({ env: { ALLOW_GUESTS: 'true' } }).start();
    addPerson(h, gus, { guest: 'multi-channel' });
  });
  after(async () => {
    await h.stop();
  });

  test('ALLOW_GUESTS=true lets a guest request', async () => {
    const id = await h.request(gus, { duration: '4h' });
    await h.click(bob, id, 'approve');
    await waitUntil(() => h.okta.isMember(GROUPS.readOnly, gus.oktaId), 10_000, 'granted to the guest');
  });
});
