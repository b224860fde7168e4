/**
 * The workflow of the emulated site: statuses with their category, transitions available from
 * each status, and the transition routes (GET/POST /rest/api/3/issue/{issueIdOrKey}/transitions).
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

export function statusJson(site: JiraSite, name: string): Json {
  const s = site.workflow.statuses.find((x) => x.name === name);
  const index = site.workflow.statuses.findIndex((x) => x.name === name);
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
  return site.workflow.transitions.filter((t) => t.from === '*' || t.from.includes(issue.status));
}

function transitionJson(site: JiraSite, t: WorkflowTransition): Json {
  return { id: t.id, name: t.name, to: statusJson(site, t.to), hasScreen: false, isGlobal: t.from === '*', isInitial: false, isAvailable: true, isConditional: false, isLooped: false };
}

export function mountTransitions(site: JiraSite, on: SiteRoute): void {
  const api = '/rest/api/3';
  on('GET', `${api}/issue/:issueIdOrKey/transitions`, (r) => getTransitions(site, r));
  on('POST', `${api}/issue/:issueIdOrKey/transitions`, (r) => doTransition(site, r));
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
