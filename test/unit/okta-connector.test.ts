import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@okta/okta-sdk-nodejs';
import { OktaConnector } from '../../src/adapters/idp/okta/connector.js';
import { PermanentError, RetryableError } from '../../src/outbox/errors.js';
import { OktaEmulator } from '../emulators/okta.js';
import { allMembers } from '../support/members.js';
import { rejectsWith } from '../support/rejects.js';

const TOKEN = 'okta-test-token-0123456789';

let okta: OktaEmulator;
let connector: OktaConnector;

before(async () => {
  okta = new OktaEmulator({ token: TOKEN });
  await okta.start();
});

after(async () => {
  await okta.stop();
});

beforeEach(() => {
  connector = OktaConnector.fromConfig({ orgUrl: okta.url, apiToken: TOKEN, timeoutMs: 2000 });
});

afterEach(() => {
  okta.clearFaults();
  okta.setRateLimit({ perMinute: 1000, now: Date.now });
  okta.setSearchLag(0);
});

let seq = 0;
/** A fresh user per test, so tests sharing the org do not see each other. */
function newUser(extra: { managerId?: string; manager?: string; email?: string } = {}): { id: string; login: string } {
  seq += 1;
  const login = `user${seq}@example.com`;
  const u = okta.addUser({ login, email: extra.email ?? login, firstName: 'User', lastName: `N${seq}`, ...extra });
  return { id: u.id, login };
}

function newGroup(): string {
  seq += 1;
  return okta.addGroup({ name: `group-${seq}` }).id;
}


describe('findUserByEmail', () => {
  test('matches profile.email ignoring case', async () => {
    seq += 1;
    const u = okta.addUser({ login: `ada${seq}`, email: `Ada.Lovelace${seq}@Example.com`, firstName: 'Ada', lastName: 'Lovelace' });
    const found = await connector.findUserByEmail(`ada.lovelace${seq}@EXAMPLE.com`);
    assert.deepEqual(found, { id: u.id, email: `Ada.Lovelace${seq}@Example.com`, displayName: 'Ada Lovelace' });
  });

  test('matches the login too', async () => {
    seq += 1;
    const u = okta.addUser({ login: `Grace${seq}@example.com`, email: `grace.hopper${seq}@navy.example`, firstName: 'Grace', lastName: 'Hopper' });
    assert.equal((await connector.findUserByEmail(`grace${seq}@example.com`))?.id, u.id);
  });

  test('unknown email resolves undefined', async () => {
    assert.equal(await connector.findUserByEmail('nobody@example.com'), undefined);
  });

  test('a user not yet in the search index is found by login', async () => {
    okta.setSearchLag(60_000);
    const u = newUser();
    assert.equal((await connector.findUserByEmail(u.login.toUpperCase()))?.id, u.id);
    assert.ok(okta.callsTo('GET', `/api/v1/users/${encodeURIComponent(u.login)}`).length === 1, 'fell back to GET /users/{login}');
  });

  test('deprovisioned users are not matched', async () => {
    const u = newUser();
    okta.setStatus(u.id, 'DEPROVISIONED');
    assert.equal(await connector.findUserByEmail(u.login), undefined);
  });

  test('two accounts sharing an email and neither owning it as login: PermanentError', async () => {
    seq += 1;
    const email = `shared${seq}@example.com`;
    okta.addUser({ login: `a${seq}@example.com`, email, firstName: 'A', lastName: 'A' });
    okta.addUser({ login: `b${seq}@example.com`, email, firstName: 'B', lastName: 'B' });
    const err = await rejectsWith(connector.findUserByEmail(email), PermanentError);
    assert.match(err.message, /2 Okta users have the email/);
  });
});

describe('memberships', () => {
  test('adding twice leaves one membership and no error', async () => {
    const g = newGroup();
    const u = newUser();
    const before = okta.addCalls;
    await connector.addMember(g, u.id);
    await connector.addMember(g, u.id);
    assert.deepEqual(okta.members(g), [u.id]);
    assert.equal(okta.addCalls - before, 2);
  });

  test('removing a non-member succeeds', async () => {
    const g = newGroup();
    const u = newUser();
    await connector.removeMember(g, u.id);
    assert.deepEqual(okta.members(g), []);
  });

  test('remove takes a member out', async () => {
    const g = newGroup();
    const u = newUser();
    okta.addMember(g, u.id);
    await connector.removeMember(g, u.id);
    assert.equal(okta.isMember(g, u.id), false);
  });

  test('isMember reflects the org', async () => {
    const g = newGroup();
    const other = newGroup();
    const u = newUser();
    okta.addMember(other, u.id);
    assert.equal(await connector.isMember(g, u.id), false);
    okta.addMember(g, u.id);
    assert.equal(await connector.isMember(g, u.id), true);
  });

  test('a missing group is a PermanentError naming it', async () => {
    const u = newUser();
    const add = await rejectsWith(connector.addMember('00gmissing', u.id), PermanentError);
    assert.match(add.message, /Okta group 00gmissing not found/);
    const remove = await rejectsWith(connector.removeMember('00gmissing', u.id), PermanentError);
    assert.match(remove.message, /Okta group 00gmissing not found/);
  });

  test('a missing user is a PermanentError naming them, except on removal, where nothing is left to remove', async () => {
    const g = newGroup();
    const add = await rejectsWith(connector.addMember(g, '00umissing'), PermanentError);
    assert.match(add.message, /Okta user 00umissing not found/);
    // A user deleted from Okta is in no group: revoking their grant must end, not fail.
    await connector.removeMember(g, '00umissing');
    await rejectsWith(connector.isMember(g, '00umissing'), PermanentError);
  });

  test('two reads of a changed resource both hit Okta (no SDK cache)', async () => {
    const g = newGroup();
    const u = newUser();
    const path = `/api/v1/users/${u.id}/groups`;
    assert.equal(await connector.isMember(g, u.id), false);
    okta.addMember(g, u.id);
    assert.equal(await connector.isMember(g, u.id), true);
    assert.equal(okta.callsTo('GET', path).length, 2);
  });
});

describe('failures', () => {
  test('429 is retryable after X-Rate-Limit-Reset, and the SDK does not retry it', async () => {
    const g = newGroup();
    const u = newUser();
    const resetAt = Math.ceil(Date.now() / 1000) + 30;
    const sent = okta.tooManyRequests;
    okta.forceRateLimit(1, { resetAt });
    const err = await rejectsWith(connector.addMember(g, u.id), RetryableError);
    assert.equal(err.code, 'okta_rate_limited');
    assert.ok(err.retryAfterMs !== undefined && Math.abs(err.retryAfterMs - 30_000) <= 1500, `retryAfterMs ${err.retryAfterMs}`);
    assert.equal(okta.tooManyRequests - sent, 1);
    assert.equal(okta.callsTo('PUT', `/api/v1/groups/${g}/users/${u.id}`).length, 1, 'exactly one request');
    assert.equal(okta.isMember(g, u.id), false);
  });

  test('an exhausted per-minute budget: the next call waits for the reset without being sent, then goes through', async () => {
    const g = newGroup();
    const u = newUser();
    let now = Date.parse('2030-01-01T00:00:10Z');
    okta.setRateLimit({ perMinute: 1, bucket: 'groups', now: () => now });
    // The connector's clock moves with the emulator's, as two real clocks would.
    const paced = OktaConnector.fromConfig({ orgUrl: okta.url, apiToken: TOKEN, timeoutMs: 2000 }, { now: () => now });
    await paced.addMember(g, u.id);
    const puts = okta.callsTo('PUT', `/api/v1/groups/${g}/users/${u.id}`).length;
    const limited = okta.tooManyRequests;
    // The answer said X-Rate-Limit-Remaining: 0 until the reset at 00:01:00.
    const err = await rejectsWith(paced.addMember(g, u.id), RetryableError);
    assert.equal(err.code, 'okta_rate_limited');
    assert.ok(err.retryAfterMs !== undefined && Math.abs(err.retryAfterMs - 50_000) <= 1000, `retryAfterMs ${err.retryAfterMs}`);
    assert.equal(okta.callsTo('PUT', `/api/v1/groups/${g}/users/${u.id}`).length, puts, 'not sent');
    assert.equal(okta.tooManyRequests, limited, 'no 429 provoked');
    // Another endpoint is not held back.
    assert.equal(await paced.isMember(g, u.id), true);
    now += 60_000;
    await paced.addMember(g, u.id);
    assert.equal(okta.callsTo('PUT', `/api/v1/groups/${g}/users/${u.id}`).length, puts + 1);
  });

  test('after a 429 the endpoint is not called again until the reset Okta named', async () => {
    const g = newGroup();
    const u = newUser();
    let now = Date.parse('2030-01-01T00:00:30Z');
    const paced = OktaConnector.fromConfig({ orgUrl: okta.url, apiToken: TOKEN, timeoutMs: 2000 }, { now: () => now });
    okta.setRateLimit({ perMinute: 1, bucket: 'groups', now: () => now });
    // Someone else used the budget: our first call meets the 429.
    await connector.addMember(newGroup(), u.id);
    const first = await rejectsWith(paced.addMember(g, u.id), RetryableError);
    assert.equal(first.code, 'okta_rate_limited');
    const sent = okta.callsTo('PUT', `/api/v1/groups/${g}/users/${u.id}`).length;
    now += 10_000;
    const second = await rejectsWith(paced.addMember(g, u.id), RetryableError);
    assert.ok(second.retryAfterMs !== undefined && Math.abs(second.retryAfterMs - 20_000) <= 1000, `retryAfterMs ${second.retryAfterMs}`);
    assert.equal(okta.callsTo('PUT', `/api/v1/groups/${g}/users/${u.id}`).length, sent, 'not sent while the window is used up');
    now += 20_000;
    await paced.addMember(g, u.id);
    assert.equal(okta.isMember(g, u.id), true);
  });

  test('every answer carries Okta rate limit headers', async () => {
    const res = await fetch(`${okta.url}/api/v1/users/me`, { headers: { Authorization: `SSWS ${TOKEN}` } });
    assert.equal(res.status, 200);
    assert.ok(Number(res.headers.get('x-rate-limit-limit')) > 0);
    assert.ok(Number(res.headers.get('x-rate-limit-remaining')) >= 0);
    assert.ok(Number(res.headers.get('x-rate-limit-reset')) * 1000 > Date.now());
  });

  test('503 is retryable', async () => {
    const g = newGroup();
    const u = newUser();
    okta.inject({ path: `/api/v1/groups/${g}/users/${u.id}`, status: 503, body: { errorCode: 'E0000009', errorSummary: 'Internal Server Error' }, times: 1 });
    const err = await rejectsWith(connector.addMember(g, u.id), RetryableError);
    assert.equal(err.code, 'okta_unavailable');
    // Outside a 429 the rate limit reset is no request to wait; Retry-After is.
    const reset = String(Math.ceil(Date.now() / 1000) + 50);
    okta.inject({ path: `/api/v1/groups/${g}/users/${u.id}`, status: 503, headers: { 'X-Rate-Limit-Reset': reset }, body: 'busy', times: 1 });
    assert.equal((await rejectsWith(connector.addMember(g, u.id), RetryableError)).retryAfterMs, undefined);
    okta.inject({ path: `/api/v1/groups/${g}/users/${u.id}`, status: 503, headers: { 'Retry-After': '7' }, times: 1 });
    assert.equal((await rejectsWith(connector.addMember(g, u.id), RetryableError)).retryAfterMs, 7000);
  });

  test('a hung request times out as retryable', async () => {
    const g = newGroup();
    const u = newUser();
    const quick = OktaConnector.fromConfig({ orgUrl: okta.url, apiToken: TOKEN, timeoutMs: 200 });
    okta.inject({ path: `/api/v1/groups/${g}/users/${u.id}`, hang: true, times: 1 });
    const started = Date.now();
    const err = await rejectsWith(quick.addMember(g, u.id), RetryableError);
    assert.equal(err.code, 'okta_timeout');
    assert.ok(Date.now() - started < 1500);
  });

  test('a dropped connection is retryable', async () => {
    const g = newGroup();
    const u = newUser();
    okta.inject({ path: `/api/v1/groups/${g}/users/${u.id}`, drop: true, times: 1 });
    const err = await rejectsWith(connector.removeMember(g, u.id), RetryableError);
    assert.equal(err.code, 'okta_unreachable');
  });

  test('a bad token is permanent and the message does not contain it', async () => {
    const secret = 'not-the-right-token-987654321';
    const bad = OktaConnector.fromConfig({ orgUrl: okta.url, apiToken: secret });
    const err = await rejectsWith(bad.addMember(newGroup(), newUser().id), PermanentError);
    assert.equal(err.code, 'okta_auth');
    assert.match(err.message, /Okta rejected the API token/);
    assert.ok(!err.message.includes(secret));
  });
});

describe('findManagerEmail', () => {
  test('managerId holding a user id', async () => {
    const boss = newUser({ email: 'boss-by-id@example.com' });
    const u = newUser({ managerId: boss.id });
    assert.equal(await connector.findManagerEmail(u.id), 'boss-by-id@example.com');
  });

  test('managerId holding a login', async () => {
    const boss = newUser({ email: 'boss-by-login@example.com' });
    const u = newUser({ managerId: boss.login });
    assert.equal(await connector.findManagerEmail(u.id), 'boss-by-login@example.com');
  });

  test('manager holding a login, when managerId is empty', async () => {
    const boss = newUser({ email: 'boss-by-manager@example.com' });
    const u = newUser({ manager: boss.login });
    assert.equal(await connector.findManagerEmail(u.id), 'boss-by-manager@example.com');
  });

  test('no manager, a display name, or a dangling reference: undefined', async () => {
    assert.equal(await connector.findManagerEmail(newUser().id), undefined);
    assert.equal(await connector.findManagerEmail(newUser({ manager: 'Jane Boss' }).id), undefined);
    assert.equal(await connector.findManagerEmail(newUser({ managerId: '00ugone' }).id), undefined);
  });

  test('a changed manager is seen at once', async () => {
    const first = newUser({ email: 'first-boss@example.com' });
    const second = newUser({ email: 'second-boss@example.com' });
    const u = newUser({ managerId: first.id });
    assert.equal(await connector.findManagerEmail(u.id), 'first-boss@example.com');
    okta.updateProfile(u.id, { managerId: second.id });
    assert.equal(await connector.findManagerEmail(u.id), 'second-boss@example.com');
  });

  test('an unknown user is a PermanentError', async () => {
    await rejectsWith(connector.findManagerEmail('00unobody'), PermanentError);
  });
});

describe('listMembers', () => {
  test('lists the direct members page by page; a missing group is a PermanentError', async () => {
    const g = newGroup();
    const users = [newUser(), newUser(), newUser(), newUser(), newUser()];
    for (const u of users) okta.addMember(g, u.id);
    const { members, pages } = await allMembers(connector, g, 2);
    assert.equal(pages, 3);
    assert.deepEqual(members.map((m) => m.id).sort(), users.map((u) => u.id).sort());
    assert.deepEqual(members.find((m) => m.id === users[0]!.id)?.email, users[0]!.login);
    await rejectsWith(connector.listMembers('00gmissing'), PermanentError);
    await rejectsWith(connector.listMembers(g, { cursor: 'api/v1/users?limit=200' }), PermanentError);
  });

  test('each member comes with what a review shows: title, department, manager and lastLogin (null: never)', async () => {
    const g = newGroup();
    seq += 1;
    const at = Date.UTC(2026, 0, 5, 9, 30);
    const email = `pat${seq}@example.com`;
    const seen = okta.addUser({ login: email, email, firstName: 'Pat', lastName: 'Lee', title: 'Analyst', department: 'Finance', manager: 'Carol White', lastLogin: at });
    const never = newUser();
    for (const id of [seen.id, never.id]) okta.addMember(g, id);
    const { members } = await allMembers(connector, g, 200);
    assert.deepEqual(
      members.find((m) => m.id === seen.id),
      { id: seen.id, email, displayName: 'Pat Lee', profile: { title: 'Analyst', department: 'Finance', manager: 'Carol White' }, lastLoginAt: at },
    );
    assert.deepEqual(members.find((m) => m.id === never.id), { id: never.id, email: never.login, displayName: `User N${seq}`, lastLoginAt: null });
  });
});

describe('lastLoginOf', () => {
  test("the user's lastLogin, null before the first sign-in; an unknown user is a PermanentError", async () => {
    const u = newUser();
    assert.equal(await connector.lastLoginOf(u.id), null);
    const at = Date.UTC(2026, 1, 1, 8);
    okta.setLastLogin(u.id, at);
    assert.equal(await connector.lastLoginOf(u.id), at);
    await rejectsWith(connector.lastLoginOf('00unobody'), PermanentError);
  });
});

describe('checkHealth', () => {
  test('reports the token and each group', async () => {
    const g = newGroup();
    const report = await connector.checkHealth([g, '00gmissing']);
    assert.equal(report.ok, false);
    assert.deepEqual(
      report.checks.map((c) => [c.name, c.ok]),
      [
        ['credentials valid', true],
        [`group ${g} exists`, true],
        ['group 00gmissing exists', false],
      ],
    );
    assert.match(report.checks[2]!.detail ?? '', /not found/);
  });

  test('all good', async () => {
    const report = await connector.checkHealth([newGroup()]);
    assert.equal(report.ok, true);
  });

  test('a bad token fails the report without throwing or leaking the token', async () => {
    const secret = 'wrong-token-for-health-1234';
    const report = await OktaConnector.fromConfig({ orgUrl: okta.url, apiToken: secret }).checkHealth([newGroup()]);
    assert.equal(report.ok, false);
    assert.equal(report.checks[0]!.ok, false);
    assert.ok(report.checks.every((c) => !(c.detail ?? '').includes(secret)));
  });

  test('one health runner for every connector: a bad token leaves each group "not checked"', async () => {
    const g = newGroup();
    const report = await OktaConnector.fromConfig({ orgUrl: okta.url, apiToken: 'wrong-token-for-health-5678' }).checkHealth([g]);
    assert.deepEqual(
      report.checks.map((c) => [c.name, c.ok, c.name === 'credentials valid' ? undefined : c.detail]),
      [
        ['credentials valid', false, undefined],
        [`group ${g} exists`, false, 'not checked: credentials rejected'],
      ],
    );
  });

  test('an unreachable org fails the report without throwing', async () => {
    const dead = OktaConnector.fromConfig({ orgUrl: 'http://127.0.0.1:1', apiToken: TOKEN, timeoutMs: 500 });
    const report = await dead.checkHealth([]);
    assert.equal(report.ok, false);
  });
});

describe('paging', () => {
  test('isMember follows Link rel="next" pages on the same org, and never to another host', async () => {
    // A user's groups come in pages when an org paginates them; follow Link headers as Okta's SDKs do.
    const { createServer } = await import('node:http');
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(req.url ?? '');
      const host = `http://${req.headers.host}`;
      const after = new URL(req.url ?? '/', host).searchParams.get('after');
      const pages: Record<string, { ids: string[]; next?: string }> = {
        '': { ids: ['00g1', '00g2'], next: `${host}/api/v1/users/00u1/groups?after=00g2&limit=2` },
        '00g2': { ids: ['00g3', '00g4'], next: `${host}/api/v1/users/00u1/groups?after=00g4&limit=2` },
        '00g4': { ids: ['00g5'], next: 'http://elsewhere.example/api/v1/users/00u1/groups?after=00g5' },
      };
      const page = pages[after ?? ''] ?? { ids: [] };
      const links = [`<${host}${req.url}>; rel="self"`, ...(page.next ? [`<${page.next}>; rel="next"`] : [])];
      res.writeHead(200, { 'content-type': 'application/json', link: links.join(', ') });
      res.end(JSON.stringify(page.ids.map((id) => ({ id }))));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const { port } = server.address() as { port: number };
      const c = OktaConnector.fromConfig({ orgUrl: `http://127.0.0.1:${port}`, apiToken: TOKEN });
      assert.equal(await c.isMember('00g4', '00u1'), true);
      assert.equal(seen.length, 2);
      seen.length = 0;
      assert.equal(await c.isMember('00g9', '00u1'), false);
      assert.deepEqual(seen, ['/api/v1/users/00u1/groups', '/api/v1/users/00u1/groups?after=00g2&limit=2', '/api/v1/users/00u1/groups?after=00g4&limit=2']);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe('emulator fidelity', () => {
  test('group members page by limit and after with Link headers the SDK follows', async () => {
    const g = newGroup();
    const ids = Array.from({ length: 5 }, () => newUser().id);
    for (const id of ids) okta.addMember(g, id);
    const client = new Client({ orgUrl: okta.url, token: TOKEN, cacheMiddleware: null });
    const seen: string[] = [];
    const users = await client.groupApi.listGroupUsers({ groupId: g, limit: 2 });
    await users.each((u) => {
      seen.push(u.id!);
    });
    assert.deepEqual(seen, [...ids].sort());
    assert.equal(okta.callsTo('GET', `/api/v1/groups/${g}/users`).length, 3);
  });

  test('filter is case-sensitive, search is not', async () => {
    const u = newUser({ email: `Mixed.Case${seq + 1}@Example.com` });
    const email = okta.user(u.id)!.profile.email;
    const get = (q: string): Promise<{ id: string }[]> =>
      fetch(`${okta.url}/api/v1/users?${q}`, { headers: { Authorization: `SSWS ${TOKEN}` } }).then((r) => r.json() as Promise<{ id: string }[]>);
    const lower = encodeURIComponent(`profile.email eq "${email.toLowerCase()}"`);
    assert.deepEqual((await get(`filter=${lower}`)).map((x) => x.id), []);
    assert.deepEqual((await get(`search=${lower}`)).map((x) => x.id), [u.id]);
  });

  test('a bad token gets 401 E0000011', async () => {
    const res = await fetch(`${okta.url}/api/v1/users/me`, { headers: { Authorization: 'SSWS nope' } });
    assert.equal(res.status, 401);
    const body = (await res.json()) as { errorCode: string; errorSummary: string };
    assert.equal(body.errorCode, 'E0000011');
    assert.equal(body.errorSummary, 'Invalid token provided');
  });
});

describe('facts for approval rules', () => {
  test("a user's groups are read across every page of listUserGroups, with their names", async () => {
    const u = newUser();
    const ids: string[] = [];
    // More than one page of 200 (listUserGroups' limit).
    for (let i = 0; i < 205; i++) {
      const g = newGroup();
      okta.addMember(g, u.id);
      ids.push(g);
    }
    const groups = await connector.groupsOf(u.id);
    assert.deepEqual(groups.map((g) => g.id).sort(), ids.sort());
    assert.ok(groups.every((g) => g.name?.startsWith('group-')));
    assert.equal(okta.callsTo('GET', `/api/v1/users/${u.id}/groups`).length, 2, 'two pages');
  });

  test('department and title come from the profile; absent when not recorded', async () => {
    const u = newUser();
    okta.updateProfile(u.id, { department: 'Finance', title: 'Lead' });
    assert.deepEqual(await connector.profileOf(u.id), { department: 'Finance', title: 'Lead' });
    assert.deepEqual(await connector.profileOf(newUser().id), {});
  });

  test('an unknown user is a PermanentError naming them', async () => {
    const err = await rejectsWith(connector.groupsOf('00unobody'), PermanentError);
    assert.match(err.message, /Okta user 00unobody not found/);
  });
});

describe('OktaConnector account status (offboarding)', () => {
  test('status: DEPROVISIONED is deactivated, SUSPENDED suspended, a user Okta does not find deleted, the rest active', async () => {
    const u = newUser();
    assert.deepEqual(await connector.accountStatus(u.id), { state: 'active', detail: 'ACTIVE' });
    okta.setStatus(u.id, 'LOCKED_OUT');
    assert.equal((await connector.accountStatus(u.id)).state, 'active');
    okta.setStatus(u.id, 'SUSPENDED');
    assert.deepEqual(await connector.accountStatus(u.id), { state: 'suspended', detail: 'SUSPENDED' });
    okta.setStatus(u.id, 'DEPROVISIONED');
    assert.deepEqual(await connector.accountStatus(u.id), { state: 'deactivated', detail: 'DEPROVISIONED' });
    okta.removeUser(u.id);
    assert.deepEqual(await connector.accountStatus(u.id), { state: 'deleted', detail: 'not found' });
  });

  test('a rejected token is never a departure', async () => {
    const bad = OktaConnector.fromConfig({ orgUrl: okta.url, apiToken: 'wrong-token-0123456789', timeoutMs: 2000 });
    await rejectsWith(bad.accountStatus(newUser().id), PermanentError);
  });
});
