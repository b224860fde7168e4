import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { GitHubConnector, PENDING_POLL_MS, parseEmailMap, parseTeam } from '../../src/adapters/idp/github/connector.js';
import { graphqlUrlFor } from '../../src/adapters/idp/github/descriptor.js';
import { PermanentError, RetryableError } from '../../src/outbox/errors.js';
import { GitHubEmulator } from '../emulators/github.js';
import { allMembers } from '../support/members.js';
import { rejectsWith } from '../support/rejects.js';

const ORG = 'acme';

let gh: GitHubEmulator;
let ghes: GitHubEmulator;

before(async () => {
  gh = new GitHubEmulator();
  ghes = new GitHubEmulator({ basePath: '/api/v3' });
  await Promise.all([gh.start(), ghes.start()]);
  for (const e of [gh, ghes]) {
    e.addOrg(ORG, { saml: true });
    e.addOrg('nosaml');
  }
});

after(async () => {
  await Promise.all([gh.stop(), ghes.stop()]);
});

afterEach(() => {
  gh.clearFaults();
});

function app(e: GitHubEmulator = gh, extra: { now?: () => number; emailMap?: string; org?: string } = {}): GitHubConnector {
  return GitHubConnector.fromConfig(
    { org: extra.org ?? ORG, baseUrl: e.apiUrl, graphqlUrl: e.graphqlUrl, appId: e.appId, installationId: e.installationId, privateKeyPem: e.privateKeyPem, emailMap: extra.emailMap, timeoutMs: 2000 },
    { now: extra.now },
  );
}

function pat(e: GitHubEmulator = gh, token = e.token): GitHubConnector {
  return GitHubConnector.fromConfig({ org: ORG, baseUrl: e.apiUrl, graphqlUrl: e.graphqlUrl, token, timeoutMs: 2000 });
}

let seq = 0;
/** A fresh login (a member of the org unless said otherwise) and team per test. */
function fresh(e: GitHubEmulator = gh, opts: { inOrg?: boolean } = {}): { login: string; team: string; slug: string } {
  seq += 1;
  const login = `dev${seq}`;
  const slug = `team-${seq}`;
  e.addUser(login, `Dev ${seq}`);
  if (opts.inOrg !== false) e.addOrgMember(ORG, login);
  e.addTeam(ORG, slug, `Team ${seq}`);
  return { login, team: `${ORG}/${slug}`, slug };
}


describe('configuration', () => {
  test('the group is <org>/<team-slug>; anything else is a PermanentError naming the form', async () => {
    assert.deepEqual(parseTeam('acme/platform-admins'), { org: 'acme', slug: 'platform-admins' });
    assert.equal(parseTeam('platform-admins'), undefined);
    assert.equal(parseTeam('acme/teams/x'), undefined);
    const err = await rejectsWith(app().addMember('platform-admins', 'dev'), PermanentError);
    assert.match(err.message, /"platform-admins" is not a GitHub team: write <org>\/<team-slug>/);
  });

  test('either a token or all three App settings, never both', () => {
    const base = { org: ORG, baseUrl: gh.apiUrl, graphqlUrl: gh.graphqlUrl };
    assert.throws(() => GitHubConnector.fromConfig({ ...base }), /give a GitHub token, or the GitHub App settings/);
    assert.throws(() => GitHubConnector.fromConfig({ ...base, appId: '1' }), /needs all three/);
    assert.throws(() => GitHubConnector.fromConfig({ ...base, token: 'x'.repeat(20), appId: '1' }), /not both/);
    assert.throws(() => GitHubConnector.fromConfig({ ...base, appId: '1', installationId: '2', privateKeyPem: 'not a key' }), /not a PEM private key/);
  });

  test('GitHub Enterprise Server: GraphQL is beside /api/v3', () => {
    assert.equal(graphqlUrlFor('https://github.example.com/api/v3/'), 'https://github.example.com/api/graphql');
    assert.equal(graphqlUrlFor('https://api.github.com'), 'https://api.github.com/graphql');
  });

  test('the email map: email,login lines, a header and comments allowed, a bad line named', () => {
    const ok = parseEmailMap('email,login\n# people\nAda@Example.com, ada-l\n');
    assert.ok('map' in ok);
    assert.deepEqual(ok.map.get('ada@example.com'), ['ada-l']);
    assert.deepEqual(parseEmailMap('ada@example.com,ada\nnot a line\n'), { error: 'line 2 is not "email,login"' });
  });
});

describe('team membership', () => {
  test('grant, already a member, revoke, not a member: all succeed, one membership each way', async () => {
    const c = app();
    const { login, team, slug } = fresh();
    assert.equal(await c.isMember(team, login), false);
    await c.addMember(team, login);
    assert.equal(gh.membership(ORG, slug, login), 'active');
    assert.equal(await c.isMember(team, login), true);
    await c.addMember(team, login);
    await c.removeMember(team, login);
    assert.equal(gh.membership(ORG, slug, login), undefined);
    await c.removeMember(team, login);
    assert.equal(await c.isMember(team, login), false);
  });

  test('a person outside the organization: the add answers pending (an invitation), then confirmMembership reads it by GET until they accept', async () => {
    const c = app();
    const { login, team, slug } = fresh(gh, { inOrg: false });
    assert.deepEqual(await c.addMember(team, login), { pending: `GitHub invitation sent to ${login} to join organization ${ORG} (team ${team}); access starts when it is accepted` });
    assert.equal(gh.membership(ORG, slug, login), 'pending');
    // Pending counts as held, so an undo or a revocation removes it.
    assert.equal(await c.isMember(team, login), true);
    const puts = gh.addCalls;
    const err = await rejectsWith(c.confirmMembership(team, login), RetryableError);
    assert.equal(err.code, 'github_pending');
    assert.equal(err.retryAfterMs, PENDING_POLL_MS);
    assert.match(err.message, new RegExp(`${login} is not a member of GitHub organization ${ORG} yet: .*pending until they accept`));
    gh.acceptInvitation(ORG, login);
    await c.confirmMembership(team, login);
    assert.equal(gh.addCalls, puts, 'read with GET, never another PUT (which could invite again)');
    assert.equal(gh.membership(ORG, slug, login), 'active');
    assert.equal(await c.addMember(team, login), undefined, 'an active membership: the add resolves plainly');
  });

  test('a pending membership is removed like an active one', async () => {
    const c = app();
    const { login, team, slug } = fresh(gh, { inOrg: false });
    await c.addMember(team, login);
    await c.removeMember(team, login);
    assert.equal(gh.membership(ORG, slug, login), undefined);
    assert.equal(await c.isMember(team, login), false);
  });

  test('a declined or expired invitation is a PermanentError saying so; a team deleted meanwhile says that instead', async () => {
    const c = app();
    const { login, team, slug } = fresh(gh, { inOrg: false });
    await c.addMember(team, login);
    gh.declineInvitation(ORG, login);
    const err = await rejectsWith(c.confirmMembership(team, login), PermanentError);
    assert.equal(err.code, 'github_invitation_gone');
    assert.match(err.message, new RegExp(`${login} did not join GitHub organization ${ORG}: the invitation was declined, cancelled or has expired`));
    gh.removeTeam(ORG, slug);
    assert.match((await rejectsWith(c.confirmMembership(team, login), PermanentError)).message, new RegExp(`^GitHub team ${team} not found`));
  });

  test('a missing team or user is a PermanentError naming it; removing from a missing team too', async () => {
    const c = app();
    const { login, team } = fresh();
    assert.match((await rejectsWith(c.addMember(`${ORG}/ghost-team`, login), PermanentError)).message, /^GitHub team acme\/ghost-team not found/);
    assert.match((await rejectsWith(c.addMember(team, 'no-such-user'), PermanentError)).message, /^GitHub user no-such-user not found/);
    assert.match((await rejectsWith(c.removeMember(`${ORG}/ghost-team`, login), PermanentError)).message, /^GitHub team acme\/ghost-team not found/);
  });

  test('a 403 that is not a rate limit (team synchronised with an IdP, missing permission) is permanent and says what is needed', async () => {
    const c = app();
    const { login, team } = fresh();
    gh.inject({ method: 'PUT', times: 1, status: 403, body: { message: 'Resource not accessible by integration', documentation_url: 'https://docs.github.com/rest' } });
    const err = await rejectsWith(c.addMember(team, login), PermanentError);
    assert.equal(err.code, 'github_forbidden');
    assert.match(err.message, /Resource not accessible by integration.*Members \(read and write\)/);
  });

  test('5xx, timeouts and connection failures are retryable', async () => {
    const c = app();
    const { login, team } = fresh();
    gh.inject({ method: 'PUT', times: 1, status: 502, body: 'Bad Gateway' });
    assert.equal((await rejectsWith(c.addMember(team, login), RetryableError)).code, 'github_unavailable');
    gh.inject({ method: 'PUT', times: 1, hang: true });
    const slow = GitHubConnector.fromConfig({ org: ORG, baseUrl: gh.apiUrl, graphqlUrl: gh.graphqlUrl, token: gh.token, timeoutMs: 200 });
    assert.equal((await rejectsWith(slow.addMember(team, login), RetryableError)).code, 'github_timeout');
    const closed = GitHubConnector.fromConfig({ org: ORG, baseUrl: 'http://127.0.0.1:9', graphqlUrl: 'http://127.0.0.1:9/graphql', token: gh.token });
    assert.equal((await rejectsWith(closed.addMember(team, login), RetryableError)).code, 'github_unreachable');
  });

  test('GitHub Enterprise Server under /api/v3 works the same', async () => {
    const c = app(ghes);
    const { login, team, slug } = fresh(ghes);
    await c.addMember(team, login);
    assert.equal(ghes.membership(ORG, slug, login), 'active');
    assert.ok(ghes.calls.every((call) => call.path.startsWith('/api/v3/')));
  });
});

describe('rate limits', () => {
  test('primary: 403 with x-ratelimit-remaining 0 waits until x-ratelimit-reset, and holds the next call without sending it', async () => {
    const c = app();
    const { login, team } = fresh();
    await c.isMember(team, login); // token fetched
    const resetAt = Math.ceil(Date.now() / 1000) + 30;
    gh.primaryRateLimit(1, { resetAt, method: 'PUT' });
    const err = await rejectsWith(c.addMember(team, login), RetryableError);
    assert.equal(err.code, 'github_rate_limited');
    assert.ok(err.retryAfterMs! > 25_000 && err.retryAfterMs! <= 31_000, `waits ${err.retryAfterMs} ms`);
    const sent = gh.calls.length;
    const held = await rejectsWith(c.isMember(team, login), RetryableError);
    assert.match(held.message, /rate limit is used up/);
    assert.equal(gh.calls.length, sent, 'nothing sent while the limit is used up');
  });

  test('secondary: 403 or 429 with retry-after waits that long', async () => {
    const c = app();
    const { login, team } = fresh();
    gh.secondaryRateLimit(1, { retryAfterSec: 7, method: 'PUT' });
    const e403 = await rejectsWith(c.addMember(team, login), RetryableError);
    assert.equal(e403.code, 'github_secondary_rate_limited');
    assert.equal(e403.retryAfterMs, 7000);
    gh.secondaryRateLimit(1, { retryAfterSec: 2, status: 429, method: 'PUT' });
    assert.equal((await rejectsWith(c.addMember(team, login), RetryableError)).retryAfterMs, 2000);
    await c.addMember(team, login);
  });
});

describe('App installation tokens', () => {
  test('one token per hour: reused, replaced 5 minutes before expires_at', async () => {
    let now = Date.now();
    const c = app(gh, { now: () => now });
    const { login, team } = fresh();
    const issued = gh.tokensIssued;
    await c.isMember(team, login);
    await c.isMember(team, login);
    assert.equal(gh.tokensIssued - issued, 1);
    now += 54 * 60_000;
    await c.isMember(team, login);
    assert.equal(gh.tokensIssued - issued, 1, 'still good at 54 minutes');
    now += 2 * 60_000;
    await c.isMember(team, login);
    assert.equal(gh.tokensIssued - issued, 2, 'replaced at 56 minutes');
  });

  test('a 401 (token revoked) fetches a new token and sends the call once more', async () => {
    const c = app();
    const { login, team, slug } = fresh();
    await c.isMember(team, login);
    gh.invalidateTokens();
    const issued = gh.tokensIssued;
    await c.addMember(team, login);
    assert.equal(gh.tokensIssued - issued, 1);
    assert.equal(gh.membership(ORG, slug, login), 'active');
  });

  test('a wrong installation id or key is a PermanentError, with no secret in it', async () => {
    const wrong = GitHubConnector.fromConfig({ org: ORG, baseUrl: gh.apiUrl, graphqlUrl: gh.graphqlUrl, appId: gh.appId, installationId: '999', privateKeyPem: gh.privateKeyPem });
    const { login, team } = fresh();
    assert.match((await rejectsWith(wrong.addMember(team, login), PermanentError)).message, /GitHub App installation 999 not found/);
    const other = new GitHubEmulator();
    const badKey = GitHubConnector.fromConfig({ org: ORG, baseUrl: gh.apiUrl, graphqlUrl: gh.graphqlUrl, appId: gh.appId, installationId: gh.installationId, privateKeyPem: other.privateKeyPem });
    const err = await rejectsWith(badKey.addMember(team, login), PermanentError);
    assert.equal(err.code, 'github_auth');
    assert.match(err.message, /A JSON web token could not be decoded/);
    assert.ok(!err.message.includes('eyJ'), 'the JWT is not in the message');
  });

  test('a bad personal access token is a PermanentError without the token', async () => {
    const bad = 'ghp_wrongwrongwrongwrongwrong0123';
    const { login, team } = fresh();
    const err = await rejectsWith(pat(gh, bad).addMember(team, login), PermanentError);
    assert.match(err.message, /GitHub rejected the credentials .*Bad credentials/);
    assert.ok(!err.message.includes(bad));
  });
});

describe('findUserByEmail', () => {
  test('SAML: the login linked to the identity whose NameID is the email, ignoring case', async () => {
    seq += 1;
    gh.addSamlIdentity(ORG, { nameId: `Ada${seq}@Example.com`, login: `ada${seq}` });
    assert.deepEqual(await app().findUserByEmail(`ada${seq}@example.com`), { id: `ada${seq}`, email: `ada${seq}@example.com` });
    assert.equal(await app().findUserByEmail('nobody@example.com'), undefined);
  });

  test('SAML: an identity not linked to an account is no user; two accounts for one email are ambiguous', async () => {
    seq += 1;
    gh.addSamlIdentity(ORG, { nameId: `unlinked${seq}@example.com`, login: null });
    assert.equal(await app().findUserByEmail(`unlinked${seq}@example.com`), undefined);
    gh.addSamlIdentity(ORG, { nameId: `twice${seq}@example.com`, login: `one${seq}` });
    gh.addSamlIdentity(ORG, { nameId: `twice${seq}@example.com`, login: `two${seq}` });
    const err = await rejectsWith(app().findUserByEmail(`twice${seq}@example.com`), PermanentError);
    assert.equal(err.code, 'github_ambiguous_user');
  });

  test('SAML: an organization without SAML says to use the map; an unknown organization is named', async () => {
    const noSaml = await rejectsWith(app(gh, { org: 'nosaml' }).findUserByEmail('a@example.com'), PermanentError);
    assert.match(noSaml.message, /no SAML identity provider for organization nosaml.*email map file/);
    const missing = await rejectsWith(app(gh, { org: 'ghost-org' }).findUserByEmail('a@example.com'), PermanentError);
    assert.match(missing.message, /GitHub organization ghost-org not found/);
  });

  test('map file: the mapped login, checked to exist on GitHub', async () => {
    seq += 1;
    const graphqlCalls = gh.callsTo('POST', '/graphql').length;
    gh.addUser(`Mapped${seq}`, 'Mapped Person');
    const c = app(gh, { emailMap: `email,login\nmapped${seq}@example.com,mapped${seq}\ntypo${seq}@example.com,nosuchlogin${seq}\n` });
    assert.deepEqual(await c.findUserByEmail(`MAPPED${seq}@example.com`), { id: `Mapped${seq}`, email: `mapped${seq}@example.com`, displayName: 'Mapped Person' });
    assert.equal(await c.findUserByEmail(`typo${seq}@example.com`), undefined);
    assert.equal(await c.findUserByEmail('absent@example.com'), undefined);
    assert.equal(gh.callsTo('POST', '/graphql').length, graphqlCalls, 'the map is used instead of SAML');
  });
});

describe('listMembers and checkHealth', () => {
  test('pages through a team with Link rel="next"; a missing team is a PermanentError', async () => {
    const c = app();
    const { team, slug } = fresh();
    const logins: string[] = [];
    for (let i = 0; i < 5; i++) {
      seq += 1;
      gh.addUser(`m${seq}`);
      gh.addTeamMember(ORG, slug, `m${seq}`);
      logins.push(`m${seq}`);
    }
    const all = await allMembers(c, team, 2);
    assert.deepEqual(all.members.map((m) => m.id), logins);
    assert.equal(all.pages, 3);
    await rejectsWith(c.listMembers(`${ORG}/ghost-team`), PermanentError);
    await rejectsWith(c.listMembers(team, { cursor: 'https://evil.example.com/x' }), PermanentError);
  });

  test('credentials and each team; a bad team and bad credentials are explained', async () => {
    const { team } = fresh();
    const ok = await app().checkHealth([team, `${ORG}/ghost-team`, 'not-a-team']);
    assert.equal(ok.checks[0]!.ok, true);
    assert.match(ok.checks[0]!.detail ?? '', /GitHub App 123456/);
    assert.equal(ok.checks[1]!.ok, true);
    assert.match(ok.checks[2]!.detail ?? '', /GitHub team acme\/ghost-team not found/);
    assert.match(ok.checks[3]!.detail ?? '', /is not <org>\/<team-slug>/);
    const bad = await pat(gh, 'ghp_wrongwrongwrongwrongwrong0123').checkHealth([team]);
    assert.equal(bad.ok, false);
    assert.match(bad.checks[0]!.detail ?? '', /rejected the credentials/);
  });
});
