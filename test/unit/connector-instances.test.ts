/**
 * Connector instances (config/connectors.ts, ARCHITECTURE.md §4): without a `connectors:` block
 * the variables configure one instance per type, named after it; with the block, the catalog
 * names each instance, its type and where its settings come from. Grants and MANAGER_SOURCE
 * name instances, checked at start-up. And the app asks a connector for a capability by name.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectorWith } from '../../src/app/connectors.js';
import type { IdpConnector } from '../../src/app/ports/idp.js';
import { parseCatalog } from '../../src/config/catalog.js';
import { CONNECTOR_TYPES } from '../../src/adapters/idp/index.js';
import { connectorsOf, loadConfig } from '../../src/config/env.js';
import { secretsOf, type Config } from '../../src/config/types.js';
import { PermanentError } from '../../src/outbox/errors.js';

/** Every connector type, as the "one of …" lines list them (adapters/idp/index.ts). */
const TYPES = CONNECTOR_TYPES.map((d) => d.type).join(', ');

const CATALOG_PATH = '/etc/access-bot/catalog.yaml';

const BASE: Record<string, string> = {
  SLACK_BOT_TOKEN: 'xoxb-secret-bot',
  SLACK_SIGNING_SECRET: 'secret-signing',
  JIRA_HOST: 'https://acme.atlassian.net',
  JIRA_EMAIL: 'bot@acme.com',
  JIRA_API_TOKEN: 'secret-jira-token',
  ACCESS_CATALOG: CATALOG_PATH,
};

const APPS = `
jira: { project: ACC }
applications:
  - id: console
    name: Console
    roles:
      - { id: eu, name: EU, grant: { connector: okta-eu, group: 00geu }, durations: [1h], approval: auto }
`;

/** loadConfig with the catalog (and any other files) readable at their paths. */
function load(env: Record<string, string | undefined>, catalog: string, files: Record<string, string> = {}) {
  const all: Record<string, string> = { [CATALOG_PATH]: catalog, ...files };
  return loadConfig({ ...BASE, ...env }, (p) => {
    if (p in all) return all[p]!;
    throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
  });
}
function ok(env: Record<string, string | undefined>, catalog: string, files: Record<string, string> = {}): Config {
  const r = load(env, catalog, files);
  if (!r.ok) assert.fail(`expected ok, got:\n${r.errors.join('\n')}`);
  return r.config;
}
function errors(env: Record<string, string | undefined>, catalog: string, files: Record<string, string> = {}): string[] {
  const r = load(env, catalog, files);
  assert.equal(r.ok, false, 'expected errors');
  return r.ok ? [] : r.errors;
}

const TWO_OKTAS = `
connectors:
  okta-eu: { type: okta, orgUrl: https://eu.okta.com, apiToken: { env: OKTA_EU_API_TOKEN } }
  okta-us:
    type: okta
    orgUrl: { env: OKTA_US_ORG_URL }
    apiToken: { file: /run/secrets/okta-us }
  atlassian-org: { type: atlassian, host: https://acme-admin.atlassian.net, email: admin@acme.com, apiToken: { env: ATLASSIAN_ORG_TOKEN } }
${APPS}`;

test('connectors: the catalog block names each instance, its type, and where its secrets come from', () => {
  const c = ok(
    { OKTA_EU_API_TOKEN: 'secret-okta-eu', OKTA_US_ORG_URL: 'https://us.okta.com/', ATLASSIAN_ORG_TOKEN: 'secret-atl-org', OKTA_ORG_URL: 'https://ignored.okta.com', OKTA_API_TOKEN: 'secret-ignored' },
    TWO_OKTAS,
    { '/run/secrets/okta-us': 'secret-okta-us\n' },
  );
  assert.deepEqual(c.connectors, [
    {
      name: 'okta-eu',
      type: 'okta',
      settings: { orgUrl: 'https://eu.okta.com', apiToken: 'secret-okta-eu' },
      sources: { orgUrl: 'connectors.okta-eu.orgUrl', apiToken: 'OKTA_EU_API_TOKEN' },
      secrets: ['apiToken'],
    },
    {
      name: 'okta-us',
      type: 'okta',
      settings: { orgUrl: 'https://us.okta.com', apiToken: 'secret-okta-us' },
      sources: { orgUrl: 'OKTA_US_ORG_URL', apiToken: 'connectors.okta-us.apiToken.file' },
      secrets: ['apiToken'],
    },
    {
      name: 'atlassian-org',
      type: 'atlassian',
      settings: { host: 'https://acme-admin.atlassian.net', email: 'admin@acme.com', apiToken: 'secret-atl-org' },
      sources: { host: 'connectors.atlassian-org.host', email: 'connectors.atlassian-org.email', apiToken: 'ATLASSIAN_ORG_TOKEN' },
      secrets: ['apiToken'],
    },
  ]);
  // With the block, it is the whole list: OKTA_* configure nothing, and there is no implicit atlassian.
  assert.deepEqual(connectorsOf(c), ['okta-eu', 'okta-us', 'atlassian-org']);
  assert.equal(c.managerSource, 'okta-eu');
  for (const s of ['secret-okta-eu', 'secret-okta-us', 'secret-atl-org']) assert.ok(secretsOf(c).includes(s), `${s} is masked in logs`);
});

test('connectors: a secret given as <NAME>_FILE is read for a block instance too', () => {
  const c = ok({ OKTA_EU_API_TOKEN_FILE: '/run/secrets/eu' }, `connectors:\n  okta-eu: { type: okta, orgUrl: https://eu.okta.com, apiToken: { env: OKTA_EU_API_TOKEN } }\n${APPS}`, {
    '/run/secrets/eu': 'secret-from-file\n',
  });
  assert.equal(c.connectors[0]?.settings.apiToken, 'secret-from-file');
});

test('connectors: optional settings take their defaults in a block instance', () => {
  const c = ok({ EU_GRAPH_SECRET: 'secret-graph' }, `connectors:\n  entra-eu: { type: entra, tenantId: t-eu, clientId: c-eu, clientSecret: { env: EU_GRAPH_SECRET } }\n${APPS.replace('okta-eu', 'entra-eu')}`);
  assert.deepEqual(c.connectors[0]?.settings, {
    tenantId: 't-eu',
    clientId: 'c-eu',
    clientSecret: 'secret-graph',
    baseUrl: 'https://graph.microsoft.com',
    tokenUrl: 'https://login.microsoftonline.com/t-eu/oauth2/v2.0/token',
  });
});

test('connectors: a secret written into the catalog is refused, and not echoed', () => {
  const e = errors({}, `connectors:\n  okta-eu: { type: okta, orgUrl: https://eu.okta.com, apiToken: 00abcSECRETtoken }\n${APPS}`);
  assert.deepEqual(e, ['connectors.okta-eu.apiToken: is a secret: give { env: NAME } or { file: PATH }, never the value in the catalog']);
  assert.ok(!e.join('\n').includes('00abcSECRETtoken'));
});

// Every problem in the block is one line naming the catalog path, or the variable it points at.
const BLOCK_ERRORS: { name: string; block: string; env?: Record<string, string>; errors: string[] }[] = [
  {
    name: 'unknown type',
    block: 'okta-eu: { type: otka, orgUrl: https://eu.okta.com }',
    errors: [`connectors.okta-eu.type: "otka" is not a connector type (one of ${TYPES}; did you mean okta?)`],
  },
  { name: 'type missing', block: 'okta-eu: { orgUrl: https://eu.okta.com }', errors: [`connectors.okta-eu.type: required (one of ${TYPES})`] },
  {
    name: 'required setting missing',
    block: 'okta-eu: { type: okta, apiToken: { env: T } }',
    env: { T: 'secret-t' },
    errors: ['connectors.okta-eu.orgUrl: required (your Okta org, e.g. https://your-org.okta.com; give the value, { env: NAME } or { file: PATH })'],
  },
  {
    name: 'variable not set',
    block: 'okta-eu: { type: okta, orgUrl: https://eu.okta.com, apiToken: { env: OKTA_EU_API_TOKEN } }',
    errors: ['OKTA_EU_API_TOKEN: required (an Okta API token, for connectors.okta-eu.apiToken)'],
  },
  {
    name: 'file unreadable',
    block: 'okta-eu: { type: okta, orgUrl: https://eu.okta.com, apiToken: { file: /run/secrets/nope } }',
    errors: ['connectors.okta-eu.apiToken.file: cannot read "/run/secrets/nope" (ENOENT)'],
  },
  {
    name: 'malformed URL written in the catalog',
    block: 'okta-eu: { type: okta, orgUrl: eu.okta.com, apiToken: { env: T } }',
    env: { T: 'secret-t' },
    errors: ['connectors.okta-eu.orgUrl: "eu.okta.com" is not a URL (expected e.g. https://your-org.okta.com)'],
  },
  {
    name: 'malformed URL in the variable it names',
    block: 'okta-eu: { type: okta, orgUrl: { env: EU_URL }, apiToken: { env: T } }',
    env: { T: 'secret-t', EU_URL: 'https://eu.okta.com/admin' },
    errors: ['EU_URL: "https://eu.okta.com/admin" has a path (expected only scheme, host and port, e.g. https://your-org.okta.com)'],
  },
  {
    name: 'unknown key',
    block: 'okta-eu: { type: okta, orgURL: https://eu.okta.com, orgUrl: https://eu.okta.com, apiToken: { env: T } }',
    env: { T: 'secret-t' },
    errors: ['connectors.okta-eu.orgURL: unknown key (did you mean orgUrl?)'],
  },
  { name: 'bad instance name', block: 'Okta_EU: { type: okta, orgUrl: https://eu.okta.com, apiToken: { env: T } }', env: { T: 'x' }, errors: ['connectors.Okta_EU: "Okta_EU" is not a valid connector name (lowercase letters, digits and dashes, at most 64)'] },
  {
    name: 'a setting that is neither a value nor env/file',
    block: 'okta-eu: { type: okta, orgUrl: https://eu.okta.com, apiToken: { vault: x } }',
    errors: ['connectors.okta-eu.apiToken: must be { env: NAME } or { file: PATH }'],
  },
  { name: 'not a variable name', block: 'okta-eu: { type: okta, orgUrl: https://eu.okta.com, apiToken: { env: "okta token" } }', errors: ['connectors.okta-eu.apiToken.env: "okta token" is not an environment variable name'] },
];

for (const c of BLOCK_ERRORS) {
  test(`connectors error: ${c.name}`, () => {
    assert.deepEqual(errors(c.env ?? {}, `connectors:\n  ${c.block}\n${APPS}`), c.errors);
  });
}

test('MANAGER_SOURCE may name an instance; it must be one that knows managers', () => {
  const env = { OKTA_EU_API_TOKEN: 'secret-okta-eu', OKTA_US_ORG_URL: 'https://us.okta.com', ATLASSIAN_ORG_TOKEN: 'secret-atl-org' };
  const files = { '/run/secrets/okta-us': 'secret-okta-us' };
  assert.equal(ok({ ...env, MANAGER_SOURCE: 'okta-us' }, TWO_OKTAS, files).managerSource, 'okta-us');
  assert.deepEqual(errors({ ...env, MANAGER_SOURCE: 'atlassian-org' }, TWO_OKTAS, files), [
    'MANAGER_SOURCE: "atlassian-org" (of type atlassian) cannot tell who a manager is (use one of okta-eu, okta-us)',
  ]);
  assert.deepEqual(errors({ ...env, MANAGER_SOURCE: 'okta' }, TWO_OKTAS, files), ["MANAGER_SOURCE: \"okta\" is not a connector in the catalog's connectors: (one of okta-eu, okta-us)"]);
});

test('catalog: with connectors:, a grant names one of its instances, checked against the configured ones', () => {
  const block = `connectors:\n  okta-eu: { type: okta }\n  google-eu: { type: google }\n`;
  const roles = (grant: string) => `${block}jira: { project: ACC }\napplications:\n  - { id: a, name: A, roles: [{ id: r, name: R, grant: ${grant}, durations: [1h], approval: auto }] }\n`;
  const parse = (grant: string, configured: string[] | undefined = ['okta-eu', 'google-eu']) => parseCatalog(roles(grant), { configuredConnectors: configured });
  assert.equal(parse('{ connector: okta-eu, group: 00g1 }').ok, true);
  const P = 'applications[0].roles[0].grant';
  const errs = (grant: string, configured?: string[]) => {
    const r = parse(grant, configured);
    return r.ok ? [] : r.errors;
  };
  // The type name is not an instance once the block names the instances.
  assert.deepEqual(errs('{ connector: okta, group: 00g1 }'), [`${P}.connector: "okta" is not a connector (one of okta-eu, google-eu)`]);
  assert.deepEqual(errs('{ connector: okta-eu, group: 00g1 }', ['google-eu']), [`${P}.connector: "okta-eu" is not configured (see connectors.okta-eu)`]);
  // An instance's type decides what its groups are: Google groups are emails.
  assert.deepEqual(errs('{ connector: google-eu, group: wiki }'), [`${P}.group: "wiki" is not an email address (Google groups are named by email)`]);
});

test('the app asks for a capability by name: a connector without it is a PermanentError naming the instance', () => {
  const listOnly: IdpConnector = { name: 'hr-feed', type: 'hr', findUserByEmail: async () => undefined };
  const connectors = { 'hr-feed': listOnly };
  assert.equal(connectorWith(connectors, 'hr-feed', 'userDirectory'), listOnly);
  assert.throws(() => connectorWith(connectors, 'hr-feed', 'userDirectory', 'memberships'), (e: unknown) => {
    assert.ok(e instanceof PermanentError);
    assert.equal(e.message, 'the hr-feed connector (hr) cannot add people to groups and remove them');
    return true;
  });
  assert.throws(() => connectorWith(connectors, 'okta-eu', 'memberships'), /^PermanentError: the okta-eu connector is not configured$/);
});
