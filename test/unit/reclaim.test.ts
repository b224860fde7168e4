/**
 * Inactivity reclaim's rules (domain/reclaim.ts): when access counts as unused, when its holder is
 * warned, how long the grace lasts, what calls it off, and who may keep it.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { idleSince, keepRefusal, reclaimPolicyProblem, reclaimVerdict, type ReclaimFacts } from '../../src/domain/reclaim.js';

const DAY = 86_400_000;
const T = Date.UTC(2026, 5, 1);
const policy = { afterMs: 60 * DAY, warnMs: 7 * DAY };

function facts(f: Partial<ReclaimFacts>): ReclaimFacts {
  return { policy, lastLoginAt: null, heldSince: { granted: T }, keptAt: null, warnedAt: null, revokeAt: null, now: T, ...f };
}

describe('reclaim: when access counts as unused', () => {
  test('a grant counts from the grant, however old the last sign-in', () => {
    assert.equal(idleSince(facts({ lastLoginAt: T - 100 * DAY })), T);
  });

  test('a grant counts from a sign-in after it', () => {
    assert.equal(idleSince(facts({ lastLoginAt: T + 3 * DAY })), T + 3 * DAY);
  });

  test('standing access counts from the last sign-in alone, not from when it was first listed', () => {
    assert.equal(idleSince(facts({ heldSince: { firstSeen: T }, lastLoginAt: T - 100 * DAY })), T - 100 * DAY);
  });

  test('standing access of someone who never signed in counts from when it was first listed', () => {
    assert.equal(idleSince(facts({ heldSince: { firstSeen: T }, lastLoginAt: null })), T);
  });

  test('Keep it starts the count again', () => {
    assert.equal(idleSince(facts({ lastLoginAt: T + DAY, keptAt: T + 10 * DAY })), T + 10 * DAY);
  });
});

describe('reclaim: warning, grace, revocation', () => {
  test('not warned before after - warn', () => {
    assert.deepEqual(reclaimVerdict(facts({ now: T + 53 * DAY - 1 })), { kind: 'none' });
  });

  test('warned at after - warn; removed at after', () => {
    assert.deepEqual(reclaimVerdict(facts({ now: T + 53 * DAY })), { kind: 'warn', idleSince: T, revokeAt: T + 60 * DAY });
  });

  test('a warning sent late still gives the whole grace', () => {
    assert.deepEqual(reclaimVerdict(facts({ now: T + 90 * DAY })), { kind: 'warn', idleSince: T, revokeAt: T + 97 * DAY });
  });

  test('warned and still unused: wait until the removal date, then revoke', () => {
    const warned = { warnedAt: T + 53 * DAY, revokeAt: T + 60 * DAY };
    assert.deepEqual(reclaimVerdict(facts({ ...warned, now: T + 60 * DAY - 1 })), { kind: 'wait' });
    assert.deepEqual(reclaimVerdict(facts({ ...warned, now: T + 60 * DAY })), { kind: 'revoke', idleSince: T });
  });

  test('a sign-in after the warning calls it off', () => {
    assert.deepEqual(reclaimVerdict(facts({ warnedAt: T + 53 * DAY, revokeAt: T + 60 * DAY, lastLoginAt: T + 55 * DAY, now: T + 56 * DAY })), { kind: 'clear', activeAt: T + 55 * DAY });
  });

  test('a sign-in before the warning (the IdP reports late) does not call it off', () => {
    assert.deepEqual(reclaimVerdict(facts({ warnedAt: T + 53 * DAY, revokeAt: T + 60 * DAY, lastLoginAt: T - DAY, now: T + 61 * DAY })), { kind: 'revoke', idleSince: T });
  });

  test('kept access is warned again only after another after - warn unused', () => {
    const kept = { keptAt: T + 55 * DAY };
    assert.deepEqual(reclaimVerdict(facts({ ...kept, now: T + 107 * DAY })), { kind: 'none' });
    assert.equal(reclaimVerdict(facts({ ...kept, now: T + 108 * DAY })).kind, 'warn');
  });
});

describe('reclaim: the policy', () => {
  test('warn must be shorter than after, both longer than zero', () => {
    assert.equal(reclaimPolicyProblem({ afterMs: 60 * DAY, warnMs: 7 * DAY }), undefined);
    assert.match(reclaimPolicyProblem({ afterMs: 7 * DAY, warnMs: 7 * DAY }) ?? '', /warn must be shorter than after/);
    assert.match(reclaimPolicyProblem({ afterMs: 0, warnMs: 0 }) ?? '', /longer than zero/);
  });
});

describe('reclaim: who may keep', () => {
  test('the holder may keep an active, warned grant', () => {
    assert.equal(keepRefusal({ isHolder: true, active: true, warned: true }), undefined);
  });

  test('cannot keep what is not yours', () => {
    assert.equal(keepRefusal({ isHolder: false, active: true, warned: true })?.code, 'not_holder');
  });

  test('cannot keep access that ended', () => {
    assert.equal(keepRefusal({ isHolder: true, active: false, warned: true })?.code, 'not_active');
  });

  test('cannot keep twice: a kept or called-off warning has nothing left to keep', () => {
    assert.equal(keepRefusal({ isHolder: true, active: true, warned: false })?.code, 'not_warned');
  });
});
