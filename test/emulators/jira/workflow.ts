/**
 * The workflows of the emulated site: statuses with their category, transitions available from
 * each status, one workflow for every issue type unless a type has its own (site.ts
 * `typeWorkflows`), and the routes that show them: GET/POST
 * /rest/api/3/issue/{issueIdOrKey}/transitions and GET /rest/api/3/project/{projectIdOrKey}/statuses.
 */
import type { EmuRequest, EmuResponse } from '../base.js';
import type { EmuIssue, JiraSite } from './site.js';
import { isObject, jiraError, type Json, type SiteRoute } from './wire.js';

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

const STATUS_CATEGORIES: Record<StatusCategory, Json> = {
  new: { id: 2, key: 'new', colorName: 'blue-gray', name: 'To Do' },
  indeterminate: { id: 4, key: 'indeterminate', colorName: 'yellow', name: 'In Progress' },
  done: { id: 3, key: 'done', colorName: 'green', name: 'Done' },
};

/** A status as Jira shows it; its id is its place among the site's statuses (the same in every workflow). */
export function statusJson(site: JiraSite, name: string): Json {
  const all = site.allStatuses();
  const s = all.find((x) => x.name === name);
  const index = all.findIndex((x) => x.name === name);
  return {
    self: `${site.url}/rest/api/3/status/${10000 + Math.max(index, 0)}`,
    description: '',
    iconUrl: `${site.url}/images/icons/statuses/generic.png`,
    name,
    id: String(10000 + Math.max(index, 0)),
    statusCategory: STATUS_CATEGORIES[s?.category ?? 'indeterminate'],
  };
}

/** The transitions the calling account may apply to the issue now, as Jira lists them. */
export function transitionsJson(site: JiraSite, issue: EmuIssue): Json[] {
  return available(site, issue).map((t) => transitionJson(site, t));
}

function available(site: JiraSite, issue: EmuIssue): WorkflowTransition[] {
  if (!site.can('TRANSITION_ISSUES')) return [];
  return site.workflowFor(issue.issueType).transitions.filter((t) => t.from === '*' || t.from.includes(issue.status));
}

function transitionJson(site: JiraSite, t: WorkflowTransition): Json {
  return { id: t.id, name: t.name, to: statusJson(site, t.to), hasScreen: false, isGlobal: t.from === '*', isInitial: false, isAvailable: true, isConditional: false, isLooped: false };
}

export function mountWorkflow(site: JiraSite, on: SiteRoute): void {
  const api = '/rest/api/3';
  on('GET', `${api}/issue/:issueIdOrKey/transitions`, (r) => getTransitions(site, r));
  on('POST', `${api}/issue/:issueIdOrKey/transitions`, (r) => doTransition(site, r));
  on('GET', `${api}/project/:projectIdOrKey/statuses`, (r) => getProjectStatuses(site, r));
}

/**
 * "Get all statuses for project"
 * (https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-projects/#api-rest-api-3-project-projectidorkey-statuses-get):
 * a bare array, one `IssueTypeWithStatus` `{self, id, name, subtask, statuses}` per issue type of
 * the project, each status `{self, description, iconUrl, name, untranslatedName, id,
 * statusCategory}` (the shape in jira.js `IssueTypeWithStatusSchema`). Needs Browse projects; a
 * project that does not exist or may not be seen is a 404 with the text of GET /project/{key}.
 */
function getProjectStatuses(site: JiraSite, req: EmuRequest): EmuResponse {
  const key = req.params['projectIdOrKey'] ?? '';
  const p = site.findProject(key);
  if (!p || !site.can('BROWSE_PROJECTS')) return jiraError(404, [`No project could be found with key '${key}'.`]);
  return {
    body: p.issueTypes.map((t) => ({
      self: `${site.url}/rest/api/3/issuetype/${t.id}`,
      id: t.id,
      name: t.name,
      subtask: t.subtask,
      statuses: site.workflowFor(t.name).statuses.map((s) => ({ ...statusJson(site, s.name), untranslatedName: s.name })),
    })),
  };
}

function getTransitions(site: JiraSite, req: EmuRequest): EmuResponse {
  return site.withIssue(req, (issue) => {
    const only = req.query.get('transitionId');
    const list = available(site, issue).filter((t) => !only || t.id === only);
    return { body: { expand: 'transitions', transitions: list.map((t) => transitionJson(site, t)) } };
  });
}

/** 204 on success; 400 "Transition id 'X' is not valid for this issue." when not available. */
function doTransition(site: JiraSite, req: EmuRequest): EmuResponse {
  return site.withIssue(req, (issue) => {
    const body = isObject(req.body) ? req.body : {};
    const tr = isObject(body['transition']) ? body['transition'] : {};
    const id = tr['id'] !== undefined ? String(tr['id']) : undefined;
    if (id === undefined) return jiraError(400, ["Missing 'transition' identifier"]);
    const t = available(site, issue).find((x) => x.id === id);
    if (!t) return jiraError(400, [`Transition id '${id}' is not valid for this issue.`]);
    const from = issue.status;
    issue.status = t.to;
    issue.history.push(t.name);
    for (const p of Array.isArray(body['properties']) ? (body['properties'] as unknown[]) : []) {
      if (isObject(p) && typeof p['key'] === 'string') issue.properties.set(p['key'], p['value']);
    }
    // A transition is a change of the issue's status: Jira records it in the changelog, by whoever
    // made it (the bot's account included), and sends `jira:issue_updated` with it.
    const item = (name: string) => String(statusJson(site, name)['id']);
    site.changed(issue, site.caller(req), [{ field: 'status', fieldtype: 'jira', fieldId: 'status', from: item(from), fromString: from, to: item(t.to), toString: t.to }], 'issue_generic');
    return { status: 204 };
  });
}
