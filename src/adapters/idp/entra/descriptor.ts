/** The Microsoft Entra ID connector type (Microsoft Graph, client credentials): `GRAPH_*` for the default instance. */
import { defineConnector } from '../descriptor.js';
import { EntraConnector } from './connector.js';

export const entra = defineConnector({
  type: 'entra',
  label: 'Entra',
  settings: {
    tenantId: { env: 'GRAPH_TENANT_ID', hint: 'the Entra tenant id' },
    clientId: { env: 'GRAPH_CLIENT_ID', hint: "the app registration's client id" },
    clientSecret: { env: 'GRAPH_CLIENT_SECRET', hint: "the app registration's client secret", secret: true },
    // An origin: the client adds /v1.0.
    baseUrl: { env: 'GRAPH_BASE_URL', hint: 'the Graph API origin', kind: 'origin', example: 'https://graph.microsoft.com', default: 'https://graph.microsoft.com' },
    tokenUrl: {
      env: 'GRAPH_TOKEN_URL',
      hint: 'the full token endpoint URL',
      kind: 'url',
      example: 'https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token',
      default: (s) => `https://login.microsoftonline.com/${encodeURIComponent(s.tenantId ?? '')}/oauth2/v2.0/token`,
    },
  },
  groups: { what: 'the group id' },
  check: {
    title: 'Microsoft Entra ID',
    product: 'Entra ID',
    urls: ['tokenUrl', 'baseUrl'],
    credentialsFix: (from) =>
      `check ${from.tenantId}, ${from.clientId} and ${from.clientSecret} (a current secret of the app registration), and that the app has the application permissions GroupMember.ReadWrite.All and User.Read.All with admin consent`,
    groupHint: 'the group’s object id (a GUID, from Entra admin center → Groups)',
  },
  prototype: EntraConnector.prototype,
  create: (s, deps) =>
    EntraConnector.fromConfig({ name: deps.name, tenantId: s.tenantId, clientId: s.clientId, clientSecret: s.clientSecret, baseUrl: s.baseUrl, tokenUrl: s.tokenUrl }, deps),
});
