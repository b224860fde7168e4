/**
 * `access-bot check` for the GitHub connector: its credentials and each catalog team, each
 * failure with a fix naming what to change, and neither the token nor the App's private key in
 * the output.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REQUIRED_BOT_SCOPES, runCheck, type CheckItem } from '../../src/check.js';
import { GitHubEmulator } from '../emulators/github.js';
import { JiraEmulator } from '../emulators/jira.js';
import { SlackEmulator } from '../emulators/slack.js';

const SLACK_TOKEN = 'xoxb-2222-check-bot-token-secret';
const JIRA_TOKEN = 'jira-check-api-token-secret-gh';

const CATALOG = `
jira:
  project: ACC
  issueType: Task
applications:
  - id: code
    name: Source code
    owners: [owner@example.com]
    roles:
      - { id: dev, name: Developer, grant: { connector: github, group: acme/developers }, durations: [1h], approvers: [owners] }
      - { id: ops, name: Operator, grant: { connector: github, group: acme/no-such-team }, durations: [1h], approvers: [owners] }
`;

async function world(t: TestContext): Promise<{ gh: GitHubEmulator; env: Record<string, string>; keyPem: string }> {
  const slack = new SlackEmulator({ botToken: SLACK_TOKEN, scopes: Object.keys(REQUIRED_BOT_SCOPES) });
  const jira = new JiraEmulator({ email: 'access-bot@example.com', apiToken: JIRA_TOKEN });
  const gh = new GitHubEmulator();
  await Promise.all([slack.start(), jira.start(), gh.start()]);
  const dir = mkdtempSync(join(tmpdir(), 'access-bot-check-gh-'));
  t.after(async () => {
    await Promise.all([slack.stop(), jira.stop(), gh.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });
  slack.addUser({ id: 'U100', email: 'owner@example.com', realName: 'Olive Owner' });
  gh.addOrg('acme', { saml: true });
  gh.addTeam('acme', 'developers', 'Developers');
  writeFileSync(join(dir, 'catalog.yaml'), CATALOG);
  writeFileSync(join(dir, 'app.pem'), gh.privateKeyPem);
  const env = {
    SLACK_BOT_TOKEN: SLACK_TOKEN,
    SLACK_SIGNING_SECRET: 'check-signing-secret-gh-0123',
    SLACK_API_URL: `${slack.url}/api/`,
    JIRA_HOST: jira.url,
    JIRA_EMAIL: 'access-bot@example.com',
    JIRA_API_TOKEN: JIRA_TOKEN,
    GITHUB_ORG: 'acme',
    GITHUB_APP_ID: gh.appId,
    GITHUB_APP_INSTALLATION_ID: gh.installationId,
    GITHUB_APP_PRIVATE_KEY_FILE: join(dir, 'app.pem'),
    GITHUB_API_URL: gh.apiUrl,
    GITHUB_GRAPHQL_URL: gh.graphqlUrl,
    ACCESS_CATALOG: join(dir, 'catalog.yaml'),
    DATABASE_PATH: join(dir, 'bot.db'),
  };
  return { gh, env, keyPem: gh.privateKeyPem };
}

async function check(env: Record<string, string>): Promise<{ items: CheckItem[]; output: string }> {
  const lines: string[] = [];
  const result = await runCheck(env, { out: (l) => lines.push(l), fetchTimeoutMs: 2000 });
  return { items: result.items, output: lines.join('\n') };
}

test('GitHub App: credentials pass, a present team passes, a missing team fails with the catalog role and the <org>/<team-slug> form to use; no key in the output', async (t) => {
  const w = await world(t);
  const r = await check(w.env);
  const item = (name: string): CheckItem | undefined => r.items.find((i) => i.name === name);
  assert.equal(item('github credentials valid')?.status, 'pass', r.output);
  assert.equal(item('github group acme/developers exists')?.status, 'pass', r.output);
  const missing = item('github group acme/no-such-team exists');
  assert.equal(missing?.status, 'fail', r.output);
  assert.match(missing!.detail ?? '', /GitHub team acme\/no-such-team not found/);
  assert.match(missing!.fix ?? '', /set grant\.group of code\/ops in .* to the team as <org>\/<team-slug>/);
  for (const line of w.keyPem.split('\n').filter((l) => l.length >= 16 && !l.startsWith('-----'))) assert.ok(!r.output.includes(line), 'a line of the private key is in the output');
});

test('bad GitHub token: the credentials item fails, the fix names GITHUB_TOKEN and the permission, the token is not shown', async (t) => {
  const w = await world(t);
  const env: Record<string, string> = { ...w.env, GITHUB_TOKEN: 'ghp_wrongwrongwrongwrongwrong4567' };
  for (const k of ['GITHUB_APP_ID', 'GITHUB_APP_INSTALLATION_ID', 'GITHUB_APP_PRIVATE_KEY_FILE']) delete env[k];
  const r = await check(env);
  const f = r.items.find((i) => i.name === 'github credentials valid');
  assert.equal(f?.status, 'fail', r.output);
  assert.match(f!.detail ?? '', /401: Bad credentials/);
  assert.match(f!.fix ?? '', /check GITHUB_TOKEN \(a classic token with admin:org, or a fine-grained token with the organization permission Members: read and write\)/);
  assert.ok(!r.output.includes('ghp_wrongwrongwrongwrongwrong4567'), r.output);
});

test('token and App settings together: the connector cannot be set up, and check says which to keep', async (t) => {
  const w = await world(t);
  const r = await check({ ...w.env, GITHUB_TOKEN: 'ghp_bothbothbothbothboth0123' });
  const f = r.items.find((i) => i.status === 'fail' && /github/.test(i.name));
  assert.ok(f, r.output);
  assert.match(`${f.detail ?? ''}`, /either a GitHub token or the GitHub App settings .* not both/);
});
