/** Builds the identity connectors the configuration turns on. */
import type { Config } from '../../config/types.js';
import type { ConnectorName } from '../../domain/catalog.js';
import { AtlassianConnector } from './atlassian.js';
import { EntraConnector } from './entra.js';
import { GoogleConnector } from './google.js';
import { OktaConnector } from './okta.js';
import type { IdpConnector } from './types.js';

export function buildConnectors(config: Config): Partial<Record<ConnectorName, IdpConnector>> {
  const out: Partial<Record<ConnectorName, IdpConnector>> = {};
  if (config.okta) out.okta = OktaConnector.fromConfig({ orgUrl: config.okta.orgUrl, apiToken: config.okta.apiToken });
  if (config.graph) {
    const g = config.graph;
    out.entra = EntraConnector.fromConfig({ tenantId: g.tenantId, clientId: g.clientId, clientSecret: g.clientSecret, baseUrl: g.baseUrl, tokenUrl: g.tokenUrl });
  }
  if (config.google) {
    // Reads GOOGLE_SA_KEY_FILE now: an unreadable key fails start-up with a line naming the file.
    const g = config.google;
    out.google = GoogleConnector.fromConfig({ saKeyFile: g.saKeyFile, adminSubject: g.adminSubject, rootUrl: g.rootUrl, tokenUrl: g.tokenUrl });
  }
  // Always on: Atlassian groups use the Jira credentials, which are required (connectorsOf in config/env.ts agrees).
  out.atlassian = AtlassianConnector.fromConfig({ host: config.jira.host, email: config.jira.email, apiToken: config.jira.apiToken });
  return out;
}
