import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { loadCatalog, parseCatalog } from '../../src/config/catalog.js';
import { CONNECTOR_TYPES } from '../../src/adapters/idp/index.js';
import { connectorsOf, databaseTarget, loadConfig } from '../../src/config/env.js';
import { secretsOf, type Config } from '../../src/config/types.js';
import type { Catalog, ConnectorName, Role } from '../../src/domain/catalog.js';

/** Every connector type, as the "one of …" lines list them (adapters/idp/index.ts). */
const TYPES = CONNECTOR_TYPES.map((d) => d.type).join(', ');

// ---------------------------------------------------------------- environment

const BASE: Record<string, string> = {
  SLACK_BOT_TOKEN: 'xoxb-secret-bot',
  SLACK_SIGNING_SECRET: 'secret-signing',
  JIRA_HOST: 'https://acme.atlassian.net',
  JIRA_EMAIL: 'bot@acme.com',
  JIRA_API_TOKEN: 'secret-jira-token',
};

const noFiles = (p: string): string => {
  throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
};
const files =
  (fsMap: Record<string, string>) =>
  (p: string): string =>
    p in fsMap ? fsMap[p]! : noFiles(p);

const SA_KEY = JSON.stringify({ client_email: 'bot@proj.iam.gserviceaccount.com', private_key: '-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n' });

function okConfig(env: Record<string, string | undefined>, read = noFiles): Config {
  const r = loadConfig(env, read);
  if (!r.ok) assert.fail(`expected ok, got:\n${r.errors.join('\n')}`);
  return r.config;
}
/** Each connector instance's settings, by instance name. */
function settingsByName(c: Config): Record<string, Readonly<Record<string, string>>> {
  return Object.fromEntries(c.connectors.map((i) => [i.name, i.settings]));
}
function configErrors(env: Record<string, string | undefined>, read = noFiles): string[] {
  const r = loadConfig(env, read);
  assert.equal(r.ok, false, 'expected errors');
  return r.ok ? [] : r.errors;
}

test('env: defaults with only the required variables', () => {
  assert.deepEqual(okConfig(BASE), {
    port: 3000,
    databasePath: './data/access-bot.db',
    catalogPath: './access-catalog.yaml',
    slack: { botToken: 'xoxb-secret-bot', signingSecret: 'secret-signing', apiUrl: 'https://slack.com/api/' },
    jira: { host: 'https://acme.atlassian.net', email: 'bot@acme.com', apiToken: 'secret-jira-token' },
    // The atlassian connector uses the Jira credentials: on whenever Jira is.
    connectors: [
      {
        name: 'atlassian',
        type: 'atlassian',
        settings: { host: 'https://acme.atlassian.net', email: 'bot@acme.com', apiToken: 'secret-jira-token' },
        sources: { host: 'JIRA_HOST', email: 'JIRA_EMAIL', apiToken: 'JIRA_API_TOKEN' },
        secrets: ['apiToken'],
      },
    ],
    onCall: [],
    logLevel: 'info',
    allowGuests: false,
  } satisfies Config);
});

test('env: DATABASE_URL chooses the store: postgres:// is Postgres, a file path is SQLite, another scheme or both variables are refused', () => {
  const pg = okConfig({ ...BASE, DATABASE_URL: 'postgres://bot:s3cret-pw@db.internal:5432/access' });
  assert.equal(pg.databaseUrl, 'postgres://bot:s3cret-pw@db.internal:5432/access');
  assert.equal(okConfig({ ...BASE, DATABASE_URL: 'postgresql://bot@db/access' }).databaseUrl, 'postgresql://bot@db/access');
  assert.equal(okConfig({ ...BASE, DATABASE_URL_FILE: '/run/secrets/db' }, files({ '/run/secrets/db': 'postgres://bot:pw@db/access\n' })).databaseUrl, 'postgres://bot:pw@db/access');
  const file = okConfig({ ...BASE, DATABASE_URL: '/var/lib/access-bot/bot.db' });
  assert.equal(file.databaseUrl, undefined);
  assert.equal(file.databasePath, '/var/lib/access-bot/bot.db');
  assert.equal(okConfig({ ...BASE, DATABASE_URL: 'file:///srv/bot.db' }).databasePath, '/srv/bot.db');
  const mysql = configErrors({ ...BASE, DATABASE_URL: 'mysql://root:hunter2@db/access' });
  assert.deepEqual(mysql, ['DATABASE_URL: mysql: is not supported (expected a file path for SQLite, or postgres://user:password@host:5432/database for Postgres)']);
  assert.deepEqual(configErrors({ ...BASE, DATABASE_URL: 'postgres://db/x', DATABASE_PATH: './x.db' }), ['DATABASE_URL: set either DATABASE_URL or DATABASE_PATH, not both']);
  assert.deepEqual(configErrors({ ...BASE, DATABASE_URL: 'postgres://' }), ['DATABASE_URL: names no host (expected postgres://user:password@host:5432/database)']);
  // The CLI's own reading (access-bot effects) agrees.
  assert.deepEqual(databaseTarget({ DATABASE_URL: 'postgres://db/x' }), { databasePath: './data/access-bot.db', databaseUrl: 'postgres://db/x' });
  assert.throws(() => databaseTarget({ DATABASE_URL: 'redis://db' }), /redis: is not supported/);
});

test('env: every required variable missing, one line each', () => {
  assert.deepEqual(configErrors({}), [
    'SLACK_BOT_TOKEN: required (the bot token, xoxb-…)',
    "SLACK_SIGNING_SECRET: required (the app's signing secret, from Basic Information)",
    'JIRA_HOST: required (your Jira Cloud site, e.g. https://your-site.atlassian.net)',
    'JIRA_EMAIL: required (the Atlassian account email that owns JIRA_API_TOKEN)',
    'JIRA_API_TOKEN: required (an Atlassian API token for JIRA_EMAIL)',
  ]);
});

test('env: empty values count as unset', () => {
  assert.deepEqual(configErrors({ ...BASE, SLACK_BOT_TOKEN: '  ' }), ['SLACK_BOT_TOKEN: required (the bot token, xoxb-…)']);
});

test('env: everything set, all connectors on', () => {
  const c = okConfig(
    {
      ...BASE,
      PORT: '8080',
      DATABASE_PATH: '/var/lib/bot.db',
      ACCESS_CATALOG: '/etc/bot/catalog.yaml',
      SLACK_APP_TOKEN: 'xapp-1-secret',
      SLACK_API_URL: 'http://127.0.0.1:4001/api',
      JIRA_HOST: 'http://127.0.0.1:4002/',
      JIRA_WEBHOOK_SECRET: 'secret-hook',
      OKTA_ORG_URL: 'http://127.0.0.1:4003/',
      OKTA_API_TOKEN: 'secret-okta',
      GRAPH_TENANT_ID: 'tenant-1',
      GRAPH_CLIENT_ID: 'client-1',
      GRAPH_CLIENT_SECRET: 'secret-graph',
      GRAPH_BASE_URL: 'http://127.0.0.1:4004',
      GRAPH_TOKEN_URL: 'http://127.0.0.1:4005/t/oauth2/v2.0/token',
      GOOGLE_SA_KEY_FILE: '/keys/sa.json',
      GOOGLE_ADMIN_SUBJECT: 'admin@acme.com',
      GOOGLE_ROOT_URL: 'http://127.0.0.1:4006',
      GOOGLE_TOKEN_URL: 'http://127.0.0.1:4007/token',
      ADMIN_CHANNEL: '#access-admins',
      MANAGER_SOURCE: 'google',
      LOG_LEVEL: 'debug',
      ALLOW_GUESTS: 'TRUE',
    },
    files({ '/keys/sa.json': SA_KEY }),
  );
  const { connectors: _, ...rest } = c;
  assert.deepEqual(rest, {
    port: 8080,
    databasePath: '/var/lib/bot.db',
    catalogPath: '/etc/bot/catalog.yaml',
    slack: { botToken: 'xoxb-secret-bot', signingSecret: 'secret-signing', appToken: 'xapp-1-secret', apiUrl: 'http://127.0.0.1:4001/api/' },
    jira: { host: 'http://127.0.0.1:4002', email: 'bot@acme.com', apiToken: 'secret-jira-token', webhookSecret: 'secret-hook' },
    adminChannel: '#access-admins',
    managerSource: 'google',
    onCall: [],
    logLevel: 'debug',
    allowGuests: true,
  } satisfies Omit<Config, 'connectors'>);
  assert.deepEqual(settingsByName(c), {
    okta: { orgUrl: 'http://127.0.0.1:4003', apiToken: 'secret-okta' },
    entra: { tenantId: 'tenant-1', clientId: 'client-1', clientSecret: 'secret-graph', baseUrl: 'http://127.0.0.1:4004', tokenUrl: 'http://127.0.0.1:4005/t/oauth2/v2.0/token' },
    google: { saKeyFile: '/keys/sa.json', adminSubject: 'admin@acme.com', rootUrl: 'http://127.0.0.1:4006/', tokenUrl: 'http://127.0.0.1:4007/token' },
    atlassian: { host: 'http://127.0.0.1:4002', email: 'bot@acme.com', apiToken: 'secret-jira-token' },
  });
  assert.deepEqual(connectorsOf(c), ['okta', 'entra', 'google', 'atlassian']);
});

test('env: connector defaults and MANAGER_SOURCE defaults to the first configured', () => {
  const c = okConfig(
    { ...BASE, GRAPH_TENANT_ID: 'tid', GRAPH_CLIENT_ID: 'cid', GRAPH_CLIENT_SECRET: 'secret-graph', GOOGLE_SA_KEY_FILE: '/sa.json', GOOGLE_ADMIN_SUBJECT: 'admin@acme.com' },
    files({ '/sa.json': SA_KEY }),
  );
  assert.deepEqual(settingsByName(c).entra, {
    tenantId: 'tid',
    clientId: 'cid',
    clientSecret: 'secret-graph',
    baseUrl: 'https://graph.microsoft.com',
    tokenUrl: 'https://login.microsoftonline.com/tid/oauth2/v2.0/token',
  });
  assert.deepEqual(settingsByName(c).google, { saKeyFile: '/sa.json', adminSubject: 'admin@acme.com', rootUrl: 'https://admin.googleapis.com/', tokenUrl: 'https://oauth2.googleapis.com/token' });
  assert.equal(c.managerSource, 'entra');
  assert.equal(okConfig({ ...BASE, OKTA_ORG_URL: 'https://acme.okta.com', OKTA_API_TOKEN: 't', GOOGLE_SA_KEY_FILE: '/sa.json', GOOGLE_ADMIN_SUBJECT: 'a@acme.com' }, files({ '/sa.json': SA_KEY })).managerSource, 'okta');
  assert.equal(okConfig(BASE).managerSource, undefined);
  assert.deepEqual(connectorsOf(okConfig(BASE)), ['atlassian']);
});

test('env: URL normalisation', () => {
  assert.equal(okConfig({ ...BASE, SLACK_API_URL: 'https://slack.com/api' }).slack.apiUrl, 'https://slack.com/api/');
  assert.equal(okConfig({ ...BASE, SLACK_API_URL: 'http://localhost:9/x/api/' }).slack.apiUrl, 'http://localhost:9/x/api/');
  assert.equal(okConfig({ ...BASE, JIRA_HOST: 'https://acme.atlassian.net/' }).jira.host, 'https://acme.atlassian.net');
});

// Every single-variable problem produces exactly its line (BASE plus the overrides).
const ENV_ERRORS: { name: string; env: Record<string, string>; read?: (p: string) => string; errors: string[] }[] = [
  { name: 'PORT not a number', env: { PORT: 'abc' }, errors: ['PORT: "abc" is not a port number (0-65535)'] },
  { name: 'PORT negative', env: { PORT: '-1' }, errors: ['PORT: "-1" is not a port number (0-65535)'] },
  { name: 'PORT too big', env: { PORT: '65536' }, errors: ['PORT: "65536" is not a port number (0-65535)'] },
  { name: 'JIRA_HOST not a URL', env: { JIRA_HOST: 'foo' }, errors: ['JIRA_HOST: "foo" is not a URL (expected e.g. https://your-site.atlassian.net)'] },
  { name: 'JIRA_HOST not http', env: { JIRA_HOST: 'ftp://acme.net' }, errors: ['JIRA_HOST: "ftp://acme.net" is not an http(s) URL (expected e.g. https://your-site.atlassian.net)'] },
  {
    name: 'JIRA_HOST with a path',
    env: { JIRA_HOST: 'https://acme.atlassian.net/jira' },
    errors: ['JIRA_HOST: "https://acme.atlassian.net/jira" has a path (expected only scheme, host and port, e.g. https://your-site.atlassian.net)'],
  },
  {
    name: 'URL credentials are not echoed',
    env: { JIRA_HOST: 'https://me:hunter2@acme.atlassian.net' },
    errors: ['JIRA_HOST: must not contain a user name or password (expected e.g. https://your-site.atlassian.net)'],
  },
  { name: 'JIRA_EMAIL not an email', env: { JIRA_EMAIL: 'bot' }, errors: ['JIRA_EMAIL: "bot" is not an email address (the Atlassian account email that owns JIRA_API_TOKEN)'] },
  { name: 'SLACK_API_URL without /api', env: { SLACK_API_URL: 'https://slack.com/' }, errors: ['SLACK_API_URL: "https://slack.com/" does not end with /api/ (expected e.g. https://slack.com/api/)'] },
  {
    name: 'SLACK_APP_TOKEN wrong kind',
    env: { SLACK_APP_TOKEN: 'xoxb-secret-wrong' },
    errors: ['SLACK_APP_TOKEN: does not start with xapp- (an app-level token with connections:write, for Socket Mode; unset it for HTTP mode)'],
  },
  { name: 'LOG_LEVEL', env: { LOG_LEVEL: 'verbose' }, errors: ['LOG_LEVEL: "verbose" is not a log level (one of fatal, error, warn, info, debug, trace, silent)'] },
  {
    name: 'RECLAIM_SCHEDULE and OFFBOARDING_SCHEDULE not cron expressions',
    env: { RECLAIM_SCHEDULE: 'hourly', OFFBOARDING_SCHEDULE: '*/15 * *' },
    errors: [
      'RECLAIM_SCHEDULE: "hourly" is not a cron expression (e.g. "41 * * * *" for hourly, or off)',
      'OFFBOARDING_SCHEDULE: "*/15 * *" is not a cron expression (e.g. "*/15 * * * *" for every 15 minutes, or off)',
    ],
  },
  {
    name: 'ALLOW_GUESTS neither true nor false',
    env: { ALLOW_GUESTS: 'yes please' },
    errors: ['ALLOW_GUESTS: "yes please" is not true or false (true lets Slack guests and Slack Connect users request and decide; default false)'],
  },
  {
    name: 'Okta half set',
    env: { OKTA_ORG_URL: 'https://acme.okta.com' },
    errors: ['OKTA_API_TOKEN: required when OKTA_ORG_URL is set (an Okta API token; or unset OKTA_ORG_URL to turn the Okta connector off)'],
  },
  {
    name: 'Okta token only',
    env: { OKTA_API_TOKEN: 'secret-okta' },
    errors: ['OKTA_ORG_URL: required when OKTA_API_TOKEN is set (your Okta org, e.g. https://your-org.okta.com; or unset OKTA_API_TOKEN to turn the Okta connector off)'],
  },
  {
    name: 'Graph partly set names each missing variable',
    env: { GRAPH_TENANT_ID: 'tid' },
    errors: [
      "GRAPH_CLIENT_ID: required when GRAPH_TENANT_ID is set (the app registration's client id; or unset GRAPH_TENANT_ID to turn the Entra connector off)",
      "GRAPH_CLIENT_SECRET: required when GRAPH_TENANT_ID is set (the app registration's client secret; or unset GRAPH_TENANT_ID to turn the Entra connector off)",
    ],
  },
  {
    name: 'Google half set',
    env: { GOOGLE_ADMIN_SUBJECT: 'admin@acme.com' },
    errors: ["GOOGLE_SA_KEY_FILE: required when GOOGLE_ADMIN_SUBJECT is set (path to the service account's JSON key; or unset GOOGLE_ADMIN_SUBJECT to turn the Google connector off)"],
  },
  {
    name: 'Google key file unreadable',
    env: { GOOGLE_SA_KEY_FILE: '/nope.json', GOOGLE_ADMIN_SUBJECT: 'admin@acme.com' },
    errors: ['GOOGLE_SA_KEY_FILE: cannot read "/nope.json" (ENOENT)'],
  },
  {
    name: 'Google key file not a key',
    env: { GOOGLE_SA_KEY_FILE: '/k.json', GOOGLE_ADMIN_SUBJECT: 'admin@acme.com' },
    read: files({ '/k.json': '{"type":"service_account"}' }),
    errors: ['GOOGLE_SA_KEY_FILE: "/k.json" has no client_email and private_key (expected a service account JSON key)'],
  },
  {
    name: 'GOOGLE_ROOT_URL with a path',
    env: { GOOGLE_ROOT_URL: 'https://admin.googleapis.com/admin/directory/v1/' },
    errors: ['GOOGLE_ROOT_URL: "https://admin.googleapis.com/admin/directory/v1/" has a path (expected only scheme, host and port, e.g. https://admin.googleapis.com/)'],
  },
  { name: 'GRAPH_BASE_URL malformed', env: { GRAPH_BASE_URL: 'graph' }, errors: ['GRAPH_BASE_URL: "graph" is not a URL (expected e.g. https://graph.microsoft.com)'] },
  { name: 'MANAGER_SOURCE unknown', env: { MANAGER_SOURCE: 'ldap' }, errors: ['MANAGER_SOURCE: "ldap" is not a manager source (one of okta, entra, google)'] },
  { name: 'MANAGER_SOURCE not configured', env: { MANAGER_SOURCE: 'okta' }, errors: ['MANAGER_SOURCE: "okta" is not configured (set OKTA_ORG_URL and OKTA_API_TOKEN)'] },
  {
    name: 'METRICS_TOKEN too short to be a secret',
    env: { METRICS_TOKEN: 'hunter2hunter2' },
    errors: ['METRICS_TOKEN: must be at least 16 characters of A-Z, a-z, 0-9, - . _ ~ + / (a bearer token for /metrics, e.g. from `openssl rand -hex 32`)'],
  },
  {
    name: 'METRICS_TOKEN with a character a bearer token cannot carry',
    env: { METRICS_TOKEN: 'correct horse battery staple' },
    errors: ['METRICS_TOKEN: must be at least 16 characters of A-Z, a-z, 0-9, - . _ ~ + / (a bearer token for /metrics, e.g. from `openssl rand -hex 32`)'],
  },
  { name: 'METRICS_PORT not a number', env: { METRICS_PORT: '90x' }, errors: ['METRICS_PORT: "90x" is not a port number (0-65535)'] },
  {
    name: 'METRICS_PORT the same as PORT',
    env: { PORT: '8080', METRICS_PORT: '8080' },
    errors: ['METRICS_PORT: is the same as PORT (8080); give /metrics another port, or unset METRICS_PORT to serve it on PORT'],
  },
  {
    name: 'METRICS_PORT the same as the default PORT',
    env: { METRICS_PORT: '3000' },
    errors: ['METRICS_PORT: is the same as PORT (3000); give /metrics another port, or unset METRICS_PORT to serve it on PORT'],
  },
  { name: 'METRICS_PORT is not compared with a wrong PORT', env: { PORT: 'http', METRICS_PORT: '3000' }, errors: ['PORT: "http" is not a port number (0-65535)'] },
  { name: 'NAME and NAME_FILE both set', env: { SLACK_SIGNING_SECRET_FILE: '/s' }, errors: ['SLACK_SIGNING_SECRET: set either SLACK_SIGNING_SECRET or SLACK_SIGNING_SECRET_FILE, not both'] },
  {
    name: 'NAME_FILE unreadable is not also "required"',
    env: { JIRA_API_TOKEN: '', JIRA_API_TOKEN_FILE: '/run/secrets/jira' },
    errors: ['JIRA_API_TOKEN_FILE: cannot read "/run/secrets/jira" (ENOENT)'],
  },
  {
    name: 'NAME_FILE empty',
    env: { JIRA_API_TOKEN: '', JIRA_API_TOKEN_FILE: '/run/secrets/jira' },
    read: files({ '/run/secrets/jira': '\n' }),
    errors: ['JIRA_API_TOKEN_FILE: "/run/secrets/jira" is empty (expected an Atlassian API token for JIRA_EMAIL)'],
  },
];

for (const c of ENV_ERRORS) {
  test(`env error: ${c.name}`, () => {
    const errors = configErrors({ ...BASE, ...c.env }, c.read);
    assert.deepEqual(errors, c.errors);
  });
}

test('env: problems are all collected, not just the first', () => {
  const errors = configErrors({ ...BASE, PORT: 'x', LOG_LEVEL: 'loud', JIRA_HOST: 'nope' });
  assert.equal(errors.length, 3);
});

test('env: secrets are never echoed', () => {
  const secretValues = ['xoxb-secret-bot', 'secret-signing', 'secret-jira-token', 'xoxb-secret-wrong', 'secret-okta', 'hunter2', 'short-metrics'];
  const errors = configErrors({
    ...BASE,
    METRICS_TOKEN: 'short-metrics',
    SLACK_APP_TOKEN: 'xoxb-secret-wrong',
    OKTA_API_TOKEN: 'secret-okta',
    SLACK_BOT_TOKEN_FILE: '/x',
    JIRA_HOST: 'https://me:hunter2@acme.atlassian.net',
  });
  assert.ok(errors.length >= 3);
  for (const e of errors) for (const s of secretValues) assert.ok(!e.includes(s), `"${e}" leaks ${s}`);
});

test('env: /metrics is open on PORT unless METRICS_TOKEN or METRICS_PORT is set', () => {
  assert.equal(okConfig(BASE).metrics, undefined);
  assert.deepEqual(okConfig({ ...BASE, METRICS_TOKEN: 'AbC-0123456789._~+/==' }).metrics, { token: 'AbC-0123456789._~+/==' });
  assert.deepEqual(okConfig({ ...BASE, METRICS_PORT: '9464' }).metrics, { port: 9464 });
  // 0 (a free port) for both is allowed: tests and the demo.
  assert.deepEqual(okConfig({ ...BASE, PORT: '0', METRICS_PORT: '0' }).metrics, { port: 0 });
  const c = okConfig({ ...BASE, METRICS_TOKEN_FILE: '/run/secrets/metrics', METRICS_PORT: '9464' }, files({ '/run/secrets/metrics': 'f00dfeedf00dfeedf00d\n' }));
  assert.deepEqual(c.metrics, { token: 'f00dfeedf00dfeedf00d', port: 9464 });
});

test('the metrics token is one of the secrets the logger masks', () => {
  assert.ok(secretsOf(okConfig({ ...BASE, METRICS_TOKEN: 'f00dfeedf00dfeedf00d' })).includes('f00dfeedf00dfeedf00d'));
});

test('env: _FILE secrets are read and lose their trailing newline', () => {
  const c = okConfig(
    { ...BASE, SLACK_BOT_TOKEN: undefined, SLACK_BOT_TOKEN_FILE: '/run/secrets/bot', GRAPH_TENANT_ID: 't', GRAPH_CLIENT_ID: 'c', GRAPH_CLIENT_SECRET_FILE: '/run/secrets/graph' },
    files({ '/run/secrets/bot': 'xoxb-from-file\n', '/run/secrets/graph': 'graph secret\r\n' }),
  );
  assert.equal(c.slack.botToken, 'xoxb-from-file');
  assert.equal(settingsByName(c).entra?.clientSecret, 'graph secret');
});

// ---------------------------------------------------------------- catalog

const ALL: ConnectorName[] = ['okta', 'entra', 'google', 'atlassian'];
// Resolved from this file so the tests do not depend on the working directory.
const EXAMPLE = fileURLToPath(new URL('../../access-catalog.example.yaml', import.meta.url));

/** A role the catalog lets be extended by default: by at most `maxMs`, under its own policy (extend: approval: same). */
function sameExtend(maxMs: number, role: Role): Role {
  return { ...role, extend: { maxMs, policy: role.approval } };
}

test('catalog: the example parses into the expected Catalog', () => {
  const r = loadCatalog(EXAMPLE, { configuredConnectors: ALL });
  if (!r.ok) assert.fail(r.errors.join('\n'));
  const expected: Catalog = {
    jira: { project: 'ACC', issueType: 'Task', transitions: { approved: 'Approve', denied: 'Reject', active: 'Provisioned', revoked: 'Done' } },
    applications: [
      {
        id: 'okta-console',
        name: 'Okta admin console',
        owners: ['owner@example.com'],
        roles: [
          sameExtend(7 * 86_400_000, {
            id: 'read-only',
            name: 'Read-only',
            grant: { connector: 'okta', group: '00g1readonly' },
            durations: [
              { token: '1h', ms: 3_600_000 },
              { token: '8h', ms: 8 * 3_600_000 },
              { token: '7d', ms: 7 * 86_400_000 },
              { token: 'permanent', ms: null },
            ],
            approval: { kind: 'stages', stages: [{ approvers: [{ kind: 'owners' }], required: 1 }], fallback: [], escalateTo: [] },
            reclaim: { afterMs: 60 * 86_400_000, warnMs: 7 * 86_400_000 },
          }),
          sameExtend(4 * 3_600_000, {
            id: 'super-admin',
            name: 'Super admin',
            grant: { connector: 'okta', group: '00g1superadm' },
            durations: [
              { token: '30m', ms: 30 * 60_000 },
              { token: '1h', ms: 3_600_000 },
              { token: '4h', ms: 4 * 3_600_000 },
            ],
            approval: {
              kind: 'stages',
              stages: [
                { approvers: [{ kind: 'manager' }], required: 1 },
                {
                  approvers: [{ kind: 'owners' }, { kind: 'email', email: 'security-lead@example.com' }, { kind: 'slackGroup', group: 'security' }],
                  required: 2,
                },
              ],
              fallback: [{ kind: 'email', email: 'it-admins@example.com' }],
              remindAfterMs: 4 * 3_600_000,
              escalateAfterMs: 86_400_000,
              escalateTo: [{ kind: 'email', email: 'it-lead@example.com' }],
              timeoutMs: 3 * 86_400_000,
            },
          }),
        ],
      },
      {
        id: 'wiki',
        name: 'Company wiki',
        owners: [],
        roles: [
          {
            id: 'reader',
            name: 'Reader',
            grant: { connector: 'google', group: 'wiki-readers@example.com' },
            durations: [{ token: 'permanent', ms: null }],
            approval: { kind: 'auto' },
          },
          {
            id: 'break-glass',
            name: 'Emergency admin',
            grant: { connector: 'entra', group: '6f1c0d2e-0000-4000-8000-000000000001' },
            durations: [{ token: '1h', ms: 3_600_000 }],
            approval: { kind: 'auto' },
            breakGlass: { notify: '#security-alerts', minReasonLength: 40, reviewers: [{ kind: 'email', email: 'security-lead@example.com' }, { kind: 'slackGroup', group: 'security' }] },
          },
        ],
      },
      {
        id: 'jira-admin',
        name: 'Jira administration',
        owners: ['platform-team@example.com', 'platform-lead@example.com'],
        roles: [
          sameExtend(86_400_000, {
            id: 'project-admin',
            name: 'Project admin',
            grant: { connector: 'atlassian', group: '2c9b1e5a-0000-4000-8000-00000000000a' },
            durations: [
              { token: '1h', ms: 3_600_000 },
              { token: '8h', ms: 8 * 3_600_000 },
              { token: '1d', ms: 86_400_000 },
            ],
            approval: { kind: 'stages', stages: [{ approvers: [{ kind: 'owners' }], required: 1 }], fallback: [], escalateTo: [], timeoutMs: 2 * 86_400_000 },
          }),
          sameExtend(4 * 3_600_000, {
            id: 'site-admin',
            name: 'Site admin',
            grant: { connector: 'atlassian', group: '2c9b1e5a-0000-4000-8000-00000000000b' },
            durations: [
              { token: '1h', ms: 3_600_000 },
              { token: '4h', ms: 4 * 3_600_000 },
            ],
            approval: { kind: 'stages', stages: [{ approvers: [{ kind: 'manager' }, { kind: 'owners' }], required: 2 }], fallback: [], escalateTo: [], timeoutMs: 86_400_000 },
          }),
        ],
      },
    ],
    delegates: [
      { email: 'it-helpdesk@example.com', for: 'all', applications: ['wiki'] },
      { email: 'office-manager@example.com', for: ['new-hire@example.com', 'intern@example.com'], applications: 'all' },
    ],
    bundles: [
      {
        id: 'platform-on-call',
        name: 'Platform on-call',
        owners: ['owner@example.com', 'platform-team@example.com', 'platform-lead@example.com'],
        parts: [
          { appId: 'okta-console', roleId: 'read-only' },
          { appId: 'jira-admin', roleId: 'project-admin' },
        ],
        durations: [
          { token: '1h', ms: 3_600_000 },
          { token: '8h', ms: 8 * 3_600_000 },
        ],
        // The strictest of its parts': each part's owners in turn, the shorter timeout.
        approval: {
          kind: 'stages',
          stages: [
            { approvers: [{ kind: 'email', email: 'owner@example.com' }], required: 1 },
            { approvers: [{ kind: 'email', email: 'platform-team@example.com' }, { kind: 'email', email: 'platform-lead@example.com' }], required: 1 },
          ],
          fallback: [],
          escalateTo: [],
          timeoutMs: 2 * 86_400_000,
        },
        ownApproval: false,
      },
    ],
  };
  assert.deepEqual(r.catalog, expected);
});

test('catalog: the example names exactly the connectors it uses', () => {
  const r = parseCatalog(readFileSync(EXAMPLE, 'utf8'), { configuredConnectors: ['atlassian'] });
  assert.deepEqual(r.ok ? [] : r.errors, [
    'applications[0].roles[0].grant.connector: "okta" is not configured (set OKTA_ORG_URL and OKTA_API_TOKEN)',
    'applications[0].roles[1].grant.connector: "okta" is not configured (set OKTA_ORG_URL and OKTA_API_TOKEN)',
    'applications[1].roles[0].grant.connector: "google" is not configured (set GOOGLE_SA_KEY_FILE and GOOGLE_ADMIN_SUBJECT)',
    'applications[1].roles[1].grant.connector: "entra" is not configured (set GRAPH_TENANT_ID, GRAPH_CLIENT_ID and GRAPH_CLIENT_SECRET)',
  ]);
});

/** A small valid catalog as data; cases change it and serialise it to YAML. */
type Doc = Record<string, unknown> & { applications: (Record<string, unknown> & { roles: Record<string, unknown>[] })[] };
function baseDoc(): Doc {
  return {
    jira: { project: 'ACC' },
    applications: [
      {
        id: 'app',
        name: 'App',
        owners: ['owner@example.com'],
        roles: [{ id: 'r', name: 'R', grant: { connector: 'okta', group: 'g1' }, durations: ['1h'], approvers: ['owners'] }],
      },
    ],
  };
}
const role0 = (d: Doc): Record<string, unknown> => d.applications[0]!.roles[0]!;

function parseDoc(d: Doc, connectors: ConnectorName[] = ALL) {
  return parseCatalog(YAML.stringify(d), { configuredConnectors: connectors });
}
function okCatalog(d: Doc): Catalog {
  const r = parseDoc(d);
  if (!r.ok) assert.fail(r.errors.join('\n'));
  return r.catalog;
}

const R = 'applications[0].roles[0]';
const CATALOG_ERRORS: { name: string; change: (d: Doc) => void; connectors?: ConnectorName[]; errors: string[] }[] = [
  {
    name: 'bad duration',
    change: (d) => (role0(d).durations = ['1h', '5x']),
    errors: [`${R}.durations[1]: "5x" is not a duration (use <n>s, <n>m, <n>h, <n>d or permanent)`],
  },
  {
    name: 'duration too long',
    change: (d) => (role0(d).durations = ['5000d']),
    errors: [`${R}.durations[0]: "5000d" is too long (at most 3650d; use permanent for no end)`],
  },
  { name: 'duplicate duration', change: (d) => (role0(d).durations = ['1h', '1h']), errors: [`${R}.durations[1]: "1h" is listed twice`] },
  { name: 'empty durations', change: (d) => (role0(d).durations = []), errors: [`${R}.durations: must list at least one duration (e.g. [1h, 8h, permanent])`] },
  {
    name: 'missing durations without defaults',
    change: (d) => delete role0(d).durations,
    errors: [`${R}.durations: required (e.g. [1h, 8h, permanent]), or set defaults.durations`],
  },
  {
    name: 'connector not configured',
    change: () => {},
    connectors: ['google', 'atlassian'],
    errors: [`${R}.grant.connector: "okta" is not configured (set OKTA_ORG_URL and OKTA_API_TOKEN)`],
  },
  {
    name: 'unknown connector',
    change: (d) => (role0(d).grant = { connector: 'azure', group: 'g' }),
    errors: [`${R}.grant.connector: "azure" is not a connector (one of ${TYPES})`],
  },
  {
    name: 'misspelt connector',
    change: (d) => (role0(d).grant = { connector: 'otka', group: 'g' }),
    errors: [`${R}.grant.connector: "otka" is not a connector (one of ${TYPES}; did you mean okta?)`],
  },
  {
    name: 'google group must be an email',
    change: (d) => (role0(d).grant = { connector: 'google', group: 'wiki-readers' }),
    errors: [`${R}.grant.group: "wiki-readers" is not an email address (Google groups are named by email)`],
  },
  { name: 'missing grant', change: (d) => delete role0(d).grant, errors: [`${R}.grant: required (e.g. grant: { connector: okta, group: <group id> })`] },
  {
    name: 'duplicate application id',
    change: (d) => d.applications.push({ ...d.applications[0]!, name: 'Other' }),
    errors: ['applications[1].id: "app" is already used by applications[0]'],
  },
  {
    name: 'duplicate role id',
    change: (d) => d.applications[0]!.roles.push({ ...role0(d), name: 'R2' }),
    errors: ['applications[0].roles[1].id: "r" is already used by applications[0].roles[0]'],
  },
  {
    name: 'bad application id',
    change: (d) => (d.applications[0]!.id = 'Okta_Console'),
    errors: ['applications[0].id: "Okta_Console" is not a valid id (lowercase letters, digits and dashes, starting with a letter or digit)'],
  },
  {
    name: 'bad role id',
    change: (d) => (role0(d).id = '-admin'),
    errors: [`${R}.id: "-admin" is not a valid id (lowercase letters, digits and dashes, starting with a letter or digit)`],
  },
  {
    name: 'unknown key (typo) is an error, and the policy it was meant to be is missed',
    change: (d) => {
      role0(d).aprovers = role0(d).approvers;
      delete role0(d).approvers;
    },
    errors: [`${R}.aprovers: unknown key (did you mean approvers?)`, `${R}: has no approval policy (set approvers: [...] or approval:, or defaults.approval)`],
  },
  {
    name: 'unknown key far from any',
    change: (d) => (d.applications[0]!.colour = 'red'),
    errors: ['applications[0].colour: unknown key (expected one of id, name, owners, defaults, roles, reviews, reclaim)'],
  },
  {
    name: 'unknown key inside approval',
    change: (d) => {
      delete role0(d).approvers;
      role0(d).approval = { approvers: ['owners'], timout: '1h' };
    },
    errors: [`${R}.approval.timout: unknown key (did you mean timeout?)`],
  },
  {
    name: 'owners on an application with no owners',
    change: (d) => delete d.applications[0]!.owners,
    errors: [`${R}.approvers[0]: "owners" but the application has no owners (add owners: [...] to it)`],
  },
  {
    name: 'not an approver',
    change: (d) => (role0(d).approvers = ['owners', 'bob']),
    errors: [`${R}.approvers[1]: "bob" is not an approver (use owners, manager, an email, or slack-group:<handle or id>)`],
  },
  {
    name: 'misspelt approver keyword',
    change: (d) => (role0(d).approvers = ['managr']),
    errors: [`${R}.approvers[0]: "managr" is not an approver (use owners, manager, an email, or slack-group:<handle or id>; did you mean manager?)`],
  },
  { name: 'bad email', change: (d) => (role0(d).approvers = ['bob@']), errors: [`${R}.approvers[0]: "bob@" is not an email address`] },
  { name: 'approver twice', change: (d) => (role0(d).approvers = ['A@x.com', 'a@x.com']), errors: [`${R}.approvers[1]: "a@x.com" is listed twice`] },
  { name: 'empty approvers', change: (d) => (role0(d).approvers = []), errors: [`${R}.approvers: must list at least one approver (use owners, manager, an email, or slack-group:<handle or id>)`] },
  {
    name: 'bad slack group',
    change: (d) => (role0(d).approvers = ['slack-group:']),
    errors: [`${R}.approvers[0]: "slack-group:" is not a Slack user group (use slack-group:<handle or id>, e.g. slack-group:security)`],
  },
  {
    name: 'required above the number of listed emails',
    change: (d) => {
      delete role0(d).approvers;
      role0(d).approval = { stages: [{ approvers: ['a@x.com', 'b@x.com'], required: 3 }] };
    },
    errors: [`${R}.approval.stages[0].required: 3 but the stage lists only 2 approvers`],
  },
  {
    name: 'required zero',
    change: (d) => {
      delete role0(d).approvers;
      role0(d).approval = { approvers: ['slack-group:sec'], required: 0 };
    },
    errors: [`${R}.approval.required: "0" is not a whole number of at least 1`],
  },
  {
    name: 'required at the policy level with stages',
    change: (d) => {
      delete role0(d).approvers;
      role0(d).approval = { stages: [{ approvers: ['manager'] }], required: 2 };
    },
    errors: [`${R}.approval.required: belongs inside a stage when stages are listed`],
  },
  {
    name: 'both approvers and approval',
    change: (d) => (role0(d).approval = 'auto'),
    errors: [`${R}: set either approvers or approval, not both`],
  },
  {
    name: 'approval neither auto nor a map',
    change: (d) => {
      delete role0(d).approvers;
      role0(d).approval = 'manual';
    },
    errors: [`${R}.approval: "manual" is not an approval policy (use auto, or a map with approvers: or stages:)`],
  },
  {
    name: 'approval with neither approvers nor stages',
    change: (d) => {
      delete role0(d).approvers;
      role0(d).approval = { timeout: '1d' };
    },
    errors: [`${R}.approval: needs approvers: [...] (one stage) or stages: [...] (or use approval: auto)`],
  },
  {
    name: 'permanent is not a timeout',
    change: (d) => {
      delete role0(d).approvers;
      role0(d).approval = { approvers: ['manager'], remindAfter: 'permanent', timeout: 'soon' };
    },
    errors: [`${R}.approval.remindAfter: "permanent" is not allowed here (use <n>s, <n>m, <n>h or <n>d)`, `${R}.approval.timeout: "soon" is not a duration (use <n>s, <n>m, <n>h or <n>d)`],
  },
  {
    name: 'escalateAfter without escalateTo',
    change: (d) => {
      delete role0(d).approvers;
      role0(d).approval = { approvers: ['manager'], escalateAfter: '1d' };
    },
    errors: [`${R}.approval.escalateAfter: set escalateTo too (who is asked after escalateAfter)`],
  },
  {
    name: 'break-glass must not offer permanent',
    change: (d) => {
      role0(d).durations = ['1h', 'permanent'];
      role0(d).breakGlass = { notify: '#sec' };
    },
    errors: [`${R}.durations[1]: a break-glass role must not offer permanent`],
  },
  {
    name: 'break-glass inheriting permanent',
    change: (d) => {
      d.defaults = { durations: ['1h', 'permanent'] };
      delete role0(d).durations;
      role0(d).breakGlass = { notify: '#sec' };
    },
    errors: [`${R}.durations: a break-glass role must not offer permanent (inherited from defaults.durations; list the role's own durations)`],
  },
  {
    name: 'break-glass without notify',
    change: (d) => (role0(d).breakGlass = { minReasonLength: 30 }),
    errors: [`${R}.breakGlass.notify: required (the Slack channel to alert, e.g. "#security-alerts" or a channel id)`],
  },
  {
    name: 'break-glass reviewers that are not approver references',
    change: (d) => (role0(d).breakGlass = { notify: '#sec', reviewers: ['owners', 'security team', 'owners'] }),
    errors: [
      `${R}.breakGlass.reviewers[1]: "security team" is not an approver (use owners, manager, an email, or slack-group:<handle or id>)`,
      `${R}.breakGlass.reviewers[2]: "owners" is listed twice`,
    ],
  },
  {
    name: 'break-glass reviewers not a list, or empty',
    change: (d) => {
      role0(d).breakGlass = { notify: '#sec', reviewers: 'owners' };
      d.applications[0]!.roles.push({ id: 'bg2', name: 'BG2', grant: { connector: 'okta', group: 'g2' }, durations: ['1h'], breakGlass: { notify: '#sec', reviewers: [] } });
    },
    errors: [
      `${R}.breakGlass.reviewers: must be a list of reviewers, e.g. [owners] (use owners, manager, an email, or slack-group:<handle or id>)`,
      `applications[0].roles[1].breakGlass.reviewers: must list at least one reviewer (use owners, manager, an email, or slack-group:<handle or id>)`,
    ],
  },
  {
    name: 'break-glass reviewers default to owners, and the application has none',
    change: (d) => {
      delete d.applications[0]!.owners;
      role0(d).approvers = ['lead@example.com'];
      role0(d).breakGlass = { notify: '#sec' };
    },
    errors: [`${R}.breakGlass.reviewers: required when the application has no owners (reviewers default to the application's owners; add reviewers: [...] or owners: [...])`],
  },
  {
    name: 'break-glass reviewers name owners, and the application has none',
    change: (d) => {
      delete d.applications[0]!.owners;
      role0(d).approvers = ['lead@example.com'];
      role0(d).breakGlass = { notify: '#sec', reviewers: ['lead@example.com', 'owners'] };
    },
    errors: [`${R}.breakGlass.reviewers[1]: "owners" but the application has no owners (add owners: [...] to it)`],
  },
  {
    name: 'break-glass minReasonLength zero',
    change: (d) => (role0(d).breakGlass = { notify: '#sec', minReasonLength: 0 }),
    errors: [`${R}.breakGlass.minReasonLength: "0" is not a whole number from 1 to 3000`],
  },
  { name: 'jira missing', change: (d) => delete d.jira, errors: ['jira: required (e.g. jira: { project: ACC })'] },
  {
    name: 'jira project not a key',
    change: (d) => (d.jira = { project: 'acc' }),
    errors: ['jira.project: "acc" is not a Jira project key (capital letters, digits and _, starting with a letter, e.g. ACC)'],
  },
  {
    name: 'jira transition for an unknown state',
    change: (d) => (d.jira = { project: 'ACC', transitions: { aproved: 'Approve' } }),
    errors: ['jira.transitions.aproved: "aproved" is not a request state (one of approved, denied, active, revoked, cancelled, timed_out, failed; did you mean approved?)'],
  },
  { name: 'no applications', change: (d) => (d.applications = []), errors: ['applications: must list at least one application'] },
  {
    name: 'name too long for a Slack menu',
    change: (d) => (role0(d).name = 'x'.repeat(80)),
    errors: [`${R}.name: is 80 characters long (Slack shows at most 75 in a menu)`],
  },
  {
    name: 'inherited owners in an application without owners: one line for the application',
    change: (d) => {
      d.defaults = { approvers: ['owners'] };
      delete d.applications[0]!.owners;
      delete role0(d).approvers;
      d.applications[0]!.roles.push({ id: 's', name: 'S', grant: { connector: 'okta', group: 'g2' }, durations: ['1h'] });
    },
    errors: ['applications[0]: has no owners, but roles r, s inherit "owners" from defaults.approvers[0] (add owners: [...] or give them their own approvers)'],
  },
  {
    name: 'warnBefore not a list',
    change: (d) => (role0(d).warnBefore = '1h'),
    errors: [`${R}.warnBefore: must be a list of spans before the end, e.g. [1d, 1h], or [] for no warning`],
  },
  { name: 'warnBefore not a span', change: (d) => (role0(d).warnBefore = ['1h', 'soon']), errors: [`${R}.warnBefore[1]: "soon" is not a duration (use <n>s, <n>m, <n>h or <n>d)`] },
  { name: 'warnBefore permanent', change: (d) => (role0(d).warnBefore = ['permanent']), errors: [`${R}.warnBefore[0]: "permanent" is not allowed here (use <n>s, <n>m, <n>h or <n>d)`] },
  { name: 'warnBefore listed twice', change: (d) => (role0(d).warnBefore = ['1h', '60m']), errors: [`${R}.warnBefore[1]: "60m" is listed twice`] },
  {
    name: 'delegates not a list',
    change: (d) => (d.delegates = { email: 'eve@example.com', for: 'all' }),
    errors: ['delegates: must be a list of delegates, e.g. - { email: helpdesk@example.com, for: all }'],
  },
  {
    name: 'a delegate without for',
    change: (d) => (d.delegates = [{ email: 'eve@example.com' }]),
    errors: ['delegates[0].for: required (all, or a list of the emails this person may request for)'],
  },
  {
    name: 'a delegate whose email or for is not an email',
    change: (d) => (d.delegates = [{ email: 'eve', for: ['alice@example.com', 'bob'] }]),
    errors: ['delegates[0].email: "eve" is not an email address', 'delegates[0].for[1]: "bob" is not an email address'],
  },
  {
    name: 'a delegate for everyone spelt otherwise',
    change: (d) => (d.delegates = [{ email: 'eve@example.com', for: 'everyone' }]),
    errors: ['delegates[0].for: "everyone" is neither all nor a list of emails (e.g. [alice@example.com])'],
  },
  {
    name: 'a delegate listing themself or someone twice',
    change: (d) => (d.delegates = [{ email: 'Eve@example.com', for: ['alice@example.com', 'eve@example.com', 'ALICE@example.com'] }]),
    errors: [
      'delegates[0].for[1]: "eve@example.com" is the delegate themself (everyone may request for themself; list the others)',
      'delegates[0].for[2]: "alice@example.com" is listed twice',
    ],
  },
  {
    name: 'a delegate naming an application the catalog does not have',
    change: (d) => (d.delegates = [{ email: 'eve@example.com', for: 'all', applications: ['ap'] }]),
    errors: ['delegates[0].applications[0]: "ap" is not an application id in this catalog; did you mean app?'],
  },
  {
    name: 'a delegate with an unknown key',
    change: (d) => (d.delegates = [{ email: 'eve@example.com', for: 'all', aplications: ['app'] }]),
    errors: ['delegates[0].aplications: unknown key (did you mean applications?)'],
  },
  { name: 'reviews: unknown key', change: (d) => (role0(d).reviews = { evry: '90d' }), errors: [`${R}.reviews.evry: unknown key (did you mean every?)`] },
  { name: 'reviews: onDue not a policy', change: (d) => (role0(d).reviews = { onDue: 'delete' }), errors: [`${R}.reviews.onDue: "delete" is not one of keep, revoke, escalate`] },
  {
    name: 'reviews: a schedule shorter than the review',
    change: (d) => (d.applications[0]!.reviews = { every: '7d', due: '14d' }),
    errors: ['applications[0].reviews.every: 7 days is shorter than due (14 days): a review would start before the last one is due'],
  },
  {
    name: 'reviews: escalation at or after the due date',
    change: (d) => (role0(d).reviews = { due: '7d', escalateAfter: '7d' }),
    errors: [`${R}.reviews.escalateAfter: 7 days is not before the due date (due: 7 days); for escalation at the due date use onDue: escalate`],
  },
  { name: 'reviews: a reminder not before the due date', change: (d) => (role0(d).reviews = { due: '2d', remindBefore: ['1d', '3d'] }), errors: [`${R}.reviews.remindBefore[1]: "3d" is not before the due date (due: 2 days after the start)`] },
  {
    name: 'reviews: manager cannot review',
    change: (d) => (role0(d).reviews = { reviewers: ['owners', 'manager'] }),
    errors: [`${R}.reviews.reviewers[1]: "manager" cannot review: a review asks named people (use owners or an email)`],
  },
  {
    name: 'reviews: owners in an application without owners',
    change: (d) => {
      delete d.applications[0]!.owners;
      role0(d).approvers = ['lead@example.com'];
      role0(d).reviews = { every: '90d' };
    },
    errors: [`${R}.reviews.reviewers: required when the application has no owners (reviewers default to the application's owners)`],
  },
  { name: 'reviews: fallback not emails', change: (d) => (role0(d).reviews = { fallback: ['it-lead'] }), errors: [`${R}.reviews.fallback[0]: "it-lead" is not an email address`] },
];

test('catalog: delegates may request for everyone or for listed people, in every or in listed applications', () => {
  const d = baseDoc();
  d.delegates = [
    { email: 'Helpdesk@example.com', for: 'all', applications: ['app'] },
    { email: 'eve@example.com', for: ['Alice@example.com'] },
  ];
  assert.deepEqual(okCatalog(d).delegates, [
    { email: 'helpdesk@example.com', for: 'all', applications: ['app'] },
    { email: 'eve@example.com', for: ['alice@example.com'], applications: 'all' },
  ]);
  d.delegates = [];
  assert.equal(okCatalog(d).delegates, undefined, 'an empty list is no delegates');
});

test('catalog: reviews on an application and a role, with their defaults', () => {
  const d = baseDoc();
  d.applications[0]!.reviews = { every: '90d', reviewers: ['owners', 'Audit@Example.com'], onDue: 'escalate', fallback: ['lead@example.com'] };
  d.applications[0]!.roles.push({ id: 's', name: 'S', grant: { connector: 'okta', group: 'g2' }, durations: ['1h'], approvers: ['owners'], reviews: { due: '7d', remindBefore: [], escalateAfter: '5d', inactiveAfter: '30d' } });
  const app = okCatalog(d).applications[0]!;
  assert.deepEqual(app.reviews, {
    everyMs: 90 * 86_400_000,
    dueMs: 14 * 86_400_000,
    reviewers: [{ kind: 'owners' }, { kind: 'email', email: 'audit@example.com' }],
    fallback: ['lead@example.com'],
    onDue: 'escalate',
    remindBeforeMs: [3 * 86_400_000, 86_400_000],
    inactiveAfterMs: 90 * 86_400_000,
  });
  assert.equal(app.roles[0]!.reviews, undefined, "the first role has none of its own: the application's apply");
  assert.deepEqual(app.roles[1]!.reviews, { dueMs: 7 * 86_400_000, reviewers: [{ kind: 'owners' }], fallback: [], onDue: 'keep', remindBeforeMs: [], escalateAfterMs: 5 * 86_400_000, inactiveAfterMs: 30 * 86_400_000 });
});

test('catalog: warnBefore lists spans before the end; [] turns warnings off', () => {
  const d = baseDoc();
  role0(d).warnBefore = ['2h', '15m'];
  assert.deepEqual(okCatalog(d).applications[0]!.roles[0]!.warnBefore, [2 * 3_600_000, 15 * 60_000]);
  role0(d).warnBefore = [];
  assert.deepEqual(okCatalog(d).applications[0]!.roles[0]!.warnBefore, []);
});

for (const c of CATALOG_ERRORS) {
  test(`catalog error: ${c.name}`, () => {
    const d = baseDoc();
    c.change(d);
    const r = parseDoc(d, c.connectors);
    assert.deepEqual(r.ok ? [] : r.errors, c.errors);
  });
}

test('catalog: YAML syntax errors are one line with line:col', () => {
  const r = parseCatalog('jira:\n  project: ACC\napplications:\n  - id: [x\n', { configuredConnectors: ALL, source: 'access-catalog.yaml' });
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.equal(r.errors.length, 1);
  assert.match(r.errors[0]!, /^access-catalog\.yaml:\d+:\d+: YAML syntax error: \S/);
  assert.doesNotMatch(r.errors[0]!, /\n/);
});

test('catalog: duplicate YAML keys are syntax errors with their position', () => {
  const r = parseCatalog('jira:\n  project: ACC\n  project: ACD\napplications: []\n', { configuredConnectors: ALL });
  assert.deepEqual(r.ok ? [] : r.errors, ['catalog:3:3: YAML syntax error: Map keys must be unique']);
});

test('catalog: empty or non-map documents', () => {
  const empty = parseCatalog('# nothing\n', { configuredConnectors: ALL, source: 'c.yaml' });
  assert.deepEqual(empty.ok ? [] : empty.errors, ['c.yaml: is empty (expected jira: and applications:)']);
  const list = parseCatalog('- a\n', { configuredConnectors: ALL, source: 'c.yaml' });
  assert.deepEqual(list.ok ? [] : list.errors, ['c.yaml: must be a map with jira: and applications:']);
});

test('catalog: a missing file is one clear error', () => {
  const r = loadCatalog('/nonexistent/access-catalog.yaml', { configuredConnectors: ALL });
  assert.deepEqual(r.ok ? [] : r.errors, ['/nonexistent/access-catalog.yaml: catalog file not found (set ACCESS_CATALOG, or start from access-catalog.example.yaml)']);
});

test('catalog: all problems are collected', () => {
  const d = baseDoc();
  role0(d).durations = ['5x'];
  role0(d).approvers = ['bob'];
  d.applications[0]!.id = 'Bad';
  const r = parseDoc(d);
  assert.equal(r.ok ? 0 : r.errors.length, 3);
});

test('catalog: emails are lower-cased, scalars keep their text', () => {
  const d = baseDoc();
  d.applications[0]!.owners = ['Owner@Example.COM'];
  role0(d).approvers = ['Sec-Lead@Example.com', 'slack-group:@Security'];
  role0(d).grant = { connector: 'google', group: 'Wiki-Readers@Example.com' };
  const c = okCatalog(d);
  const app = c.applications[0]!;
  assert.deepEqual(app.owners, ['owner@example.com']);
  assert.deepEqual(app.roles[0]!.grant, { connector: 'google', group: 'wiki-readers@example.com' });
  assert.deepEqual(app.roles[0]!.approval, {
    kind: 'stages',
    stages: [{ approvers: [{ kind: 'email', email: 'sec-lead@example.com' }, { kind: 'slackGroup', group: 'Security' }], required: 1 }],
    fallback: [],
    escalateTo: [],
  });
  // A group id written 0123 stays "0123": the catalog is read without YAML number coercion.
  const z = parseCatalog('jira: { project: ACC }\napplications:\n  - { id: a, name: A, roles: [{ id: r, name: R, grant: { connector: okta, group: 0123 }, durations: [1h], approval: auto }] }\n', {
    configuredConnectors: ALL,
  });
  assert.equal(z.ok && z.catalog.applications[0]!.roles[0]!.grant.group, '0123');
});

test('catalog: jira defaults', () => {
  assert.deepEqual(okCatalog(baseDoc()).jira, { project: 'ACC', issueType: 'Task', transitions: {} });
});

test('catalog: required may exceed the listed count when a group, owners or manager is listed', () => {
  const d = baseDoc();
  delete role0(d).approvers;
  role0(d).approval = { approvers: ['slack-group:security', 'a@x.com'], required: 3 };
  const policy = okCatalog(d).applications[0]!.roles[0]!.approval;
  assert.equal(policy.kind === 'stages' && policy.stages[0]!.required, 3);
});

test('catalog: defaults precedence is role > application > top level, per field', () => {
  const d = baseDoc();
  d.defaults = { durations: ['1d'], approval: { approvers: ['manager'], timeout: '3d' } };
  const app = d.applications[0]!;
  app.defaults = { approvers: ['owners'] };
  app.roles = [
    { id: 'own', name: 'Own', grant: { connector: 'okta', group: 'g1' }, durations: ['1h'], approval: 'auto' },
    { id: 'from-app', name: 'From app', grant: { connector: 'okta', group: 'g2' } },
  ];
  d.applications.push({ id: 'other', name: 'Other', roles: [{ id: 'from-top', name: 'From top', grant: { connector: 'okta', group: 'g3' } }] });
  const [a, b] = okCatalog(d).applications;
  const [own, fromApp] = a!.roles;
  const fromTop = b!.roles[0]!;
  assert.deepEqual(own!.approval, { kind: 'auto' });
  assert.deepEqual(own!.durations, [{ token: '1h', ms: 3_600_000 }]);
  assert.deepEqual(fromApp!.approval, { kind: 'stages', stages: [{ approvers: [{ kind: 'owners' }], required: 1 }], fallback: [], escalateTo: [] });
  assert.deepEqual(fromApp!.durations, [{ token: '1d', ms: 86_400_000 }]);
  assert.deepEqual(fromTop.approval, { kind: 'stages', stages: [{ approvers: [{ kind: 'manager' }], required: 1 }], fallback: [], escalateTo: [], timeoutMs: 3 * 86_400_000 });
});

test('catalog: break-glass is auto unless the role gives its own approval, and ignores approval defaults', () => {
  const d = baseDoc();
  d.defaults = { approvers: ['manager'] };
  delete role0(d).approvers;
  role0(d).breakGlass = { notify: 'C0123456' };
  d.applications[0]!.roles.push({
    id: 'bg2',
    name: 'BG2',
    grant: { connector: 'okta', group: 'g2' },
    durations: ['1h'],
    approvers: ['owners'],
    breakGlass: { notify: '#sec', minReasonLength: 10 },
  });
  const [bg, bg2] = okCatalog(d).applications[0]!.roles;
  assert.deepEqual(bg!.approval, { kind: 'auto' });
  assert.deepEqual(bg!.breakGlass, { notify: 'C0123456', minReasonLength: 20, reviewers: [{ kind: 'owners' }] });
  assert.deepEqual(bg2!.approval, { kind: 'stages', stages: [{ approvers: [{ kind: 'owners' }], required: 1 }], fallback: [], escalateTo: [] });
  assert.deepEqual(bg2!.breakGlass, { notify: '#sec', minReasonLength: 10, reviewers: [{ kind: 'owners' }] });
});

test('catalog: break-glass reviewers take every approver form, and default to the owners', () => {
  const d = baseDoc();
  role0(d).breakGlass = { notify: '#sec', reviewers: ['Lead@Example.com', 'slack-group:@security', 'manager', 'owners'] };
  d.applications[0]!.roles.push({ id: 'bg2', name: 'BG2', grant: { connector: 'okta', group: 'g2' }, durations: ['1h'], breakGlass: { notify: '#sec' } });
  const [bg, bg2] = okCatalog(d).applications[0]!.roles;
  assert.deepEqual(bg!.breakGlass!.reviewers, [{ kind: 'email', email: 'lead@example.com' }, { kind: 'slackGroup', group: 'security' }, { kind: 'manager' }, { kind: 'owners' }]);
  assert.deepEqual(bg2!.breakGlass!.reviewers, [{ kind: 'owners' }]);
});

test('env: the reclaim and account-status schedules: a cron expression or off, absent by default', () => {
  assert.equal(okConfig(BASE).reclaimSchedule, undefined);
  const c = okConfig({ ...BASE, RECLAIM_SCHEDULE: '5 3 * * *', OFFBOARDING_SCHEDULE: 'off' });
  assert.deepEqual([c.reclaimSchedule, c.offboardingSchedule], ['5 3 * * *', 'off']);
});

test('env: ALLOW_GUESTS is off unless set to true', () => {
  assert.equal(okConfig(BASE).allowGuests, false);
  assert.equal(okConfig({ ...BASE, ALLOW_GUESTS: 'false' }).allowGuests, false);
  assert.equal(okConfig({ ...BASE, ALLOW_GUESTS: ' true ' }).allowGuests, true);
});

test('catalog: YAML anchors and merge keys work', () => {
  const text = `
jira: { project: ACC }
applications:
  - id: a
    name: A
    owners: [o@x.com]
    roles:
      - &base { id: r1, name: R1, grant: { connector: okta, group: g1 }, durations: [1h], approvers: [owners] }
      - <<: *base
        id: r2
        name: R2
`;
  const r = parseCatalog(text, { configuredConnectors: ALL });
  if (!r.ok) assert.fail(r.errors.join('\n'));
  assert.deepEqual(
    r.catalog.applications[0]!.roles.map((x) => x.id),
    ['r1', 'r2'],
  );
});

// ---------------------------------------------------------------- grants that are not a group (aws-sso)

const PS = 'arn:aws:sso:::permissionSet/ssoins-72230000aaaa0001/ps-0123456789abcdef';

test('catalog: an aws-sso grant names an account and a permission set, and becomes one group string', () => {
  const d = baseDoc();
  role0(d).grant = { connector: 'aws-sso', account: '012345678901', permissionSet: PS };
  const r = parseDoc(d, [...ALL, 'aws-sso']);
  if (!r.ok) assert.fail(r.errors.join('\n'));
  assert.deepEqual(r.catalog.applications[0]!.roles[0]!.grant, { connector: 'aws-sso', group: `012345678901/${PS}` });
});

test('catalog: an aws-sso grant with a group, a short account or a name for a permission set is one clear line each', () => {
  const d = baseDoc();
  role0(d).grant = { connector: 'aws-sso', group: 'admins', account: '1234', permissionSet: 'AdministratorAccess' };
  const r = parseDoc(d, [...ALL, 'aws-sso']);
  assert.equal(r.ok, false);
  const example = "{ connector: aws-sso, account: '123456789012', permissionSet: 'arn:aws:sso:::permissionSet/ssoins-…/ps-…' }";
  assert.deepEqual(!r.ok && r.errors, [
    `${R}.grant.group: unknown key (expected one of connector, account, permissionSet)`,
    `${R}.grant: account "1234" is not an AWS account id (12 digits; quote it in YAML so leading zeros stay) (e.g. ${example})`,
  ]);
  role0(d).grant = { connector: 'aws-sso', account: '123456789012', permissionSet: 'AdministratorAccess' };
  const r2 = parseDoc(d, [...ALL, 'aws-sso']);
  assert.match(!r2.ok ? r2.errors[0]! : '', /grant: permissionSet "AdministratorAccess" is not a permission set ARN/);
  role0(d).grant = { connector: 'aws-sso', account: '123456789012' };
  const r3 = parseDoc(d, [...ALL, 'aws-sso']);
  assert.deepEqual(!r3.ok && r3.errors, [`${R}.grant.permissionSet: required (e.g. ${example})`]);
});
