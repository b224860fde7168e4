/** The environment and the catalog, as checklist items (the lines loadConfig and loadCatalog give). */
import { CONNECTOR_TYPES, connectorType } from '../adapters/idp/index.js';
import { hasCapability } from '../app/ports/idp.js';
import { configureHint } from '../config/connectors.js';
import { connectorsOf } from '../config/env.js';
import type { Config } from '../config/types.js';
import type { ApproverRef, Catalog } from '../domain/catalog.js';
import { item, joinOr, listShort, type CheckItem } from './report.js';

/** loadConfig lines are `NAME: problem (hint)`; "required (hint)" becomes "set NAME to hint". */
export function envItem(line: string): CheckItem {
  const at = line.indexOf(': ');
  const name = at > 0 ? line.slice(0, at) : 'environment';
  const problem = at > 0 ? line.slice(at + 2) : line;
  const required = /^required \((.*)\)$/.exec(problem);
  const fix = required ? `set ${name} to ${required[1]}` : `${name}: ${problem}`;
  return item('environment', name, 'fail', required ? 'not set' : problem, fix);
}

export function envSummary(c: Config): CheckItem {
  const parts = [
    c.slack.appToken ? 'Socket Mode' : `HTTP mode on port ${c.port}`,
    `connectors: ${connectorsOf(c).join(', ')}`,
    c.managerSource ? `managers from ${c.managerSource}` : 'no manager source',
    c.databaseUrl ? `database Postgres at ${postgresWhere(c.databaseUrl)}` : `database ${c.databasePath}`,
  ];
  return item('environment', 'environment', 'pass', parts.join('; '));
}

export function catalogSummary(path: string, c: Catalog): CheckItem {
  const roles = c.applications.reduce((n, a) => n + a.roles.length, 0);
  return item('catalog', `catalog ${path}`, 'pass', `${c.applications.length} application${c.applications.length === 1 ? '' : 's'}, ${roles} role${roles === 1 ? '' : 's'}; Jira project ${c.jira.project}, issue type ${c.jira.issueType}`);
}

/** Catalog lines are `path: problem`; a connector that is not configured gets its env fix. */
export function catalogItem(line: string, file: string): CheckItem {
  const at = line.indexOf(': ');
  const where = at > 0 ? line.slice(0, at) : file;
  const problem = at > 0 ? line.slice(at + 2) : line;
  const unconfigured = /^"([a-z0-9-]+)" is not configured/.exec(problem);
  const type = unconfigured ? connectorType(unconfigured[1]!) : undefined;
  if (unconfigured && type) {
    return item('catalog', `catalog ${where}`, 'fail', `connector "${type.type}" is not configured`, `${configureHint(type)} (see the ${type.check.product} setup), or grant this role through a configured connector in ${file}`);
  }
  if (where === file && /catalog file not found/.test(problem)) {
    return item('catalog', `catalog ${file}`, 'fail', 'file not found', `create ${file} (start from access-catalog.example.yaml), or set ACCESS_CATALOG to the catalog's path`);
  }
  const pos = where.startsWith(`${file}:`) ? /:(\d+):(\d+)$/.exec(where) : null;
  if (pos) return item('catalog', `catalog ${where}`, 'fail', problem, `edit ${file} at line ${pos[1]}, column ${pos[2]}: ${problem}`);
  return item('catalog', `catalog ${where}`, 'fail', problem, where === file ? `edit ${file}: ${problem}` : `edit ${where} in ${file}: ${problem}`);
}

/** `manager` approvers need an IdP that knows managers. */
export function managerItems(config: Config, catalog: Catalog): CheckItem[] {
  const uses = rolesUsing(catalog, (r) => r.kind === 'manager');
  if (uses.length === 0 || config.managerSource) return [];
  return [
    item(
      'catalog',
      'manager approvers',
      'fail',
      `${listShort(uses)} ask the requester’s manager, but no IdP is configured to answer who that is`,
      `configure ${joinOr(CONNECTOR_TYPES.filter((d) => hasCapability(d.prototype, 'managerSource')).map((d) => d.check.product))} (MANAGER_SOURCE picks one), or replace \`manager\` in those approvers`,
    ),
  ];
}

export interface ApproverUse {
  ref: ApproverRef;
  /** "app/role". */
  where: string;
  owners: string[];
}

export function approverUses(catalog: Catalog): ApproverUse[] {
  const out: ApproverUse[] = [];
  for (const app of catalog.applications) {
    for (const role of app.roles) {
      if (role.approval.kind !== 'stages') continue;
      const p = role.approval;
      const refs = [...p.stages.flatMap((s) => s.approvers), ...p.fallback, ...p.escalateTo];
      for (const ref of refs) out.push({ ref, where: `${app.id}/${role.id}`, owners: app.owners });
    }
  }
  return out;
}

export function rolesUsing(catalog: Catalog, pred: (r: ApproverRef) => boolean): string[] {
  return [...new Set(approverUses(catalog).filter((u) => pred(u.ref)).map((u) => u.where))];
}

/** host:port/database of a Postgres URL, without its user or password. */
export function postgresWhere(url: string): string {
  const u = new URL(url);
  return `${u.hostname || u.searchParams.get('host') || 'localhost'}:${u.port || '5432'}${u.pathname}`;
}
