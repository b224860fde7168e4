import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseCatalog } from '../../src/config/catalog.js';
import { bundleProgress, catalogNowOf, strictestPolicy, validateBundleSubmission, type PartPolicy } from '../../src/domain/bundle.js';
import type { ApprovalPolicy, ApproverRef, StagedPolicy } from '../../src/domain/catalog.js';
import type { RequestState } from '../../src/domain/lifecycle.js';

const owners: ApproverRef = { kind: 'owners' };
const manager: ApproverRef = { kind: 'manager' };
const email = (e: string): ApproverRef => ({ kind: 'email', email: e });
const group = (g: string): ApproverRef => ({ kind: 'slackGroup', group: g });

function staged(stages: [ApproverRef[], number][], more: Partial<StagedPolicy> = {}): StagedPolicy {
  return { kind: 'stages', stages: stages.map(([approvers, required]) => ({ approvers, required })), fallback: [], escalateTo: [], ...more };
}

const part = (policy: ApprovalPolicy, o: string[] = []): PartPolicy => ({ policy, owners: o });

describe('strictest policy of a bundle', () => {
  test('auto only if every part is auto', () => {
    assert.deepEqual(strictestPolicy([part({ kind: 'auto' }), part({ kind: 'auto' })]), { kind: 'auto' });
    const one = strictestPolicy([part({ kind: 'auto' }), part(staged([[[manager], 1]]))]);
    assert.deepEqual(one, staged([[[manager], 1]]));
  });

  test("a part that denies by policy denies the bundle, with the first such part's reason", () => {
    assert.deepEqual(strictestPolicy([part(staged([[[owners], 1]]), ['a@x.com']), part({ kind: 'deny', reason: 'no contractors' }), part({ kind: 'deny', reason: 'later' })]), {
      kind: 'deny',
      reason: 'no contractors',
    });
  });

  test("the union of stages in part order; owners become each part's own owners", () => {
    const p = strictestPolicy([part(staged([[[manager], 1], [[owners], 1]]), ['bob@x.com']), part(staged([[[owners, group('sec')], 1]]), ['carol@x.com', 'dan@x.com'])]);
    assert.deepEqual(
      p,
      staged([
        [[manager], 1],
        [[email('bob@x.com')], 1],
        [[email('carol@x.com'), email('dan@x.com'), group('sec')], 1],
      ]),
    );
  });

  test('a stage asking exactly the same approvers as an earlier one is asked once, with the larger quorum', () => {
    const p = strictestPolicy([
      part(staged([[[manager], 1], [[owners, group('sec')], 1]]), ['bob@x.com']),
      part(staged([[[manager], 1]])),
      // The same people in another order, named by email rather than owners: still the same set.
      part(staged([[[group('sec'), email('BOB@x.com')], 2]])),
    ]);
    assert.deepEqual(
      p,
      staged([
        [[manager], 1],
        [[email('bob@x.com'), group('sec')], 2],
      ]),
    );
  });

  test('fallback and escalateTo: every part\'s, each once; reminders, escalation and timeout: the shortest', () => {
    const p = strictestPolicy([
      part(staged([[[manager], 1]], { fallback: [email('it@x.com')], remindAfterMs: 4 * 3_600_000, timeoutMs: 3 * 86_400_000 })),
      part(staged([[[owners], 1]], { fallback: [email('it@x.com'), owners], escalateAfterMs: 86_400_000, escalateTo: [email('lead@x.com')], remindAfterMs: 3_600_000 }), ['bob@x.com']),
      part({ kind: 'auto' }),
    ]);
    assert.deepEqual(p, {
      ...staged([
        [[manager], 1],
        [[email('bob@x.com')], 1],
      ]),
      fallback: [email('it@x.com'), email('bob@x.com')],
      escalateTo: [email('lead@x.com')],
      remindAfterMs: 3_600_000,
      escalateAfterMs: 86_400_000,
      timeoutMs: 3 * 86_400_000,
    });
  });

  test('no part needs a timeout: the bundle has none', () => {
    const p = strictestPolicy([part(staged([[[manager], 1]])), part(staged([[[manager], 1]]))]) as StagedPolicy;
    assert.equal(p.timeoutMs, undefined);
    assert.equal(p.remindAfterMs, undefined);
    assert.deepEqual(p.stages, [{ approvers: [manager], required: 1 }]);
  });
});

describe('bundle progress', () => {
  const cases: [string, RequestState, RequestState[], Partial<ReturnType<typeof bundleProgress>>][] = [
    ['the first part in place activates the bundle', 'approved', ['active', 'approved', 'approved'], { activate: true }],
    ['every part in place completes it', 'active', ['active', 'active'], { complete: true }],
    ['one part alone, in place: activated and complete at once', 'approved', ['active', 'active'], { activate: true, complete: true }],
    ['a failed part leaves it incomplete, the others stay', 'active', ['active', 'failed'], {}],
    ['no part could be granted: it fails', 'approved', ['failed', 'failed'], { fail: true }],
    ['a part still on its way keeps it from failing', 'approved', ['failed', 'approved'], {}],
    ['being revoked, a part still holding keeps it from ending', 'revoking', ['revoked', 'revoking'], {}],
    ['being revoked, a stopped part still on its way keeps it from ending', 'revoking', ['revoked', 'approved'], {}],
    ['being revoked, every part settled: it ends', 'revoking', ['revoked', 'failed', 'revoked'], { ended: true }],
  ];
  for (const [rule, bundle, parts, expected] of cases) {
    test(rule, () => {
      assert.deepEqual(bundleProgress(bundle, parts), { activate: false, complete: false, fail: false, ended: false, ...expected });
    });
  }
});

const CATALOG = `jira: { project: ACC }
applications:
  - id: console
    name: Payments console
    owners: [bob@example.com]
    roles:
      - { id: operator, name: Operator, grant: { connector: okta, group: 00g1ops }, durations: [1h, 8h, 1d], approvers: [owners] }
      - { id: admin, name: Admin, grant: { connector: okta, group: 00g1adm }, durations: [1h], breakGlass: { notify: '#sec', minReasonLength: 20 } }
      - id: ruled
        name: Ruled
        grant: { connector: okta, group: 00g1rul }
        durations: [1h, 8h]
        approval:
          rules:
            - { when: { durationOver: 1h }, approvers: [owners] }
          default: { approvers: [manager] }
  - id: pager
    name: PagerDuty
    owners: [carol@example.com]
    roles:
      - { id: responder, name: Responder, grant: { connector: okta, group: 00g1pd }, durations: [8h, 1d, 1h], approvers: [owners, manager] }
      - { id: same, name: Same group, grant: { connector: okta, group: 00g1ops }, durations: [8h], approvers: [owners] }
      - { id: shadow, name: Shadow, grant: { connector: okta, group: 00g1sh }, durations: [2h], approvers: [owners] }
`;

function parse(bundles: string) {
  return parseCatalog(`${CATALOG}bundles:\n${bundles.replace(/^/gm, '  ')}\n`, { configuredConnectors: undefined });
}

function errors(bundles: string): string[] {
  const r = parse(bundles);
  return r.ok ? [] : r.errors;
}

describe('catalog bundles:', () => {
  test('parts, durations every part offers, owners of the parts, and the strictest approval', () => {
    const r = parse(`- { id: oncall, name: On call, parts: [console/operator, pager/responder] }`);
    assert.ok(r.ok, r.ok ? '' : r.errors.join('\n'));
    const b = r.catalog.bundles![0]!;
    assert.deepEqual(b.parts, [
      { appId: 'console', roleId: 'operator' },
      { appId: 'pager', roleId: 'responder' },
    ]);
    assert.deepEqual(b.durations.map((d) => d.token), ['1h', '8h', '1d'], "the first part's order, kept where every part offers it");
    assert.deepEqual(b.owners, ['bob@example.com', 'carol@example.com']);
    assert.equal(b.ownApproval, false);
    assert.deepEqual(b.approval, staged([
      [[email('bob@example.com')], 1],
      [[email('carol@example.com'), manager], 1],
    ]));
  });

  test('its own approval, owners and durations', () => {
    const r = parse(`- id: oncall
  name: On call
  parts: [console/operator, pager/responder]
  owners: [lead@example.com]
  durations: [8h]
  approval: { approvers: [owners], timeout: 1d }`);
    assert.ok(r.ok, r.ok ? '' : r.errors.join('\n'));
    const b = r.catalog.bundles![0]!;
    assert.equal(b.ownApproval, true);
    assert.deepEqual(b.approval, staged([[[owners], 1]], { timeoutMs: 86_400_000 }));
    assert.deepEqual(b.owners, ['lead@example.com']);
    assert.deepEqual(b.durations.map((d) => d.token), ['8h']);
  });

  const refused: [string, string, string[]][] = [
    ['an unknown role, with a suggestion', `- { id: b, name: B, parts: [console/operater, pager/responder] }`, ['bundles[0].parts[0]: Payments console has no role "operater"; did you mean operator?']],
    ['an unknown application', `- { id: b, name: B, parts: [consol/operator, pager/responder] }`, ['bundles[0].parts[0]: no application "consol" in the catalog; did you mean console?']],
    ['not app/role', `- { id: b, name: B, parts: [console, pager/responder] }`, ['bundles[0].parts[0]: "console" is not a part (an application id and a role id, e.g. payments-console/operator)']],
    ['one part', `- { id: b, name: B, parts: [console/operator] }`, ['bundles[0].parts: a bundle has at least two parts (one role alone is requested as itself)']],
    ['a part twice', `- { id: b, name: B, parts: [console/operator, console/operator] }`, ['bundles[0].parts[1]: "console/operator" is listed twice']],
    ['two parts granting one group', `- { id: b, name: B, parts: [console/operator, pager/same] }`, ['bundles[0].parts[1]: grants the same okta group as console/operator (00g1ops)']],
    ['a break-glass part', `- { id: b, name: B, parts: [console/admin, pager/responder] }`, ['bundles[0].parts[0]: console/admin is a break-glass role, which is never part of a bundle (it has its own alert and review)']],
    [
      'a part with approval rules, without an approval of its own',
      `- { id: b, name: B, parts: [console/ruled, pager/responder] }`,
      ['bundles[0].parts[0]: console/ruled chooses its approval by rules, which a bundle cannot combine: give the bundle its own approval:'],
    ],
    ['a duration a part does not offer', `- { id: b, name: B, parts: [console/operator, pager/responder], durations: [8h, 4h] }`, ['bundles[0].durations[1]: 4h is not offered by console/operator (it offers 1h, 8h, 1d)']],
    ['no duration in common', `- { id: b, name: B, parts: [console/operator, pager/shadow] }`, ['bundles[0].durations: required: its parts offer no duration in common (list durations: that every part offers)']],
    ["an application's id", `- { id: console, name: B, parts: [console/operator, pager/responder] }`, ['bundles[0].id: "console" is already an application\'s id (bundles and applications share the /access menu)']],
    ['an unknown key', `- { id: b, name: B, parts: [console/operator, pager/responder], aprovers: [owners] }`, ['bundles[0].aprovers: unknown key (did you mean approvers?)']],
    ['rules on its approval', `- { id: b, name: B, parts: [console/operator, pager/responder], approval: { rules: [] } }`, ["bundles[0].approval.rules: a bundle's approval has no rules (give it approvers: or stages:, or leave approval out for the strictest of its parts')"]],
  ];
  for (const [what, yaml, expected] of refused) {
    test(`refused: ${what}`, () => {
      assert.deepEqual(errors(yaml), expected);
    });
  }

  test('refused: two bundles with one id', () => {
    assert.deepEqual(errors(`- { id: b, name: B, parts: [console/operator, pager/responder] }\n- { id: b, name: C, parts: [console/operator, pager/responder] }`), ['bundles[1].id: "b" is already used by bundles[0]']);
  });

  test('a bundle request answers, at click time, to the bundle as the catalog has it now', () => {
    const r = parse(`- { id: oncall, name: On call, parts: [console/operator, pager/responder] }`);
    assert.ok(r.ok);
    const now = catalogNowOf(r.catalog, { appId: 'oncall', roleId: 'bundle', policy: { kind: 'auto' }, bundleParts: [] });
    assert.deepEqual(now, { policy: r.catalog.bundles![0]!.approval, owners: ['bob@example.com', 'carol@example.com'] });
    assert.deepEqual(catalogNowOf(r.catalog, { appId: 'gone', roleId: 'bundle', policy: { kind: 'auto' }, bundleParts: [] }), { policy: undefined, owners: [] });
  });

  test('the request form: a bundle is requested whole, for one of its durations', () => {
    const r = parse(`- { id: oncall, name: On call, parts: [console/operator, pager/responder], durations: [8h] }`);
    assert.ok(r.ok);
    const ok = validateBundleSubmission(r.catalog, { appId: 'bundle:oncall', roleId: 'bundle', durationToken: '8h', reason: 'on call this week' });
    assert.ok(ok.ok);
    assert.deepEqual(ok.parts.map((p) => [p.appName, p.roleName, p.connector, p.group]), [
      ['Payments console', 'Operator', 'okta', '00g1ops'],
      ['PagerDuty', 'Responder', 'okta', '00g1pd'],
    ]);
    const bad = validateBundleSubmission(r.catalog, { appId: 'bundle:oncall', roleId: 'operator', durationToken: '1h', reason: '' });
    assert.deepEqual(bad, {
      ok: false,
      errors: { role: 'A bundle is requested whole: choose "All 2 parts".', duration: 'This duration is not allowed for On call.', reason: 'Give a reason for the request.' },
    });
    assert.deepEqual(validateBundleSubmission(r.catalog, { appId: 'bundle:nope', roleId: 'bundle', durationToken: '8h', reason: 'on call this week' }), {
      ok: false,
      errors: { application: 'This bundle is no longer in the catalog. Choose another.' },
    });
  });
});
