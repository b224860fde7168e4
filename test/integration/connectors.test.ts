/**
 * One lifecycle journey, run against every identity connector (Okta, Entra ID, Google Workspace,
 * Atlassian groups) through its emulator: grant and expiry, a pre-existing membership kept,
 * overlapping grants, a rate limit honoured with the service's own headers, and a permanent error
 * surfaced. Then a catalog that mixes all four, and a role whose connector is not configured.
 *
 * Each row of CONNECTORS knows its emulator: how to make groups and memberships, how to read them,
 * where the add endpoint is, how that service says "slow down", and which id the IdP gives a user.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadCatalog, parseCatalog } from '../../src/config/catalog.js';
import { connectorsOf, loadConfig } from '../../src/config/env.js';
import type { RecordedCall } from '../emulators/base.js';
import { permissionSetArn, userIdFor } from '../emulators/aws-sso.js';
import { OktaEmulator } from '../emulators/okta.js';
import { BOT_TOKEN, GITHUB_ORG, bitbucketName, githubLogin, Harness, JIRA_TOKEN, PEOPLE, SIGNING_SECRET, waitUntil, type ConnectorId, type Person } from '../support/harness.js';
import { runEntry } from '../support/process.js';

const { alice, bob, carol } = PEOPLE;
/** In Slack, but in no identity provider. */
const erin: Person = { slackId: 'U0ERIN', email: 'erin@example.com', name: 'Erin Green', oktaId: '00u1erin' };

interface Groups {
  /** Grant, expiry, pre-existing membership, overlap. */
  reader: string;
  /** Rate limits. */
  editor: string;
  /** Named in the catalog, missing in the IdP. */
  ghost: string;
}

interface RateLimit {
  /** How many rate-limit answers were injected on the add endpoint. */
  injected: number;
  /** How long the service asked the client to wait, in total, before the add may succeed. */
  minWaitMs: number;
}

interface ConnectorRow {
  name: ConnectorId;
  /** How the connector names itself in error messages ("Okta group … not found"). */
  label: string;
  /** What it calls a group in those messages, when not "group" ("GitHub team … not found"). */
  groupNoun?: string;
  /** The catalog's grant for a group, when the type takes its own keys instead of `group:` (grantKeys). */
  grant?(group: string): string;
  /** How a missing group is named in the failure; default "<label> <groupNoun> <group> not found". */
  missing?(group: string): string;
  groups: Groups;
  /** The id this IdP gives the person, as the Jira "Access granted" comment names it. */
  idOf(p: Person): string;
  /** Creates the groups that exist (reader, editor; not ghost). */
  setup(h: Harness): void;
  isMember(h: Harness, group: string, p: Person): boolean;
  /** A membership that exists before the bot ever touches it. */
  makeMember(h: Harness, group: string, p: Person): void;
  /** Every call that reached the add-membership endpoint for this group, rate-limited or not. */
  addCalls(h: Harness, group: string): RecordedCall[];
  /** Every successful remove-membership call for this group. */
  removeCalls(h: Harness, group: string): RecordedCall[];
  /** Injects the service's own rate-limit answers on the add endpoint for this group. */
  rateLimitAdd(h: Harness, group: string): RateLimit;
  /** Rate-limit answers sent by the emulator so far, on any endpoint. */
  rateLimited(h: Harness): number;
}

const must = <T>(v: T | undefined, what: string): T => {
  if (v === undefined) throw new Error(`${what} not started`);
  return v;
};
const calls = (emu: { calls: RecordedCall[] }, method: string, pred: (path: string, c: RecordedCall) => boolean): RecordedCall[] =>
  emu.calls.filter((c) => c.method === method && pred(decodeURIComponent(c.path), c));
const ok = (c: RecordedCall): boolean => c.status >= 200 && c.status < 300;

const OKTA: ConnectorRow = {
  name: 'okta',
  label: 'Okta',
  groups: { reader: '00g1conreader', editor: '00g1coneditor', ghost: '00g1conghost' },
  idOf: (p) => p.oktaId,
  setup(h) {
    h.okta.addGroup({ id: this.groups.reader, name: 'Connector readers' });
    h.okta.addGroup({ id: this.groups.editor, name: 'Connector editors' });
  },
  isMember: (h, g, p) => h.okta.isMember(g, p.oktaId),
  makeMember: (h, g, p) => h.okta.addMember(g, p.oktaId),
  addCalls: (h, g) => calls(h.okta, 'PUT', (path) => path.startsWith(`/api/v1/groups/${g}/users/`)),
  removeCalls: (h, g) => calls(h.okta, 'DELETE', (path, c) => path.startsWith(`/api/v1/groups/${g}/users/`) && ok(c)),
  rateLimitAdd(h, g) {
    // Okta: 429 E0000047 with X-Rate-Limit-Reset, the epoch second the window resets.
    const resetAt = Math.ceil(Date.now() / 1000) + 1;
    h.okta.forceRateLimit(2, { resetAt, path: new RegExp(`^/api/v1/groups/${g}/users/[^/]+$`) });
    return { injected: 2, minWaitMs: 900 };
  },
  rateLimited: (h) => h.okta.tooManyRequests,
};

const ENTRA: ConnectorRow = {
  name: 'entra',
  label: 'Entra',
  groups: {
    reader: '6f1c0d2e-0000-4000-8000-0000000000a1',
    editor: '6f1c0d2e-0000-4000-8000-0000000000a2',
    ghost: '6f1c0d2e-0000-4000-8000-0000000000a3',
  },
  idOf: (p) => p.entraId!,
  setup(h) {
    const graph = must(h.graph, 'graph emulator');
    graph.addGroup({ id: this.groups.reader, displayName: 'Connector readers' });
    graph.addGroup({ id: this.groups.editor, displayName: 'Connector editors' });
  },
  isMember: (h, g, p) => must(h.graph, 'graph').isMember(g, p.entraId!),
  makeMember: (h, g, p) => must(h.graph, 'graph').addMember(g, p.entraId!),
  addCalls: (h, g) => calls(must(h.graph, 'graph'), 'POST', (path) => path === `/v1.0/groups/${g}/members/$ref`),
  removeCalls: (h, g) => calls(must(h.graph, 'graph'), 'DELETE', (path, c) => path.startsWith(`/v1.0/groups/${g}/members/`) && ok(c)),
  rateLimitAdd(h, g) {
    // Graph: 429 TooManyRequests with Retry-After in seconds.
    must(h.graph, 'graph').throttle(2, { retryAfterSec: 1, method: 'POST', path: `/v1.0/groups/${g}/members/$ref` });
    return { injected: 2, minWaitMs: 2000 };
  },
  rateLimited: (h) => must(h.graph, 'graph').calls.filter((c) => c.status === 429).length,
};

const GOOGLE: ConnectorRow = {
  name: 'google',
  label: 'Google',
  groups: { reader: 'con-readers@example.com', editor: 'con-editors@example.com', ghost: 'con-ghosts@example.com' },
  idOf: (p) => p.email,
  setup(h) {
    const google = must(h.google, 'google emulator');
    google.addGroup({ email: this.groups.reader, name: 'Connector readers' });
    google.addGroup({ email: this.groups.editor, name: 'Connector editors' });
  },
  isMember: (h, g, p) => must(h.google, 'google').isMember(g, p.email),
  makeMember: (h, g, p) => must(h.google, 'google').addMember(g, p.email),
  addCalls: (h, g) => calls(must(h.google, 'google'), 'POST', (path) => path === `/admin/directory/v1/groups/${g}/members`),
  removeCalls: (h, g) => calls(must(h.google, 'google'), 'DELETE', (path, c) => path.startsWith(`/admin/directory/v1/groups/${g}/members/`) && ok(c)),
  rateLimitAdd(h, g) {
    // Directory API: 403 userRateLimitExceeded (no hint: backoff), then 429 RESOURCE_EXHAUSTED with Retry-After.
    const google = must(h.google, 'google');
    const path = new RegExp(`^/admin/directory/v1/groups/${g.replace('@', '(?:@|%40)').replace(/\./g, '\\.')}/members$`);
    google.rateLimit(1, { kind: 'user', method: 'POST', path });
    google.rateLimit(1, { kind: '429', retryAfterSec: 1, method: 'POST', path });
    return { injected: 2, minWaitMs: 1000 };
  },
  rateLimited: (h) =>
    must(h.google, 'google').calls.filter((c) => c.status === 429 || (c.status === 403 && /RateLimitExceeded|quotaExceeded/i.test(JSON.stringify(c.response)))).length,
};

const ATLASSIAN: ConnectorRow = {
  name: 'atlassian',
  label: 'Atlassian',
  groups: {
    reader: '5a1c0d2e-0000-4000-8000-0000000000b1',
    editor: '5a1c0d2e-0000-4000-8000-0000000000b2',
    ghost: '5a1c0d2e-0000-4000-8000-0000000000b3',
  },
  idOf: (p) => p.atlassianId!,
  setup(h) {
    h.jira.directory.addGroup({ groupId: this.groups.reader, name: 'connector-readers' });
    h.jira.directory.addGroup({ groupId: this.groups.editor, name: 'connector-editors' });
  },
  isMember: (h, g, p) => h.jira.directory.groupMembers(g).includes(p.atlassianId!),
  makeMember: (h, g, p) => void h.jira.directory.group(g)!.members.add(p.atlassianId!),
  addCalls: (h, g) => calls(h.jira, 'POST', (path, c) => path === '/rest/api/3/group/user' && c.query.get('groupId') === g),
  removeCalls: (h, g) => calls(h.jira, 'DELETE', (path, c) => path === '/rest/api/3/group/user' && c.query.get('groupId') === g && ok(c)),
  rateLimitAdd(h) {
    // Jira Cloud: 429 with Retry-After, X-RateLimit-Reset and RateLimit-Reason.
    h.jira.rateLimit(2, 1, { method: 'POST', path: '/rest/api/3/group/user' });
    return { injected: 2, minWaitMs: 2000 };
  },
  rateLimited: (h) => h.jira.calls.filter((c) => c.status === 429).length,
};

const GITHUB: ConnectorRow = {
  name: 'github',
  label: 'GitHub',
  groupNoun: 'team',
  groups: { reader: `${GITHUB_ORG}/con-readers`, editor: `${GITHUB_ORG}/con-editors`, ghost: `${GITHUB_ORG}/con-ghosts` },
  idOf: (p) => githubLogin(p),
  setup(h) {
    const gh = must(h.github, 'github emulator');
    gh.addTeam(GITHUB_ORG, 'con-readers', 'Connector readers');
    gh.addTeam(GITHUB_ORG, 'con-editors', 'Connector editors');
  },
  isMember: (h, g, p) => must(h.github, 'github').membership(GITHUB_ORG, g.split('/')[1]!, githubLogin(p)) === 'active',
  makeMember: (h, g, p) => must(h.github, 'github').addTeamMember(GITHUB_ORG, g.split('/')[1]!, githubLogin(p)),
  addCalls: (h, g) => calls(must(h.github, 'github'), 'PUT', (path) => path.startsWith(`/orgs/${g.replace('/', '/teams/')}/memberships/`)),
  removeCalls: (h, g) => calls(must(h.github, 'github'), 'DELETE', (path, c) => path.startsWith(`/orgs/${g.replace('/', '/teams/')}/memberships/`) && ok(c)),
  rateLimitAdd(h, g) {
    // GitHub: the primary limit (403, x-ratelimit-remaining 0 until x-ratelimit-reset), then a secondary one (429 with retry-after).
    const gh = must(h.github, 'github');
    const path = new RegExp(`^/orgs/${esc(g.replace('/', '/teams/'))}/memberships/[^/]+$`);
    gh.primaryRateLimit(1, { resetAt: Math.ceil(Date.now() / 1000) + 1, method: 'PUT', path });
    gh.secondaryRateLimit(1, { retryAfterSec: 1, status: 429, method: 'PUT', path });
    return { injected: 2, minWaitMs: 1000 };
  },
  rateLimited: (h) => must(h.github, 'github').rateLimited,
};


const ATLASSIAN_ORG: ConnectorRow = {
  name: 'atlassian-org',
  label: 'Atlassian',
  groups: {
    reader: '0a9c0d2e-0000-4000-8000-0000000000c1',
    editor: '0a9c0d2e-0000-4000-8000-0000000000c2',
    ghost: '0a9c0d2e-0000-4000-8000-0000000000c3',
  },
  idOf: (p) => p.atlassianId!,
  setup(h) {
    const org = must(h.atlassianOrg, 'atlassian-org emulator');
    org.addGroup({ id: this.groups.reader, name: 'confluence-users' });
    org.addGroup({ id: this.groups.editor, name: 'jira-software-users' });
  },
  isMember: (h, g, p) => must(h.atlassianOrg, 'atlassian-org').isMember(g, p.atlassianId!),
  makeMember: (h, g, p) => void must(h.atlassianOrg, 'atlassian-org').groups.get(g)!.members.add(p.atlassianId!),
  addCalls: (h, g) => calls(must(h.atlassianOrg, 'atlassian-org'), 'POST', (path) => path.endsWith(`/groups/${g}/memberships`)),
  removeCalls: (h, g) => calls(must(h.atlassianOrg, 'atlassian-org'), 'DELETE', (path, c) => path.includes(`/groups/${g}/memberships/`) && ok(c)),
  rateLimitAdd(h, g) {
    // Organizations REST API: 429 with Retry-After (seconds) and an ISO 8601 X-RateLimit-Reset.
    must(h.atlassianOrg, 'atlassian-org').rateLimit(2, { retryAfterSec: 1, method: 'POST', path: new RegExp(`/groups/${g}/memberships$`) });
    return { injected: 2, minWaitMs: 2000 };
  },
  rateLimited: (h) => must(h.atlassianOrg, 'atlassian-org').tooManyRequests,
};


const BITBUCKET: ConnectorRow = {
  name: 'bitbucket-dc',
  label: 'Bitbucket',
  groups: { reader: 'connector-readers', editor: 'connector-editors', ghost: 'connector-ghosts' },
  idOf: bitbucketName,
  setup(h) {
    const bb = must(h.bitbucket, 'bitbucket emulator');
    bb.addGroup(this.groups.reader);
    bb.addGroup(this.groups.editor);
  },
  isMember: (h, g, p) => must(h.bitbucket, 'bitbucket').isMember(g, bitbucketName(p)),
  makeMember: (h, g, p) => must(h.bitbucket, 'bitbucket').addMember(g, bitbucketName(p)),
  addCalls: (h, g) => calls(must(h.bitbucket, 'bitbucket'), 'POST', (path, c) => path === '/rest/api/1.0/admin/groups/add-user' && (c.body as { context?: string }).context === g),
  removeCalls: (h, g) => calls(must(h.bitbucket, 'bitbucket'), 'POST', (path, c) => path === '/rest/api/1.0/admin/groups/remove-user' && (c.body as { context?: string }).context === g && ok(c)),
  rateLimitAdd(h) {
    // Data Center rate limiting: 429 with Retry-After (seconds) and X-RateLimit-* headers.
    must(h.bitbucket, 'bitbucket').throttle(2, { retryAfterSec: 1, method: 'POST', path: /^\/rest\/api\/1\.0\/admin\/groups\/add-user$/ });
    return { injected: 2, minWaitMs: 2000 };
  },
  rateLimited: (h) => must(h.bitbucket, 'bitbucket').tooManyRequests,
};

const AWS_ACCOUNT = '123456789012';
const AWS_SSO: ConnectorRow = {
  name: 'aws-sso',
  label: 'AWS',
  groups: {
    reader: `${AWS_ACCOUNT}/${permissionSetArn('conreader')}`,
    editor: `${AWS_ACCOUNT}/${permissionSetArn('coneditor')}`,
    ghost: `${AWS_ACCOUNT}/${permissionSetArn('conghost')}`,
  },
  grant(group) {
    const [account, ps] = awsParts(group);
    return `{ connector: aws-sso, account: '${account}', permissionSet: '${ps}' }`;
  },
  missing: (group) => `AWS permission set ${awsParts(group)[1]} or account ${AWS_ACCOUNT} not found`,
  idOf: (p) => userIdFor(p.email),
  setup(h) {
    const aws = must(h.awsSso, 'aws-sso emulator');
    aws.addPermissionSet(awsParts(this.groups.reader)[1]);
    aws.addPermissionSet(awsParts(this.groups.editor)[1]);
  },
  isMember: (h, g, p) => must(h.awsSso, 'aws-sso').isAssigned(...awsParts(g), userIdFor(p.email)),
  makeMember: (h, g, p) => must(h.awsSso, 'aws-sso').assign(...awsParts(g), userIdFor(p.email)),
  addCalls: (h, g) => must(h.awsSso, 'aws-sso').callsOf('CreateAccountAssignment').filter((c) => awsTarget(c) === g),
  removeCalls: (h, g) => must(h.awsSso, 'aws-sso').callsOf('DeleteAccountAssignment').filter((c) => awsTarget(c) === g && ok(c)),
  rateLimitAdd(h) {
    // IAM Identity Center: 400 ThrottlingException; SSO Admin documents no retry hint, so the outbox backs off.
    must(h.awsSso, 'aws-sso').throttle(2, 'CreateAccountAssignment');
    return { injected: 2, minWaitMs: 0 };
  },
  rateLimited: (h) => must(h.awsSso, 'aws-sso').throttled,
};

/** `<account>/<permission set ARN>` as its two parts. */
function awsParts(group: string): [string, string] {
  const i = group.indexOf('/');
  return [group.slice(0, i), group.slice(i + 1)];
}
function awsTarget(c: RecordedCall): string {
  const b = c.body as { TargetId?: string; PermissionSetArn?: string };
  return `${b.TargetId}/${b.PermissionSetArn}`;
}

const CONNECTORS: ConnectorRow[] = [OKTA, ENTRA, GOOGLE, ATLASSIAN, GITHUB, ATLASSIAN_ORG, BITBUCKET, AWS_SSO];

const grantOf = (row: ConnectorRow, group: string): string => row.grant?.(group) ?? `{ connector: ${row.name}, group: ${group} }`;
const missingOf = (row: ConnectorRow, group: string): string => row.missing?.(group) ?? `${row.label} ${row.groupNoun ?? 'group'} ${group} not found`;

const APP = (row: ConnectorRow): string => `${row.name}-groups`;

function catalogFor(row: ConnectorRow): string {
  const role = (id: string, group: string, durations: string) => `
      - id: ${id}
        name: ${id[0]!.toUpperCase()}${id.slice(1)}
        grant: ${grantOf(row, group)}
        durations: [${durations}]
        approvers: [owners]`;
  return `
jira:
  project: ACC
  issueType: Task
  transitions: { approved: Approve, denied: Reject, active: Provisioned, revoked: Done, failed: Fail }
applications:
  - id: ${APP(row)}
    name: ${row.label} groups
    owners: [bob@example.com]
    roles:${role('reader', row.groups.reader, '2s, 4h')}${role('editor', row.groups.editor, '4h')}${role('ghost', row.groups.ghost, '4h')}
`;
}

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

async function approveAndWaitActive(h: Harness, id: string): Promise<void> {
  await h.click(bob, id, 'approve');
  await waitUntil(() => h.bot.store.getRequest(id)!.state === 'active', 8000, `${id} active`);
}

const stateOf = (h: Harness, id: string): string => h.bot.store.getRequest(id)!.state;

for (const row of CONNECTORS) {
  describe(`${row.name} connector: the lifecycle journey`, () => {
    let h: Harness;
    const app = APP(row);
    const { reader, editor, ghost } = row.groups;

    before(async () => {
      h = await new Harness({ connectors: [row.name], catalog: catalogFor(row) }).start();
      row.setup(h);
      h.slack.addUser({ id: erin.slackId, email: erin.email, realName: erin.name });
    });
    after(async () => {
      await h?.stop();
    });

    test('grant: the membership is added and Jira names the connector, group and IdP user id; expiry removes it', async () => {
      const removesBefore = row.removeCalls(h, reader).length;
      const id = await h.request(alice, { app, role: 'reader', duration: '2s' });
      await approveAndWaitActive(h, id);
      assert.equal(row.isMember(h, reader, alice), true, 'membership added');
      await h.idle();
      const granted = h.jiraComments(id).find((c) => c.startsWith('Access granted'));
      assert.match(granted ?? '', new RegExp(`^Access granted: ${row.name} group ${esc(reader)} for ${esc(row.idOf(alice))}, expires .* UTC`));
      assert.doesNotMatch(granted!, /already a member/);
      assert.equal(h.bot.store.getRequest(id)!.idpUserId, row.idOf(alice));

      await waitUntil(() => !row.isMember(h, reader, alice), 5000, 'membership removed at expiry');
      await waitUntil(() => stateOf(h, id) === 'revoked', 3000, 'revoked');
      await h.idle();
      assert.match(
        h.jiraComments(id).at(-1)!,
        new RegExp(`^Access revoked \\(expired\\) on .*: removed ${esc(row.idOf(alice))} from ${row.name} group ${esc(reader)}\\.$`),
      );
      assert.equal(row.removeCalls(h, reader).length - removesBefore, 1, 'one removal');
    });

    test('a membership that existed before the grant is kept at expiry', async () => {
      row.makeMember(h, reader, carol);
      const removesBefore = row.removeCalls(h, reader).length;
      const id = await h.request(carol, { app, role: 'reader', duration: '2s' });
      await approveAndWaitActive(h, id);
      await h.idle();
      assert.match(h.jiraComments(id).find((c) => c.startsWith('Access granted'))!, /already a member before this grant/);
      await waitUntil(() => stateOf(h, id) === 'revoked', 5000, 'revoked');
      await h.idle();
      assert.equal(row.isMember(h, reader, carol), true, 'pre-existing membership kept');
      assert.match(
        h.jiraComments(id).at(-1)!,
        new RegExp(`^Access revoked \\(expired\\) on .*: membership of ${row.name} group ${esc(reader)} kept: ${esc(row.idOf(carol))} was a member before this grant\\.$`),
      );
      assert.equal(row.removeCalls(h, reader).length, removesBefore, 'nothing removed');
    });

    test("overlapping grants: the short grant's expiry does not remove the membership the long one needs", async () => {
      const removesBefore = row.removeCalls(h, reader).length;
      const long = await h.request(alice, { app, role: 'reader', duration: '4h', reason: 'Long running investigation' });
      const short = await h.request(alice, { app, role: 'reader', duration: '2s', reason: 'Quick check of a setting' });
      await approveAndWaitActive(h, long);
      await approveAndWaitActive(h, short);
      await waitUntil(() => stateOf(h, short) === 'revoked', 5000, 'short grant revoked');
      await h.idle();
      assert.equal(row.isMember(h, reader, alice), true, 'the 4h grant still holds the membership');
      assert.equal(stateOf(h, long), 'active');
      assert.match(h.jiraComments(short).at(-1)!, /kept: another active grant still needs it\.$/);
      assert.equal(row.removeCalls(h, reader).length, removesBefore, 'nothing removed');
    });

    test("a rate limit on the add is honoured: the membership arrives after the service's hint, with no storm", async () => {
      const id = await h.request(alice, { app, role: 'editor', duration: '4h' });
      await h.approverMessage(bob, id);
      await h.idle();
      const limitedBefore = row.rateLimited(h);
      const addsBefore = row.addCalls(h, editor).length;
      const { injected, minWaitMs } = row.rateLimitAdd(h, editor);
      const t0 = Date.now();
      await h.click(bob, id, 'approve');
      await waitUntil(() => row.isMember(h, editor, alice), 10_000, 'granted after the rate limit');
      const elapsed = Date.now() - t0;
      await waitUntil(() => stateOf(h, id) === 'active', 3000, 'active');
      await h.idle();
      assert.equal(row.rateLimited(h) - limitedBefore, injected, 'exactly the injected rate-limit answers');
      const adds = row.addCalls(h, editor).slice(addsBefore);
      assert.equal(adds.length, injected + 1, `the add was sent ${adds.length} times (${adds.map((c) => c.status).join(', ')})`);
      assert.ok(ok(adds.at(-1)!), 'the last add succeeded');
      assert.ok(elapsed >= minWaitMs - 100, `waited ${elapsed} ms, the service asked for ${minWaitMs} ms`);
      assert.ok(adds.at(-1)!.at - adds[0]!.at >= minWaitMs - 100, `the retry came ${adds.at(-1)!.at - adds[0]!.at} ms after the first 429`);
    });

    test('permanent error (the user is not in the IdP): failed, on Jira, told to the requester and the admins, not retried', async () => {
      const addsBefore = row.addCalls(h, reader).length;
      const grants = () => h.bot.dispatcher.stats.byKind['idp.grant'] ?? { ok: 0, retry: 0, dead: 0 };
      const retriesBefore = grants().retry;
      const id = await h.request(erin, { app, role: 'reader', duration: '4h' });
      await h.click(bob, id, 'approve');
      await waitUntil(() => stateOf(h, id) === 'failed', 5000, 'failed');
      await h.idle();
      const cause = `granting access failed: no ${row.name} user has the email ${erin.email}`;
      assert.match(h.jiraComments(id).at(-1)!, new RegExp(`^Failed: ${esc(cause)} \\(on .* UTC\\)\\.$`));
      const key = h.bot.store.getRequest(id)!.jiraKey!;
      assert.equal(h.jira.issue(key)!.status, 'Failed');
      await waitUntil(() => h.slack.dmsTo(erin.slackId).some((m) => m.text.includes(cause)), 3000, 'requester told');
      await waitUntil(() => h.slack.messages.some((m) => m.channel === 'C0ADMIN' && m.text.includes(key) && m.text.includes(cause)), 3000, 'admins alerted');
      // Several backoff periods later, nothing was tried again.
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(row.addCalls(h, reader).length, addsBefore, 'no add was sent for a user the IdP does not have');
      assert.equal(grants().retry, retriesBefore, 'the grant was not retried');
      assert.equal(stateOf(h, id), 'failed');
    });

    test('permanent error (the group is missing in the IdP): failed naming the group, the add sent at most once', async () => {
      const grants = () => h.bot.dispatcher.stats.byKind['idp.grant'] ?? { ok: 0, retry: 0, dead: 0 };
      const retriesBefore = grants().retry;
      const id = await h.request(carol, { app, role: 'ghost', duration: '4h' });
      await h.click(bob, id, 'approve');
      await waitUntil(() => stateOf(h, id) === 'failed', 5000, 'failed');
      await h.idle();
      const last = h.jiraComments(id).at(-1)!;
      assert.match(last, new RegExp(`^Failed: granting access failed: ${esc(missingOf(row, ghost))}`));
      const key = h.bot.store.getRequest(id)!.jiraKey!;
      await waitUntil(() => h.slack.dmsTo(carol.slackId).some((m) => m.text.includes(missingOf(row, ghost))), 3000, 'requester told');
      await waitUntil(() => h.slack.messages.some((m) => m.channel === 'C0ADMIN' && m.text.includes(key) && m.text.includes(missingOf(row, ghost))), 3000, 'admins alerted');
      await new Promise((r) => setTimeout(r, 500));
      assert.ok(row.addCalls(h, ghost).length <= 1, `the add was sent ${row.addCalls(h, ghost).length} times`);
      assert.equal(grants().retry, retriesBefore, 'the grant was not retried');
    });
  });
}

describe('a catalog that mixes connectors', () => {
  let h: Harness;
  before(async () => {
    const catalog = `
jira:
  project: ACC
  issueType: Task
applications:
${CONNECTORS.map(
  (row) => `  - id: ${APP(row)}
    name: ${row.label} groups
    owners: [bob@example.com]
    roles:
      - id: reader
        name: Reader
        grant: ${grantOf(row, row.groups.reader)}
        durations: [4h]
        approvers: [owners]
`,
).join('')}`;
    h = await new Harness({ connectors: CONNECTORS.map((r) => r.name), catalog }).start();
    for (const row of CONNECTORS) row.setup(h);
  });
  after(async () => {
    await h?.stop();
  });

  test('one request per connector, each granted through its own IdP', async () => {
    const ids = new Map<ConnectorRow, string>();
    for (const row of CONNECTORS) ids.set(row, await h.request(alice, { app: APP(row), role: 'reader', duration: '4h', reason: `Needs ${row.label} access` }));
    for (const id of ids.values()) await h.click(bob, id, 'approve');
    for (const [row, id] of ids) {
      await waitUntil(() => stateOf(h, id) === 'active', 8000, `${row.name} grant active`);
      assert.equal(row.isMember(h, row.groups.reader, alice), true, `${row.name} membership`);
    }
    await h.idle();
    for (const [row, id] of ids) {
      assert.match(
        h.jiraComments(id).find((c) => c.startsWith('Access granted'))!,
        new RegExp(`^Access granted: ${row.name} group ${esc(row.groups.reader)} for ${esc(row.idOf(alice))}, expires`),
      );
    }
    // Each grant went only to its own IdP.
    assert.equal(h.okta.isMember(ENTRA.groups.reader, alice.oktaId), false);
    assert.deepEqual(h.graph!.members(ENTRA.groups.reader), [alice.entraId]);
    assert.deepEqual(h.google!.members(GOOGLE.groups.reader), [alice.email]);
    assert.deepEqual(h.jira.directory.groupMembers(ATLASSIAN.groups.reader), [alice.atlassianId]);
    assert.deepEqual(h.github!.members(GITHUB_ORG, 'con-readers'), [githubLogin(alice)]);
    assert.deepEqual(h.atlassianOrg!.members(ATLASSIAN_ORG.groups.reader), [alice.atlassianId]);
    assert.deepEqual(h.bitbucket!.members(BITBUCKET.groups.reader), [bitbucketName(alice)]);
    const logs = h.logs.join('');
    for (const secret of h.secrets()) assert.ok(!logs.includes(secret), 'no secret in the logs');
  });
});

describe('two Okta orgs as two instances of one connector type', () => {
  const EU_TOKEN = 'okta-eu-api-token-44ee55ff';
  const euOrg = new OktaEmulator({ token: EU_TOKEN });
  /** Alice's id in the EU org. */
  const aliceEu = '00u1aliceeu';
  let h: Harness;
  before(async () => {
    await euOrg.start();
    const catalog = `
connectors:
  okta: { type: okta, orgUrl: { env: OKTA_ORG_URL }, apiToken: { env: OKTA_API_TOKEN } }
  okta-eu: { type: okta, orgUrl: ${euOrg.url}, apiToken: { env: OKTA_EU_API_TOKEN } }
jira:
  project: ACC
  issueType: Task
applications:
  - id: consoles
    name: Consoles
    owners: [bob@example.com]
    roles:
      - { id: us, name: US, grant: { connector: okta, group: 00g1usreaders }, durations: [4h], approvers: [owners] }
      - { id: eu, name: EU, grant: { connector: okta-eu, group: 00g1eureaders }, durations: [4h], approvers: [owners] }
`;
    h = await new Harness({ catalog, env: { OKTA_EU_API_TOKEN: EU_TOKEN } }).start();
    h.okta.addGroup({ id: '00g1usreaders', name: 'US readers' });
    euOrg.addGroup({ id: '00g1eureaders', name: 'EU readers' });
    euOrg.addUser({ id: aliceEu, login: alice.email, email: alice.email, firstName: 'Alice', lastName: 'Smith' });
  });
  after(async () => {
    await h?.stop();
    await euOrg.stop();
  });

  test('each grant goes to its own org with its own token, and the record names the instance', async () => {
    const us = await h.request(alice, { app: 'consoles', role: 'us', duration: '4h' });
    const eu = await h.request(alice, { app: 'consoles', role: 'eu', duration: '4h', reason: 'Needs the EU console' });
    await approveAndWaitActive(h, us);
    await approveAndWaitActive(h, eu);
    assert.equal(h.okta.isMember('00g1usreaders', alice.oktaId), true);
    assert.equal(euOrg.isMember('00g1eureaders', aliceEu), true);
    await h.idle();
    assert.match(h.jiraComments(eu).find((c) => c.startsWith('Access granted'))!, new RegExp(`^Access granted: okta-eu group 00g1eureaders for ${aliceEu}, expires`));
    assert.match(h.jiraComments(us).find((c) => c.startsWith('Access granted'))!, new RegExp(`^Access granted: okta group 00g1usreaders for ${alice.oktaId}, expires`));
    assert.ok(!h.okta.calls.some((c) => c.path.includes('00g1eureaders')), 'the EU grant never reached the US org');
    assert.ok(euOrg.calls.length > 0 && !euOrg.calls.some((c) => c.path.includes('00g1usreaders')), 'the US grant never reached the EU org');
    const logs = h.logs.join('');
    assert.ok(!logs.includes(EU_TOKEN), 'the EU token is masked in the logs');
  });
});

describe('a role whose connector is not configured', () => {
  const CATALOG = `
jira:
  project: ACC
  issueType: Task
applications:
  - id: mixed
    name: Mixed
    owners: [bob@example.com]
    roles:
      - id: okta-role
        name: Okta role
        grant: { connector: okta, group: 00g1readonly }
        durations: [1h]
        approvers: [owners]
      - id: entra-role
        name: Entra role
        grant: { connector: entra, group: 6f1c0d2e-0000-4000-8000-000000000001 }
        durations: [1h]
        approvers: [owners]
      - id: google-role
        name: Google role
        grant: { connector: google, group: wiki@example.com }
        durations: [1h]
        approvers: [owners]
`;
  const baseEnv = {
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    JIRA_HOST: 'http://127.0.0.1:9',
    JIRA_EMAIL: 'access-bot@example.com',
    JIRA_API_TOKEN: JIRA_TOKEN,
    OKTA_ORG_URL: 'http://127.0.0.1:9',
    OKTA_API_TOKEN: 'okta-token-for-a-config-test',
  };
  const dir = mkdtempSync(join(tmpdir(), 'access-bot-connectors-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('is a catalog error naming the path and the variables to set', () => {
    const cfg = loadConfig(baseEnv);
    assert.ok(cfg.ok);
    assert.deepEqual(connectorsOf(cfg.config), ['okta', 'atlassian']);
    const parsed = parseCatalog(CATALOG, { configuredConnectors: connectorsOf(cfg.config) });
    assert.equal(parsed.ok, false);
    assert.deepEqual(!parsed.ok && parsed.errors, [
      'applications[0].roles[1].grant.connector: "entra" is not configured (set GRAPH_TENANT_ID, GRAPH_CLIENT_ID and GRAPH_CLIENT_SECRET)',
      'applications[0].roles[2].grant.connector: "google" is not configured (set GOOGLE_SA_KEY_FILE and GOOGLE_ADMIN_SUBJECT)',
    ]);
    const file = join(dir, 'catalog.yaml');
    writeFileSync(file, CATALOG);
    const loaded = loadCatalog(file, { configuredConnectors: connectorsOf(cfg.config) });
    assert.equal(loaded.ok, false);
    assert.equal(!loaded.ok && loaded.errors.length, 2);
  });

  test('the process exits 1 with one line per role, before connecting anywhere', async () => {
    const file = join(dir, 'catalog.yaml');
    writeFileSync(file, CATALOG);
    const { code, out } = await runEntry('src/main.ts', [], { ...baseEnv, PORT: '0', DATABASE_PATH: join(dir, 'bot.db'), ACCESS_CATALOG: file });
    assert.equal(code, 1, out);
    assert.deepEqual(out.trim().split('\n'), [
      'catalog error: applications[0].roles[1].grant.connector: "entra" is not configured (set GRAPH_TENANT_ID, GRAPH_CLIENT_ID and GRAPH_CLIENT_SECRET)',
      'catalog error: applications[0].roles[2].grant.connector: "google" is not configured (set GOOGLE_SA_KEY_FILE and GOOGLE_ADMIN_SUBJECT)',
    ]);
    assert.ok(!out.includes(BOT_TOKEN) && !out.includes(JIRA_TOKEN));
  });
});
