/** Builds the identity connectors the configuration turns on. */
import type { Config } from '../../config/types.js';
import type { ConnectorName } from '../../domain/catalog.js';
import { OktaConnector } from './okta.js';
import type { IdpConnector } from './types.js';

export function buildConnectors(config: Config): Partial<Record<ConnectorName, IdpConnector>> {
  const out: Partial<Record<ConnectorName, IdpConnector>> = {};
  if (config.okta) out.okta = OktaConnector.fromConfig({ orgUrl: config.okta.orgUrl, apiToken: config.okta.apiToken });
  return out;
}
