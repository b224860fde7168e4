/** Who may request access for someone else (domain/onBehalf.ts): their manager, or a listed delegate. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { delegateCovers, describeOnBehalfRefusal, onBehalfBasis, type Delegate } from '../../src/domain/onBehalf.js';

const HELPDESK: Delegate = { email: 'helpdesk@example.com', for: 'all', applications: ['wiki'] };
const EVE: Delegate = { email: 'eve@example.com', for: ['alice@example.com', 'bob@example.com'], applications: 'all' };
const facts = (submitterEmail: string, subjectEmail: string, appId = 'okta-console', managerEmail?: string) => ({
  submitterEmail,
  subjectEmail,
  appId,
  delegates: [HELPDESK, EVE],
  ...(managerEmail ? { managerEmail } : {}),
});

describe('who may request for someone else', () => {
  test("the subject's manager may, for any application", () => {
    assert.equal(onBehalfBasis(facts('carol@example.com', 'alice@example.com', 'okta-console', 'carol@example.com')), 'manager');
  });

  test('the manager is matched by email in any case', () => {
    assert.equal(onBehalfBasis(facts('Carol@Example.com', 'alice@example.com', 'okta-console', 'carol@EXAMPLE.com')), 'manager');
  });

  test('a delegate listed for the subject may, in the applications listed', () => {
    assert.equal(onBehalfBasis(facts('eve@example.com', 'Alice@example.com')), 'delegate');
    assert.equal(onBehalfBasis(facts('helpdesk@example.com', 'zoe@example.com', 'wiki')), 'delegate');
  });

  test('a delegate may not for someone not listed, nor in another application', () => {
    assert.equal(onBehalfBasis(facts('eve@example.com', 'dave@example.com')), undefined);
    assert.equal(onBehalfBasis(facts('helpdesk@example.com', 'zoe@example.com', 'okta-console')), undefined);
  });

  test('anyone else may not: not their manager, and no delegate entry names them', () => {
    assert.equal(onBehalfBasis(facts('bob@example.com', 'alice@example.com', 'okta-console', 'carol@example.com')), undefined);
    // No manager recorded (or not looked up): only the delegate list can allow it.
    assert.equal(onBehalfBasis(facts('bob@example.com', 'alice@example.com')), undefined);
  });

  test('a delegate is recognised without the manager being looked up', () => {
    assert.equal(delegateCovers([EVE], { submitterEmail: 'eve@example.com', subjectEmail: 'bob@example.com', appId: 'anything' }), true);
    assert.equal(delegateCovers([], { submitterEmail: 'eve@example.com', subjectEmail: 'bob@example.com', appId: 'anything' }), false);
  });

  test('the refusal names the manager source and says how to request for oneself', () => {
    assert.equal(
      describeOnBehalfRefusal('Alice Smith', 'okta'),
      'You may not request access for Alice Smith: only their manager (as okta records it) or a delegate listed in the access catalog may. Leave this empty to request for yourself.',
    );
    assert.match(describeOnBehalfRefusal('Alice Smith', undefined), /only their manager or a delegate/);
  });
});
