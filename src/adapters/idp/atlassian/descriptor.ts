/**
 * The Atlassian groups connector type. Its default instance uses the Jira credentials
 * (`JIRA_HOST`, `JIRA_EMAIL`, `JIRA_API_TOKEN`), so it is on whenever Jira is; a named instance
 * in the catalog's `connectors:` may use other credentials or another site.
 */
import { defineConnector } from '../descriptor.js';
import { AtlassianConnector } from './connector.js';

export const atlassian = defineConnector({
  type: 'atlassian',
  label: 'Atlassian',
  settings: {
    host: { env: 'JIRA_HOST', hint: 'your Jira Cloud site, e.g. https://your-site.atlassian.net', kind: 'origin', example: 'https://your-site.atlassian.net' },
    email: { env: 'JIRA_EMAIL', hint: 'the Atlassian account email that owns JIRA_API_TOKEN', kind: 'email' },
    apiToken: { env: 'JIRA_API_TOKEN', hint: 'an Atlassian API token for JIRA_EMAIL', secret: true },
  },
  groups: { what: 'the group id' },
  check: {
    title: 'Atlassian groups',
    product: 'Atlassian',
    urls: ['host'],
    credentialsFix: (from) => `check ${from.email} and ${from.apiToken}; adding people to groups needs the account to be a site admin or user access admin`,
    groupHint: 'the group id (from admin.atlassian.com → Directory → Groups, in the group’s URL)',
    onlyWhenUsed: true,
  },
  prototype: AtlassianConnector.prototype,
  create: (s, deps) => AtlassianConnector.fromConfig({ name: deps.name, host: s.host, email: s.email, apiToken: s.apiToken }, deps),
});
