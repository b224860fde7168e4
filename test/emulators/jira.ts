/**
 * A local Jira Cloud (REST API v3) for tests and the demo: issues with ADF descriptions and
 * comments, entity properties, a configurable workflow, enhanced JQL search, users and
 * Atlassian groups, basic auth, and the failures Jira Cloud produces (429 with its rate-limit
 * headers, 503, hangs, dropped connections).
 *
 * This module is the site: its server, credentials, faults and the test helpers. What it serves
 * lives next to it: jira/issues.ts (projects, issues, comments, properties, edits), jira/workflow.ts
 * (workflows: statuses, a project's statuses by issue type, transitions), jira/jql.ts (JQL and search), jira/adf.ts (document validation),
 * jira/fields.ts (custom fields, their contexts and select options), jira/jsm.ts (Jira Service
 * Management: service desks, request types, raising a request), jira/webhooks.ts (the signed
 * admin webhook the site sends, at least once), and atlassian.ts (the site's users and groups,
 * the Atlassian connector's API).
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
import { randomBytes } from 'node:crypto';
import { AtlassianDirectory, type EmuUser } from './atlassian.js';
import { EmulatorServer, type EmuRequest, type EmuResponse, type Fault, type RecordedCall } from './base.js';
import { flatten } from './jira/adf.js';
import { addField, contextFor, mountFields, type EmuField, type EmuFieldType } from './jira/fields.js';
import { mountIssues } from './jira/issues.js';
import { addRequestType, addServiceDesk, mountServiceDesk, type EmuRequestType, type EmuServiceDesk } from './jira/jsm.js';
import type { WebhookSender } from './jira/webhooks.js';
import { mountSearch } from './jira/jql.js';
import { JiraSite, type EmuIssue, type EmuProject, type JiraSiteOptions } from './jira/site.js';
import { jiraDate, type Json } from './jira/wire.js';
import { mountWorkflow, type Workflow } from './jira/workflow.js';

export type { EmuGroup, EmuUser } from './atlassian.js';
export { adfProblem } from './jira/adf.js';
export type { EmuComment, EmuIssue, EmuIssueType, EmuProject } from './jira/site.js';
export type { EmuField, EmuFieldOption } from './jira/fields.js';
export type { EmuRequestType, EmuServiceDesk } from './jira/jsm.js';
export type { DeliveryRecord, WebhookSender } from './jira/webhooks.js';
export { REQUEST_TYPE_FIELD } from './jira/jsm.js';
export { DEFAULT_WORKFLOW, type StatusCategory, type Workflow, type WorkflowTransition } from './jira/workflow.js';

export interface JiraEmulatorOptions extends JiraSiteOptions {
  /** Basic-auth credentials the emulator accepts. */
  email?: string;
  apiToken?: string;
  /** Projects to create; default one project `ACC` with Task, Bug and Sub-task. */
  projects?: { key: string; name?: string; issueTypes?: string[] }[];
}

export class JiraEmulator {
  readonly server = new EmulatorServer('jira');
  /** The site's Atlassian accounts and groups (what the Atlassian connector manages). */
  readonly directory = new AtlassianDirectory(() => this.url);
  /** The account the credentials belong to. */
  readonly myself: EmuUser;
  private readonly site: JiraSite;
  private email: string;
  private apiToken: string;
  private readonly outageRemovers: (() => void)[] = [];
  private readonly swallowed: { method: string; path: string | RegExp; left: number }[] = [];

  constructor(opts: JiraEmulatorOptions = {}) {
    this.email = opts.email ?? 'access-bot@example.com';
    this.apiToken = opts.apiToken ?? 'jira-api-token';
    this.myself = this.directory.addUser({ email: this.email, displayName: 'Access Bot' });
    this.site = new JiraSite(this.directory, this.myself, () => this.url, opts);
    this.site.credentials.set(`${this.email}:${this.apiToken}`, this.myself.accountId);
    for (const p of opts.projects ?? [{ key: 'ACC', name: 'Access Requests' }]) this.addProject(p);
    this.registerRoutes();
  }

  // ----- lifecycle and faults ----------------------------------------------------------------

  start(port = 0): Promise<string> {
    return this.server.start(port);
  }

  async stop(): Promise<void> {
    this.site.webhooks.unregister();
    this.site.webhooks.resume();
    await this.server.stop();
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

  /** Issues by key. */
  get issues(): Map<string, EmuIssue> {
    return this.site.issues;
  }

  get projects(): Map<string, EmuProject> {
    return this.site.projects;
  }

  setCredentials(email: string, apiToken: string): void {
    this.site.credentials.delete(`${this.email}:${this.apiToken}`);
    this.email = email;
    this.apiToken = apiToken;
    this.site.credentials.set(`${email}:${apiToken}`, this.myself.accountId);
  }

  /**
   * An API token for another account of the site (a requester using the portal, an agent), as
   * the `Authorization` header value of a call made as them: issues they create are theirs.
   */
  authAs(user: EmuUser): string {
    const token = `emu-${randomBytes(8).toString('hex')}`;
    this.site.credentials.set(`${user.emailAddress}:${token}`, user.accountId);
    return `Basic ${Buffer.from(`${user.emailAddress}:${token}`).toString('base64')}`;
  }

  /** The admin webhook the site sends (register it, drop or duplicate deliveries). */
  get webhooks(): WebhookSender {
    return this.site.webhooks;
  }

  /** Adds a custom field (one global context; select types with these options). */
  addField(f: { id?: string; name: string; type: EmuFieldType; options?: string[] }): EmuField {
    return addField(this.site, f);
  }

  field(id: string): EmuField | undefined {
    return this.site.customFields.get(id);
  }

  /** The enabled option values of a select field in the context that applies to the project. */
  optionValues(fieldId: string, projectKey = 'ACC'): string[] {
    const f = this.field(fieldId);
    const ctx = f && contextFor(f, this.site.findProject(projectKey)?.id);
    return (ctx?.options ?? []).filter((o) => !o.disabled).map((o) => o.value);
  }

  /** Makes the project a JSM service desk. */
  addServiceDesk(projectKey: string): EmuServiceDesk {
    const p = this.site.findProject(projectKey);
    if (!p) throw new Error(`jira emulator: no project ${projectKey}`);
    return addServiceDesk(this.site, p);
  }

  addRequestType(desk: EmuServiceDesk, rt: { name: string; description?: string; fieldIds?: string[] }): EmuRequestType {
    return addRequestType(this.site, desk, rt);
  }

  /** The workflow of every issue type; with `issueType`, that type's own (in every project). */
  setWorkflow(w: Workflow, issueType?: string): void {
    if (issueType === undefined) this.site.workflow = structuredClone(w);
    else this.site.typeWorkflows.set(issueType.toLowerCase(), structuredClone(w));
  }

  getWorkflow(issueType?: string): Workflow {
    return structuredClone(issueType === undefined ? this.site.workflow : this.site.workflowFor(issueType));
  }

  setPermission(key: string, granted: boolean): void {
    this.site.permissions[key] = granted;
  }

  addProject(p: { key: string; name?: string; issueTypes?: string[] }): EmuProject {
    return this.site.addProject(p);
  }

  /** The issue with this key or id. */
  issue(keyOrId: string): EmuIssue | undefined {
    return this.site.issue(keyOrId);
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
    this.site.touch(issue);
  }

  /** Issues carrying this label. */
  issuesWithLabel(label: string): EmuIssue[] {
    return [...this.site.issues.values()].filter((i) => i.labels.includes(label));
  }

  // ----- routing -----------------------------------------------------------------------------

  private authorized(req: EmuRequest): boolean {
    const h = req.headers.authorization;
    if (typeof h !== 'string' || !h.startsWith('Basic ')) return false;
    const decoded = Buffer.from(h.slice(6), 'base64').toString('utf8');
    return decoded === `${this.email}:${this.apiToken}` || this.site.credentials.has(decoded);
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
    const on = this.on.bind(this);
    const api = '/rest/api/3';
    on('GET', `${api}/myself`, () => ({ body: this.myselfJson() }));
    on('GET', `${api}/serverInfo`, () => ({ body: this.serverInfo() }), true);
    mountIssues(this.site, on);
    mountWorkflow(this.site, on);
    mountSearch(this.site, on);
    mountFields(this.site, on);
    mountServiceDesk(this.site, on);
    this.directory.mount(on);
  }

  private myselfJson(): Json {
    return { ...this.directory.userJson(this.myself), locale: 'en_US', groups: { size: 0, items: [] }, applicationRoles: { size: 1, items: [] }, expand: 'groups,applicationRoles' };
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
}
