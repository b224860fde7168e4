import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { routedBy, stillListed, viaOf } from '../../src/domain/approval.js';
import type { ApprovalPolicy, StagedPolicy } from '../../src/domain/catalog.js';
import { dueActions, nextTimerAt, type TimerFacts } from '../../src/domain/timers.js';

const H = 3_600_000;
const T0 = 1_800_000_000_000;

function policy(p: Partial<StagedPolicy> = {}): StagedPolicy {
  return { kind: 'stages', stages: [{ approvers: [{ kind: 'email', email: 'dave@example.com' }], required: 1 }], fallback: [], escalateTo: [], ...p };
}

function facts(p: Partial<StagedPolicy>, f: Partial<TimerFacts> = {}): TimerFacts {
  return {
    policy: policy(p),
    createdAt: T0,
    stage: 0,
    stageStartedAt: T0,
    escalatedStage: null,
    approvers: [{ personId: 4, askedAt: T0, decision: null, remindedAt: null }],
    ...f,
  };
}

describe('routing timers', () => {
  const timed = { remindAfterMs: 1 * H, escalateAfterMs: 2 * H, escalateTo: [{ kind: 'email' as const, email: 'carol@example.com' }], timeoutMs: 24 * H };
  const cases: { name: string; f: TimerFacts; now: number; due: ReturnType<typeof dueActions>; next: number | null }[] = [
    { name: 'nothing is due before the first timer', f: facts(timed), now: T0 + H - 1, due: { timeOut: false, remind: [], escalate: false }, next: T0 + H },
    { name: 'an approver who has not acted is reminded after remindAfter', f: facts(timed), now: T0 + H, due: { timeOut: false, remind: [4], escalate: false }, next: T0 + H },
    {
      name: 'an approver is reminded once',
      f: facts(timed, { approvers: [{ personId: 4, askedAt: T0, decision: null, remindedAt: T0 + H }] }),
      now: T0 + H + 1,
      due: { timeOut: false, remind: [], escalate: false },
      next: T0 + 2 * H,
    },
    {
      name: 'an approver who already voted is not reminded',
      f: facts(timed, { approvers: [{ personId: 4, askedAt: T0, decision: 'approve', remindedAt: null }] }),
      now: T0 + H,
      due: { timeOut: false, remind: [], escalate: false },
      next: T0 + 2 * H,
    },
    { name: 'the stage escalates after escalateAfter from its start', f: facts(timed, { approvers: [] }), now: T0 + 2 * H, due: { timeOut: false, remind: [], escalate: true }, next: T0 + 2 * H },
    { name: 'a stage escalates once', f: facts(timed, { approvers: [], escalatedStage: 0 }), now: T0 + 3 * H, due: { timeOut: false, remind: [], escalate: false }, next: T0 + 24 * H },
    {
      name: 'a later stage escalates on its own clock',
      f: facts(timed, { approvers: [], escalatedStage: 0, stage: 1, stageStartedAt: T0 + 5 * H }),
      now: T0 + 7 * H,
      due: { timeOut: false, remind: [], escalate: true },
      next: T0 + 7 * H,
    },
    { name: 'no escalation while the stage is still being routed', f: facts(timed, { approvers: [], stageStartedAt: null }), now: T0 + 3 * H, due: { timeOut: false, remind: [], escalate: false }, next: T0 + 24 * H },
    { name: 'the timeout runs from submission and wins over everything else', f: facts(timed), now: T0 + 24 * H, due: { timeOut: true, remind: [], escalate: false }, next: T0 + H },
    { name: 'a policy without timers has none', f: facts({}), now: T0 + 100 * H, due: { timeOut: false, remind: [], escalate: false }, next: null },
    { name: 'escalateAfter without anyone to escalate to does nothing', f: facts({ escalateAfterMs: H }), now: T0 + 2 * H, due: { timeOut: false, remind: [], escalate: false }, next: null },
  ];
  for (const c of cases) {
    test(c.name, () => {
      assert.deepEqual(dueActions(c.now, c.f), c.due);
      assert.equal(nextTimerAt(c.f), c.next);
    });
  }
});

describe('an approver must still be listed at click time', () => {
  const owners = ['bob@example.com', 'carol@example.com'];
  const stagePolicy = (approvers: StagedPolicy['stages'][number]['approvers'], extra: Partial<StagedPolicy> = {}): ApprovalPolicy => ({
    kind: 'stages',
    stages: [{ approvers, required: 1 }],
    fallback: [],
    escalateTo: [],
    ...extra,
  });
  const cases: { name: string; policy: ApprovalPolicy | undefined; owners?: string[]; approver: { email: string; via: string }; listed: boolean }[] = [
    { name: 'a named approver still named', policy: stagePolicy([{ kind: 'email', email: 'Dave@Example.com' }]), approver: { email: 'dave@example.com', via: 'email' }, listed: true },
    { name: 'a named approver removed from the stage', policy: stagePolicy([{ kind: 'email', email: 'erin@example.com' }]), approver: { email: 'dave@example.com', via: 'email' }, listed: false },
    { name: 'an owner still an owner', policy: stagePolicy([{ kind: 'owners' }]), owners, approver: { email: 'bob@example.com', via: 'owners' }, listed: true },
    { name: 'an owner no longer an owner', policy: stagePolicy([{ kind: 'owners' }]), owners: ['carol@example.com'], approver: { email: 'bob@example.com', via: 'owners' }, listed: false },
    { name: 'owners no longer approve this stage', policy: stagePolicy([{ kind: 'email', email: 'x@example.com' }]), owners, approver: { email: 'bob@example.com', via: 'owners' }, listed: false },
    { name: 'a manager while the stage still asks managers', policy: stagePolicy([{ kind: 'manager' }]), approver: { email: 'm@example.com', via: 'manager' }, listed: true },
    { name: 'a manager after the stage stopped asking managers', policy: stagePolicy([{ kind: 'owners' }]), owners, approver: { email: 'm@example.com', via: 'manager' }, listed: false },
    { name: 'a Slack group member while the group is listed', policy: stagePolicy([{ kind: 'slackGroup', group: 'secops' }]), approver: { email: 's@example.com', via: 'slack-group:secops' }, listed: true },
    { name: 'a member of another Slack group', policy: stagePolicy([{ kind: 'slackGroup', group: 'secops' }]), approver: { email: 's@example.com', via: 'slack-group:it' }, listed: false },
    { name: 'a fallback approver still in the fallback', policy: stagePolicy([{ kind: 'manager' }], { fallback: [{ kind: 'email', email: 'fb@example.com' }] }), approver: { email: 'fb@example.com', via: 'fallback' }, listed: true },
    { name: 'an escalation approver removed from escalateTo', policy: stagePolicy([{ kind: 'manager' }], { escalateTo: [] }), approver: { email: 'esc@example.com', via: 'escalation' }, listed: false },
    {
      name: 'an approver removed from the fallback list by email can no longer decide, even when the list also names manager',
      policy: stagePolicy([{ kind: 'email', email: 'ghost@example.com' }], { fallback: [{ kind: 'manager' }] }),
      approver: { email: 'carol@example.com', via: 'fallback:email' },
      listed: false,
    },
    {
      name: 'an approver removed from escalateTo by email can no longer decide, even when escalateTo also names a Slack group',
      policy: stagePolicy([{ kind: 'email', email: 'dave@example.com' }], { escalateTo: [{ kind: 'slackGroup', group: 'secops' }] }),
      approver: { email: 'carol@example.com', via: 'escalation:email' },
      listed: false,
    },
    {
      name: 'a fallback approver routed as the manager stays listed while the fallback names manager',
      policy: stagePolicy([{ kind: 'email', email: 'ghost@example.com' }], { fallback: [{ kind: 'manager' }] }),
      approver: { email: 'bob@example.com', via: 'fallback:manager' },
      listed: true,
    },
    {
      name: 'an escalation approver routed by a Slack group stays listed only while escalateTo names that group',
      policy: stagePolicy([{ kind: 'email', email: 'dave@example.com' }], { escalateTo: [{ kind: 'slackGroup', group: 'it' }] }),
      approver: { email: 's@example.com', via: 'escalation:slack-group:secops' },
      listed: false,
    },
    {
      name: 'a fallback approver routed by email is still listed when the fallback now lists them as an owner',
      policy: stagePolicy([{ kind: 'manager' }], { fallback: [{ kind: 'owners' }] }),
      owners,
      approver: { email: 'bob@example.com', via: 'fallback:email' },
      listed: true,
    },
    {
      name: 'a stage approver routed as the manager is not vouched for by a manager in the fallback',
      policy: stagePolicy([{ kind: 'owners' }], { fallback: [{ kind: 'manager' }] }),
      owners,
      approver: { email: 'm@example.com', via: 'manager' },
      listed: false,
    },
    {
      name: 'an old fallback row (reference not recorded) stays listed while the fallback names a manager: it may be that person',
      policy: stagePolicy([{ kind: 'email', email: 'ghost@example.com' }], { fallback: [{ kind: 'email', email: 'fb@example.com' }, { kind: 'manager' }] }),
      approver: { email: 'carol@example.com', via: 'fallback' },
      listed: true,
    },
    {
      name: 'an old escalation row is refused when escalateTo names neither them nor any manager or group',
      policy: stagePolicy([{ kind: 'email', email: 'dave@example.com' }], { escalateTo: [{ kind: 'email', email: 'esc2@example.com' }] }),
      approver: { email: 'esc@example.com', via: 'escalation' },
      listed: false,
    },
    { name: 'the role became auto-approved', policy: { kind: 'auto' }, approver: { email: 'dave@example.com', via: 'email' }, listed: false },
    { name: 'the role was removed from the catalog', policy: undefined, approver: { email: 'dave@example.com', via: 'email' }, listed: false },
  ];
  for (const c of cases) {
    test(c.name, () => {
      assert.equal(stillListed({ policy: c.policy, owners: c.owners ?? [] }, 0, c.approver), c.listed);
    });
  }

  test('how a person was routed is recorded per reference and read back, old bare rows included', () => {
    assert.equal(viaOf('stage', { kind: 'email', email: 'x@example.com' }), 'email');
    assert.equal(viaOf('fallback', { kind: 'manager' }), 'fallback:manager');
    assert.equal(viaOf('escalation', { kind: 'slackGroup', group: 'sec' }), 'escalation:slack-group:sec');
    assert.deepEqual(routedBy('escalation:slack-group:sec'), { list: 'escalation', ref: 'slack-group:sec' });
    assert.deepEqual(routedBy('slack-group:fallback'), { list: 'stage', ref: 'slack-group:fallback' });
    assert.deepEqual(routedBy('fallback'), { list: 'fallback', ref: undefined });
    assert.deepEqual(routedBy('owners'), { list: 'stage', ref: 'owners' });
  });
});
