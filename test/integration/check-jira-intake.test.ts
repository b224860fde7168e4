/**
 * The intake set-up against the site: `access-bot check` finds the request types, the fields and
 * their options (listing missing and extra ones) and the webhook secret; `access-bot jira
 * sync-fields` prints the changes, writes them with --apply (options added, extra ones disabled,
 * never deleted), and then has nothing left to do.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import { REQUIRED_BOT_SCOPES, runCheck } from '../../src/check.js';
import { runJira } from '../../src/jira-cli.js';
import { JiraEmulator } from '../emulators/jira.js';
import { OktaEmulator } from '../emulators/okta.js';
import { SlackEmulator } from '../emulators/slack.js';
import { catalogYaml, credentials, emulatorEnv, PEOPLE, secretValues } from '../support/fixtures.js';
import { INTAKE, INTAKE_FIELDS, JsmDesk } from '../support/jsm.js';

const CREDS = credentials('intake-check');

const APPS = [
  {
    id: 'okta-console',
    name: 'Okta admin console',
    owners: ['bob@example.com'],
    roles: [
      { id: 'read-only', name: 'Read-only', group: '00g1readonly', durations: ['4h', 'permanent'], approvers: ['owners'] },
      { id: 'super-admin', name: 'Super admin', group: '00g1superadm', durations: ['1h'], approvers: ['owners'] },
    ],
  },
  { id: 'wiki', name: 'Company wiki', owners: ['bob@example.com'], roles: [{ id: 'reader', name: 'Reader', group: '00g1wiki', durations: ['permanent'], approvers: ['owners'] }] },
];

async function world(t: TestContext, intake = INTAKE, statuses?: Record<string, string | string[]>) {
  const slack = new SlackEmulator({ botToken: CREDS.botToken, scopes: Object.keys(REQUIRED_BOT_SCOPES) });
  const jira = new JiraEmulator({ email: CREDS.jiraEmail, apiToken: CREDS.jiraToken });
  const okta = new OktaEmulator({ token: CREDS.oktaToken });
  // Out of step with the catalog: "Legacy CRM" is gone from it, "Company wiki" and two roles are new.
  JsmDesk.setUp(jira, { people: [PEOPLE.alice], applications: ['Okta admin console', 'Legacy CRM'], roles: ['Read-only'], durations: ['4 hours', 'Permanent', '1 hour'] });
  await Promise.all([slack.start(), jira.start(), okta.start()]);
  for (const g of ['00g1readonly', '00g1superadm', '00g1wiki']) okta.addGroup({ id: g, name: g });
  slack.addUser({ id: 'U0BOB', email: 'bob@example.com', realName: 'Bob Jones' });
  const dir = mkdtempSync(join(tmpdir(), 'access-bot-intake-check-'));
  t.after(async () => {
    await Promise.all([slack.stop(), jira.stop(), okta.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });
  const catalogPath = join(dir, 'access-catalog.yaml');
  writeFileSync(catalogPath, catalogYaml({ jira: { intake, ...(statuses ? { statuses } : {}) }, applications: APPS }));
  const env: Record<string, string | undefined> = { ...emulatorEnv(CREDS, { slack, jira, okta }), ACCESS_CATALOG: catalogPath, DATABASE_PATH: join(dir, 'bot.db') };
  const check = async (e = env) => {
    const lines: string[] = [];
    const result = await runCheck(e, { out: (l) => lines.push(l), fetchTimeoutMs: 2000 });
    const output = lines.join('\n');
    for (const secret of secretValues(CREDS)) assert.ok(!output.includes(secret), 'no secret in the output');
    return { ...result, output, intake: result.items.filter((i) => i.name.startsWith('jira intake') || i.name === 'jira webhook secret') };
  };
  const sync = async (...args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runJira(['sync-fields', ...args], env, (l) => out.push(l), (l) => err.push(l));
    return { code, out: out.join('\n'), err: err.join('\n') };
  };
  return { jira, env, check, sync, catalogPath };
}

test('check lists the options missing and extra in each intake field, and the unset webhook secret', async (t) => {
  const w = await world(t);
  const r = await w.check();
  assert.equal(r.ok, false);
  const byName = Object.fromEntries(r.intake.map((i) => [i.name, i]));
  assert.equal(byName['jira intake request types']?.status, 'pass');
  assert.match(byName['jira intake request types']!.detail!, /Request Application Access, Request Access Removal, Request Access Change: request types of the service desk/);
  const app = byName[`jira intake Application field ${INTAKE_FIELDS.application} ("Application")`]!;
  assert.equal(app.status, 'fail');
  assert.match(app.detail!, /^missing options: Company wiki; extra options: Legacy CRM \(context "Default Configuration Scheme for Application"\)$/);
  assert.match(app.fix!, /access-bot jira sync-fields/);
  assert.match(byName[`jira intake Role field ${INTAKE_FIELDS.role} ("Access Type")`]!.detail!, /^missing options: Super admin, Reader /);
  assert.equal(byName[`jira intake Duration field ${INTAKE_FIELDS.duration} ("Duration")`]!.detail, 'options match the catalog (3)');
  assert.equal(byName[`jira intake Whose access field ${INTAKE_FIELDS.subject} ("Whose access")`]?.status, 'pass');
  const secret = byName['jira webhook secret']!;
  assert.equal(secret.status, 'fail');
  assert.match(secret.fix!, /JIRA_WEBHOOK_SECRET .*\/webhooks\/jira/);
});

test('sync-fields: a dry run prints the changes and makes none; --apply makes them; a second run has nothing to do; check then passes', async (t) => {
  const w = await world(t);
  const before = w.jira.optionValues(INTAKE_FIELDS.application);
  const dry = await w.sync();
  assert.equal(dry.code, 0, dry.err);
  assert.match(dry.out, /Application field customfield_10050 \("Application"\), context "Default Configuration Scheme for Application":\n {2}\+ Company wiki\n {2}- Legacy CRM \(not in the catalog: disable it\)/);
  assert.match(dry.out, /Role field customfield_10051 \("Access Type"\), context .*:\n {2}\+ Super admin\n {2}\+ Reader/);
  assert.match(dry.out, /Dry run: nothing was changed/);
  assert.deepEqual(w.jira.optionValues(INTAKE_FIELDS.application), before);
  assert.equal(w.jira.calls.filter((c) => c.method !== 'GET').length, 0, 'a dry run writes nothing');

  const applied = await w.sync('--apply');
  assert.equal(applied.code, 0, applied.err);
  assert.match(applied.out, /Applied: 5 option\(s\) added, 0 enabled again, 1 disabled\./);
  assert.deepEqual(w.jira.optionValues(INTAKE_FIELDS.application), ['Okta admin console', 'Company wiki']);
  assert.deepEqual(w.jira.optionValues(INTAKE_FIELDS.role), ['Read-only', 'Super admin', 'Reader']);
  assert.deepEqual(w.jira.optionValues(INTAKE_FIELDS.fromRole), ['Read-only', 'Super admin', 'Reader']);
  assert.deepEqual(w.jira.optionValues(INTAKE_FIELDS.duration), ['4 hours', 'Permanent', '1 hour']);
  // Disabled, not deleted: the option still exists for the issues that hold it.
  assert.ok(w.jira.field(INTAKE_FIELDS.application)!.contexts[0]!.options.some((o) => o.value === 'Legacy CRM' && o.disabled));

  const again = await w.sync('--apply');
  assert.equal(again.code, 0, again.err);
  assert.doesNotMatch(again.out, /^ {2}[+~-] /m);
  assert.match(again.out, /Application field customfield_10050 .*: up to date \(2 options\)/);
  assert.match(again.out, /Applied: 0 option\(s\) added, 0 enabled again, 0 disabled\./);

  // A catalog edit brings an application back: its disabled option is enabled again, not duplicated.
  const crm = { id: 'crm', name: 'Legacy CRM', owners: ['bob@example.com'], roles: [{ id: 'reader', name: 'Reader', group: '00g1wiki', durations: ['permanent'], approvers: ['owners'] }] };
  writeFileSync(w.catalogPath, catalogYaml({ jira: { intake: INTAKE }, applications: [...APPS, crm] }));
  const back = await w.sync('--apply');
  assert.match(back.out, /\n {2}~ Legacy CRM \(disabled: enable it again\)\n/);
  assert.match(back.out, /Applied: 0 option\(s\) added, 1 enabled again, 0 disabled\./);
  assert.deepEqual(w.jira.optionValues(INTAKE_FIELDS.application), ['Okta admin console', 'Legacy CRM', 'Company wiki']);

  const r = await w.check({ ...w.env, JIRA_WEBHOOK_SECRET: 'intake-check-webhook-secret' });
  assert.deepEqual(r.intake.filter((i) => i.status !== 'pass').map((i) => `${i.name}: ${i.detail}`), []);
});

test('check: a request type the desk lacks, and a field of the wrong type, are named with what the site has', async (t) => {
  const w = await world(t, { requestTypes: { 'Request Application Access': 'access', 'Get Admin Rights': 'access' }, fields: { application: INTAKE_FIELDS.application, role: INTAKE_FIELDS.subject, duration: 'customfield_99999' } });
  const r = await w.check();
  const byName = Object.fromEntries(r.intake.map((i) => [i.name, i]));
  assert.match(byName['jira intake request types']!.detail!, /not among the request types of the service desk "Access Requests": "Get Admin Rights" \(it has "Request Application Access", "Request Access Removal", "Request Access Change"\)/);
  const role = byName[`jira intake Role field ${INTAKE_FIELDS.subject} ("Whose access")`]!;
  assert.equal(role.status, 'fail');
  assert.match(role.detail!, /^"Whose access" is a userpicker field, not a single select list; single select fields on the site: Application \(customfield_10050\), /);
  assert.match(byName['jira intake Duration field customfield_99999']!.detail!, /^no field customfield_99999 on the site/);
});

/** The service desk's own workflow (its request types are Service Request issues), beside Task's default one. */
function deskWorkflow(jira: JiraEmulator): void {
  jira.setWorkflow(
    {
      initial: 'Waiting for support',
      statuses: [
        { name: 'Waiting for support', category: 'new' },
        { name: 'Approved by Manager', category: 'indeterminate' },
        { name: 'Declined', category: 'done' },
      ],
      transitions: [
        { id: '101', name: 'Approve', from: ['Waiting for support'], to: 'Approved by Manager' },
        { id: '102', name: 'Decline', from: ['Waiting for support'], to: 'Declined' },
      ],
    },
    'Service Request',
  );
}

test('check: mapped statuses are looked for in the workflows of jira.issueType and of the request types\' issue type', async (t) => {
  const w = await world(t, INTAKE, { approved: ['Approved', 'Approved by Manager'], denied: 'declined', cancelled: 'Withdrawn' });
  deskWorkflow(w.jira);
  const r = await w.check();
  const byName = Object.fromEntries(r.items.map((i) => [i.name, i]));
  assert.equal(byName['jira status "Approved"']?.detail, 'for approved; in the workflow of ACC Task', r.output);
  assert.equal(byName['jira status "Approved by Manager"']?.detail, 'for approved; in the workflow of ACC Service Request', r.output);
  assert.equal(byName['jira status "declined"']?.detail, 'for denied; in the workflow of ACC Service Request, spelt "Declined" there', r.output);
  const missing = byName['jira status "Withdrawn"']!;
  assert.equal(missing.status, 'fail');
  assert.equal(
    missing.detail,
    'for cancelled: no status of that name in the workflow of ACC Task, Service Request (it has "To Do", "Approved", "Active", "Rejected", "Done", "Cancelled", "Failed", "Waiting for support", "Approved by Manager", "Declined")',
  );
  assert.match(missing.fix!, /^set jira\.statuses\.cancelled in .* to one of .*"Declined", or add a status named "Withdrawn" to the workflow of ACC Task, Service Request$/);
});

test('check: a request type whose issue type is not known widens the status check to every issue type of the project, and says so', async (t) => {
  const w = await world(t, { ...INTAKE, requestTypes: { ...INTAKE.requestTypes, 'Get Admin Rights': 'access' } }, { approved: 'Approved by Manager', revoked: 'Access Revoked' });
  deskWorkflow(w.jira);
  const bugs = w.jira.getWorkflow();
  bugs.statuses.push({ name: 'Access Revoked', category: 'done' });
  w.jira.setWorkflow(bugs, 'Bug');
  const r = await w.check();
  const byName = Object.fromEntries(r.items.map((i) => [i.name, i]));
  const why = ' (every issue type of ACC was looked at, as the service desk has no request type "Get Admin Rights")';
  assert.equal(byName['jira status "Approved by Manager"']?.detail, `for approved; in the workflow of ACC Service Request${why}`, r.output);
  // Bug issues are not the bot's, but which workflow "Get Admin Rights" follows cannot be known.
  assert.equal(byName['jira status "Access Revoked"']?.status, 'pass', r.output);
  assert.equal(byName['jira status "Access Revoked"']?.detail, `for revoked; in the workflow of ACC Bug${why}`);
});

test('the access-bot jira sync-fields command: usage errors exit 2, a dry run exits 0', async (t) => {
  const w = await world(t);
  const run = promisify(execFile);
  const cli = (args: string[]) =>
    run(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { env: { ...w.env, PATH: process.env.PATH } }).then(
      (r) => ({ code: 0, out: r.stdout, err: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout, err: e.stderr }),
    );
  const bad = await cli(['jira', 'sync-fields', '--force']);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /unexpected argument "--force"/);
  const dry = await cli(['jira', 'sync-fields']);
  assert.equal(dry.code, 0, dry.err);
  assert.match(dry.out, /\+ Company wiki/);
});
