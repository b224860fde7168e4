/** The PagerDuty and JSM Operations adapters against their emulators (and the Jira emulator for emails). */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { JsmOpsOnCall } from '../../src/adapters/oncall/jsm-ops/client.js';
import { PagerDutyOnCall } from '../../src/adapters/oncall/pagerduty/client.js';
import { JiraEmulator } from '../emulators/jira.js';
import { JsmOpsEmulator } from '../emulators/jsm-ops.js';
import { PagerDutyEmulator } from '../emulators/pagerduty.js';

const T = Date.UTC(2026, 2, 11, 8, 0);
const H = 3_600_000;
const now = () => T;

describe('PagerDuty on-call adapter', () => {
  const pd = new PagerDutyEmulator({ now });
  let client: PagerDutyOnCall;
  before(async () => {
    await pd.start();
    client = PagerDutyOnCall.fromConfig({ token: pd.token, url: pd.url }, { now });
  });
  after(async () => {
    await pd.stop();
  });

  test('reads every page of the on-calls covering now, each responder with the email of the included user', async () => {
    pd.addSchedule({ id: 'PBIGONE', name: 'Everyone' });
    for (let i = 0; i < 120; i++) {
      const u = pd.addUser({ name: `Responder ${i}`, email: `Responder${i}@Example.com` });
      pd.addShift({ schedule: 'PBIGONE', user: u.id, start: T - H, end: i === 0 ? null : T + i * 60_000 });
    }
    pd.addShift({ schedule: 'PBIGONE', user: pd.addUser({ name: 'Later', email: 'later@example.com' }).id, start: T + H, end: T + 2 * H });
    const r = await client.roster('PBIGONE');
    assert.equal(r.shifts.length, 120, 'the shift that starts later is not on call now');
    assert.equal(r.unresolved, 0);
    assert.equal(r.scheduleName, 'Everyone');
    assert.deepEqual(r.shifts[0], { userId: r.shifts[0]!.userId, email: 'responder0@example.com', name: 'Responder 0', start: T - H, end: null });
    const pages = pd.callsTo('GET', '/oncalls').filter((c) => c.query.get('schedule_ids[]') === 'PBIGONE');
    assert.deepEqual(pages.map((c) => c.query.get('offset')), ['0', '100']);
    assert.ok(pages.every((c) => c.headers.accept === 'application/vnd.pagerduty+json;version=2'));
  });

  test('check: a refused key and a schedule that does not exist, each said in PagerDuty’s words', async () => {
    pd.addSchedule({ id: 'PREALONE', name: 'Real one' });
    const good = await client.checkSchedules(['PREALONE', 'PNOSUCH']);
    assert.deepEqual(good.checks, [
      { name: 'credentials valid', ok: true },
      { name: 'schedule PREALONE exists', ok: true, detail: 'Real one' },
      { name: 'schedule PNOSUCH exists', ok: false, detail: 'PagerDuty answered 404 (2100 Not Found) while reading schedule PNOSUCH' },
    ]);
    const bad = await PagerDutyOnCall.fromConfig({ token: 'wrong-key-000000', url: pd.url }, { now }).checkSchedules(['PREALONE']);
    assert.equal(bad.checks[0]!.detail, 'PagerDuty answered 401 (2006 Authentication failed) while reading schedules');
    assert.equal(bad.checks[1]!.detail, 'not checked: PagerDuty refused the API key');
    assert.ok(!JSON.stringify(bad).includes('wrong-key-000000'));
  });
});

describe('JSM Operations on-call adapter', () => {
  const ops = new JsmOpsEmulator({ now, email: 'ops@example.com', apiToken: 'ATATT-ops-token-1234' });
  const jira = new JiraEmulator({ apiToken: 'ATATT-ops-token-1234' });
  const schedule = '1a2b3c4d-0000-4000-8000-000000000001';
  let client: JsmOpsOnCall;
  before(async () => {
    await Promise.all([ops.start(), jira.start()]);
    jira.setCredentials('ops@example.com', 'ATATT-ops-token-1234');
    client = JsmOpsOnCall.fromConfig({ cloudId: ops.cloudId, email: 'ops@example.com', apiToken: 'ATATT-ops-token-1234', url: ops.url, siteUrl: jira.url }, { now });
    ops.addSchedule({ id: schedule, name: 'Platform' });
    jira.directory.addUser({ email: 'Alice@example.com', accountId: 'acc-alice', displayName: 'Alice Smith' });
    jira.directory.addUser({ email: 'hidden@example.com', accountId: 'acc-hidden', emailHidden: true });
    jira.directory.addUser({ email: 'erin@example.com', accountId: 'acc-erin' });
  });
  after(async () => {
    await Promise.all([ops.stop(), jira.stop()]);
  });

  test('responders by email with their shift from the final timeline; a hidden email or a shift the timeline lacks leaves one unresolved', async () => {
    ops.addShift({ schedule, accountId: 'acc-alice', start: T - 2 * H, end: T + 6 * H });
    ops.addShift({ schedule, accountId: 'acc-hidden', start: T - H, end: T + H });
    const r = await client.roster(schedule);
    assert.deepEqual(r, { shifts: [{ userId: 'acc-alice', email: 'alice@example.com', name: 'Alice Smith', start: T - 2 * H, end: T + 6 * H }], unresolved: 1 });
    const timeline = ops.callsTo('GET', `/jsm/ops/api/${ops.cloudId}/v1/schedules/${schedule}/timeline`)[0]!;
    assert.deepEqual(Object.fromEntries(timeline.query), { date: new Date(T - 7 * 24 * H).toISOString(), interval: '2', intervalUnit: 'weeks' });
  });

  test('check: a schedule that does not exist and refused credentials, each said in Atlassian’s words', async () => {
    const report = await client.checkSchedules([schedule, '99999999-0000-4000-8000-000000000000']);
    assert.deepEqual(report.checks.slice(1), [
      { name: `schedule ${schedule} exists`, ok: true, detail: 'Platform' },
      { name: 'schedule 99999999-0000-4000-8000-000000000000 exists', ok: false, detail: 'JSM Operations answered 404 (Not Found: No schedule exists with identifier [99999999-0000-4000-8000-000000000000]) while reading schedule 99999999-0000-4000-8000-000000000000' },
    ]);
    const refused = await JsmOpsOnCall.fromConfig({ cloudId: ops.cloudId, email: 'ops@example.com', apiToken: 'not-the-token-xyz', url: ops.url, siteUrl: jira.url }, { now }).checkSchedules([]);
    assert.deepEqual(refused.checks, [{ name: 'credentials valid', ok: false, detail: 'JSM Operations answered 401 (Unauthorized) while listing schedules' }]);
  });

  test('after a 429 the API is not asked again until Retry-After', async () => {
    ops.limitPerMinute = 0;
    try {
      await assert.rejects(client.roster(schedule), /JSM Operations answered 429 \(Too Many Requests: Rate limit exceeded\.[^)]*\) while (listing who is on call|reading the timeline)[^;]*; calls wait \d+ s$/);
      const sent = ops.calls.length;
      await assert.rejects(client.roster(schedule), /the JSM Operations rate limit is used up for \d+ s more/);
      assert.equal(ops.calls.length, sent);
    } finally {
      ops.limitPerMinute = 10_000;
    }
  });
});
