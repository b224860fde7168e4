/**
 * Connectors' SDKs load when they are first needed (src/adapters/lazyModule.ts), not with the
 * bot: composing a bot with Jira and Okta loads neither jira.js (the Atlassian connector is on
 * whenever Jira is) nor the Google, Graph or AWS clients. node:test runs this file in a process
 * of its own, so the module cache holds only what its imports and calls loaded.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { buildConnectors } from '../../src/compose.js';
import { loadConfig } from '../../src/config/env.js';

const LAZY = ['jira.js', '@googleapis/admin', '@microsoft/microsoft-graph-client', '@aws-sdk/client-sso-admin', '@aws-sdk/client-identitystore'];
const CATALOG_PATH = '/etc/access-bot/catalog.yaml';
const CATALOG = `
jira: { project: ACC }
applications:
  - id: console
    name: Console
    roles:
      - { id: eu, name: EU, grant: { connector: okta, group: 00geu }, durations: [1h], approval: auto }
`;

function loaded(): string[] {
  const keys = Object.keys(createRequire(import.meta.url).cache);
  return LAZY.filter((pkg) => keys.some((k) => k.includes(`/node_modules/${pkg}/`)));
}

test('a bot with Jira and Okta loads no connector SDK at start; the Atlassian connector loads jira.js at its first call', async () => {
  const r = loadConfig(
    {
      SLACK_BOT_TOKEN: 'xoxb-secret-bot',
      SLACK_SIGNING_SECRET: 'secret-signing',
      // Nothing listens on the discard port: the call below is refused at once.
      JIRA_HOST: 'http://127.0.0.1:9',
      JIRA_EMAIL: 'bot@acme.com',
      JIRA_API_TOKEN: 'secret-jira-token',
      OKTA_ORG_URL: 'https://acme.okta.com',
      OKTA_API_TOKEN: 'secret-okta',
      ACCESS_CATALOG: CATALOG_PATH,
    },
    (p) => {
      if (p === CATALOG_PATH) return CATALOG;
      throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
    },
  );
  if (!r.ok) assert.fail(r.errors.join('\n'));
  const connectors = buildConnectors(r.config);
  assert.deepEqual(Object.keys(connectors).sort(), ['atlassian', 'okta']);
  assert.deepEqual(loaded(), []);

  const atlassian = connectors.atlassian as { findUserByEmail(email: string): Promise<unknown> };
  await assert.rejects(atlassian.findUserByEmail('ada@example.com'));
  assert.deepEqual(loaded(), ['jira.js']);
});
