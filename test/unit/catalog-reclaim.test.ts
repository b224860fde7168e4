/** Catalog `reclaim:` (config/catalog/reclaim.ts): on an application or a role, and what is refused. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseCatalog } from '../../src/config/catalog.js';

const DAY = 86_400_000;

function catalog(app: string, roles: { reclaim?: string; connector?: string }[]): string {
  const lines = roles.map(
    (r, i) =>
      `      - { id: r${i}, name: Role ${i}, grant: { connector: ${r.connector ?? 'okta'}, group: ${r.connector === 'github' ? 'acme/team' : '00g1'} }, durations: [8h], approvers: [owners]${r.reclaim ? `, reclaim: ${r.reclaim}` : ''} }`,
  );
  return `jira: { project: ACC }
applications:
  - id: payments
    name: Payments
    owners: [owner@example.com]
${app ? `    reclaim: ${app}\n` : ''}    roles:
${lines.join('\n')}
`;
}

function parse(app: string, roles: { reclaim?: string; connector?: string }[]) {
  return parseCatalog(catalog(app, roles), { configuredConnectors: undefined });
}

describe('catalog reclaim:', () => {
  test("an application's reclaim applies to its roles; a role's own wins; off opts a role out", () => {
    const r = parse('{ after: 60d, warn: 7d }', [{}, { reclaim: '{ after: 30d, warn: 2d }' }, { reclaim: 'off' }]);
    assert.ok(r.ok, r.ok ? '' : r.errors.join('\n'));
    assert.deepEqual(
      r.catalog.applications[0]!.roles.map((x) => x.reclaim),
      [{ afterMs: 60 * DAY, warnMs: 7 * DAY }, { afterMs: 30 * DAY, warnMs: 2 * DAY }, undefined],
    );
  });

  test('roles without reclaim anywhere are never reclaimed', () => {
    const r = parse('', [{}]);
    assert.ok(r.ok);
    assert.equal(r.catalog.applications[0]!.roles[0]!.reclaim, undefined);
  });

  const refused: [string, string, { reclaim?: string; connector?: string }[], RegExp][] = [
    ['warn as long as after', '{ after: 7d, warn: 7d }', [{}], /^applications\[0\]\.reclaim: warn must be shorter than after .*\(after "7d", warn "7d"\)$/],
    ['warn missing', '{ after: 60d }', [{}], /^applications\[0\]\.reclaim\.warn: required/],
    ['permanent', '{ after: permanent, warn: 7d }', [{}], /^applications\[0\]\.reclaim\.after: "permanent" is not allowed here/],
    ['an unknown key', '{ after: 60d, warn: 7d, notify: x }', [{}], /^applications\[0\]\.reclaim\.notify: unknown key/],
    ['off on an application', 'off', [{}], /^applications\[0\]\.reclaim: off is for a role/],
    [
      'a connector that cannot tell last sign-ins (inherited)',
      '{ after: 60d, warn: 7d }',
      [{ connector: 'github' }],
      /^applications\[0\]\.roles\[0\]\.reclaim: the role's connector github \(GitHub\) cannot tell when a user last signed in, so its access cannot be reclaimed for inactivity \(inherited from applications\[0\]\.reclaim; set reclaim: off on the role to opt out\)/,
    ],
  ];
  for (const [what, app, roles, expected] of refused) {
    test(`refused: ${what}`, () => {
      const r = parse(app, roles);
      assert.ok(!r.ok, 'refused');
      assert.ok(r.errors.some((e) => expected.test(e)), r.errors.join('\n'));
    });
  }
});
