/**
 * Parses and validates the access catalog (ARCHITECTURE.md §4, Catalog) into the domain's
 * `Catalog`. Every problem is one line that starts with the path of the bad value, e.g.
 * `applications[2].roles[0].durations[1]: "5x" is not a duration (...)`; all are collected.
 *
 * Unknown keys are errors: a typo such as `aprovers` must not silently drop a policy.
 *
 * Defaults precedence, per field (a field is the approval policy as a whole, or the durations
 * list as a whole; nothing is merged inside a policy):
 *   role's own `approvers`/`approval`/`durations`
 *   > the application's `defaults:`
 *   > the top-level `defaults:`.
 * In a `defaults:` block, `approvers: [...]` is the same short form as on a role.
 * Break-glass roles are the exception for approval: without their own `approvers`/`approval`
 * they are `auto` (the point is immediate access; the alert and the Jira record are the control),
 * and they ignore inherited approval defaults. They do inherit durations, which must then not
 * include `permanent`.
 *
 * Where things are: this file reads the top level, `defaults:`, applications and roles, and
 * calls one file per section: jira.ts (with intake.ts for jira.intake), grant.ts (and the connector instances), policy.ts
 * (approvers/approval), rules.ts (approval rules), breakGlass.ts, extend.ts (extend:,
 * warnBefore:), delegates.ts (who may request for others), bundles.ts (bundles:, read after the
 * applications whose roles it names), reviews.ts (reviews:) and reclaim.ts (reclaim:), each on an
 * application or a role, all built on the primitive readers of reader.ts.
 * A new top-level section or role key: a file of its own here, wired in the validator with one
 * call (and its key added to TOP_KEYS or ROLE_KEYS below).
 */
import fs from 'node:fs';
import YAML from 'yaml';
import type { Application, ApprovalPolicy, Catalog, ConnectorName, PolicyRules, Role } from '../../domain/catalog.js';
import type { Duration } from '../../domain/duration.js';
import type { OnCallServiceType } from '../../domain/onCall.js';
import type { ReclaimPolicy } from '../../domain/reclaim.js';
import { breakGlass } from './breakGlass.js';
import { delegates } from './delegates.js';
import { bundles, writtenRoles } from './bundles.js';
import { extension, warnBefore } from './extend.js';
import { type Instances, grant, instancesOf } from './grant.js';
import { jira } from './jira.js';
import { type Inherited, type ParsedPolicy, checkOwners, policyField } from './policy.js';
import { Reader, isMap } from './reader.js';
import { checkReviewable, reviews } from './reviews.js';
import { reclaim, roleReclaim } from './reclaim.js';
import { ruled } from './rules.js';

export type CatalogResult = { ok: true; catalog: Catalog } | { ok: false; errors: string[] };
export interface CatalogOptions {
  /**
   * Connector instances that are configured (`connectorsOf(config)`); a grant naming another
   * one is an error. Undefined: only whether the name exists is checked (`access-bot check`
   * reads the catalog even when the environment is wrong).
   */
  configuredConnectors: readonly ConnectorName[] | undefined;
  /**
   * On-call services that are configured (`catalogOptionsOf(config)`); a rule's `onCall` naming
   * another one is an error. Undefined: not checked.
   */
  configuredOnCall?: readonly OnCallServiceType[] | undefined;
  /** Name of the text's origin (file path) for syntax errors. Default "catalog". */
  source?: string;
}

const TOP_KEYS = ['jira', 'connectors', 'defaults', 'applications', 'delegates', 'bundles'] as const;
const DEFAULTS_KEYS = ['durations', 'approvers', 'approval'] as const;
const APP_KEYS = ['id', 'name', 'owners', 'defaults', 'roles', 'reviews', 'reclaim'] as const;
const ROLE_KEYS = ['id', 'name', 'grant', 'durations', 'approvers', 'approval', 'breakGlass', 'extend', 'warnBefore', 'reviews', 'reclaim'] as const;

interface Defaults {
  policy: Inherited<ParsedPolicy>;
  durations: Inherited<Duration[]>;
}
const NO_DEFAULTS: Defaults = { policy: { state: 'absent' }, durations: { state: 'absent' } };

export function parseCatalog(yamlText: string, opts: CatalogOptions): CatalogResult {
  const source = opts.source ?? 'catalog';
  // failsafe: every scalar stays the exact text written, so a group id like 0123 keeps its zeros
  // and messages quote what the operator typed. Numbers are parsed here where expected.
  const lines = new YAML.LineCounter();
  const doc = YAML.parseDocument(yamlText, { schema: 'failsafe', merge: true, prettyErrors: false, lineCounter: lines });
  if (doc.errors.length > 0) {
    // Only the first: later ones are usually knock-on effects of it.
    const e = doc.errors[0]!;
    const { line, col } = lines.linePos(e.pos[0]);
    // The library's own hint for this one is meant for programmers.
    const msg = e.code === 'MULTIPLE_DOCS' ? 'more than one YAML document (the catalog is one document; remove the extra ---)' : e.message.split('\n')[0];
    return { ok: false, errors: [`${source}:${line}:${col}: YAML syntax error: ${msg}`] };
  }
  const root: unknown = doc.toJS();
  if (root === null || root === undefined || root === '') {
    return { ok: false, errors: [`${source}: is empty (expected jira: and applications:)`] };
  }
  const v = new Validator(opts.configuredConnectors, opts.configuredOnCall, instancesOf(root), source);
  const catalog = v.catalog(root);
  return catalog && v.errors.length === 0 ? { ok: true, catalog } : { ok: false, errors: v.errors };
}

/** Reads and parses the catalog file; a missing or unreadable file is one error line. */
export function loadCatalog(
  path: string,
  opts: Omit<CatalogOptions, 'source'> & { readFile?: (path: string) => string },
): CatalogResult {
  let text: string;
  try {
    text = (opts.readFile ?? ((p: string) => fs.readFileSync(p, 'utf8')))(path);
  } catch (e) {
    const code = (e as { code?: unknown } | null)?.code;
    return {
      ok: false,
      errors: [
        code === 'ENOENT'
          ? `${path}: catalog file not found (set ACCESS_CATALOG, or start from access-catalog.example.yaml)`
          : `${path}: cannot read the catalog file (${typeof code === 'string' ? code : String(e)})`,
      ],
    };
  }
  return parseCatalog(text, { configuredConnectors: opts.configuredConnectors, configuredOnCall: opts.configuredOnCall, source: path });
}

class Validator extends Reader {
  constructor(
    private readonly configured: readonly ConnectorName[] | undefined,
    private readonly onCall: readonly OnCallServiceType[] | undefined,
    private readonly instances: Instances,
    private readonly source: string,
  ) {
    super();
  }

  catalog(root: unknown): Catalog | undefined {
    const top = this.map(this.source, root, 'a map with jira: and applications:');
    if (!top) return undefined;
    this.keys('', top, TOP_KEYS);
    const jiraSection = jira(this, top.jira);
    const defaults = top.defaults === undefined ? NO_DEFAULTS : this.defaults('defaults', top.defaults, undefined);

    const applications: Application[] = [];
    const list = top.applications === undefined ? this.fail('applications', 'required (a list of applications)') : this.list('applications', top.applications, 'application');
    const seen = new Map<string, string>();
    list?.forEach((raw, i) => {
      const p = `applications[${i}]`;
      const app = this.application(p, raw, defaults);
      if (!app) return;
      const first = seen.get(app.id);
      if (first) this.fail(`${p}.id`, `"${app.id}" is already used by ${first}`);
      else seen.set(app.id, p);
      applications.push(app);
    });
    // Read after the applications: an entry may name their ids (as written, so an application
    // with an error of its own is not reported a second time here).
    const appIds = list?.map((a) => (isMap(a) && typeof a.id === 'string' ? a.id.trim() : '')).filter((id) => id !== '');
    const delegateList = delegates(this, top.delegates, appIds);
    // Bundles name roles: read once the applications are.
    const bundleList = top.bundles === undefined ? undefined : bundles(this, 'bundles', top.bundles, applications, writtenRoles(top.applications));
    if (!jiraSection || !list || !delegateList) return undefined;
    return { jira: jiraSection, applications, ...(delegateList.length > 0 ? { delegates: delegateList } : {}), ...(bundleList ? { bundles: bundleList } : {}) };
  }

  /** A `defaults:` block; `owners` (when given) is the application's, for the owners check. */
  private defaults(p: string, raw: unknown, owners: string[] | undefined): Defaults {
    const m = this.map(p, raw, 'a map with approval: and/or durations:');
    if (!m) return { policy: { state: 'invalid' }, durations: { state: 'invalid' } };
    this.keys(p, m, DEFAULTS_KEYS);
    if (isMap(m.approval) && m.approval.rules !== undefined) {
      this.fail(`${p}.approval.rules`, "rules belong on a role's approval (they test the role's durations and grant connector), not in defaults");
      return { policy: { state: 'invalid' }, durations: { state: 'invalid' } };
    }
    const policy = policyField(this, p, m);
    if (policy.state === 'ok' && owners !== undefined) checkOwners(this, policy.value.ownersAt, owners);
    let durations: Inherited<Duration[]> = { state: 'absent' };
    if (m.durations !== undefined) {
      const d = this.durations(`${p}.durations`, m.durations);
      durations = d ? { state: 'ok', value: d, at: `${p}.durations` } : { state: 'invalid' };
    }
    return { policy, durations };
  }

  private application(p: string, raw: unknown, top: Defaults): Application | undefined {
    const m = this.map(p, raw, 'a map with id:, name:, roles:');
    if (!m) return undefined;
    this.keys(p, m, APP_KEYS);
    const id = this.id(`${p}.id`, m.id);
    const name = this.name(`${p}.name`, m.name);
    let owners: string[] | undefined = [];
    if (m.owners !== undefined) owners = this.emails(`${p}.owners`, m.owners);
    // With invalid owners, skip the owners checks below rather than report a second problem.
    const ownersKnown = owners ?? ['(invalid)'];
    const appDefaults = m.defaults === undefined ? NO_DEFAULTS : this.defaults(`${p}.defaults`, m.defaults, ownersKnown);
    const appReclaim = reclaim(this, `${p}.reclaim`, m.reclaim);
    if (appReclaim === 'off') this.fail(`${p}.reclaim`, 'off is for a role opting out of its application\'s reclaim; leave reclaim out here');
    const inheritedReclaim = { policy: appReclaim === 'off' || appReclaim === null ? undefined : appReclaim, at: `${p}.reclaim` };

    const roles: Role[] = [];
    const roleList = m.roles === undefined ? this.fail(`${p}.roles`, 'required (a list of roles)') : this.list(`${p}.roles`, m.roles, 'role');
    const seen = new Map<string, string>();
    // Roles that inherit `owners` from the top-level defaults, for one line per application.
    const inheritOwners: { role: string; at: string }[] = [];
    roleList?.forEach((r, i) => {
      const rp = `${p}.roles[${i}]`;
      const role = this.role(rp, r, ownersKnown, appDefaults, top, inheritOwners, inheritedReclaim);
      if (!role) return;
      const first = seen.get(role.id);
      if (first) this.fail(`${rp}.id`, `"${role.id}" is already used by ${first}`);
      else seen.set(role.id, rp);
      roles.push(role);
    });
    if (inheritOwners.length > 0) {
      this.fail(
        p,
        `has no owners, but role${inheritOwners.length === 1 ? '' : 's'} ${inheritOwners.map((x) => x.role).join(', ')} inherit "owners" from ${inheritOwners[0]!.at} (add owners: [...] or give ${inheritOwners.length === 1 ? 'it' : 'them'} their own approvers)`,
      );
    }
    const appReviews = m.reviews === undefined ? undefined : reviews(this, `${p}.reviews`, m.reviews, ownersKnown);
    if (appReviews) for (const role of roles) if (!role.reviews) checkReviewable(this, `${p}.reviews`, role, this.instances);
    if (!id || !name || !owners || !roleList || (m.reviews !== undefined && !appReviews) || appReclaim === null) return undefined;
    const app: Application = { id, name, owners, roles };
    if (appReviews) app.reviews = appReviews;
    return app;
  }

  private role(
    p: string,
    raw: unknown,
    owners: string[],
    app: Defaults,
    top: Defaults,
    inheritOwners: { role: string; at: string }[],
    appReclaim: { policy: ReclaimPolicy | undefined; at: string },
  ): Role | undefined {
    const m = this.map(p, raw, 'a map with id:, name:, grant:, durations:, approvers:');
    if (!m) return undefined;
    this.keys(p, m, ROLE_KEYS);
    const id = this.id(`${p}.id`, m.id);
    const name = this.name(`${p}.name`, m.name);
    const target = grant(this, `${p}.grant`, m.grant, this.instances, this.configured);
    const glass = m.breakGlass === undefined ? undefined : breakGlass(this, `${p}.breakGlass`, m.breakGlass, owners);
    const isBreakGlass = m.breakGlass !== undefined;

    // Durations: role > application defaults > top-level defaults.
    let durations: Duration[] | undefined;
    if (m.durations !== undefined) {
      durations = this.durations(`${p}.durations`, m.durations);
      if (durations && isBreakGlass) {
        const i = durations.findIndex((d) => d.ms === null);
        if (i >= 0) durations = this.fail(`${p}.durations[${i}]`, 'a break-glass role must not offer permanent');
      }
    } else {
      const inherited = pick(app.durations, top.durations);
      if (inherited.state === 'absent') this.fail(`${p}.durations`, 'required (e.g. [1h, 8h, permanent]), or set defaults.durations');
      else if (inherited.state === 'ok') {
        // Copies: roles must not share objects, so no consumer can change two roles at once.
        durations = structuredClone(inherited.value);
        if (isBreakGlass && durations.some((d) => d.ms === null)) {
          durations = this.fail(`${p}.durations`, `a break-glass role must not offer permanent (inherited from ${inherited.at}; list the role's own durations)`);
        }
      }
    }

    // Approval: role > application defaults > top-level defaults; break-glass without its own is auto.
    let approval: ApprovalPolicy | undefined;
    let rules: PolicyRules | undefined;
    const isRuled = isMap(m.approval) && m.approval.rules !== undefined;
    let own: Inherited<ParsedPolicy>;
    if (isRuled) {
      const withRules = ruled(this, `${p}.approval`, m, { durations, grant: target, instances: this.instances, onCall: this.onCall }, isBreakGlass);
      own = withRules ? { state: 'ok', value: withRules.parsed, at: `${p}.approval` } : { state: 'invalid' };
      rules = withRules?.rules;
    } else own = policyField(this, p, m);
    if (own.state === 'ok') {
      checkOwners(this, own.value.ownersAt, owners);
      approval = own.value.policy;
    } else if (own.state === 'absent') {
      if (isBreakGlass) approval = { kind: 'auto' };
      else if (app.policy.state !== 'absent') approval = app.policy.state === 'ok' ? structuredClone(app.policy.value.policy) : undefined;
      else if (top.policy.state === 'ok') {
        approval = structuredClone(top.policy.value.policy);
        const at = top.policy.value.ownersAt[0];
        if (at && owners.length === 0 && id) inheritOwners.push({ role: id, at });
      } else if (top.policy.state === 'absent') {
        this.fail(p, 'has no approval policy (set approvers: [...] or approval:, or defaults.approval)');
      }
    }

    if (!id || !name || !target || !durations || !approval || (isBreakGlass && !glass)) return undefined;
    const extend = extension(this, `${p}.extend`, m.extend, durations, approval, isBreakGlass);
    const warn = m.warnBefore === undefined ? undefined : warnBefore(this, `${p}.warnBefore`, m.warnBefore);
    const review = m.reviews === undefined ? undefined : reviews(this, `${p}.reviews`, m.reviews, owners);
    if (review) checkReviewable(this, `${p}.reviews`, { id, grant: target }, this.instances);
    const ownReclaim = reclaim(this, `${p}.reclaim`, m.reclaim);
    const unused = ownReclaim === null ? null : roleReclaim(this, p, ownReclaim, appReclaim, target, this.instances);
    if (extend === null || warn === null || (m.reviews !== undefined && !review) || unused === null) return undefined;
    const role: Role = { id, name, grant: target, durations, approval };
    if (rules) role.rules = rules;
    if (glass) role.breakGlass = glass;
    if (extend) role.extend = extend;
    if (warn) role.warnBefore = warn;
    if (review) role.reviews = review;
    if (unused) role.reclaim = unused;
    return role;
  }
}

/** The first present defaults field: application's, else top-level's. */
function pick<T>(app: Inherited<T>, top: Inherited<T>): Inherited<T> {
  return app.state !== 'absent' ? app : top;
}
