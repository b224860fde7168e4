import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AtlassianOrgConnector } from '../../src/adapters/idp/atlassian-org/connector.js';
import { atlassianOrg } from '../../src/adapters/idp/atlassian-org/descriptor.js';
import { CAPABILITY_METHODS, hasCapability } from '../../src/app/ports/idp.js';
import { PermanentError, RetryableError } from '../../src/outbox/errors.js';
import { AtlassianAdminEmulator } from '../emulators/atlassian-admin.js';
import { allMembers } from '../support/members.js';
import { rejectsWith } from '../support/rejects.js';

let org: AtlassianAdminEmulator;
let connector: AtlassianOrgConnector;

before(async () => {
  org = new AtlassianAdminEmulator();
  await org.start();
});

after(async () => {
  await org.stop();
});

beforeEach(() => {
  connector = AtlassianOrgConnector.fromConfig({ baseUrl: org.url, orgId: org.orgId, directoryId: org.directoryId, apiKey: org.apiKey, timeoutMs: 2000 });
});

afterEach(() => {
  org.clearFaults();
});

let seq = 0;
function newUser(email?: string): string {
  seq += 1;
  return org.addUser({ email: email ?? `user${seq}@example.com`, name: `User ${seq}` }).accountId;
}
function newGroup(opts: { externalSynced?: boolean } = {}): string {
  seq += 1;
  return org.addGroup({ name: `jira-users-${seq}`, ...opts }).id;
}

describe('findUserByEmail', () => {
  test('an exact email match in the directory, ignoring case; its id is the accountId', async () => {
    const id = org.addUser({ email: 'Grace.Hopper@Example.com', name: 'Grace Hopper' }).accountId;
    assert.deepEqual(await connector.findUserByEmail('grace.hopper@example.com'), { id, email: 'Grace.Hopper@Example.com', displayName: 'Grace Hopper' });
    const search = org.callsTo('POST', `/admin/v2/orgs/${org.orgId}/directories/${org.directoryId}/users/search`).at(-1)!;
    assert.deepEqual((search.body as { emails: string[] }).emails, ['grace.hopper@example.com']);
    assert.equal(search.headers.authorization, `Bearer ${org.apiKey}`);
  });

  test('unknown, deactivated and app accounts are not matched', async () => {
    org.addUser({ email: 'gone@example.com', accountStatus: 'inactive' });
    org.addUser({ email: 'bot@example.com', accountType: 'app' });
    assert.equal(await connector.findUserByEmail('nobody@example.com'), undefined);
    assert.equal(await connector.findUserByEmail('gone@example.com'), undefined);
    assert.equal(await connector.findUserByEmail('bot@example.com'), undefined);
  });

  test('two accounts with the email: PermanentError naming both', async () => {
    const a = newUser('twice@example.com');
    const b = newUser('twice@example.com');
    const err = await rejectsWith(connector.findUserByEmail('twice@example.com'), PermanentError);
    assert.match(err.message, new RegExp(`${a}.*${b}`));
  });
});

describe('memberships', () => {
  test('add, isMember, remove through the directory group memberships', async () => {
    const g = newGroup();
    const u = newUser();
    assert.equal(await connector.isMember(g, u), false);
    await connector.addMember(g, u);
    assert.equal(org.isMember(g, u), true);
    assert.equal(await connector.isMember(g, u), true);
    await connector.removeMember(g, u);
    assert.equal(org.isMember(g, u), false);
  });

  test('adding an existing member and removing a non-member are success (settled by reading the membership)', async () => {
    const g = newGroup();
    const u = newUser();
    await connector.addMember(g, u);
    await connector.addMember(g, u);
    assert.deepEqual(org.members(g), [u]);
    await connector.removeMember(g, u);
    await connector.removeMember(g, u);
    assert.deepEqual(org.members(g), []);
  });

  test('an add that landed but whose answer was lost (502) is retryable, and the retry finds the membership and succeeds', async () => {
    const g = newGroup();
    const u = newUser();
    org.inject({ method: 'POST', path: /\/memberships$/, status: 502, times: 1, afterHandling: true });
    await rejectsWith(connector.addMember(g, u), RetryableError);
    assert.equal(org.isMember(g, u), true, 'the first add landed');
    await connector.addMember(g, u);
    assert.deepEqual(org.members(g), [u]);
  });

  test('a missing group is a PermanentError naming it; an account outside the directory is a PermanentError too', async () => {
    const ghost = '00000000-0000-4000-8000-00000000dead';
    const err = await rejectsWith(connector.addMember(ghost, newUser()), PermanentError);
    assert.match(err.message, new RegExp(`^Atlassian group ${ghost} not found`));
    const outsider = await rejectsWith(connector.addMember(newGroup(), '712020:not-in-directory'), PermanentError);
    assert.match(outsider.message, /712020:not-in-directory is not in directory/);
  });

  test('a group synced from an identity provider is refused with where to manage it, and nothing is sent to change it', async () => {
    const g = newGroup({ externalSynced: true });
    const u = newUser();
    const writes = () => org.calls.filter((c) => c.path.includes(`/groups/${g}/memberships`)).length;
    const add = await rejectsWith(connector.addMember(g, u), PermanentError);
    assert.match(add.message, /synced from an identity provider.*manage this group in your IdP, or grant through its connector/);
    assert.equal(add.code, 'atlassian_org_synced_group');
    await rejectsWith(connector.removeMember(g, u), PermanentError);
    assert.equal(writes(), 0);
  });
});

describe('suspendUser (offboarding only)', () => {
  test('suspends the account in the directory', async () => {
    const u = newUser();
    await connector.suspendUser(u);
    assert.equal(org.users.get(u)!.membershipStatus, 'suspended');
  });

  test('is no capability: the app can reach it only by name, never through Memberships', () => {
    for (const methods of Object.values(CAPABILITY_METHODS)) assert.ok(!(methods as readonly string[]).includes('suspendUser'));
    assert.ok(hasCapability(AtlassianOrgConnector.prototype, 'memberships'));
    assert.equal(hasCapability(AtlassianOrgConnector.prototype, 'managerSource'), false);
  });
});

describe('listMembers', () => {
  test('pages through the group with the API cursor; a missing group is a PermanentError', async () => {
    const g = newGroup();
    const ids = Array.from({ length: 7 }, () => newUser());
    for (const id of ids) org.groups.get(g)!.members.add(id);
    const { members, pages } = await allMembers(connector, g, 3);
    assert.deepEqual(members.map((m) => m.id), ids);
    assert.equal(pages, 3);
    assert.ok(members.every((m) => m.email && m.displayName));
    await rejectsWith(connector.listMembers('00000000-0000-4000-8000-00000000beef'), PermanentError);
  });
});

describe('failures', () => {
  test("429 is retryable after the API's Retry-After, and the endpoint is not called again before it", async () => {
    const g = newGroup();
    const u = newUser();
    org.rateLimit(1, { retryAfterSec: 3, method: 'POST', path: /\/memberships$/ });
    const err = await rejectsWith(connector.addMember(g, u), RetryableError);
    assert.equal(err.retryAfterMs, 3000);
    assert.match(err.message, /rate limit/);
    const adds = () => org.callsTo('POST', /\/memberships$/).length;
    const before = adds();
    const again = await rejectsWith(connector.addMember(g, u), RetryableError);
    assert.match(again.message, /waiting instead of calling/);
    assert.equal(adds(), before, 'the add was not sent again');
  });

  test('every answer carries X-RateLimit-Limit, -Remaining and an ISO 8601 -Reset', async () => {
    const c = await fetch(`${org.url}/admin/v1/orgs/${org.orgId}`, { headers: { Authorization: `Bearer ${org.apiKey}` } });
    assert.match(c.headers.get('x-ratelimit-reset') ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$/);
    assert.ok(Number(c.headers.get('x-ratelimit-remaining')) >= 0);
    assert.ok(Number(c.headers.get('x-ratelimit-limit')) > 0);
  });

  test('5xx, a hang and a dropped connection are retryable', async () => {
    org.inject({ status: 503, times: 1, body: { errors: [{ code: 'ADMIN-UAM-500-1', status: '503', title: 'Internal Error' }] } });
    await rejectsWith(connector.isMember(newGroup(), newUser()), RetryableError);
    const slow = AtlassianOrgConnector.fromConfig({ baseUrl: org.url, orgId: org.orgId, directoryId: org.directoryId, apiKey: org.apiKey, timeoutMs: 200 });
    org.inject({ hang: true, times: 1 });
    const hung = await rejectsWith(slow.isMember(newGroup(), newUser()), RetryableError);
    assert.equal(hung.code, 'atlassian_org_timeout');
    org.inject({ drop: true, times: 1 });
    await rejectsWith(connector.isMember(newGroup(), newUser()), RetryableError);
  });

  test('a wrong key is permanent and no message contains it', async () => {
    const bad = AtlassianOrgConnector.fromConfig({ baseUrl: org.url, orgId: org.orgId, directoryId: org.directoryId, apiKey: 'wrong-key-0123456789abcdef' });
    const err = await rejectsWith(bad.addMember(newGroup(), newUser()), PermanentError);
    assert.equal(err.code, 'atlassian_org_auth');
    assert.ok(!err.message.includes('wrong-key-0123456789abcdef'));
  });
});

describe('checkHealth', () => {
  test('reports the organization and directory, each group, and a synced group with where to manage it', async () => {
    const ok = newGroup();
    const synced = newGroup({ externalSynced: true });
    const ghost = '00000000-0000-4000-8000-00000000f00d';
    const report = await connector.checkHealth([ok, synced, ghost]);
    assert.equal(report.ok, false);
    assert.deepEqual(report.checks[0], { name: 'credentials valid', ok: true, detail: 'organization Example Org, directory Example directory' });
    assert.equal(report.checks[1]!.ok, true);
    assert.match(report.checks[2]!.detail!, /synced from an identity provider.*manage this group in your IdP, or grant through its connector/);
    assert.match(report.checks[3]!.detail!, new RegExp(`Atlassian group ${ghost} not found`));
  });

  test('a directory the org does not have fails the credentials check, naming the ones it has', async () => {
    const wrongDir = AtlassianOrgConnector.fromConfig({ baseUrl: org.url, orgId: org.orgId, directoryId: 'no-such-directory', apiKey: org.apiKey });
    const report = await wrongDir.checkHealth([]);
    assert.equal(report.ok, false);
    assert.match(report.checks[0]!.detail!, new RegExp(`directory no-such-directory is not in organization Example Org \\(its directories: ${org.directoryId}\\)`));
  });

  test('a wrong key fails the report without throwing or leaking the key', async () => {
    const bad = AtlassianOrgConnector.fromConfig({ baseUrl: org.url, orgId: org.orgId, directoryId: org.directoryId, apiKey: 'wrong-key-0123456789abcdef' });
    const report = await bad.checkHealth([newGroup()]);
    assert.equal(report.ok, false);
    assert.match(report.checks[0]!.detail!, /rejected the org API key/);
    assert.ok(!JSON.stringify(report).includes('wrong-key-0123456789abcdef'));
  });
});

describe('descriptor', () => {
  test('the default instance needs the org id, directory id and key; the admin URL defaults to api.atlassian.com', () => {
    assert.equal(atlassianOrg.type, 'atlassian-org');
    assert.equal(atlassianOrg.settings.baseUrl.default, 'https://api.atlassian.com');
    assert.equal(atlassianOrg.settings.apiKey.secret, true);
  });
});

describe('AtlassianOrgConnector activity and account status (inactivity reclaim, offboarding)', () => {
  test("last sign-in: the latest of the account's per-product last-active dates; null when it used none", async () => {
    const u = org.addUser({ email: `active${Date.now()}@example.com` });
    assert.equal(await connector.lastLoginOf(u.accountId), null);
    org.setLastActive(u.accountId, 'jira-software', Date.UTC(2026, 0, 5, 10));
    org.setLastActive(u.accountId, 'confluence', Date.UTC(2026, 0, 7, 9));
    assert.equal(await connector.lastLoginOf(u.accountId), Date.UTC(2026, 0, 7, 9));
    await rejectsWith(connector.lastLoginOf('712020:nobody'), PermanentError);
  });

  test('inactive is deactivated, closed or missing deleted, a suspended membership suspended', async () => {
    const u = org.addUser({ email: `status${Date.now()}@example.com` });
    assert.deepEqual(await connector.accountStatus(u.accountId), { state: 'active' });
    await connector.suspendUser(u.accountId);
    assert.equal((await connector.accountStatus(u.accountId)).state, 'suspended');
    u.accountStatus = 'inactive';
    assert.equal((await connector.accountStatus(u.accountId)).state, 'deactivated');
    u.accountStatus = 'closed';
    assert.equal((await connector.accountStatus(u.accountId)).state, 'deleted');
    assert.equal((await connector.accountStatus('712020:nobody')).state, 'deleted');
  });
});
