/**
 * The on-call look-up's rules (app/onCall.ts), one case each, against the PagerDuty emulator with
 * one injected clock for the emulator, the adapter and the cache.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { PagerDutyOnCall } from '../../src/adapters/oncall/pagerduty/client.js';
import { OnCallLookup } from '../../src/app/onCall.js';
import { shiftAt } from '../../src/domain/onCall.js';
import { PagerDutyEmulator } from '../emulators/pagerduty.js';

const T = Date.UTC(2026, 2, 10, 8, 0);
const MIN = 60_000;

describe('the on-call look-up', () => {
  let clock = T;
  const now = () => clock;
  const pd = new PagerDutyEmulator({ now });
  const warnings: string[] = [];
  let lookup: OnCallLookup;
  let schedule = 0;

  before(async () => {
    await pd.start();
    pd.addUser({ id: 'PALICE', name: 'Alice Smith', email: 'alice@example.com' });
  });
  after(async () => {
    await pd.stop();
  });
  beforeEach(() => {
    clock = T;
    pd.clearFaults();
    lookup = new OnCallLookup({ services: [PagerDutyOnCall.fromConfig({ token: pd.token, url: pd.url }, { now })], now, logger: { warn: (_o: unknown, msg?: string) => void warnings.push(msg ?? '') }, deadlineMs: 300 });
  });

  /** A schedule no other case asked, with Alice on call from T to T + 30 min. */
  function newSchedule(): string {
    const id = `P0TEST${++schedule}`;
    pd.addSchedule({ id, name: `Schedule ${schedule}` });
    pd.addShift({ schedule: id, user: 'PALICE', start: T, end: T + 30 * MIN });
    return id;
  }
  const calls = (id: string) => pd.callsTo('GET', '/oncalls').filter((c) => c.query.get('schedule_ids[]') === id).length;

  test("a schedule's roster is asked at most once a minute", async () => {
    const id = newSchedule();
    assert.ok((await lookup.roster('pagerduty', id)).known);
    clock = T + 59_999;
    assert.ok((await lookup.roster('pagerduty', id)).known);
    assert.equal(calls(id), 1, 'remembered for a minute');
    clock = T + MIN;
    assert.ok((await lookup.roster('pagerduty', id)).known);
    assert.equal(calls(id), 2, 'asked again once the minute is over');
  });

  test('look-ups of one schedule made while it is being asked share that one call', async () => {
    const id = newSchedule();
    const all = await Promise.all([1, 2, 3, 4, 5].map(() => lookup.roster('pagerduty', id)));
    assert.ok(all.every((r) => r.known));
    assert.equal(calls(id), 1);
  });

  test('a failed look-up is not remembered: the next request asks again', async () => {
    const id = newSchedule();
    pd.inject({ method: 'GET', path: '/oncalls', status: 500, body: { error: { message: 'Internal Error', code: 2000 } }, times: 1 });
    const failed = await lookup.roster('pagerduty', id);
    assert.equal(failed.known, false);
    assert.ok(!failed.known && /PagerDuty answered 500 \(2000 Internal Error\) while listing who is on call in schedule P0TEST\d+/.test(failed.why), JSON.stringify(failed));
    const next = await lookup.roster('pagerduty', id);
    assert.ok(next.known, 'asked again, and answered');
    assert.equal(calls(id), 2);
  });

  test('a remembered roster is read against the time now: a shift that ended within the minute no longer counts', async () => {
    const id = newSchedule();
    clock = T + 29 * MIN + 30_000;
    const first = await lookup.roster('pagerduty', id);
    assert.ok(first.known && shiftAt(first.value, 'alice@example.com', clock));
    clock = T + 30 * MIN;
    const again = await lookup.roster('pagerduty', id);
    assert.equal(calls(id), 1, 'from memory');
    assert.ok(again.known);
    assert.equal(shiftAt(again.value, 'alice@example.com', clock), undefined, 'the shift is over');
  });

  test('no answer within the deadline is a failure, never "nobody is on call"', async () => {
    const id = newSchedule();
    pd.inject({ method: 'GET', path: '/oncalls', hang: true, times: 1 });
    const late = await lookup.roster('pagerduty', id);
    assert.deepEqual(late, { known: false, why: 'PagerDuty did not answer within 300 ms' });
    assert.ok(warnings.some((w) => /on-call look-up failed/.test(w)));
  });

  test("after a 429, PagerDuty is not asked again until its ratelimit-reset", async () => {
    const id = newSchedule();
    pd.limitPerMinute = 0;
    try {
      const limited = await lookup.roster('pagerduty', id);
      assert.ok(!limited.known && /^PagerDuty answered 429 \(Rate Limit Exceeded\) while listing who is on call in schedule P0TEST\d+; calls wait \d+ s$/.test(limited.why), JSON.stringify(limited));
      const before = pd.calls.length;
      const held = await lookup.roster('pagerduty', id);
      assert.ok(!held.known && /^the PagerDuty rate limit is used up for \d+ s more; not asked/.test(held.why), JSON.stringify(held));
      assert.equal(pd.calls.length, before, 'held, not sent');
    } finally {
      pd.limitPerMinute = 960;
    }
    clock = T + MIN + 1000;
    const after = await lookup.roster('pagerduty', id);
    assert.ok(after.known, `asked again after the reset: ${JSON.stringify(after)}`);
  });

  test('a service that is not configured is an unknown fact, with how to configure it', async () => {
    assert.deepEqual(await lookup.roster('jsm-ops', '0b5c1d2e-3f40-4a51-8b62-7c83d94e0f15'), { known: false, why: 'JSM Operations is not configured' });
  });
});
