import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'yaml';
import { parseCatalog } from '../../src/config/catalog.js';
import { catalogYaml, person, type CatalogSpec } from '../support/fixtures.js';
import { DEFAULT_CATALOG } from '../support/harness.js';

const SPEC: CatalogSpec = {
  jira: { project: 'OPS', transitions: { timed_out: 'Time out' } },
  applications: [
    {
      id: 'prod-db',
      name: 'Production database',
      owners: ['bob@example.com'],
      roles: [
        {
          id: 'admin',
          name: 'Admin',
          group: '00g1admin',
          durations: ['1h', 'permanent'],
          approval: { stages: [{ approvers: ['manager'] }, { approvers: ['owners'], required: 2 }], fallback: ['carol@example.com'], timeout: '1d' },
        },
        { id: 'crowd', name: 'Crowd', group: '00g1crowd', durations: ['1h'], approvers: ['slack-group:crowd', 'carol@example.com'] },
        { id: 'break-glass', name: 'Emergency admin', group: '00g1admin', durations: ['1h'], approval: 'auto', breakGlass: { notify: '#security-alerts', minReasonLength: 40 } },
      ],
    },
  ],
};

test('catalogYaml: the description as the catalog YAML, defaults and overrides merged, quoted where YAML needs it', () => {
  const yaml = catalogYaml(SPEC);
  assert.equal(
    yaml,
    `
jira:
  project: OPS
  issueType: Task
  transitions:
    approved: Approve
    denied: Reject
    active: Provisioned
    revoked: Done
    timed_out: Time out
applications:
  - id: prod-db
    name: Production database
    owners: [bob@example.com]
    roles:
      - id: admin
        name: Admin
        grant: { connector: okta, group: 00g1admin }
        durations: [1h, permanent]
        approval:
          stages:
            - approvers: [manager]
            - approvers: [owners]
              required: 2
          fallback: [carol@example.com]
          timeout: 1d
      - id: crowd
        name: Crowd
        grant: { connector: okta, group: 00g1crowd }
        durations: [1h]
        approvers: ["slack-group:crowd", carol@example.com]
      - id: break-glass
        name: Emergency admin
        grant: { connector: okta, group: 00g1admin }
        durations: [1h]
        approval: auto
        breakGlass: { notify: "#security-alerts", minReasonLength: 40 }
`,
  );
  assert.deepEqual(parse(yaml).applications[0].roles[2].breakGlass, { notify: '#security-alerts', minReasonLength: 40 });
  const parsed = parseCatalog(yaml, { configuredConnectors: ['okta'] });
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.errors.join('\n'));
});

test('the default catalog keeps the lines tests patch with replace()', () => {
  // hostile, slack-outbound, ownership and process tests edit DEFAULT_CATALOG's text at these anchors.
  for (const anchor of ['      - id: super-admin', 'durations: [2s, 3s, 4h, permanent]', 'durations: [30m, 1h]', 'connector: okta, group: 00g1readonly']) {
    assert.ok(DEFAULT_CATALOG.includes(anchor), `DEFAULT_CATALOG lost ${JSON.stringify(anchor)}`);
  }
});

test('person: ids follow the handle unless given', () => {
  assert.deepEqual(person('erin', 'Erin Green'), { slackId: 'U0ERIN', email: 'erin@example.com', name: 'Erin Green', oktaId: '00u1erin' });
  assert.deepEqual(person('ann', 'Ann Approver', { domain: 'bench.example', oktaPrefix: '00ubench', entraId: 'a' }), {
    slackId: 'U0ANN',
    email: 'ann@bench.example',
    name: 'Ann Approver',
    oktaId: '00ubenchann',
    entraId: 'a',
    atlassianId: '712020:a',
  });
});
