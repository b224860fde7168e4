/** The Okta connector type: `OKTA_ORG_URL` and `OKTA_API_TOKEN` for the default instance. */
import { defineConnector } from '../descriptor.js';
import { OktaConnector } from './connector.js';

export const okta = defineConnector({
  type: 'okta',
  label: 'Okta',
  settings: {
    orgUrl: { env: 'OKTA_ORG_URL', hint: 'your Okta org, e.g. https://your-org.okta.com', kind: 'origin', example: 'https://your-org.okta.com' },
    apiToken: { env: 'OKTA_API_TOKEN', hint: 'an Okta API token', secret: true },
  },
  groups: { what: 'the group id' },
  check: {
    title: 'Okta',
    product: 'Okta',
    urls: ['orgUrl'],
    credentialsFix: (from) =>
      `${from.apiToken} was refused: create an API token in the Okta Admin Console (Security → API → Tokens) while signed in as an admin whose role may manage the catalog’s groups and read users, then set ${from.apiToken}`,
    groupHint: 'the group id (00g…, the last part of the group’s URL in Directory → Groups)',
  },
  prototype: OktaConnector.prototype,
  create: (s, deps) => OktaConnector.fromConfig({ name: deps.name, orgUrl: s.orgUrl, apiToken: s.apiToken }, deps),
});
