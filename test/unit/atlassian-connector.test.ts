import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AtlassianConnector, type AtlassianConnectorConfig } from '../../src/adapters/idp/atlassian/connector.js';
import type { IdpConnector } from '../../src/app/ports/idp.js';
import { PermanentError, RetryableError } from '../../src/outbox/errors.js';
import { JiraEmulator } from '../emulators/jira.js';
import { allMembers } from '../support/members.js';
import { rejectsWith } from '../support/rejects.js';

const EMAIL = 'access-bot@example.com';
const TOKEN = 'ATATT3xFfGF0-atlassian-test-token-0123456789';
const GROUP_USER = '/rest/api/3/group/user';
const GROUP_MEMBER = '/rest/api/3/group/member';

let jira: JiraEmulator;
let connector: AtlassianConnector;

function config(extra: Partial<AtlassianConnectorConfig> = {}): AtlassianConnectorConfig {
  return { host: jira.url, email: EMAIL, apiToken: TOKEN, timeoutMs: 2000, ...extra };
}

before(async () => {
  jira = new JiraEmulator({ email: EMAIL, apiToken: TOKEN });
  await jira.start();
});

after(async () => {
  await jira.stop();
});

beforeEach(() => {
  connector = AtlassianConnector.fromConfig(config());
});

afterEach(() => {
  jira.clearFaults();
});

let seq = 0;
function newUser(extra: { email?: string; active?: boolean; accountType?: 'atlassian' | 'app' | 'customer'; displayName?: string } = {}): { id: string; email: string } {
  seq += 1;
  const email = extra.email ?? `user${seq}@example.com`;
  const u = jira.directory.addUser({ email, displayName: extra.displayName ?? `User ${seq}`, active: extra.active, accountType: extra.accountType });
  return { id: u.accountId, email };
}

function newGroup(members: string[] = []): string {
  seq += 1;
  return jira.directory.addGroup({ name: `group-${seq}`, members }).groupId;
}


const MISSING_GROUP = '00000000-0000-4000-8000-00000000dead';

describe('findUserByEmail', () => {
  test('the account whose email matches exactly, ignoring case; the id is the accountId', async () => {
    const u = newUser({ email: `Ada.Lovelace${seq + 1}@Example.com`, displayName: 'Ada Lovelace' });
    assert.deepEqual(await connector.findUserByEmail(u.email.toLowerCase()), { id: u.id, email: u.email, displayName: 'Ada Lovelace' });
  });

  test('prefix and display-name matches of the search are not taken', async () => {
    seq += 1;
    jira.directory.addUser({ email: `grace${seq}@example.com.au`, displayName: `grace${seq}@example.com` });
    assert.equal(await connector.findUserByEmail(`grace${seq}@example.com`), undefined);
  });

  test('inactive accounts and app accounts are not matched', async () => {
    assert.equal(await connector.findUserByEmail(newUser({ active: false }).email), undefined);
    assert.equal(await connector.findUserByEmail(newUser({ accountType: 'app' }).email), undefined);
  });

  test('unknown email resolves undefined', async () => {
    assert.equal(await connector.findUserByEmail('nobody@example.com'), undefined);
  });
});

describe('memberships', () => {
  test('adding twice leaves one membership and no error', async () => {
    const g = newGroup();
    const u = newUser();
    const before = jira.server.callsTo('POST', GROUP_USER).length;
    await connector.addMember(g, u.id);
    await connector.addMember(g, u.id);
    assert.deepEqual(jira.directory.groupMembers(g), [u.id]);
    const posts = jira.server.callsTo('POST', GROUP_USER).slice(before);
    assert.deepEqual(
      posts.map((c) => c.status),
      [201, 400],
    );
    assert.equal(posts[0]!.query.get('groupId'), g);
    assert.deepEqual(posts[0]!.body, { accountId: u.id });
  });

  test('removing a non-member succeeds', async () => {
    const g = newGroup();
    const u = newUser();
    await connector.removeMember(g, u.id);
    assert.deepEqual(jira.directory.groupMembers(g), []);
  });

  test('remove takes a member out', async () => {
    const u = newUser();
    const g = newGroup([u.id]);
    await connector.removeMember(g, u.id);
    assert.deepEqual(jira.directory.groupMembers(g), []);
  });

  test('isMember pages through the members, inactive included', async () => {
    const ids = Array.from({ length: 60 }, () => newUser().id);
    const inactive = newUser({ active: false }).id;
    const g = newGroup([...ids, inactive]);
    const before = jira.server.callsTo('GET', GROUP_MEMBER).length;
    assert.equal(await connector.isMember(g, inactive), true);
    assert.equal(jira.server.callsTo('GET', GROUP_MEMBER).length - before, 2);
    assert.equal(await connector.isMember(g, newUser().id), false);
  });

  test('a group given by name (not UUID-shaped) is addressed with groupname', async () => {
    seq += 1;
    const name = `confluence-users-${seq}`;
    jira.directory.addGroup({ name });
    const u = newUser();
    await connector.addMember(name, u.id);
    assert.deepEqual(jira.directory.groupMembers(name), [u.id]);
    assert.equal(await connector.isMember(name, u.id), true);
    assert.equal(jira.server.callsTo('POST', GROUP_USER).at(-1)!.query.get('groupname'), name);
    await connector.removeMember(name, u.id);
    assert.deepEqual(jira.directory.groupMembers(name), []);
  });

  test('a missing group is a PermanentError naming it, on add, remove and isMember', async () => {
    const u = newUser();
    for (const run of [() => connector.addMember(MISSING_GROUP, u.id), () => connector.removeMember(MISSING_GROUP, u.id), () => connector.isMember(MISSING_GROUP, u.id)]) {
      const err = await rejectsWith(run(), PermanentError);
      assert.match(err.message, new RegExp(`Atlassian group ${MISSING_GROUP} not found`));
    }
  });

  test('adding an unknown account is a PermanentError', async () => {
    const err = await rejectsWith(connector.addMember(newGroup(), '712020:no-such-account'), PermanentError);
    assert.match(err.message, /Atlassian account not found/);
  });

  test('removing an unknown account succeeds (it is not a member)', async () => {
    await connector.removeMember(newGroup(), '712020:no-such-account');
  });

  test('an undocumented 400 on add is settled by reading the membership', async () => {
    const u = newUser();
    const g = newGroup([u.id]);
    jira.inject({ method: 'POST', path: GROUP_USER, status: 400, body: { errorMessages: ['User is already in this group.'], errors: {} }, times: 1 });
    await connector.addMember(g, u.id);
    jira.inject({ method: 'POST', path: GROUP_USER, status: 400, body: { errorMessages: ['Something else.'], errors: {} }, times: 1 });
    const err = await rejectsWith(connector.addMember(newGroup(), u.id), PermanentError);
    assert.match(err.message, /Something else/);
  });
});

describe('failures', () => {
  test('429 is retryable after Retry-After, sent once', async () => {
    const g = newGroup();
    const u = newUser();
    const before = jira.server.callsTo('POST', GROUP_USER).length;
    jira.rateLimit(1, 30, { path: GROUP_USER, method: 'POST' });
    const err = await rejectsWith(connector.addMember(g, u.id), RetryableError);
    assert.equal(err.code, 'jira_rate_limited');
    assert.equal(err.retryAfterMs, 30_000);
    assert.equal(jira.server.callsTo('POST', GROUP_USER).length - before, 1);
    assert.deepEqual(jira.directory.groupMembers(g), []);
  });

  test('503 is retryable', async () => {
    jira.outage({ retryAfterSec: 5 });
    try {
      const err = await rejectsWith(connector.isMember(newGroup(), newUser().id), RetryableError);
      assert.equal(err.retryAfterMs, 5000);
    } finally {
      jira.recover();
    }
  });

  test('a hung request times out as retryable', async () => {
    const quick = AtlassianConnector.fromConfig(config({ timeoutMs: 200 }));
    jira.inject({ method: 'DELETE', path: GROUP_USER, hang: true, times: 1 });
    const started = Date.now();
    const err = await rejectsWith(quick.removeMember(newGroup(), newUser().id), RetryableError);
    assert.equal(err.code, 'jira_timeout');
    assert.ok(Date.now() - started < 1500);
  });

  test('a dropped connection is retryable', async () => {
    jira.inject({ method: 'POST', path: GROUP_USER, drop: true, times: 1 });
    assert.equal((await rejectsWith(connector.addMember(newGroup(), newUser().id), RetryableError)).code, 'jira_unreachable');
  });

  test('bad credentials are permanent and the message does not contain the token', async () => {
    const secret = 'ATATT-wrong-token-987654321';
    const bad = AtlassianConnector.fromConfig(config({ apiToken: secret }));
    const err = await rejectsWith(bad.addMember(newGroup(), newUser().id), PermanentError);
    assert.equal(err.code, 'jira_unauthorized');
    assert.ok(!err.message.includes(secret));
    assert.ok(!err.message.includes(Buffer.from(`${EMAIL}:${secret}`).toString('base64')));
  });

  test('403 (not a site admin) is permanent', async () => {
    jira.inject({ method: 'POST', path: GROUP_USER, status: 403, body: { errorMessages: ['You do not have the permission to manage groups.'], errors: {} }, times: 1 });
    assert.equal((await rejectsWith(connector.addMember(newGroup(), newUser().id), PermanentError)).code, 'jira_forbidden');
  });
});

describe('manager', () => {
  test('Atlassian keeps no manager: findManagerEmail is not offered', () => {
    const port: IdpConnector = connector;
    assert.equal(port.findManagerEmail, undefined);
  });
});

describe('listMembers', () => {
  test('lists the members page by page, inactive ones too; a missing group is a PermanentError', async () => {
    const users = [newUser(), newUser(), newUser({ active: false }), newUser(), newUser()];
    const g = newGroup(users.map((u) => u.id));
    const { members, pages } = await allMembers(connector, g, 2);
    assert.equal(pages, 3);
    assert.deepEqual(members.map((m) => m.id).sort(), users.map((u) => u.id).sort());
    assert.deepEqual(members.find((m) => m.id === users[0]!.id)?.email, users[0]!.email);
    await rejectsWith(connector.listMembers(MISSING_GROUP), PermanentError);
    await rejectsWith(connector.listMembers(g, { cursor: 'next' }), PermanentError);
  });
});

describe('checkHealth', () => {
  test('reports the credentials and each group, by id or by name', async () => {
    const g = newGroup();
    seq += 1;
    const name = `jira-admins-${seq}`;
    jira.directory.addGroup({ name });
    const report = await connector.checkHealth([g, name, MISSING_GROUP]);
    assert.equal(report.ok, false);
    assert.deepEqual(
      report.checks.map((c) => [c.name, c.ok]),
      [
        ['credentials valid', true],
        [`group ${g} exists`, true],
        [`group ${name} exists`, true],
        [`group ${MISSING_GROUP} exists`, false],
      ],
    );
    assert.match(report.checks[0]!.detail ?? '', /authenticated as Access Bot/);
    assert.match(report.checks[3]!.detail ?? '', /not found/);
  });

  test('bad credentials fail the report without throwing or leaking the token', async () => {
    const secret = 'ATATT-wrong-token-for-health-1234';
    const report = await AtlassianConnector.fromConfig(config({ apiToken: secret })).checkHealth([newGroup()]);
    assert.equal(report.ok, false);
    assert.equal(report.checks[0]!.ok, false);
    assert.ok(report.checks.every((c) => !(c.detail ?? '').includes(secret)));
  });

  test('an unreachable site fails the report without throwing', async () => {
    const report = await AtlassianConnector.fromConfig(config({ host: 'http://127.0.0.1:1', timeoutMs: 500 })).checkHealth([]);
    assert.equal(report.ok, false);
  });
});
