/**
 * Atlassian product access end to end, beside the shared connector journey: Confluence through
 * the site groups the `atlassian` connector manages, and the `atlassian-org` connector's own
 * rules (an expiry never suspends an account; a group synced from an IdP is refused with where
 * to manage it).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Harness, PEOPLE, waitUntil } from '../support/harness.js';

const { alice, bob, carol } = PEOPLE;

const CONFLUENCE_USERS = '7c0f1a2e-0000-4000-8000-0000000000d1';
const ORG_CONFLUENCE = '7c0f1a2e-0000-4000-8000-0000000000d2';
const ORG_SYNCED = '7c0f1a2e-0000-4000-8000-0000000000d3';

const CATALOG = `
jira:
  project: ACC
  issueType: Task
  transitions: { approved: Approve, denied: Reject, active: Provisioned, revoked: Done, failed: Fail }
applications:
  - id: confluence
    name: Confluence
    owners: [bob@example.com]
    roles:
      - { id: site-user, name: Site user, grant: { connector: atlassian, group: ${CONFLUENCE_USERS} }, durations: [4h], approvers: [owners] }
      - { id: org-user, name: Org user, grant: { connector: atlassian-org, group: ${ORG_CONFLUENCE} }, durations: [2s, 4h], approvers: [owners] }
      - { id: idp-managed, name: IdP managed, grant: { connector: atlassian-org, group: ${ORG_SYNCED} }, durations: [4h], approvers: [owners] }
`;

describe('Atlassian product access', () => {
  let h: Harness;
  before(async () => {
    h = await new Harness({ connectors: ['atlassian', 'atlassian-org'], catalog: CATALOG }).start();
    h.jira.directory.addGroup({ groupId: CONFLUENCE_USERS, name: 'confluence-users' });
    h.atlassianOrg!.addGroup({ id: ORG_CONFLUENCE, name: 'confluence-users-org' });
    h.atlassianOrg!.addGroup({ id: ORG_SYNCED, name: 'okta-confluence', externalSynced: true });
  });
  after(async () => {
    await h?.stop();
  });

  const stateOf = (id: string): string => h.bot.store.getRequest(id)!.state;

  test('Confluence access is a site group the atlassian connector grants (confluence-users)', async () => {
    const id = await h.request(alice, { app: 'confluence', role: 'site-user', duration: '4h' });
    await h.click(bob, id, 'approve');
    await waitUntil(() => stateOf(id) === 'active', 8000, 'active');
    assert.deepEqual(h.jira.directory.groupMembers(CONFLUENCE_USERS), [alice.atlassianId]);
    await h.idle();
    assert.match(h.jiraComments(id).find((c) => c.startsWith('Access granted'))!, new RegExp(`^Access granted: atlassian group ${CONFLUENCE_USERS} for ${alice.atlassianId}`));
  });

  test('an expiry removes the org group membership and never suspends the account', async () => {
    const org = h.atlassianOrg!;
    const id = await h.request(carol, { app: 'confluence', role: 'org-user', duration: '2s' });
    await h.click(bob, id, 'approve');
    await waitUntil(() => org.isMember(ORG_CONFLUENCE, carol.atlassianId), 8000, 'granted');
    await waitUntil(() => stateOf(id) === 'revoked', 8000, 'revoked at expiry');
    await h.idle();
    assert.equal(org.isMember(ORG_CONFLUENCE, carol.atlassianId), false);
    assert.equal(org.suspendCalls(), 0, 'no suspend call');
    assert.equal(org.users.get(carol.atlassianId)!.membershipStatus, 'active');
  });

  test('a group synced from an identity provider: the grant fails saying where to manage it, nothing is changed', async () => {
    const org = h.atlassianOrg!;
    const id = await h.request(alice, { app: 'confluence', role: 'idp-managed', duration: '4h', reason: 'Needs the IdP-managed space' });
    await h.click(bob, id, 'approve');
    await waitUntil(() => stateOf(id) === 'failed', 8000, 'failed');
    await h.idle();
    assert.match(h.jiraComments(id).at(-1)!, /^Failed: granting access failed: Atlassian group .* is synced from an identity provider .*: manage this group in your IdP, or grant through its connector/);
    assert.equal(org.callsTo('POST', new RegExp(`/groups/${ORG_SYNCED}/memberships$`)).length, 0, 'no membership write sent');
    assert.deepEqual(org.members(ORG_SYNCED), []);
  });
});
