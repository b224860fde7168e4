/**
 * Identity connectors: each configured instance's own health check (credentials, and every group
 * the catalog grants through it), each failure explained with its descriptor's fixes.
 */
import type { ConnectorDescriptor } from '../adapters/idp/descriptor.js';
import { connectorType } from '../adapters/idp/index.js';
import { hasCapability, type IdpConnector } from '../app/ports/idp.js';
import { buildConnector } from '../compose.js';
import type { Config, ConnectorConfig } from '../config/types.js';
import type { Catalog } from '../domain/catalog.js';
import { AUTH_RE, guard, NETWORK_RE } from './connection.js';
import { item, listShort, type CheckItem } from './report.js';

/** Each connector instance; those whose type is checked only when used (atlassian) only when the catalog grants through them. */
export function idpsToCheck(config: Config, catalog: Catalog | undefined): ConnectorConfig[] {
  const used = new Set(catalog?.applications.flatMap((a) => a.roles.map((r) => r.grant.connector)) ?? []);
  return config.connectors.filter((c) => !connectorType(c.type)?.check.onlyWhenUsed || used.has(c.name));
}

/** "Okta", or "Okta (okta-eu)" for an instance not named after its type. */
export function instanceTitle(name: string, instances: readonly ConnectorConfig[]): string {
  const i = instances.find((x) => x.name === name);
  const d = i ? connectorType(i.type) : undefined;
  if (!i || !d) return name;
  return i.name === d.type ? d.check.title : `${d.check.title} (${i.name})`;
}

export async function checkIdp(instance: ConnectorConfig, config: Config, catalog: Catalog | undefined, timeoutMs: number): Promise<CheckItem[]> {
  const name = instance.name;
  const d = connectorType(instance.type) as ConnectorDescriptor;
  const meta = d.check;
  const credentialsFix = meta.credentialsFix(instance.sources);
  const groups = new Map<string, string[]>(); // group -> app/role using it
  for (const app of catalog?.applications ?? []) {
    for (const role of app.roles) {
      if (role.grant.connector === name) groups.set(role.grant.group, [...(groups.get(role.grant.group) ?? []), `${app.id}/${role.id}`]);
    }
  }
  let connector: IdpConnector;
  try {
    connector = buildConnector(instance);
  } catch (err) {
    return [item(name, `${name} connector`, 'fail', `could not be set up: ${err instanceof Error ? err.message : String(err)}`, credentialsFix)];
  }
  if (!hasCapability(connector, 'health')) {
    return [item(name, `${name} connector`, 'warn', `a ${d.type} connector cannot check its connection; its groups are checked when first used`)];
  }
  const urls = meta.urls.map((k) => `${instance.sources[k]} (${instance.settings[k]})`).join(' and ');
  const report = await guard('connection', () => connector.checkHealth([...groups.keys()]), timeoutMs * 3, urls);
  const items: CheckItem[] = [];
  for (const c of report.checks) {
    const group = [...groups.keys()].find((g) => c.name.includes(g));
    const label = `${name} ${c.name}`;
    if (c.ok) {
      items.push(item(name, label, 'pass', c.detail));
      continue;
    }
    const detail = c.detail ?? 'failed';
    if (/^not checked\b/.test(detail)) {
      // A group left unchecked because the credentials failed: that failure is the one to fix.
      items.push(item(name, label, 'skip', detail));
    } else if (NETWORK_RE.test(detail) && !AUTH_RE.test(detail)) {
      items.push(item(name, label, 'fail', detail, `check ${urls}: the ${meta.product} API must be reachable from here`));
    } else if (AUTH_RE.test(detail)) {
      items.push(item(name, label, 'fail', detail, credentialsFix));
    } else if (group !== undefined) {
      // A type whose grants take their own keys (an AWS account and permission set) names those.
      const required = d.grantKeys?.required;
      const keys = (required ?? ['group']).map((k) => `grant.${k}`).join(' and ');
      items.push(item(name, label, 'fail', detail, `set ${keys} of ${listShort(groups.get(group) ?? [])} in ${config.catalogPath} to ${meta.groupHint}, or create ${required ? 'it' : 'the group'}`));
    } else {
      items.push(item(name, label, 'fail', detail, credentialsFix));
    }
  }
  return items;
}
