import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ApprovalPolicy, PolicyRule, Role, StagedPolicy } from '../../src/domain/catalog.js';
import { choosePolicy, localTime, policyNow, type PolicyFacts } from '../../src/domain/policy.js';

const H = 3_600_000;
/** Tuesday 2026-03-10 10:00 in Paris (09:00 UTC, CET). */
const TUE_10_PARIS = Date.UTC(2026, 2, 10, 9, 0);
/** Tuesday 2026-03-10 21:30 in Paris. */
const TUE_2130_PARIS = Date.UTC(2026, 2, 10, 20, 30);
/** Saturday 2026-03-14 11:00 in Paris. */
const SAT_11_PARIS = Date.UTC(2026, 2, 14, 10, 0);

function stages(...emails: string[]): StagedPolicy {
  return { kind: 'stages', stages: [{ approvers: emails.map((email) => ({ kind: 'email' as const, email })), required: 1 }], fallback: [], escalateTo: [] };
}
const OWNERS: ApprovalPolicy = { kind: 'stages', stages: [{ approvers: [{ kind: 'owners' }], required: 1 }], fallback: [], escalateTo: [] };
const WORKING = { tz: 'Europe/Paris', fromMin: 9 * 60, toMin: 18 * 60, days: ['mon', 'tue', 'wed', 'thu', 'fri'] as const };

function role(rules: PolicyRule[], approval: ApprovalPolicy = OWNERS): Pick<Role, 'approval' | 'rules'> {
  return { approval, rules: { rules, factsFrom: 'okta' } };
}

function facts(f: Partial<PolicyFacts> = {}): PolicyFacts {
  return {
    kind: 'access',
    durationMs: 4 * H,
    now: TUE_10_PARIS,
    groups: { known: true, value: [{ id: '00g-staff', name: 'Staff' }] },
    profile: { known: true, value: { department: 'Engineering', title: 'Developer' } },
    ...f,
  };
}

const contractors: PolicyRule = { name: 'contractors → security review', when: { memberOf: ['Contractors'] }, policy: stages('security@example.com'), notify: ['#security'] };
const afterHours: PolicyRule = { name: 'working hours', when: { hours: { ...WORKING, days: [...WORKING.days] } }, policy: OWNERS, notify: [] };
const onDuty: PolicyRule = { name: 'on-duty lead', when: {}, policy: stages('lead@example.com'), notify: [] };

describe('approval rules (first match wins)', () => {
  test("a contractor's request for Operator goes to security", () => {
    const c = choosePolicy(role([{ ...contractors }]), facts({ groups: { known: true, value: [{ id: '00g-ctr', name: 'contractors' }] } }));
    assert.equal(c.kind, 'chosen');
    assert.ok(c.kind === 'chosen');
    assert.deepEqual(c.policy, { ...stages('security@example.com'), rule: 1 });
    assert.equal(c.label, 'rule 1 (contractors → security review)');
    assert.deepEqual(c.notify, ['#security']);
    assert.equal(c.verdicts[0]!.why, 'member of Contractors');
  });

  test('a request outside working hours goes to the on-duty lead', () => {
    const r = role([afterHours, onDuty]);
    const evening = choosePolicy(r, facts({ now: TUE_2130_PARIS }));
    assert.ok(evening.kind === 'chosen');
    assert.equal(evening.label, 'rule 2 (on-duty lead)');
    assert.match(evening.verdicts[0]!.why, /^tue 21:30 Europe\/Paris is outside 09:00-18:00/);
    const weekend = choosePolicy(r, facts({ now: SAT_11_PARIS }));
    assert.ok(weekend.kind === 'chosen');
    assert.equal(weekend.label, 'rule 2 (on-duty lead)');
    const office = choosePolicy(r, facts({ now: TUE_10_PARIS }));
    assert.ok(office.kind === 'chosen');
    assert.equal(office.label, 'rule 1 (working hours)');
  });

  test('a deny rule refuses with its reason', () => {
    const deny: PolicyRule = { name: 'no permanent for interns', when: { title: ['Intern'], durationOverMs: 8 * H }, policy: { kind: 'deny', reason: 'interns get at most 8 hours' }, notify: [] };
    const intern = facts({ durationMs: null, profile: { known: true, value: { title: 'intern' } } });
    const c = choosePolicy(role([deny]), intern);
    assert.ok(c.kind === 'chosen');
    assert.deepEqual(c.policy, { kind: 'deny', reason: 'interns get at most 8 hours', rule: 1 });
    // The same intern asking for 4 hours meets no rule.
    const short = choosePolicy(role([deny]), { ...intern, durationMs: 4 * H });
    assert.ok(short.kind === 'chosen');
    assert.equal(short.rule, undefined);
  });

  test('no rule matches: the default applies', () => {
    const c = choosePolicy(role([contractors, { name: 'finance', when: { department: ['Finance'] }, policy: { kind: 'auto' }, notify: [] }]), facts());
    assert.ok(c.kind === 'chosen');
    assert.equal(c.rule, undefined);
    assert.equal(c.label, 'default (no rule matched)');
    assert.deepEqual(c.policy, OWNERS);
    assert.deepEqual(
      c.verdicts.map((v) => [v.result, v.why]),
      [
        ['no_match', 'not a member of Contractors'],
        ['no_match', 'department is Engineering, not Finance'],
      ],
    );
  });

  test('an unknown fact never makes a rule match, and the record says which', () => {
    const c = choosePolicy(role([contractors]), facts({ groups: { known: false, why: 'Okta did not answer' } }));
    assert.ok(c.kind === 'chosen');
    assert.equal(c.rule, undefined);
    assert.deepEqual(c.unknown, ['groups unknown (Okta did not answer)']);
  });

  test('an IdP failure never auto-approves past a rule it could not check', () => {
    const c = choosePolicy(role([contractors], { kind: 'auto' }), facts({ groups: { known: false, why: 'Okta did not answer' } }));
    assert.equal(c.kind, 'undecided');
    assert.ok(c.kind === 'undecided');
    assert.match(c.why, /auto-approves, but an earlier rule could not be checked: groups unknown \(Okta did not answer\)/);
  });

  test('a condition known to fail settles a rule even when another fact is unknown', () => {
    const both: PolicyRule = { when: { memberOf: ['Contractors'], durationOverMs: 8 * H }, policy: stages('security@example.com'), notify: [] };
    const c = choosePolicy(role([both], { kind: 'auto' }), facts({ groups: { known: false, why: 'timeout' } }));
    assert.ok(c.kind === 'chosen');
    assert.deepEqual(c.policy, { kind: 'auto' });
    assert.deepEqual(c.unknown, []);
  });

  test('durationOver: permanent is over any duration, the limit itself is not', () => {
    const long: PolicyRule = { when: { durationOverMs: 8 * H }, policy: stages('security@example.com'), notify: [] };
    const pick = (durationMs: number | null) => {
      const c = choosePolicy(role([long]), facts({ durationMs }));
      return c.kind === 'chosen' ? c.rule : 'undecided';
    };
    assert.equal(pick(null), 1);
    assert.equal(pick(8 * H), undefined);
    assert.equal(pick(8 * H + 1000), 1);
  });

  test('working hours across midnight belong to the day they start', () => {
    const night: PolicyRule = { when: { hours: { tz: 'Europe/Paris', fromMin: 22 * 60, toMin: 6 * 60, days: ['fri'] } }, policy: OWNERS, notify: [] };
    const at = (utc: number) => (choosePolicy(role([night], { kind: 'auto' }), facts({ now: utc })) as { rule?: number }).rule;
    assert.equal(at(Date.UTC(2026, 2, 13, 22, 0)), 1, 'Friday 23:00 Paris');
    assert.equal(at(Date.UTC(2026, 2, 14, 3, 0)), 1, 'Saturday 04:00 Paris, the Friday night');
    assert.equal(at(Date.UTC(2026, 2, 15, 3, 0)), undefined, 'Sunday 04:00 Paris');
  });

  test('local time follows the zone, summer time included', () => {
    assert.deepEqual(localTime(Date.UTC(2026, 6, 1, 7, 0), 'Europe/Paris'), { day: 'wed', minutes: 9 * 60 });
    assert.deepEqual(localTime(Date.UTC(2026, 0, 1, 7, 0), 'Europe/Paris'), { day: 'thu', minutes: 8 * 60 });
  });

  test("an approver is re-checked against the rule that routed them, not the role's default", () => {
    const r = role([contractors]);
    assert.deepEqual(policyNow(r as Role, { ...stages('security@example.com'), rule: 1 }), contractors.policy);
    assert.deepEqual(policyNow(r as Role, OWNERS), OWNERS);
    assert.equal(policyNow(role([]) as Role, { ...stages('x@example.com'), rule: 3 }), undefined);
  });
});
