import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ApprovalPolicy, PolicyRule, Role, StagedPolicy } from '../../src/domain/catalog.js';
import { grantEnd, onCallKey, shiftAt, type Roster } from '../../src/domain/onCall.js';
import { choosePolicy, type Known, type PolicyFacts } from '../../src/domain/policy.js';

const H = 3_600_000;
const T = Date.UTC(2026, 2, 10, 8, 0);
const OWNERS: StagedPolicy = { kind: 'stages', stages: [{ approvers: [{ kind: 'owners' }], required: 1 }], fallback: [], escalateTo: [] };
const onCallRule: PolicyRule = { name: 'on-call responders', when: { onCall: { service: 'pagerduty', schedules: ['P1PAYMT'] } }, policy: { kind: 'auto' }, notify: [] };

/** Alice is on call from T to T+8h; Bob from T-8h to T. */
const ROSTER: Roster = {
  scheduleName: 'Payments primary',
  shifts: [
    { userId: 'PALICE', email: 'alice@example.com', start: T, end: T + 8 * H },
    { userId: 'PBOB', email: 'bob@example.com', start: T - 8 * H, end: T },
  ],
  unresolved: 0,
};

function role(rules: PolicyRule[], approval: ApprovalPolicy = OWNERS): Pick<Role, 'approval' | 'rules'> {
  return { approval, rules: { rules, factsFrom: 'okta' } };
}

function facts(email: string, now: number, roster: Known<Roster> = { known: true, value: ROSTER }, schedule = 'P1PAYMT'): PolicyFacts {
  return {
    kind: 'access',
    durationMs: 4 * H,
    now,
    email,
    groups: { known: false, why: 'not looked up' },
    profile: { known: false, why: 'not looked up' },
    onCall: new Map([[onCallKey('pagerduty', schedule), roster]]),
  };
}

describe('on-call rules', () => {
  test('an on-call responder is approved only during the shift', () => {
    const during = choosePolicy(role([onCallRule]), facts('Alice@Example.com', T + H));
    assert.ok(during.kind === 'chosen');
    assert.deepEqual(during.policy, { kind: 'auto', rule: 1 });
    assert.deepEqual(during.onCall, { service: 'pagerduty', schedule: 'P1PAYMT', scheduleName: 'Payments primary', start: T, end: T + 8 * H });
    assert.equal(during.verdicts[0]!.why, 'on call in PagerDuty schedule P1PAYMT (Payments primary) until 2026-03-10 16:00:00 UTC');

    for (const [at, what] of [
      [T - 1, 'before the shift'],
      [T + 8 * H, 'the moment the shift ends'],
      [T + 9 * H, 'after the shift'],
    ] as const) {
      const c = choosePolicy(role([onCallRule]), facts('alice@example.com', at));
      assert.ok(c.kind === 'chosen');
      assert.equal(c.rule, undefined, what);
      assert.deepEqual(c.policy, OWNERS, what);
      assert.equal(c.onCall, undefined, what);
    }
    // The shift that just ended belongs to Bob: at T he is no longer on call.
    const handover = choosePolicy(role([onCallRule]), facts('bob@example.com', T));
    assert.ok(handover.kind === 'chosen');
    assert.equal(handover.rule, undefined);
    assert.equal(handover.verdicts[0]!.why, 'not on call in PagerDuty schedule P1PAYMT');
  });

  test('access given on call ends with the shift when the duration asked runs longer', () => {
    assert.equal(grantEnd(T + H, 4 * H, T + 8 * H), T + 5 * H, 'the duration asked ends first');
    assert.equal(grantEnd(T + 6 * H, 4 * H, T + 8 * H), T + 8 * H, 'the shift ends first');
    assert.equal(grantEnd(T + 6 * H, null, T + 8 * H), T + 8 * H, 'permanent, on call: until the shift ends');
    assert.equal(grantEnd(T, 4 * H, null), T + 4 * H, 'not approved on call');
    assert.equal(grantEnd(T, null, null), null);
  });

  test('a PagerDuty outage never auto-approves', () => {
    const down: Known<Roster> = { known: false, why: 'PagerDuty answered 503 while listing who is on call in schedule P1PAYMT' };
    const c = choosePolicy(role([onCallRule]), facts('alice@example.com', T + H, down));
    assert.ok(c.kind === 'chosen');
    assert.deepEqual(c.policy, OWNERS, 'the normal approvers');
    assert.deepEqual(c.unknown, ['whether the requester is on call in PagerDuty schedule P1PAYMT (PagerDuty answered 503 while listing who is on call in schedule P1PAYMT)']);
    // Nor when every other way leads to auto-approval: it is not decided, and routing tries again.
    const autoDefault = choosePolicy(role([onCallRule], { kind: 'auto' }), facts('alice@example.com', T + H, down));
    assert.equal(autoDefault.kind, 'undecided');
  });

  test('a roster that cannot name every responder cannot say "not on call"', () => {
    const partial: Roster = { shifts: [], unresolved: 1 };
    const c = choosePolicy(role([onCallRule]), facts('alice@example.com', T + H, { known: true, value: partial }));
    assert.ok(c.kind === 'chosen');
    assert.equal(c.rule, undefined);
    assert.match(c.unknown[0]!, /the email or shift of 1 responder\(s\) on call could not be read/);
  });

  test('on call in any one of the schedules a rule names; the first that says yes is the shift', () => {
    const two: PolicyRule = { ...onCallRule, when: { onCall: { service: 'pagerduty', schedules: ['P0DOWN', 'P1PAYMT'] } } };
    const f = facts('alice@example.com', T + H);
    const both = new Map(f.onCall);
    both.set(onCallKey('pagerduty', 'P0DOWN'), { known: false, why: 'timeout' });
    const c = choosePolicy(role([two]), { ...f, onCall: both });
    assert.ok(c.kind === 'chosen');
    assert.equal(c.rule, 1, 'one schedule that says yes is enough, whatever the other could not say');
    assert.equal(c.onCall?.schedule, 'P1PAYMT');
  });

  test('overlapping shifts of one responder: the one that lasts longest', () => {
    const r: Roster = {
      shifts: [
        { userId: 'PALICE', email: 'alice@example.com', start: T, end: T + 2 * H },
        { userId: 'PALICE', email: 'alice@example.com', start: T - H, end: T + 6 * H },
        { userId: 'PALICE', email: 'alice@example.com', start: T + 6 * H, end: null },
      ],
      unresolved: 0,
    };
    assert.equal(shiftAt(r, 'alice@example.com', T + H)?.end, T + 6 * H);
    assert.equal(shiftAt(r, 'alice@example.com', T + 7 * H)?.end, null, 'a shift with no end does not end');
  });
});
