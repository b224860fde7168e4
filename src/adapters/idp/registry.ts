/** Builds the identity connectors the configuration turns on. */
import type { Config } from '../../config/types.js';
import { AtlassianConnector } from './atlassian/connector.js';
import { EntraConnector } from './entra/connector.js';
import { GoogleConnector } from './google/connector.js';
import { OktaConnector } from './okta/connector.js';
import type { IdpConnector } from '../../app/ports/idp.js';

export function buildConnectors(config: Config): Record<string, IdpConnector> {
  const out: Record<string, IdpConnector> = {};
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
