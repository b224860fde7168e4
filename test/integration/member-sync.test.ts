/**
 * The user sync (jobs/memberSync.ts) against the Okta and Atlassian organization emulators: each
 * catalog group's members listed page by page and stored with when they were first and last
 * seen, members who left marked gone, rate limits waited out with the service's own hint, and a
 * group that cannot be listed recorded as failed with its cause while the others go on.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Harness, PEOPLE } from '../support/harness.js';

const { alice, bob, carol, dave } = PEOPLE;

const OKTA_GROUP = '00g1syncokta';
const OKTA_GHOST = '00g1syncghost';
const ORG_GROUP = '5e1c0d2e-0000-4000-8000-0000000000e1';

const CATALOG = `
jira:
  project: ACC
  issueType: Task
applications:
  - id: synced
    name: Synced
    owners: [bob@example.com]
    roles:
      - { id: okta, name: Okta, grant: { connector: okta, group: ${OKTA_GROUP} }, durations: [4h], approvers: [owners] }
      - { id: okta-again, name: Okta again, grant: { connector: okta, group: ${OKTA_GROUP} }, durations: [1h], approvers: [owners] }
      - { id: ghost, name: Ghost, grant: { connector: okta, group: ${OKTA_GHOST} }, durations: [4h], approvers: [owners] }
      - { id: org, name: Org, grant: { connector: atlassian-org, group: ${ORG_GROUP} }, durations: [4h], approvers: [owners] }
`;

describe('user sync over Okta and the Atlassian organization', () => {
  let h: Harness;
  // Real time, moved on by an hour between syncs (the connectors' rate gates run on it too).
  let shift = 0;
  const clock = (): number => Date.now() + shift;
  before(async () => {
    h = await new Harness({
      connectors: ['okta', 'atlassian-org'],
      catalog: CATALOG,
      // Two members per page, so every listing here takes several pages.
      compose: { now: clock, memberSync: { schedule: 'off', pageSize: 2, backoffMs: 10 } },
    }).start();
    h.okta.addGroup({ id: OKTA_GROUP, name: 'Sync test' });
    for (const p of [alice, bob, carol]) h.okta.addMember(OKTA_GROUP, p.oktaId);
    const org = h.atlassianOrg!;
    org.addGroup({ id: ORG_GROUP, name: 'jira-software-users', members: [alice, bob, carol, dave].map((p) => p.atlassianId) });
  });
  after(async () => {
    await h?.stop();
  });

  test('lists every granted group once, stores each member with first and last seen, and records each outcome', async () => {
    const results = await h.bot.memberSync.runOnce();
    const t1 = h.bot.groupMembers.lastSync('okta', OKTA_GROUP)!.startedAt;
    assert.deepEqual(
      results.map((r) => [r.connector, r.group, r.outcome, r.members]),
      [
        ['okta', OKTA_GROUP, 'ok', 3],
        ['okta', OKTA_GHOST, 'failed', undefined],
        ['atlassian-org', ORG_GROUP, 'ok', 4],
      ],
    );
    const okta = h.bot.groupMembers.currentMembers('okta', OKTA_GROUP);
    assert.deepEqual(okta.map((m) => m.idpUserId).sort(), [alice.oktaId, bob.oktaId, carol.oktaId].sort());
    assert.ok(okta.every((m) => m.firstSeenAt === t1 && m.lastSeenAt === t1 && m.goneAt === null));
    assert.equal(okta.find((m) => m.idpUserId === alice.oktaId)!.email, alice.email);
    const org = h.bot.groupMembers.currentMembers('atlassian-org', ORG_GROUP);
    assert.deepEqual(org.map((m) => m.idpUserId).sort(), [alice, bob, carol, dave].map((p) => p.atlassianId).sort());
    // Paged: 4 members at 2 a page is 2 searches for the group (after one read of the group).
    const searches = h.atlassianOrg!.calls.filter((c) => c.path.endsWith('/users/search') && JSON.stringify(c.body).includes(ORG_GROUP));
    assert.equal(searches.length, 2);

    const sync = h.bot.groupMembers.lastSync('okta', OKTA_GROUP)!;
    assert.deepEqual({ ...sync, finishedAt: undefined }, { connector: 'okta', groupId: OKTA_GROUP, startedAt: t1, finishedAt: undefined, outcome: 'ok', members: 3, cause: null });
    assert.ok(sync.finishedAt! >= t1);
    const ghost = h.bot.groupMembers.lastSync('okta', OKTA_GHOST)!;
    assert.equal(ghost.outcome, 'failed');
    assert.match(ghost.cause!, new RegExp(`Okta group ${OKTA_GHOST} not found`));
  });

  test('a later sync keeps first seen, moves last seen, and marks who left as gone; a comeback starts a new stint', async () => {
    const t1 = h.bot.groupMembers.lastSync('atlassian-org', ORG_GROUP)!.startedAt;
    shift += 3600_000;
    h.atlassianOrg!.groups.get(ORG_GROUP)!.members.delete(dave.atlassianId);
    await h.bot.memberSync.runOnce();
    const s2 = h.bot.groupMembers.lastSync('atlassian-org', ORG_GROUP)!;
    const t2 = s2.startedAt;
    assert.ok(t2 >= t1 + 3600_000);
    const rows = h.bot.groupMembers.allMembers('atlassian-org', ORG_GROUP);
    const aliceRow = rows.find((m) => m.idpUserId === alice.atlassianId)!;
    assert.deepEqual([aliceRow.firstSeenAt, aliceRow.lastSeenAt, aliceRow.goneAt], [t1, t2, null]);
    const daveRow = rows.find((m) => m.idpUserId === dave.atlassianId)!;
    assert.deepEqual([daveRow.firstSeenAt, daveRow.lastSeenAt, daveRow.goneAt], [t1, t1, s2.finishedAt]);
    assert.ok(!h.bot.groupMembers.currentMembers('atlassian-org', ORG_GROUP).some((m) => m.idpUserId === dave.atlassianId));

    shift += 3600_000;
    h.atlassianOrg!.groups.get(ORG_GROUP)!.members.add(dave.atlassianId);
    await h.bot.memberSync.runOnce();
    const t3 = h.bot.groupMembers.lastSync('atlassian-org', ORG_GROUP)!.startedAt;
    const back = h.bot.groupMembers.allMembers('atlassian-org', ORG_GROUP).find((m) => m.idpUserId === dave.atlassianId)!;
    assert.deepEqual([back.firstSeenAt, back.lastSeenAt, back.goneAt], [t3, t3, null]);
  });

  test("a rate limit mid-listing is waited out with the service's Retry-After and the listing completes", async () => {
    shift += 3600_000;
    const org = h.atlassianOrg!;
    const limitedBefore = org.tooManyRequests;
    org.rateLimit(1, { retryAfterSec: 1, method: 'POST', path: /\/users\/search$/ });
    const t0 = Date.now();
    const results = await h.bot.memberSync.runOnce();
    assert.equal(org.tooManyRequests - limitedBefore, 1);
    assert.ok(Date.now() - t0 >= 900, `waited ${Date.now() - t0} ms for a 1 s Retry-After`);
    assert.deepEqual(results.find((r) => r.connector === 'atlassian-org'), { connector: 'atlassian-org', group: ORG_GROUP, outcome: 'ok', members: 4 });
    assert.equal(h.bot.groupMembers.currentMembers('atlassian-org', ORG_GROUP).length, 4);
  });

  test('a listing that fails part-way marks nobody gone and records the cause', async () => {
    shift += 3600_000;
    const before = h.bot.groupMembers.currentMembers('okta', OKTA_GROUP).map((m) => m.idpUserId).sort();
    // The Okta group's listing is refused for good (a permanent 403).
    h.okta.inject({ method: 'GET', path: `/api/v1/groups/${OKTA_GROUP}/users`, status: 403, times: 1, body: { errorCode: 'E0000006', errorSummary: 'You do not have permission to perform the requested action' } });
    const results = await h.bot.memberSync.runOnce();
    const r = results.find((x) => x.group === OKTA_GROUP)!;
    assert.equal(r.outcome, 'failed');
    assert.match(r.cause!, /Okta rejected the API token/);
    assert.deepEqual(h.bot.groupMembers.currentMembers('okta', OKTA_GROUP).map((m) => m.idpUserId).sort(), before, 'nobody marked gone');
    assert.equal(h.bot.groupMembers.lastSync('okta', OKTA_GROUP)!.outcome, 'failed');
  });
});
