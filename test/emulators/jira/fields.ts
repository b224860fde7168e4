/**
 * Custom fields of the emulated site: the field list, a field's contexts (which projects a
 * configuration applies to) and a select field's options per context, with the routes Jira Cloud
 * serves for them, and how a field's value is read from a create or edit and written back into an
 * issue's JSON.
 *
 * Wire formats from the REST API v3 reference:
 * - `GET /rest/api/3/field`: a plain array of `{id, key, name, custom, orderable, navigable,
 *   searchable, clauseNames, schema: {type, custom, customId}}`
 *   (https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-fields/#api-rest-api-3-field-get);
 *   a JSM "Request Type" field has `schema.custom` `com.atlassian.servicedesk:vp-origin` and type
 *   `sd-customerrequesttype` (as field lists published in public client tests show it).
 * - `GET /rest/api/3/field/{fieldId}/context` and `…/context/projectmapping`: pages
 *   `{maxResults, startAt, total, isLast, values}` of `{id, name, description, isGlobalContext,
 *   isAnyIssueType}` and `{contextId, projectId?, isGlobalContext}`
 *   (https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-custom-field-contexts/).
 * - `GET/POST/PUT /rest/api/3/field/{fieldId}/context/{contextId}/option`: a page of
 *   `{id, value, disabled}` (default 100 a page); `{options: [{value, disabled?}]}` creates and
 *   `{options: [{id, value?, disabled?}]}` updates, both answering `{options: [...]}`, at most
 *   1000 a request; writing needs the Administer Jira global permission
 *   (https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-custom-field-options/).
 * Error texts not quoted from a source are this emulator's own wording (Jira's error body shape).
 */
import type { EmuRequest, EmuResponse } from '../base.js';
import type { EmuIssue, JiraSite } from './site.js';
import { intParam, isObject, jiraError, type Json, type SiteRoute } from './wire.js';

export type EmuFieldType = 'select' | 'multiselect' | 'userpicker' | 'textfield' | 'requesttype';

export interface EmuFieldOption {
  id: string;
  value: string;
  disabled: boolean;
}

export interface EmuFieldContext {
  id: string;
  name: string;
  /** Project ids it applies to; empty: global. */
  projectIds: string[];
  options: EmuFieldOption[];
}

export interface EmuField {
  id: string;
  name: string;
  type: EmuFieldType;
  contexts: EmuFieldContext[];
}

const CUSTOM_TYPES: Record<EmuFieldType, { type: string; custom: string; items?: string }> = {
  select: { type: 'option', custom: 'com.atlassian.jira.plugin.system.customfieldtypes:select' },
  multiselect: { type: 'array', items: 'option', custom: 'com.atlassian.jira.plugin.system.customfieldtypes:multiselect' },
  userpicker: { type: 'user', custom: 'com.atlassian.jira.plugin.system.customfieldtypes:userpicker' },
  textfield: { type: 'string', custom: 'com.atlassian.jira.plugin.system.customfieldtypes:textfield' },
  requesttype: { type: 'sd-customerrequesttype', custom: 'com.atlassian.servicedesk:vp-origin' },
};

/** The system fields listed before the custom ones (a subset of Jira's). */
const SYSTEM_FIELDS: [string, string, string][] = [
  ['summary', 'Summary', 'string'],
  ['description', 'Description', 'string'],
  ['issuetype', 'Issue Type', 'issuetype'],
  ['project', 'Project', 'project'],
  ['reporter', 'Reporter', 'user'],
  ['labels', 'Labels', 'array'],
  ['status', 'Status', 'status'],
  ['created', 'Created', 'datetime'],
  ['updated', 'Updated', 'datetime'],
];

let nextFieldNumber = 10050;
let nextContextNumber = 10200;

/** Adds a custom field with one global context (select types get `options` there). */
export function addField(site: JiraSite, f: { id?: string; name: string; type: EmuFieldType; options?: string[] }): EmuField {
  const field: EmuField = { id: f.id ?? `customfield_${nextFieldNumber++}`, name: f.name, type: f.type, contexts: [] };
  field.contexts.push({ id: String(nextContextNumber++), name: `Default Configuration Scheme for ${f.name}`, projectIds: [], options: [] });
  for (const value of f.options ?? []) field.contexts[0]!.options.push({ id: String(site.nextOptionId++), value, disabled: false });
  site.customFields.set(field.id, field);
  return field;
}

/** The context of the field that applies to the project: its own, else the global one. */
export function contextFor(field: EmuField, projectId: string | undefined): EmuFieldContext | undefined {
  return field.contexts.find((c) => projectId !== undefined && c.projectIds.includes(projectId)) ?? field.contexts.find((c) => c.projectIds.length === 0);
}

export function mountFields(site: JiraSite, on: SiteRoute): void {
  const api = '/rest/api/3';
  on('GET', `${api}/field`, () => ({ body: fieldList(site) }));
  on('GET', `${api}/field/:fieldId/context`, (r) => withField(site, r, (f) => page(r, f.contexts.map(contextJson), 50)));
  on('GET', `${api}/field/:fieldId/context/projectmapping`, (r) =>
    withField(site, r, (f) => page(r, f.contexts.flatMap((c) => (c.projectIds.length === 0 ? [{ contextId: c.id, isGlobalContext: true }] : c.projectIds.map((p) => ({ contextId: c.id, projectId: p, isGlobalContext: false })))), 50)),
  );
  on('GET', `${api}/field/:fieldId/context/:contextId/option`, (r) => withContext(site, r, (_f, c) => page(r, c.options.map((o) => ({ ...o })), 100)));
  on('POST', `${api}/field/:fieldId/context/:contextId/option`, (r) => withContext(site, r, (_f, c) => createOptions(site, c, r)));
  on('PUT', `${api}/field/:fieldId/context/:contextId/option`, (r) => withContext(site, r, (_f, c) => updateOptions(c, r)));
}

function fieldList(site: JiraSite): Json[] {
  const system = SYSTEM_FIELDS.map(([id, name, type]) => ({ id, key: id, name, custom: false, orderable: true, navigable: true, searchable: true, clauseNames: [id], schema: { type, system: id } }));
  const custom = [...site.customFields.values()].map((f) => {
    const n = Number(f.id.replace('customfield_', ''));
    const t = CUSTOM_TYPES[f.type];
    return {
      id: f.id,
      key: f.id,
      name: f.name,
      custom: true,
      orderable: true,
      navigable: true,
      searchable: true,
      clauseNames: [`cf[${n}]`, f.name],
      schema: { type: t.type, ...(t.items ? { items: t.items } : {}), custom: t.custom, customId: n },
    };
  });
  return [...system, ...custom];
}

function contextJson(c: EmuFieldContext): Json {
  return { id: c.id, name: c.name, description: '', isGlobalContext: c.projectIds.length === 0, isAnyIssueType: true };
}

function page(req: EmuRequest, all: Json[], defaultMax: number): EmuResponse {
  const startAt = Math.max(0, intParam(req.query, 'startAt', 0));
  const maxResults = Math.min(1000, Math.max(1, intParam(req.query, 'maxResults', defaultMax)));
  const values = all.slice(startAt, startAt + maxResults);
  return { body: { maxResults, startAt, total: all.length, isLast: startAt + values.length >= all.length, values } };
}

function withField(site: JiraSite, req: EmuRequest, fn: (f: EmuField) => EmuResponse): EmuResponse {
  const f = site.customFields.get(req.params['fieldId'] ?? '');
  if (!f) return jiraError(404, ['The custom field was not found.']);
  return fn(f);
}

function withContext(site: JiraSite, req: EmuRequest, fn: (f: EmuField, c: EmuFieldContext) => EmuResponse): EmuResponse {
  return withField(site, req, (f) => {
    const c = f.contexts.find((x) => x.id === req.params['contextId']);
    if (!c) return jiraError(404, ['The context was not found.']);
    if (f.type !== 'select' && f.type !== 'multiselect') return jiraError(400, ["The custom field doesn't support options."]);
    if (req.method !== 'GET' && !site.can('ADMINISTER')) return jiraError(403, ['Only Jira administrators can access this resource.']);
    return fn(f, c);
  });
}

function optionList(req: EmuRequest): Json[] | EmuResponse {
  const body = isObject(req.body) ? req.body : {};
  const options = body['options'];
  if (!Array.isArray(options) || options.length === 0) return jiraError(400, ['At least one option must be provided.']);
  if (options.length > 1000) return jiraError(400, ['At most 1000 options can be created or updated in one request.']);
  if (!options.every(isObject)) return jiraError(400, ['Each option must be an object.']);
  return options as Json[];
}

function createOptions(site: JiraSite, c: EmuFieldContext, req: EmuRequest): EmuResponse {
  const list = optionList(req);
  if (!Array.isArray(list)) return list;
  const created: EmuFieldOption[] = [];
  for (const o of list) {
    const value = typeof o['value'] === 'string' ? o['value'].trim() : '';
    if (!value) return jiraError(400, ['The option value must not be empty.']);
    if (value.length > 255) return jiraError(400, ['The option value must be 255 characters or fewer.']);
    if ([...c.options, ...created].some((x) => x.value.toLowerCase() === value.toLowerCase())) return jiraError(400, [`The option '${value}' already exists.`]);
    created.push({ id: String(site.nextOptionId++), value, disabled: o['disabled'] === true });
  }
  c.options.push(...created);
  return { body: { options: created.map((o) => ({ ...o })) } };
}

function updateOptions(c: EmuFieldContext, req: EmuRequest): EmuResponse {
  const list = optionList(req);
  if (!Array.isArray(list)) return list;
  const changed: EmuFieldOption[] = [];
  for (const o of list) {
    const opt = c.options.find((x) => x.id === String(o['id'] ?? ''));
    if (!opt) return jiraError(400, [`The option with ID ${String(o['id'] ?? '')} was not found in the context.`]);
    const value = typeof o['value'] === 'string' ? o['value'].trim() : undefined;
    if (value !== undefined && c.options.some((x) => x !== opt && x.value.toLowerCase() === value.toLowerCase())) return jiraError(400, [`The option '${value}' already exists.`]);
    changed.push(opt);
  }
  for (const o of list) {
    const opt = c.options.find((x) => x.id === String(o['id']))!;
    if (typeof o['value'] === 'string') opt.value = o['value'].trim();
    if (typeof o['disabled'] === 'boolean') opt.disabled = o['disabled'];
  }
  return { body: { options: changed.map((o) => ({ ...o })) } };
}

// ----- values in issues ------------------------------------------------------------------------

/**
 * A custom field's value from a create or edit (`{value}` or `{id}` for a select, a list of
 * those for a multi-select, `{accountId}` (or JSM's `{id}`) for a user, a string for text),
 * stored as the site keeps it; or an error message. Messages: "Could not find valid 'id' or
 * 'value' in the Parent Option object." (Jira's answer to a select given a bare string, as seen in
 * AtlassianPS/JiraPS#56); "Option value 'x' is not valid" / "Option id 'x' is not valid" (as
 * clients report them; not confirmed against the reference).
 */
export function readFieldInput(site: JiraSite, field: EmuField, projectId: string | undefined, raw: unknown): { value: unknown } | { error: string } {
  if (raw === null) return { value: null };
  const ctx = contextFor(field, projectId);
  const option = (o: unknown): EmuFieldOption | string => {
    if (!isObject(o)) return "Could not find valid 'id' or 'value' in the Parent Option object.";
    const enabled = (ctx?.options ?? []).filter((x) => !x.disabled);
    if (o['id'] !== undefined) return enabled.find((x) => x.id === String(o['id'])) ?? `Option id '${String(o['id'])}' is not valid`;
    if (typeof o['value'] === 'string') return enabled.find((x) => x.value === o['value']) ?? `Option value '${o['value']}' is not valid`;
    return "Could not find valid 'id' or 'value' in the Parent Option object.";
  };
  switch (field.type) {
    case 'select': {
      const o = option(raw);
      return typeof o === 'string' ? { error: o } : { value: o.id };
    }
    case 'multiselect': {
      if (!Array.isArray(raw)) return { error: 'Operation value must be an array' };
      const ids: string[] = [];
      for (const x of raw as unknown[]) {
        const o = option(x);
        if (typeof o === 'string') return { error: o };
        ids.push(o.id);
      }
      return { value: ids };
    }
    case 'userpicker': {
      const id = isObject(raw) ? (raw['accountId'] ?? raw['id']) : undefined;
      if (typeof id !== 'string' || !site.directory.users.has(id)) return { error: `Specified user does not exist or you do not have required permissions` };
      return { value: id };
    }
    case 'textfield':
      return typeof raw === 'string' ? { value: raw } : { error: 'Operation value must be a string' };
    case 'requesttype':
      return { error: `Field '${field.id}' cannot be set. It is not on the appropriate screen, or unknown.` };
  }
}

/** A stored value as an issue's JSON shows it (`self` links as Jira writes them). */
export function fieldJson(site: JiraSite, field: EmuField, issue: EmuIssue): unknown {
  const v = issue.fields.get(field.id);
  if (v === undefined || v === null) return null;
  const optionJson = (id: string): Json => {
    const o = field.contexts.flatMap((c) => c.options).find((x) => x.id === id);
    return { self: `${site.url}/rest/api/3/customFieldOption/${id}`, value: o?.value ?? '', id };
  };
  switch (field.type) {
    case 'select':
      return optionJson(String(v));
    case 'multiselect':
      return (v as string[]).map(optionJson);
    case 'userpicker': {
      const u = site.directory.users.get(String(v));
      return u ? site.directory.userJson(u) : null;
    }
    case 'textfield':
      return v;
    case 'requesttype':
      return requestTypeValue(site, String(v), issue);
  }
}

/** The JSM "Request Type" field's value: `{_links, requestType, currentStatus}`. */
function requestTypeValue(site: JiraSite, requestTypeId: string, issue: EmuIssue): Json | null {
  const rt = site.requestTypes.get(requestTypeId);
  if (!rt) return null;
  const desk = site.serviceDesks.get(rt.serviceDeskId);
  return {
    _links: { jiraRest: `${site.url}/rest/api/2/issue/${issue.id}`, web: `${site.url}/servicedesk/customer/portal/${rt.serviceDeskId}/${issue.key}`, self: `${site.url}/rest/servicedeskapi/request/${issue.id}` },
    requestType: {
      _expands: ['field'],
      id: rt.id,
      _links: { self: `${site.url}/rest/servicedeskapi/servicedesk/${rt.serviceDeskId}/requesttype/${rt.id}` },
      name: rt.name,
      description: rt.description,
      helpText: '',
      issueTypeId: rt.issueTypeId,
      serviceDeskId: rt.serviceDeskId,
      portalId: desk?.id ?? rt.serviceDeskId,
      groupIds: [],
    },
    currentStatus: { status: issue.status, statusCategory: 'NEW', statusDate: { iso8601: issue.updated.toISOString(), epochMillis: issue.updated.getTime() } },
  };
}

/** A stored value as a changelog item's `to` / `toString`. */
export function fieldChangeText(site: JiraSite, field: EmuField, v: unknown): { id: string | null; text: string | null } {
  if (v === undefined || v === null) return { id: null, text: null };
  const options = field.contexts.flatMap((c) => c.options);
  switch (field.type) {
    case 'select':
      return { id: String(v), text: options.find((o) => o.id === v)?.value ?? null };
    case 'multiselect':
      return { id: (v as string[]).join(','), text: (v as string[]).map((id) => options.find((o) => o.id === id)?.value ?? id).join(',') };
    case 'userpicker':
      return { id: String(v), text: site.directory.users.get(String(v))?.displayName ?? String(v) };
    default:
      return { id: null, text: String(v) };
  }
}
