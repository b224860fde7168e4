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
 */
import fs from 'node:fs';
import YAML from 'yaml';
import { CONNECTOR_TYPES, connectorType } from '../adapters/idp/index.js';
import type { ConnectorDescriptor } from '../adapters/idp/descriptor.js';
import {
  type Application,
  type ApprovalPolicy,
  type ApprovalStage,
  type ApproverRef,
  type BreakGlass,
  type Catalog,
  type ConnectorName,
  type Extension,
  type GrantTarget,
  type Conditions,
  type JiraTransitionState,
  type PolicyRule,
  type PolicyRules,
  type RequestKind,
  type Role,
  type StagedPolicy,
  type Weekday,
  type WorkingHours,
  REQUEST_KINDS,
  WEEKDAYS,
} from '../domain/catalog.js';
import { ruleLabel } from '../domain/policy.js';
import { describeMs, parseDuration, type Duration } from '../domain/duration.js';
import { hasCapability, type Capability } from '../app/ports/idp.js';
import { configureHint } from './connectors.js';
import { EMAIL_RE, closest } from './values.js';

export type CatalogResult = { ok: true; catalog: Catalog } | { ok: false; errors: string[] };
export interface CatalogOptions {
  /**
   * Connector instances that are configured (`connectorsOf(config)`); a grant naming another
   * one is an error. Undefined: only whether the name exists is checked (`access-bot check`
   * reads the catalog even when the environment is wrong).
   */
  configuredConnectors: readonly ConnectorName[] | undefined;
  /** Name of the text's origin (file path) for syntax errors. Default "catalog". */
  source?: string;
}

const TRANSITION_STATES: readonly JiraTransitionState[] = ['approved', 'denied', 'active', 'revoked', 'cancelled', 'timed_out', 'failed'];
const DEFAULT_MIN_REASON = 20;
/** Slack's `plain_text_input` allows min_length up to 3000. */
const MAX_MIN_REASON = 3000;
/** Slack shows at most 75 characters of an option's text in a select. */
const MAX_NAME = 75;
/** Ids travel in Slack option values and action ids (150/255 chars): keep room for both ids. */
const MAX_ID = 64;
const ID_RE = /^[a-z0-9][a-z0-9-]*$/;
const JIRA_KEY_RE = /^[A-Z][A-Z0-9_]+$/;

const KEYS = {
  top: ['jira', 'connectors', 'defaults', 'applications'],
  jira: ['project', 'issueType', 'transitions'],
  defaults: ['durations', 'approvers', 'approval'],
  app: ['id', 'name', 'owners', 'defaults', 'roles'],
  role: ['id', 'name', 'grant', 'durations', 'approvers', 'approval', 'breakGlass', 'extend', 'warnBefore'],
  extend: ['max', 'approval'],
  grant: ['connector', 'group'],
  approval: ['approvers', 'required', 'stages', 'fallback', 'remindAfter', 'escalateAfter', 'escalateTo', 'timeout'],
  stage: ['approvers', 'required'],
  breakGlass: ['notify', 'minReasonLength', 'reviewers'],
  ruled: ['rules', 'default'],
  rule: ['name', 'when', 'notify', 'auto', 'deny', 'approvers', 'required', 'stages', 'fallback', 'remindAfter', 'escalateAfter', 'escalateTo', 'timeout'],
  when: ['memberOf', 'department', 'title', 'durationOver', 'kind', 'hours'],
  hours: ['tz', 'from', 'to', 'days'],
} as const;

const APPROVER_HINT = 'use owners, manager, an email, or slack-group:<handle or id>';
const DURATION_HINT = 'use <n>s, <n>m, <n>h, <n>d or permanent';
const SPAN_HINT = 'use <n>s, <n>m, <n>h or <n>d';

type Obj = Record<string, unknown>;

/** A policy as written somewhere, with where `owners` appears in it (checked per application). */
interface ParsedPolicy {
  policy: ApprovalPolicy;
  ownersAt: string[];
  at: string;
}
/** A defaults field: absent, given but invalid (already reported), or a value. */
type Inherited<T> = { state: 'absent' } | { state: 'invalid' } | { state: 'ok'; value: T; at: string };
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
  const v = new Validator(opts.configuredConnectors, instancesOf(root), source);
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
  return parseCatalog(text, { configuredConnectors: opts.configuredConnectors, source: path });
}

/**
 * The connector instances a grant may name, with their types: the catalog's `connectors:` block
 * when it has one, else one per type. The block's settings are read with the environment
 * (config/connectors.ts, through loadConfig), which reports their problems; here only the names
 * and types matter.
 */
interface Instances {
  byName: Map<string, ConnectorDescriptor | undefined>;
  fromCatalog: boolean;
}

function instancesOf(root: unknown): Instances {
  const block = isMap(root) ? root.connectors : undefined;
  if (block === undefined) return { byName: new Map(CONNECTOR_TYPES.map((d) => [d.type, d])), fromCatalog: false };
  const entries = isMap(block) ? Object.entries(block) : [];
  return { byName: new Map(entries.map(([name, spec]) => [name, isMap(spec) && typeof spec.type === 'string' ? connectorType(spec.type.trim()) : undefined])), fromCatalog: true };
}

function isMap(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

class Validator {
  readonly errors: string[] = [];
  constructor(
    private readonly configured: readonly ConnectorName[] | undefined,
    private readonly instances: Instances,
    private readonly source: string,
  ) {}

  private fail(path: string, msg: string): undefined {
    this.errors.push(`${path}: ${msg}`);
    return undefined;
  }

  catalog(root: unknown): Catalog | undefined {
    const top = this.map(this.source, root, 'a map with jira: and applications:');
    if (!top) return undefined;
    this.keys('', top, KEYS.top);
    const jira = this.jira(top.jira);
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
    if (!jira || !list) return undefined;
    return { jira, applications };
  }

  private jira(raw: unknown): Catalog['jira'] | undefined {
    if (raw === undefined) return this.fail('jira', 'required (e.g. jira: { project: ACC })');
    const m = this.map('jira', raw, 'a map with project:');
    if (!m) return undefined;
    this.keys('jira', m, KEYS.jira);
    let project = this.str('jira.project', m.project, 'the Jira project key, e.g. ACC');
    if (project !== undefined && !JIRA_KEY_RE.test(project)) {
      project = this.fail('jira.project', `"${project}" is not a Jira project key (capital letters, digits and _, starting with a letter, e.g. ACC)`);
    }
    const issueType = m.issueType === undefined ? 'Task' : this.str('jira.issueType', m.issueType, 'an issue type name, e.g. Task');
    const transitions: Catalog['jira']['transitions'] = {};
    if (m.transitions !== undefined) {
      const t = this.map('jira.transitions', m.transitions, 'a map of request state to Jira transition name');
      for (const [state, name] of Object.entries(t ?? {})) {
        const p = `jira.transitions.${state}`;
        if (!(TRANSITION_STATES as readonly string[]).includes(state)) {
          this.fail(p, `"${state}" is not a request state (${oneOf(TRANSITION_STATES)}${suggest(state, TRANSITION_STATES)})`);
          continue;
        }
        const n = this.str(p, name, 'the name of a Jira transition');
        if (n !== undefined) transitions[state as JiraTransitionState] = n;
      }
    }
    if (project === undefined || issueType === undefined) return undefined;
    return { project, issueType, transitions };
  }

  /** A `defaults:` block; `owners` (when given) is the application's, for the owners check. */
  private defaults(p: string, raw: unknown, owners: string[] | undefined): Defaults {
    const m = this.map(p, raw, 'a map with approval: and/or durations:');
    if (!m) return { policy: { state: 'invalid' }, durations: { state: 'invalid' } };
    this.keys(p, m, KEYS.defaults);
    if (isMap(m.approval) && m.approval.rules !== undefined) {
      this.fail(`${p}.approval.rules`, "rules belong on a role's approval (they test the role's durations and grant connector), not in defaults");
      return { policy: { state: 'invalid' }, durations: { state: 'invalid' } };
    }
    const policy = this.policyField(p, m);
    if (policy.state === 'ok' && owners !== undefined) this.checkOwners(policy.value, owners);
    let durations: Inherited<Duration[]> = { state: 'absent' };
    if (m.durations !== undefined) {
      const d = this.durations(`${p}.durations`, m.durations);
      durations = d ? { state: 'ok', value: d, at: `${p}.durations` } : { state: 'invalid' };
    }
    return { policy, durations };
  }

  /** `approvers` or `approval` on a role or in defaults: at most one of them. */
  private policyField(p: string, m: Obj): Inherited<ParsedPolicy> {
    if (m.approvers !== undefined && m.approval !== undefined) {
      this.fail(p, 'set either approvers or approval, not both');
      return { state: 'invalid' };
    }
    if (m.approvers !== undefined) {
      const at = `${p}.approvers`;
      const ownersAt: string[] = [];
      const approvers = this.approvers(at, m.approvers, ownersAt, true);
      if (!approvers) return { state: 'invalid' };
      const policy: StagedPolicy = { kind: 'stages', stages: [{ approvers, required: 1 }], fallback: [], escalateTo: [] };
      return { state: 'ok', value: { policy, ownersAt, at }, at };
    }
    if (m.approval !== undefined) {
      const at = `${p}.approval`;
      const parsed = this.approval(at, m.approval);
      return parsed ? { state: 'ok', value: parsed, at } : { state: 'invalid' };
    }
    return { state: 'absent' };
  }

  private approval(p: string, raw: unknown): ParsedPolicy | undefined {
    if (raw === 'auto') return { policy: { kind: 'auto' }, ownersAt: [], at: p };
    if (typeof raw === 'string') {
      return this.fail(p, `"${raw}" is not an approval policy (use auto, or a map with approvers: or stages:)`);
    }
    const m = this.map(p, raw, 'auto, or a map with approvers: or stages:');
    if (!m) return undefined;
    this.keys(p, m, KEYS.approval);
    const ownersAt: string[] = [];
    let stages: ApprovalStage[] | undefined;
    if (m.approvers !== undefined && m.stages !== undefined) {
      this.fail(p, 'set either approvers (one stage) or stages, not both');
    } else if (m.approvers !== undefined) {
      // Short form: one stage, with an optional quorum.
      stages = this.stageFrom(p, m, ownersAt);
    } else if (m.stages !== undefined) {
      if (m.required !== undefined) this.fail(`${p}.required`, 'belongs inside a stage when stages are listed');
      const list = this.list(`${p}.stages`, m.stages, 'stage');
      const parsed = list?.map((s, i) => {
        const sp = `${p}.stages[${i}]`;
        const sm = this.map(sp, s, 'a map with approvers: and optional required:');
        if (!sm) return undefined;
        this.keys(sp, sm, KEYS.stage);
        return this.stageFrom(sp, sm, ownersAt)?.[0];
      });
      if (parsed && parsed.every((s): s is ApprovalStage => s !== undefined)) stages = parsed;
    } else {
      this.fail(p, 'needs approvers: [...] (one stage) or stages: [...] (or use approval: auto)');
    }

    const fallback = m.fallback === undefined ? [] : this.approvers(`${p}.fallback`, m.fallback, ownersAt, true);
    const escalateTo = m.escalateTo === undefined ? [] : this.approvers(`${p}.escalateTo`, m.escalateTo, ownersAt, true);
    const remindAfterMs = this.span(`${p}.remindAfter`, m.remindAfter);
    const escalateAfterMs = this.span(`${p}.escalateAfter`, m.escalateAfter);
    const timeoutMs = this.span(`${p}.timeout`, m.timeout);
    // Escalation needs both halves: when, and to whom; one alone would silently do nothing.
    if (m.escalateAfter !== undefined && m.escalateTo === undefined) this.fail(`${p}.escalateAfter`, 'set escalateTo too (who is asked after escalateAfter)');
    if (m.escalateTo !== undefined && m.escalateAfter === undefined) this.fail(`${p}.escalateTo`, 'set escalateAfter too (how long to wait before escalating)');

    if (!stages || !fallback || !escalateTo || remindAfterMs === null || escalateAfterMs === null || timeoutMs === null) return undefined;
    const policy: StagedPolicy = { kind: 'stages', stages, fallback, escalateTo };
    if (remindAfterMs !== undefined) policy.remindAfterMs = remindAfterMs;
    if (escalateAfterMs !== undefined) policy.escalateAfterMs = escalateAfterMs;
    if (timeoutMs !== undefined) policy.timeoutMs = timeoutMs;
    return { policy, ownersAt, at: p };
  }

  /** One stage from a map holding `approvers` and optional `required` (returned as a 1-tuple). */
  private stageFrom(p: string, m: Obj, ownersAt: string[]): [ApprovalStage] | undefined {
    const approvers = m.approvers === undefined ? this.fail(`${p}.approvers`, `required (${APPROVER_HINT})`) : this.approvers(`${p}.approvers`, m.approvers, ownersAt, true);
    let required = 1;
    if (m.required !== undefined) {
      const n = typeof m.required === 'string' && /^[0-9]{1,4}$/.test(m.required) ? Number(m.required) : NaN;
      if (!Number.isInteger(n) || n < 1) return this.fail(`${p}.required`, `${show(m.required)} is not a whole number of at least 1`);
      required = n;
    }
    if (!approvers) return undefined;
    // Only a stage made only of emails has a known size; a group, owners or manager may resolve
    // to more people than are listed.
    if (approvers.every((a) => a.kind === 'email') && required > approvers.length) {
      return this.fail(`${p}.required`, `${required} but the stage lists only ${approvers.length} approver${approvers.length === 1 ? '' : 's'}`);
    }
    return [{ approvers, required }];
  }

  /** A list of approver refs (or reviewers: the same forms); `ownersAt` collects where `owners` is used. */
  private approvers(p: string, raw: unknown, ownersAt: string[], nonEmpty: boolean, noun = 'approver'): ApproverRef[] | undefined {
    if (!Array.isArray(raw)) return this.fail(p, `must be a list of ${noun}s, e.g. [owners] (${APPROVER_HINT})`);
    if (nonEmpty && raw.length === 0) return this.fail(p, `must list at least one ${noun} (${APPROVER_HINT})`);
    const out: ApproverRef[] = [];
    const seen = new Set<string>();
    let bad = false;
    raw.forEach((item, i) => {
      const ip = `${p}[${i}]`;
      const ref = this.approver(ip, item);
      if (!ref) return void (bad = true);
      const key = ref.kind === 'email' ? ref.email : ref.kind === 'slackGroup' ? `slack-group:${ref.group}` : ref.kind;
      if (seen.has(key)) return void (bad = this.fail(ip, `"${key}" is listed twice`) ?? true);
      seen.add(key);
      if (ref.kind === 'owners') ownersAt.push(ip);
      out.push(ref);
    });
    return bad ? undefined : out;
  }

  private approver(p: string, raw: unknown): ApproverRef | undefined {
    if (typeof raw !== 'string' || raw.trim() === '') return this.fail(p, `${show(raw)} is not an approver (${APPROVER_HINT})`);
    const s = raw.trim();
    if (s === 'owners') return { kind: 'owners' };
    if (s === 'manager') return { kind: 'manager' };
    if (s.startsWith('slack-group:')) {
      // A leading @ is how people write handles in Slack; the API wants the bare handle.
      const group = s.slice('slack-group:'.length).trim().replace(/^@/, '');
      if (!group || /\s/.test(group)) return this.fail(p, `"${s}" is not a Slack user group (use slack-group:<handle or id>, e.g. slack-group:security)`);
      return { kind: 'slackGroup', group };
    }
    if (s.includes('@')) {
      if (!EMAIL_RE.test(s)) return this.fail(p, `"${s}" is not an email address`);
      return { kind: 'email', email: s.toLowerCase() };
    }
    return this.fail(p, `"${s}" is not an approver (${APPROVER_HINT}${suggest(s, ['owners', 'manager', 'slack-group:'])})`);
  }

  /** `undefined`: not given; `null`: invalid (reported). */
  private span(p: string, raw: unknown): number | undefined | null {
    if (raw === undefined) return undefined;
    const s = typeof raw === 'string' ? raw.trim() : undefined;
    const d = s === undefined ? undefined : parseDuration(s);
    if (d && d.ms === null) return this.fail(p, `"permanent" is not allowed here (${SPAN_HINT})`) ?? null;
    if (!d) return this.fail(p, durationProblem(raw, SPAN_HINT)) ?? null;
    return d.ms;
  }

  private durations(p: string, raw: unknown): Duration[] | undefined {
    if (!Array.isArray(raw)) return this.fail(p, `must be a list of durations, e.g. [1h, 8h, permanent]`);
    if (raw.length === 0) return this.fail(p, 'must list at least one duration (e.g. [1h, 8h, permanent])');
    const out: Duration[] = [];
    const seen = new Set<string>();
    let bad = false;
    raw.forEach((item, i) => {
      const ip = `${p}[${i}]`;
      const d = typeof item === 'string' ? parseDuration(item) : undefined;
      if (!d) return void (bad = this.fail(ip, durationProblem(item, DURATION_HINT)) ?? true);
      // Tokens are the select's option values, which Slack requires to be unique.
      if (seen.has(d.token)) return void (bad = this.fail(ip, `"${d.token}" is listed twice`) ?? true);
      seen.add(d.token);
      out.push(d);
    });
    return bad ? undefined : out;
  }

  private application(p: string, raw: unknown, top: Defaults): Application | undefined {
    const m = this.map(p, raw, 'a map with id:, name:, roles:');
    if (!m) return undefined;
    this.keys(p, m, KEYS.app);
    const id = this.id(`${p}.id`, m.id);
    const name = this.name(`${p}.name`, m.name);
    let owners: string[] | undefined = [];
    if (m.owners !== undefined) owners = this.emails(`${p}.owners`, m.owners);
    // With invalid owners, skip the owners checks below rather than report a second problem.
    const ownersKnown = owners ?? ['(invalid)'];
    const appDefaults = m.defaults === undefined ? NO_DEFAULTS : this.defaults(`${p}.defaults`, m.defaults, ownersKnown);

    const roles: Role[] = [];
    const roleList = m.roles === undefined ? this.fail(`${p}.roles`, 'required (a list of roles)') : this.list(`${p}.roles`, m.roles, 'role');
    const seen = new Map<string, string>();
    // Roles that inherit `owners` from the top-level defaults, for one line per application.
    const inheritOwners: { role: string; at: string }[] = [];
    roleList?.forEach((r, i) => {
      const rp = `${p}.roles[${i}]`;
      const role = this.role(rp, r, ownersKnown, appDefaults, top, inheritOwners);
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
    if (!id || !name || !owners || !roleList) return undefined;
    return { id, name, owners, roles };
  }

  private role(
    p: string,
    raw: unknown,
    owners: string[],
    app: Defaults,
    top: Defaults,
    inheritOwners: { role: string; at: string }[],
  ): Role | undefined {
    const m = this.map(p, raw, 'a map with id:, name:, grant:, durations:, approvers:');
    if (!m) return undefined;
    this.keys(p, m, KEYS.role);
    const id = this.id(`${p}.id`, m.id);
    const name = this.name(`${p}.name`, m.name);
    const grant = this.grant(`${p}.grant`, m.grant);
    const breakGlass = m.breakGlass === undefined ? undefined : this.breakGlass(`${p}.breakGlass`, m.breakGlass, owners);
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
      const ruled = this.ruled(`${p}.approval`, m, durations, grant, isBreakGlass);
      own = ruled ? { state: 'ok', value: ruled.parsed, at: `${p}.approval` } : { state: 'invalid' };
      rules = ruled?.rules;
    } else own = this.policyField(p, m);
    if (own.state === 'ok') {
      this.checkOwners(own.value, owners);
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

    if (!id || !name || !grant || !durations || !approval || (isBreakGlass && !breakGlass)) return undefined;
    const extend = this.extension(`${p}.extend`, m.extend, durations, approval, isBreakGlass);
    const warnBefore = m.warnBefore === undefined ? undefined : this.warnBefore(`${p}.warnBefore`, m.warnBefore);
    if (extend === null || warnBefore === null) return undefined;
    const role: Role = { id, name, grant, durations, approval };
    if (rules) role.rules = rules;
    if (breakGlass) role.breakGlass = breakGlass;
    if (extend) role.extend = extend;
    if (warnBefore) role.warnBefore = warnBefore;
    return role;
  }

  /**
   * `approval: { rules: [...], default: ... }`: rules tried in order, first match wins, the default
   * when none matches. Refused: a rule that can never match (after a rule with no conditions, a
   * `durationOver` no offered duration exceeds, an empty `hours` window), a `default` that can never
   * apply, and rules that leave a case with no policy. Returns the default (or the last rule's
   * policy, when that rule has no conditions) as the role's plain policy, with the rules.
   */
  private ruled(p: string, role: Obj, durations: Duration[] | undefined, grant: GrantTarget | undefined, isBreakGlass: boolean): { parsed: ParsedPolicy; rules: PolicyRules } | undefined {
    if (role.approvers !== undefined) return this.fail(p.replace(/\.approval$/, ''), 'set either approvers or approval, not both');
    if (isBreakGlass) return this.fail(`${p}.rules`, 'a break-glass role takes no rules (it is auto-approved; the alert and the review are its control)');
    const m = role.approval as Obj;
    this.keys(p, m, KEYS.ruled);
    const ownersAt: string[] = [];
    const list = this.list(`${p}.rules`, m.rules, 'rule');
    if (!list) return undefined;
    const rules: (PolicyRule | undefined)[] = list.map((raw, i) => this.rule(`${p}.rules[${i}]`, raw, ownersAt, durations, grant));
    // A rule with no conditions matches every request: anything after it is dead.
    const catchAll = rules.findIndex((r) => r !== undefined && Object.keys(r.when).length === 0);
    for (let i = catchAll + 1; catchAll >= 0 && i < rules.length; i++) {
      this.fail(`${p}.rules[${i}]`, `can never match: ${ruleLabel(catchAll + 1, rules[catchAll]!)} before it has no conditions (when:) and matches every request`);
    }
    let fallback: ApprovalPolicy | undefined;
    if (m.default !== undefined) {
      if (catchAll >= 0) {
        this.fail(`${p}.default`, `never applies: ${ruleLabel(catchAll + 1, rules[catchAll]!)} has no conditions (when:) and matches every request`);
      }
      fallback = this.ruleOutcome(`${p}.default`, m.default, ownersAt);
      if (!fallback) return undefined;
    } else if (catchAll < 0 && rules.every((r) => r !== undefined)) {
      return this.fail(p, 'a request that no rule matches has no policy: add default: (e.g. default: { approvers: [owners] }) or end with a rule without when:');
    }
    if (!rules.every((r): r is PolicyRule => r !== undefined)) return undefined;
    const approval = fallback ?? rules[catchAll]!.policy;
    if (!grant) return undefined;
    return { parsed: { policy: approval, ownersAt, at: p }, rules: { rules, factsFrom: grant.connector } };
  }

  private rule(p: string, raw: unknown, ownersAt: string[], durations: Duration[] | undefined, grant: GrantTarget | undefined): PolicyRule | undefined {
    const m = this.map(p, raw, 'a map with when: and approvers:, stages:, auto: true or deny: <reason>');
    if (!m) return undefined;
    this.keys(p, m, KEYS.rule);
    const name = m.name === undefined ? undefined : this.name(`${p}.name`, m.name);
    const when = m.when === undefined ? {} : this.when(`${p}.when`, m.when, durations, grant);
    const notify = m.notify === undefined ? [] : this.notifyList(`${p}.notify`, m.notify);
    const { name: _n, when: _w, notify: _t, ...policyKeys } = m;
    const policy = this.ruleOutcome(p, policyKeys, ownersAt);
    if ((m.name !== undefined && !name) || !when || !notify || !policy) return undefined;
    const rule: PolicyRule = { when, policy, notify };
    if (name) rule.name = name;
    return rule;
  }

  /** A rule's (or the default's) policy: `auto: true`, `deny: <reason>`, or an approval map; `default` may also be the word auto. */
  private ruleOutcome(p: string, raw: unknown, ownersAt: string[]): ApprovalPolicy | undefined {
    if (raw === 'auto') return { kind: 'auto' };
    const m = this.map(p, raw, 'auto: true, deny: <reason>, or approvers: / stages:');
    if (!m) return undefined;
    // A rule's own keys were checked with the rule; the default's are checked here.
    if (p.endsWith('.default')) this.keys(p, m, ['auto', 'deny', ...KEYS.approval]);
    const approvalKeys = Object.fromEntries(Object.entries(m).filter(([k]) => (KEYS.approval as readonly string[]).includes(k)));
    const given = ['auto', 'deny', 'approval'].filter((k) => (k === 'approval' ? Object.keys(approvalKeys).length > 0 : m[k] !== undefined));
    if (given.length !== 1) return this.fail(p, given.length === 0 ? 'says nothing to do: give approvers: / stages:, auto: true, or deny: <reason>' : 'set only one of auto:, deny:, or approvers: / stages:');
    if (m.auto !== undefined) return m.auto === 'true' ? { kind: 'auto' } : this.fail(`${p}.auto`, `${show(m.auto)} is not true (write auto: true, or leave it out)`);
    if (m.deny !== undefined) {
      const reason = this.str(`${p}.deny`, m.deny, 'the reason the requester is told, e.g. "contractors may not hold production access"');
      return reason === undefined ? undefined : { kind: 'deny', reason };
    }
    const parsed = this.approval(p, approvalKeys);
    if (!parsed) return undefined;
    ownersAt.push(...parsed.ownersAt);
    return parsed.policy;
  }

  private when(p: string, raw: unknown, durations: Duration[] | undefined, grant: GrantTarget | undefined): Conditions | undefined {
    const m = this.map(p, raw, `a map of conditions (${oneOf(KEYS.when)})`);
    if (!m) return undefined;
    this.keys(p, m, KEYS.when);
    const c: Conditions = {};
    let ok = true;
    const needs = (key: string, capability: Capability, what: string): void => {
      const d = grant ? this.instances.byName.get(grant.connector) : undefined;
      if (grant && d && !hasCapability(d.prototype, capability)) {
        ok = this.fail(`${p}.${key}`, `the role's connector ${grant.connector} (${d.label}) cannot tell ${what}; ${key} rules need a connector that can (okta)`) ?? false;
      }
    };
    if (m.memberOf !== undefined) {
      const v = this.words(`${p}.memberOf`, m.memberOf, 'IdP group ids or names');
      if (v) c.memberOf = v;
      else ok = false;
      needs('memberOf', 'userGroups', "a user's groups");
    }
    for (const attr of ['department', 'title'] as const) {
      if (m[attr] === undefined) continue;
      const v = this.words(`${p}.${attr}`, m[attr], `${attr} values as the IdP profile holds them`);
      if (v) c[attr] = v;
      else ok = false;
      needs(attr, 'userProfile', `a user's ${attr}`);
    }
    if (m.durationOver !== undefined) {
      const ms = this.span(`${p}.durationOver`, m.durationOver);
      if (ms === null || ms === undefined) ok = false;
      else if (durations && !durations.some((d) => d.ms === null || d.ms > ms)) {
        const longest = Math.max(...durations.map((d) => d.ms ?? 0));
        ok = this.fail(`${p}.durationOver`, `can never match: the role's longest duration is ${describeMs(longest)}`) ?? false;
      } else c.durationOverMs = ms;
    }
    if (m.kind !== undefined) {
      const v = this.words(`${p}.kind`, m.kind, oneOf(REQUEST_KINDS));
      const bad = v?.find((k) => !(REQUEST_KINDS as readonly string[]).includes(k));
      if (bad !== undefined) ok = this.fail(`${p}.kind`, `"${bad}" is not a request kind (${oneOf(REQUEST_KINDS)}${suggest(bad, REQUEST_KINDS)})`) ?? false;
      else if (v) c.kind = v as RequestKind[];
      else ok = false;
    }
    if (m.hours !== undefined) {
      const h = this.hours(`${p}.hours`, m.hours);
      if (h) c.hours = h;
      else ok = false;
    }
    return ok ? c : undefined;
  }

  private hours(p: string, raw: unknown): WorkingHours | undefined {
    const m = this.map(p, raw, "a map with tz:, from:, to: and days:, e.g. { tz: Europe/Paris, from: '09:00', to: '18:00', days: [mon, tue, wed, thu, fri] }");
    if (!m) return undefined;
    this.keys(p, m, KEYS.hours);
    let tz = this.str(`${p}.tz`, m.tz, 'an IANA time zone, e.g. Europe/Paris');
    if (tz !== undefined && !validZone(tz)) tz = this.fail(`${p}.tz`, `"${tz}" is not an IANA time zone (e.g. Europe/Paris, America/New_York, UTC)`);
    const time = (k: 'from' | 'to'): number | undefined => {
      const s = this.str(`${p}.${k}`, m[k], "a time like '09:00'");
      const t = s === undefined ? undefined : /^([01][0-9]|2[0-3]):([0-5][0-9])$/.exec(s);
      if (s !== undefined && !t) return this.fail(`${p}.${k}`, `"${s}" is not a time like '09:00' (24-hour, quoted)`);
      return t ? Number(t[1]) * 60 + Number(t[2]) : undefined;
    };
    const fromMin = time('from');
    const toMin = time('to');
    if (fromMin !== undefined && fromMin === toMin) return this.fail(p, 'can never match: from and to are the same time (an empty window)');
    const days = m.days === undefined ? this.fail(`${p}.days`, 'required (e.g. [mon, tue, wed, thu, fri])') : this.words(`${p}.days`, m.days, 'days like mon, tue');
    const bad = days?.find((d) => !(WEEKDAYS as readonly string[]).includes(d.toLowerCase()));
    if (bad !== undefined) return this.fail(`${p}.days`, `"${bad}" is not a day (${oneOf(WEEKDAYS)})`);
    if (tz === undefined || fromMin === undefined || toMin === undefined || !days) return undefined;
    return { tz, fromMin, toMin, days: [...new Set(days.map((d) => d.toLowerCase() as Weekday))] };
  }

  /** `notify:` targets: Slack channels (#name or an id) or emails. */
  private notifyList(p: string, raw: unknown): string[] | undefined {
    const v = this.words(p, raw, 'Slack channels (#name or id) or emails');
    const bad = v?.find((t) => !(t.startsWith('#') || /^[CG][A-Z0-9]{6,}$/.test(t) || EMAIL_RE.test(t)));
    if (bad !== undefined) return this.fail(p, `"${bad}" is not a Slack channel (#name or a channel id) nor an email`);
    return v?.map((t) => (t.includes('@') ? t.toLowerCase() : t));
  }

  /** A non-empty list of non-empty single values (a lone value is a list of one). */
  private words(p: string, raw: unknown, what: string): string[] | undefined {
    const items = typeof raw === 'string' ? [raw] : raw;
    if (!Array.isArray(items) || items.length === 0) return this.fail(p, `must be a value or a list of ${what}`);
    const out: string[] = [];
    for (const [i, item] of items.entries()) {
      const s = this.str(`${p}[${i}]`, item, what);
      if (s === undefined) return undefined;
      out.push(s);
    }
    return out;
  }

  /** `owners` in a policy written where the application is known: one line per use. */
  private checkOwners(parsed: ParsedPolicy, owners: string[]): void {
    if (owners.length > 0) return;
    for (const at of parsed.ownersAt) this.fail(at, '"owners" but the application has no owners (add owners: [...] to it)');
  }

  private grant(p: string, raw: unknown): GrantTarget | undefined {
    if (raw === undefined) return this.fail(p, `required (e.g. grant: { connector: okta, group: <group id> })`);
    const m = this.map(p, raw, 'a map with connector: and group:');
    if (!m) return undefined;
    // A type whose grants are not a group takes its own keys instead of `group`.
    const grantKeys = typeof m.connector === 'string' ? this.instances.byName.get(m.connector.trim())?.grantKeys : undefined;
    this.keys(p, m, grantKeys ? ['connector', ...grantKeys.keys] : KEYS.grant);
    let connector: ConnectorName | undefined;
    const names = [...this.instances.byName.keys()];
    const c = this.str(`${p}.connector`, m.connector, names.length ? oneOf(names) : 'a connector named in connectors:');
    const type = c === undefined ? undefined : this.instances.byName.get(c);
    if (c !== undefined) {
      if (!this.instances.byName.has(c)) {
        this.fail(`${p}.connector`, `"${c}" is not a connector (${names.length ? `${oneOf(names)}${suggest(c, names)}` : 'connectors: names none'})`);
      } else if (this.configured && !this.configured.includes(c)) {
        this.fail(`${p}.connector`, `"${c}" is not configured (${this.instances.fromCatalog || !type ? `see connectors.${c}` : configureHint(type)})`);
      } else connector = c;
    }
    if (grantKeys) {
      // Its own keys, made into the one string the bot keys the membership by.
      const fields: Record<string, string> = {};
      const missing = (grantKeys.required ?? []).filter((k) => m[k] === undefined);
      for (const k of missing) this.fail(`${p}.${k}`, `required (e.g. ${grantKeys.example})`);
      if (missing.length > 0) return undefined;
      for (const k of grantKeys.keys) {
        if (m[k] === undefined) continue;
        const v = this.str(`${p}.${k}`, m[k], `see ${grantKeys.example}`);
        if (v === undefined) return undefined;
        fields[k] = v;
      }
      const t = grantKeys.target(fields);
      if ('error' in t) return this.fail(p, `${t.error} (e.g. ${grantKeys.example})`);
      return connector ? { connector, group: t.group } : undefined;
    }
    const groupHint = type?.groups.what ?? 'the group id';
    let group = this.str(`${p}.group`, m.group, groupHint);
    if (group !== undefined && /\s/.test(group)) group = this.fail(`${p}.group`, `"${group}" contains whitespace (expected ${groupHint})`);
    // Google identifies groups by email, which is case-insensitive: normalise like other emails.
    if (group !== undefined && type?.groups.email) {
      if (!EMAIL_RE.test(group)) group = this.fail(`${p}.group`, `"${group}" is not an email address (${type.label} groups are named by email)`);
      else group = group.toLowerCase();
    }
    return connector && group ? { connector, group } : undefined;
  }

  /**
   * `extend: { max, approval: same | auto }`. Default: the role's own policy, at most its longest
   * duration. A break-glass role is not extended (a new request alerts again), nor a role that
   * offers only permanent. undefined: no extension; null: an error was reported.
   */
  private extension(p: string, raw: unknown, durations: Duration[], approval: ApprovalPolicy, isBreakGlass: boolean): Extension | undefined | null {
    const longest = Math.max(0, ...durations.map((d) => d.ms ?? 0));
    // A role whose default denies has no policy an extension could be asked under.
    if (raw === undefined) return isBreakGlass || longest === 0 || approval.kind === 'deny' ? undefined : { maxMs: longest, policy: structuredClone(approval) };
    const m = this.map(p, raw, 'a map with max: and/or approval: (same or auto)');
    if (!m) return null;
    this.keys(p, m, KEYS.extend);
    if (isBreakGlass) return this.fail(p, 'a break-glass role cannot be extended (a new request alerts again)') ?? null;
    if (longest === 0) return this.fail(p, 'the role offers only permanent, so there is nothing to extend') ?? null;
    let maxMs = longest;
    if (m.max !== undefined) {
      const d = typeof m.max === 'string' ? parseDuration(m.max) : undefined;
      if (!d || d.ms === null) return this.fail(`${p}.max`, `${show(m.max)} is not a duration like 4h (permanent is not an extension)`) ?? null;
      if (d.ms > longest) return this.fail(`${p}.max`, `${d.token} is longer than the role's longest duration (${describeMs(longest)})`) ?? null;
      maxMs = d.ms;
    }
    if ((m.approval === undefined || m.approval === 'same') && approval.kind === 'deny') return this.fail(`${p}.approval`, "the role's default denies, so there is no same policy to extend under (use approval: auto)") ?? null;
    if (m.approval === undefined || m.approval === 'same') return { maxMs, policy: structuredClone(approval) };
    if (m.approval === 'auto') return { maxMs, policy: { kind: 'auto' } };
    return this.fail(`${p}.approval`, `${show(m.approval)} is not one of: same, auto`) ?? null;
  }

  /** `warnBefore: [1d, 1h]` (or `[]`: never warned). null: an error was reported. */
  private warnBefore(p: string, raw: unknown): number[] | null {
    if (!Array.isArray(raw)) return this.fail(p, 'must be a list of spans before the end, e.g. [1d, 1h], or [] for no warning') ?? null;
    const out: number[] = [];
    let bad = false;
    raw.forEach((item, i) => {
      const ms = this.span(`${p}[${i}]`, item);
      if (ms === null || ms === undefined) return void (bad = true);
      if (out.includes(ms)) return void (bad = this.fail(`${p}[${i}]`, `${show(item)} is listed twice`) ?? true);
      out.push(ms);
    });
    return bad ? null : out;
  }

  /** `owners`: the application's, which `reviewers` defaults to. */
  private breakGlass(p: string, raw: unknown, owners: string[]): BreakGlass | undefined {
    const m = this.map(p, raw, 'a map with notify: and optional minReasonLength:, reviewers:');
    if (!m) return undefined;
    this.keys(p, m, KEYS.breakGlass);
    const notify = this.str(`${p}.notify`, m.notify, 'the Slack channel to alert, e.g. "#security-alerts" or a channel id');
    let minReasonLength = DEFAULT_MIN_REASON;
    let ok = true;
    if (m.minReasonLength !== undefined) {
      const raw = m.minReasonLength;
      const n = typeof raw === 'string' && /^[0-9]{1,6}$/.test(raw) ? Number(raw) : NaN;
      if (n >= 1 && n <= MAX_MIN_REASON) minReasonLength = n;
      else ok = this.fail(`${p}.minReasonLength`, `${show(raw)} is not a whole number from 1 to ${MAX_MIN_REASON}`) ?? false;
    }
    // Whose Reviewed click counts; by default the application's owners. A review nobody may
    // acknowledge is a catalog mistake, not a silent gap.
    let reviewers: ApproverRef[] | undefined = [{ kind: 'owners' }];
    if (m.reviewers !== undefined) {
      const ownersAt: string[] = [];
      reviewers = this.approvers(`${p}.reviewers`, m.reviewers, ownersAt, true, 'reviewer');
      if (reviewers && owners.length === 0) {
        for (const at of ownersAt) this.fail(at, '"owners" but the application has no owners (add owners: [...] to it)');
      }
    } else if (owners.length === 0) {
      this.fail(`${p}.reviewers`, "required when the application has no owners (reviewers default to the application's owners; add reviewers: [...] or owners: [...])");
      reviewers = undefined;
    }
    return notify === undefined || !ok || !reviewers ? undefined : { notify, minReasonLength, reviewers };
  }

  private emails(p: string, raw: unknown): string[] | undefined {
    if (!Array.isArray(raw)) return this.fail(p, 'must be a list of emails, e.g. [owner@example.com]');
    const out: string[] = [];
    let bad = false;
    raw.forEach((item, i) => {
      const s = typeof item === 'string' ? item.trim() : undefined;
      if (!s || !EMAIL_RE.test(s)) return void (bad = this.fail(`${p}[${i}]`, `${show(item)} is not an email address`) ?? true);
      const e = s.toLowerCase();
      if (out.includes(e)) return void (bad = this.fail(`${p}[${i}]`, `"${e}" is listed twice`) ?? true);
      out.push(e);
    });
    return bad ? undefined : out;
  }

  private id(p: string, raw: unknown): string | undefined {
    const s = this.str(p, raw, 'lowercase letters, digits and dashes');
    if (s === undefined) return undefined;
    if (!ID_RE.test(s)) return this.fail(p, `"${s}" is not a valid id (lowercase letters, digits and dashes, starting with a letter or digit)`);
    if (s.length > MAX_ID) return this.fail(p, `"${s}" is longer than ${MAX_ID} characters`);
    return s;
  }

  private name(p: string, raw: unknown): string | undefined {
    const s = this.str(p, raw, 'the name people see in Slack');
    if (s !== undefined && s.length > MAX_NAME) return this.fail(p, `is ${s.length} characters long (Slack shows at most ${MAX_NAME} in a menu)`);
    return s;
  }

  /** A non-empty string (trimmed). With the failsafe schema every scalar is a string. */
  private str(p: string, raw: unknown, what: string): string | undefined {
    if (raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === '')) return this.fail(p, `required (${what})`);
    if (typeof raw !== 'string') return this.fail(p, `must be a single value, not a ${Array.isArray(raw) ? 'list' : 'map'} (${what})`);
    return raw.trim();
  }

  private map(p: string, raw: unknown, what: string): Obj | undefined {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return this.fail(p, `must be ${what}`);
    return raw as Obj;
  }

  private list(p: string, raw: unknown, what: string): unknown[] | undefined {
    if (!Array.isArray(raw)) return this.fail(p, `must be a list of ${what}s`);
    if (raw.length === 0) return this.fail(p, `must list at least one ${what}`);
    return raw;
  }

  private keys(p: string, m: Obj, allowed: readonly string[]): void {
    for (const k of Object.keys(m)) {
      if (allowed.includes(k)) continue;
      const kp = p ? `${p}.${k}` : k;
      const near = closest(k, allowed);
      this.fail(kp, `unknown key (${near ? `did you mean ${near}?` : `expected ${oneOf(allowed)}`})`);
    }
  }
}

function validZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** The first present defaults field: application's, else top-level's. */
function pick<T>(app: Inherited<T>, top: Inherited<T>): Inherited<T> {
  return app.state !== 'absent' ? app : top;
}

/** Why `raw` is not a duration, with the format hint that fits where it was written. */
function durationProblem(raw: unknown, hint: string): string {
  // Well-formed but beyond parseDuration's ten-year cap: say so rather than "not a duration".
  if (typeof raw === 'string' && /^[1-9][0-9]*[smhd]$/.test(raw.trim())) {
    return `"${raw.trim()}" is too long (at most 3650d${hint === DURATION_HINT ? '; use permanent for no end' : ''})`;
  }
  return `${show(raw)} is not a duration (${hint})`;
}

/** A value for a message: strings quoted, lists and maps named. */
function show(raw: unknown): string {
  if (typeof raw === 'string') return `"${raw}"`;
  if (Array.isArray(raw)) return 'a list';
  if (raw !== null && typeof raw === 'object') return 'a map';
  return `"${String(raw)}"`;
}

function oneOf(xs: readonly string[]): string {
  return `one of ${xs.join(', ')}`;
}

function suggest(s: string, xs: readonly string[]): string {
  const near = closest(s, xs);
  return near ? `; did you mean ${near}?` : '';
}
