/**
 * Projects, issues, comments and entity properties of the emulated site: the routes the Jira
 * record writes through (create an issue, comment on it, keep properties on both), the ones
 * `access-bot check` reads (project, create metadata, permissions), and editing an issue's fields
 * (`PUT /rest/api/3/issue/{issueIdOrKey}`, as a person fixing a request raised in Jira does).
 * Creating and editing send the site's webhook (`jira:issue_created`, `jira:issue_updated` with
 * the changelog), as does a comment (`jira:issue_updated` with `issue_event_type_name`
 * `issue_commented`, https://developer.atlassian.com/cloud/jira/platform/webhooks/).
 */
import type { EmuUser } from '../atlassian.js';
import type { EmuRequest, EmuResponse } from '../base.js';
import { adfProblem, flatten, NOT_ADF, renderedHtml, TEXT_LIMIT, TOO_LONG } from './adf.js';
import { fieldChangeText, fieldJson, readFieldInput } from './fields.js';
import type { EmuComment, EmuHistory, EmuIssue, EmuIssueType, EmuProject, JiraSite } from './site.js';
import type { ChangelogItem } from './webhooks.js';
import { intParam, isObject, jiraDate, jiraError, multiParam, type Json, type SiteRoute } from './wire.js';
import { statusJson, transitionsJson } from './workflow.js';

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

export function mountIssues(site: JiraSite, on: SiteRoute): void {
  const api = '/rest/api/3';
  on('GET', `${api}/project/:projectIdOrKey`, (r) => getProject(site, r));
  on('GET', `${api}/issue/createmeta/:projectIdOrKey/issuetypes`, (r) => getCreateMetaIssueTypes(site, r));
  on('GET', `${api}/mypermissions`, (r) => getMyPermissions(site, r));

  on('POST', `${api}/issue`, (r) => createIssue(site, r));
  on('GET', `${api}/issue/:issueIdOrKey`, (r) => getIssue(site, r));
  on('PUT', `${api}/issue/:issueIdOrKey`, (r) => editIssue(site, r));
  on('POST', `${api}/issue/:issueIdOrKey/comment`, (r) => addComment(site, r));
  on('GET', `${api}/issue/:issueIdOrKey/comment`, (r) => getComments(site, r));
  on('GET', `${api}/issue/:issueIdOrKey/properties`, (r) => issuePropertyKeys(site, r));
  on('GET', `${api}/issue/:issueIdOrKey/properties/:propertyKey`, (r) => getIssueProperty(site, r));
  on('PUT', `${api}/issue/:issueIdOrKey/properties/:propertyKey`, (r) => setIssueProperty(site, r));
  on('DELETE', `${api}/issue/:issueIdOrKey/properties/:propertyKey`, (r) => deleteIssueProperty(site, r));
  on('GET', `${api}/comment/:commentId/properties/:propertyKey`, (r) => commentProperty(site, r, 'GET'));
  on('PUT', `${api}/comment/:commentId/properties/:propertyKey`, (r) => commentProperty(site, r, 'PUT'));
  on('DELETE', `${api}/comment/:commentId/properties/:propertyKey`, (r) => commentProperty(site, r, 'DELETE'));
}

function issueTypeJson(site: JiraSite, t: EmuIssueType): Json {
  return {
    self: `${site.url}/rest/api/3/issuetype/${t.id}`,
    id: t.id,
    description: `${t.name} (emulated)`,
    iconUrl: `${site.url}/images/icons/issuetypes/${t.id}.svg`,
    name: t.name,
    subtask: t.subtask,
    avatarId: 10318,
    hierarchyLevel: t.hierarchyLevel,
  };
}

function projectJson(site: JiraSite, p: EmuProject): Json {
  return {
    expand: 'description,lead,issueTypes,url,projectKeys,permissions,insight',
    self: `${site.url}/rest/api/3/project/${p.id}`,
    id: p.id,
    key: p.key,
    name: p.name,
    description: '',
    lead: site.directory.userJson(site.myself),
    issueTypes: p.issueTypes.map((t) => issueTypeJson(site, t)),
    assigneeType: 'UNASSIGNED',
    projectTypeKey: 'software',
    simplified: false,
    style: 'classic',
    isPrivate: false,
    properties: {},
  };
}

function commentJson(site: JiraSite, issue: EmuIssue, c: EmuComment, expand: string[]): Json {
  const author = site.directory.users.get(c.authorId) ?? site.myself;
  const out: Json = {
    self: `${site.url}/rest/api/3/issue/${issue.id}/comment/${c.id}`,
    id: c.id,
    author: site.directory.userJson(author),
    body: c.body,
    updateAuthor: site.directory.userJson(author),
    created: jiraDate(c.created),
    updated: jiraDate(c.updated),
    jsdPublic: true,
  };
  if (expand.includes('renderedBody')) out['renderedBody'] = renderedHtml(c.body);
  if (expand.includes('properties')) out['properties'] = [...c.properties].map(([key, value]) => ({ key, value }));
  return out;
}

/** `fields`: undefined for all, or the ids requested (`*all`, `*navigable`, `-field` understood). */
export function issueJson(site: JiraSite, issue: EmuIssue, fields: string[] | undefined): Json {
  const project = site.projects.get(issue.projectKey);
  const type = project?.issueTypes.find((t) => t.name === issue.issueType);
  const all: Json = {
    summary: issue.summary,
    status: statusJson(site, issue.status),
    labels: [...issue.labels],
    description: issue.description ?? null,
    issuetype: type ? issueTypeJson(site, type) : { name: issue.issueType },
    project: project ? { self: `${site.url}/rest/api/3/project/${project.id}`, id: project.id, key: project.key, name: project.name } : { key: issue.projectKey },
    created: jiraDate(issue.created),
    updated: jiraDate(issue.updated),
    creator: site.directory.userJson(userOf(site, issue.creatorId)),
    reporter: site.directory.userJson(userOf(site, issue.reporterId)),
  };
  for (const f of site.customFields.values()) all[f.id] = fieldJson(site, f, issue);
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
    self: `${site.url}/rest/api/3/issue/${issue.id}`,
    key: issue.key,
    fields: chosen,
  };
}

function userOf(site: JiraSite, accountId: string | undefined): EmuUser {
  return (accountId ? site.directory.users.get(accountId) : undefined) ?? site.myself;
}

/** `expand=changelog` on an issue: a page of its histories (Jira gives the latest 100 with a search). */
export function changelogJson(site: JiraSite, issue: EmuIssue): Json {
  const histories = issue.changelog.slice(-100).map((h: EmuHistory) => ({
    id: h.id,
    author: site.directory.userJson(userOf(site, h.authorId)),
    created: jiraDate(h.created),
    items: h.items.map((i) => ({ ...i })),
  }));
  return { startAt: 0, maxResults: histories.length, total: issue.changelog.length, histories };
}

/**
 * The issue as a webhook carries it: REST API v2's representation (the description as wiki
 * markup text, here its plain text), every field present, custom ones null when empty
 * (as deliveries captured from Jira Cloud show it).
 */
export function webhookIssueJson(site: JiraSite, issue: EmuIssue): Json {
  const v3 = issueJson(site, issue, undefined);
  const fields = { ...(v3['fields'] as Json), description: issue.description === null ? null : flatten(issue.description) };
  return { id: issue.id, self: `${site.url}/rest/api/2/issue/${issue.id}`, key: issue.key, fields };
}

/**
 * Creates an issue in the site and sends `jira:issue_created`: the one way issues come to be
 * (the REST create, JSM's request create).
 */
export function newIssue(
  site: JiraSite,
  o: { project: EmuProject; type: EmuIssueType; summary: string; description: unknown; labels?: string[]; reporter: EmuUser; creator: EmuUser; fields?: Map<string, unknown>; properties?: Map<string, unknown> },
): EmuIssue {
  const now = new Date();
  const issue: EmuIssue = {
    id: String(site.nextIssueId++),
    key: `${o.project.key}-${o.project.nextNumber++}`,
    projectKey: o.project.key,
    issueType: o.type.name,
    summary: o.summary,
    description: o.description ?? null,
    labels: o.labels ?? [],
    status: site.workflowFor(o.type.name).initial,
    created: now,
    updated: now,
    comments: [],
    properties: o.properties ?? new Map(),
    history: [],
    reporterId: o.reporter.accountId,
    creatorId: o.creator.accountId,
    fields: o.fields ?? new Map(),
    changelog: [],
  };
  site.issues.set(issue.key, issue);
  site.indexedAt.set(issue.key, Date.now());
  site.emit('jira:issue_created', issue, o.creator);
  return issue;
}

/** Reads the custom fields of a create or edit into `out`; field errors go into `errors`. */
function readCustomFields(site: JiraSite, project: EmuProject | undefined, f: Json, out: Map<string, unknown>, errors: Record<string, string>): void {
  for (const [k, v] of Object.entries(f)) {
    const field = site.customFields.get(k);
    if (!field) continue;
    const r = readFieldInput(site, field, project?.id, v);
    if ('error' in r) errors[k] = r.error;
    else out.set(k, r.value);
  }
}

/**
 * PUT /issue: edits fields, 204. Only the fields this emulator models (summary, description,
 * labels, custom fields); each change becomes a changelog item and the edit is sent as
 * `jira:issue_updated` (https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-issueidorkey-put).
 */
function editIssue(site: JiraSite, req: EmuRequest): EmuResponse {
  return site.withIssue(req, (issue) => {
    if (!site.can('EDIT_ISSUES')) return jiraError(403, ['You do not have permission to edit this issue.']);
    const body = isObject(req.body) ? req.body : {};
    const f = isObject(body['fields']) ? body['fields'] : {};
    const errors: Record<string, string> = {};
    const project = site.projects.get(issue.projectKey);
    const custom = new Map<string, unknown>();
    readCustomFields(site, project, f, custom, errors);
    for (const k of Object.keys(f)) {
      if (!site.customFields.has(k) && !['summary', 'description', 'labels'].includes(k)) errors[k] = `Field '${k}' cannot be set. It is not on the appropriate screen, or unknown.`;
    }
    if (f['summary'] !== undefined && (typeof f['summary'] !== 'string' || f['summary'].trim() === '')) errors['summary'] = 'You must specify a summary of the issue.';
    if (f['description'] !== undefined && f['description'] !== null && adfProblem(f['description']) !== undefined) errors['description'] = NOT_ADF;
    if (Object.keys(errors).length > 0) return jiraError(400, [], errors);
    const items: ChangelogItem[] = [];
    const text = (field: string, from: string | null, to: string | null) => items.push({ field, fieldtype: 'jira', fieldId: field, from: null, fromString: from, to: null, toString: to });
    if (typeof f['summary'] === 'string' && f['summary'] !== issue.summary) {
      text('summary', issue.summary, f['summary']);
      issue.summary = f['summary'];
    }
    if (f['description'] !== undefined && JSON.stringify(f['description']) !== JSON.stringify(issue.description)) {
      text('description', issue.description === null ? null : flatten(issue.description), f['description'] === null ? null : flatten(f['description']));
      issue.description = f['description'];
    }
    for (const [id, value] of custom) {
      const field = site.customFields.get(id)!;
      const before = fieldChangeText(site, field, issue.fields.get(id));
      const after = fieldChangeText(site, field, value);
      if (before.id === after.id && before.text === after.text) continue;
      items.push({ field: field.name, fieldtype: 'custom', fieldId: id, from: before.id, fromString: before.text, to: after.id, toString: after.text });
      issue.fields.set(id, value);
    }
    site.changed(issue, site.caller(req), items);
    return { status: 204 };
  });
}

function getProject(site: JiraSite, req: EmuRequest): EmuResponse {
  const key = req.params['projectIdOrKey'] ?? '';
  const p = site.findProject(key);
  // "No project could be found with key 'X'." is the 404 text clients report for a missing project.
  if (!p || !site.can('BROWSE_PROJECTS')) return jiraError(404, [`No project could be found with key '${key}'.`]);
  return { body: projectJson(site, p) };
}

function getCreateMetaIssueTypes(site: JiraSite, req: EmuRequest): EmuResponse {
  const key = req.params['projectIdOrKey'] ?? '';
  const p = site.findProject(key);
  if (!p) return jiraError(404, [`No project could be found with key '${key}'.`]);
  const startAt = Math.max(0, intParam(req.query, 'startAt', 0));
  const maxResults = Math.min(200, Math.max(1, intParam(req.query, 'maxResults', 50)));
  const types = site.can('CREATE_ISSUES') ? p.issueTypes : [];
  return { body: { maxResults, startAt, total: types.length, issueTypes: types.slice(startAt, startAt + maxResults).map((t) => issueTypeJson(site, t)) } };
}

/** GET /mypermissions: `permissions` is required on Cloud (400 without it). */
function getMyPermissions(site: JiraSite, req: EmuRequest): EmuResponse {
  const keys = multiParam(req.query, 'permissions');
  if (keys.length === 0) return jiraError(400, ['The permissions query parameter is required.']);
  const unknown = keys.filter((k) => !(k in PERMISSION_TYPES));
  if (unknown.length > 0) return jiraError(400, [`Unrecognized permission keys: ${unknown.join(', ')}`]);
  const projectKey = req.query.get('projectKey') ?? req.query.get('projectId');
  if (projectKey && !site.findProject(projectKey)) return jiraError(404, [`No project could be found with key '${projectKey}'.`]);
  const permissions: Json = {};
  for (const k of keys) {
    permissions[k] = {
      id: String(Object.keys(PERMISSION_TYPES).indexOf(k) + 10),
      key: k,
      name: k.toLowerCase().replace(/(^|_)(\w)/g, (_m, sep: string, ch: string) => (sep ? ' ' : '') + ch.toUpperCase()),
      type: PERMISSION_TYPES[k],
      description: `Emulated ${k}`,
      havePermission: site.can(k),
    };
  }
  return { body: { permissions } };
}

function createIssue(site: JiraSite, req: EmuRequest): EmuResponse {
  const body = isObject(req.body) ? req.body : {};
  const f = isObject(body['fields']) ? body['fields'] : {};
  const errors: Record<string, string> = {};

  // Messages as Jira Cloud words them (seen in public clients and integration tests):
  // "Specify a valid project ID or key", "Specify an issue type" / "Specify a valid issue type",
  // "You must specify a summary of the issue.", "Summary must be less than 255 characters.",
  // "The label 'x y' contains spaces which is invalid.",
  // "Field 'x' cannot be set. It is not on the appropriate screen, or unknown."
  const pRef = isObject(f['project']) ? f['project'] : {};
  const project = typeof pRef['key'] === 'string' ? site.findProject(pRef['key']) : pRef['id'] !== undefined ? site.findProject(String(pRef['id'])) : undefined;
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

  const custom = new Map<string, unknown>();
  readCustomFields(site, project, f, custom, errors);
  let reporter = site.caller(req);
  if (f['reporter'] !== undefined) {
    const id = isObject(f['reporter']) ? (f['reporter']['accountId'] ?? f['reporter']['id']) : undefined;
    const u = typeof id === 'string' ? site.directory.users.get(id) : undefined;
    if (u) reporter = u;
    else errors['reporter'] = 'Specified user does not exist or you do not have required permissions';
  }
  for (const k of Object.keys(f)) {
    if (!['project', 'issuetype', 'summary', 'description', 'labels', 'reporter'].includes(k) && !site.customFields.has(k)) errors[k] = `Field '${k}' cannot be set. It is not on the appropriate screen, or unknown.`;
  }
  if (Object.keys(errors).length > 0) return jiraError(400, [], errors);
  if (!site.can('CREATE_ISSUES')) return jiraError(403, ['You do not have permission to create issues in this project.']);

  const properties = new Map<string, unknown>();
  for (const prop of Array.isArray(body['properties']) ? (body['properties'] as unknown[]) : []) {
    if (isObject(prop) && typeof prop['key'] === 'string') properties.set(prop['key'], prop['value']);
  }
  const issue = newIssue(site, {
    project: project as EmuProject,
    type: type as EmuIssueType,
    summary: summary as string,
    description: f['description'] ?? null,
    labels,
    reporter,
    creator: site.caller(req),
    fields: custom,
    properties,
  });
  return { status: 201, body: { id: issue.id, key: issue.key, self: `${site.url}/rest/api/3/issue/${issue.id}` } };
}

function getIssue(site: JiraSite, req: EmuRequest): EmuResponse {
  return site.withIssue(req, (issue) => {
    const fields = req.query.has('fields') ? multiParam(req.query, 'fields') : undefined;
    const out = issueJson(site, issue, fields);
    if (multiParam(req.query, 'expand').includes('transitions')) out['transitions'] = transitionsJson(site, issue);
    if (multiParam(req.query, 'expand').includes('changelog')) out['changelog'] = changelogJson(site, issue);
    const props = multiParam(req.query, 'properties');
    if (props.length > 0) out['properties'] = Object.fromEntries(props.filter((k) => issue.properties.has(k)).map((k) => [k, issue.properties.get(k)]));
    return { body: out };
  });
}

function addComment(site: JiraSite, req: EmuRequest): EmuResponse {
  return site.withIssue(req, (issue) => {
    const body = isObject(req.body) ? req.body : {};
    if (body['body'] === undefined) return jiraError(400, [], { comment: 'Comment body can not be empty!' });
    const problem = adfProblem(body['body']);
    if (problem === 'invalid') return jiraError(400, ['INVALID_INPUT']);
    if (problem === 'not-doc') return jiraError(400, [], { comment: NOT_ADF });
    if (JSON.stringify(body['body']).length > TEXT_LIMIT) return jiraError(400, [], { comment: TOO_LONG });
    // Wording from Jira Server/DC; the Cloud text for a missing Add comments permission is not confirmed.
    if (!site.can('ADD_COMMENTS')) return jiraError(403, ['You do not have the permission to comment on this issue.']);
    const properties = new Map<string, unknown>();
    for (const p of Array.isArray(body['properties']) ? (body['properties'] as unknown[]) : []) {
      if (!isObject(p) || typeof p['key'] !== 'string' || p['key'].length === 0 || p['key'].length > 255) return jiraError(400, ['The property key must be between 1 and 255 characters long.']);
      properties.set(p['key'], p['value']);
    }
    const now = new Date();
    const author = site.caller(req);
    const c: EmuComment = { id: String(site.nextCommentId++), body: body['body'], authorId: author.accountId, created: now, updated: now, properties };
    issue.comments.push(c);
    site.touch(issue);
    site.emit('jira:issue_updated', issue, author, { issue_event_type_name: 'issue_commented' });
    return { status: 201, body: commentJson(site, issue, c, multiParam(req.query, 'expand')) };
  });
}

/**
 * GET comments: `startAt` (0), `maxResults` (default and cap 100 here; the v3 reference gives a
 * default of 100 — not confirmed whether Cloud caps lower or higher), `orderBy` created,
 * -created or +created, `expand` renderedBody and/or properties.
 */
function getComments(site: JiraSite, req: EmuRequest): EmuResponse {
  return site.withIssue(req, (issue) => {
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
        comments: list.slice(startAt, startAt + maxResults).map((c) => commentJson(site, issue, c, expand)),
      },
    };
  });
}

function commentProperty(site: JiraSite, req: EmuRequest, method: 'GET' | 'PUT' | 'DELETE'): EmuResponse {
  const id = req.params['commentId'] ?? '';
  const key = req.params['propertyKey'] ?? '';
  const comment = [...site.issues.values()].flatMap((i) => i.comments).find((c) => c.id === id);
  if (!comment) return jiraError(404, ['Comment does not exist or you do not have permission to see it.']);
  return entityProperty(comment.properties, key, method, req.body);
}

/** PUT answers 201 when the property is new and 200 when it is replaced (API reference). */
function entityProperty(props: Map<string, unknown>, key: string, method: 'GET' | 'PUT' | 'DELETE', value: unknown): EmuResponse {
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

function issuePropertyKeys(site: JiraSite, req: EmuRequest): EmuResponse {
  return site.withIssue(req, (issue) => ({
    body: { keys: [...issue.properties.keys()].map((key) => ({ self: `${site.url}/rest/api/3/issue/${issue.id}/properties/${encodeURIComponent(key)}`, key })) },
  }));
}

function getIssueProperty(site: JiraSite, req: EmuRequest): EmuResponse {
  return site.withIssue(req, (issue) => entityProperty(issue.properties, req.params['propertyKey'] ?? '', 'GET', undefined));
}

function setIssueProperty(site: JiraSite, req: EmuRequest): EmuResponse {
  return site.withIssue(req, (issue) => {
    if (!site.can('EDIT_ISSUES')) return jiraError(403, ['You do not have permission to edit this issue.']);
    // A body that is not JSON (base.ts hands it back as a string) is what Jira refuses as bad JSON.
    const ct = String(req.headers['content-type'] ?? '');
    if (!ct.includes('application/json')) return { status: 415, body: 'Unsupported Media Type' };
    return entityProperty(issue.properties, req.params['propertyKey'] ?? '', 'PUT', req.rawBody === '' ? undefined : req.body);
  });
}

function deleteIssueProperty(site: JiraSite, req: EmuRequest): EmuResponse {
  return site.withIssue(req, (issue) => {
    if (!site.can('EDIT_ISSUES')) return jiraError(403, ['You do not have permission to edit this issue.']);
    return entityProperty(issue.properties, req.params['propertyKey'] ?? '', 'DELETE', undefined);
  });
}
