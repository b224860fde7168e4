/**
 * Removal and change requests (domain/removal.ts): what someone holds, whether a removal or a
 * change form is valid, what carrying out a removal did, and how each kind is named.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Catalog, Role } from '../../src/domain/catalog.js';
import { parseDuration } from '../../src/domain/duration.js';
import { describeAsk, holdingsOf, holdingValue, parseHoldingValue, removalOutcome, requestTitle, validateChange, validateRemoval, type Holding } from '../../src/domain/removal.js';

const d = (t: string) => parseDuration(t)!;
const stages = { kind: 'stages' as const, stages: [{ approvers: [{ kind: 'owners' as const }], required: 1 }], fallback: [], escalateTo: [] };
const role = (id: string, name: string, group: string, extra: Partial<Role> = {}): Role => ({ id, name, grant: { connector: 'okta', group }, durations: [d('1h'), d('8h')], approval: stages, ...extra });

const CATALOG: Catalog = {
  jira: { project: 'ACC', issueType: 'Task', transitions: {} },
  applications: [
    {
      id: 'console',
      name: 'Console',
      owners: ['owner@example.com'],
      roles: [
        role('read', 'Read', 'g-read'),
        role('write', 'Write', 'g-write'),
        role('read-too', 'Read too', 'g-read'),
        role('glass', 'Emergency', 'g-glass', { breakGlass: { notify: '#sec', minReasonLength: 10, reviewers: [] } }),
      ],
    },
    { id: 'wiki', name: 'Wiki', owners: [], roles: [role('reader', 'Reader', 'g-wiki')] },
  ],
};

describe('what a person holds', () => {
  test("access-bot's grants first, then the roles whose group the user sync saw them in, each role once", () => {
    const held = holdingsOf(
      CATALOG,
      [{ requestId: 'req_1', jiraKey: 'ACC-1', appId: 'console', roleId: 'write', expiresAt: 5 }],
      [
        { connector: 'okta', groupId: 'g-write' },
        { connector: 'okta', groupId: 'g-wiki' },
        { connector: 'entra', groupId: 'g-read' },
      ],
    );
    assert.deepEqual(
      held.map((h) => [holdingValue(h), h.source]),
      [
        ['console/write', 'grant'],
        ['wiki/reader', 'standing'],
      ],
      'a group of another connector is another group',
    );
  });

  test('a group behind two roles lists both; a grant of a role the catalog dropped is not listed', () => {
    const held = holdingsOf(CATALOG, [{ requestId: 'req_2', jiraKey: null, appId: 'gone', roleId: 'x', expiresAt: null }], [{ connector: 'okta', groupId: 'g-read' }]);
    assert.deepEqual(held.map(holdingValue), ['console/read', 'console/read-too']);
  });

  test('a holding travels as app/role in a select, and nothing else parses', () => {
    assert.deepEqual(parseHoldingValue('console/read'), { appId: 'console', roleId: 'read' });
    for (const bad of [undefined, '', 'console', 'console/read/x', 'Console/read', '../x']) assert.equal(parseHoldingValue(bad), undefined, String(bad));
  });
});

const HELD: Holding[] = [{ appId: 'console', roleId: 'read', appName: 'Console', roleName: 'Read', source: 'standing' }];

describe('a removal form', () => {
  test('a held role and a reason make a removal', () => {
    const v = validateRemoval(CATALOG, { appId: 'console', roleId: 'read', reason: ' moving teams ' }, HELD);
    assert.ok(v.ok);
    assert.equal(v.role.id, 'read');
    assert.equal(v.reason, 'moving teams');
  });

  test('a role not held is refused when the form listed holdings; raised elsewhere it is checked when carried out', () => {
    assert.deepEqual(validateRemoval(CATALOG, { appId: 'console', roleId: 'write', reason: 'moving teams' }, HELD), {
      ok: false,
      errors: { holding: 'You do not hold Console / Write, as far as access-bot knows.' },
    });
    assert.ok(validateRemoval(CATALOG, { appId: 'console', roleId: 'write', reason: 'moving teams' }, undefined).ok);
  });

  test('nothing chosen, a role the catalog dropped, and a missing reason', () => {
    assert.deepEqual(validateRemoval(CATALOG, { appId: undefined, roleId: undefined, reason: '' }, HELD), { ok: false, errors: { holding: 'Choose the access to give up.', reason: 'Give a reason for the request.' } });
    assert.deepEqual(validateRemoval(CATALOG, { appId: 'console', roleId: 'gone', reason: 'moving teams' }, undefined), { ok: false, errors: { holding: 'This application or role is no longer in the catalog.' } });
  });
});

describe('a change form', () => {
  const form = { appId: 'console', roleId: 'read', toRoleId: 'write', durationToken: '8h', reason: 'new duties' };

  test('from a held role to another role of the same application, for a duration it offers', () => {
    const v = validateChange(CATALOG, form, HELD);
    assert.ok(v.ok);
    assert.deepEqual([v.from.id, v.role.id, v.duration.token], ['read', 'write', '8h']);
  });

  test('the same role, a role of the same group, an emergency role, and a role of another application are refused', () => {
    const role = (toRoleId: string) => {
      const v = validateChange(CATALOG, { ...form, toRoleId }, HELD);
      return v.ok ? undefined : v.errors.role;
    };
    assert.equal(role('read'), 'You hold Read already. Choose another role.');
    assert.equal(role('read-too'), 'Read and Read too grant the same group: a change would remove what it grants.');
    assert.equal(role('glass'), 'Emergency access is requested on its own (/access), not as a change.');
    assert.equal(role('reader'), 'This role is not offered for Console. Choose another.');
  });

  test('a duration the new role does not offer', () => {
    assert.deepEqual(validateChange(CATALOG, { ...form, durationToken: 'permanent' }, HELD), { ok: false, errors: { duration: 'This duration is not allowed for Write.' } });
  });
});

describe('what carrying out a removal did', () => {
  test("access-bot's own grant, standing access, or nothing there", () => {
    assert.equal(removalOutcome({ isMember: true, record: { owned: true }, activeGrants: 1 }), 'ended_grant');
    assert.equal(removalOutcome({ isMember: true, record: { owned: false }, activeGrants: 1 }), 'standing', 'a grant over membership that was there before');
    assert.equal(removalOutcome({ isMember: true, record: undefined, activeGrants: 0 }), 'standing');
    assert.equal(removalOutcome({ isMember: false, record: { owned: true }, activeGrants: 1 }), 'not_member');
  });

  test('each kind is named as the record and Slack name it', () => {
    assert.deepEqual(['access', 'removal', 'change'].map((k) => requestTitle(k as 'access')), ['Access request', 'Removal request', 'Change request']);
    const ask = { appName: 'Console', roleName: 'Write', fromRoleName: 'Read', duration: '8 hours' };
    assert.equal(describeAsk({ ...ask, kind: 'access' }), 'Console / Write, 8 hours');
    assert.equal(describeAsk({ ...ask, kind: 'removal', subject: 'Bob Jones' }), 'removal of Console / Write for Bob Jones');
    assert.equal(describeAsk({ ...ask, kind: 'change' }), 'Console: change from Read to Write, 8 hours');
  });
});
