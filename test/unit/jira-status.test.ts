/**
 * Jira statuses as decisions (domain/jiraStatus.ts, config/catalog/statuses.ts): what a status
 * means, what a move asks of a request in each state, and how a refused move is explained.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseCatalog } from '../../src/config/catalog.js';
import type { StatusMeaning } from '../../src/domain/catalog.js';
import { isOwnMove, isUnauthorized, meaningOf, movedBackSentence, refusalClause, statusAction, statusesSaying, type StatusMap } from '../../src/domain/jiraStatus.js';
import { REQUEST_STATES, type RequestState } from '../../src/domain/lifecycle.js';

const STATUSES: StatusMap = { approved: ['Approved by Manager', 'Approved'], denied: ['Rejected'], revoked: ['Access Revoked'], cancelled: ['Declined by User'] };

describe('what a status means (jira.statuses)', () => {
  test('a status is found by name without case or surrounding spaces', () => {
    assert.equal(meaningOf(STATUSES, 'approved by manager'), 'approved');
    assert.equal(meaningOf(STATUSES, ' Approved '), 'approved');
    assert.equal(meaningOf(STATUSES, 'REJECTED'), 'denied');
    assert.equal(meaningOf(STATUSES, 'In Progress'), undefined);
    assert.equal(meaningOf(undefined, 'Approved'), undefined, 'no jira.statuses: statuses mean nothing');
  });

  test("the bot's own transition for a state is done already when the issue is in a status saying the same", () => {
    assert.deepEqual(statusesSaying(STATUSES, 'approved'), ['Approved by Manager', 'Approved']);
    assert.deepEqual(statusesSaying(STATUSES, 'revoked'), ['Access Revoked']);
    assert.deepEqual(statusesSaying(STATUSES, 'active'), [], 'no status means active');
    assert.deepEqual(statusesSaying(undefined, 'denied'), []);
  });
});

describe('what a move asks of a request (statusAction)', () => {
  const expected: Record<StatusMeaning, Partial<Record<RequestState, string>>> = {
    approved: { approved: 'already', active: 'already' },
    denied: { denied: 'already' },
    revoked: { revoking: 'already', revoked: 'already' },
    cancelled: { cancelled: 'already' },
  };
  const acts: Record<StatusMeaning, string> = { approved: 'approve', denied: 'deny', revoked: 'revoke', cancelled: 'cancel' };
  for (const meaning of Object.keys(expected) as StatusMeaning[]) {
    test(`${meaning}: nothing to do where the request already is, the use case's decision elsewhere`, () => {
      for (const state of REQUEST_STATES) {
        assert.equal(statusAction(meaning, state).kind, expected[meaning][state] ?? acts[meaning], `${meaning} on ${state}`);
      }
    });
  }

  test("a move by the bot's own account is its own", () => {
    assert.equal(isOwnMove('712020:bot', '712020:bot'), true);
    assert.equal(isOwnMove('712020:bob', '712020:bot'), false);
    assert.equal(isOwnMove(undefined, '712020:bot'), false, 'an unknown actor is nobody, not the bot');
  });
});

describe('a refused move, explained', () => {
  const clause = (code: string, message = '', state: RequestState = 'pending') => refusalClause('Mallory Evil', { code, message, state });

  test('the brief\'s wording for an outsider: "X is not an approver of this request"', () => {
    assert.equal(clause('not_an_approver', 'You are not an approver of this request at its current stage.'), 'Mallory Evil is not an approver of this request');
    assert.equal(clause('not_an_approver', 'You are no longer an approver of this request: the access catalog changed since you were asked.'), 'Mallory Evil is no longer an approver of this request (the access catalog changed since they were asked)');
  });

  test('each refusal names why', () => {
    assert.equal(clause('self_approval'), 'Mallory Evil is the requester, and nobody approves or denies their own request');
    assert.equal(clause('not_allowed', '', 'active'), 'Mallory Evil is neither the requester nor an approver of this request');
    assert.equal(clause('not_requester'), 'Mallory Evil is not the requester, and only the requester can withdraw a request');
    assert.equal(clause('already_decided', '', 'denied'), 'this request is denied');
    assert.equal(clause('not_active', '', 'pending'), 'this request is waiting for approval');
    assert.equal(clause('unknown_person'), 'access-bot cannot tell who Mallory Evil is: Jira does not share their email address');
    assert.equal(clause('account_guest'), 'Mallory Evil may not act on access requests (a Slack guest)');
  });

  test('admins are alerted when the person may not make the move at all, not when it came too late', () => {
    for (const code of ['not_an_approver', 'self_approval', 'no_longer_listed', 'not_allowed', 'not_requester', 'unknown_person', 'account_guest']) assert.equal(isUnauthorized(code), true, code);
    for (const code of ['already_decided', 'already_voted', 'not_active', 'not_pending']) assert.equal(isUnauthorized(code), false, code);
  });

  test('the comment ends saying where the issue went', () => {
    assert.equal(movedBackSentence('Approved', 'To Do', true), ' The issue was moved back to "To Do".');
    assert.match(movedBackSentence('Approved', 'To Do', false), /^ The workflow offers no transition back to "To Do", so the issue stays in "Approved"/);
  });
});

describe('catalog jira.statuses', () => {
  const parse = (statuses: string) => parseCatalog(`jira:\n  project: ACC\n  statuses:\n${statuses}\napplications:\n  - { id: a, name: A, roles: [{ id: r, name: R, grant: { connector: okta, group: g }, durations: [1h], approval: auto }] }\n`, { configuredConnectors: ['okta'] });

  test('a meaning names a status or a list of them', () => {
    const r = parse('    approved: Approved by Manager\n    denied: [Rejected, Declined]\n');
    assert.ok(r.ok, JSON.stringify(r));
    assert.deepEqual(r.catalog.jira.statuses, { approved: ['Approved by Manager'], denied: ['Rejected', 'Declined'] });
  });

  test('an unknown meaning and an empty name are errors naming the path', () => {
    const r = parse('    aproved: Approved\n    denied: [Rejected, ""]\n');
    assert.equal(r.ok, false);
    assert.deepEqual(!r.ok && r.errors, [
      'jira.statuses.aproved: "aproved" is not something a status can mean (one of approved, denied, revoked, cancelled; did you mean approved?)',
      'jira.statuses.denied[1]: required (Jira status names)',
    ]);
  });

  test('a status means one thing only (compared without case)', () => {
    const r = parse('    denied: Rejected\n    revoked: [Access Revoked, rejected]\n    cancelled: REJECTED\n');
    assert.deepEqual(!r.ok && r.errors, [
      'jira.statuses.revoked[1]: "rejected" already means what jira.statuses.denied says: a status means one thing only',
      'jira.statuses.cancelled: "REJECTED" already means what jira.statuses.denied says: a status means one thing only',
    ]);
  });
});
