/** The client-side rate gate (src/adapters/rateGate.ts): pure, on an injected clock. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateGate } from '../../src/adapters/rateGate.js';

const KEY = 'PUT api/v1/groups/{}/users/{}';

test('an unknown endpoint is not held back', () => {
  const gate = new RateGate(() => 0);
  for (let i = 0; i < 100; i++) assert.deepEqual(gate.reserve(KEY), { ok: true });
});

test('calls in flight together cannot overshoot what the last answer allowed', () => {
  const now = 1_000;
  const gate = new RateGate(() => now);
  gate.observe(KEY, 3, 60_000);
  assert.equal(gate.reserve(KEY).ok, true);
  assert.equal(gate.reserve(KEY).ok, true);
  assert.equal(gate.reserve(KEY).ok, true);
  const held = gate.reserve(KEY);
  assert.deepEqual(held, { ok: false, waitMs: 59_000 });
  // An answer to an earlier call (sent before the others) does not give the budget back.
  gate.observe(KEY, 2, 60_000);
  assert.equal(gate.reserve(KEY).ok, false);
  // Other endpoints have their own budget.
  assert.equal(gate.reserve('GET api/v1/users').ok, true);
});

test('the window resets: calls go through again, and the next answer sets the new budget', () => {
  let now = 1_000;
  const gate = new RateGate(() => now);
  gate.observe(KEY, 0, 60_000);
  assert.equal(gate.reserve(KEY).ok, false);
  now = 60_000;
  assert.equal(gate.reserve(KEY).ok, true);
  gate.observe(KEY, 1, 120_000);
  assert.equal(gate.reserve(KEY).ok, true);
  assert.deepEqual(gate.reserve(KEY), { ok: false, waitMs: 60_000 });
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
