/**
 * A local Jira Cloud (REST API v3) for tests and the demo: issues with ADF descriptions and
 * comments, entity properties, a configurable workflow, enhanced JQL search, users and
 * Atlassian groups, basic auth, and the failures Jira Cloud produces (429 with its rate-limit
 * headers, 503, hangs, dropped connections).
 *
 * Wire formats were checked against (where a detail could not be confirmed it says so):
 * - Jira Cloud platform REST API v3 reference, https://developer.atlassian.com/cloud/jira/platform/rest/v3/
 *   (via the OpenAPI-derived types in jira.js 5.4 `dist/esm/types/version3/**` and clients generated
 *   from Atlassian's spec), for paths, parameters, paging shapes and status codes.
 * - Error bodies are always `{"errorMessages": [...], "errors": {field: message}}`; the message
 *   texts below are the ones Jira Cloud is seen to return in public client code and bug reports
 *   (cited next to each one).
 * - Rate limiting: https://developer.atlassian.com/cloud/jira/platform/rate-limiting/ and
 *   JRACLOUD-69262 (Retry-After in seconds, X-RateLimit-Reset as `yyyy-MM-ddTHH:mmZ`,
 *   X-RateLimit-Limit/-Remaining/-NearLimit, RateLimit-Reason).
 * - GET/POST /rest/api/3/search was removed in favour of /rest/api/3/search/jql (Atlassian
 *   changelog CHANGE-2046; adaptavist.com "Atlassian REST API Search Endpoints Deprecation");
 *   the old paths answer 410 here.
 */
import { Buffer } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { EmulatorServer, type EmuRequest, type EmuResponse, type Fault, type RecordedCall } from './base.js';

// ---------------------------------------------------------------------------------------------
// State types
// ---------------------------------------------------------------------------------------------

export interface EmuUser {
  accountId: string;
  emailAddress: string;
  displayName: string;
  active: boolean;
  accountType: 'atlassian' | 'app' | 'customer';
  timeZone: string;
}

export interface EmuComment {
  id: string;
  body: unknown;
  authorId: string;
  created: Date;
  updated: Date;
  properties: Map<string, unknown>;
}

export interface EmuIssue {
  id: string;
  key: string;
  projectKey: string;
  issueType: string;
  summary: string;
  description: unknown;
  labels: string[];
  status: string;
  created: Date;
  updated: Date;
  /** In creation order. */
  comments: EmuComment[];
  properties: Map<string, unknown>;
  /** Names of the transitions applied, in order (for assertions). */
  history: string[];
}

export interface EmuIssueType {
  id: string;
  name: string;
  subtask: boolean;
  hierarchyLevel: number;
}

export interface EmuProject {
  id: string;
  key: string;
  name: string;
  issueTypes: EmuIssueType[];
  nextNumber: number;
}

export interface EmuGroup {
  groupId: string;
  name: string;
  /** Account ids, in the order they were added. */
  members: Set<string>;
}

export type StatusCategory = 'new' | 'indeterminate' | 'done';

export interface WorkflowTransition {
  id: string;
  name: string;
  /** Statuses the transition is available from; '*' for a global transition. */
  from: string[] | '*';
  to: string;
}

export interface Workflow {
  initial: string;
  statuses: { name: string; category: StatusCategory }[];
  transitions: WorkflowTransition[];
}

/** The default workflow, shaped after the catalog example in ARCHITECTURE.md §4. */
export const DEFAULT_WORKFLOW: Workflow = {
  initial: 'To Do',
  statuses: [
    { name: 'To Do', category: 'new' },
    { name: 'Approved', category: 'indeterminate' },
    { name: 'Active', category: 'indeterminate' },
    { name: 'Rejected', category: 'done' },
    { name: 'Done', category: 'done' },
    { name: 'Cancelled', category: 'done' },
    { name: 'Failed', category: 'done' },
  ],
  transitions: [
    { id: '11', name: 'Approve', from: ['To Do'], to: 'Approved' },
    { id: '21', name: 'Reject', from: ['To Do'], to: 'Rejected' },
    { id: '31', name: 'Provisioned', from: ['Approved'], to: 'Active' },
    { id: '41', name: 'Done', from: ['Active'], to: 'Done' },
    { id: '51', name: 'Cancel', from: ['To Do'], to: 'Cancelled' },
    { id: '61', name: 'Time out', from: ['To Do'], to: 'Cancelled' },
    { id: '71', name: 'Fail', from: ['To Do', 'Approved', 'Active'], to: 'Failed' },
  ],
};

/** Project permission keys Jira knows (a subset), with their type as /mypermissions reports it. */
const PERMISSION_TYPES: Record<string, 'PROJECT' | 'GLOBAL'> = {
  BROWSE_PROJECTS: 'PROJECT',
  CREATE_ISSUES: 'PROJECT',
  EDIT_ISSUES: 'PROJECT',
  TRANSITION_ISSUES: 'PROJECT',
  ADD_COMMENTS: 'PROJECT',
  EDIT_ALL_COMMENTS: 'PROJECT',
  EDIT_OWN_COMMENTS: 'PROJECT',
  DELETE_ISSUES: 'PROJECT',
  ASSIGN_ISSUES: 'PROJECT',
  ASSIGNABLE_USER: 'PROJECT',
  RESOLVE_ISSUES: 'PROJECT',
  CLOSE_ISSUES: 'PROJECT',
  SCHEDULE_ISSUES: 'PROJECT',
  ADMINISTER_PROJECTS: 'PROJECT',
  ADMINISTER: 'GLOBAL',
  USER_PICKER: 'GLOBAL',
  CREATE_SHARED_OBJECTS: 'GLOBAL',
  MANAGE_GROUP_FILTER_SUBSCRIPTIONS: 'GLOBAL',
  BULK_CHANGE: 'GLOBAL',
};

export interface JiraEmulatorOptions {
  /** Basic-auth credentials the emulator accepts. */
  email?: string;
  apiToken?: string;
  /** Projects to create; default one project `ACC` with Task, Bug and Sub-task. */
  projects?: { key: string; name?: string; issueTypes?: string[] }[];
  workflow?: Workflow;
  /** Permissions of the calling account; unset keys are granted. */
  permissions?: Record<string, boolean>;
  /** Newly created or changed issues stay invisible to JQL search for this long (eventual consistency). */
  searchLagMs?: number;
}

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

type Json = Record<string, unknown>;

/** Jira's error body. */
function jiraError(status: number, errorMessages: string[], errors: Record<string, string> = {}): EmuResponse {
  return { status, body: { errorMessages, errors } };
}

/** Jira's timestamp format, e.g. 2024-05-01T10:00:00.000+0000. */
function jiraDate(d: Date): string {
  return d.toISOString().replace('Z', '+0000');
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function intParam(q: URLSearchParams, name: string, def: number): number {
  const raw = q.get(name);
  if (raw === null || raw === '' || raw === 'false') return def;
  const n = Number(raw);
  return Number.isFinite(n) ? Math.trunc(n) : def;
}

function boolParam(q: URLSearchParams, name: string): boolean {
  return (q.get(name) ?? '').toLowerCase() === 'true';
}

/** Values of a repeatable query parameter; jira.js sends arrays comma-joined, Jira documents repeats. */
function multiParam(q: URLSearchParams, name: string): string[] {
  return q
    .getAll(name)
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
}

const STATUS_CATEGORIES: Record<StatusCategory, Json> = {
  new: { id: 2, key: 'new', colorName: 'blue-gray', name: 'To Do' },
  indeterminate: { id: 4, key: 'indeterminate', colorName: 'yellow', name: 'In Progress' },
  done: { id: 3, key: 'done', colorName: 'green', name: 'Done' },
};

// ---------------------------------------------------------------------------------------------
// ADF validation, as strict as Jira Cloud is on the shapes the bot writes
// ---------------------------------------------------------------------------------------------

const BLOCK_TYPES = new Set([
  'paragraph', 'heading', 'bulletList', 'orderedList', 'listItem', 'blockquote', 'codeBlock', 'rule', 'panel',
  'table', 'tableRow', 'tableHeader', 'tableCell', 'mediaSingle', 'mediaGroup', 'media', 'expand', 'nestedExpand',
  'taskList', 'taskItem', 'decisionList', 'decisionItem', 'blockCard', 'embedCard',
]);
const INLINE_TYPES = new Set(['text', 'hardBreak', 'mention', 'emoji', 'inlineCard', 'date', 'status', 'mediaInline']);
const MARK_TYPES = new Set(['strong', 'em', 'code', 'strike', 'underline', 'link', 'subsup', 'textColor', 'backgroundColor']);

/**
 * `'not-doc'` when the value is not an ADF document at all (Jira: "Operation value must be an
 * Atlassian Document (see the Atlassian Document Format)"), `'invalid'` when it is a document
 * that breaks the schema (Jira: 400 `{"errorMessages":["INVALID_INPUT"],"errors":{}}`, with no
 * detail; an empty text node is one such case, JRACLOUD-79318), undefined when it is valid.
 */
export function adfProblem(v: unknown): 'not-doc' | 'invalid' | undefined {
  if (!isObject(v) || v['type'] !== 'doc') return 'not-doc';
  if (v['version'] !== 1 || !Array.isArray(v['content'])) return 'invalid';
  return (v['content'] as unknown[]).every((n) => validNode(n, 'block')) ? undefined : 'invalid';
}

function validNode(n: unknown, where: 'block' | 'inline'): boolean {
  if (!isObject(n) || typeof n['type'] !== 'string') return false;
  const type = n['type'];
  if (where === 'inline' ? !INLINE_TYPES.has(type) : !BLOCK_TYPES.has(type)) return false;
  if (type === 'text') {
    if (typeof n['text'] !== 'string' || n['text'].length === 0 || n['content'] !== undefined) return false;
    const marks = n['marks'];
    if (marks !== undefined) {
      if (!Array.isArray(marks)) return false;
      const names = marks.map((m) => (isObject(m) ? m['type'] : undefined));
      if (!names.every((m) => typeof m === 'string' && MARK_TYPES.has(m))) return false;
      // The code mark combines with link only.
      if (names.includes('code') && names.some((m) => m !== 'code' && m !== 'link')) return false;
    }
    return true;
  }
  const content = n['content'];
  if (content === undefined) return !['bulletList', 'orderedList', 'listItem'].includes(type);
  if (!Array.isArray(content)) return false;
  if (['bulletList', 'orderedList'].includes(type)) {
    return content.length > 0 && content.every((c) => isObject(c) && c['type'] === 'listItem' && validNode(c, 'block'));
  }
  if (type === 'listItem' && content.length === 0) return false;
  const childWhere = ['paragraph', 'heading'].includes(type) ? 'inline' : 'block';
  return content.every((c) => validNode(c, childWhere));
}

/** Plain text of an ADF value, for assertions (independent of the bot's own adfToText). */
function flatten(v: unknown): string {
  if (!isObject(v)) return '';
  if (v['type'] === 'text') return typeof v['text'] === 'string' ? v['text'] : '';
  if (v['type'] === 'hardBreak') return '\n';
  const kids = Array.isArray(v['content']) ? (v['content'] as unknown[]) : [];
  const sep = ['doc', 'bulletList', 'orderedList', 'listItem'].includes(String(v['type'])) ? '\n' : '';
  const prefix = v['type'] === 'listItem' ? '- ' : '';
  return prefix + kids.map(flatten).join(sep);
}

/** Serialized-length limit of multi-line text fields; the message seen from Jira for longer text. */
const TEXT_LIMIT = 32_767;
const TOO_LONG = 'The entered text is too long. It exceeds the allowed limit of 32,767 characters.';
const NOT_ADF = 'Operation value must be an Atlassian Document (see the Atlassian Document Format)';

// ---------------------------------------------------------------------------------------------
// JQL: the subset the bot and its tests use
// ---------------------------------------------------------------------------------------------

type JqlToken = { kind: 'word' | 'string' | 'op' | 'lparen' | 'rparen' | 'comma'; value: string };

interface JqlClause {
  field: string;
  op: '=' | '!=' | 'in' | 'not in' | '~';
  values: string[];
}

interface JqlQuery {
  clauses: JqlClause[];
  order: { field: string; dir: 'asc' | 'desc' }[];
}

class JqlError extends Error {}

function tokenize(jql: string): JqlToken[] {
  const out: JqlToken[] = [];
  let i = 0;
  while (i < jql.length) {
    const c = jql.charAt(i);
    if (/\s/.test(c)) {
      i += 1;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      let s = '';
      while (j < jql.length && jql.charAt(j) !== c) {
        if (jql.charAt(j) === '\\' && j + 1 < jql.length) j += 1;
        s += jql.charAt(j);
        j += 1;
      }
      if (j >= jql.length) throw new JqlError(`Error in the JQL Query: The quoted string '${s}' has not been completed.`);
      out.push({ kind: 'string', value: s });
      i = j + 1;
    } else if (c === '(') {
      out.push({ kind: 'lparen', value: c });
      i += 1;
    } else if (c === ')') {
      out.push({ kind: 'rparen', value: c });
      i += 1;
    } else if (c === ',') {
      out.push({ kind: 'comma', value: c });
      i += 1;
    } else if (c === '!' && jql.charAt(i + 1) === '=') {
      out.push({ kind: 'op', value: '!=' });
      i += 2;
    } else if (c === '=' || c === '~') {
      out.push({ kind: 'op', value: c });
      i += 1;
    } else {
      const m = /^[^\s=!~(),"']+/.exec(jql.slice(i));
      if (!m) throw new JqlError(`Error in the JQL Query: The character '${c}' is a reserved JQL character.`);
      out.push({ kind: 'word', value: m[0] });
      i += m[0].length;
    }
  }
  return out;
}

const FIELD_ALIASES: Record<string, string> = { labels: 'labels', label: 'labels', project: 'project', issuetype: 'issuetype', type: 'issuetype', status: 'status', key: 'key', issuekey: 'key', id: 'key', summary: 'summary', text: 'summary' };

function parseJql(jql: string): JqlQuery {
  const t = tokenize(jql);
  let i = 0;
  const clauses: JqlClause[] = [];
  const order: JqlQuery['order'] = [];
  const word = (w: string): boolean => t[i]?.kind === 'word' && t[i]?.value.toLowerCase() === w;
  const value = (): string => {
    const tok = t[i];
    if (!tok || (tok.kind !== 'word' && tok.kind !== 'string')) throw new JqlError('Error in the JQL Query: Expecting either a value, list or function but got end of the query.');
    i += 1;
    return tok.value;
  };
  while (i < t.length && !word('order')) {
    if (clauses.length > 0) {
      if (!word('and')) throw new JqlError(`Error in the JQL Query: Expecting either 'OR' or 'AND' but got '${t[i]?.value ?? ''}'.`);
      i += 1;
    }
    const f = t[i];
    if (!f || (f.kind !== 'word' && f.kind !== 'string')) throw new JqlError('Error in the JQL Query: Expecting a field name.');
    i += 1;
    const field = FIELD_ALIASES[f.value.toLowerCase()];
    if (!field) throw new JqlError(`Field '${f.value}' does not exist or you do not have permission to view it.`);
    let op: JqlClause['op'];
    if (t[i]?.kind === 'op') {
      op = t[i]?.value as '=' | '!=' | '~';
      i += 1;
    } else if (word('in')) {
      op = 'in';
      i += 1;
    } else if (word('not') && t[i + 1]?.value.toLowerCase() === 'in') {
      op = 'not in';
      i += 2;
    } else {
      throw new JqlError(`Error in the JQL Query: Expecting operator but got '${t[i]?.value ?? 'end of the query'}'.`);
    }
    const values: string[] = [];
    if (op === 'in' || op === 'not in') {
      if (t[i]?.kind !== 'lparen') throw new JqlError("Error in the JQL Query: Expecting '(' .");
      i += 1;
      values.push(value());
      while (t[i]?.kind === 'comma') {
        i += 1;
        values.push(value());
      }
      if (t[i]?.kind !== 'rparen') throw new JqlError("Error in the JQL Query: Expecting ')' .");
      i += 1;
    } else {
      values.push(value());
    }
    clauses.push({ field, op, values });
  }
  if (word('order')) {
    i += 1;
    if (!word('by')) throw new JqlError("Error in the JQL Query: Expecting 'by' after 'order'.");
    i += 1;
    do {
      if (t[i]?.kind === 'comma') i += 1;
      const f = value().toLowerCase();
      let dir: 'asc' | 'desc' = 'asc';
      if (word('asc') || word('desc')) {
        dir = (t[i]?.value.toLowerCase() ?? 'asc') as 'asc' | 'desc';
        i += 1;
      }
      order.push({ field: f, dir });
    } while (t[i]?.kind === 'comma');
  }
  if (i < t.length) throw new JqlError(`Error in the JQL Query: Unexpected '${t[i]?.value ?? ''}'.`);
  return { clauses, order };
}

// ---------------------------------------------------------------------------------------------
// The emulator
// ---------------------------------------------------------------------------------------------

export class JiraEmulator {
  readonly server = new EmulatorServer('jira');
  /** Issues by key. */
  readonly issues = new Map<string, EmuIssue>();
  readonly projects = new Map<string, EmuProject>();
  readonly users = new Map<string, EmuUser>();
  readonly groups = new Map<string, EmuGroup>();
  /** The account the credentials belong to. */
  readonly myself: EmuUser;
  permissions: Record<string, boolean>;
  searchLagMs: number;
  private email: string;
  private apiToken: string;
  private workflow: Workflow;
  private nextIssueId = 10000;
  private nextCommentId = 10000;
  private nextProjectId = 10000;
  private nextIssueTypeId = 10001;
  private readonly outageRemovers: (() => void)[] = [];
  private readonly swallowed: { method: string; path: string | RegExp; left: number }[] = [];
  /** When an issue last changed in a way search would see (for `searchLagMs`). */
  private readonly indexedAt = new Map<string, number>();

  constructor(opts: JiraEmulatorOptions = {}) {
    this.email = opts.email ?? 'access-bot@example.com';
    this.apiToken = opts.apiToken ?? 'jira-api-token';
    this.workflow = structuredClone(opts.workflow ?? DEFAULT_WORKFLOW);
    this.permissions = { ...(opts.permissions ?? {}) };
    this.searchLagMs = opts.searchLagMs ?? 0;
    this.myself = this.addUser({ email: this.email, displayName: 'Access Bot' });
    for (const p of opts.projects ?? [{ key: 'ACC', name: 'Access Requests' }]) this.addProject(p);
    this.registerRoutes();
  }

  // ----- lifecycle and faults ----------------------------------------------------------------

  start(port = 0): Promise<string> {
    return this.server.start(port);
  }

  stop(): Promise<void> {
    return this.server.stop();
  }

  get url(): string {
    return this.server.url;
  }

  get calls(): RecordedCall[] {
    return this.server.calls;
  }

  set latencyMs(ms: number) {
    this.server.latencyMs = ms;
  }

  /** Base fault injection: hangs (`hang: true`), dropped connections (`drop: true`), any status. */
  inject(fault: Fault): () => void {
    return this.server.inject(fault);
  }

  clearFaults(): void {
    this.server.clearFaults();
    this.outageRemovers.length = 0;
  }

  /**
   * The next `times` matching calls answer 429 the way Jira Cloud rate-limits: `Retry-After` in
   * seconds, `X-RateLimit-Reset` as an ISO 8601 minute (`yyyy-MM-ddTHH:mmZ`), the remaining and
   * near-limit headers and `RateLimit-Reason` (rate-limiting page, JRACLOUD-69262). The body
   * text of a real 429 is not documented; a Jira-shaped error body is sent.
   */
  rateLimit(times: number, retryAfterSec: number, opts: { path?: string | RegExp; method?: string; reason?: string } = {}): () => void {
    const reset = new Date(Date.now() + retryAfterSec * 1000).toISOString().slice(0, 16) + 'Z';
    return this.server.inject({
      times,
      path: opts.path,
      method: opts.method,
      status: 429,
      headers: {
        'Retry-After': String(retryAfterSec),
        'X-RateLimit-Limit': '100',
        'X-RateLimit-Remaining': '0',
        'X-RateLimit-Reset': reset,
        'X-RateLimit-NearLimit': 'true',
        'RateLimit-Reason': opts.reason ?? 'jira-burst-based',
      },
      body: { errorMessages: ['Rate limit exceeded.'], errors: {} },
    });
  }

  /** Every path answers 503 until `recover()` (a Jira Cloud outage or maintenance window). */
  outage(opts: { status?: number; retryAfterSec?: number } = {}): void {
    const headers: Record<string, string> = { 'content-type': 'text/html; charset=UTF-8' };
    if (opts.retryAfterSec !== undefined) headers['Retry-After'] = String(opts.retryAfterSec);
    this.outageRemovers.push(this.server.inject({ status: opts.status ?? 503, headers, body: '<html><body><h1>Service Unavailable</h1></body></html>' }));
  }

  recover(): void {
    for (const remove of this.outageRemovers.splice(0)) remove();
  }

  /**
   * The next `times` matching calls are carried out (the issue is created, the comment posted)
   * but never answered: the client times out not knowing it succeeded, as when a response is
   * lost. Unlike `inject({hang})`, which answers nothing and does nothing. These calls are not
   * in `calls` (the base server records a call when it answers).
   */
  swallowResponse(opts: { method: string; path: string | RegExp; times?: number }): void {
    this.swallowed.push({ method: opts.method.toUpperCase(), path: opts.path, left: opts.times ?? 1 });
  }

  // ----- configuration and test-state helpers ------------------------------------------------

  setCredentials(email: string, apiToken: string): void {
    this.email = email;
    this.apiToken = apiToken;
  }

  setWorkflow(w: Workflow): void {
    this.workflow = structuredClone(w);
  }

  getWorkflow(): Workflow {
    return structuredClone(this.workflow);
  }

  setPermission(key: string, granted: boolean): void {
    this.permissions[key] = granted;
  }

  addProject(p: { key: string; name?: string; issueTypes?: string[] }): EmuProject {
    const project: EmuProject = {
      id: String(this.nextProjectId++),
      key: p.key.toUpperCase(),
      name: p.name ?? p.key,
      issueTypes: (p.issueTypes ?? ['Task', 'Bug', 'Sub-task']).map((name) => ({
        id: String(this.nextIssueTypeId++),
        name,
        subtask: name.toLowerCase() === 'sub-task' || name.toLowerCase() === 'subtask',
        hierarchyLevel: name.toLowerCase().startsWith('sub') ? -1 : 0,
      })),
      nextNumber: 1,
    };
    this.projects.set(project.key, project);
    return project;
  }

  addUser(u: { email: string; displayName?: string; accountId?: string; active?: boolean; accountType?: EmuUser['accountType'] }): EmuUser {
    const user: EmuUser = {
      accountId: u.accountId ?? `712020:${randomUUID()}`,
      emailAddress: u.email,
      displayName: u.displayName ?? u.email.split('@')[0] ?? u.email,
      active: u.active ?? true,
      accountType: u.accountType ?? 'atlassian',
      timeZone: 'Etc/UTC',
    };
    this.users.set(user.accountId, user);
    return user;
  }

  userByEmail(email: string): EmuUser | undefined {
    return [...this.users.values()].find((u) => u.emailAddress.toLowerCase() === email.toLowerCase());
  }

  addGroup(g: { name: string; groupId?: string; members?: string[] }): EmuGroup {
    const group: EmuGroup = { groupId: g.groupId ?? randomUUID(), name: g.name, members: new Set(g.members ?? []) };
    this.groups.set(group.groupId, group);
    return group;
  }

  /** The group with this id or name. */
  group(idOrName: string): EmuGroup | undefined {
    return this.groups.get(idOrName) ?? [...this.groups.values()].find((g) => g.name === idOrName);
  }

  /** Account ids of the group's members, in the order they were added. */
  groupMembers(idOrName: string): string[] {
    const g = this.group(idOrName);
    if (!g) throw new Error(`jira emulator: no group ${idOrName}`);
    return [...g.members];
  }

  /** The issue with this key or id. */
  issue(keyOrId: string): EmuIssue | undefined {
    return this.issues.get(keyOrId.toUpperCase()) ?? [...this.issues.values()].find((i) => i.id === keyOrId);
  }

  /** Each comment of the issue as plain text, in order. */
  commentsText(key: string): string[] {
    const issue = this.issue(key);
    if (!issue) throw new Error(`jira emulator: no issue ${key}`);
    return issue.comments.map((c) => flatten(c.body).trim());
  }

  /** Moves an issue the way a person in the Jira UI would, without a transition. */
  setStatus(key: string, status: string): void {
    const issue = this.issue(key);
    if (!issue) throw new Error(`jira emulator: no issue ${key}`);
    issue.status = status;
    this.touch(issue);
  }

  /** Issues carrying this label. */
  issuesWithLabel(label: string): EmuIssue[] {
    return [...this.issues.values()].filter((i) => i.labels.includes(label));
  }

  // ----- routing -----------------------------------------------------------------------------

  private authorized(req: EmuRequest): boolean {
    const h = req.headers.authorization;
    if (typeof h !== 'string' || !h.startsWith('Basic ')) return false;
    const decoded = Buffer.from(h.slice(6), 'base64').toString('utf8');
    return decoded === `${this.email}:${this.apiToken}`;
  }

  /**
   * Registers a route behind basic auth. A wrong or missing credential gets 401 with the text
   * Jira Cloud sends ("Client must be authenticated to access this resource.", seen in many
   * clients; some report it JSON-wrapped, here it is plain text as from the site itself).
   */
  private on(method: string, pattern: string, handler: (req: EmuRequest) => EmuResponse, anonymous = false): void {
    this.server.route(method, pattern, (req) => {
      if (!anonymous && !this.authorized(req)) {
        return { status: 401, headers: { 'content-type': 'text/plain;charset=UTF-8' }, body: 'Client must be authenticated to access this resource.' };
      }
      const res = handler(req);
      const lose = this.swallowed.find((s) => s.left > 0 && s.method === req.method && (typeof s.path === 'string' ? s.path === req.path : s.path.test(req.path)));
      if (lose) {
        lose.left -= 1;
        return new Promise<EmuResponse>(() => undefined); // never settles; stop() closes the socket
      }
      return res;
    });
  }

  private registerRoutes(): void {
    const api = '/rest/api/3';
    this.on('GET', `${api}/myself`, () => ({ body: this.myselfJson() }));
    this.on('GET', `${api}/serverInfo`, () => ({ body: this.serverInfo() }), true);

    this.on('GET', `${api}/project/:projectIdOrKey`, (r) => this.getProject(r));
    this.on('GET', `${api}/issue/createmeta/:projectIdOrKey/issuetypes`, (r) => this.getCreateMetaIssueTypes(r));
    this.on('GET', `${api}/mypermissions`, (r) => this.getMyPermissions(r));

    this.on('POST', `${api}/issue`, (r) => this.createIssue(r));
    this.on('GET', `${api}/issue/:issueIdOrKey`, (r) => this.getIssue(r));
    this.on('POST', `${api}/issue/:issueIdOrKey/comment`, (r) => this.addComment(r));
    this.on('GET', `${api}/issue/:issueIdOrKey/comment`, (r) => this.getComments(r));
    this.on('GET', `${api}/issue/:issueIdOrKey/properties`, (r) => this.issuePropertyKeys(r));
    this.on('GET', `${api}/issue/:issueIdOrKey/properties/:propertyKey`, (r) => this.getIssueProperty(r));
    this.on('PUT', `${api}/issue/:issueIdOrKey/properties/:propertyKey`, (r) => this.setIssueProperty(r));
    this.on('DELETE', `${api}/issue/:issueIdOrKey/properties/:propertyKey`, (r) => this.deleteIssueProperty(r));
    this.on('GET', `${api}/issue/:issueIdOrKey/transitions`, (r) => this.getTransitions(r));
    this.on('POST', `${api}/issue/:issueIdOrKey/transitions`, (r) => this.doTransition(r));
    this.on('GET', `${api}/comment/:commentId/properties/:propertyKey`, (r) => this.commentProperty(r, 'GET'));
    this.on('PUT', `${api}/comment/:commentId/properties/:propertyKey`, (r) => this.commentProperty(r, 'PUT'));
    this.on('DELETE', `${api}/comment/:commentId/properties/:propertyKey`, (r) => this.commentProperty(r, 'DELETE'));

    this.on('POST', `${api}/search/jql`, (r) => this.search(isObject(r.body) ? r.body : {}));
    this.on('GET', `${api}/search/jql`, (r) =>
      this.search({
        jql: r.query.get('jql') ?? undefined,
        nextPageToken: r.query.get('nextPageToken') ?? undefined,
        maxResults: r.query.has('maxResults') ? intParam(r.query, 'maxResults', 50) : undefined,
        fields: r.query.has('fields') ? multiParam(r.query, 'fields') : undefined,
        reconcileIssues: multiParam(r.query, 'reconcileIssues').map(Number),
      }),
    );
    // Removed endpoints (CHANGE-2046): Jira Cloud answers 410 Gone and points to /search/jql.
    const gone = (): EmuResponse => jiraError(410, ['The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046']);
    this.on('GET', `${api}/search`, gone);
    this.on('POST', `${api}/search`, gone);

    this.on('GET', `${api}/user/search`, (r) => this.userSearch(r));
    this.on('GET', `${api}/user`, (r) => {
      const u = this.users.get(r.query.get('accountId') ?? '');
      return u ? { body: this.userJson(u) } : jiraError(404, [`Specified user does not exist or you do not have required permissions`]);
    });

    this.on('GET', `${api}/group/bulk`, (r) => this.groupBulk(r));
    this.on('GET', `${api}/group/member`, (r) => this.groupMember(r));
    this.on('POST', `${api}/group/user`, (r) => this.addUserToGroup(r));
    this.on('DELETE', `${api}/group/user`, (r) => this.removeUserFromGroup(r));
  }

  // ----- JSON views --------------------------------------------------------------------------

  private userJson(u: EmuUser): Json {
    return {
      self: `${this.url}/rest/api/3/user?accountId=${encodeURIComponent(u.accountId)}`,
      accountId: u.accountId,
      accountType: u.accountType,
      emailAddress: u.emailAddress,
      avatarUrls: { '48x48': `https://avatar-management.example/${u.accountId}/48` },
      displayName: u.displayName,
      active: u.active,
      timeZone: u.timeZone,
    };
  }

  private myselfJson(): Json {
    return { ...this.userJson(this.myself), locale: 'en_US', groups: { size: 0, items: [] }, applicationRoles: { size: 1, items: [] }, expand: 'groups,applicationRoles' };
  }

  private serverInfo(): Json {
    return {
      baseUrl: this.url,
      version: '1001.0.0-SNAPSHOT',
      versionNumbers: [1001, 0, 0],
      deploymentType: 'Cloud',
      buildNumber: 100280,
      buildDate: '2025-01-01T00:00:00.000+0000',
      serverTime: jiraDate(new Date()),
      scmInfo: 'emulator',
      serverTitle: 'Jira',
    };
  }

  private issueTypeJson(t: EmuIssueType): Json {
    return {
      self: `${this.url}/rest/api/3/issuetype/${t.id}`,
      id: t.id,
      description: `${t.name} (emulated)`,
      iconUrl: `${this.url}/images/icons/issuetypes/${t.id}.svg`,
      name: t.name,
      subtask: t.subtask,
      avatarId: 10318,
      hierarchyLevel: t.hierarchyLevel,
    };
  }

  private projectJson(p: EmuProject): Json {
    return {
      expand: 'description,lead,issueTypes,url,projectKeys,permissions,insight',
      self: `${this.url}/rest/api/3/project/${p.id}`,
      id: p.id,
      key: p.key,
      name: p.name,
      description: '',
      lead: this.userJson(this.myself),
      issueTypes: p.issueTypes.map((t) => this.issueTypeJson(t)),
      assigneeType: 'UNASSIGNED',
      projectTypeKey: 'software',
      simplified: false,
      style: 'classic',
      isPrivate: false,
      properties: {},
    };
  }

  private statusJson(name: string): Json {
    const s = this.workflow.statuses.find((x) => x.name === name);
    const index = this.workflow.statuses.findIndex((x) => x.name === name);
    return {
      self: `${this.url}/rest/api/3/status/${10000 + Math.max(index, 0)}`,
      description: '',
      iconUrl: `${this.url}/images/icons/statuses/generic.png`,
      name,
      id: String(10000 + Math.max(index, 0)),
      statusCategory: STATUS_CATEGORIES[s?.category ?? 'indeterminate'],
    };
  }

  private commentJson(issue: EmuIssue, c: EmuComment, expand: string[]): Json {
    const author = this.users.get(c.authorId) ?? this.myself;
    const out: Json = {
      self: `${this.url}/rest/api/3/issue/${issue.id}/comment/${c.id}`,
      id: c.id,
      author: this.userJson(author),
      body: c.body,
      updateAuthor: this.userJson(author),
      created: jiraDate(c.created),
      updated: jiraDate(c.updated),
      jsdPublic: true,
    };
    if (expand.includes('renderedBody')) out['renderedBody'] = `<p>${escapeHtml(flatten(c.body))}</p>`;
    if (expand.includes('properties')) out['properties'] = [...c.properties].map(([key, value]) => ({ key, value }));
    return out;
  }

  /** `fields`: undefined for all, or the ids requested (`*all`, `*navigable`, `-field` understood). */
  private issueJson(issue: EmuIssue, fields: string[] | undefined): Json {
    const project = this.projects.get(issue.projectKey);
    const type = project?.issueTypes.find((t) => t.name === issue.issueType);
    const all: Json = {
      summary: issue.summary,
      status: this.statusJson(issue.status),
      labels: [...issue.labels],
      description: issue.description ?? null,
      issuetype: type ? this.issueTypeJson(type) : { name: issue.issueType },
      project: project ? { self: `${this.url}/rest/api/3/project/${project.id}`, id: project.id, key: project.key, name: project.name } : { key: issue.projectKey },
      created: jiraDate(issue.created),
      updated: jiraDate(issue.updated),
      creator: this.userJson(this.myself),
      reporter: this.userJson(this.myself),
    };
    let chosen = all;
    if (fields && fields.length > 0) {
      const wantsAll = fields.some((f) => f === '*all' || f === '*navigable');
      const picked = new Set(fields.filter((f) => !f.startsWith('-') && !f.startsWith('*')));
      const dropped = new Set(fields.filter((f) => f.startsWith('-')).map((f) => f.slice(1)));
      chosen = Object.fromEntries(Object.entries(all).filter(([k]) => (wantsAll || picked.has(k)) && !dropped.has(k)));
    }
    return {
      expand: 'renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations',
      id: issue.id,
      self: `${this.url}/rest/api/3/issue/${issue.id}`,
      key: issue.key,
      fields: chosen,
    };
  }

  // ----- lookups -----------------------------------------------------------------------------

  private findProject(idOrKey: string): EmuProject | undefined {
    return this.projects.get(idOrKey.toUpperCase()) ?? [...this.projects.values()].find((p) => p.id === idOrKey);
  }

  private can(permission: string): boolean {
    return this.permissions[permission] !== false;
  }

  /** The issue, or Jira's 404 (it answers the same when the issue exists but may not be seen). */
  private withIssue(req: EmuRequest, fn: (issue: EmuIssue) => EmuResponse): EmuResponse {
    const issue = this.issue(req.params['issueIdOrKey'] ?? '');
    if (!issue || !this.can('BROWSE_PROJECTS')) return jiraError(404, ['Issue does not exist or you do not have permission to see it.']);
    return fn(issue);
  }

  private touch(issue: EmuIssue): void {
    issue.updated = new Date();
    this.indexedAt.set(issue.key, Date.now());
  }

  private findGroup(req: EmuRequest): { group?: EmuGroup; error?: EmuResponse } {
    const id = req.query.get('groupId');
    const name = req.query.get('groupname') ?? req.query.get('groupName');
    if (!id && !name) return { error: jiraError(400, ['You must specify a group name or a group ID.']) };
    if (id && name) return { error: jiraError(400, ['You cannot specify both a group name and a group ID.']) };
    const group = id ? this.groups.get(id) : [...this.groups.values()].find((g) => g.name === name);
    // 404 "Returned if the group is not found" (Get users from group / Add / Remove user, API reference).
    if (!group) return { error: jiraError(404, [`Specified group does not exist.`]) };
    return { group };
  }

  // ----- projects, issue types, permissions --------------------------------------------------

  private getProject(req: EmuRequest): EmuResponse {
    const key = req.params['projectIdOrKey'] ?? '';
    const p = this.findProject(key);
    // "No project could be found with key 'X'." is the 404 text clients report for a missing project.
    if (!p || !this.can('BROWSE_PROJECTS')) return jiraError(404, [`No project could be found with key '${key}'.`]);
    return { body: this.projectJson(p) };
  }

  private getCreateMetaIssueTypes(req: EmuRequest): EmuResponse {
    const key = req.params['projectIdOrKey'] ?? '';
    const p = this.findProject(key);
    if (!p) return jiraError(404, [`No project could be found with key '${key}'.`]);
    const startAt = Math.max(0, intParam(req.query, 'startAt', 0));
    const maxResults = Math.min(200, Math.max(1, intParam(req.query, 'maxResults', 50)));
    const types = this.can('CREATE_ISSUES') ? p.issueTypes : [];
    return { body: { maxResults, startAt, total: types.length, issueTypes: types.slice(startAt, startAt + maxResults).map((t) => this.issueTypeJson(t)) } };
  }

  /** GET /mypermissions: `permissions` is required on Cloud (400 without it). */
  private getMyPermissions(req: EmuRequest): EmuResponse {
    const keys = multiParam(req.query, 'permissions');
    if (keys.length === 0) return jiraError(400, ['The permissions query parameter is required.']);
    const unknown = keys.filter((k) => !(k in PERMISSION_TYPES));
    if (unknown.length > 0) return jiraError(400, [`Unrecognized permission keys: ${unknown.join(', ')}`]);
    const projectKey = req.query.get('projectKey') ?? req.query.get('projectId');
    if (projectKey && !this.findProject(projectKey)) return jiraError(404, [`No project could be found with key '${projectKey}'.`]);
    const permissions: Json = {};
    for (const k of keys) {
      permissions[k] = {
        id: String(Object.keys(PERMISSION_TYPES).indexOf(k) + 10),
        key: k,
        name: k.toLowerCase().replace(/(^|_)(\w)/g, (_m, sep: string, ch: string) => (sep ? ' ' : '') + ch.toUpperCase()),
        type: PERMISSION_TYPES[k],
        description: `Emulated ${k}`,
        havePermission: this.can(k),
      };
    }
    return { body: { permissions } };
  }

  // ----- issues ------------------------------------------------------------------------------

  private createIssue(req: EmuRequest): EmuResponse {
    const body = isObject(req.body) ? req.body : {};
    const f = isObject(body['fields']) ? body['fields'] : {};
    const errors: Record<string, string> = {};

    // Messages as Jira Cloud words them (seen in public clients and integration tests):
    // "Specify a valid project ID or key", "Specify an issue type" / "Specify a valid issue type",
    // "You must specify a summary of the issue.", "Summary must be less than 255 characters.",
    // "The label 'x y' contains spaces which is invalid.",
    // "Field 'x' cannot be set. It is not on the appropriate screen, or unknown."
    const pRef = isObject(f['project']) ? f['project'] : {};
    const project = typeof pRef['key'] === 'string' ? this.findProject(pRef['key']) : pRef['id'] !== undefined ? this.findProject(String(pRef['id'])) : undefined;
    if (!project) errors['project'] = 'Specify a valid project ID or key';

    const tRef = isObject(f['issuetype']) ? f['issuetype'] : undefined;
    let type: EmuIssueType | undefined;
    if (!tRef || (tRef['name'] === undefined && tRef['id'] === undefined)) {
      errors['issuetype'] = 'Specify an issue type';
    } else if (project) {
      type = project.issueTypes.find((t) => (tRef['id'] !== undefined ? t.id === String(tRef['id']) : t.name === tRef['name']));
      if (!type || type.subtask) errors['issuetype'] = 'Specify a valid issue type';
    }

    const summary = f['summary'];
    if (typeof summary !== 'string' || summary.trim() === '') errors['summary'] = 'You must specify a summary of the issue.';
    else if (summary.length > 255) errors['summary'] = 'Summary must be less than 255 characters.';
    else if (/[\r\n]/.test(summary)) errors['summary'] = 'The summary is invalid because it contains newline characters.';

    if (f['description'] !== undefined && f['description'] !== null) {
      const problem = adfProblem(f['description']);
      if (problem === 'invalid') return jiraError(400, ['INVALID_INPUT']);
      if (problem === 'not-doc') errors['description'] = NOT_ADF;
      else if (JSON.stringify(f['description']).length > TEXT_LIMIT) errors['description'] = TOO_LONG;
    }

    const labels: string[] = [];
    if (f['labels'] !== undefined) {
      if (!Array.isArray(f['labels'])) errors['labels'] = 'Operation value must be an array';
      else
        for (const l of f['labels'] as unknown[]) {
          if (typeof l !== 'string' || l.length === 0 || /\s/.test(l)) errors['labels'] = `The label '${String(l)}' contains spaces which is invalid.`;
          else if (l.length > 255) errors['labels'] = `The label '${l}' exceeds the maximum length for a single label of 255 characters.`;
          else if (!labels.includes(l)) labels.push(l);
        }
    }

    for (const k of Object.keys(f)) {
      if (!['project', 'issuetype', 'summary', 'description', 'labels'].includes(k)) errors[k] = `Field '${k}' cannot be set. It is not on the appropriate screen, or unknown.`;
    }
    if (Object.keys(errors).length > 0) return jiraError(400, [], errors);
    if (!this.can('CREATE_ISSUES')) return jiraError(403, ['You do not have permission to create issues in this project.']);

    const p = project as EmuProject;
    const now = new Date();
    const issue: EmuIssue = {
      id: String(this.nextIssueId++),
      key: `${p.key}-${p.nextNumber++}`,
      projectKey: p.key,
      issueType: (type as EmuIssueType).name,
      summary: summary as string,
      description: f['description'] ?? null,
      labels,
      status: this.workflow.initial,
      created: now,
      updated: now,
      comments: [],
      properties: new Map(),
      history: [],
    };
    for (const prop of Array.isArray(body['properties']) ? (body['properties'] as unknown[]) : []) {
      if (isObject(prop) && typeof prop['key'] === 'string') issue.properties.set(prop['key'], prop['value']);
    }
    this.issues.set(issue.key, issue);
    this.indexedAt.set(issue.key, Date.now());
    return { status: 201, body: { id: issue.id, key: issue.key, self: `${this.url}/rest/api/3/issue/${issue.id}` } };
  }

  private getIssue(req: EmuRequest): EmuResponse {
    return this.withIssue(req, (issue) => {
      const fields = req.query.has('fields') ? multiParam(req.query, 'fields') : undefined;
      const out = this.issueJson(issue, fields);
      if (multiParam(req.query, 'expand').includes('transitions')) out['transitions'] = this.available(issue).map((t) => this.transitionJson(t));
      const props = multiParam(req.query, 'properties');
      if (props.length > 0) out['properties'] = Object.fromEntries(props.filter((k) => issue.properties.has(k)).map((k) => [k, issue.properties.get(k)]));
      return { body: out };
    });
  }

  // ----- comments ----------------------------------------------------------------------------

  private addComment(req: EmuRequest): EmuResponse {
    return this.withIssue(req, (issue) => {
      const body = isObject(req.body) ? req.body : {};
      if (body['body'] === undefined) return jiraError(400, [], { comment: 'Comment body can not be empty!' });
      const problem = adfProblem(body['body']);
      if (problem === 'invalid') return jiraError(400, ['INVALID_INPUT']);
      if (problem === 'not-doc') return jiraError(400, [], { comment: NOT_ADF });
      if (JSON.stringify(body['body']).length > TEXT_LIMIT) return jiraError(400, [], { comment: TOO_LONG });
      // Wording from Jira Server/DC; the Cloud text for a missing Add comments permission is not confirmed.
      if (!this.can('ADD_COMMENTS')) return jiraError(403, ['You do not have the permission to comment on this issue.']);
      const properties = new Map<string, unknown>();
      for (const p of Array.isArray(body['properties']) ? (body['properties'] as unknown[]) : []) {
        if (!isObject(p) || typeof p['key'] !== 'string' || p['key'].length === 0 || p['key'].length > 255) return jiraError(400, ['The property key must be between 1 and 255 characters long.']);
        properties.set(p['key'], p['value']);
      }
      const now = new Date();
      const c: EmuComment = { id: String(this.nextCommentId++), body: body['body'], authorId: this.myself.accountId, created: now, updated: now, properties };
      issue.comments.push(c);
      this.touch(issue);
      return { status: 201, body: this.commentJson(issue, c, multiParam(req.query, 'expand')) };
    });
  }

  /**
   * GET comments: `startAt` (0), `maxResults` (default and cap 100 here; the v3 reference gives a
   * default of 100 — not confirmed whether Cloud caps lower or higher), `orderBy` created,
   * -created or +created, `expand` renderedBody and/or properties.
   */
  private getComments(req: EmuRequest): EmuResponse {
    return this.withIssue(req, (issue) => {
      const startAt = Math.max(0, intParam(req.query, 'startAt', 0));
      const maxResults = Math.min(100, Math.max(0, intParam(req.query, 'maxResults', 100)));
      const orderBy = req.query.get('orderBy') ?? '';
      const list = [...issue.comments];
      if (orderBy === '-created') list.reverse();
      const expand = multiParam(req.query, 'expand');
      return {
        body: {
          startAt,
          maxResults,
          total: list.length,
          comments: list.slice(startAt, startAt + maxResults).map((c) => this.commentJson(issue, c, expand)),
        },
      };
    });
  }

  private commentProperty(req: EmuRequest, method: 'GET' | 'PUT' | 'DELETE'): EmuResponse {
    const id = req.params['commentId'] ?? '';
    const key = req.params['propertyKey'] ?? '';
    const comment = [...this.issues.values()].flatMap((i) => i.comments).find((c) => c.id === id);
    if (!comment) return jiraError(404, ['Comment does not exist or you do not have permission to see it.']);
    return this.entityProperty(comment.properties, key, method, req.body);
  }

  // ----- entity properties -------------------------------------------------------------------

  /** PUT answers 201 when the property is new and 200 when it is replaced (API reference). */
  private entityProperty(props: Map<string, unknown>, key: string, method: 'GET' | 'PUT' | 'DELETE', value: unknown): EmuResponse {
    if (key.length === 0 || key.length > 255) return jiraError(400, ['The property key must be between 1 and 255 characters long.']);
    if (method === 'GET') {
      if (!props.has(key)) return jiraError(404, [`The property with key '${key}' does not exist.`]);
      return { body: { key, value: props.get(key) } };
    }
    if (method === 'DELETE') {
      if (!props.delete(key)) return jiraError(404, [`The property with key '${key}' does not exist.`]);
      return { status: 204 };
    }
    if (value === undefined) return jiraError(400, ['The property value cannot be empty.']);
    if (JSON.stringify(value).length > 32_768) return jiraError(400, ['The property value is too long (32768 characters at most).']);
    const existed = props.has(key);
    props.set(key, value);
    return { status: existed ? 200 : 201 };
  }

  private issuePropertyKeys(req: EmuRequest): EmuResponse {
    return this.withIssue(req, (issue) => ({
      body: { keys: [...issue.properties.keys()].map((key) => ({ self: `${this.url}/rest/api/3/issue/${issue.id}/properties/${encodeURIComponent(key)}`, key })) },
    }));
  }

  private getIssueProperty(req: EmuRequest): EmuResponse {
    return this.withIssue(req, (issue) => this.entityProperty(issue.properties, req.params['propertyKey'] ?? '', 'GET', undefined));
  }

  private setIssueProperty(req: EmuRequest): EmuResponse {
    return this.withIssue(req, (issue) => {
      if (!this.can('EDIT_ISSUES')) return jiraError(403, ['You do not have permission to edit this issue.']);
      // A body that is not JSON (base.ts hands it back as a string) is what Jira refuses as bad JSON.
      const ct = String(req.headers['content-type'] ?? '');
      if (!ct.includes('application/json')) return { status: 415, body: 'Unsupported Media Type' };
      return this.entityProperty(issue.properties, req.params['propertyKey'] ?? '', 'PUT', req.rawBody === '' ? undefined : req.body);
    });
  }

  private deleteIssueProperty(req: EmuRequest): EmuResponse {
    return this.withIssue(req, (issue) => {
      if (!this.can('EDIT_ISSUES')) return jiraError(403, ['You do not have permission to edit this issue.']);
      return this.entityProperty(issue.properties, req.params['propertyKey'] ?? '', 'DELETE', undefined);
    });
  }

  // ----- transitions -------------------------------------------------------------------------

  private available(issue: EmuIssue): WorkflowTransition[] {
    if (!this.can('TRANSITION_ISSUES')) return [];
    return this.workflow.transitions.filter((t) => t.from === '*' || t.from.includes(issue.status));
  }

  private transitionJson(t: WorkflowTransition): Json {
    return { id: t.id, name: t.name, to: this.statusJson(t.to), hasScreen: false, isGlobal: t.from === '*', isInitial: false, isAvailable: true, isConditional: false, isLooped: false };
  }

  private getTransitions(req: EmuRequest): EmuResponse {
    return this.withIssue(req, (issue) => {
      const only = req.query.get('transitionId');
      const list = this.available(issue).filter((t) => !only || t.id === only);
      return { body: { expand: 'transitions', transitions: list.map((t) => this.transitionJson(t)) } };
    });
  }

  /** 204 on success; 400 "Transition id 'X' is not valid for this issue." when not available. */
  private doTransition(req: EmuRequest): EmuResponse {
    return this.withIssue(req, (issue) => {
      const body = isObject(req.body) ? req.body : {};
      const tr = isObject(body['transition']) ? body['transition'] : {};
      const id = tr['id'] !== undefined ? String(tr['id']) : undefined;
      if (id === undefined) return jiraError(400, ["Missing 'transition' identifier"]);
      const t = this.available(issue).find((x) => x.id === id);
      if (!t) return jiraError(400, [`Transition id '${id}' is not valid for this issue.`]);
      issue.status = t.to;
      issue.history.push(t.name);
      for (const p of Array.isArray(body['properties']) ? (body['properties'] as unknown[]) : []) {
        if (isObject(p) && typeof p['key'] === 'string') issue.properties.set(p['key'], p['value']);
      }
      this.touch(issue);
      return { status: 204 };
    });
  }

  // ----- search ------------------------------------------------------------------------------

  /**
   * Enhanced search (GET/POST /rest/api/3/search/jql): bounded JQL only, `maxResults` default 50
   * (at most 5000), opaque `nextPageToken`, `isLast`; only issue ids unless `fields` are asked for.
   * Recently changed issues can be missing (eventual consistency, `searchLagMs`) unless their ids
   * are in `reconcileIssues`.
   */
  private search(body: Json): EmuResponse {
    const jql = typeof body['jql'] === 'string' ? body['jql'] : '';
    let q: JqlQuery;
    try {
      q = parseJql(jql);
    } catch (e) {
      return jiraError(400, [(e as Error).message]);
    }
    if (q.clauses.length === 0) return jiraError(400, ['Unbounded JQL queries are not allowed here. Please add a search restriction to your query.']);
    for (const c of q.clauses) {
      const check = this.checkJqlValues(c);
      if (check) return jiraError(400, [check]);
    }
    const reconcile = new Set((Array.isArray(body['reconcileIssues']) ? (body['reconcileIssues'] as unknown[]) : []).map(String));
    const now = Date.now();
    let hits = [...this.issues.values()].filter((i) => {
      if (!this.can('BROWSE_PROJECTS')) return false;
      const visible = reconcile.has(i.id) || this.searchLagMs <= 0 || now - (this.indexedAt.get(i.key) ?? 0) >= this.searchLagMs;
      return visible && q.clauses.every((c) => this.matches(i, c));
    });
    const order = q.order.length > 0 ? q.order : [{ field: 'created', dir: 'desc' as const }];
    hits = hits.sort((a, b) => {
      for (const o of order) {
        const av = o.field === 'key' ? Number(a.id) : o.field === 'updated' ? a.updated.getTime() : Number(a.id);
        const bv = o.field === 'key' ? Number(b.id) : o.field === 'updated' ? b.updated.getTime() : Number(b.id);
        if (av !== bv) return (av < bv ? -1 : 1) * (o.dir === 'asc' ? 1 : -1);
      }
      return 0;
    });
    let offset = 0;
    if (typeof body['nextPageToken'] === 'string' && body['nextPageToken'] !== '') {
      const decoded = Number(Buffer.from(body['nextPageToken'], 'base64url').toString('utf8'));
      if (!Number.isInteger(decoded) || decoded < 0) return jiraError(400, ['The provided next page token is invalid or expired.']);
      offset = decoded;
    }
    const maxResults = Math.min(5000, Math.max(1, typeof body['maxResults'] === 'number' ? body['maxResults'] : 50));
    const page = hits.slice(offset, offset + maxResults);
    const isLast = offset + page.length >= hits.length;
    const fields = Array.isArray(body['fields']) ? (body['fields'] as unknown[]).map(String) : undefined;
    const issues = page.map((i) => (fields && fields.length > 0 && !(fields.length === 1 && fields[0] === 'id') ? this.issueJson(i, fields) : { id: i.id }));
    const out: Json = { issues, isLast };
    if (!isLast) out['nextPageToken'] = Buffer.from(String(offset + page.length)).toString('base64url');
    return { body: out };
  }

  /** Jira validates JQL values against what exists: an unknown project or status is a 400. */
  private checkJqlValues(c: JqlClause): string | undefined {
    for (const v of c.values) {
      if (c.field === 'project' && !this.findProject(v)) return `The value '${v}' does not exist for the field 'project'.`;
      if (c.field === 'status' && !this.workflow.statuses.some((s) => s.name.toLowerCase() === v.toLowerCase())) return `The value '${v}' does not exist for the field 'status'.`;
      if (c.field === 'issuetype' && ![...this.projects.values()].some((p) => p.issueTypes.some((t) => t.name.toLowerCase() === v.toLowerCase()))) return `The value '${v}' does not exist for the field 'issuetype'.`;
      if (c.field === 'key' && c.op !== '!=' && c.op !== 'not in' && !this.issue(v)) return `An issue with key '${v}' does not exist for field 'key'.`;
    }
    if (c.op === '~' && c.field !== 'summary') return `The operator '~' is not supported by the '${c.field}' field.`;
    return undefined;
  }

  private matches(i: EmuIssue, c: JqlClause): boolean {
    const vals = c.values.map((v) => v.toLowerCase());
    let hit: boolean;
    switch (c.field) {
      case 'project': {
        const p = this.projects.get(i.projectKey);
        hit = vals.some((v) => v === i.projectKey.toLowerCase() || v === p?.id);
        break;
      }
      case 'labels':
        hit = i.labels.some((l) => vals.includes(l.toLowerCase()));
        break;
      case 'status':
        hit = vals.includes(i.status.toLowerCase());
        break;
      case 'issuetype':
        hit = vals.includes(i.issueType.toLowerCase());
        break;
      case 'key':
        hit = vals.some((v) => v === i.key.toLowerCase() || v === i.id);
        break;
      case 'summary':
        hit = vals.some((v) => i.summary.toLowerCase().includes(v));
        break;
      default:
        hit = false;
    }
    return c.op === '!=' || c.op === 'not in' ? !hit : hit;
  }

  // ----- users and groups --------------------------------------------------------------------

  /** GET /user/search: a plain array (not a page), matching email address or display name. */
  private userSearch(req: EmuRequest): EmuResponse {
    const query = (req.query.get('query') ?? '').toLowerCase();
    const accountId = req.query.get('accountId');
    if (!query && !accountId) return jiraError(400, ['One of the query parameters query, accountId or property is required.']);
    const startAt = Math.max(0, intParam(req.query, 'startAt', 0));
    const maxResults = Math.min(1000, Math.max(1, intParam(req.query, 'maxResults', 50)));
    const found = [...this.users.values()].filter((u) => {
      if (accountId) return u.accountId === accountId;
      return u.emailAddress.toLowerCase().includes(query) || u.displayName.toLowerCase().includes(query);
    });
    return { body: found.slice(startAt, startAt + maxResults).map((u) => this.userJson(u)) };
  }

  /** GET /group/bulk: a page of `{name, groupId}`; unknown ids are simply absent. */
  private groupBulk(req: EmuRequest): EmuResponse {
    const ids = multiParam(req.query, 'groupId');
    const names = multiParam(req.query, 'groupName');
    const startAt = Math.max(0, intParam(req.query, 'startAt', 0));
    const maxResults = Math.min(50, Math.max(1, intParam(req.query, 'maxResults', 50)));
    const all = [...this.groups.values()].filter((g) => (ids.length === 0 && names.length === 0) || ids.includes(g.groupId) || names.includes(g.name));
    const values = all.slice(startAt, startAt + maxResults).map((g) => ({ name: g.name, groupId: g.groupId }));
    return { body: { maxResults, startAt, total: all.length, isLast: startAt + values.length >= all.length, values } };
  }

  /** GET /group/member: a page (`maxResults` 1..50, default 50) of active users unless includeInactiveUsers. */
  private groupMember(req: EmuRequest): EmuResponse {
    const { group, error } = this.findGroup(req);
    if (!group) return error as EmuResponse;
    const includeInactive = boolParam(req.query, 'includeInactiveUsers');
    const startAt = Math.max(0, intParam(req.query, 'startAt', 0));
    const maxResults = Math.min(50, Math.max(1, intParam(req.query, 'maxResults', 50)));
    const members = [...group.members]
      .map((id) => this.users.get(id))
      .filter((u): u is EmuUser => u !== undefined && (includeInactive || u.active));
    const values = members.slice(startAt, startAt + maxResults);
    const isLast = startAt + values.length >= members.length;
    const page = (at: number): string => `${this.url}/rest/api/3/group/member?groupId=${group.groupId}&includeInactiveUsers=${includeInactive}&maxResults=${maxResults}&startAt=${at}`;
    const out: Json = { self: page(startAt), maxResults, startAt, total: members.length, isLast, values: values.map((u) => this.userJson(u)) };
    if (!isLast) out['nextPage'] = page(startAt + maxResults);
    return { body: out };
  }

  /**
   * POST /group/user: 201 with the group. A user already in the group gets
   * 400 "Cannot add user. User is already a member of '<group>'" — the wording clients match on
   * (e.g. pycontribs-based sync scripts, Atlassian Cloud admin tools). An unknown account gets
   * 404 "Specified user does not exist or you do not have required permissions" (pycontribs/jira#975).
   */
  private addUserToGroup(req: EmuRequest): EmuResponse {
    const { group, error } = this.findGroup(req);
    if (!group) return error as EmuResponse;
    const body = isObject(req.body) ? req.body : {};
    const accountId = typeof body['accountId'] === 'string' ? body['accountId'] : '';
    if (!accountId) return jiraError(400, ['You must specify the accountId of the user to add.']);
    if (!this.users.has(accountId)) return jiraError(404, ['Specified user does not exist or you do not have required permissions']);
    if (group.members.has(accountId)) return jiraError(400, [`Cannot add user. User is already a member of '${group.name}'`]);
    group.members.add(accountId);
    return {
      status: 201,
      body: {
        name: group.name,
        groupId: group.groupId,
        self: `${this.url}/rest/api/3/group?groupId=${group.groupId}`,
        users: { size: group.members.size, items: [], 'max-results': 50, 'start-index': 0, 'end-index': 0 },
        expand: 'users',
      },
    };
  }

  /**
   * DELETE /group/user: 200 with an empty body. Removing a non-member gets
   * 400 "Cannot remove user '<user>' from group '<group>' since user is not a member of '<group>'"
   * — Jira's own message (DefaultGroupService tests, and clients that match "since user is not a
   * member of"); confirmed for Server/DC, assumed identical on Cloud with the account id as <user>.
   */
  private removeUserFromGroup(req: EmuRequest): EmuResponse {
    const { group, error } = this.findGroup(req);
    if (!group) return error as EmuResponse;
    const accountId = req.query.get('accountId') ?? '';
    if (!accountId) return jiraError(400, ['You must specify the accountId of the user to remove.']);
    if (!this.users.has(accountId)) return jiraError(404, ['Specified user does not exist or you do not have required permissions']);
    if (!group.members.has(accountId)) {
      return jiraError(400, [`Cannot remove user '${accountId}' from group '${group.name}' since user is not a member of '${group.name}'`]);
    }
    group.members.delete(accountId);
    return { status: 200 };
  }
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}
