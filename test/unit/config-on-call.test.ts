import assert from 'node:assert/strict';
import { test } from 'node:test';
import { catalogOptionsOf, loadConfig, SECRET_VARS } from '../../src/config/env.js';
import { secretsOf } from '../../src/config/types.js';

const BASE: Record<string, string> = {
  SLACK_BOT_TOKEN: 'xoxb-secret-bot',
  SLACK_SIGNING_SECRET: 'secret-signing',
  JIRA_HOST: 'https://acme.atlassian.net',
  JIRA_EMAIL: 'bot@acme.com',
  JIRA_API_TOKEN: 'secret-jira-token',
};
const CLOUD_ID = '5f6e7d8c-0000-4000-8000-00000000c10d';
const noFiles = (p: string): string => {
  throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
};

function load(env: Record<string, string>, read = noFiles) {
  return loadConfig({ ...BASE, ...env }, read);
}

test('env: no on-call service unless PAGERDUTY_TOKEN or JSM_OPS_CLOUD_ID is set', () => {
  const r = load({});
  assert.ok(r.ok);
  assert.deepEqual(r.config.onCall, []);
  assert.deepEqual(catalogOptionsOf(r.config).configuredOnCall, []);
});

test('env: PagerDuty and JSM Operations, with their defaults', () => {
  const r = load({ PAGERDUTY_TOKEN: 'pd-secret-key-0001', JSM_OPS_CLOUD_ID: CLOUD_ID });
  assert.ok(r.ok, r.ok ? '' : r.errors.join('\n'));
  assert.deepEqual(r.config.onCall, [
    { type: 'pagerduty', token: 'pd-secret-key-0001', url: 'https://api.pagerduty.com' },
    { type: 'jsm-ops', cloudId: CLOUD_ID, email: 'bot@acme.com', apiToken: 'secret-jira-token', url: 'https://api.atlassian.com', siteUrl: 'https://acme.atlassian.net' },
  ]);
  assert.deepEqual(catalogOptionsOf(r.config).configuredOnCall, ['pagerduty', 'jsm-ops']);
  assert.ok(secretsOf(r.config).includes('pd-secret-key-0001'));
});

test('env: on-call URLs, JSM credentials of their own, and secrets from files', () => {
  const r = load(
    { PAGERDUTY_TOKEN_FILE: '/run/pd', PAGERDUTY_URL: 'https://api.eu.pagerduty.com/', JSM_OPS_CLOUD_ID: CLOUD_ID, JSM_OPS_URL: 'http://127.0.0.1:4010', JSM_OPS_EMAIL: 'ops@acme.com', JSM_OPS_API_TOKEN: 'ops-secret-token' },
    (p) => (p === '/run/pd' ? 'pd-from-file-0002\n' : noFiles(p)),
  );
  assert.ok(r.ok, r.ok ? '' : r.errors.join('\n'));
  assert.deepEqual(r.config.onCall, [
    { type: 'pagerduty', token: 'pd-from-file-0002', url: 'https://api.eu.pagerduty.com' },
    { type: 'jsm-ops', cloudId: CLOUD_ID, email: 'ops@acme.com', apiToken: 'ops-secret-token', url: 'http://127.0.0.1:4010', siteUrl: 'https://acme.atlassian.net' },
  ]);
  assert.ok(SECRET_VARS.includes('PAGERDUTY_TOKEN') && SECRET_VARS.includes('JSM_OPS_API_TOKEN'));
});

test('env: each on-call mistake is one line naming the variable, and no secret', () => {
  const r = load({ PAGERDUTY_URL: 'https://api.pagerduty.com/v2', JSM_OPS_EMAIL: 'ops@acme.com', JSM_OPS_API_TOKEN: 'ops-secret-token' });
  assert.ok(!r.ok);
  assert.deepEqual(r.errors, [
    'PAGERDUTY_URL: "https://api.pagerduty.com/v2" has a path (expected only scheme, host and port, e.g. https://api.pagerduty.com)',
    'JSM_OPS_EMAIL: is set but JSM_OPS_CLOUD_ID is not (set JSM_OPS_CLOUD_ID to the site’s cloud id (https://<your-site>.atlassian.net/_edge/tenant_info), with JSM_OPS_EMAIL and JSM_OPS_API_TOKEN unless the Jira credentials may read the schedules, or unset JSM_OPS_EMAIL)',
    'JSM_OPS_API_TOKEN: is set but JSM_OPS_CLOUD_ID is not (set JSM_OPS_CLOUD_ID to the site’s cloud id (https://<your-site>.atlassian.net/_edge/tenant_info), with JSM_OPS_EMAIL and JSM_OPS_API_TOKEN unless the Jira credentials may read the schedules, or unset JSM_OPS_API_TOKEN)',
  ]);
  const url = load({ PAGERDUTY_URL: 'https://api.pagerduty.com' });
  assert.deepEqual(url.ok ? [] : url.errors, ['PAGERDUTY_URL: is set but PAGERDUTY_TOKEN is not (set PAGERDUTY_TOKEN to a PagerDuty REST API key (Integrations → API Access Keys; read-only is enough), or unset PAGERDUTY_URL)']);
  const cloud = load({ JSM_OPS_CLOUD_ID: 'acme', JSM_OPS_EMAIL: 'not-an-email' });
  assert.deepEqual(cloud.ok ? [] : cloud.errors, [
    'JSM_OPS_CLOUD_ID: "acme" is not a cloud id (a UUID, shown at https://<your-site>.atlassian.net/_edge/tenant_info)',
    'JSM_OPS_EMAIL: "not-an-email" is not an email address (the Atlassian account that owns JSM_OPS_API_TOKEN)',
  ]);
  assert.ok(!JSON.stringify([r, cloud]).includes('ops-secret-token'));
});
