import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EntraConnector, type EntraConnectorConfig } from '../../src/adapters/idp/entra/connector.js';
import { PermanentError, RetryableError } from '../../src/outbox/errors.js';
import { GraphEmulator } from '../emulators/graph.js';
import { allMembers } from '../support/members.js';
import { rejectsWith } from '../support/rejects.js';

const SECRET = 'entra-test-secret~0123456789abcdef';

let graph: GraphEmulator;
let connector: EntraConnector;

function config(extra: Partial<EntraConnectorConfig> = {}): EntraConnectorConfig {
  return {
    tenantId: graph.tenantId,
    clientId: graph.clientId,
    clientSecret: SECRET,
    baseUrl: graph.url,
    tokenUrl: graph.tokenUrl,
    timeoutMs: 2000,
    ...extra,
  };
}

before(async () => {
  graph = new GraphEmulator({ clientSecret: SECRET });
  await graph.start();
});

after(async () => {
  await graph.stop();
});

beforeEach(() => {
  connector = EntraConnector.fromConfig(config());
});

afterEach(() => {
  graph.clearFaults();
  graph.tokenLifetimeSec = 3599;
  graph.maxPageSize = 999;
});

let seq = 0;
function newUser(extra: { mail?: string | null; upn?: string; managerId?: string; displayName?: string } = {}): { id: string; upn: string } {
  seq += 1;
  const upn = extra.upn ?? `user${seq}@contoso.example`;
  const u = graph.addUser({ userPrincipalName: upn, mail: extra.mail, displayName: extra.displayName ?? `User ${seq}`, managerId: extra.managerId });
  return { id: u.id, upn };
}

function newGroup(): string {
  seq += 1;
  return graph.addGroup({ displayName: `group-${seq}` }).id;
}


const MISSING_GROUP = '00000000-0000-4000-8000-00000000dead';
const MISSING_USER = '00000000-0000-4000-8000-00000000beef';

describe('findUserByEmail', () => {
  test('by userPrincipalName, ignoring case', async () => {
    const u = newUser({ displayName: 'Ada Lovelace' });
    assert.deepEqual(await connector.findUserByEmail(u.upn.toUpperCase()), { id: u.id, email: u.upn, displayName: 'Ada Lovelace' });
  });

  test('by mail when the UPN differs, through the $filter fallback', async () => {
    seq += 1;
    const mail = `O'Brien.${seq}@Contoso.example`;
    const u = newUser({ upn: `obrien${seq}@contoso.onmicrosoft.example`, mail });
    const found = await connector.findUserByEmail(mail.toLowerCase());
    assert.equal(found?.id, u.id);
    assert.equal(found?.email, mail);
    const filtered = graph.callsTo('GET', '/v1.0/users').at(-1)!;
    assert.equal(filtered.query.get('$filter'), `mail eq '${mail.toLowerCase().replace(/'/g, "''")}'`);
  });

  test('unknown email resolves undefined', async () => {
    assert.equal(await connector.findUserByEmail('nobody@contoso.example'), undefined);
  });

  test('two users sharing a mail and neither owning it as UPN: PermanentError', async () => {
    seq += 1;
    const mail = `shared${seq}@contoso.example`;
    newUser({ upn: `a${seq}@contoso.onmicrosoft.example`, mail });
    newUser({ upn: `b${seq}@contoso.onmicrosoft.example`, mail });
    const err = await rejectsWith(connector.findUserByEmail(mail), PermanentError);
    assert.match(err.message, /2 Entra users have the mail/);
  });
});

describe('memberships', () => {
  test('adding twice leaves one membership and no error', async () => {
    const g = newGroup();
    const u = newUser();
    const before = graph.addCalls;
    await connector.addMember(g, u.id);
    await connector.addMember(g, u.id);
    assert.deepEqual(graph.members(g), [u.id]);
    assert.equal(graph.addCalls - before, 2);
    const second = graph.callsTo('POST', `/v1.0/groups/${g}/members/$ref`).at(-1)!;
    assert.equal(second.status, 400, 'Graph answered "already exist"');
    assert.deepEqual(second.body, { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${u.id}` });
  });

  test('removing a non-member succeeds (the group is checked, not the message)', async () => {
    const g = newGroup();
    const u = newUser();
    await connector.removeMember(g, u.id);
    assert.deepEqual(graph.members(g), []);
    assert.equal(graph.callsTo('GET', `/v1.0/groups/${g}`).length, 1, 'confirmed the group exists after the 404');
  });

  test('remove takes a member out', async () => {
    const g = newGroup();
    const u = newUser();
    graph.addMember(g, u.id);
    await connector.removeMember(g, u.id);
    assert.equal(graph.isMember(g, u.id), false);
  });

  test('isMember reflects direct membership', async () => {
    const g = newGroup();
    const other = newGroup();
    const u = newUser();
    graph.addMember(other, u.id);
    assert.equal(await connector.isMember(g, u.id), false);
    graph.addMember(g, u.id);
    assert.equal(await connector.isMember(g, u.id), true);
  });

  test('isMember follows @odata.nextLink pages', async () => {
    graph.maxPageSize = 2;
    const u = newUser();
    const groups = Array.from({ length: 5 }, () => newGroup());
    for (const g of groups) graph.addMember(g, u.id);
    const last = groups.at(-1)!;
    const before = graph.callsTo('GET', `/v1.0/users/${u.id}/memberOf`).length;
    assert.equal(await connector.isMember(last, u.id), true);
    assert.equal(graph.callsTo('GET', `/v1.0/users/${u.id}/memberOf`).length - before, 3);
    assert.equal(await connector.isMember(newGroup(), u.id), false);
  });

  test('a missing group is a PermanentError naming it, on add and on remove', async () => {
    const u = newUser();
    const add = await rejectsWith(connector.addMember(MISSING_GROUP, u.id), PermanentError);
    assert.match(add.message, new RegExp(`Entra group ${MISSING_GROUP} not found`));
    const remove = await rejectsWith(connector.removeMember(MISSING_GROUP, u.id), PermanentError);
    assert.match(remove.message, new RegExp(`Entra group ${MISSING_GROUP} not found`));
  });

  test('adding a missing user is a PermanentError naming them', async () => {
    const g = newGroup();
    const err = await rejectsWith(connector.addMember(g, MISSING_USER), PermanentError);
    assert.match(err.message, new RegExp(`Entra user ${MISSING_USER} not found`));
    await rejectsWith(connector.isMember(g, MISSING_USER), PermanentError);
  });
});

describe('failures', () => {
  test('429 is retryable after Retry-After, and nothing retries it inside', async () => {
    const g = newGroup();
    const u = newUser();
    graph.throttle(1, { retryAfterSec: 30, path: `/v1.0/groups/${g}/members/$ref` });
    const err = await rejectsWith(connector.addMember(g, u.id), RetryableError);
    assert.equal(err.code, 'entra_rate_limited');
    assert.equal(err.retryAfterMs, 30_000);
    assert.match(err.message, /TooManyRequests/);
    assert.equal(graph.callsTo('POST', `/v1.0/groups/${g}/members/$ref`).length, 1, 'exactly one request');
    assert.equal(graph.isMember(g, u.id), false);
  });

  test('503 and 504 honour Retry-After; a 500 without it is retryable too', async () => {
    const g = newGroup();
    const u = newUser();
    const path = `/v1.0/groups/${g}/members/${u.id}/$ref`;
    graph.throttle(1, { status: 503, retryAfterSec: 7, path });
    const e503 = await rejectsWith(connector.removeMember(g, u.id), RetryableError);
    assert.equal(e503.code, 'entra_unavailable');
    assert.equal(e503.retryAfterMs, 7000);
    graph.throttle(1, { status: 504, retryAfterSec: 3, path });
    assert.equal((await rejectsWith(connector.removeMember(g, u.id), RetryableError)).retryAfterMs, 3000);
    graph.inject({ path, status: 500, body: '<html><body>Internal Server Error</body></html>', times: 1 });
    const e500 = await rejectsWith(connector.removeMember(g, u.id), RetryableError);
    assert.equal(e500.retryAfterMs, undefined);
    assert.match(e500.message, /Internal Server Error/);
  });

  test('a hung request times out as retryable', async () => {
    const g = newGroup();
    const u = newUser();
    const quick = EntraConnector.fromConfig(config({ timeoutMs: 200 }));
    await quick.isMember(g, u.id); // token fetched before the hang
    graph.inject({ path: `/v1.0/groups/${g}/members/$ref`, hang: true, times: 1 });
    const started = Date.now();
    const err = await rejectsWith(quick.addMember(g, u.id), RetryableError);
    assert.equal(err.code, 'entra_timeout');
    assert.ok(Date.now() - started < 1500);
  });

  test('a hung token endpoint times out as retryable', async () => {
    const quick = EntraConnector.fromConfig(config({ timeoutMs: 200 }));
    graph.inject({ path: `/${graph.tenantId}/oauth2/v2.0/token`, hang: true, times: 1 });
    const err = await rejectsWith(quick.isMember(newGroup(), newUser().id), RetryableError);
    assert.equal(err.code, 'entra_timeout');
  });

  test('a dropped connection is retryable', async () => {
    const g = newGroup();
    const u = newUser();
    await connector.isMember(g, u.id);
    graph.inject({ path: `/v1.0/groups/${g}/members/${u.id}/$ref`, drop: true, times: 1 });
    const err = await rejectsWith(connector.removeMember(g, u.id), RetryableError);
    assert.equal(err.code, 'entra_unreachable');
  });

  test('a wrong client secret is permanent and the message does not contain it', async () => {
    const secret = 'not-the-right-secret~987654321';
    const bad = EntraConnector.fromConfig(config({ clientSecret: secret }));
    const err = await rejectsWith(bad.addMember(newGroup(), newUser().id), PermanentError);
    assert.equal(err.code, 'entra_auth');
    assert.match(err.message, /AADSTS7000215/);
    assert.ok(!err.message.includes(secret));
    assert.ok(!err.message.includes('Trace ID'), 'only the first line of the AADSTS description');
  });

  test('an unknown tenant or client is permanent', async () => {
    const badClient = EntraConnector.fromConfig(config({ clientId: 'ffffffff-0000-4000-8000-000000000000' }));
    assert.match((await rejectsWith(badClient.isMember(newGroup(), newUser().id), PermanentError)).message, /AADSTS700016/);
    const badTenant = EntraConnector.fromConfig(config({ tokenUrl: `${graph.url}/other-tenant/oauth2/v2.0/token` }));
    assert.match((await rejectsWith(badTenant.isMember(newGroup(), newUser().id), PermanentError)).message, /AADSTS90002/);
  });

  test('a token endpoint answering 503 is retryable with its Retry-After', async () => {
    graph.throttle(1, { status: 503, retryAfterSec: 4, path: `/${graph.tenantId}/oauth2/v2.0/token` });
    const err = await rejectsWith(connector.isMember(newGroup(), newUser().id), RetryableError);
    assert.equal(err.code, 'entra_token_unavailable');
    assert.equal(err.retryAfterMs, 4000);
  });

  test('403 is permanent', async () => {
    const g = newGroup();
    graph.inject({
      path: `/v1.0/groups/${g}/members/$ref`,
      status: 403,
      body: { error: { code: 'Authorization_RequestDenied', message: 'Insufficient privileges to complete the operation.' } },
      times: 1,
    });
    const err = await rejectsWith(connector.addMember(g, newUser().id), PermanentError);
    assert.equal(err.code, 'entra_forbidden');
    assert.match(err.message, /Insufficient privileges/);
  });
});

describe('access tokens', () => {
  test('one token serves many calls', async () => {
    const fresh = EntraConnector.fromConfig(config());
    const before = graph.tokenRequests;
    const g = newGroup();
    const u = newUser();
    await Promise.all([fresh.isMember(g, u.id), fresh.findUserByEmail(u.upn), fresh.addMember(g, u.id)]);
    await fresh.removeMember(g, u.id);
    assert.equal(graph.tokenRequests - before, 1);
    const form = graph.callsTo('POST', `/${graph.tenantId}/oauth2/v2.0/token`).at(-1)!.body as Record<string, string>;
    assert.deepEqual(form, { client_id: graph.clientId, client_secret: SECRET, scope: 'https://graph.microsoft.com/.default', grant_type: 'client_credentials' });
  });

  test('an expiring token is replaced before it expires', async () => {
    graph.tokenLifetimeSec = 1; // refreshed after half its life
    const fresh = EntraConnector.fromConfig(config());
    const before = graph.tokenRequests;
    const g = newGroup();
    const u = newUser();
    await fresh.isMember(g, u.id);
    await fresh.isMember(g, u.id);
    assert.equal(graph.tokenRequests - before, 1);
    await new Promise((r) => setTimeout(r, 600));
    await fresh.isMember(g, u.id);
    assert.equal(graph.tokenRequests - before, 2);
    assert.ok(graph.callsTo('GET', `/v1.0/users/${u.id}/memberOf`).every((c) => c.status === 200), 'no call was sent with an expired token');
  });

  test('a 401 gets one new token and one resend', async () => {
    const g = newGroup();
    const u = newUser();
    await connector.isMember(g, u.id);
    graph.invalidateTokens();
    const before = graph.tokenRequests;
    await connector.addMember(g, u.id);
    assert.equal(graph.tokenRequests - before, 1);
    const posts = graph.callsTo('POST', `/v1.0/groups/${g}/members/$ref`);
    assert.deepEqual(
      posts.map((c) => c.status),
      [401, 204],
    );
    assert.equal(graph.isMember(g, u.id), true);
  });

  test('a token the directory already considers expired (clock skew) is refetched after its 401', async () => {
    let skew = 0;
    const skewed = new GraphEmulator({ clientSecret: SECRET, now: () => Date.now() + skew });
    await skewed.start();
    try {
      const c = EntraConnector.fromConfig({ ...config(), baseUrl: skewed.url, tokenUrl: skewed.tokenUrl });
      const g = skewed.addGroup({ displayName: 'skewed' }).id;
      const u = skewed.addUser({ userPrincipalName: 'skew@contoso.example' }).id;
      await c.isMember(g, u);
      skew = 3600_000; // the directory's clock jumps past the token's expiry; ours does not
      await c.addMember(g, u);
      assert.deepEqual(
        skewed.callsTo('POST', `/v1.0/groups/${g}/members/$ref`).map((x) => x.status),
        [401, 204],
      );
      assert.equal(skewed.tokensIssued, 2);
      assert.match(JSON.stringify(skewed.callsTo('POST', `/v1.0/groups/${g}/members/$ref`)[0]!.response), /Access token has expired/);
    } finally {
      await skewed.stop();
    }
  });

  test('a second 401 is permanent, without a third attempt', async () => {
    const g = newGroup();
    const u = newUser();
    const path = `/v1.0/groups/${g}/members/$ref`;
    graph.inject({ path, status: 401, times: 2, body: { error: { code: 'InvalidAuthenticationToken', message: 'Access token validation failure.' } } });
    const before = graph.tokenRequests;
    const err = await rejectsWith(connector.addMember(g, u.id), PermanentError);
    assert.equal(err.code, 'entra_auth');
    assert.equal(graph.callsTo('POST', path).length, 2);
    assert.ok(graph.tokenRequests - before <= 2);
  });
});

describe('findManagerEmail', () => {
  test("the manager's mail", async () => {
    const boss = newUser({ mail: 'boss@contoso.example' });
    const u = newUser({ managerId: boss.id });
    assert.equal(await connector.findManagerEmail(u.id), 'boss@contoso.example');
  });

  test('a manager without mail falls back to the UPN', async () => {
    const boss = newUser({ mail: null });
    const u = newUser({ managerId: boss.id });
    assert.equal(await connector.findManagerEmail(u.id), boss.upn);
  });

  test('no manager: undefined', async () => {
    assert.equal(await connector.findManagerEmail(newUser().id), undefined);
  });

  test('a changed manager is seen at once', async () => {
    const first = newUser({ mail: 'first-boss@contoso.example' });
    const second = newUser({ mail: 'second-boss@contoso.example' });
    const u = newUser({ managerId: first.id });
    assert.equal(await connector.findManagerEmail(u.id), 'first-boss@contoso.example');
    graph.setManager(u.id, second.id);
    assert.equal(await connector.findManagerEmail(u.id), 'second-boss@contoso.example');
  });

  test('an unknown user is a PermanentError', async () => {
    await rejectsWith(connector.findManagerEmail(MISSING_USER), PermanentError);
  });
});

describe('listMembers', () => {
  test('lists the direct members page by page; a missing group is a PermanentError', async () => {
    const g = newGroup();
    const users = [newUser(), newUser(), newUser(), newUser(), newUser()];
    for (const u of users) graph.addMember(g, u.id);
    const { members, pages } = await allMembers(connector, g, 2);
    assert.equal(pages, 3);
    assert.deepEqual(members.map((m) => m.id).sort(), users.map((u) => u.id).sort());
    assert.deepEqual(members.find((m) => m.id === users[0]!.id)?.email, users[0]!.upn);
    await rejectsWith(connector.listMembers(MISSING_GROUP), PermanentError);
    await rejectsWith(connector.listMembers(g, { cursor: '/users?$top=5' }), PermanentError);
  });
});

describe('checkHealth', () => {
  test('reports the credentials and each group', async () => {
    const g = newGroup();
    const report = await connector.checkHealth([g, MISSING_GROUP]);
    assert.equal(report.ok, false);
    assert.deepEqual(
      report.checks.map((c) => [c.name, c.ok]),
      [
        ['credentials valid', true],
        [`group ${g} exists`, true],
        [`group ${MISSING_GROUP} exists`, false],
      ],
    );
    assert.match(report.checks[1]!.detail ?? '', /^group-/);
    assert.match(report.checks[2]!.detail ?? '', /not found/);
  });

  test('all good', async () => {
    assert.equal((await connector.checkHealth([newGroup()])).ok, true);
  });

  test('a wrong secret fails the report without throwing or leaking it', async () => {
    const secret = 'wrong-secret-for-health~1234';
    const report = await EntraConnector.fromConfig(config({ clientSecret: secret })).checkHealth([newGroup()]);
    assert.equal(report.ok, false);
    assert.equal(report.checks[0]!.ok, false);
    assert.ok(report.checks.every((c) => !(c.detail ?? '').includes(secret)));
  });

  test('an unreachable Graph fails the report without throwing', async () => {
    const dead = EntraConnector.fromConfig(config({ baseUrl: 'http://127.0.0.1:1', tokenUrl: 'http://127.0.0.1:1/t/oauth2/v2.0/token', timeoutMs: 500 }));
    const report = await dead.checkHealth(['x']);
    assert.equal(report.ok, false);
    assert.equal(report.checks[0]!.ok, false);
  });
});

describe('emulator fidelity', () => {
  test('a call without a token gets 401 InvalidAuthenticationToken in Graph error shape', async () => {
    const res = await fetch(`${graph.url}/v1.0/groups/${newGroup()}`);
    assert.equal(res.status, 401);
    assert.ok(res.headers.get('request-id'));
    const body = (await res.json()) as { error: { code: string; message: string; innerError: Record<string, string> } };
    assert.equal(body.error.code, 'InvalidAuthenticationToken');
    assert.equal(body.error.message, 'Access token is empty.');
    assert.ok(body.error.innerError['request-id']);
  });

  test('the token endpoint answers like the identity platform', async () => {
    const post = (form: Record<string, string>): Promise<Response> =>
      fetch(graph.tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
    const good = await post({ client_id: graph.clientId, client_secret: SECRET, scope: 'https://graph.microsoft.com/.default', grant_type: 'client_credentials' });
    const token = (await good.json()) as Record<string, unknown>;
    assert.equal(token.token_type, 'Bearer');
    assert.equal(token.expires_in, 3599);
    assert.equal(typeof token.access_token, 'string');
    const badScope = await post({ client_id: graph.clientId, client_secret: SECRET, scope: 'User.Read.All', grant_type: 'client_credentials' });
    assert.equal(badScope.status, 400);
    const err = (await badScope.json()) as { error: string; error_codes: number[] };
    assert.equal(err.error, 'invalid_scope');
    assert.deepEqual(err.error_codes, [1002012]);
  });
});

describe('EntraConnector activity and account status (inactivity reclaim, offboarding)', () => {
  test('signInActivity: the last successful sign-in; null for someone who never signed in', async () => {
    const u = graph.addUser({ userPrincipalName: `signin${Date.now()}@example.com` });
    assert.equal(await connector.lastLoginOf(u.id), null);
    graph.setLastSignIn(u.id, Date.UTC(2026, 2, 4, 5, 6, 7));
    assert.equal(await connector.lastLoginOf(u.id), Date.UTC(2026, 2, 4, 5, 6, 7));
  });

  test('a tenant without an Entra ID P1/P2 licence: a PermanentError that says so', async () => {
    const u = graph.addUser({ userPrincipalName: `nolicence${Date.now()}@example.com` });
    graph.premium = false;
    try {
      const err = await rejectsWith(connector.lastLoginOf(u.id), PermanentError);
      assert.match(err.message, /Authentication_RequestFromNonPremiumTenantOrB2CTenant.*no Microsoft Entra ID P1 or P2 licence/);
    } finally {
      graph.premium = true;
    }
  });

  test('accountEnabled false is deactivated, a user Graph does not find deleted', async () => {
    const u = graph.addUser({ userPrincipalName: `enabled${Date.now()}@example.com` });
    assert.deepEqual(await connector.accountStatus(u.id), { state: 'active' });
    graph.setAccountEnabled(u.id, false);
    assert.deepEqual(await connector.accountStatus(u.id), { state: 'deactivated', detail: 'accountEnabled false' });
    graph.removeUser(u.id);
    assert.deepEqual(await connector.accountStatus(u.id), { state: 'deleted', detail: 'not found' });
  });
});
