import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Catalog, Role } from '../../src/domain/catalog.js';
import { parseDuration, type Duration } from '../../src/domain/duration.js';
import { MAX_REASON_LENGTH, validateSubmission, type FormField, type Submission } from '../../src/domain/submission.js';

function d(token: string): Duration {
  const parsed = parseDuration(token);
  assert.ok(parsed, `bad fixture duration ${token}`);
  return parsed;
}

const readOnly: Role = {
  id: 'read-only',
  name: 'Read-only',
  grant: { connector: 'okta', group: '00g1readonly' },
  durations: [d('1h'), d('8h'), d('7d'), d('permanent')],
  approval: { kind: 'stages', stages: [{ approvers: [{ kind: 'owners' }], required: 1 }], fallback: [], escalateTo: [] },
};
const superAdmin: Role = {
  id: 'super-admin',
  name: 'Super admin',
  grant: { connector: 'okta', group: '00g1superadm' },
  durations: [d('30m'), d('1h'), d('4h')],
  approval: { kind: 'stages', stages: [{ approvers: [{ kind: 'manager' }], required: 1 }], fallback: [], escalateTo: [] },
};
const breakGlass: Role = {
  id: 'break-glass',
  name: 'Emergency admin',
  grant: { connector: 'entra', group: '6f1c0d2e-0000-4000-8000-000000000001' },
  durations: [d('1h')],
  approval: { kind: 'auto' },
  breakGlass: { notify: '#security-alerts', minReasonLength: 40, reviewers: [{ kind: 'email', email: 'security-lead@example.com' }] },
};
const lowBar: Role = { ...breakGlass, id: 'low-bar', name: 'Low bar', breakGlass: { notify: '#x', minReasonLength: 1, reviewers: [{ kind: 'email', email: 'security-lead@example.com' }] } };
const reader: Role = { id: 'reader', name: 'Reader', grant: { connector: 'google', group: 'wiki-readers@example.com' }, durations: [d('permanent')], approval: { kind: 'auto' } };

const CATALOG: Catalog = {
  jira: { project: 'ACC', issueType: 'Task', transitions: {} },
  applications: [
    { id: 'okta-console', name: 'Okta admin console', owners: ['owner@example.com'], roles: [readOnly, superAdmin] },
    { id: 'wiki', name: 'Company wiki', owners: [], roles: [reader, breakGlass, lowBar] },
  ],
};

const GOOD: Submission = { appId: 'okta-console', roleId: 'read-only', durationToken: '8h', reason: 'on-call this week' };

function errorsOf(s: Partial<Submission>): Partial<Record<FormField, string>> {
  const r = validateSubmission(CATALOG, { ...GOOD, ...s });
  assert.equal(r.ok, false, 'expected the form to be refused');
  return r.ok ? {} : r.errors;
}

describe('a request form is checked against the catalog', () => {
  test('a complete form is accepted with the catalog entries it names and the reason trimmed', () => {
    const r = validateSubmission(CATALOG, { ...GOOD, reason: '  on-call this week \n' });
    assert.ok(r.ok);
    assert.equal(r.app, CATALOG.applications[0]);
    assert.equal(r.role, readOnly);
    assert.deepEqual(r.duration, { token: '8h', ms: 8 * 3_600_000 });
    assert.equal(r.reason, 'on-call this week');
  });

  test('an empty form asks for an application and a reason (role and duration wait for the application)', () => {
    assert.deepEqual(errorsOf({ appId: undefined, roleId: undefined, durationToken: undefined, reason: undefined }), {
      application: 'Choose an application.',
      reason: 'Give a reason for the request.',
    });
  });

  test('an application no longer in the catalog is named as such', () => {
    assert.deepEqual(errorsOf({ appId: 'retired-app' }), { application: 'This application is no longer in the catalog. Choose another.' });
  });

  test('a missing role is asked for', () => {
    assert.deepEqual(errorsOf({ roleId: undefined }), { role: 'Choose a role.' });
  });

  test("a role of another application is not offered for this one", () => {
    assert.deepEqual(errorsOf({ roleId: 'reader' }), { role: 'This role is not offered for Okta admin console. Choose another.' });
  });

  test('a missing duration is asked for', () => {
    assert.deepEqual(errorsOf({ durationToken: undefined }), { duration: 'Choose a duration.' });
  });

  const notListed: [string, string][] = [
    ['a valid duration the role does not list', '8h'],
    ['permanent, when the role does not list it', 'permanent'],
    ['a listed duration written differently (60m for 1h)', '60m'],
    ['garbage', 'soon'],
  ];
  for (const [what, token] of notListed) {
    test(`only the role's durations are allowed: ${what}`, () => {
      assert.deepEqual(errorsOf({ roleId: 'super-admin', durationToken: token }), { duration: 'This duration is not allowed for Super admin.' });
    });
  }

  test('permanent is allowed where the role lists it', () => {
    const r = validateSubmission(CATALOG, { ...GOOD, durationToken: 'permanent' });
    assert.ok(r.ok);
    assert.equal(r.duration.ms, null);
  });

  const reasons: [string, string | undefined, string | undefined][] = [
    ['missing', undefined, 'Give a reason for the request.'],
    ['only spaces', '   \n ', 'Give a reason for the request.'],
    ['two characters', 'ok', 'Give a reason of at least 3 characters.'],
    ['two characters padded with spaces', '  ok  ', 'Give a reason of at least 3 characters.'],
    ['three characters', 'fix', undefined],
    [`exactly ${MAX_REASON_LENGTH} characters`, 'x'.repeat(MAX_REASON_LENGTH), undefined],
    ['one character too long', 'x'.repeat(MAX_REASON_LENGTH + 1), `Keep the reason under 2000 characters (it has 2001).`],
  ];
  for (const [what, reason, error] of reasons) {
    test(`reason ${what}: ${error ?? 'accepted'}`, () => {
      const r = validateSubmission(CATALOG, { ...GOOD, reason });
      if (error === undefined) assert.equal(r.ok, true);
      else assert.deepEqual(r, { ok: false, errors: { reason: error } });
    });
  }

  test('break-glass needs a detailed reason of its minimum length', () => {
    const bg = { appId: 'wiki', roleId: 'break-glass', durationToken: '1h' };
    assert.deepEqual(errorsOf({ ...bg, reason: 'x'.repeat(39) }), { reason: 'Emergency access needs a detailed reason: at least 40 characters.' });
    assert.equal(validateSubmission(CATALOG, { ...bg, reason: 'x'.repeat(40) }).ok, true);
  });

  test('a break-glass minimum below the general one still needs 3 characters', () => {
    assert.deepEqual(errorsOf({ appId: 'wiki', roleId: 'low-bar', durationToken: '1h', reason: 'ab' }), { reason: 'Emergency access needs a detailed reason: at least 3 characters.' });
  });

  test('every wrong field is reported at once, each on its own input', () => {
    assert.deepEqual(errorsOf({ roleId: 'super-admin', durationToken: '7d', reason: 'x' }), {
      duration: 'This duration is not allowed for Super admin.',
      reason: 'Give a reason of at least 3 characters.',
    });
  });
});
