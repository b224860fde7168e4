/**
 * `access-bot catalog import`: turns the IdP's groups into catalog YAML for an admin to review
 * and commit, or compares them with the catalog in force (`--diff`). It writes to stdout only:
 * the live catalog is never edited here (the bot reloads the file when the admin saves it).
 *
 * Applications come from a naming pattern, a regular expression with a named capture `app`
 * (and optionally `role`): `^app-(?<app>[a-z0-9]+)-(?<role>.+)$` makes `app-payments-admin` the
 * role `admin` of the application `payments`. Without a pattern each group is an application of
 * its own. One role per group. Roles carry no durations or approvers: they take the catalog's
 * `defaults:`, which the admin reviews with the rest.
 *
 * Owners come from a group attribute when the IdP keeps one (`--owners-attribute owners`: Okta's
 * group profile custom attribute of that name, a string array or a string of emails separated by
 * commas, semicolons or spaces): an application's owners are those of all its groups. Without the
 * attribute, or where no group has it, the application gets a TODO comment instead.
 */
import YAML from 'yaml';
import type { GroupDirectory, IdpGroup } from '../app/ports/idp.js';
import { EMAIL_RE } from '../config/values.js';
import type { Catalog } from '../domain/catalog.js';

export interface ImportedRole {
  id: string;
  name: string;
  group: IdpGroup;
}

export interface ImportedApp {
  id: string;
  name: string;
  roles: ImportedRole[];
  /** From the owners attribute of its groups, lower-cased, in order; empty without one. */
  owners: string[];
  /** Its groups without the owners attribute (when some have it), and values that are not emails, for the review comment. */
  ownerNotes: string[];
}

export interface ImportPlan {
  connector: string;
  applications: ImportedApp[];
  /** Groups the pattern did not match: left out, and named in a comment. */
  skipped: IdpGroup[];
  /** The group attribute owners were read from, if one was given. */
  ownersAttribute?: string;
}

/** A group attribute name as Okta's group schema allows it (a variable name). */
export const ATTRIBUTE_RE = /^[A-Za-z][A-Za-z0-9_]*$/;

/** Catalog ids: lowercase letters, digits and dashes, at most 64 characters (config/catalog/reader.ts). */
const MAX_ID = 64;
/** Slack shows at most 75 characters of a name in a menu (config/catalog/reader.ts). */
const MAX_NAME = 75;
/** 100 pages of 200: a filter matching more is almost surely too broad for one review. */
const MAX_PAGES = 100;

/** Every group the filter matches, page by page. */
export async function listAllGroups(directory: GroupDirectory, filter: string): Promise<IdpGroup[]> {
  const out: IdpGroup[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < MAX_PAGES; pages++) {
    const page = await directory.listGroups(filter, cursor === undefined ? {} : { cursor });
    out.push(...page.groups);
    if (!page.next) return out;
    cursor = page.next;
  }
  throw new Error(`the filter matches more than ${MAX_PAGES} pages of groups; narrow it`);
}

/** A naming pattern from `--pattern`: an error message when it is not a regex with an `app` capture. */
export function parsePattern(source: string): RegExp | string {
  let re: RegExp;
  try {
    re = new RegExp(source);
  } catch (err) {
    return `--pattern is not a regular expression (${(err as Error).message})`;
  }
  if (!/\(\?<app>/.test(source)) return '--pattern needs a named capture for the application, e.g. ^app-(?<app>[a-z0-9]+)-(?<role>.+)$';
  return re;
}

export function planImport(groups: readonly IdpGroup[], opts: { connector: string; pattern?: RegExp; ownersAttribute?: string }): ImportPlan {
  const apps = new Map<string, ImportedApp>();
  const skipped: IdpGroup[] = [];
  const sorted = [...groups].sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  for (const group of sorted) {
    let appName: string;
    let roleRaw: string;
    if (opts.pattern) {
      const m = opts.pattern.exec(group.name);
      const app = m?.groups?.app?.trim();
      if (!m || !app) {
        skipped.push(group);
        continue;
      }
      appName = app;
      roleRaw = m.groups?.role ?? group.name.replace(m.groups!.app!, '');
    } else {
      appName = group.name;
      roleRaw = 'member';
    }
    // Without a pattern each group is its own application, even when two share a name.
    const key = opts.pattern ? slug(appName, 'app') : unique(slug(appName, 'app'), new Set(apps.keys()));
    let app = apps.get(key);
    if (!app) apps.set(key, (app = { id: key, name: clip(appName), roles: [], owners: [], ownerNotes: [] }));
    const roleId = unique(slug(roleRaw, 'member'), new Set(app.roles.map((r) => r.id)));
    app.roles.push({ id: roleId, name: clip(group.name), group });
  }
  const applications = [...apps.values()].sort((a, b) => a.id.localeCompare(b.id));
  if (opts.ownersAttribute) for (const app of applications) readOwners(app, opts.ownersAttribute);
  return { connector: opts.connector, applications, skipped, ...(opts.ownersAttribute ? { ownersAttribute: opts.ownersAttribute } : {}) };
}

/** The application's owners from its groups' attribute, and notes on groups that lack it or hold something else. */
function readOwners(app: ImportedApp, attribute: string): void {
  const missing: string[] = [];
  for (const { group } of app.roles) {
    const raw = group.attributes?.[attribute];
    const values = Array.isArray(raw) ? raw.filter((v): v is string => typeof v === 'string') : typeof raw === 'string' ? raw.split(/[\s,;]+/) : [];
    const words = values.map((v) => v.trim()).filter(Boolean);
    if (words.length === 0) missing.push(group.name);
    for (const w of words) {
      if (!EMAIL_RE.test(w)) app.ownerNotes.push(`${group.name}: "${w}" in ${attribute} is not an email`);
      else if (!app.owners.includes(w.toLowerCase())) app.owners.push(w.toLowerCase());
    }
  }
  if (app.owners.length > 0 && missing.length > 0) app.ownerNotes.unshift(`no ${attribute} on ${missing.join(', ')}`);
}

/** The plan as catalog YAML, with the review notes as comments. */
export function planYaml(plan: ImportPlan, header: string[]): string {
  const doc = new YAML.Document({
    applications: plan.applications.map((a) => ({
      id: a.id,
      name: a.name,
      ...(a.owners.length > 0 ? { owners: a.owners } : {}),
      roles: a.roles.map((r) => ({ id: r.id, name: r.name, grant: { connector: plan.connector, group: r.group.id } })),
    })),
  });
  const notes = [
    ...header,
    'Review before committing. Roles take durations and approval from the catalog’s defaults: block.',
    ...(plan.skipped.length > 0 ? ['Not imported (the pattern does not match them):', ...plan.skipped.map((g) => `  ${g.name} (${g.id})`)] : []),
  ];
  doc.commentBefore = notes.map((l) => ` ${l}`).join('\n');
  const list = doc.get('applications', true);
  for (const [i, item] of (YAML.isSeq(list) ? list.items : []).entries()) {
    if (!YAML.isMap(item)) continue;
    const app = plan.applications[i]!;
    item.commentBefore = ownersComment(app, plan.ownersAttribute);
    const owners = item.get('owners', true);
    if (YAML.isSeq(owners)) owners.flow = true;
    const roles = item.get('roles', true);
    for (const role of YAML.isSeq(roles) ? roles.items : []) {
      const grant = YAML.isMap(role) ? role.get('grant', true) : undefined;
      if (YAML.isMap(grant)) grant.flow = true;
    }
  }
  if (plan.applications.length === 0) return `${doc.commentBefore.split('\n').map((l) => `#${l}`).join('\n')}\n# No group matched: nothing to import.\n`;
  return doc.toString({ lineWidth: 0 });
}

/** The review note above an application: where its owners came from, or that the admin must name them. */
function ownersComment(app: ImportedApp, attribute: string | undefined): string {
  if (!attribute) return ' TODO owners: the IdP names no owners for these groups; add owners: [email, …]';
  if (app.owners.length === 0) {
    return [` TODO owners: no group of this application has the ${attribute} attribute; add owners: [email, …]`, ...app.ownerNotes.map((n) => `   ${n}`)].join('\n');
  }
  return [` owners from the ${attribute} attribute of its groups; review them`, ...app.ownerNotes.map((n) => `   ${n}`)].join('\n');
}

/**
 * What importing would change against the catalog, by grant (this connector and a group id):
 * `+` a group the catalog does not grant, `-` a role on this connector whose group the filter
 * did not match, `~` a group the catalog grants under another application or role id; with an
 * owners attribute, `~` an application whose owners there differ from the imported ones.
 */
export function diffPlan(plan: ImportPlan, catalog: Catalog): string[] {
  const inCatalog = new Map<string, { app: string; role: string }>();
  for (const a of catalog.applications) {
    for (const r of a.roles) if (r.grant.connector === plan.connector) inCatalog.set(r.grant.group, { app: a.id, role: r.id });
  }
  const lines: string[] = [];
  const imported = new Set<string>();
  for (const a of plan.applications) {
    for (const r of a.roles) {
      imported.add(r.group.id);
      const have = inCatalog.get(r.group.id);
      if (!have) lines.push(`+ ${a.id}/${r.id}  group ${r.group.id} (${r.group.name})`);
      else if (have.app !== a.id || have.role !== r.id) lines.push(`~ group ${r.group.id} (${r.group.name}): ${have.app}/${have.role} in the catalog, ${a.id}/${r.id} imported`);
    }
  }
  for (const [group, have] of inCatalog) {
    if (!imported.has(group)) lines.push(`- ${have.app}/${have.role}  group ${group}: in the catalog, not among the groups the filter matched`);
  }
  if (plan.ownersAttribute) {
    for (const a of plan.applications) {
      const have = catalog.applications.find((x) => x.id === a.id);
      if (!have || a.owners.length === 0) continue;
      const same = have.owners.length === a.owners.length && a.owners.every((o) => have.owners.includes(o));
      if (!same) lines.push(`~ owners of ${a.id}: [${have.owners.join(', ')}] in the catalog, [${a.owners.join(', ')}] from ${plan.ownersAttribute}`);
    }
  }
  return lines;
}

/** A catalog id from a name; `fallback` when nothing of it is left. */
function slug(s: string, fallback: string): string {
  const out = s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, MAX_ID)
    .replace(/-+$/, '');
  return out || fallback;
}

function unique(id: string, taken: Set<string>): string {
  if (!taken.has(id)) return id;
  for (let n = 2; ; n++) {
    const suffix = `-${n}`;
    const candidate = `${id.slice(0, MAX_ID - suffix.length)}${suffix}`;
    if (!taken.has(candidate)) return candidate;
  }
}

function clip(name: string): string {
  const t = name.trim();
  return t.length > MAX_NAME ? `${t.slice(0, MAX_NAME - 1)}…` : t;
}
