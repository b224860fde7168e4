/**
 * `access-bot check` against the Slack, Jira and Okta emulators: everything green, then each
 * failure an operator meets during setup, one at a time. Every failure must be a failing item
 * with a fix that names what to change, `ok` false, and no secret anywhere in the output.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REQUIRED_BOT_SCOPES, runCheck, type CheckItem, type CheckResult } from '../../src/check.js';
import { JiraEmulator } from '../emulators/jira.js';
import { OktaEmulator } from '../emulators/okta.js';
import { SlackEmulator } from '../emulators/slack.js';

const run = promisify(execFile);

const SLACK_TOKEN = 'xoxb-1111-check-bot-token-secret';
const SIGNING_SECRET = 'check-signing-secret-0123456789';
const JIRA_EMAIL = 'access-bot@example.com';
const JIRA_TOKEN = 'jira-check-api-token-secret';
const OKTA_TOKEN = 'okta-check-api-token-secret';

const CATALOG = `
jira:
  project: ACC
  issueType: Task
  transitions:
    approved: Approve
    denied: Reject
    active: Provisioned
    revoked: Done
applications:
  - id: okta-console
    name: Okta admin console
    owners: [owner@example.com]
    roles:
      - id: read-only
        name: Read-only
        grant: { connector: okta, group: 00g1readonly }
        durations: [1h, permanent]
        approvers: [owners]
      - id: super-admin
        name: Super admin
        grant: { connector: okta, group: 00g1superadm }
        durations: [1h]
        approval:
          stages:
            - approvers: [manager]
            - approvers: ["slack-group:security", lead@example.com]
      - id: break-glass
        name: Emergency admin
        grant: { connector: okta, group: 00g1superadm }
        durations: [1h]
        breakGlass: { notify: "#security-alerts", minReasonLength: 20 }
`;

interface World {
  slack: SlackEmulator;
  jira: JiraEmulator;
  okta: OktaEmulator;
  env: Record<string, string | undefined>;
  dir: string;
  /** Rewrites the catalog file. */
  catalog(yaml: string): void;
  /** runCheck with the output collected. */
  check(env?: Record<string, string | undefined>): Promise<CheckResult & { output: string }>;
}

async function world(t: TestContext): Promise<World> {
  const slack = new SlackEmulator({ botToken: SLACK_TOKEN, scopes: Object.keys(REQUIRED_BOT_SCOPES) });
  const jira = new JiraEmulator({ email: JIRA_EMAIL, apiToken: JIRA_TOKEN });
  const okta = new OktaEmulator({ token: OKTA_TOKEN });
  await Promise.all([slack.start(), jira.start(), okta.start()]);
  const dir = mkdtempSync(join(tmpdir(), 'access-bot-check-'));
  t.after(async () => {
    await Promise.all([slack.stop(), jira.stop(), okta.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  slack.addUser({ id: 'U100', email: 'owner@example.com', realName: 'Olive Owner' });
  slack.addUser({ id: 'U200', email: 'lead@example.com', realName: 'Lee Lead' });
  slack.addUserGroup({ id: 'S100', handle: 'security', users: ['U200'] });
  okta.addGroup({ id: '00g1readonly', name: 'Okta read-only' });
  okta.addGroup({ id: '00g1superadm', name: 'Okta super admins' });

  const catalogPath = join(dir, 'access-catalog.yaml');
  writeFileSync(catalogPath, CATALOG);
  const env: Record<string, string | undefined> = {
    SLACK_BOT_TOKEN: SLACK_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: `${slack.url}/api/`,
    JIRA_HOST: jira.url,
    JIRA_EMAIL,
    JIRA_API_TOKEN: JIRA_TOKEN,
    OKTA_ORG_URL: okta.url,
    OKTA_API_TOKEN: OKTA_TOKEN,
    ACCESS_CATALOG: catalogPath,
    DATABASE_PATH: join(dir, 'bot.db'),
  };
  return {
    slack,
    jira,
    okta,
    env,
    dir,
    catalog: (yaml) => writeFileSync(catalogPath, yaml),
    async check(e = env) {
      const lines: string[] = [];
      const result = await runCheck(e, { out: (l) => lines.push(l), fetchTimeoutMs: 2000 });
      const output = lines.join('\n');
      assertNoSecret(output, e);
      return { ...result, output };
    },
  };
}

/** One issue in each status of the workflow, so every transition can be seen. */
async function seedIssues(jira: JiraEmulator): Promise<void> {
  for (const s of jira.getWorkflow().statuses) {
    const res = await fetch(`${jira.url}/rest/api/3/issue`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${JIRA_EMAIL}:${JIRA_TOKEN}`).toString('base64')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ fields: { project: { key: 'ACC' }, issuetype: { name: 'Task' }, summary: `seed ${s.name}` } }),
    });
    assert.equal(res.status, 201, await res.clone().text());
    const { key } = (await res.json()) as { key: string };
    jira.setStatus(key, s.name);
  }
}

function assertNoSecret(output: string, env: Record<string, string | undefined>): void {
  for (const name of ['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'JIRA_API_TOKEN', 'OKTA_API_TOKEN', 'SLACK_APP_TOKEN']) {
    const v = env[name];
    if (v) assert.ok(!output.includes(v), `${name} appears in the output:\n${output}`);
  }
  assert.ok(!output.includes(Buffer.from(`${JIRA_EMAIL}:${JIRA_TOKEN}`).toString('base64')), 'the Jira basic-auth header appears in the output');
}

function failing(r: CheckResult): CheckItem[] {
  return r.items.filter((i) => i.status === 'fail');
}

/** The single failing item whose name matches, with a fix. */
function failure(r: CheckResult & { output: string }, name: RegExp): CheckItem {
  assert.equal(r.ok, false, r.output);
  const found = failing(r).filter((i) => name.test(i.name));
  assert.equal(found.length, 1, `expected one failing item named ${name}:\n${r.output}`);
  const f = found[0]!;
  assert.ok(f.fix, `no fix for ${f.name}`);
  assert.match(r.output, new RegExp(`✘ ${escape(f.name)}`));
  assert.ok(r.output.includes(`fix: ${f.fix}`), `the fix is not printed under the item:\n${r.output}`);
  return f;
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

test('all green: every check passes and the checklist says so', async (t) => {
  const w = await world(t);
  w.slack.addChannel({ id: 'C900', name: 'security-alerts' });
  await seedIssues(w.jira);
  const r = await w.check();
  assert.deepEqual(failing(r), [], r.output);
  assert.equal(r.ok, true);
  const passed = r.items.filter((i) => i.status === 'pass').map((i) => i.name);
  for (const name of [
    'environment',
    'slack token',
    'slack scopes',
    'slack user group security',
    'approvers in Slack',
    'jira credentials',
    'jira project ACC',
    'jira issue type Task',
    'jira permissions in ACC',
    'jira transition "Approve"',
    'jira transition "Done"',
    'okta credentials valid',
    'okta group 00g1readonly exists',
    'okta group 00g1superadm exists',
  ]) {
    assert.ok(passed.includes(name), `"${name}" did not pass:\n${r.output}`);
  }
  assert.ok(passed.some((n) => n.startsWith('catalog ')), r.output);
  // The alert channel cannot be tested without channel scopes: a warning with the invite to do.
  const channel = r.items.find((i) => i.name === 'slack channel #security-alerts');
  assert.equal(channel?.status, 'warn');
  assert.match(channel?.fix ?? '', /\/invite @access-bot in #security-alerts/);
  assert.match(r.output, /^access-bot check/);
  assert.match(r.output, /All checks passed/);
});

test('green without any Jira issue yet: transitions are a warning, not a failure', async (t) => {
  const w = await world(t);
  const r = await w.check();
  assert.equal(r.ok, true, r.output);
  const tr = r.items.find((i) => i.name === 'jira transitions');
  assert.equal(tr?.status, 'warn');
  assert.match(tr?.detail ?? '', /no Task issues in ACC yet/);
});

test('bad Slack token: the token item fails and says where to copy the right one', async (t) => {
  const w = await world(t);
  const r = await w.check({ ...w.env, SLACK_BOT_TOKEN: 'xoxb-2222-wrong-token-not-this-one' });
  const f = failure(r, /^slack token$/);
  assert.match(f.detail ?? '', /invalid_auth/);
  assert.match(f.fix ?? '', /SLACK_BOT_TOKEN .*Bot User OAuth Token \(xoxb-…\).*OAuth & Permissions/);
});

test('missing scope: names the scope, where to add it, and to reinstall', async (t) => {
  const w = await world(t);
  w.slack.scopes = Object.keys(REQUIRED_BOT_SCOPES).filter((s) => s !== 'users:read.email');
  const r = await w.check();
  const f = failure(r, /^slack scopes$/);
  assert.match(f.detail ?? '', /missing users:read\.email/);
  assert.match(f.fix ?? '', /^add users:read\.email in OAuth & Permissions .*reinstall the app/);
});

test('scopes granted beyond what the bot uses are a warning', async (t) => {
  const w = await world(t);
  w.slack.scopes = [...Object.keys(REQUIRED_BOT_SCOPES), 'chat:write.public', 'channels:history'];
  const r = await w.check();
  assert.equal(r.ok, true, r.output);
  const extra = r.items.find((i) => i.name === 'slack scopes not used');
  assert.equal(extra?.status, 'warn');
  assert.equal(extra?.detail, 'chat:write.public, channels:history');
});

test('Jira project missing: says to fix jira.project in the catalog', async (t) => {
  const w = await world(t);
  w.catalog(CATALOG.replace('project: ACC', 'project: NOPE'));
  const r = await w.check();
  const f = failure(r, /^jira project NOPE$/);
  assert.match(f.fix ?? '', /set jira\.project in .*access-catalog\.yaml to an existing project key/);
});

test('transition missing: names the catalog key and the transitions the workflow has', async (t) => {
  const w = await world(t);
  await seedIssues(w.jira);
  w.catalog(CATALOG.replace('revoked: Done', 'revoked: Close'));
  const r = await w.check();
  const f = failure(r, /^jira transition "Close"$/);
  assert.match(f.detail ?? '', /^for revoked: no transition of that name/);
  assert.match(f.fix ?? '', /set jira\.transitions\.revoked in .* to one of .*"Done"/);
  assert.match(f.fix ?? '', /or add a transition named "Close" to the workflow/);
});

/** The test catalog with `jira.statuses` (meaning -> status name) after its transitions. */
function withStatuses(statuses: Record<string, string>): string {
  const lines = Object.entries(statuses).map(([meaning, name]) => `    ${meaning}: ${name}`);
  return CATALOG.replace('applications:', ['  statuses:', ...lines, 'applications:'].join('\n'));
}

test('mapped statuses: one that exists passes, one in another case passes as the site spells it', async (t) => {
  const w = await world(t);
  w.catalog(withStatuses({ approved: 'Approved', denied: 'rejected' }));
  const r = await w.check();
  assert.deepEqual(failing(r), [], r.output);
  const approved = r.items.find((i) => i.name === 'jira status "Approved"');
  assert.equal(approved?.status, 'pass', r.output);
  assert.equal(approved?.detail, 'for approved; in the workflow of ACC Task');
  const denied = r.items.find((i) => i.name === 'jira status "rejected"');
  assert.equal(denied?.status, 'pass', r.output);
  assert.equal(denied?.detail, 'for denied; in the workflow of ACC Task, spelt "Rejected" there');
  assert.ok(w.jira.calls.some((c) => c.method === 'GET' && c.path === '/rest/api/3/project/ACC/statuses'), 'the project\'s statuses were read');
});

test('mapped status misspelt: names the meaning, lists the statuses the workflow has, and says what to set', async (t) => {
  const w = await world(t);
  w.catalog(withStatuses({ approved: 'Approved', revoked: 'Acess Revoked' }));
  const r = await w.check();
  const f = failure(r, /^jira status "Acess Revoked"$/);
  assert.equal(f.detail, 'for revoked: no status of that name in the workflow of ACC Task (it has "To Do", "Approved", "Active", "Rejected", "Done", "Cancelled", "Failed")');
  assert.match(f.fix ?? '', /^set jira\.statuses\.revoked in .*access-catalog\.yaml to one of "To Do", .*"Done".*, or add a status named "Acess Revoked" to the workflow of ACC Task$/);
  assert.equal(r.items.find((i) => i.name === 'jira status "Approved"')?.status, 'pass', r.output);
});

test('mapped status only in the workflow of an issue type the bot does not use: a failure that says where it is', async (t) => {
  const w = await world(t);
  const bugs = w.jira.getWorkflow();
  bugs.statuses.push({ name: 'Access Revoked', category: 'done' });
  w.jira.setWorkflow(bugs, 'Bug');
  w.catalog(withStatuses({ revoked: 'access revoked' }));
  const r = await w.check();
  const f = failure(r, /^jira status "access revoked"$/);
  assert.match(f.detail ?? '', /^for revoked: no status of that name in the workflow of ACC Task \(it has "To Do", .*"Failed"\); only Bug issues, which the bot does not use, have it$/);
});

test('statuses the account may not list: a warning with the reason, not a failure', async (t) => {
  const w = await world(t);
  w.catalog(withStatuses({ approved: 'Approved' }));
  // A site that refuses this one read (an IP allowlist or a scoped token, say) answers Jira's error body.
  w.jira.inject({ method: 'GET', path: '/rest/api/3/project/ACC/statuses', status: 403, body: { errorMessages: ['You do not have permission to view the statuses of this project.'], errors: {} } });
  const r = await w.check();
  assert.equal(r.ok, true, r.output);
  const warn = r.items.find((i) => i.name === 'jira statuses');
  assert.equal(warn?.status, 'warn', r.output);
  assert.match(warn?.detail ?? '', /^the statuses of ACC could not be read \(Jira list the statuses of ACC: forbidden \(403\).*You do not have permission.*\), so "Approved" of jira\.statuses cannot be confirmed$/);
  assert.match(warn?.fix ?? '', /an account that may browse ACC/);
  assert.ok(!r.items.some((i) => i.name.startsWith('jira status "')), r.output);
});

test('Okta group missing: points at the catalog role and the group id to use', async (t) => {
  const w = await world(t);
  w.catalog(CATALOG.replace('group: 00g1readonly', 'group: 00gNOSUCHGROUP'));
  const r = await w.check();
  const f = failure(r, /^okta group 00gNOSUCHGROUP/);
  assert.match(f.fix ?? '', /set grant\.group of okta-console\/read-only in .* to the group id \(00g…/);
  // The other groups were still checked.
  assert.ok(r.items.some((i) => i.name === 'okta group 00g1superadm exists' && i.status === 'pass'), r.output);
});

test('bad Okta token: the credentials item fails and says how to make a new token', async (t) => {
  const w = await world(t);
  const r = await w.check({ ...w.env, OKTA_API_TOKEN: 'okta-wrong-token-zzzz' });
  const f = failure(r, /^okta credentials/);
  assert.match(f.detail ?? '', /401/);
  assert.match(f.fix ?? '', /OKTA_API_TOKEN was refused: create an API token/);
});

test('connector instances named in the catalog: each is checked under its name, and its fixes name its own variables', async (t) => {
  const w = await world(t);
  w.catalog(`connectors:
  okta-eu: { type: okta, orgUrl: { env: OKTA_ORG_URL }, apiToken: { env: OKTA_EU_API_TOKEN } }
${CATALOG.replaceAll('connector: okta,', 'connector: okta-eu,')}`);
  const r = await w.check({ ...w.env, OKTA_EU_API_TOKEN: 'okta-eu-wrong-token-zzzz' });
  const f = failure(r, /^okta-eu credentials/);
  assert.match(f.fix ?? '', /^OKTA_EU_API_TOKEN was refused: create an API token/);
  assert.match(r.output, /\nOkta \(okta-eu\)\n/);
  assert.ok(!r.output.includes('okta-eu-wrong-token-zzzz'), r.output);
});

test('bad Jira token: says to create an API token for JIRA_EMAIL', async (t) => {
  const w = await world(t);
  const r = await w.check({ ...w.env, JIRA_API_TOKEN: 'jira-wrong-token-zzzz' });
  const f = failure(r, /^jira credentials$/);
  assert.match(f.fix ?? '', /id\.atlassian\.com.*JIRA_EMAIL \(access-bot@example\.com\).*JIRA_API_TOKEN/);
});

test('unreachable Jira (closed port): a failure naming JIRA_HOST, not a crash', async (t) => {
  const w = await world(t);
  const host = `http://127.0.0.1:${await closedPort()}`;
  const r = await w.check({ ...w.env, JIRA_HOST: host });
  const f = failure(r, /^jira credentials$/);
  assert.match(f.detail ?? '', /ECONNREFUSED/);
  assert.equal(f.fix, `check JIRA_HOST (${host}) is your Jira Cloud site and reachable from here`);
  // Slack and Okta were checked all the same.
  assert.ok(r.items.some((i) => i.name === 'slack token' && i.status === 'pass'), r.output);
  assert.ok(r.items.some((i) => i.name === 'okta credentials valid' && i.status === 'pass'), r.output);
});

test('unreachable Slack and a hanging Okta: failures naming SLACK_API_URL and OKTA_ORG_URL, within the timeout', async (t) => {
  const w = await world(t);
  const slackUrl = `http://127.0.0.1:${await closedPort()}/api/`;
  w.okta.inject({ hang: true });
  const started = Date.now();
  const lines: string[] = [];
  const r = await runCheck({ ...w.env, SLACK_API_URL: slackUrl }, { out: (l) => lines.push(l), fetchTimeoutMs: 300 });
  const output = lines.join('\n');
  assertNoSecret(output, w.env);
  assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
  const s = failure({ ...r, output }, /^slack token$/);
  assert.match(s.fix ?? '', /check SLACK_API_URL \(http:\/\/127\.0\.0\.1:\d+\/api\/\)/);
  const o = failing(r).filter((i) => i.section === 'okta');
  assert.ok(o.length > 0, output);
  for (const i of o) assert.match(i.fix ?? '', /check OKTA_ORG_URL \(http:\/\/127\.0\.0\.1:\d+\)/);
});

test('catalog naming an unconfigured connector: says which variables turn it on; the rest is still checked', async (t) => {
  const w = await world(t);
  w.catalog(`${CATALOG}
  - id: wiki
    name: Company wiki
    roles:
      - id: reader
        name: Reader
        grant: { connector: entra, group: 6f1c0d2e-0000-4000-8000-000000000001 }
        durations: [permanent]
        approval: auto
`);
  const r = await w.check();
  const f = failure(r, /^catalog applications\[1\]\.roles\[0\]\.grant\.connector$/);
  assert.match(f.detail ?? '', /connector "entra" is not configured/);
  assert.match(f.fix ?? '', /^set GRAPH_TENANT_ID, GRAPH_CLIENT_ID and GRAPH_CLIENT_SECRET/);
  assert.ok(r.items.some((i) => i.name === 'okta group 00g1readonly exists' && i.status === 'pass'), r.output);
  assert.ok(r.items.some((i) => i.name === 'jira project ACC' && i.status === 'pass'), r.output);
});

test('missing environment variable: one item with the variable and what to set it to', async (t) => {
  const w = await world(t);
  const r = await w.check({ ...w.env, JIRA_EMAIL: undefined });
  const f = failure(r, /^JIRA_EMAIL$/);
  assert.equal(f.fix, 'set JIRA_EMAIL to the Atlassian account email that owns JIRA_API_TOKEN');
  assert.ok(r.items.some((i) => i.name === 'connections' && i.status === 'skip'), r.output);
  // The catalog is still validated.
  assert.ok(r.items.some((i) => i.name.startsWith('catalog ') && i.status === 'pass'), r.output);
});

test('catalog mistakes are items with the path and the fix', async (t) => {
  const w = await world(t);
  w.catalog(CATALOG.replace('durations: [1h, permanent]', 'durations: [1h, 5x]'));
  const r = await w.check();
  const f = failure(r, /^catalog applications\[0\]\.roles\[0\]\.durations\[1\]$/);
  assert.match(f.fix ?? '', /^edit applications\[0\]\.roles\[0\]\.durations\[1\] in .*: "5x" is not a duration/);
});

test('the CLI exits 1 on a failure, 0 when green, 2 for an unknown command', async (t) => {
  const w = await world(t);
  const cli = ['--import', 'tsx', 'src/cli.ts'];
  const env = { PATH: process.env.PATH ?? '', ...w.env } as NodeJS.ProcessEnv;
  // execFile, not spawnSync: the emulators live in this process and must keep answering.
  // Concurrently, since each start of tsx takes a moment.
  const exitOf = (args: string[], e: NodeJS.ProcessEnv) =>
    run(process.execPath, [...cli, ...args], { env: e }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, stdout: err.stdout, stderr: err.stderr }),
    );
  const [bad, good, unknown, help] = await Promise.all([
    exitOf(['check'], { ...env, SLACK_BOT_TOKEN: 'xoxb-3333-wrong-cli-token' }),
    exitOf(['check'], env),
    exitOf(['frobnicate'], env),
    exitOf(['--help'], env),
  ]);
  assert.equal(bad.code, 1, bad.stderr);
  assert.match(bad.stdout, /✘ slack token/);
  assert.ok(!bad.stdout.includes('xoxb-3333-wrong-cli-token'));
  assertNoSecret(bad.stdout + bad.stderr, w.env);

  assert.equal(good.code, 0, good.stdout + good.stderr);
  assert.match(good.stdout, /All checks passed/);
  assertNoSecret(good.stdout + good.stderr, w.env);

  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command "frobnicate"[\s\S]*Usage: access-bot <command>/);

  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: access-bot <command>/);
});

test('slack-manifest.json asks for exactly the scopes the check requires, and the routes the bot serves', () => {
  const manifest = JSON.parse(readFileSync(new URL('../../slack-manifest.json', import.meta.url), 'utf8')) as {
    features: { slash_commands: { command: string; url: string; should_escape: boolean }[]; app_home: { home_tab_enabled: boolean; messages_tab_enabled: boolean } };
    oauth_config: { scopes: { bot: string[]; user?: string[] } };
    settings: { interactivity: { is_enabled: boolean; request_url: string; message_menu_options_url: string }; event_subscriptions?: { request_url: string; bot_events: string[] }; socket_mode_enabled: boolean; org_deploy_enabled: boolean };
  };
  assert.deepEqual([...manifest.oauth_config.scopes.bot].sort(), Object.keys(REQUIRED_BOT_SCOPES).sort());
  assert.equal(manifest.oauth_config.scopes.user, undefined);
  assert.deepEqual(
    manifest.features.slash_commands.map((c) => [c.command, c.url, c.should_escape]),
    [['/access', 'https://YOUR-HOST/slack/events', false]],
  );
  assert.equal(manifest.settings.interactivity.is_enabled, true);
  assert.equal(manifest.settings.interactivity.request_url, 'https://YOUR-HOST/slack/events');
  assert.equal(manifest.settings.interactivity.message_menu_options_url, 'https://YOUR-HOST/slack/events');
  // The App Home's event (no scope needed) and user_change (users:read, asked for above: offboarding) come to the same URL.
  assert.deepEqual(manifest.settings.event_subscriptions, { request_url: 'https://YOUR-HOST/slack/events', bot_events: ['app_home_opened', 'user_change'] });
  assert.ok(manifest.oauth_config.scopes.bot.includes('users:read'));
  assert.equal(manifest.features.app_home.messages_tab_enabled, true);
  assert.equal(manifest.features.app_home.home_tab_enabled, true);
  assert.equal(manifest.settings.socket_mode_enabled, false);
  assert.equal(manifest.settings.org_deploy_enabled, false);
});
