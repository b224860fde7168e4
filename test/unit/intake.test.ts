/**
 * Requests raised in Jira, the pure parts: the catalog's `jira.intake` (what it accepts, each
 * mistake one line naming its path), which issues are requests, what an issue's fields ask for
 * (each problem one sentence with the allowed values), and how a select field's options are
 * brought in line with the catalog.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseCatalog } from '../../src/config/catalog.js';
import type { Catalog } from '../../src/domain/catalog.js';
import { intakeOptions, intakeTypeOf, planOptions, readIntake, type IssueSnapshot } from '../../src/domain/intake.js';

const APPS = `applications:
  - id: okta-console
    name: Okta admin console
    owners: [bob@example.com]
    roles:
      - { id: read-only, name: Read-only, grant: { connector: okta, group: g1 }, durations: [4h, 1h, permanent], approvers: [owners] }
      - { id: super-admin, name: Super admin, grant: { connector: okta, group: g2 }, durations: [permanent], approvers: [owners] }
      - { id: break-glass, name: Emergency, grant: { connector: okta, group: g3 }, durations: [1h], breakGlass: { notify: "#sec", minReasonLength: 30 } }
  - id: wiki
    name: Company wiki
    owners: [bob@example.com]
    roles:
      - { id: reader, name: Read-only, grant: { connector: okta, group: g4 }, durations: [1h], approvers: [owners] }
`;

function parse(intake: string) {
  return parseCatalog(`jira:\n  project: ACC\n  intake:\n${intake.replace(/^/gm, '    ')}\n${APPS}`, { configuredConnectors: ['okta'] });
}

function catalogWith(intake: string): Catalog {
  const r = parse(intake);
  if (!r.ok) assert.fail(r.errors.join('\n'));
  return r.catalog;
}

const OK_INTAKE = `requestTypes:
  Request Application Access: access
  Request Access Removal: removal
  Request Access Change: change
fields: { application: customfield_10050, role: customfield_10051, duration: customfield_10052, fromRole: customfield_10053, subject: customfield_10054 }`;

describe('catalog jira.intake', () => {
  test('request types by name with their kind, and the field ids', () => {
    assert.deepEqual(catalogWith(OK_INTAKE).jira.intake, {
      requestTypes: [
        { name: 'Request Application Access', kind: 'access' },
        { name: 'Request Access Removal', kind: 'removal' },
        { name: 'Request Access Change', kind: 'change' },
      ],
      fields: { application: 'customfield_10050', role: 'customfield_10051', duration: 'customfield_10052', fromRole: 'customfield_10053', subject: 'customfield_10054' },
    });
  });

  const ERRORS: [string, string, string[]][] = [
    ['an unknown kind, with a suggestion', 'requestTypes: { Get access: acess }\nfields: { application: customfield_1, role: customfield_2 }', ['jira.intake.requestTypes.Get access: "acess" is not a request kind (one of access, removal, change; did you mean access?)']],
    ['no request types', 'fields: { application: customfield_1, role: customfield_2 }', ['jira.intake.requestTypes: required: a map of request type name to one of access, removal, change (e.g. Request Application Access: access)']],
    ['names that differ only in case', 'requestTypes: { Access: access, ACCESS: removal }\nfields: { application: customfield_1, role: customfield_2 }', ['jira.intake.requestTypes.ACCESS: "ACCESS" is already listed as "Access" (request type names are compared without case)']],
    ['the role field missing', 'requestTypes: { Access: access }\nfields: { application: customfield_1 }', ['jira.intake.fields.role: required (the id of a single-select custom field, e.g. customfield_10050)']],
    ['a field given by name', 'requestTypes: { Access: access }\nfields: { application: Application, role: customfield_2 }', ['jira.intake.fields.application: "Application" is not a custom field id (customfield_<number>; Jira shows it in the field\'s configuration URL, or access-bot check lists the fields)']],
    ['one field for two things', 'requestTypes: { Access: access }\nfields: { application: customfield_1, role: customfield_1 }', ['jira.intake.fields.role: customfield_1 is already the application field; each field carries one thing']],
    ['a change type without the role left', 'requestTypes: { Change it: change }\nfields: { application: customfield_1, role: customfield_2 }', ['jira.intake.fields.fromRole: required when a request type is a change ("Change it"): the select field naming the role being left']],
    ['an unknown key', 'requestTypes: { Access: access }\nfields: { application: customfield_1, role: customfield_2, reason: customfield_3 }', ['jira.intake.fields.reason: unknown key (expected one of application, role, duration, fromRole, subject)']],
  ];
  for (const [what, yaml, errors] of ERRORS) {
    test(`refused: ${what}`, () => {
      const r = parse(yaml);
      assert.deepEqual(r.ok ? [] : r.errors, errors);
    });
  }
});

const catalog = catalogWith(OK_INTAKE);
const intake = catalog.jira.intake!;
const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);

function issue(over: Partial<IssueSnapshot> & { app?: string | null; role?: string | null; duration?: string | null } = {}): IssueSnapshot {
  const { app = 'Okta admin console', role = 'Read-only', duration = null, ...rest } = over;
  return {
    id: '10001',
    key: 'ACC-1',
    projectKey: 'ACC',
    issueType: 'Service Request',
    requestType: 'Request Application Access',
    createdByBot: false,
    summary: 'Okta console access',
    description: 'Looking into a customer login problem',
    reporter: 'acc-alice',
    created: T0,
    updated: T0,
    fields: { customfield_10050: app, customfield_10051: role, customfield_10052: duration },
    histories: [],
    ...rest,
  };
}

function read(i: IssueSnapshot) {
  const type = intakeTypeOf(catalog, i);
  assert.ok(type, 'an intake request type');
  return readIntake(catalog, intake, type, i);
}

describe('which issues are requests', () => {
  test('a JSM issue by its request type, a plain one by its issue type; never another project, another type, or the bot\'s own issue', () => {
    assert.equal(intakeTypeOf(catalog, issue())?.kind, 'access');
    assert.equal(intakeTypeOf(catalog, issue({ requestType: 'request access removal' }))?.kind, 'removal');
    assert.equal(intakeTypeOf(catalog, issue({ requestType: undefined, issueType: 'Request Access Change' }))?.kind, 'change');
    assert.equal(intakeTypeOf(catalog, issue({ requestType: 'Laptop purchase', issueType: 'Request Application Access' })), undefined);
    assert.equal(intakeTypeOf(catalog, issue({ projectKey: 'OPS' })), undefined);
    assert.equal(intakeTypeOf(catalog, issue({ createdByBot: true })), undefined);
  });
});

describe('what an issue asks for', () => {
  test('names or ids, any case; an empty duration is the role\'s shortest; the description is the reason', () => {
    const r = read(issue({ app: 'okta-console', role: 'READ-ONLY' }));
    assert.ok(r.ok);
    assert.deepEqual([r.app.id, r.role.id, r.duration.token, r.reason, r.requester], ['okta-console', 'read-only', '1h', 'Looking into a customer login problem', 'acc-alice']);
    const d = read(issue({ duration: '4 hours' }));
    assert.ok(d.ok && d.duration.token === '4h');
    const t = read(issue({ duration: '4h' }));
    assert.ok(t.ok && t.duration.token === '4h');
    const p = read(issue({ role: 'Super admin' }));
    assert.ok(p.ok && p.duration.token === 'permanent', 'permanent when it is all the role offers');
  });

  test('a role named the same in two applications is the one of the application chosen', () => {
    const r = read(issue({ app: 'Company wiki' }));
    assert.ok(r.ok && r.app.id === 'wiki' && r.role.id === 'reader');
  });

  const PROBLEMS: [string, Parameters<typeof issue>[0], string[]][] = [
    ['empty application', { app: null }, ['Application (customfield_10050) is empty. Allowed values: Okta admin console, Company wiki.']],
    ['unknown application', { app: 'Legacy CRM' }, ['Application "Legacy CRM" is not an application access-bot offers. Allowed values: Okta admin console, Company wiki.']],
    ['empty role', { role: null }, ['Role (customfield_10051) is empty. Allowed values for Okta admin console: Read-only, Super admin, Emergency.']],
    ['a role of another application', { app: 'Company wiki', role: 'Super admin' }, ['Role "Super admin" is not offered for Company wiki. Allowed values: Read-only.']],
    ['a duration not offered', { duration: '5 hours' }, ['Duration "5 hours" is not offered for Okta admin console / Read-only. Allowed values: 4 hours, 1 hour, Permanent.']],
    ['two values in a select', { fields: { customfield_10050: ['Okta admin console', 'Company wiki'], customfield_10051: 'Read-only' } }, ['Application (customfield_10050) holds 2 values (Okta admin console, Company wiki); choose one.']],
    ['no reporter', { reporter: undefined }, ['The issue has no reporter, so access-bot cannot tell who asks for the access.']],
    ['emergency access with a short reason', { role: 'Emergency', description: 'urgent' }, ['Emergency access needs a detailed reason: write at least 30 characters in the description (it has 6).']],
    [
      'several at once, in field order',
      { app: 'Okta admin console', role: 'Owner', reporter: undefined },
      ['Role "Owner" is not offered for Okta admin console. Allowed values: Read-only, Super admin, Emergency.', 'The issue has no reporter, so access-bot cannot tell who asks for the access.'],
    ],
  ];
  for (const [what, over, problems] of PROBLEMS) {
    test(`told: ${what}`, () => {
      const r = read(issue(over));
      assert.deepEqual(r.ok ? [] : r.problems, problems);
    });
  }

  test('a change names the role left, which must differ; a removal reads whose access', () => {
    const change = issue({ requestType: 'Request Access Change', fields: { customfield_10050: 'Okta admin console', customfield_10051: 'Super admin', customfield_10053: 'Read-only' } });
    const c = read(change);
    assert.ok(c.ok && c.kind === 'change' && c.fromRole?.id === 'read-only' && c.role.id === 'super-admin');
    const same = read({ ...change, fields: { ...change.fields, customfield_10053: 'Super admin' } });
    assert.deepEqual(same.ok ? [] : same.problems, ['Current role and Role are both Super admin: a change moves from one role to another.']);
    const removal = read(issue({ requestType: 'Request Access Removal', fields: { customfield_10050: 'Okta admin console', customfield_10051: 'Read-only', customfield_10054: { accountId: 'acc-dave' } } }));
    assert.ok(removal.ok && removal.kind === 'removal' && removal.subject === 'acc-dave');
  });

  test('a reason longer than a request holds is cut, the issue keeping the whole', () => {
    const r = read(issue({ description: 'x'.repeat(5000) }));
    assert.ok(r.ok && r.reason.length === 2000 && r.reason.endsWith('…'));
  });
});

describe('select options in line with the catalog', () => {
  test('the values sync-fields writes: application names, role names once each, durations in words', () => {
    assert.deepEqual(intakeOptions(catalog), {
      application: ['Okta admin console', 'Company wiki'],
      role: ['Read-only', 'Super admin', 'Emergency'],
      duration: ['4 hours', '1 hour', 'Permanent'],
    });
  });

  test('missing ones added, disabled wanted ones enabled again, extra ones disabled; case and spaces ignored', () => {
    const plan = planOptions(
      ['Okta admin console', 'Company wiki', 'Payments'],
      [
        { id: '1', value: 'okta admin  console', disabled: false },
        { id: '2', value: 'Legacy CRM', disabled: false },
        { id: '3', value: 'Company wiki', disabled: true },
        { id: '4', value: 'Old thing', disabled: true },
      ],
    );
    assert.deepEqual(plan, { missing: ['Payments'], enable: [{ id: '3', value: 'Company wiki', disabled: true }], extra: [{ id: '2', value: 'Legacy CRM', disabled: false }] });
    assert.deepEqual(planOptions(['A'], [{ id: '1', value: 'A', disabled: false }]), { missing: [], enable: [], extra: [] });
  });
});
