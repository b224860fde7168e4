/**
 * `access-bot check` for the bitbucket-dc connector: green, then each setup mistake as a failing
 * item with a fix naming what to change (the group, the credentials' permission, the variables),
 * and no secret in the output.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REQUIRED_BOT_SCOPES, runCheck, type CheckItem, type CheckResult } from '../../src/check.js';
import { BitbucketEmulator } from '../emulators/bitbucket.js';
import { JiraEmulator } from '../emulators/jira.js';
import { SlackEmulator } from '../emulators/slack.js';

const SLACK_TOKEN = 'xoxb-2222-check-bot-token-secret';
const JIRA_TOKEN = 'jira-check-api-token-secret-bb';
const BB_TOKEN = 'bitbucket-check-http-access-token';
const BB_PASSWORD = 'bitbucket-check-password-secret';

const CATALOG = `
jira:
  project: ACC
  issueType: Task
applications:
  - id: code
    name: Code
    owners: [owner@example.com]
    roles:
      - { id: devs, name: Developers, grant: { connector: bitbucket-dc, group: payments-devs }, durations: [1h], approvers: [owners] }
      - { id: pay-write, name: PAY write, grant: { connector: bitbucket-dc, project: PAY, permission: PROJECT_WRITE }, durations: [1h], approvers: [owners] }
`;

async function world(t: TestContext) {
  const slack = new SlackEmulator({ botToken: SLACK_TOKEN, scopes: Object.keys(REQUIRED_BOT_SCOPES) });
  const jira = new JiraEmulator({ email: 'access-bot@example.com', apiToken: JIRA_TOKEN });
  const bb = new BitbucketEmulator({ token: BB_TOKEN, basic: { username: 'access-bot', password: BB_PASSWORD } });
  await Promise.all([slack.start(), jira.start(), bb.start()]);
  const dir = mkdtempSync(join(tmpdir(), 'access-bot-check-bb-'));
  t.after(async () => {
    await Promise.all([slack.stop(), jira.stop(), bb.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });
  slack.addUser({ id: 'U100', email: 'owner@example.com', realName: 'Olive Owner' });
  bb.addGroup('payments-devs');
  bb.addProject('PAY');
  const catalogPath = join(dir, 'access-catalog.yaml');
  writeFileSync(catalogPath, CATALOG);
  const env: Record<string, string | undefined> = {
    SLACK_BOT_TOKEN: SLACK_TOKEN,
    SLACK_SIGNING_SECRET: 'check-signing-secret-bb-0123456',
    SLACK_API_URL: `${slack.url}/api/`,
    JIRA_HOST: jira.url,
    JIRA_EMAIL: 'access-bot@example.com',
    JIRA_API_TOKEN: JIRA_TOKEN,
    BITBUCKET_BASE_URL: bb.url,
    BITBUCKET_USERNAME: 'access-bot',
    BITBUCKET_PASSWORD: BB_PASSWORD,
    ACCESS_CATALOG: catalogPath,
    DATABASE_PATH: join(dir, 'bot.db'),
  };
  const check = async (e = env): Promise<CheckResult & { output: string }> => {
    const lines: string[] = [];
    const result = await runCheck(e, { out: (l) => lines.push(l), fetchTimeoutMs: 2000 });
    const output = lines.join('\n');
    for (const secret of [BB_TOKEN, BB_PASSWORD]) assert.ok(!output.includes(secret), `a Bitbucket secret appears in the output:\n${output}`);
    return { ...result, output };
  };
  return { bb, env, catalog: (yaml: string) => writeFileSync(catalogPath, yaml), check };
}

const bitbucketItems = (r: CheckResult): CheckItem[] => r.items.filter((i) => i.name.startsWith('bitbucket-dc'));

function failure(r: CheckResult & { output: string }, name: RegExp): CheckItem {
  const found = r.items.filter((i) => i.status === 'fail' && name.test(i.name));
  assert.equal(found.length, 1, `expected one failing item named ${name}:\n${r.output}`);
  assert.ok(found[0]!.fix, `no fix for ${found[0]!.name}`);
  return found[0]!;
}

test('bitbucket-dc green: credentials with ADMIN, the group and the project', async (t) => {
  const w = await world(t);
  const r = await w.check();
  const items = bitbucketItems(r);
  assert.deepEqual(
    items.map((i) => [i.name, i.status]),
    [
      ['bitbucket-dc credentials valid', 'pass'],
      ['bitbucket-dc group payments-devs exists', 'pass'],
      ['bitbucket-dc group project:PAY:PROJECT_WRITE exists', 'pass'],
    ],
    r.output,
  );
  assert.match(r.output, /\nBitbucket Data Center\n/);
});

test('bitbucket-dc group missing: points at the catalog role and what a group is', async (t) => {
  const w = await world(t);
  w.catalog(CATALOG.replace('group: payments-devs', 'group: no-such-group'));
  const f = failure(await w.check(), /^bitbucket-dc group no-such-group/);
  assert.match(f.detail ?? '', /Bitbucket group no-such-group not found/);
  assert.match(f.fix ?? '', /set grant\.group of code\/devs in .* to an existing Bitbucket group name/);
});

test('bitbucket-dc credentials without the ADMIN global permission: the fix names the token and the permission', async (t) => {
  const w = await world(t);
  w.bb.admin = false;
  const f = failure(await w.check(), /^bitbucket-dc credentials/);
  assert.match(f.detail ?? '', /401: You are not permitted to access this resource/);
  assert.match(f.fix ?? '', /^set BITBUCKET_USERNAME and BITBUCKET_PASSWORD to a Bitbucket account with the ADMIN global permission/);
});

test('bitbucket-dc with an HTTP access token and a catalog that grants groups: says a token cannot change groups', async (t) => {
  const w = await world(t);
  const f = failure(await w.check({ ...w.env, BITBUCKET_USERNAME: undefined, BITBUCKET_PASSWORD: undefined, BITBUCKET_TOKEN: BB_TOKEN }), /^bitbucket-dc credentials/);
  assert.match(f.detail ?? '', /an HTTP access token cannot change Bitbucket group membership/);
  assert.match(f.fix ?? '', /BITBUCKET_USERNAME and BITBUCKET_PASSWORD/);
});

test('bitbucket-dc with a base URL but no credentials: cannot be set up, and says what to give', async (t) => {
  const w = await world(t);
  const f = failure(await w.check({ ...w.env, BITBUCKET_USERNAME: undefined, BITBUCKET_PASSWORD: undefined }), /^bitbucket-dc/);
  assert.match(f.detail ?? '', /give an HTTP access token, or a username and password/);
});
