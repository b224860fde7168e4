import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assertMayDecide, canAcknowledge, canRevoke, decide, eligibleApprovers, type CatalogNow, type DecisionInput, type Person, type ReviewFacts, type StageFacts } from '../../src/domain/approval.js';
import type { ApproverRef } from '../../src/domain/catalog.js';
import { DomainError, type DomainErrorCode } from '../../src/domain/errors.js';
import { REQUEST_STATES } from '../../src/domain/lifecycle.js';
import { countPeople, samePerson, type PersonRef } from '../../src/domain/people.js';

const REQUESTER = 'U_REQ';
const slack = (slackId: string): PersonRef => ({ slackId });

/** Stage facts with people given by Slack id, as most cases here are Slack users. */
function stage(over: Partial<Omit<StageFacts, 'approvers' | 'approvals'>> & { approvers?: (string | PersonRef)[]; approvals?: (string | PersonRef)[] } = {}): StageFacts {
  const ref = (p: string | PersonRef) => (typeof p === 'string' ? slack(p) : p);
  const { approvers = ['U_A', 'U_B', 'U_C'], approvals = [], ...rest } = over;
  return { index: 0, count: 1, required: 1, ...rest, approvers: approvers.map(ref), approvals: approvals.map(ref) };
}

function input(over: Partial<Omit<DecisionInput, 'requester' | 'actor'>> & { requesterSlackId?: string; actorSlackId?: string; requester?: PersonRef; actor?: PersonRef } = {}): DecisionInput {
  const { requesterSlackId = REQUESTER, actorSlackId = 'U_A', requester, actor, ...rest } = over;
  return { state: 'pending', stage: stage(), decision: 'approve', ...rest, requester: requester ?? slack(requesterSlackId), actor: actor ?? slack(actorSlackId) };
}

function refusedWith(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof DomainError, `expected a DomainError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a refusal, the decision went through');
}

function code(fn: () => unknown): DomainErrorCode {
  return refusedWith(fn).code;
}

describe('who may decide', () => {
  test('requester cannot approve own request, even when listed as an approver', () => {
    const listed = stage({ approvers: [REQUESTER, 'U_A'] });
    const err = refusedWith(() => decide(input({ stage: listed, actorSlackId: REQUESTER })));
    assert.equal(err.code, 'self_approval');
    assert.equal(err.message, 'You cannot approve or deny your own request.');
  });

  test('requester cannot deny own request either', () => {
    const listed = stage({ approvers: [REQUESTER, 'U_A'] });
    assert.equal(code(() => decide(input({ stage: listed, actorSlackId: REQUESTER, decision: 'deny' }))), 'self_approval');
  });

  test('the requester is refused before anything is counted, also at the deny-reason modal', () => {
    const listed = stage({ approvers: [REQUESTER], required: 1 });
    assert.equal(code(() => assertMayDecide({ state: 'pending', requester: slack(REQUESTER), stage: listed, actor: slack(REQUESTER) })), 'self_approval');
  });

  test('the submitter cannot approve a request they made on someone\'s behalf, even when routed', () => {
    const listed = stage({ approvers: ['U_SUB', 'U_A'] });
    for (const decision of ['approve', 'deny'] as const) {
      const err = refusedWith(() => decide(input({ stage: listed, actorSlackId: 'U_SUB', submitter: { slackId: 'U_SUB' }, decision })));
      assert.equal(err.code, 'submitter_approval');
      assert.equal(err.message, "You asked for this access on the requester's behalf, so you cannot approve or deny it.");
    }
  });

  test('the subject of a request made on their behalf cannot approve it (they are its requester)', () => {
    const listed = stage({ approvers: [REQUESTER, 'U_A'] });
    assert.equal(code(() => decide(input({ stage: listed, actorSlackId: REQUESTER, submitter: { slackId: 'U_SUB' } }))), 'self_approval');
  });

  test('another approver decides a request made on someone\'s behalf as any other', () => {
    assert.deepEqual(decide(input({ actorSlackId: 'U_A', submitter: { slackId: 'U_SUB', email: 'sub@example.com' } })), { kind: 'approved' });
  });

  test('someone not routed to the current stage cannot decide', () => {
    for (const decision of ['approve', 'deny'] as const) {
      const err = refusedWith(() => decide(input({ actorSlackId: 'U_STRANGER', decision })));
      assert.equal(err.code, 'not_an_approver');
      assert.equal(err.message, 'You are not an approver of this request at its current stage.');
    }
  });

  test("an approver of another stage cannot decide this one (the stage's own list is what counts)", () => {
    const second = stage({ index: 1, count: 2, approvers: ['U_SEC'] });
    assert.equal(code(() => decide(input({ stage: second, actorSlackId: 'U_A' }))), 'not_an_approver');
  });

  test('an approver cannot vote twice in a stage, and cannot turn an approval into a deny', () => {
    const voted = stage({ required: 2, approvals: ['U_A'] });
    for (const decision of ['approve', 'deny'] as const) {
      const err = refusedWith(() => decide(input({ stage: voted, actorSlackId: 'U_A', decision })));
      assert.equal(err.code, 'already_voted');
    }
  });

  const notPending = REQUEST_STATES.filter((s) => s !== 'pending');
  for (const state of notPending) {
    test(`a click on a request that is ${state} changes nothing and says so`, () => {
      const err = refusedWith(() => decide(input({ state })));
      assert.equal(err.code, 'already_decided');
      assert.deepEqual(err.details, { state });
    });
  }

  test('the explanation of an already decided request names who decided, when known', () => {
    assert.equal(refusedWith(() => decide(input({ state: 'denied', decidedBy: 'Bob (bob@example.com)' }))).message, 'This request was already denied by Bob (bob@example.com).');
    assert.equal(refusedWith(() => decide(input({ state: 'timed_out' }))).message, 'This request is already timed out.');
  });

  test('a decided request is explained as decided whoever clicks, the requester included', () => {
    assert.equal(code(() => decide(input({ state: 'approved', actorSlackId: REQUESTER }))), 'already_decided');
    assert.equal(code(() => decide(input({ state: 'approved', actorSlackId: 'U_STRANGER' }))), 'already_decided');
  });

  test('assertMayDecide lets a routed approver through without deciding', () => {
    assert.equal(assertMayDecide({ state: 'pending', requester: slack(REQUESTER), stage: stage(), actor: slack('U_B') }), undefined);
  });
});

describe('what a decision does', () => {
  test('one approval in a single-stage policy approves the request', () => {
    assert.deepEqual(decide(input()), { kind: 'approved' });
  });

  test('quorum counts distinct approvers', () => {
    const quorum = stage({ required: 2 });
    assert.deepEqual(decide(input({ stage: quorum, actorSlackId: 'U_A' })), { kind: 'vote_recorded', approvals: 1, required: 2 });
    // The same person again is refused, not counted a second time.
    const afterA = stage({ required: 2, approvals: ['U_A'] });
    assert.equal(code(() => decide(input({ stage: afterA, actorSlackId: 'U_A' }))), 'already_voted');
    assert.deepEqual(decide(input({ stage: afterA, actorSlackId: 'U_B' })), { kind: 'approved' });
  });

  test('a quorum of three needs three different people', () => {
    const q3 = (approvals: string[]) => stage({ required: 3, approvals });
    assert.deepEqual(decide(input({ stage: q3([]), actorSlackId: 'U_A' })), { kind: 'vote_recorded', approvals: 1, required: 3 });
    assert.deepEqual(decide(input({ stage: q3(['U_A']), actorSlackId: 'U_B' })), { kind: 'vote_recorded', approvals: 2, required: 3 });
    assert.deepEqual(decide(input({ stage: q3(['U_A', 'U_B']), actorSlackId: 'U_C' })), { kind: 'approved' });
  });

  test(
    'a duplicated approval in the stage facts counts once',
    () => {
      const dup = stage({ required: 3, approvals: ['U_A', 'U_A'] });
      assert.deepEqual(decide(input({ stage: dup, actorSlackId: 'U_B' })), { kind: 'vote_recorded', approvals: 2, required: 3 });
    },
  );

  test('quorum in a stage that is not the last passes the request to the next stage', () => {
    const first = stage({ index: 0, count: 3 });
    assert.deepEqual(decide(input({ stage: first })), { kind: 'stage_passed', nextStage: 1 });
    const middle = stage({ index: 1, count: 3, required: 2, approvals: ['U_B'] });
    assert.deepEqual(decide(input({ stage: middle, actorSlackId: 'U_A' })), { kind: 'stage_passed', nextStage: 2 });
  });

  test('quorum in the last stage approves the request', () => {
    const last = stage({ index: 2, count: 3 });
    assert.deepEqual(decide(input({ stage: last })), { kind: 'approved' });
  });

  const denyCases: [string, StageFacts][] = [
    ['the only stage', stage()],
    ['the first of two stages', stage({ index: 0, count: 2 })],
    ['the last of two stages', stage({ index: 1, count: 2 })],
    ['a stage one vote short of its quorum', stage({ required: 3, approvals: ['U_B', 'U_C'] })],
  ];
  for (const [where, facts] of denyCases) {
    test(`a deny in any stage ends the request: ${where}`, () => {
      assert.deepEqual(decide(input({ stage: facts, actorSlackId: 'U_A', decision: 'deny' })), { kind: 'denied' });
    });
  }
});

describe('who is asked (eligibleApprovers)', () => {
  const ann: Person = { slackId: 'U_ANN', email: 'ann@example.com', name: 'Ann' };
  const bob: Person = { slackId: 'U_BOB', email: 'bob@example.com', name: 'Bob' };
  const cat: Person = { slackId: 'U_CAT', email: 'cat@example.com' };

  test('the requester is never asked, matched by Slack id', () => {
    assert.deepEqual(eligibleApprovers([ann, bob], [{ slackId: 'U_ANN' }], []), [bob]);
  });

  test('the requester is never asked, matched by email in any case', () => {
    const annElsewhere: Person = { slackId: 'U_ANN_2', email: 'Ann@Example.COM' };
    assert.deepEqual(eligibleApprovers([annElsewhere, bob], [{ slackId: 'U_REQ', email: 'ann@example.com' }], []), [bob]);
  });

  test('without the requester email, only the Slack id excludes them', () => {
    assert.deepEqual(eligibleApprovers([ann, bob], [{ slackId: 'U_REQ' }], []), [ann, bob]);
  });

  test('one person never satisfies two stages', () => {
    // Bob approved stage 1 and is also listed for stage 2: stage 2 asks only the others.
    assert.deepEqual(eligibleApprovers([bob, cat], [{ slackId: 'U_REQ' }], [slack('U_BOB')]), [cat]);
    // And if he clicks an old stage-2 button anyway, he is not an approver of stage 2.
    const stage2 = stage({ index: 1, count: 2, approvers: ['U_CAT'] });
    assert.equal(code(() => decide(input({ stage: stage2, actorSlackId: 'U_BOB' }))), 'not_an_approver');
  });

  test('a stage whose only approver already approved an earlier stage resolves to nobody', () => {
    assert.deepEqual(eligibleApprovers([bob], [{ slackId: 'U_REQ' }], [slack('U_BOB')]), []);
  });

  test('whoever asked on the requester\'s behalf is never asked either', () => {
    // Ann asked for the requester (her report); she is also the manager the stage names.
    assert.deepEqual(eligibleApprovers([ann, bob], [{ slackId: 'U_REQ' }, { slackId: 'U_SUB', email: 'ann@example.com' }], []), [bob]);
  });

  test('a person listed twice (owner and by email) is asked once, in first-listed order', () => {
    const bobAgain: Person = { slackId: 'U_BOB', email: 'bob@example.com' };
    assert.deepEqual(eligibleApprovers([cat, bob, ann, bobAgain], [{ slackId: 'U_REQ' }], []), [cat, bob, ann]);
  });
});

describe('who may revoke an active grant (canRevoke)', () => {
  const catalog = (approvers: ApproverRef[]): CatalogNow => ({ policy: { kind: 'stages', stages: [{ approvers, required: 1 }], fallback: [], escalateTo: [] }, owners: ['bob@example.com'] });
  const bobByOwners = [{ stage: 0, email: 'bob@example.com', via: 'owners' }];

  test('an approver still listed can revoke', () => {
    assert.deepEqual(canRevoke({ actor: slack('U_BOB'), requester: slack(REQUESTER), asApprover: bobByOwners, now: catalog([{ kind: 'owners' }]) }), { ok: true, as: 'approver' });
  });

  test('an approver removed from the catalog cannot revoke', () => {
    const now = { ...catalog([{ kind: 'owners' }]), owners: ['carol@example.com'] };
    assert.deepEqual(canRevoke({ actor: slack('U_BOB'), requester: slack(REQUESTER), asApprover: bobByOwners, now }), { ok: false, code: 'no_longer_listed' });
    assert.deepEqual(canRevoke({ actor: slack('U_BOB'), requester: slack(REQUESTER), asApprover: bobByOwners, now: { policy: undefined, owners: [] } }), { ok: false, code: 'no_longer_listed' });
  });

  test('the requester always may give their own access back, whatever the catalog says', () => {
    assert.deepEqual(canRevoke({ actor: slack(REQUESTER), requester: slack(REQUESTER), asApprover: [], now: { policy: undefined, owners: [] } }), { ok: true, as: 'requester' });
  });

  test('someone never routed to the request cannot revoke, even when the catalog lists them now', () => {
    assert.deepEqual(canRevoke({ actor: slack('U_BOB'), requester: slack(REQUESTER), asApprover: [], now: catalog([{ kind: 'owners' }]) }), { ok: false, code: 'not_allowed' });
  });

  test('an owner of the application, as the catalog lists them now, may revoke whether routed or not', () => {
    const owner = { slackId: 'U_BOB', email: 'Bob@Example.com' };
    assert.deepEqual(canRevoke({ actor: owner, requester: slack(REQUESTER), asApprover: [], now: catalog([{ kind: 'email', email: 'carol@example.com' }]) }), { ok: true, as: 'owner' });
    assert.deepEqual(canRevoke({ actor: owner, requester: slack(REQUESTER), asApprover: [], now: { policy: undefined, owners: ['carol@example.com'] } }), { ok: false, code: 'not_allowed' });
  });

  test('an approver asked in two stages may revoke while either still lists them', () => {
    const twice = [
      { stage: 0, email: 'bob@example.com', via: 'email' },
      { stage: 1, email: 'bob@example.com', via: 'owners' },
    ];
    const now: CatalogNow = {
      policy: { kind: 'stages', stages: [{ approvers: [{ kind: 'manager' }], required: 1 }, { approvers: [{ kind: 'owners' }], required: 1 }], fallback: [], escalateTo: [] },
      owners: ['bob@example.com'],
    };
    assert.deepEqual(canRevoke({ actor: slack('U_BOB'), requester: slack(REQUESTER), asApprover: twice, now }), { ok: true, as: 'approver' });
  });
});

describe('who may acknowledge a break-glass review (canAcknowledge)', () => {
  const facts = (over: Partial<ReviewFacts> = {}): ReviewFacts => ({
    requester: { slackId: REQUESTER, email: 'alice@example.com' },
    actor: { slackId: 'U_CAROL', email: 'carol@example.com' },
    reviewers: [{ kind: 'owners' }],
    owners: ['bob@example.com', 'carol@example.com'],
    actorGroups: [],
    ...over,
  });

  test("only a configured reviewer's acknowledgement counts", () => {
    assert.equal(canAcknowledge(facts()), true, 'an owner, by default');
    assert.equal(canAcknowledge(facts({ actor: { slackId: 'U_DAVE', email: 'dave@example.com' } })), false, 'not an owner');
    assert.equal(canAcknowledge(facts({ reviewers: [{ kind: 'email', email: 'Dave@Example.com' }], actor: { slackId: 'U_DAVE', email: 'dave@example.com' } })), true);
    assert.equal(canAcknowledge(facts({ reviewers: [{ kind: 'email', email: 'dave@example.com' }] })), false, 'owners are not reviewers when reviewers are listed');
    assert.equal(canAcknowledge(facts({ actor: { slackId: 'U_CAROL' } })), false, 'no email, no match');
  });

  test('a member of a listed Slack group, or the requester\'s manager when listed, may acknowledge', () => {
    const group = facts({ reviewers: [{ kind: 'slackGroup', group: 'security' }] });
    assert.equal(canAcknowledge(group), false);
    assert.equal(canAcknowledge({ ...group, actorGroups: ['security'] }), true);
    const manager = facts({ reviewers: [{ kind: 'manager' }] });
    assert.equal(canAcknowledge(manager), false);
    assert.equal(canAcknowledge({ ...manager, managerEmail: 'CAROL@example.com' }), true);
  });

  test('the requester cannot acknowledge their own emergency access, even as a reviewer, by Slack id or by email', () => {
    const asOwner = facts({ owners: ['alice@example.com'], actor: { slackId: REQUESTER, email: 'alice@example.com' } });
    assert.equal(canAcknowledge(asOwner), false);
    assert.equal(canAcknowledge({ ...asOwner, actor: { slackId: 'U_ALICE_2', email: 'Alice@example.com' } }), false);
  });

  test('a role gone from the catalog has no reviewers', () => {
    assert.equal(canAcknowledge(facts({ reviewers: [] })), false);
  });
});

describe('people, not Slack ids: the rules compare persons whatever surface they came from', () => {
  // Ann requested in Slack; her email was learned later. Bob is routed by email.
  const annInSlack: PersonRef = { id: 1, slackId: 'U_ANN', email: 'ann@example.com' };
  const bob: PersonRef = { id: 2, slackId: 'U_BOB', email: 'bob@example.com' };
  const dee: PersonRef = { id: 3, email: 'dee@example.com' };

  test('no self-approval: the requester deciding under another identity (email only, as from Jira) is refused', () => {
    const listed = stage({ approvers: [annInSlack, bob] });
    assert.equal(code(() => decide(input({ stage: listed, requester: annInSlack, actor: { email: 'Ann@Example.com' } }))), 'self_approval');
    assert.equal(code(() => decide(input({ stage: listed, requester: annInSlack, actor: { id: 1 } }))), 'self_approval');
  });

  test('no self-approval: a requester known by Slack id alone is still matched by Slack id before her email is learned', () => {
    const listed = stage({ approvers: [{ id: 9, slackId: 'U_ANN', email: 'ann@example.com' }] });
    assert.equal(code(() => decide(input({ stage: listed, requester: { id: 1, slackId: 'U_ANN' }, actor: { id: 9, slackId: 'U_ANN', email: 'ann@example.com' } }))), 'self_approval');
  });

  test('one vote per person: an approval cast in Slack is the same vote as one from the same person by email', () => {
    const voted = stage({ required: 2, approvers: [bob, dee], approvals: [bob] });
    assert.equal(code(() => decide(input({ stage: voted, requester: annInSlack, actor: { email: 'bob@example.com' } }))), 'already_voted');
  });

  test('quorum counts people: two references to one person are one approval', () => {
    assert.equal(countPeople([bob, { email: 'BOB@example.com' }, { id: 2 }]), 1);
    const dup = stage({ required: 3, approvers: [bob, dee], approvals: [bob, { email: 'bob@example.com' }] });
    assert.deepEqual(decide(input({ stage: dup, requester: annInSlack, actor: dee })), { kind: 'vote_recorded', approvals: 2, required: 3 });
  });

  test('someone who is not a Slack user can be a routed approver and decide', () => {
    const only = stage({ approvers: [dee] });
    assert.deepEqual(decide(input({ stage: only, requester: annInSlack, actor: { id: 3 } })), { kind: 'approved' });
  });

  test('a stranger sharing no identity is not an approver', () => {
    assert.equal(code(() => decide(input({ stage: stage({ approvers: [bob] }), requester: annInSlack, actor: { id: 4, email: 'eve@example.com', slackId: 'U_EVE' } }))), 'not_an_approver');
  });

  test('one person never satisfies two stages, whichever identity the earlier approval was recorded under', () => {
    const bobCandidate: Person = { slackId: 'U_BOB', email: 'bob@example.com' };
    const cat: Person = { slackId: 'U_CAT', email: 'cat@example.com' };
    assert.deepEqual(eligibleApprovers([bobCandidate, cat], [annInSlack], [{ id: 2, email: 'bob@example.com' }]), [cat]);
  });

  test('samePerson: any shared identity makes one person; absent identities never match', () => {
    assert.equal(samePerson({ id: 1 }, { id: 1 }), true);
    assert.equal(samePerson({ atlassianAccountId: 'acc-1' }, { atlassianAccountId: 'acc-1', email: 'x@example.com' }), true);
    assert.equal(samePerson({}, {}), false);
    assert.equal(samePerson({ email: null, slackId: null }, { email: null, slackId: null }), false);
    assert.equal(samePerson({ id: 1, email: 'a@example.com' }, { id: 2, email: 'b@example.com' }), false);
  });
});
