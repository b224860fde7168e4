/**
 * `access-bot check` for the Atlassian organization connector, against its emulator: the
 * organization, directory and each catalog group, with a precise fix per failure (a wrong key, a
 * directory the org does not have, a missing group, a group synced from an identity provider).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { checkIdp } from '../../src/check/idp.js';
import { parseCatalog } from '../../src/config/catalog.js';
import type { Config, ConnectorConfig } from '../../src/config/types.js';
import type { Catalog } from '../../src/domain/catalog.js';
import { AtlassianAdminEmulator } from '../emulators/atlassian-admin.js';

const OK_GROUP = '3c0f1a2e-0000-4000-8000-0000000000f1';
const SYNCED = '3c0f1a2e-0000-4000-8000-0000000000f2';
const GHOST = '3c0f1a2e-0000-4000-8000-0000000000f3';
const SOURCES = { orgId: 'ATLASSIAN_ORG_ID', directoryId: 'ATLASSIAN_ORG_DIRECTORY_ID', apiKey: 'ATLASSIAN_ORG_API_KEY', baseUrl: 'ATLASSIAN_ADMIN_URL' };

const org = new AtlassianAdminEmulator();
let catalog: Catalog;
const config = { catalogPath: '/etc/access-bot/access-catalog.yaml' } as Config;

before(async () => {
  await org.start();
  org.addGroup({ id: OK_GROUP, name: 'confluence-users' });
  org.addGroup({ id: SYNCED, name: 'okta-jira-users', externalSynced: true });
  const parsed = parseCatalog(
    `
jira: { project: ACC, issueType: Task }
applications:
  - id: confluence
    name: Confluence
    owners: [owner@example.com]
    roles:
      - { id: user, name: User, grant: { connector: atlassian-org, group: ${OK_GROUP} }, durations: [4h], approvers: [owners] }
      - { id: idp, name: IdP, grant: { connector: atlassian-org, group: ${SYNCED} }, durations: [4h], approvers: [owners] }
      - { id: ghost, name: Ghost, grant: { connector: atlassian-org, group: ${GHOST} }, durations: [4h], approvers: [owners] }
`,
    { configuredConnectors: ['atlassian-org'] },
  );
  assert.ok(parsed.ok, JSON.stringify(!parsed.ok && parsed.errors));
  catalog = parsed.catalog;
});
after(async () => {
  await org.stop();
});

function instance(settings: Partial<Record<keyof typeof SOURCES, string>> = {}): ConnectorConfig {
  return {
    name: 'atlassian-org',
    type: 'atlassian-org',
    settings: { orgId: org.orgId, directoryId: org.directoryId, apiKey: org.apiKey, baseUrl: org.url, ...settings },
    sources: SOURCES,
    secrets: ['apiKey'],
  };
}

test('check: the org and directory, a good group, a synced group and a missing group, each failure with its fix', async () => {
  const items = await checkIdp(instance(), config, catalog, 2000);
  const byName = (re: RegExp) => items.find((i) => re.test(i.name))!;
  const cred = byName(/credentials valid/);
  assert.deepEqual([cred.status, cred.detail], ['pass', 'organization Example Org, directory Example directory']);
  assert.equal(byName(new RegExp(OK_GROUP)).status, 'pass');
  const synced = byName(new RegExp(SYNCED));
  assert.equal(synced.status, 'fail');
  assert.match(synced.detail!, /synced from an identity provider.*manage this group in your IdP, or grant through its connector/);
  assert.match(synced.fix!, /set grant\.group of confluence\/idp in \/etc\/access-bot\/access-catalog\.yaml to the id of a group of that directory that is not synced from an identity provider \(a synced group is managed in your IdP: grant it through its connector\)/);
  const ghost = byName(new RegExp(GHOST));
  assert.equal(ghost.status, 'fail');
  assert.match(ghost.detail!, new RegExp(`Atlassian group ${GHOST} not found`));
  assert.match(ghost.fix!, /set grant\.group of confluence\/ghost/);
});

test('check: a wrong key fails the credentials with how to make one, groups are skipped, the key never shown', async () => {
  const items = await checkIdp(instance({ apiKey: 'atlassian-wrong-key-0123456789' }), config, catalog, 2000);
  const cred = items.find((i) => /credentials/.test(i.name))!;
  assert.equal(cred.status, 'fail');
  assert.match(cred.fix!, /^ATLASSIAN_ORG_API_KEY was refused or cannot see ATLASSIAN_ORG_ID \/ ATLASSIAN_ORG_DIRECTORY_ID: create an API key in admin\.atlassian\.com/);
  assert.ok(items.filter((i) => /group/.test(i.name)).every((i) => i.status === 'skip'));
  assert.ok(!JSON.stringify(items).includes('atlassian-wrong-key-0123456789'));
});

test('check: a directory the org does not have fails the credentials item, naming the directories it has', async () => {
  const items = await checkIdp(instance({ directoryId: 'not-our-directory' }), config, catalog, 2000);
  const cred = items.find((i) => /credentials/.test(i.name))!;
  assert.equal(cred.status, 'fail');
  assert.match(cred.detail!, new RegExp(`directory not-our-directory is not in organization Example Org \\(its directories: ${org.directoryId}\\)`));
  assert.match(cred.fix!, /ATLASSIAN_ORG_DIRECTORY_ID/);
});
