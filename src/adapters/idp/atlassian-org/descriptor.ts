/**
 * The Atlassian organization connector type: product access through an org directory's groups,
 * with an org API key (`ATLASSIAN_ORG_API_KEY`), separate from the Jira credentials.
 */
import { defineConnector } from '../descriptor.js';
import { AtlassianOrgConnector } from './connector.js';

export const atlassianOrg = defineConnector({
  type: 'atlassian-org',
  label: 'Atlassian organization',
  settings: {
    orgId: { env: 'ATLASSIAN_ORG_ID', hint: 'your Atlassian organization id (admin.atlassian.com → Settings → API keys)' },
    directoryId: { env: 'ATLASSIAN_ORG_DIRECTORY_ID', hint: 'the directory whose groups the catalog grants (admin.atlassian.com → Directory, in its URL)' },
    apiKey: { env: 'ATLASSIAN_ORG_API_KEY', hint: 'an Atlassian organization API key', secret: true },
    baseUrl: { env: 'ATLASSIAN_ADMIN_URL', hint: 'the Atlassian admin API origin', kind: 'origin', example: 'https://api.atlassian.com', default: 'https://api.atlassian.com' },
  },
  groups: { what: 'the group id' },
  check: {
    title: 'Atlassian organization',
    product: 'Atlassian admin',
    urls: ['baseUrl'],
    credentialsFix: (from) =>
      `${from.apiKey} was refused or cannot see ${from.orgId} / ${from.directoryId}: create an API key in admin.atlassian.com (Settings → API keys) as an organization admin, and set ${from.apiKey}, ${from.orgId} (shown with the key) and ${from.directoryId}`,
    groupHint: 'the id of a group of that directory that is not synced from an identity provider (a synced group is managed in your IdP: grant it through its connector)',
  },
  prototype: AtlassianOrgConnector.prototype,
  create: (s, deps) => AtlassianOrgConnector.fromConfig({ name: deps.name, baseUrl: s.baseUrl, orgId: s.orgId, directoryId: s.directoryId, apiKey: s.apiKey }, deps),
});
