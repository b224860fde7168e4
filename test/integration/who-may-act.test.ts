/**
 * Who may act (issue 14), through signed Slack requests: approvers are re-checked against the
 * reference that routed them, for a decision and for Revoke.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GROUPS, Harness, PEOPLE, waitUntil, type Person } from '../support/harness.js';

const { alice, bob, carol, dave } = PEOPLE;

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
`;

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
