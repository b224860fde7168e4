/**
 * Connector instances: what each configured connector is built from (ARCHITECTURE.md §4).
 *
 * Without a `connectors:` block in the catalog, each connector type's environment variables
 * configure one instance named after the type (okta, entra, google, atlassian), when they are
 * all set; some but not all is an error. With the block, it names every instance, its type and
 * where each setting comes from:
 *
 *   connectors:
 *     okta-eu: { type: okta, orgUrl: https://eu.okta.com, apiToken: { env: OKTA_EU_API_TOKEN } }
 *
 * A setting is a value, `{ env: NAME }` or `{ file: PATH }`; a secret is never a value. What
 * each type's settings are is declared by its descriptor (adapters/idp/<type>/descriptor.ts).
 */
import fs from 'node:fs';
import YAML from 'yaml';
import { CONNECTOR_TYPES, connectorType } from '../adapters/idp/index.js';
import type { ConnectorDescriptor, SettingSpec } from '../adapters/idp/descriptor.js';
import { hasCapability } from '../app/ports/idp.js';
import type { ConnectorConfig } from './types.js';
import { EMAIL_RE, closest, errCode, joinAnd, parseHttpUrl, parseOrigin, type Fail } from './values.js';

/** What reading connector settings needs from the environment reader (config/env.ts). */
export interface EnvReader {
  /** A variable, trimmed; empty counts as unset. */
  plain(name: string): string | undefined;
  /** A secret from NAME or NAME_FILE (its problems reported once). */
  secret(name: string): string | undefined;
  /** Whether NAME (or, for a secret, NAME_FILE) was given, even if it could not be read. */
  isSet(name: string, secret?: boolean): boolean;
  fail: Fail;
  readFile(path: string): string;
}

export interface Instances {
  instances: ConnectorConfig[];
  /** Names MANAGER_SOURCE may pick from without "not configured", even where a value of theirs is wrong (that has its own line). */
  configured: Map<string, ConnectorDescriptor>;
  /** True when the catalog's `connectors:` block named them. */
  fromCatalog: boolean;
}

/** Instance names: like catalog ids, since grants name them. */
const NAME_RE = /^[a-z0-9][a-z0-9-]*$/;
const MAX_NAME = 64;
const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** How to turn a type's default instance on, for "... is not configured" lines (also used by the catalog). */
export function configureHint(d: ConnectorDescriptor): string {
  return `set ${joinAnd(requiredKeys(d).map((k) => d.settings[k]!.env))}`;
}

/** The types whose connector can tell who a user's manager is (MANAGER_SOURCE). */
export function managerTypes(): ConnectorDescriptor[] {
  return CONNECTOR_TYPES.filter((d) => hasCapability(d.prototype, 'managerSource'));
}

/** The catalog's `connectors:` block, if the catalog file has one; an unreadable or broken catalog is the catalog check's to report. */
export function connectorsBlockOf(catalogPath: string, readFile: (path: string) => string = (p) => fs.readFileSync(p, 'utf8')): unknown {
  let text: string;
  try {
    text = readFile(catalogPath);
  } catch {
    return undefined;
  }
  const doc = YAML.parseDocument(text, { schema: 'failsafe', merge: true, prettyErrors: false });
  if (doc.errors.length > 0) return undefined;
  const root: unknown = doc.toJS();
  return typeof root === 'object' && root !== null && !Array.isArray(root) ? (root as Record<string, unknown>).connectors : undefined;
}

/** The instances the environment configures: one per type whose variables are all set. */
export function defaultInstances(env: EnvReader): Instances {
  const out: Instances = { instances: [], configured: new Map(), fromCatalog: false };
  for (const d of CONNECTOR_TYPES) {
    const keys = Object.keys(d.settings);
    const required = requiredKeys(d);
    const settings: Record<string, string> = {};
    let ok = true;
    const read = (k: string): void => {
      const spec = d.settings[k]!;
      const text = spec.secret ? env.secret(spec.env) : env.plain(spec.env);
      if (text === undefined) {
        // A secret given but unreadable already has its own line.
        if (env.isSet(spec.env, spec.secret)) ok = false;
        return;
      }
      const value = settingValue(spec, text, spec.env, env);
      if (value === undefined) ok = false;
      else settings[k] = value;
    };
    // Optional settings are checked even when the connector is off: a malformed URL is always a mistake.
    for (const k of keys) if (!required.includes(k)) read(k);

    const set = required.filter((k) => env.isSet(d.settings[k]!.env, d.settings[k]!.secret));
    if (set.length === 0) continue;
    if (set.length < required.length) {
      const given = joinAnd(set.map((k) => d.settings[k]!.env));
      for (const k of required.filter((r) => !set.includes(r))) {
        const spec = d.settings[k]!;
        env.fail(spec.env, `required when ${given} ${set.length === 1 ? 'is' : 'are'} set (${spec.hint}; or unset ${given} to turn the ${d.label} connector off)`);
      }
      continue;
    }
    out.configured.set(d.type, d);
    for (const k of required) read(k);
    if (!ok) continue;
    withDefaults(d, settings);
    out.instances.push({ name: d.type, type: d.type, settings, sources: Object.fromEntries(keys.map((k) => [k, d.settings[k]!.env])), secrets: secretKeys(d) });
  }
  return out;
}

/** The instances the catalog's `connectors:` block names; each problem is a line naming its catalog path or variable. */
export function catalogInstances(block: unknown, env: EnvReader): Instances {
  const out: Instances = { instances: [], configured: new Map(), fromCatalog: true };
  if (typeof block !== 'object' || block === null || Array.isArray(block)) {
    env.fail('connectors', 'must be a map of connector name to { type: …, settings } (e.g. okta-eu: { type: okta, orgUrl: …, apiToken: { env: OKTA_EU_API_TOKEN } })');
    return out;
  }
  const types = CONNECTOR_TYPES.map((d) => d.type);
  for (const [name, raw] of Object.entries(block as Record<string, unknown>)) {
    const p = `connectors.${name}`;
    let ok = true;
    const fail = (where: string, msg: string): undefined => {
      ok = false;
      return env.fail(where, msg);
    };
    if (!NAME_RE.test(name) || name.length > MAX_NAME) fail(p, `"${name}" is not a valid connector name (lowercase letters, digits and dashes, at most ${MAX_NAME})`);
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      fail(p, `must be a map with type: (one of ${types.join(', ')}) and its settings`);
      continue;
    }
    const spec = raw as Record<string, unknown>;
    const type = typeof spec.type === 'string' ? spec.type.trim() : undefined;
    const d = type === undefined ? undefined : connectorType(type);
    if (!d) {
      const near = type === undefined ? undefined : closest(type, types);
      fail(`${p}.type`, type === undefined ? `required (one of ${types.join(', ')})` : `"${type}" is not a connector type (one of ${types.join(', ')}${near ? `; did you mean ${near}?` : ''})`);
      continue;
    }
    out.configured.set(name, d);
    const keys = Object.keys(d.settings);
    for (const k of Object.keys(spec)) {
      if (k === 'type' || keys.includes(k)) continue;
      const near = closest(k, keys);
      fail(`${p}.${k}`, `unknown key (${near ? `did you mean ${near}?` : `a ${d.type} connector takes ${joinAnd(['type', ...keys])}`})`);
    }
    const settings: Record<string, string> = {};
    const sources: Record<string, string> = {};
    for (const k of keys) {
      const s = d.settings[k]!;
      const at = `${p}.${k}`;
      const given = spec[k];
      const how = s.secret ? '{ env: NAME } or { file: PATH }' : 'the value, { env: NAME } or { file: PATH }';
      if (given === undefined) {
        if (s.default === undefined) fail(at, `required (${s.hint}; give ${how})`);
        sources[k] = at;
        continue;
      }
      const found = sourceOf(given, s, at, env, fail);
      if (!found) continue;
      sources[k] = found.from;
      if (found.text === undefined) continue;
      const value = settingValue(s, found.text, found.from, { ...env, fail });
      if (value !== undefined) settings[k] = value;
    }
    if (!ok) continue;
    withDefaults(d, settings);
    out.instances.push({ name, type: d.type, settings, sources, secrets: secretKeys(d) });
  }
  return out;
}

/**
 * MANAGER_SOURCE: an instance whose type knows managers; by default the first such instance.
 * Without the catalog block the lines name the types, as the variables configure them.
 */
export function managerSource(raw: string | undefined, found: Instances, fail: Fail): string | undefined {
  const knows = (d: ConnectorDescriptor): boolean => hasCapability(d.prototype, 'managerSource');
  if (raw === undefined) return found.instances.find((i) => knows(connectorType(i.type)!))?.name;
  const name = raw.toLowerCase();
  const d = found.configured.get(name);
  if (!found.fromCatalog) {
    const types = managerTypes();
    const t = types.find((x) => x.type === name);
    if (!t) return fail('MANAGER_SOURCE', `"${raw}" is not a manager source (one of ${types.map((x) => x.type).join(', ')})`);
    if (!d) return fail('MANAGER_SOURCE', `"${name}" is not configured (${configureHint(t)})`);
    return name;
  }
  const able = [...found.configured].filter(([, x]) => knows(x)).map(([n]) => n);
  if (!d) return fail('MANAGER_SOURCE', `"${raw}" is not a connector in the catalog's connectors: (${able.length ? `one of ${able.join(', ')}` : 'none there can tell managers'})`);
  if (!knows(d)) return fail('MANAGER_SOURCE', `"${name}" (of type ${d.type}) cannot tell who a manager is (${able.length ? `use one of ${able.join(', ')}` : 'none in connectors: can'})`);
  return name;
}

function requiredKeys(d: ConnectorDescriptor): string[] {
  return Object.keys(d.settings).filter((k) => d.settings[k]!.default === undefined);
}

function secretKeys(d: ConnectorDescriptor): string[] {
  return Object.keys(d.settings).filter((k) => d.settings[k]!.secret);
}

function withDefaults(d: ConnectorDescriptor, settings: Record<string, string>): void {
  for (const [k, s] of Object.entries(d.settings)) {
    if (settings[k] === undefined && s.default !== undefined) settings[k] = typeof s.default === 'function' ? s.default(settings) : s.default;
  }
}

/** Where a catalog setting's text comes from, and the text (undefined when its variable or file failed: reported). */
function sourceOf(given: unknown, s: SettingSpec, at: string, env: EnvReader, fail: Fail): { from: string; text: string | undefined } | undefined {
  if (typeof given === 'string') {
    // Not echoed: someone pasted a secret into the catalog, which is the mistake to undo.
    if (s.secret) return fail(at, 'is a secret: give { env: NAME } or { file: PATH }, never the value in the catalog');
    const text = given.trim();
    return text ? { from: at, text } : fail(at, `required (${s.hint})`);
  }
  const m = typeof given === 'object' && given !== null && !Array.isArray(given) ? (given as Record<string, unknown>) : undefined;
  const keys = m ? Object.keys(m) : [];
  if (!m || keys.length !== 1 || (keys[0] !== 'env' && keys[0] !== 'file') || typeof m[keys[0]] !== 'string') {
    return fail(at, `must be ${s.secret ? '' : 'a value, '}{ env: NAME } or { file: PATH }`);
  }
  const ref = (m[keys[0]] as string).trim();
  if (keys[0] === 'env') {
    if (!ENV_NAME_RE.test(ref)) return fail(`${at}.env`, `"${ref}" is not an environment variable name`);
    const text = s.secret ? env.secret(ref) : env.plain(ref);
    // A secret given as NAME_FILE but unreadable already has its own line.
    if (text === undefined && !env.isSet(ref, s.secret)) fail(ref, `required (${s.hint}, for ${at})`);
    return { from: ref, text };
  }
  let text: string;
  try {
    // Only the trailing newline(s) an editor or `echo` adds; the value itself is kept as is.
    text = env.readFile(ref).replace(/[\r\n]+$/, '');
  } catch (e) {
    return fail(`${at}.file`, `cannot read "${ref}" (${errCode(e)})`);
  }
  return text ? { from: `${at}.file`, text } : fail(`${at}.file`, `"${ref}" is empty (expected ${s.hint})`);
}

/** The setting's value from its text, checked as its kind says; `name` is what an error line names. */
function settingValue(s: SettingSpec, text: string, name: string, env: Pick<EnvReader, 'fail' | 'readFile'>): string | undefined {
  let value: string | undefined = text;
  const example = s.example ?? (typeof s.default === 'string' ? s.default : 'https://example.com');
  if (s.kind === 'email' && !EMAIL_RE.test(text)) return env.fail(name, `"${text}" is not an email address (${s.hint})`);
  if (s.kind === 'url') value = parseHttpUrl(name, text, example, env.fail)?.href;
  if (s.kind === 'origin') value = parseOrigin(name, text, example, env.fail);
  if (value === undefined) return undefined;
  const problem = s.validate?.(value, env.readFile);
  if (problem) return env.fail(name, problem);
  return s.normalise ? s.normalise(value) : value;
}
