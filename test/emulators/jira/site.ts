/**
 * The state of the emulated Jira Cloud site that the route modules (issues.ts, workflow.ts,
 * jql.ts, fields.ts, jsm.ts) share: projects, issues with their comments, properties, custom
 * field values and changelog, the workflow, the custom fields, the service desks, the
 * permissions of the calling account, the accounts that may call, the site's Atlassian
 * directory of users and groups, and the webhook it sends (webhooks.ts).
 */
import { Buffer } from 'node:buffer';
import type { AtlassianDirectory, EmuUser } from '../atlassian.js';
import type { EmuRequest, EmuResponse } from '../base.js';
import type { EmuField } from './fields.js';
import { webhookIssueJson } from './issues.js';
import type { EmuRequestType, EmuServiceDesk } from './jsm.js';
import { WebhookSender, type ChangelogItem } from './webhooks.js';
import { DEFAULT_WORKFLOW, type Workflow } from './workflow.js';
import { jiraError, type Json } from './wire.js';

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
  /** accountIds; the calling account when not set. */
  reporterId?: string;
  creatorId?: string;
  /** Custom field values by field id: an option id (select), option ids (multi-select), an accountId (user picker), text, or a request type id (JSM). */
  fields: Map<string, unknown>;
  /** The issue's changelog, oldest first (what `expand=changelog` and the webhooks show). */
  changelog: EmuHistory[];
}

/** One changelog entry. */
export interface EmuHistory {
  id: string;
  authorId: string;
  created: Date;
  items: ChangelogItem[];
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

export interface JiraSiteOptions {
  workflow?: Workflow;
  /** Permissions of the calling account; unset keys are granted. */
  permissions?: Record<string, boolean>;
  /** Newly created or changed issues stay invisible to JQL search for this long (eventual consistency). */
  searchLagMs?: number;
}

export class JiraSite {
  /** Issues by key. */
  readonly issues = new Map<string, EmuIssue>();
  readonly projects = new Map<string, EmuProject>();
  /** When an issue last changed in a way search would see (for `searchLagMs`). */
  readonly indexedAt = new Map<string, number>();
  /** The workflow of every issue type without one of its own. */
  workflow: Workflow;
  /**
   * The workflow scheme's exceptions: issue type name (lower case) -> its own workflow, in every
   * project (a scheme shared by all projects, as sites often have).
   */
  readonly typeWorkflows = new Map<string, Workflow>();
  permissions: Record<string, boolean>;
  searchLagMs: number;
  /** Custom fields by id (fields.ts). */
  readonly customFields = new Map<string, EmuField>();
  /** JSM (jsm.ts). */
  readonly serviceDesks = new Map<string, EmuServiceDesk>();
  readonly requestTypes = new Map<string, EmuRequestType>();
  /** The admin webhook the site sends its issue events to. */
  readonly webhooks: WebhookSender;
  /** `email:apiToken` → accountId of every account that may call, the bot's own included. */
  readonly credentials = new Map<string, string>();
  nextIssueId = 10000;
  nextCommentId = 10000;
  nextHistoryId = 10000;
  nextOptionId = 10100;
  private nextProjectId = 10000;
  private nextIssueTypeId = 10001;

  constructor(
    readonly directory: AtlassianDirectory,
    /** The account the credentials belong to. */
    readonly myself: EmuUser,
    private readonly siteUrl: () => string,
    opts: JiraSiteOptions = {},
  ) {
    this.workflow = structuredClone(opts.workflow ?? DEFAULT_WORKFLOW);
    this.permissions = { ...(opts.permissions ?? {}) };
    this.searchLagMs = opts.searchLagMs ?? 0;
    this.webhooks = new WebhookSender();
  }

  /** The account a request's basic credentials belong to (routes run behind the site's auth, so there is one). */
  caller(req: EmuRequest): EmuUser {
    const h = req.headers.authorization;
    const decoded = typeof h === 'string' && h.startsWith('Basic ') ? Buffer.from(h.slice(6), 'base64').toString('utf8') : '';
    const id = this.credentials.get(decoded);
    return (id ? this.directory.users.get(id) : undefined) ?? this.myself;
  }

  /**
   * Records a change in the issue's changelog and sends `jira:issue_updated` with it, as Jira does
   * for an edit (https://developer.atlassian.com/cloud/jira/platform/webhooks/#example-callback-for-an-issue-related-event).
   */
  changed(issue: EmuIssue, by: EmuUser, items: ChangelogItem[], eventType = 'issue_updated'): void {
    if (items.length === 0) return;
    const h: EmuHistory = { id: String(this.nextHistoryId++), authorId: by.accountId, created: new Date(), items };
    issue.changelog.push(h);
    this.touch(issue);
    this.emit('jira:issue_updated', issue, by, { issue_event_type_name: eventType, changelog: { id: h.id, items } });
  }

  /** Sends an issue event to the registered webhook (if any), the issue as it is now. */
  emit(event: 'jira:issue_created' | 'jira:issue_updated', issue: EmuIssue, by: EmuUser, extra: Json = {}): void {
    this.webhooks.send(event, () => ({
      timestamp: Date.now(),
      webhookEvent: event,
      issue_event_type_name: event === 'jira:issue_created' ? 'issue_created' : 'issue_updated',
      user: this.directory.userJson(by),
      issue: webhookIssueJson(this, issue),
      ...extra,
    }));
  }

  get url(): string {
    return this.siteUrl();
  }

  /** The workflow issues of this type follow. */
  workflowFor(issueType: string): Workflow {
    return this.typeWorkflows.get(issueType.toLowerCase()) ?? this.workflow;
  }

  /** Every status of the site's workflows, each once (a status name is unique on a site), the default workflow's first. */
  allStatuses(): Workflow['statuses'] {
    const out: Workflow['statuses'] = [];
    for (const w of [this.workflow, ...this.typeWorkflows.values()]) for (const s of w.statuses) if (!out.some((o) => o.name === s.name)) out.push(s);
    return out;
  }

  can(permission: string): boolean {
    return this.permissions[permission] !== false;
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

  findProject(idOrKey: string): EmuProject | undefined {
    return this.projects.get(idOrKey.toUpperCase()) ?? [...this.projects.values()].find((p) => p.id === idOrKey);
  }

  /** The issue with this key or id. */
  issue(keyOrId: string): EmuIssue | undefined {
    return this.issues.get(keyOrId.toUpperCase()) ?? [...this.issues.values()].find((i) => i.id === keyOrId);
  }

  /** The issue, or Jira's 404 (it answers the same when the issue exists but may not be seen). */
  withIssue(req: EmuRequest, fn: (issue: EmuIssue) => EmuResponse): EmuResponse {
    const issue = this.issue(req.params['issueIdOrKey'] ?? '');
    if (!issue || !this.can('BROWSE_PROJECTS')) return jiraError(404, ['Issue does not exist or you do not have permission to see it.']);
    return fn(issue);
  }

  touch(issue: EmuIssue): void {
    issue.updated = new Date();
    this.indexedAt.set(issue.key, Date.now());
  }
}
