/**
 * Offboarding's rules (domain/offboarding.ts): who counts as gone, how the departure is worded on
 * the record, when a stage must be re-routed, and when a check is too alarming to act on.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describeDeparture, hasLeft, looksLikeMassDeparture, stageCanPass } from '../../src/domain/offboarding.js';

describe('offboarding', () => {
  test('only an active account stays: suspended, deactivated and deleted ones left', () => {
    assert.equal(hasLeft({ state: 'active', detail: 'LOCKED_OUT' }), false);
    for (const state of ['suspended', 'deactivated', 'deleted'] as const) assert.equal(hasLeft({ state }), true, state);
  });

  test('the departure in words, with the IdP\'s own term', () => {
    assert.equal(describeDeparture({ source: 'slack' }), 'left the Slack workspace (deactivated in Slack)');
    assert.equal(describeDeparture({ source: 'idp', connector: 'okta', state: 'deactivated', detail: 'DEPROVISIONED' }), 'was deactivated in okta (DEPROVISIONED)');
    assert.equal(describeDeparture({ source: 'idp', connector: 'google', state: 'suspended' }), 'was suspended in google');
    assert.equal(describeDeparture({ source: 'idp', connector: 'entra', state: 'deleted', detail: 'not found' }), 'was deleted from entra (not found)');
  });

  test('a stage can still pass when its approvals and the approvers still here reach the quorum', () => {
    assert.equal(stageCanPass({ required: 1, approvals: 0, waiting: 1 }), true);
    assert.equal(stageCanPass({ required: 2, approvals: 1, waiting: 1 }), true);
  });

  test('a stage whose only approver left must be re-routed', () => {
    assert.equal(stageCanPass({ required: 1, approvals: 0, waiting: 0 }), false);
    assert.equal(stageCanPass({ required: 2, approvals: 1, waiting: 0 }), false);
  });

  test('most of a large check gone at once is not acted on; a small check always is', () => {
    assert.equal(looksLikeMassDeparture(2, 2), false);
    assert.equal(looksLikeMassDeparture(100, 9), false);
    assert.equal(looksLikeMassDeparture(100, 40), false);
    assert.equal(looksLikeMassDeparture(30, 16), true);
  });
});
