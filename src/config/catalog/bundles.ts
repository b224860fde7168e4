/**
 * `bundles:` (issue 19): several roles of the catalog requested together. Read after the
 * applications, whose roles the parts name:
 *
 *   bundles:
 *     - id: payments-oncall
 *       name: Payments on-call
 *       parts: [payments-console/operator, pagerduty/responder, payments-code/project-write]
 *       durations: [8h, 1d]          # optional: default, the durations every part offers
 *       owners: [lead@example.com]   # optional: default, the owners of the parts' applications
 *       approval: { ... }            # optional (or approvers:): default, the strictest of the parts'
 *
 * Without its own approval a bundle is approved by the strictest policy of its parts
 * (domain/bundle.ts `strictestPolicy`), computed here, so a catalog edit of a part changes it.
 */
import { partPolicies, strictestPolicy } from '../../domain/bundle.js';
import { findRole, type Application, type Bundle, type BundlePart, type Catalog } from '../../domain/catalog.js';
import type { Duration } from '../../domain/duration.js';
import { checkOwners, policyField } from './policy.js';
import { isMap, show, suggest, type Reader } from './reader.js';

const BUNDLE_KEYS = ['id', 'name', 'owners', 'parts', 'durations', 'approvers', 'approval'] as const;
const PART_HINT = 'an application id and a role id, e.g. payments-console/operator';

/** The `app/role` ids a catalog's raw `applications:` names, whether or not they parse. */
export function writtenRoles(raw: unknown): Set<string> {
  const out = new Set<string>();
  if (!Array.isArray(raw)) return out;
  for (const app of raw) {
    if (!isMap(app) || typeof app.id !== 'string' || !Array.isArray(app.roles)) continue;
    for (const role of app.roles) if (isMap(role) && typeof role.id === 'string') out.add(`${app.id.trim()}/${role.id.trim()}`);
  }
  return out;
}

/**
 * `written`: the `app/role` ids the catalog text names, parsed or not: a part naming a role that
 * failed to parse is not reported again (the role's own problem is, at its path).
 */
export function bundles(r: Reader, p: string, raw: unknown, applications: readonly Application[], written: ReadonlySet<string>): Bundle[] | undefined {
  const list = r.list(p, raw, 'bundle');
  if (!list) return undefined;
  // The catalog read so far, to look the parts' roles up in.
  const catalog: Catalog = { jira: { project: '', issueType: '', transitions: {} }, applications: [...applications] };
  const out: Bundle[] = [];
  const seen = new Map<string, string>();
  list.forEach((item, i) => {
    const bp = `${p}[${i}]`;
    const b = bundle(r, bp, item, catalog, written);
    if (!b) return;
    const first = seen.get(b.id);
    if (first) r.fail(`${bp}.id`, `"${b.id}" is already used by ${first}`);
    else if (applications.some((a) => a.id === b.id)) r.fail(`${bp}.id`, `"${b.id}" is already an application's id (bundles and applications share the /access menu)`);
    else seen.set(b.id, bp);
    out.push(b);
  });
  return out;
}

function bundle(r: Reader, p: string, raw: unknown, catalog: Catalog, written: ReadonlySet<string>): Bundle | undefined {
  const m = r.map(p, raw, 'a map with id:, name:, parts:');
  if (!m) return undefined;
  r.keys(p, m, BUNDLE_KEYS);
  const id = r.id(`${p}.id`, m.id);
  const name = r.name(`${p}.name`, m.name);
  const found = m.parts === undefined ? r.fail(`${p}.parts`, `required (a list of roles, each ${PART_HINT})`) : parts(r, `${p}.parts`, m.parts, catalog, written);
  const ownApproval = m.approvers !== undefined || m.approval !== undefined;
  if (isMap(m.approval) && m.approval.rules !== undefined) {
    r.fail(`${p}.approval.rules`, "a bundle's approval has no rules (give it approvers: or stages:, or leave approval out for the strictest of its parts')");
    return undefined;
  }
  let owners: string[] | undefined;
  if (m.owners !== undefined) owners = r.emails(`${p}.owners`, m.owners);
  else if (found) owners = [...new Set(found.flatMap((f) => findRole(catalog, f.appId, f.roleId)?.app.owners ?? []))];
  const own = policyField(r, p, m);
  if (own.state === 'ok' && owners) checkOwners(r, own.value.ownersAt, owners);
  if (found && !ownApproval) {
    found.forEach((f, i) => {
      const role = findRole(catalog, f.appId, f.roleId)?.role;
      if (role?.rules) r.fail(`${p}.parts[${i}]`, `${f.appId}/${f.roleId} chooses its approval by rules, which a bundle cannot combine: give the bundle its own approval:`);
    });
  }
  const durations = found ? bundleDurations(r, p, m.durations, found, catalog) : undefined;
  if (!id || !name || !found || !owners || !durations || own.state === 'invalid') return undefined;
  const approval = own.state === 'ok' ? own.value.policy : strictestPolicy(partPolicies(catalog, { parts: found }));
  return { id, name, owners, parts: found, durations, approval, ownApproval };
}

/** `app/role` strings naming distinct roles of the catalog that grant distinct groups, at least two. */
function parts(r: Reader, p: string, raw: unknown, catalog: Catalog, written: ReadonlySet<string>): BundlePart[] | undefined {
  const applications = catalog.applications;
  const list = r.list(p, raw, 'part');
  if (!list) return undefined;
  if (list.length < 2) return r.fail(p, 'a bundle has at least two parts (one role alone is requested as itself)');
  const out: BundlePart[] = [];
  const grants = new Map<string, string>();
  let bad = false;
  list.forEach((item, i) => {
    const ip = `${p}[${i}]`;
    const text = typeof item === 'string' ? item.trim() : undefined;
    const [appId, roleId, extra] = text?.split('/') ?? [];
    if (!appId || !roleId || extra !== undefined) return void (bad = r.fail(ip, `${show(item)} is not a part (${PART_HINT})`) ?? true);
    if (written.has(`${appId}/${roleId}`) && !findRole(catalog, appId, roleId)) return void (bad = true);
    const app = applications.find((a) => a.id === appId);
    if (!app) return void (bad = r.fail(ip, `no application "${appId}" in the catalog${suggest(appId, applications.map((a) => a.id))}`) ?? true);
    const role = app.roles.find((x) => x.id === roleId);
    if (!role) return void (bad = r.fail(ip, `${app.name} has no role "${roleId}"${suggest(roleId, app.roles.map((x) => x.id))}`) ?? true);
    if (role.breakGlass) return void (bad = r.fail(ip, `${appId}/${roleId} is a break-glass role, which is never part of a bundle (it has its own alert and review)`) ?? true);
    if (out.some((x) => x.appId === appId && x.roleId === roleId)) return void (bad = r.fail(ip, `"${appId}/${roleId}" is listed twice`) ?? true);
    const grant = `${role.grant.connector} ${role.grant.group}`;
    const same = grants.get(grant);
    if (same) return void (bad = r.fail(ip, `grants the same ${role.grant.connector} group as ${same} (${role.grant.group})`) ?? true);
    grants.set(grant, `${appId}/${roleId}`);
    out.push({ appId, roleId });
  });
  return bad ? undefined : out;
}

/** The bundle's durations: each offered by every part; by default, those every part offers. */
function bundleDurations(r: Reader, p: string, raw: unknown, found: BundlePart[], catalog: Catalog): Duration[] | undefined {
  const offered = found.map((f) => ({ name: `${f.appId}/${f.roleId}`, durations: findRole(catalog, f.appId, f.roleId)?.role.durations ?? [] }));
  if (raw === undefined) {
    const common = offered[0]!.durations.filter((d) => offered.every((o) => o.durations.some((x) => x.token === d.token)));
    if (common.length === 0) return r.fail(`${p}.durations`, 'required: its parts offer no duration in common (list durations: that every part offers)');
    return structuredClone(common);
  }
  const list = r.durations(`${p}.durations`, raw);
  if (!list) return undefined;
  let bad = false;
  list.forEach((d, i) => {
    const missing = offered.find((o) => !o.durations.some((x) => x.token === d.token));
    if (missing) bad = r.fail(`${p}.durations[${i}]`, `${d.token} is not offered by ${missing.name} (it offers ${missing.durations.map((x) => x.token).join(', ')})`) ?? true;
  });
  return bad ? undefined : list;
}
