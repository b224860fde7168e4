/**
 * Requests raised in Jira (ARCHITECTURE.md §4 "Jira as a surface"): which issues are requests,
 * and what their fields ask for, checked against the catalog. Pure: the Jira adapter turns
 * Jira's JSON (a webhook's issue, a search result) into an `IssueSnapshot`, and the use case
 * (app/jiraIntake.ts) records what this module decides.
 *
 * Every problem is one sentence the person fixing the issue can act on: the field, what it holds,
 * and the values allowed. The same values are what `access-bot jira sync-fields` writes as the
 * fields' options (`intakeOptions`), so a select list kept in sync offers nothing intake refuses.
 */
import type { Application, Catalog, IntakeFields, IntakeRequestType, JiraIntake, RequestKind, Role } from './catalog.js';
import { describeDuration, type Duration } from './duration.js';
import { MAX_REASON_LENGTH, MIN_REASON_LENGTH } from './submission.js';

/** A field's value as intake reads it: a select's option value (several for a multi-select), a person, text; null when empty. */
export type FieldValue = string | string[] | { accountId: string } | null;

/** One change of one field in an issue's changelog. */
export interface HistoryItem {
  field: string;
  fieldId?: string;
  from?: string | null;
  fromString?: string | null;
  to?: string | null;
  toString?: string | null;
}

/** One entry of an issue's changelog: who changed what, when. `id` is Jira's, the same in a webhook and in the REST changelog. */
export interface IssueHistory {
  id: string;
  /** accountId of the person (or app) who made the change. */
  author?: string;
  at: number;
  items: HistoryItem[];
}

/** An issue as intake reads it. */
export interface IssueSnapshot {
  /** Jira's issue id: stays when the issue is moved and its key changes. */
  id: string;
  key: string;
  projectKey: string;
  issueType: string;
  /** The JSM request type's name, for an issue raised through a service desk. */
  requestType?: string;
  /** The bot created this issue itself (the record of a Slack request): never intake. */
  createdByBot: boolean;
  summary: string;
  /** Plain text (a webhook sends wiki markup, a search ADF: both are read as their text). */
  description: string;
  /** accountIds. JSM sets the reporter to the customer a request is raised on behalf of. */
  reporter?: string;
  creator?: string;
  status?: string;
  created: number;
  updated: number;
  /** Custom fields by id, as far as Jira's answer had them. */
  fields: Record<string, FieldValue>;
  /** Changelog entries that came with the snapshot (a webhook's own; the poll's), oldest first. */
  histories: IssueHistory[];
}

/** What an issue of a request type asks for, or what is wrong with it. */
export type IntakeReading =
  | {
      ok: true;
      kind: RequestKind;
      app: Application;
      role: Role;
      duration: Duration;
      reason: string;
      /** The reporter's accountId. */
      requester: string;
      /** Change: the role being left. */
      fromRole?: Role;
      /** Removal: whose access (accountId); absent: the requester's. */
      subject?: string;
    }
  | { ok: false; problems: string[] };

/** How a field is named to the people who fill it in. */
export const FIELD_LABELS: Record<keyof IntakeFields, string> = {
  application: 'Application',
  role: 'Role',
  duration: 'Duration',
  fromRole: 'Current role',
  subject: 'Whose access',
};

/** Allowed values listed in a problem, at most this many. */
const LIST_MAX = 40;

/** The request type of the catalog this issue is of, or undefined when it is no request (another project, type, or the bot's own issue). */
export function intakeTypeOf(catalog: Catalog, issue: IssueSnapshot): IntakeRequestType | undefined {
  const intake = catalog.jira.intake;
  if (!intake || issue.createdByBot || issue.projectKey.toUpperCase() !== catalog.jira.project.toUpperCase()) return undefined;
  // An issue raised through a service desk is known by its request type only: the issue type
  // behind it (often "Service Request") is shared by every request type of the desk.
  const name = norm(issue.requestType ?? issue.issueType);
  return intake.requestTypes.find((t) => norm(t.name) === name);
}

/** Reads the request an issue of a configured request type asks for, checking every field against the catalog. */
export function readIntake(catalog: Catalog, intake: JiraIntake, type: IntakeRequestType, issue: IssueSnapshot): IntakeReading {
  const problems: string[] = [];
  const f = intake.fields;
  const named = (k: keyof IntakeFields) => `${FIELD_LABELS[k]} (${f[k] ?? '?'})`;
  const text = (k: keyof IntakeFields): string | null | undefined => selected(issue, f[k], named(k), problems);

  const apps = catalog.applications;
  const appValue = text('application');
  let app: Application | undefined;
  if (appValue === null) problems.push(`${named('application')} is empty. Allowed values: ${allowed(apps.map((a) => a.name))}.`);
  else if (appValue !== undefined) {
    app = apps.find((a) => norm(a.name) === norm(appValue)) ?? apps.find((a) => norm(a.id) === norm(appValue));
    if (!app) problems.push(`${FIELD_LABELS.application} "${appValue}" is not an application access-bot offers. Allowed values: ${allowed(apps.map((a) => a.name))}.`);
  }

  const role = app ? roleOf(app, text('role'), 'role', named('role'), problems) : undefined;
  let fromRole: Role | undefined;
  if (type.kind === 'change' && app) {
    fromRole = roleOf(app, text('fromRole'), 'fromRole', named('fromRole'), problems);
    if (role && fromRole && role.id === fromRole.id) problems.push(`${FIELD_LABELS.fromRole} and ${FIELD_LABELS.role} are both ${role.name}: a change moves from one role to another.`);
  }

  let duration: Duration | undefined;
  if (role) duration = type.kind === 'removal' ? shortest(role) : durationOf(app!, role, f.duration === undefined ? null : text('duration'), problems);

  let subject: string | undefined;
  if (type.kind === 'removal' && f.subject !== undefined) {
    const v = issue.fields[f.subject];
    if (v && typeof v === 'object' && !Array.isArray(v)) subject = v.accountId;
    else if (v !== null && v !== undefined) problems.push(`${named('subject')} must name a person (a user picker), not "${String(v)}".`);
  }

  const requester = issue.reporter;
  if (!requester) problems.push('The issue has no reporter, so access-bot cannot tell who asks for the access.');

  const written = (issue.description.trim() || issue.summary.trim()).replace(/\s+\n/g, '\n');
  const min = Math.max(MIN_REASON_LENGTH, role?.breakGlass?.minReasonLength ?? 0);
  if (written.length < min) {
    problems.push(
      role?.breakGlass
        ? `Emergency access needs a detailed reason: write at least ${min} characters in the description (it has ${written.length}).`
        : `Say in the description why the access is needed (at least ${min} characters).`,
    );
  }
  // The issue keeps the whole text; the request's reason is what fits in a Slack card.
  const reason = written.length > MAX_REASON_LENGTH ? `${written.slice(0, MAX_REASON_LENGTH - 1)}…` : written;

  if (problems.length > 0 || !app || !role || !duration || !requester) return { ok: false, problems };
  return { ok: true, kind: type.kind, app, role, duration, reason, requester, ...(fromRole ? { fromRole } : {}), ...(subject ? { subject } : {}) };
}

/** The select options intake accepts, as `access-bot jira sync-fields` writes them: names, in catalog order, each once. */
export function intakeOptions(catalog: Catalog): { application: string[]; role: string[]; duration: string[] } {
  const roles = catalog.applications.flatMap((a) => a.roles);
  return {
    application: distinct(catalog.applications.map((a) => a.name)),
    role: distinct(roles.map((r) => r.name)),
    duration: distinct(roles.flatMap((r) => r.durations.map(describeDuration))),
  };
}

/** A select option of a field's context, as Jira lists it. */
export interface PresentOption {
  id: string;
  value: string;
  disabled: boolean;
}

/** What makes a select field's options match the catalog: add `missing`, re-enable `enable`, disable `extra`. */
export interface OptionPlan {
  missing: string[];
  enable: PresentOption[];
  extra: PresentOption[];
}

/**
 * Compares a field's options with the values wanted. Case and surrounding spaces are ignored, as
 * intake ignores them. Options are never deleted, only disabled: issues that hold one keep it.
 */
export function planOptions(wanted: readonly string[], present: readonly PresentOption[]): OptionPlan {
  const want = new Set(wanted.map(norm));
  const enabled = new Set(present.filter((o) => !o.disabled).map((o) => norm(o.value)));
  const enable: PresentOption[] = [];
  for (const o of present) {
    const v = norm(o.value);
    if (o.disabled && want.has(v) && !enabled.has(v) && !enable.some((e) => norm(e.value) === v)) enable.push(o);
  }
  const has = new Set([...enabled, ...enable.map((o) => norm(o.value))]);
  return {
    missing: wanted.filter((w, i) => !has.has(norm(w)) && wanted.findIndex((x) => norm(x) === norm(w)) === i),
    enable,
    extra: present.filter((o) => !o.disabled && !want.has(norm(o.value))),
  };
}

// ---------------------------------------------------------------------------------------------

function norm(s: string): string {
  return s.trim().replace(/\s+/g, ' ').toLowerCase();
}

function distinct(xs: string[]): string[] {
  const seen = new Set<string>();
  return xs.filter((x) => !seen.has(norm(x)) && Boolean(seen.add(norm(x))));
}

function allowed(values: string[]): string {
  if (values.length === 0) return 'none (the catalog offers none)';
  const shown = values.slice(0, LIST_MAX).join(', ');
  return values.length > LIST_MAX ? `${shown} and ${values.length - LIST_MAX} more` : shown;
}

/**
 * A select field's one value: the text, null when empty, undefined when it holds something intake
 * cannot read (a problem is pushed). A field absent from the issue counts as empty.
 */
function selected(issue: IssueSnapshot, fieldId: string | undefined, named: string, problems: string[]): string | null | undefined {
  if (fieldId === undefined) return null;
  const v = issue.fields[fieldId];
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v.trim() === '' ? null : v.trim();
  if (Array.isArray(v)) {
    if (v.length === 0) return null;
    if (v.length === 1) return v[0]!.trim() || null;
    problems.push(`${named} holds ${v.length} values (${v.join(', ')}); choose one.`);
    return undefined;
  }
  problems.push(`${named} holds a person; it must be a select list of values.`);
  return undefined;
}

function roleOf(app: Application, value: string | null | undefined, k: 'role' | 'fromRole', named: string, problems: string[]): Role | undefined {
  const names = app.roles.map((r) => r.name);
  if (value === undefined) return undefined;
  if (value === null) {
    problems.push(`${named} is empty${k === 'fromRole' ? ': a change request names the role being left' : ''}. Allowed values for ${app.name}: ${allowed(names)}.`);
    return undefined;
  }
  const role = app.roles.find((r) => norm(r.name) === norm(value)) ?? app.roles.find((r) => norm(r.id) === norm(value));
  if (!role) problems.push(`${FIELD_LABELS[k]} "${value}" is not ${k === 'fromRole' ? 'a role of' : 'offered for'} ${app.name}. Allowed values: ${allowed(names)}.`);
  return role;
}

/** The role's shortest duration (permanent only when that is all it offers): what an empty Duration asks for. */
function shortest(role: Role): Duration {
  const timed = role.durations.filter((d) => d.ms !== null);
  return timed.length > 0 ? timed.reduce((a, b) => (b.ms! < a.ms! ? b : a)) : role.durations[0]!;
}

function durationOf(app: Application, role: Role, value: string | null | undefined, problems: string[]): Duration | undefined {
  if (value === undefined) return undefined;
  if (value === null) return shortest(role);
  const d = role.durations.find((x) => norm(x.token) === norm(value) || norm(describeDuration(x)) === norm(value));
  if (!d) problems.push(`${FIELD_LABELS.duration} "${value}" is not offered for ${app.name} / ${role.name}. Allowed values: ${allowed(role.durations.map(describeDuration))}.`);
  return d;
}
