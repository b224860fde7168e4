/**
 * `access-bot check` with on-call rules: each on-call service's credentials and every schedule
 * the rules name, each failure with a fix that names what to change; then, for a sample of
 * people, which approval rule each would meet now (the policy explain code). No secret in the output.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REQUIRED_BOT_SCOPES, runCheck, type CheckItem } from '../../src/check.js';
import { runPolicy } from '../../src/policy-cli.js';
import { formatTime } from '../../src/domain/steps.js';
import { JiraEmulator } from '../emulators/jira.js';
import { JsmOpsEmulator } from '../emulators/jsm-ops.js';
import { OktaEmulator } from '../emulators/okta.js';
import { PagerDutyEmulator } from '../emulators/pagerduty.js';
import { SlackEmulator } from '../emulators/slack.js';
import { addPerson, PEOPLE } from '../support/fixtures.js';

const SLACK_TOKEN = 'xoxb-3333-check-bot-token-secret';
const JIRA_EMAIL = 'access-bot@example.com';
const JIRA_TOKEN = 'jira-check-api-token-secret-oncall';
const OKTA_TOKEN = 'okta-check-api-token-secret-oncall';
const JSM_SCHEDULE = '0b5c1d2e-3f40-4a51-8b62-7c83d94e0f15';
const H = 3_600_000;
const { alice, bob, carol } = PEOPLE;

const CATALOG = `
jira: { project: ACC, issueType: Task }
applications:
  - id: payments-console
    name: Payments console
    owners: [bob@example.com]
    roles:
      - id: operator
        name: Operator
        grant: { connector: okta, group: 00g1operator }
        durations: [1h]
        approval:
          rules:
            - name: on-call responders
              when: { onCall: { pagerduty: P1PAYMT } }
              auto: true
            - name: platform on call
              when: { onCall: { jsm-ops: ${JSM_SCHEDULE} } }
              auto: true
          default:
            approvers: [bob@example.com]
`;

interface World {
  pd: PagerDutyEmulator;
  jsm: JsmOpsEmulator;
  env: Record<string, string>;
  catalog(yaml: string): void;
  check(env?: Record<string, string>, sample?: string[]): Promise<{ ok: boolean; items: CheckItem[]; output: string }>;
}

async function world(t: TestContext): Promise<World> {
  const slack = new SlackEmulator({ botToken: SLACK_TOKEN, scopes: Object.keys(REQUIRED_BOT_SCOPES) });
  const jira = new JiraEmulator({ email: JIRA_EMAIL, apiToken: JIRA_TOKEN });
  const okta = new OktaEmulator({ token: OKTA_TOKEN });
  const pd = new PagerDutyEmulator();
  const jsm = new JsmOpsEmulator({ email: JIRA_EMAIL, apiToken: JIRA_TOKEN });
  await Promise.all([slack.start(), jira.start(), okta.start(), pd.start(), jsm.start()]);
  const dir = mkdtempSync(join(tmpdir(), 'access-bot-check-oncall-'));
  t.after(async () => {
    await Promise.all([slack.stop(), jira.stop(), okta.stop(), pd.stop(), jsm.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });
  for (const p of [alice, bob, carol]) addPerson({ slack, okta }, p);
  okta.addGroup({ id: '00g1operator', name: 'Payments operators' });
  okta.addMember('00g1operator', carol.oktaId);
  const now = Date.now();
  pd.addSchedule({ id: 'P1PAYMT', name: 'Payments primary' });
  const pdAlice = pd.addUser({ name: alice.name, email: alice.email });
  pd.addShift({ schedule: 'P1PAYMT', user: pdAlice.id, start: Math.floor(now / 1000) * 1000 - H, end: Math.floor(now / 1000) * 1000 + H });
  jsm.addSchedule({ id: JSM_SCHEDULE, name: 'Platform on-call' });
  const file = join(dir, 'catalog.yaml');
  writeFileSync(file, CATALOG);
  const env = {
    SLACK_BOT_TOKEN: SLACK_TOKEN,
    SLACK_SIGNING_SECRET: 'check-signing-secret-oncall-01',
    SLACK_API_URL: `${slack.url}/api/`,
    JIRA_HOST: jira.url,
    JIRA_EMAIL,
    JIRA_API_TOKEN: JIRA_TOKEN,
    OKTA_ORG_URL: okta.url,
    OKTA_API_TOKEN: OKTA_TOKEN,
    PAGERDUTY_TOKEN: pd.token,
    PAGERDUTY_URL: pd.url,
    JSM_OPS_CLOUD_ID: jsm.cloudId,
    JSM_OPS_URL: jsm.url,
    ACCESS_CATALOG: file,
    DATABASE_PATH: join(dir, 'bot.db'),
  };
  return {
    pd,
    jsm,
    env,
    catalog: (yaml) => writeFileSync(file, yaml),
    async check(e = env, sample) {
      const lines: string[] = [];
      const result = await runCheck(e, { out: (l) => lines.push(l), fetchTimeoutMs: 2000, ...(sample ? { sample } : {}) });
      const output = lines.join('\n');
      for (const name of ['PAGERDUTY_TOKEN', 'JIRA_API_TOKEN', 'OKTA_API_TOKEN', 'SLACK_BOT_TOKEN'] as const) {
        const v = e[name];
        if (v) assert.ok(!output.includes(v), `${name} appears in the output:\n${output}`);
      }
      return { ...result, output };
    },
  };
}

const named = (items: CheckItem[], name: string) => items.find((i) => i.name === name);

test('check: each on-call service and every schedule the rules name, then which rule a sample of people would meet', async (t) => {
  const w = await world(t);
  const r = await w.check();
  assert.ok(r.ok, r.output);
  assert.match(r.output, /\nPagerDuty \(on call\)\n {2}✔ pagerduty credentials valid\n {2}✔ pagerduty schedule P1PAYMT exists: Payments primary\n/);
  assert.match(r.output, new RegExp(`\\nJSM Operations \\(on call\\)\\n {2}✔ jsm-ops credentials valid\\n {2}✔ jsm-ops schedule ${JSM_SCHEDULE} exists: Platform on-call\\n`));
  // The sample: whoever is on call now, and a member of the role's group.
  const shiftEnd = w.pd.oncalls[0]!.end!;
  assert.equal(
    named(r.items, `payments-console/operator ${alice.email}`)?.detail,
    `rule 1 (on-call responders): approved by policy (auto-approve) (on call in PagerDuty schedule P1PAYMT (Payments primary) until ${formatTime(shiftEnd)})`,
  );
  assert.equal(named(r.items, `payments-console/operator ${carol.email}`)?.detail, 'default (no rule matched): asks bob@example.com');
  assert.match(r.output, /\nApproval rules: which each would meet now \(a sample\)\n/);

  const sampled = await w.check(w.env, [bob.email]);
  const lines = sampled.items.filter((i) => i.section === 'policy');
  assert.deepEqual(lines.map((i) => [i.name, i.status, i.detail]), [[`payments-console/operator ${bob.email}`, 'pass', 'default (no rule matched): asks bob@example.com']], '--sample replaces the members and responders');
});

test('check: a refused PagerDuty key, a schedule that does not exist and refused JSM credentials, each with its fix', async (t) => {
  const w = await world(t);
  w.catalog(CATALOG.replace('pagerduty: P1PAYMT', 'pagerduty: P9NOSCH'));
  const missing = await w.check();
  assert.equal(missing.ok, false);
  const schedule = named(missing.items, 'pagerduty schedule P9NOSCH exists')!;
  assert.equal(schedule.detail, 'PagerDuty answered 404 (2100 Not Found) while reading schedule P9NOSCH');
  assert.match(schedule.fix!, /^set when\.onCall\.pagerduty of payments-console\/operator rule 1 \(on-call responders\) in .*catalog\.yaml to an existing schedule id \(in PagerDuty, People → On-Call Schedules/);

  const refused = await w.check({ ...w.env, PAGERDUTY_TOKEN: 'not-the-pagerduty-key', JIRA_API_TOKEN: JIRA_TOKEN, JSM_OPS_API_TOKEN: 'not-the-jsm-token' });
  const pd = named(refused.items, 'pagerduty credentials valid')!;
  assert.equal(pd.detail, 'PagerDuty answered 401 (2006 Authentication failed) while reading schedules');
  assert.match(pd.fix!, /^PagerDuty refused PAGERDUTY_TOKEN: create a REST API key in PagerDuty \(Integrations → API Access Keys; read-only is enough\)/);
  assert.equal(named(refused.items, 'pagerduty schedule P9NOSCH exists')?.status, 'skip');
  const jsm = named(refused.items, 'jsm-ops credentials valid')!;
  assert.equal(jsm.detail, 'JSM Operations answered 401 (Unauthorized) while listing schedules');
  assert.match(jsm.fix!, /^JSM Operations refused JSM_OPS_EMAIL and JSM_OPS_API_TOKEN \(default: JIRA_EMAIL and JIRA_API_TOKEN\)/);
  assert.ok(!refused.output.includes('not-the-pagerduty-key') && !refused.output.includes('not-the-jsm-token'));
});

test('check: a rule naming an on-call service that is not configured is a catalog error with how to configure it', async (t) => {
  const w = await world(t);
  const { PAGERDUTY_TOKEN: _t, PAGERDUTY_URL: _u, ...env } = w.env;
  const r = await w.check(env);
  assert.equal(r.ok, false);
  const line = r.items.find((i) => i.section === 'catalog' && i.status === 'fail')!;
  assert.equal(line.detail, 'PagerDuty is not configured (set PAGERDUTY_TOKEN to a PagerDuty REST API key (Integrations → API Access Keys; read-only is enough))');
  assert.match(line.name, /applications\[0\]\.roles\[0\]\.approval\.rules\[0\]\.when\.onCall\.pagerduty$/);
});

test('policy explain says whether the person is on call in each schedule, and when on-call access would end', async (t) => {
  const w = await world(t);
  const out: string[] = [];
  const code = await runPolicy(['explain', alice.email, 'payments-console/operator'], w.env, (l) => out.push(l), (l) => out.push(l));
  assert.equal(code, 0, out.join('\n'));
  const end = formatTime(w.pd.oncalls[0]!.end!);
  assert.deepEqual(out.slice(1), [
    `  on call in PagerDuty schedule P1PAYMT (Payments primary): yes, until ${end}`,
    `  on call in JSM Operations schedule ${JSM_SCHEDULE}: no`,
    `  rule 1 (on-call responders): matches (on call in PagerDuty schedule P1PAYMT (Payments primary) until ${end})`,
    'Applies: rule 1 (on-call responders): approved by policy (auto-approve).',
    `The access would end with the on-call shift, at ${end}, if the duration asked runs longer.`,
  ]);
});
