import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BitbucketConnector, parseTarget, permissionTarget } from '../../src/adapters/idp/bitbucket-dc/connector.js';
import { PermanentError, RetryableError } from '../../src/outbox/errors.js';
import { parseCatalog } from '../../src/config/catalog.js';
import { BitbucketEmulator } from '../emulators/bitbucket.js';
import { allMembers } from '../support/members.js';
import { rejectsWith } from '../support/rejects.js';

const TOKEN = 'bitbucket-test-http-access-token-0123';
const PASSWORD = 'bitbucket-test-password-4567';

let bb: BitbucketEmulator;
let connector: BitbucketConnector;

before(async () => {
  bb = new BitbucketEmulator({ token: TOKEN, basic: { username: 'access-bot', password: PASSWORD } });
  await bb.start();
});

after(async () => {
  await bb.stop();
});

beforeEach(() => {
  connector = BitbucketConnector.fromConfig({ baseUrl: bb.url, username: 'access-bot', password: PASSWORD, timeoutMs: 2000 });
});

afterEach(() => {
  bb.clearFaults();
  bb.admin = true;
});

let seq = 0;
function newUser(extra: { email?: string; active?: boolean; type?: 'NORMAL' | 'SERVICE' } = {}): string {
  seq += 1;
  const name = `user${seq}`;
  bb.addUser({ name, emailAddress: extra.email ?? `${name}@example.com`, displayName: `User ${seq}`, active: extra.active, type: extra.type });
  return name;
}

function newGroup(): string {
  seq += 1;
  const g = `group-${seq}`;
  bb.addGroup(g);
  return g;
}


describe('credentials', () => {
  test('an HTTP access token is sent as Bearer, and wins over a username and password', async () => {
    const c = BitbucketConnector.fromConfig({ baseUrl: bb.url, token: TOKEN, username: 'access-bot', password: 'wrong-password-123' });
    newUser();
    await c.findUserByEmail('nobody@example.com');
    assert.equal(bb.calls.at(-1)!.headers.authorization, `Bearer ${TOKEN}`);
  });

  test('without a token, the username and password are sent as Basic', async () => {
    const c = BitbucketConnector.fromConfig({ baseUrl: bb.url, username: 'access-bot', password: PASSWORD });
    await c.findUserByEmail('nobody@example.com');
    assert.equal(bb.calls.at(-1)!.headers.authorization, `Basic ${Buffer.from(`access-bot:${PASSWORD}`).toString('base64')}`);
  });

  test('neither, or half of the Basic pair, is a clear error at start-up', () => {
    assert.throws(() => BitbucketConnector.fromConfig({ baseUrl: bb.url }), /give an HTTP access token, or a username and password/);
    assert.throws(() => BitbucketConnector.fromConfig({ baseUrl: bb.url, username: 'access-bot' }), /a username needs its password/);
    assert.throws(() => BitbucketConnector.fromConfig({ baseUrl: bb.url, token: '', password: PASSWORD }), /a username needs its password/);
  });

  test('a base URL with a context path keeps it', async () => {
    const c = BitbucketConnector.fromConfig({ baseUrl: `${bb.url}/bitbucket/`, token: TOKEN });
    await rejectsWith(c.findUserByEmail('x@example.com'), PermanentError);
    assert.equal(bb.unexpected.splice(0)[0]?.path, '/bitbucket/rest/api/1.0/users');
  });

  test('an HTTP access token looks users up and grants permissions, but Bitbucket refuses it on group membership: the error says why', async () => {
    const c = BitbucketConnector.fromConfig({ baseUrl: bb.url, token: TOKEN });
    const u = newUser();
    assert.equal((await c.findUserByEmail(`${u}@example.com`))?.id, u);
    bb.addProject('TOK');
    await c.addMember('project:TOK:PROJECT_READ', u);
    assert.equal(bb.projectPermission('TOK', u), 'PROJECT_READ');
    const err = await rejectsWith(c.addMember(newGroup(), u), PermanentError);
    assert.match(err.message, /401: You are not permitted to access this resource; an HTTP access token cannot call Bitbucket's admin endpoints \(.*BSERV-10482\): use a username and password/);
    const report = await c.checkHealth([newGroup()]);
    assert.match(report.checks[0]!.detail!, /an HTTP access token cannot change Bitbucket group membership/);
    assert.deepEqual((await c.checkHealth(['project:TOK:PROJECT_READ'])).ok, true);
  });
});

describe('findUserByEmail', () => {
  test('only the exact email (ignoring case) among the filter’s substring matches; the id is the username', async () => {
    seq += 1;
    bb.addUser({ name: `ada${seq}`, emailAddress: `Ada${seq}@Example.com`, displayName: 'Ada Lovelace' });
    bb.addUser({ name: `xada${seq}`, emailAddress: `xada${seq}@example.com` });
    const found = await connector.findUserByEmail(`ADA${seq}@example.com`);
    assert.deepEqual(found, { id: `ada${seq}`, email: `Ada${seq}@Example.com`, displayName: 'Ada Lovelace' });
    const call = bb.callsTo('GET', '/rest/api/1.0/users').at(-1)!;
    assert.equal(call.query.get('filter'), `ada${seq}@example.com`);
  });

  test('unknown email resolves undefined; inactive users and service accounts are not matched', async () => {
    assert.equal(await connector.findUserByEmail('nobody@example.com'), undefined);
    const inactive = newUser({ active: false });
    assert.equal(await connector.findUserByEmail(`${inactive}@example.com`), undefined);
    const service = newUser({ type: 'SERVICE' });
    assert.equal(await connector.findUserByEmail(`${service}@example.com`), undefined);
  });

  test('two active users with the email: PermanentError naming both', async () => {
    seq += 1;
    const email = `shared${seq}@example.com`;
    bb.addUser({ name: `a${seq}`, emailAddress: email });
    bb.addUser({ name: `b${seq}`, emailAddress: email.toUpperCase() });
    const err = await rejectsWith(connector.findUserByEmail(email), PermanentError);
    assert.match(err.message, new RegExp(`2 Bitbucket users have the email ${email}: a${seq}, b${seq}`));
  });

  test('the match is found on a later page', async () => {
    seq += 1;
    for (let i = 0; i < 120; i++) bb.addUser({ name: `many${seq}-${i}`, emailAddress: `x${i}.many${seq}@example.com` });
    bb.addUser({ name: `many${seq}`, emailAddress: `many${seq}@example.com` });
    assert.equal((await connector.findUserByEmail(`many${seq}@example.com`))?.id, `many${seq}`);
    assert.ok(bb.callsTo('GET', '/rest/api/1.0/users').filter((c) => c.query.get('filter') === `many${seq}@example.com`).length >= 2, 'paged');
  });
});

describe('group memberships', () => {
  test('add sends {context: group, itemName: user}; adding a member again sends nothing', async () => {
    const g = newGroup();
    const u = newUser();
    await connector.addMember(g, u);
    assert.equal(bb.isMember(g, u), true);
    const adds = bb.callsTo('POST', '/rest/api/1.0/admin/groups/add-user');
    assert.deepEqual(adds.at(-1)!.body, { context: g, itemName: u });
    assert.equal(adds.at(-1)!.headers['x-atlassian-token'], 'no-check');
    const before = adds.length;
    await connector.addMember(g, u);
    assert.equal(bb.callsTo('POST', '/rest/api/1.0/admin/groups/add-user').length, before, 'already a member: no add sent');
  });

  test('remove takes a member out; removing a non-member sends nothing and succeeds', async () => {
    const g = newGroup();
    const u = newUser();
    bb.addMember(g, u);
    await connector.removeMember(g, u);
    assert.equal(bb.isMember(g, u), false);
    assert.deepEqual(bb.callsTo('POST', '/rest/api/1.0/admin/groups/remove-user').at(-1)!.body, { context: g, itemName: u });
    const before = bb.callsTo('POST', '/rest/api/1.0/admin/groups/remove-user').length;
    await connector.removeMember(g, u);
    assert.equal(bb.callsTo('POST', '/rest/api/1.0/admin/groups/remove-user').length, before);
  });

  test('isMember takes only the exact username among the filter’s substring matches', async () => {
    const g = newGroup();
    const u = newUser();
    bb.addUser({ name: `${u}x`, emailAddress: `${u}x@example.com` });
    bb.addMember(g, `${u}x`);
    assert.equal(await connector.isMember(g, u), false);
    bb.addMember(g, u);
    assert.equal(await connector.isMember(g, u), true);
  });

  test('a missing group is a PermanentError naming it, on read, add and remove', async () => {
    const u = newUser();
    for (const op of [() => connector.isMember('no-such-group', u), () => connector.addMember('no-such-group', u), () => connector.removeMember('no-such-group', u)]) {
      const err = await rejectsWith(op(), PermanentError);
      assert.match(err.message, /^Bitbucket group no-such-group not found/);
    }
    assert.equal(bb.callsTo('POST', '/rest/api/1.0/admin/groups/add-user').filter((c) => (c.body as { context?: string }).context === 'no-such-group').length, 0);
  });

  test('a missing user is a PermanentError naming them on add', async () => {
    const g = newGroup();
    const err = await rejectsWith(connector.addMember(g, 'ghost-user'), PermanentError);
    assert.match(err.message, /^Bitbucket user ghost-user not found/);
  });

  test('without the ADMIN global permission the add is permanent, with Bitbucket’s words', async () => {
    const g = newGroup();
    const u = newUser();
    bb.admin = false;
    const err = await rejectsWith(connector.addMember(g, u), PermanentError);
    assert.match(err.message, /401: You are not permitted to access this resource/);
  });

  test('listMembers pages with nextPageStart; a missing group is a PermanentError', async () => {
    const g = newGroup();
    const names = Array.from({ length: 7 }, () => newUser());
    for (const n of names) bb.addMember(g, n);
    const { members, pages } = await allMembers(connector, g, 3);
    assert.equal(pages, 3);
    assert.deepEqual(members.map((m) => m.id).sort(), [...names].sort());
    assert.equal(members[0]!.email, `${members[0]!.id}@example.com`);
    await rejectsWith(connector.listMembers('no-such-group'), PermanentError);
    await rejectsWith(connector.listMembers(g, { cursor: 'x' }), PermanentError);
  });
});

describe('project and repository permissions', () => {
  test('the catalog fields make one canonical key, and it reads back', () => {
    assert.deepEqual(permissionTarget({ project: 'pay', permission: 'project_write' }), { group: 'project:PAY:PROJECT_WRITE' });
    assert.deepEqual(permissionTarget({ project: 'PAY', repository: 'payments', permission: 'REPO_WRITE' }), { group: 'repository:PAY/payments:REPO_WRITE' });
    assert.deepEqual(permissionTarget({ group: 'payments-devs' }), { group: 'payments-devs' });
    assert.deepEqual(parseTarget('repository:PAY/payments:REPO_WRITE'), { kind: 'repository', project: 'PAY', repository: 'payments', permission: 'REPO_WRITE' });
    assert.deepEqual(parseTarget('payments-devs'), { kind: 'group', group: 'payments-devs' });
    const bads: Record<string, string>[] = [{ project: 'PAY' }, { project: 'PAY', permission: 'REPO_WRITE' }, { project: 'PAY', repository: 'payments', permission: 'PROJECT_READ' }, { group: 'x', project: 'PAY' }, { project: '1PAY', permission: 'PROJECT_READ' }, { group: 'project:PAY:PROJECT_READ' }, {}];
    for (const bad of bads) {
      assert.ok('error' in permissionTarget(bad), JSON.stringify(bad));
    }
  });

  test('grant puts the permission, a second grant sends nothing, the revoke deletes it', async () => {
    bb.addProject('PAY');
    const u = newUser();
    const key = 'project:PAY:PROJECT_WRITE';
    assert.equal(await connector.isMember(key, u), false);
    await connector.addMember(key, u);
    assert.equal(bb.projectPermission('PAY', u), 'PROJECT_WRITE');
    const put = bb.callsTo('PUT', '/rest/api/1.0/projects/PAY/permissions/users').at(-1)!;
    assert.equal(put.query.get('name'), u);
    assert.equal(put.query.get('permission'), 'PROJECT_WRITE');
    const puts = bb.callsTo('PUT', '/rest/api/1.0/projects/PAY/permissions/users').length;
    await connector.addMember(key, u);
    assert.equal(bb.callsTo('PUT', '/rest/api/1.0/projects/PAY/permissions/users').length, puts);
    await connector.removeMember(key, u);
    assert.equal(bb.projectPermission('PAY', u), undefined);
    await connector.removeMember(key, u);
  });

  test('a higher permission held already counts as held: nothing is sent', async () => {
    bb.addProject('OPS');
    const u = newUser();
    bb.setProjectPermission('OPS', u, 'PROJECT_ADMIN');
    assert.equal(await connector.isMember('project:OPS:PROJECT_WRITE', u), true);
    await connector.addMember('project:OPS:PROJECT_WRITE', u);
    assert.equal(bb.projectPermission('OPS', u), 'PROJECT_ADMIN');
  });

  test('a lower explicit permission is not overwritten: the grant is refused, naming it', async () => {
    bb.addProject('LOW');
    const u = newUser();
    bb.setProjectPermission('LOW', u, 'PROJECT_READ');
    const err = await rejectsWith(connector.addMember('project:LOW:PROJECT_WRITE', u), PermanentError);
    assert.match(err.message, /already has PROJECT_READ on project LOW/);
    assert.equal(bb.projectPermission('LOW', u), 'PROJECT_READ');
  });

  test('a permission changed since the grant is not revoked', async () => {
    bb.addProject('CHG');
    const u = newUser();
    await connector.addMember('project:CHG:PROJECT_WRITE', u);
    bb.setProjectPermission('CHG', u, 'PROJECT_ADMIN');
    const err = await rejectsWith(connector.removeMember('project:CHG:PROJECT_WRITE', u), PermanentError);
    assert.match(err.message, /now has PROJECT_ADMIN on project CHG/);
    assert.equal(bb.projectPermission('CHG', u), 'PROJECT_ADMIN');
  });

  test('repository permissions, and a missing repository named', async () => {
    bb.addProject('REP');
    bb.addRepo('REP', 'payments');
    const u = newUser();
    await connector.addMember('repository:REP/payments:REPO_WRITE', u);
    assert.equal(bb.repoPermission('REP', 'payments', u), 'REPO_WRITE');
    await connector.removeMember('repository:REP/payments:REPO_WRITE', u);
    assert.equal(bb.repoPermission('REP', 'payments', u), undefined);
    const err = await rejectsWith(connector.addMember('repository:REP/nothing:REPO_READ', u), PermanentError);
    assert.match(err.message, /^Bitbucket repository REP\/nothing not found/);
    const err2 = await rejectsWith(connector.addMember('project:NOPE:PROJECT_READ', u), PermanentError);
    assert.match(err2.message, /^Bitbucket project NOPE not found/);
  });
});

describe('failures', () => {
  test('429 is retryable after Retry-After', async () => {
    const g = newGroup();
    const u = newUser();
    bb.throttle(1, { retryAfterSec: 7, method: 'POST', path: /add-user$/ });
    const err = await rejectsWith(connector.addMember(g, u), RetryableError);
    assert.equal(err.retryAfterMs, 7000);
    assert.equal(err.code, 'bitbucket_rate_limited');
    const limited = bb.calls.find((c) => c.status === 429)!;
    assert.ok(limited, 'the emulator answered 429');
  });

  test('an ambiguous add (carried out, answered 502) is retryable, and the retry sees the member and sends nothing', async () => {
    const g = newGroup();
    const u = newUser();
    bb.inject({ method: 'POST', path: '/rest/api/1.0/admin/groups/add-user', status: 502, times: 1, afterHandling: true });
    await rejectsWith(connector.addMember(g, u), RetryableError);
    assert.equal(bb.isMember(g, u), true, 'the add landed');
    const before = bb.callsTo('POST', '/rest/api/1.0/admin/groups/add-user').length;
    await connector.addMember(g, u);
    assert.equal(bb.callsTo('POST', '/rest/api/1.0/admin/groups/add-user').length, before);
  });

  test('503 is retryable; a hung request times out as retryable; a dropped connection is retryable', async () => {
    const u = newUser();
    bb.inject({ status: 503, times: 1, body: { errors: [{ context: null, message: 'down for maintenance', exceptionName: null }] } });
    assert.match((await rejectsWith(connector.findUserByEmail(`${u}@example.com`), RetryableError)).message, /503: down for maintenance/);
    const quick = BitbucketConnector.fromConfig({ baseUrl: bb.url, token: TOKEN, timeoutMs: 100 });
    bb.inject({ hang: true, times: 1 });
    assert.equal((await rejectsWith(quick.findUserByEmail(`${u}@example.com`), RetryableError)).code, 'bitbucket_timeout');
    bb.inject({ drop: true, times: 1 });
    assert.equal((await rejectsWith(connector.findUserByEmail(`${u}@example.com`), RetryableError)).code, 'bitbucket_unreachable');
  });

  test('bad credentials are permanent and no message carries a secret', async () => {
    const bad = BitbucketConnector.fromConfig({ baseUrl: bb.url, username: 'access-bot', password: 'wrong-password-value' });
    const err = await rejectsWith(bad.findUserByEmail('x@example.com'), PermanentError);
    assert.match(err.message, /401: Authentication failed/);
    assert.ok(!err.message.includes('wrong-password-value'));
    const report = await bad.checkHealth([]);
    assert.ok(!JSON.stringify(report).includes('wrong-password-value'));
  });
});

describe('checkHealth', () => {
  test('all good: credentials with ADMIN, each group and permission target exists', async () => {
    const g = newGroup();
    bb.addProject('HLT');
    const report = await connector.checkHealth([g, 'project:HLT:PROJECT_READ']);
    assert.deepEqual(report, {
      ok: true,
      checks: [
        { name: 'credentials valid', ok: true, detail: 'ADMIN global permission' },
        { name: `group ${g} exists`, ok: true },
        { name: 'group project:HLT:PROJECT_READ exists', ok: true },
      ],
    });
  });

  test('a missing group or project fails its own line', async () => {
    const report = await connector.checkHealth(['no-such-group', 'project:MISSING:PROJECT_READ']);
    assert.equal(report.ok, false);
    assert.match(report.checks[1]!.detail!, /Bitbucket group no-such-group not found/);
    assert.match(report.checks[2]!.detail!, /Bitbucket project MISSING not found/);
  });

  test('credentials without the ADMIN global permission fail when the catalog names a group', async () => {
    bb.admin = false;
    const report = await connector.checkHealth([newGroup()]);
    assert.equal(report.ok, false);
    assert.match(report.checks[0]!.detail!, /ADMIN global permission.*401: You are not permitted/);
    assert.match(report.checks[1]!.detail!, /^not checked/);
  });
});

describe('catalog grants of bitbucket-dc', () => {
  const catalog = (grant: string): string => `
jira: { project: ACC, issueType: Task }
applications:
  - id: code
    name: Code
    owners: [bob@example.com]
    roles:
      - { id: r, name: R, grant: ${grant}, durations: [4h], approvers: [owners] }
`;
  const parse = (grant: string) => parseCatalog(catalog(grant), { configuredConnectors: ['okta', 'bitbucket-dc'] });
  const groupOf = (grant: string): string | undefined => {
    const r = parse(grant);
    return r.ok ? r.catalog.applications[0]!.roles[0]!.grant.group : undefined;
  };
  const errorsOf = (grant: string): string[] => {
    const r = parse(grant);
    return r.ok ? [] : r.errors;
  };

  test('a group, a project permission and a repository permission each make their one key', () => {
    assert.equal(groupOf('{ connector: bitbucket-dc, group: payments-devs }'), 'payments-devs');
    assert.equal(groupOf('{ connector: bitbucket-dc, project: PAY, permission: PROJECT_WRITE }'), 'project:PAY:PROJECT_WRITE');
    assert.equal(groupOf('{ connector: bitbucket-dc, project: PAY, repository: payments, permission: REPO_WRITE }'), 'repository:PAY/payments:REPO_WRITE');
  });

  test('a grant missing its permission, or with a key of no type, is an error line with an example', () => {
    assert.match(errorsOf('{ connector: bitbucket-dc, project: PAY }')[0] ?? '', /^applications\[0\]\.roles\[0\]\.grant: permission must be one of PROJECT_READ, PROJECT_WRITE, PROJECT_ADMIN for a project \(e\.g\. /);
    assert.match(errorsOf('{ connector: bitbucket-dc, projekt: PAY, permission: PROJECT_READ }')[0] ?? '', /grant\.projekt: unknown key \(did you mean project\?\)/);
    // Other types still take only group:.
    assert.match(errorsOf('{ connector: okta, group: 00g1, project: PAY }')[0] ?? '', /grant\.project: unknown key/);
  });
});
