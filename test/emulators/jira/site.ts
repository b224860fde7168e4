/**
 * The state of the emulated Jira Cloud site that the route modules (issues.ts, workflow.ts,
 * jql.ts) share: projects, issues with their comments and properties, the workflow, the
 * permissions of the calling account, and the site's Atlassian directory of users and groups.
 */
import type { AtlassianDirectory, EmuUser } from '../atlassian.js';
import type { EmuRequest, EmuResponse } from '../base.js';
import { DEFAULT_WORKFLOW, type Workflow } from './workflow.js';
import { jiraError } from './wire.js';

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
  workflow: Workflow;
  permissions: Record<string, boolean>;
  searchLagMs: number;
  nextIssueId = 10000;
  nextCommentId = 10000;
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
  }

  get url(): string {
    return this.siteUrl();
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
