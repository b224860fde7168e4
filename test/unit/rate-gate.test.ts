/** The client-side rate gate (src/adapters/rateGate.ts): pure, on an injected clock. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FORGET_IN_FLIGHT_AFTER_MS, RateGate } from '../../src/adapters/rateGate.js';

const KEY = 'PUT api/v1/groups/{}/users/{}';

/** Reserves a call that must be let through, and gives its ticket. */
function ticket(gate: RateGate, key = KEY): number {
  const r = gate.reserve(key);
  assert.ok(r.ok, `${key} is held: ${JSON.stringify(r)}`);
  return r.ticket;
}

test('an unknown endpoint is not held back', () => {
  const gate = new RateGate(() => 0);
  const tickets = new Set<number>();
  for (let i = 0; i < 100; i++) tickets.add(ticket(gate));
  assert.equal(tickets.size, 100);
});

test('calls in flight together cannot overshoot what the last answer allowed', () => {
  const now = 1_000;
  const gate = new RateGate(() => now);
  const first = ticket(gate);
  gate.release(KEY, first);
  gate.observe(KEY, 3, 60_000);
  const a = ticket(gate);
  const b = ticket(gate);
  ticket(gate);
  assert.deepEqual(gate.reserve(KEY), { ok: false, waitMs: 59_000 });
  // The answer to one of them: two are still on their way, and the service counts 2 left.
  gate.release(KEY, a);
  gate.observe(KEY, 2, 60_000);
  assert.equal(gate.reserve(KEY).ok, false);
  // An answer that says more is left than an earlier one did is about an earlier moment.
  gate.release(KEY, b);
  gate.observe(KEY, 3, 60_000);
  assert.equal(ticket(gate) > 0, true, 'one in flight against 2 left: one more may go');
  assert.equal(gate.reserve(KEY).ok, false);
  // Other endpoints have their own budget.
  assert.equal(gate.reserve('GET api/v1/users').ok, true);
});

test('a call that ends without an answer gives its place back; one never released stops counting after a while', () => {
  let now = 0;
  const gate = new RateGate(() => now);
  gate.observe(KEY, 2, 60_000);
  const lost = ticket(gate);
  ticket(gate);
  assert.equal(gate.reserve(KEY).ok, false);
  gate.release(KEY, lost); // a timeout, say
  gate.release(KEY, lost); // twice is harmless
  ticket(gate);
  assert.equal(gate.reserve(KEY).ok, false);
  // Two reservations are never released (a caller's bug); a longer window keeps the endpoint known.
  now = FORGET_IN_FLIGHT_AFTER_MS - 1;
  gate.observe(KEY, 2, 10 * 60_000);
  assert.equal(gate.reserve(KEY).ok, false);
  now = FORGET_IN_FLIGHT_AFTER_MS;
  assert.equal(gate.reserve(KEY).ok, true);
});

test('the window resets: calls go through again, and the next answer sets the new budget', () => {
  let now = 1_000;
  const gate = new RateGate(() => now);
  gate.release(KEY, ticket(gate));
  gate.observe(KEY, 0, 60_000);
  assert.equal(gate.reserve(KEY).ok, false);
  now = 60_000;
  const t = ticket(gate);
  // A late answer about the window that ended says nothing of the new one.
  gate.observe(KEY, 0, 60_000);
  assert.equal(gate.reserve(KEY).ok, true);
  gate.release(KEY, t);
  gate.observe(KEY, 2, 120_000);
  // The call reserved while the window was unknown is still on its way: one more may go.
  assert.equal(gate.reserve(KEY).ok, true);
  assert.deepEqual(gate.reserve(KEY), { ok: false, waitMs: 60_000 });
});

test('calls that reach the service in any order and are answered in any order use each window to its last call, with no 429', () => {
  // A service with a fixed budget per one-minute window that counts a call when it arrives and
  // answers it later, in orders of its own (a call waiting for a connection arrives after later
  // ones; a slow answer comes back after later ones). The client keeps 16 calls in flight, as one
  // outbox lane does against Okta, and the window is unknown at its start.
  const budget = 40;
  let seed = 7;
  const random = (n: number): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31), seed % n);
  let now = 0;
  const gate = new RateGate(() => now);
  let windowStart = -1;
  let used = 0;
  let limited = 0;
  for (const start of [0, 60_000, 120_000, 180_000]) {
    now = start + 1;
    const onTheirWay: number[] = [];
    const arrived: { ticket: number; remaining: number; resetAt: number; ok: boolean }[] = [];
    let sent = 0;
    for (;;) {
      while (onTheirWay.length + arrived.length < 16) {
        const r = gate.reserve(KEY);
        if (!r.ok) break;
        onTheirWay.push(r.ticket);
        sent += 1;
      }
      if (onTheirWay.length + arrived.length === 0) break;
      if (onTheirWay.length > 0 && (arrived.length === 0 || random(2) === 0)) {
        const [t] = onTheirWay.splice(random(onTheirWay.length), 1);
        if (now >= windowStart + 60_000) [windowStart, used] = [Math.floor(now / 60_000) * 60_000, 0];
        const resetAt = windowStart + 60_000;
        if (used >= budget) arrived.push({ ticket: t!, remaining: 0, resetAt, ok: false });
        else arrived.push({ ticket: t!, remaining: budget - ++used, resetAt, ok: true });
      } else {
        const [answer] = arrived.splice(random(arrived.length), 1);
        gate.release(KEY, answer!.ticket);
        if (answer!.ok) gate.observe(KEY, answer!.remaining, answer!.resetAt);
        else {
          limited += 1;
          gate.exhausted(KEY, answer!.resetAt);
        }
      }
    }
    assert.equal(sent, budget, `window at ${start}: ${sent} calls sent`);
  }
  assert.equal(limited, 0);
});

test('a 429 holds the endpoint until the reset it named; garbage headers are ignored', () => {
  let now = 0;
  const gate = new RateGate(() => now);
  gate.exhausted(KEY, 5_000);
  assert.deepEqual(gate.reserve(KEY), { ok: false, waitMs: 5_000 });
  now = 5_000;
  assert.equal(gate.reserve(KEY).ok, true);
  gate.observe('GET x', Number.NaN, 10_000);
  gate.observe('GET x', -1, 10_000);
  gate.observe('GET x', 5, Number.NaN);
  for (let i = 0; i < 10; i++) assert.equal(gate.reserve('GET x').ok, true);
});

test('after a 429, every call of that method waits for Retry-After; other methods are not held', () => {
  let now = 10_000;
  const gate = new RateGate(() => now);
  // Slack says nothing until the 429: every call goes until then.
  for (let i = 0; i < 50; i++) assert.equal(gate.reserve('chat.postMessage').ok, true);
  gate.exhausted('chat.postMessage', now + 3_000);
  for (let i = 0; i < 20; i++) assert.deepEqual(gate.reserve('chat.postMessage'), { ok: false, waitMs: 3_000 });
  assert.equal(gate.reserve('views.open').ok, true);
  now += 2_999;
  assert.deepEqual(gate.reserve('chat.postMessage'), { ok: false, waitMs: 1 });
  // Another 429 (to a call in flight with the first) can only push the hold further out.
  gate.exhausted('chat.postMessage', now - 1_000);
  assert.deepEqual(gate.reserve('chat.postMessage'), { ok: false, waitMs: 1 });
  gate.exhausted('chat.postMessage', now + 500);
  now += 1;
  assert.deepEqual(gate.reserve('chat.postMessage'), { ok: false, waitMs: 499 });
  now += 499;
  assert.equal(gate.reserve('chat.postMessage').ok, true);
});
