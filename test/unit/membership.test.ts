import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { forgetsOwnership, ownsFirstAdd, revokeRemoves, undoNeeds } from '../../src/domain/membership.js';

const OWNED = { owned: true };
const THEIRS = { owned: false };

describe('who still holds a membership', () => {
  test('a membership that was there before the first grant is never ours to remove', () => {
    assert.equal(ownsFirstAdd(true), false);
    assert.equal(ownsFirstAdd(false), true);
    assert.deepEqual(revokeRemoves({ record: THEIRS, otherHolders: 0 }), { remove: false, keptBecause: 'preexisting' });
    assert.equal(undoNeeds({ record: THEIRS, otherHolders: 0 }), 'kept_preexisting');
  });

  test('a revoke with no ownership record removes nothing (never added, or already settled by an overlapping grant)', () => {
    assert.deepEqual(revokeRemoves({ record: undefined, otherHolders: 0 }), { remove: false, keptBecause: 'preexisting' });
    assert.deepEqual(revokeRemoves({ record: undefined, otherHolders: 2 }), { remove: false, keptBecause: 'preexisting' });
  });

  test('a membership another grant still needs is kept when one grant ends', () => {
    assert.deepEqual(revokeRemoves({ record: OWNED, otherHolders: 1 }), { remove: false, keptBecause: 'other_grant' });
    assert.equal(undoNeeds({ record: OWNED, otherHolders: 1 }), 'kept_other_grant');
  });

  test('the last grant of a membership access-bot added removes it', () => {
    assert.deepEqual(revokeRemoves({ record: OWNED, otherHolders: 0 }), { remove: true });
  });

  test('a failed grant with no ownership record sent no add, so there is nothing to undo', () => {
    assert.equal(undoNeeds({ record: undefined, otherHolders: 0 }), 'never_added');
    assert.equal(undoNeeds({ record: undefined, otherHolders: 3 }), 'never_added');
  });

  test('a failed grant whose add may have landed is checked and removed when nobody else holds it', () => {
    assert.equal(undoNeeds({ record: OWNED, otherHolders: 0 }), 'check_and_remove');
  });

  test('the ownership record lives as long as some grant holds the membership', () => {
    assert.equal(forgetsOwnership(0), true);
    assert.equal(forgetsOwnership(1), false);
  });

  test('reclaim and standing access take the membership back whoever added it, unless another grant still needs it', () => {
    assert.deepEqual(revokeRemoves({ record: THEIRS, otherHolders: 0, whoeverAdded: true }), { remove: true });
    assert.deepEqual(revokeRemoves({ record: undefined, otherHolders: 0, whoeverAdded: true }), { remove: true });
    assert.deepEqual(revokeRemoves({ record: undefined, otherHolders: 1, whoeverAdded: true }), { remove: false, keptBecause: 'other_grant' });
  });
});
