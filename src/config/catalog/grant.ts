/**
 * A role's `grant:` (the connector instance and the group, or the type's own grant keys) and the
 * connector instances a grant may name.
 */
import { CONNECTOR_TYPES, connectorType } from '../../adapters/idp/index.js';
import type { ConnectorDescriptor } from '../../adapters/idp/descriptor.js';
import type { ConnectorName, GrantTarget } from '../../domain/catalog.js';
import { configureHint } from '../connectors.js';
import { EMAIL_RE } from '../values.js';
import { type Reader, isMap, oneOf, suggest } from './reader.js';

const GRANT_KEYS = ['connector', 'group'] as const;

/**
 * The connector instances a grant may name, with their types: the catalog's `connectors:` block
 * when it has one, else one per type. The block's settings are read with the environment
 * (config/connectors.ts, through loadConfig), which reports their problems; here only the names
 * and types matter.
 */
export interface Instances {
  byName: Map<string, ConnectorDescriptor | undefined>;
  fromCatalog: boolean;
}

export function instancesOf(root: unknown): Instances {
  const block = isMap(root) ? root.connectors : undefined;
  if (block === undefined) return { byName: new Map(CONNECTOR_TYPES.map((d) => [d.type, d])), fromCatalog: false };
  const entries = isMap(block) ? Object.entries(block) : [];
  return { byName: new Map(entries.map(([name, spec]) => [name, isMap(spec) && typeof spec.type === 'string' ? connectorType(spec.type.trim()) : undefined])), fromCatalog: true };
}

/** `configured`: the instances that are configured; undefined: only whether the name exists is checked. */
export function grant(r: Reader, p: string, raw: unknown, instances: Instances, configured: readonly ConnectorName[] | undefined): GrantTarget | undefined {
  if (raw === undefined) return r.fail(p, `required (e.g. grant: { connector: okta, group: <group id> })`);
  const m = r.map(p, raw, 'a map with connector: and group:');
  if (!m) return undefined;
  // A type whose grants are not a group takes its own keys instead of `group`.
  const grantKeys = typeof m.connector === 'string' ? instances.byName.get(m.connector.trim())?.grantKeys : undefined;
  r.keys(p, m, grantKeys ? ['connector', ...grantKeys.keys] : GRANT_KEYS);
  let connector: ConnectorName | undefined;
  const names = [...instances.byName.keys()];
  const c = r.str(`${p}.connector`, m.connector, names.length ? oneOf(names) : 'a connector named in connectors:');
  const type = c === undefined ? undefined : instances.byName.get(c);
  if (c !== undefined) {
    if (!instances.byName.has(c)) {
      r.fail(`${p}.connector`, `"${c}" is not a connector (${names.length ? `${oneOf(names)}${suggest(c, names)}` : 'connectors: names none'})`);
    } else if (configured && !configured.includes(c)) {
      r.fail(`${p}.connector`, `"${c}" is not configured (${instances.fromCatalog || !type ? `see connectors.${c}` : configureHint(type)})`);
    } else connector = c;
  }
  if (grantKeys) {
    // Its own keys, made into the one string the bot keys the membership by.
    const fields: Record<string, string> = {};
    const missing = (grantKeys.required ?? []).filter((k) => m[k] === undefined);
    for (const k of missing) r.fail(`${p}.${k}`, `required (e.g. ${grantKeys.example})`);
    if (missing.length > 0) return undefined;
    for (const k of grantKeys.keys) {
      if (m[k] === undefined) continue;
      const v = r.str(`${p}.${k}`, m[k], `see ${grantKeys.example}`);
      if (v === undefined) return undefined;
      fields[k] = v;
    }
    const t = grantKeys.target(fields);
    if ('error' in t) return r.fail(p, `${t.error} (e.g. ${grantKeys.example})`);
    return connector ? { connector, group: t.group } : undefined;
  }
  const groupHint = type?.groups.what ?? 'the group id';
  let group = r.str(`${p}.group`, m.group, groupHint);
  if (group !== undefined && /\s/.test(group)) group = r.fail(`${p}.group`, `"${group}" contains whitespace (expected ${groupHint})`);
  // Google identifies groups by email, which is case-insensitive: normalise like other emails.
  if (group !== undefined && type?.groups.email) {
    if (!EMAIL_RE.test(group)) group = r.fail(`${p}.group`, `"${group}" is not an email address (${type.label} groups are named by email)`);
    else group = group.toLowerCase();
  }
  return connector && group ? { connector, group } : undefined;
}
