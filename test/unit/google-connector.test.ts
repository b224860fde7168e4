import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GoogleConnector, GOOGLE_SCOPES, type GoogleConnectorConfig } from '../../src/adapters/idp/google/connector.js';
import { PermanentError, RetryableError } from '../../src/outbox/errors.js';
import { GoogleDirectoryEmulator, SCOPE } from '../emulators/google.js';
import { allMembers } from '../support/members.js';
import { rejectsWith } from '../support/rejects.js';

const ADMIN = 'admin@example.com';

let google: GoogleDirectoryEmulator;
let connector: GoogleConnector;
let dir: string;
let keyFile: string;

function config(extra: Partial<GoogleConnectorConfig> = {}): GoogleConnectorConfig {
  return { saKeyFile: keyFile, adminSubject: ADMIN, rootUrl: google.rootUrl, tokenUrl: google.tokenUrl, timeoutMs: 2000, ...extra };
}

before(async () => {
  google = new GoogleDirectoryEmulator({ admins: [ADMIN] });
  await google.start();
  dir = mkdtempSync(join(tmpdir(), 'access-bot-google-'));
  keyFile = join(dir, 'sa.json');
  writeFileSync(keyFile, google.serviceAccountJson(), { mode: 0o600 });
});

after(async () => {
  await google.stop();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  connector = GoogleConnector.fromConfig(config());
});

afterEach(() => {
  google.clearFaults();
  google.tokenLifetimeSec = 3599;
  google.delegatedScopes = new Set(GOOGLE_SCOPES);
});

let seq = 0;
function newUser(extra: { manager?: string; aliases?: string[]; givenName?: string; familyName?: string } = {}): string {
  seq += 1;
  return google.addUser({ primaryEmail: `user${seq}@example.com`, ...extra }).primaryEmail;
}

function newGroup(): string {
  seq += 1;
  return google.addGroup({ email: `group-${seq}@example.com`, name: `Group ${seq}` }).email;
}


/** Paths as the emulator records them: googleapis encodes the keys ('@' → %40). */
const enc = encodeURIComponent;
const membersPath = (g: string): string => `/admin/directory/v1/groups/${enc(g)}/members`;

describe('findUserByEmail', () => {
  test('by primary email, ignoring case; the id is the primary email', async () => {
    const u = newUser({ givenName: 'Ada', familyName: 'Lovelace' });
    assert.deepEqual(await connector.findUserByEmail(u.toUpperCase()), { id: u, email: u, displayName: 'Ada Lovelace' });
  });

  test('by alias, answering the primary email', async () => {
    const alias = `ada.alias${seq + 1}@example.com`;
    const u = newUser({ aliases: [alias] });
    assert.equal((await connector.findUserByEmail(alias))?.id, u);
  });

  test('unknown email resolves undefined', async () => {
    assert.equal(await connector.findUserByEmail('nobody@example.com'), undefined);
  });
});

describe('memberships', () => {
  test('adding twice leaves one membership and no error', async () => {
    const g = newGroup();
    const u = newUser();
    const before = google.insertCalls;
    await connector.addMember(g, u);
    await connector.addMember(g, u);
    assert.deepEqual(google.members(g), [u]);
    assert.equal(google.insertCalls - before, 2);
    assert.deepEqual(
      google.callsTo('POST', membersPath(g)).map((c) => c.status),
      [200, 409],
    );
    assert.deepEqual(google.callsTo('POST', membersPath(g))[0]!.body, { email: u, role: 'MEMBER' });
  });

  test('removing a non-member succeeds', async () => {
    const g = newGroup();
    const u = newUser();
    await connector.removeMember(g, u);
    assert.deepEqual(google.members(g), []);
  });

  test('remove takes a member out', async () => {
    const g = newGroup();
    const u = newUser();
    google.addMember(g, u);
    await connector.removeMember(g, u);
    assert.equal(google.isMember(g, u), false);
  });

  test('isMember reflects direct membership (members.get)', async () => {
    const g = newGroup();
    const u = newUser();
    assert.equal(await connector.isMember(g, u), false);
    google.addMember(g, u);
    assert.equal(await connector.isMember(g, u), true);
    assert.equal(google.callsTo('GET', `${membersPath(g)}/${enc(u)}`).length, 2);
  });

  test('a missing group is a PermanentError naming it, on add, remove and isMember', async () => {
    const u = newUser();
    const missing = 'no-such-group@example.com';
    for (const run of [() => connector.addMember(missing, u), () => connector.removeMember(missing, u), () => connector.isMember(missing, u)]) {
      const err = await rejectsWith(run(), PermanentError);
      assert.match(err.message, /Google group no-such-group@example.com not found/);
    }
  });

  test('a 404 naming neither key is settled by reading the group', async () => {
    const g = newGroup();
    const u = newUser();
    google.inject({ method: 'DELETE', path: `${membersPath(g)}/${enc(u)}`, status: 404, body: { error: { code: 404, message: 'Not Found', errors: [{ reason: 'notFound' }] } }, times: 1 });
    await connector.removeMember(g, u);
    assert.equal(google.callsTo('GET', `/admin/directory/v1/groups/${enc(g)}`).length, 1);
  });

  test('adding an unknown user is a PermanentError naming them', async () => {
    const err = await rejectsWith(connector.addMember(newGroup(), 'ghost@example.com'), PermanentError);
    assert.match(err.message, /Google user ghost@example.com not found/);
  });
});

describe('failures', () => {
  test('403 userRateLimitExceeded is retryable, and nothing retries it inside', async () => {
    const g = newGroup();
    const u = newUser();
    google.rateLimit(1, { kind: 'user', path: membersPath(g) });
    const err = await rejectsWith(connector.addMember(g, u), RetryableError);
    assert.equal(err.code, 'google_rate_limited');
    assert.match(err.message, /userRateLimitExceeded/);
    assert.equal(google.callsTo('POST', membersPath(g)).length, 1);
  });

  test('403 quotaExceeded is retryable', async () => {
    const g = newGroup();
    google.rateLimit(1, { kind: 'quota', path: `${membersPath(g)}/${enc('x@example.com')}` });
    assert.equal((await rejectsWith(connector.removeMember(g, 'x@example.com'), RetryableError)).code, 'google_rate_limited');
  });

  test('429 on a GET and a DELETE is retryable with its Retry-After, sent once (gaxios retry is off)', async () => {
    const g = newGroup();
    const u = newUser();
    google.rateLimit(1, { kind: '429', path: `${membersPath(g)}/${enc(u)}`, method: 'GET', retryAfterSec: 20 });
    const err = await rejectsWith(connector.isMember(g, u), RetryableError);
    assert.equal(err.code, 'google_rate_limited');
    assert.equal(err.retryAfterMs, 20_000);
    assert.equal(google.callsTo('GET', `${membersPath(g)}/${enc(u)}`).length, 1);
    google.rateLimit(1, { kind: '429', path: `${membersPath(g)}/${enc(u)}`, method: 'DELETE' });
    const del = await rejectsWith(connector.removeMember(g, u), RetryableError);
    assert.equal(del.retryAfterMs, undefined);
    assert.equal(google.callsTo('DELETE', `${membersPath(g)}/${enc(u)}`).length, 1);
  });

  test('5xx is retryable and not retried inside', async () => {
    const g = newGroup();
    const u = newUser();
    google.inject({ path: `${membersPath(g)}/${enc(u)}`, status: 503, body: { error: { code: 503, message: 'The service is currently unavailable.', status: 'UNAVAILABLE' } }, times: 1 });
    const err = await rejectsWith(connector.isMember(g, u), RetryableError);
    assert.equal(err.code, 'google_unavailable');
    assert.equal(google.callsTo('GET', `${membersPath(g)}/${enc(u)}`).length, 1);
  });

  test('another 403 is permanent', async () => {
    const g = newGroup();
    google.inject({ path: membersPath(g), status: 403, body: { error: { code: 403, message: 'Not Authorized to access this resource/api', errors: [{ reason: 'forbidden', domain: 'global' }] } }, times: 1 });
    const err = await rejectsWith(connector.addMember(g, newUser()), PermanentError);
    assert.equal(err.code, 'google_forbidden');
  });

  test('a hung request times out as retryable', async () => {
    const g = newGroup();
    const u = newUser();
    const quick = GoogleConnector.fromConfig(config({ timeoutMs: 200 }));
    await quick.isMember(g, u);
    google.inject({ path: membersPath(g), hang: true, times: 1 });
    const started = Date.now();
    const err = await rejectsWith(quick.addMember(g, u), RetryableError);
    assert.equal(err.code, 'google_timeout');
    assert.ok(Date.now() - started < 1500);
  });

  test('a dropped connection is retryable', async () => {
    const g = newGroup();
    const u = newUser();
    await connector.isMember(g, u);
    google.inject({ path: `${membersPath(g)}/${enc(u)}`, drop: true, times: 1 });
    assert.equal((await rejectsWith(connector.removeMember(g, u), RetryableError)).code, 'google_unreachable');
  });

  test('a key Google does not know is permanent, and the key is in no message', async () => {
    const other = mkdtempSync(join(tmpdir(), 'access-bot-google-other-'));
    try {
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      const file = join(other, 'sa.json');
      writeFileSync(file, JSON.stringify({ ...(JSON.parse(google.serviceAccountJson()) as object), private_key: pem }));
      const bad = GoogleConnector.fromConfig(config({ saKeyFile: file }));
      const err = await rejectsWith(bad.addMember(newGroup(), newUser()), PermanentError);
      assert.equal(err.code, 'google_auth');
      assert.match(err.message, /invalid_grant: Invalid JWT Signature/);
      const body = pem.split('\n')[1]!;
      assert.ok(!err.message.includes(body));
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  test('a subject that is not an admin, or undelegated scopes, are permanent', async () => {
    const notAdmin = GoogleConnector.fromConfig(config({ adminSubject: newUser() }));
    assert.match((await rejectsWith(notAdmin.isMember(newGroup(), newUser()), PermanentError)).message, /Invalid email or User ID/);
    google.delegatedScopes = new Set([SCOPE.groupMember]);
    const undelegated = GoogleConnector.fromConfig(config());
    assert.match((await rejectsWith(undelegated.isMember(newGroup(), newUser()), PermanentError)).message, /unauthorized_client/);
  });

  test('an unreadable key file fails at construction, naming the file', () => {
    assert.throws(() => GoogleConnector.fromConfig(config({ saKeyFile: join(dir, 'missing.json') })), /GOOGLE_SA_KEY_FILE: .*missing\.json.*ENOENT/);
  });
});

describe('access tokens', () => {
  test('the assertion is RS256 with iss, sub, scope and aud = the token URL; one token serves many calls', async () => {
    const fresh = GoogleConnector.fromConfig(config());
    const before = google.tokenRequests;
    const g = newGroup();
    const u = newUser();
    await Promise.all([fresh.isMember(g, u), fresh.findUserByEmail(u), fresh.addMember(g, u)]);
    await fresh.removeMember(g, u);
    assert.equal(google.tokenRequests - before, 1);
    const form = google.callsTo('POST', '/token').at(-1)!.body as Record<string, string>;
    assert.equal(form.grant_type, 'urn:ietf:params:oauth:grant-type:jwt-bearer');
    const [h, p] = form.assertion!.split('.') as [string, string];
    assert.equal((JSON.parse(Buffer.from(h, 'base64url').toString()) as { alg: string }).alg, 'RS256');
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    assert.equal(claims.iss, google.clientEmail);
    assert.equal(claims.sub, ADMIN);
    assert.equal(claims.aud, google.tokenUrl);
    assert.deepEqual(String(claims.scope).split(' '), [...GOOGLE_SCOPES]);
    assert.equal(Number(claims.exp) - Number(claims.iat), 3600);
  });

  test('an expiring token is replaced before it expires', async () => {
    google.tokenLifetimeSec = 1;
    const fresh = GoogleConnector.fromConfig(config());
    const before = google.tokenRequests;
    const g = newGroup();
    const u = newUser();
    await fresh.isMember(g, u);
    await fresh.isMember(g, u);
    assert.equal(google.tokenRequests - before, 1);
    await new Promise((r) => setTimeout(r, 600));
    await fresh.isMember(g, u);
    assert.equal(google.tokenRequests - before, 2);
  });

  test('a 401 gets one new token and one resend', async () => {
    const g = newGroup();
    const u = newUser();
    await connector.isMember(g, u);
    google.invalidateTokens();
    const before = google.tokenRequests;
    await connector.addMember(g, u);
    assert.equal(google.tokenRequests - before, 1);
    assert.deepEqual(
      google.callsTo('POST', membersPath(g)).map((c) => c.status),
      [401, 200],
    );
  });

  test('a second 401 is permanent, without a third attempt', async () => {
    const g = newGroup();
    google.inject({ path: membersPath(g), status: 401, times: 2, body: { error: { code: 401, message: 'Request had invalid authentication credentials.', status: 'UNAUTHENTICATED' } } });
    const err = await rejectsWith(connector.addMember(g, newUser()), PermanentError);
    assert.equal(err.code, 'google_auth');
    assert.equal(google.callsTo('POST', membersPath(g)).length, 2);
  });

  test('a token endpoint answering 503 is retryable', async () => {
    const fresh = GoogleConnector.fromConfig(config());
    google.inject({ path: '/token', status: 503, headers: { 'Retry-After': '9' }, body: 'unavailable', times: 1 });
    const err = await rejectsWith(fresh.isMember(newGroup(), newUser()), RetryableError);
    assert.equal(err.code, 'google_token_unavailable');
    assert.equal(err.retryAfterMs, 9000);
  });
});

describe('findManagerEmail', () => {
  test('the relations entry of type manager', async () => {
    const u = newUser({ manager: 'boss@example.com' });
    assert.equal(await connector.findManagerEmail(u), 'boss@example.com');
  });

  test('no manager: undefined; a changed manager is seen at once', async () => {
    const u = newUser();
    assert.equal(await connector.findManagerEmail(u), undefined);
    google.setManager(u, 'new-boss@example.com');
    assert.equal(await connector.findManagerEmail(u), 'new-boss@example.com');
  });

  test('an unknown user is a PermanentError', async () => {
    await rejectsWith(connector.findManagerEmail('nobody@example.com'), PermanentError);
  });
});

describe('listMembers', () => {
  test('lists the direct members page by page; a missing group is a PermanentError', async () => {
    const g = newGroup();
    const users = [newUser(), newUser(), newUser(), newUser(), newUser()];
    for (const u of users) google.addMember(g, u);
    const { members, pages } = await allMembers(connector, g, 2);
    assert.equal(pages, 3);
    assert.deepEqual(members.map((m) => m.id).sort(), [...users].sort());
    assert.deepEqual(members.find((m) => m.id === users[0])?.email, users[0]);
    await rejectsWith(connector.listMembers('missing@example.com'), PermanentError);
  });
});

describe('checkHealth', () => {
  test('reports the credentials and each group', async () => {
    const g = newGroup();
    const report = await connector.checkHealth([g, 'missing@example.com']);
    assert.equal(report.ok, false);
    assert.deepEqual(
      report.checks.map((c) => [c.name, c.ok]),
      [
        ['credentials valid', true],
        [`group ${g} exists`, true],
        ['group missing@example.com exists', false],
      ],
    );
    assert.match(report.checks[1]!.detail ?? '', /^Group /);
    assert.match(report.checks[2]!.detail ?? '', /not found/);
  });

  test('without the group.readonly delegation no token is issued, and the report says which scopes', async () => {
    google.delegatedScopes = new Set([SCOPE.groupMember, SCOPE.userReadonly]);
    const report = await GoogleConnector.fromConfig(config()).checkHealth([newGroup()]);
    assert.equal(report.ok, false);
    assert.equal(report.checks[0]!.ok, false);
    assert.match(report.checks[0]!.detail ?? '', /unauthorized_client.*admin\.directory\.group\.readonly/);
    assert.equal(report.checks[1]!.detail, 'not checked: no access token');
  });

  test('bad credentials fail the report without throwing', async () => {
    const report = await GoogleConnector.fromConfig(config({ adminSubject: 'nobody@example.com' })).checkHealth([newGroup()]);
    assert.equal(report.ok, false);
    assert.equal(report.checks[0]!.ok, false);
  });

  test('an unreachable Google fails the report without throwing', async () => {
    const dead = GoogleConnector.fromConfig(config({ rootUrl: 'http://127.0.0.1:1/', tokenUrl: 'http://127.0.0.1:1/token', timeoutMs: 500 }));
    const report = await dead.checkHealth([]);
    assert.equal(report.ok, false);
  });
});

describe('emulator fidelity', () => {
  test('a tampered assertion is refused: the signature is checked', async () => {
    const fresh = GoogleConnector.fromConfig(config());
    await fresh.isMember(newGroup(), newUser());
    const assertion = (google.callsTo('POST', '/token').at(-1)!.body as Record<string, string>).assertion!;
    const [h, p, s] = assertion.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, sub: 'someone-else@example.com' })).toString('base64url')}.${s}`;
    const res = await fetch(google.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: forged }).toString(),
    });
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' });
  });

  test('a call without a token gets 401 in Google error shape', async () => {
    const res = await fetch(`${google.url}/admin/directory/v1/groups/${newGroup()}`);
    assert.equal(res.status, 401);
    const body = (await res.json()) as { error: { code: number; status: string; errors: { reason: string }[] } };
    assert.equal(body.error.code, 401);
    assert.equal(body.error.status, 'UNAUTHENTICATED');
    assert.equal(body.error.errors[0]!.reason, 'authError');
  });
});

describe('GoogleConnector activity and account status (inactivity reclaim, offboarding)', () => {
  test('lastLoginTime: the epoch Google sends for someone who never signed in is null', async () => {
    const email = `activity${Date.now()}@example.com`;
    google.addUser({ primaryEmail: email });
    assert.equal(await connector.lastLoginOf(email), null);
    google.setLastLogin(email, Date.UTC(2026, 1, 3));
    assert.equal(await connector.lastLoginOf(email), Date.UTC(2026, 1, 3));
    const err = await rejectsWith(connector.lastLoginOf('nobody@example.com'), PermanentError);
    assert.match(err.message, /Google user nobody@example.com not found/);
  });

  test('suspended is suspended (with its reason), a user Google does not find deleted', async () => {
    const email = `status${Date.now()}@example.com`;
    google.addUser({ primaryEmail: email });
    assert.deepEqual(await connector.accountStatus(email), { state: 'active' });
    google.setSuspended(email, true);
    assert.deepEqual(await connector.accountStatus(email), { state: 'suspended', detail: 'ADMIN' });
    assert.deepEqual(await connector.accountStatus('gone@example.com'), { state: 'deleted', detail: 'not found' });
  });
});
