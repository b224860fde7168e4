import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DomainError } from '../../src/domain/errors.js';
import {
  canTransition,
  describeState,
  HOLDING_STATES,
  isFinal,
  REQUEST_STATES,
  transition,
  type LifecycleEvent,
  type RequestState,
} from '../../src/domain/lifecycle.js';

const EVENTS: readonly LifecycleEvent[] = ['approve', 'deny', 'cancel', 'time_out', 'fail', 'provisioned', 'expire', 'revoke', 'revoked', 'retry', 'removed'];

/**
 * The lifecycle of ARCHITECTURE.md §3, with `revoking` between "the grant ended" and "the
 * membership is gone". Every pair not listed here must be refused.
 */
const ALLOWED: readonly [RequestState, LifecycleEvent, RequestState][] = [
  ['pending', 'approve', 'approved'],
  ['pending', 'deny', 'denied'],
  ['pending', 'cancel', 'cancelled'],
  ['pending', 'time_out', 'timed_out'],
  ['pending', 'fail', 'failed'],
  ['approved', 'provisioned', 'active'],
  ['approved', 'fail', 'failed'],
  // A removal request, carried out: the access it removed is revoked; it held nothing itself.
  ['approved', 'removed', 'revoked'],
  ['active', 'expire', 'revoking'],
  ['active', 'revoke', 'revoking'],
  ['revoking', 'revoked', 'revoked'],
  ['failed', 'retry', 'approved'],
];

function allowed(from: RequestState, event: LifecycleEvent): RequestState | undefined {
  return ALLOWED.find(([f, e]) => f === from && e === event)?.[2];
}

function refusal(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof DomainError, `expected a DomainError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a DomainError, nothing was thrown');
}

describe('request lifecycle: the transition table', () => {
  test('the states are exactly those of ARCHITECTURE.md §3 plus revoking', () => {
    assert.deepEqual([...REQUEST_STATES].sort(), ['active', 'approved', 'cancelled', 'denied', 'failed', 'pending', 'revoked', 'revoking', 'timed_out']);
  });

  for (const [from, event, to] of ALLOWED) {
    test(`${from} --${event}--> ${to}`, () => {
      assert.equal(transition(from, event), to);
      assert.equal(canTransition(from, event), true);
    });
  }

  test('every state/event pair not in the table is refused with invalid_transition', () => {
    let refused = 0;
    for (const from of REQUEST_STATES) {
      for (const event of EVENTS) {
        if (allowed(from, event)) continue;
        assert.equal(canTransition(from, event), false, `${from} --${event}--> should be refused`);
        const err = refusal(() => transition(from, event));
        assert.equal(err.code, 'invalid_transition');
        assert.deepEqual(err.details, { from, event });
        refused++;
      }
    }
    assert.equal(refused, REQUEST_STATES.length * EVENTS.length - ALLOWED.length);
  });

  test('a request is approved, denied, cancelled or timed out only while pending', () => {
    for (const event of ['approve', 'deny', 'cancel', 'time_out'] as const) {
      const from = REQUEST_STATES.filter((s) => canTransition(s, event));
      assert.deepEqual(from, ['pending'], `${event} is allowed from ${from.join(', ')}`);
    }
  });

  test('only an approved request can be provisioned', () => {
    assert.deepEqual(
      REQUEST_STATES.filter((s) => canTransition(s, 'provisioned')),
      ['approved'],
    );
  });

  test('an active grant ends through revoking: expiry and revocation both wait for the identity provider', () => {
    assert.equal(transition('active', 'expire'), 'revoking');
    assert.equal(transition('active', 'revoke'), 'revoking');
    assert.equal(canTransition('active', 'revoked'), false, 'an active grant cannot skip revoking');
    assert.equal(transition('revoking', 'revoked'), 'revoked');
  });

  test('a second expiry of a grant already being revoked is refused', () => {
    assert.equal(canTransition('revoking', 'expire'), false);
    assert.equal(canTransition('revoking', 'revoke'), false);
  });

  test('a failed request comes back only through an admin retry, to approved', () => {
    assert.deepEqual(
      EVENTS.filter((e) => canTransition('failed', e)),
      ['retry'],
    );
    assert.equal(transition('failed', 'retry'), 'approved');
  });

  test('denied, cancelled, timed out and revoked requests never move again', () => {
    for (const from of ['denied', 'cancelled', 'timed_out', 'revoked'] as const) {
      assert.deepEqual(
        EVENTS.filter((e) => canTransition(from, e)),
        [],
        `${from} accepts an event`,
      );
    }
  });

  test('isFinal: ended requests (and failed, until an admin retries) are final; live ones are not', () => {
    const finals = REQUEST_STATES.filter(isFinal);
    assert.deepEqual(finals.sort(), ['cancelled', 'denied', 'failed', 'revoked', 'timed_out']);
  });

  test('holding states are those that hold, or are about to hold, a membership', () => {
    assert.deepEqual([...HOLDING_STATES].sort(), ['active', 'approved', 'revoking']);
    for (const s of HOLDING_STATES) assert.equal(isFinal(s), false, `${s} holds a membership but is final`);
  });

  test('every state has its own words for people', () => {
    const words = REQUEST_STATES.map(describeState);
    assert.equal(new Set(words).size, REQUEST_STATES.length);
    assert.equal(describeState('pending'), 'waiting for approval');
    assert.equal(describeState('timed_out'), 'timed out');
    assert.equal(describeState('revoking'), 'being revoked');
  });

  test('an invalid transition names the state it was refused in, in words', () => {
    assert.equal(refusal(() => transition('pending', 'expire')).message, 'A request that is waiting for approval cannot be expired');
    assert.equal(refusal(() => transition('timed_out', 'revoke')).message, 'A request that is timed out cannot be revoked');
  });

  test(
    'an invalid transition reads as English for approve, deny and cancel',
    () => {
      assert.equal(refusal(() => transition('denied', 'approve')).message, 'A request that is denied cannot be approved');
      assert.equal(refusal(() => transition('active', 'deny')).message, 'A request that is active cannot be denied');
      assert.equal(refusal(() => transition('revoked', 'cancel')).message, 'A request that is revoked cannot be cancelled');
    },
  );
});
