import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { formatTime } from '../../src/domain/steps.js';
import { GROUPS, Harness, PEOPLE, waitUntil } from '../support/harness.js';

const { alice, bob, carol, dave } = PEOPLE;
const MIN = 60_000;
const JSM_SCHEDULE = '0b5c1d2e-3f40-4a51-8b62-7c83d94e0f15';

/** One role per schedule: each test asks a schedule no other test looked up (rosters are remembered a minute). */
function role(id: string, when: string): string {
  return `
      - id: ${id}
        name: ${id}
        grant: { connector: okta, group: ${GROUPS.superAdmin} }
        durations: [4h, 1h]
        extend: { max: 4h, approval: auto }
        approval:
          rules:
            - name: on-call responders
              when: { onCall: ${when} }
              auto: true
          default:
            approvers: [bob@example.com]`;
}

const CATALOG = `
jira: { project: ACC, transitions: { approved: Approve } }
applications:
  - id: payments-console
    name: Payments console
    owners: [bob@example.com]
    roles:${role('operator', '{ pagerduty: P1PAYMT }')}${role('short-shift', '{ pagerduty: P1SHORT }')}${role('outage', '{ pagerduty: P2OUTAG }')}${role('hanging', '{ pagerduty: P3HANGS }')}${role('jsm', `{ jsm-ops: ${JSM_SCHEDULE} }`)}${role('late', '{ pagerduty: P4LATEG }')}
`;

/** Timestamps on the services' second precision. */
const sec = (ms: number) => Math.floor(ms / 1000) * 1000;
const strip = (comments: string[]) => comments.map((c) => c.replace(/ on \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/g, ' on …'));

describe('on-call approval, through the PagerDuty and JSM Operations emulators', () => {
  let h: Harness;
  const now = sec(Date.now());
  const aliceShiftEnd = now + 30 * MIN;
  let users: Record<string, { id: string }>;

  before(async () => {
    h = await new Harness({ catalog: CATALOG, onCall: ['pagerduty', 'jsm-ops'], compose: { onCallDeadlineMs: 1000 } }).start();
    const pd = h.pagerduty!;
    users = Object.fromEntries([alice, carol, dave].map((p) => [p.email, pd.addUser({ name: p.name, email: p.email })]));
    for (const [id, name] of [
      ['P1PAYMT', 'Payments primary'],
      ['P1SHORT', 'Payments handover'],
      ['P2OUTAG', 'Payments secondary'],
      ['P3HANGS', 'Payments tertiary'],
    ] as const) {
      pd.addSchedule({ id, name });
      // Alice is on call in every schedule: only a readable roster may approve her.
      pd.addShift({ schedule: id, user: users[alice.email]!.id, start: now - 60 * MIN, end: aliceShiftEnd });
    }
    // Carol was on call until an hour ago, and is again tomorrow.
    pd.addShift({ schedule: 'P1PAYMT', user: users[carol.email]!.id, start: now - 120 * MIN, end: now - 60 * MIN });
    pd.addShift({ schedule: 'P1PAYMT', user: users[carol.email]!.id, start: now + 1440 * MIN, end: now + 1500 * MIN });

    const jsm = h.jsmOps!;
    jsm.addSchedule({ id: JSM_SCHEDULE, name: 'Platform on-call' });
    jsm.addShift({ schedule: JSM_SCHEDULE, accountId: alice.atlassianId, start: now - 90 * MIN, end: now - 30 * MIN });
    // Two touching periods of one shift, as the timeline reports a shift cut by a rotation change.
    jsm.addShift({ schedule: JSM_SCHEDULE, accountId: alice.atlassianId, start: now - 30 * MIN, end: now + 45 * MIN, rotation: 'Primary' });
    jsm.addShift({ schedule: JSM_SCHEDULE, accountId: alice.atlassianId, start: now + 45 * MIN, end: now + 50 * MIN, rotation: 'Handover' });
    for (const p of [alice, carol]) h.jira.directory.addUser({ email: p.email, displayName: p.name, accountId: p.atlassianId });
  });
  after(async () => {
    await h.stop();
  });

  const ask = (who: typeof alice, role: string) => h.request(who, { app: 'payments-console', role, duration: '4h', reason: 'Paged: payouts are failing' });
  const request = (id: string) => h.bot.store.getRequest(id)!;

  test('an on-call responder is auto-approved, the shift is on the Jira issue, and the grant ends at the end of the shift', async () => {
    const id = await ask(alice, 'operator');
    await waitUntil(() => request(id).state === 'active', 5000, 'granted');
    await h.idle();
    assert.equal(request(id).expiresAt, aliceShiftEnd, 'min(4 hours, the shift) is the shift');
    assert.ok(h.okta.isMember(GROUPS.superAdmin, alice.oktaId));
    const comments = strip(h.jiraComments(id));
    assert.equal(
      comments[1],
      `Policy: rule 1 (on-call responders). Chosen on …. On call in PagerDuty schedule P1PAYMT (Payments primary): shift ${formatTime(now - 60 * MIN)} to ${formatTime(aliceShiftEnd)}; the access ends with the shift if the duration asked runs longer.`,
    );
    assert.equal(comments[2], 'Approved by policy (auto-approve) on ….');
    assert.match(comments[3]!, new RegExp(`^Access granted: okta group ${GROUPS.superAdmin} for ${alice.oktaId}, expires ${formatTime(aliceShiftEnd)} \\(the end of the on-call shift\\)\\.`));
    const call = h.pagerduty!.callsTo('GET', '/oncalls').at(-1)!;
    assert.deepEqual(call.query.getAll('schedule_ids[]'), ['P1PAYMT']);
    assert.deepEqual(call.query.getAll('include[]'), ['users']);
  });

  test('access given for an on-call shift cannot be extended past the shift, even where extensions are auto-approved', async () => {
    const grant = h.bot.sql.get<{ id: string; key: string }>("SELECT id, jira_key AS key FROM requests WHERE role_id = 'operator' AND state = 'active' AND ends_by IS NOT NULL")!;
    const res = await h.driver.command(alice.slackId, '/access', `extend ${grant.key} 1h`);
    assert.equal(res.status, 200);
    await h.slack.waitForResponseUrlPost((p) => p.context.user === alice.slackId && /was granted for an on-call shift and ends with it \(.*\); it cannot be extended past the shift\./.test(String(p.body.text)));
    assert.equal(request(grant.id).expiresAt, aliceShiftEnd, 'the expiry has not moved');
    assert.equal(h.bot.sql.value<number>('SELECT COUNT(*) FROM requests WHERE extends_id = ?', grant.id), 0, 'no extension recorded');
  });

  test('someone not on call now (their shift ended, the next is tomorrow) goes to the approvers, and the roster is asked once a minute', async () => {
    const calls = h.pagerduty!.callsTo('GET', '/oncalls').length;
    const id = await ask(carol, 'operator');
    await h.approverMessage(bob, id);
    await h.idle();
    assert.equal(request(id).state, 'pending');
    assert.equal(request(id).endsBy, null);
    assert.deepEqual(strip(h.jiraComments(id)).slice(1, 3), ['Policy: default (no rule matched). Chosen on ….', 'Approval requested from Bob Jones (bob@example.com) on ….']);
    assert.equal(h.pagerduty!.callsTo('GET', '/oncalls').length, calls, 'the roster read for the first request is remembered');
  });

  test('an on-call responder is approved only during the shift: access given on call ends when the shift does', async () => {
    // Nobody asked this schedule yet, so the shift may start now: it ends in a few seconds.
    const daveShiftEnd = sec(Date.now()) + 5000;
    h.pagerduty!.addShift({ schedule: 'P1SHORT', user: users[dave.email]!.id, start: now - 60 * MIN, end: daveShiftEnd });
    const id = await ask(dave, 'short-shift');
    await waitUntil(() => request(id).state === 'active', 5000, 'granted');
    assert.equal(request(id).expiresAt, daveShiftEnd);
    await waitUntil(() => request(id).state === 'revoked', 10_000, 'revoked at the end of the shift');
    assert.ok(!h.okta.isMember(GROUPS.superAdmin, dave.oktaId));
    assert.ok(request(id).revokedAt! >= daveShiftEnd);
  });

  test('a PagerDuty outage never auto-approves: the request goes to the normal approvers and Jira says why', async () => {
    const heal = h.pagerduty!.inject({ method: 'GET', path: '/oncalls', status: 503, body: { error: { message: 'Service Unavailable', code: 2000 } } });
    try {
      const id = await ask(alice, 'outage');
      await h.approverMessage(bob, id);
      await h.idle();
      assert.equal(request(id).state, 'pending', 'Alice is on call, but PagerDuty could not say so');
      assert.equal(
        strip(h.jiraComments(id))[1],
        'Policy: default (no rule matched). Chosen on …. Not known, so rules that test it did not match: whether the requester is on call in PagerDuty schedule P2OUTAG (PagerDuty answered 503 (2000 Service Unavailable) while listing who is on call in schedule P2OUTAG).',
      );
    } finally {
      heal();
    }
  });

  test('PagerDuty not answering in time is an outage too', async () => {
    const heal = h.pagerduty!.inject({ method: 'GET', path: '/oncalls', hang: true });
    try {
      const id = await ask(alice, 'hanging');
      await h.approverMessage(bob, id);
      assert.equal(request(id).state, 'pending');
      await h.idle();
      assert.match(strip(h.jiraComments(id))[1]!, /Not known, so rules that test it did not match: whether the requester is on call in PagerDuty schedule P3HANGS \(PagerDuty did not answer within 1000 ms\)\.$/);
    } finally {
      heal();
    }
  });

  test('a JSM Operations responder is auto-approved until the end of the shift its timeline gives', async () => {
    const id = await ask(alice, 'jsm');
    await waitUntil(() => request(id).state === 'active', 5000, 'granted');
    await h.idle();
    // The shift runs across two touching periods: it ends with the second.
    assert.equal(request(id).expiresAt, now + 50 * MIN);
    assert.equal(
      strip(h.jiraComments(id))[1],
      `Policy: rule 1 (on-call responders). Chosen on …. On call in JSM Operations schedule ${JSM_SCHEDULE}: shift ${formatTime(now - 90 * MIN)} to ${formatTime(now + 50 * MIN)}; the access ends with the shift if the duration asked runs longer.`,
    );
    const onCalls = h.jsmOps!.callsTo('GET', `/jsm/ops/api/${h.jsmOps!.cloudId}/v1/schedules/${JSM_SCHEDULE}/on-calls`);
    assert.equal(onCalls.length, 1);
    assert.equal(onCalls[0]!.query.get('flat'), 'true');
    assert.ok(h.jira.server.callsTo('GET', '/rest/api/3/user').some((c) => c.query.get('accountId') === alice.atlassianId), 'the responder’s email is read from the Jira site');
  });

  test('a shift that ends before the grant can be made grants nothing: the request fails with that cause', async () => {
    const shiftEnd = sec(Date.now()) + 4000;
    h.pagerduty!.addSchedule({ id: 'P4LATEG', name: 'Payments late' });
    h.pagerduty!.addShift({ schedule: 'P4LATEG', user: users[dave.email]!.id, start: now - 60 * MIN, end: shiftEnd });
    // Okta cannot find the user until the shift is over: the grant waits behind it.
    const heal = h.okta.inject({ method: 'GET', path: '/api/v1/users', status: 503, body: { errorCode: 'E0000009', errorSummary: 'Internal Server Error' } });
    const adds = h.okta.addCalls;
    let id: string;
    try {
      id = await ask(dave, 'late');
      await waitUntil(() => request(id).state === 'approved', 5000, 'approved on call');
      await waitUntil(() => Date.now() > shiftEnd, 10_000, 'the end of the shift');
    } finally {
      heal();
    }
    await waitUntil(() => request(id).state === 'failed', 10_000, 'failed');
    await h.idle();
    assert.equal(h.okta.addCalls, adds, 'nothing granted');
    assert.equal(h.jiraComments(id).at(-1)!.replace(/\(on [^)]*\)/, '(on …)'), `Failed: granting access failed: the on-call shift its approval rule matched ended at ${formatTime(shiftEnd)}, before access could be granted (on …).`);
  });
});
