import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { accountProblem, describeAccountProblem, mayAct, type SlackAccount } from '../../src/domain/people.js';

const MEMBER: SlackAccount = { deleted: false, bot: false, restricted: false, ultraRestricted: false, external: false, emailConfirmed: true };
const OFF = { allowGuests: false };
const ON = { allowGuests: true };

describe('whose Slack account may act', () => {
  test('a full member with a confirmed email may act', () => {
    assert.equal(accountProblem(MEMBER, OFF), undefined);
    assert.equal(mayAct(MEMBER, OFF), true);
  });

  test('guests, single-channel guests and Slack Connect users may not act by default', () => {
    assert.equal(accountProblem({ ...MEMBER, restricted: true }, OFF), 'guest');
    assert.equal(accountProblem({ ...MEMBER, restricted: true, ultraRestricted: true }, OFF), 'single_channel_guest');
    assert.equal(accountProblem({ ...MEMBER, external: true }, OFF), 'external');
  });

  test('with guests allowed, guests and Slack Connect users may act', () => {
    for (const a of [{ ...MEMBER, restricted: true }, { ...MEMBER, restricted: true, ultraRestricted: true }, { ...MEMBER, external: true }]) {
      assert.equal(mayAct(a, ON), true, JSON.stringify(a));
    }
  });

  test('deactivated accounts, bots, apps and unconfirmed emails never act, whatever ALLOW_GUESTS says', () => {
    for (const policy of [OFF, ON]) {
      assert.equal(accountProblem({ ...MEMBER, deleted: true }, policy), 'deleted');
      assert.equal(accountProblem({ ...MEMBER, bot: true }, policy), 'bot');
      assert.equal(accountProblem({ ...MEMBER, emailConfirmed: false }, policy), 'unconfirmed_email');
      assert.equal(accountProblem({ ...MEMBER, emailConfirmed: false, restricted: true }, policy), 'unconfirmed_email');
    }
  });

  test('the refusal says what the person may not do, and why', () => {
    assert.equal(describeAccountProblem('guest', 'request'), 'Slack guests cannot request access.');
    assert.equal(describeAccountProblem('external', 'decide'), 'People from outside this organisation (Slack Connect) cannot approve, deny, revoke or review access requests here.');
    assert.match(describeAccountProblem('unconfirmed_email', 'request'), /email address is not confirmed/);
  });
});
