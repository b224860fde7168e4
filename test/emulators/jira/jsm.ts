/**
 * Jira Service Management on the emulated site: service desks (a desk is a project's portal),
 * their request types (each backed by an issue type, with the fields of its form), and raising a
 * request, which creates the issue with the request type in the site's "Request Type" field and
 * sends `jira:issue_created` like any create.
 *
 * Wire formats from the JSM Cloud REST API (https://developer.atlassian.com/cloud/jira/service-desk/rest/):
 * - pages are `{size, start, limit, isLastPage, values, _links}` with `start` / `limit`
 *   (…/rest/intro/#pagination);
 * - `GET /rest/servicedeskapi/servicedesk` lists `{id, projectId, projectName, projectKey, _links}`
 *   (…/api-group-servicedesk/);
 * - `GET /rest/servicedeskapi/servicedesk/{serviceDeskId}/requesttype` lists
 *   `{id, name, description, helpText, issueTypeId, serviceDeskId, portalId, groupIds, icon, _links}`;
 * - `POST /rest/servicedeskapi/request` takes `{serviceDeskId, requestTypeId, requestFieldValues,
 *   raiseOnBehalfOf?}`: `requestFieldValues` maps field ids to values in Jira's input formats (a
 *   select `{value}` or `{id}`, a user `{accountId}`), the description as text; `raiseOnBehalfOf`
 *   (an accountId) makes that customer the reporter (…/api-group-request/#api-rest-servicedeskapi-request-post).
 *   It answers 201 with the customer request `{issueId, issueKey, requestTypeId, serviceDeskId,
 *   createdDate, reporter, requestFieldValues, currentStatus, _links}`.
 * - errors are `{errorMessage, i18nErrorMessage: {i18nKey, parameters}}` (the shape JSM clients
 *   parse); a field not on the request type's form is refused as "not valid for this request
 *   type" (as reported by people importing into JSM); other message texts are this emulator's.
 */
import type { EmuRequest, EmuResponse } from '../base.js';
import { addField, readFieldInput } from './fields.js';
import { newIssue } from './issues.js';
import type { EmuProject, JiraSite } from './site.js';
import { intParam, isObject, jiraDate, type Json, type SiteRoute } from './wire.js';

export interface EmuServiceDesk {
  id: string;
  projectKey: string;
}

export interface EmuRequestType {
  id: string;
  serviceDeskId: string;
  name: string;
  description: string;
  issueTypeId: string;
  /** The fields on its form, besides summary and description. */
  fieldIds: string[];
}

/** The site's "Request Type" field (the id real sites most often give it). */
export const REQUEST_TYPE_FIELD = 'customfield_10010';
/** The issue type JSM request types are backed by here. */
export const SERVICE_REQUEST = 'Service Request';

let nextDeskId = 1;
let nextRequestTypeId = 10;

function jsmError(status: number, errorMessage: string, i18nKey: string): EmuResponse {
  return { status, body: { errorMessage, i18nErrorMessage: { i18nKey, parameters: [] } } };
}

/** Makes the project a service desk (adding its "Service Request" issue type and the site's "Request Type" field when missing). */
export function addServiceDesk(site: JiraSite, project: EmuProject): EmuServiceDesk {
  if (!project.issueTypes.some((t) => t.name === SERVICE_REQUEST)) {
    project.issueTypes.push({ id: String(10100 + project.issueTypes.length), name: SERVICE_REQUEST, subtask: false, hierarchyLevel: 0 });
  }
  if (!site.customFields.has(REQUEST_TYPE_FIELD)) addField(site, { id: REQUEST_TYPE_FIELD, name: 'Request Type', type: 'requesttype' });
  const desk: EmuServiceDesk = { id: String(nextDeskId++), projectKey: project.key };
  site.serviceDesks.set(desk.id, desk);
  return desk;
}

export function addRequestType(site: JiraSite, desk: EmuServiceDesk, rt: { name: string; description?: string; fieldIds?: string[] }): EmuRequestType {
  const project = site.projects.get(desk.projectKey)!;
  const type = project.issueTypes.find((t) => t.name === SERVICE_REQUEST)!;
  const out: EmuRequestType = { id: String(nextRequestTypeId++), serviceDeskId: desk.id, name: rt.name, description: rt.description ?? '', issueTypeId: type.id, fieldIds: rt.fieldIds ?? [] };
  site.requestTypes.set(out.id, out);
  return out;
}

export function mountServiceDesk(site: JiraSite, on: SiteRoute): void {
  const sd = '/rest/servicedeskapi';
  on('GET', `${sd}/servicedesk`, (r) => page(site, r, [...site.serviceDesks.values()].map((d) => deskJson(site, d))));
  on('GET', `${sd}/servicedesk/:serviceDeskId`, (r) => {
    const d = site.serviceDesks.get(r.params['serviceDeskId'] ?? '');
    return d ? { body: deskJson(site, d) } : jsmError(404, 'The service project you are trying to view does not exist.', 'sd.service.project.not.found');
  });
  on('GET', `${sd}/servicedesk/:serviceDeskId/requesttype`, (r) => {
    const d = site.serviceDesks.get(r.params['serviceDeskId'] ?? '');
    if (!d) return jsmError(404, 'The service project you are trying to view does not exist.', 'sd.service.project.not.found');
    return page(site, r, [...site.requestTypes.values()].filter((t) => t.serviceDeskId === d.id).map((t) => requestTypeJson(site, t)));
  });
  on('POST', `${sd}/request`, (r) => createRequest(site, r));
}

function deskJson(site: JiraSite, d: EmuServiceDesk): Json {
  const p = site.projects.get(d.projectKey);
  return { id: d.id, projectId: p?.id ?? '', projectName: p?.name ?? d.projectKey, projectKey: d.projectKey, _links: { self: `${site.url}/rest/servicedeskapi/servicedesk/${d.id}` } };
}

function requestTypeJson(site: JiraSite, t: EmuRequestType): Json {
  return {
    _expands: ['field', 'group'],
    id: t.id,
    _links: { self: `${site.url}/rest/servicedeskapi/servicedesk/${t.serviceDeskId}/requesttype/${t.id}` },
    name: t.name,
    description: t.description,
    helpText: '',
    issueTypeId: t.issueTypeId,
    serviceDeskId: t.serviceDeskId,
    portalId: t.serviceDeskId,
    groupIds: [],
    icon: { id: '10500', _links: { iconUrls: { '48x48': `${site.url}/images/request-type/10500/48` } } },
  };
}

function page(site: JiraSite, req: EmuRequest, all: Json[]): EmuResponse {
  const start = Math.max(0, intParam(req.query, 'start', 0));
  const limit = Math.min(100, Math.max(1, intParam(req.query, 'limit', 50)));
  const values = all.slice(start, start + limit);
  return { body: { size: values.length, start, limit, isLastPage: start + values.length >= all.length, values, _links: { base: site.url, context: '', self: `${site.url}${req.path}` } } };
}

/** Plain text (what a portal form sends) as the ADF document the site keeps. */
function textToAdf(text: string): Json {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  return { type: 'doc', version: 1, content: lines.map((l) => ({ type: 'paragraph', content: l ? [{ type: 'text', text: l }] : [] })) };
}

function createRequest(site: JiraSite, req: EmuRequest): EmuResponse {
  const body = isObject(req.body) ? req.body : {};
  const desk = site.serviceDesks.get(String(body['serviceDeskId'] ?? ''));
  if (!desk) return jsmError(404, 'The service project you are trying to view does not exist.', 'sd.service.project.not.found');
  const rt = site.requestTypes.get(String(body['requestTypeId'] ?? ''));
  if (!rt || rt.serviceDeskId !== desk.id) return jsmError(400, 'The request type you are trying to use does not exist.', 'sd.request.type.not.found');
  const project = site.projects.get(desk.projectKey)!;
  const type = project.issueTypes.find((t) => t.id === rt.issueTypeId)!;
  const values = isObject(body['requestFieldValues']) ? body['requestFieldValues'] : {};
  const summary = typeof values['summary'] === 'string' ? values['summary'].trim() : '';
  if (!summary) return jsmError(400, "Your request could not be created. Please check the fields have been correctly filled in. Please provide a valid value for field 'Summary'", 'sd.validation.request.creation.failed.required.field.missing');
  const fields = new Map<string, unknown>([[REQUEST_TYPE_FIELD, rt.id]]);
  for (const [id, v] of Object.entries(values)) {
    if (id === 'summary' || id === 'description') continue;
    const field = site.customFields.get(id);
    if (!field || !rt.fieldIds.includes(id)) return jsmError(400, `The field '${id}' is not valid for this request type.`, 'sd.validation.request.field.not.valid');
    const read = readFieldInput(site, field, project.id, v);
    if ('error' in read) return jsmError(400, `Your request could not be created. ${field.name}: ${read.error}`, 'sd.validation.request.field.invalid');
    fields.set(id, read.value);
  }
  const caller = site.caller(req);
  let reporter = caller;
  if (body['raiseOnBehalfOf'] !== undefined) {
    const u = site.directory.users.get(String(body['raiseOnBehalfOf']));
    if (!u) return jsmError(400, `The user '${String(body['raiseOnBehalfOf'])}' does not exist.`, 'sd.customer.not.found');
    reporter = u;
  }
  const description = typeof values['description'] === 'string' && values['description'] !== '' ? textToAdf(values['description']) : null;
  const issue = newIssue(site, { project, type, summary, description, reporter, creator: caller, fields });
  const created = issue.created;
  return {
    status: 201,
    body: {
      _expands: ['participant', 'status', 'sla', 'requestType', 'serviceDesk', 'attachment', 'action', 'comment'],
      issueId: issue.id,
      issueKey: issue.key,
      requestTypeId: rt.id,
      serviceDeskId: desk.id,
      createdDate: { iso8601: created.toISOString(), jira: jiraDate(created), friendly: 'Today', epochMillis: created.getTime() },
      reporter: { accountId: reporter.accountId, emailAddress: reporter.emailAddress, displayName: reporter.displayName, active: reporter.active, timeZone: reporter.timeZone },
      requestFieldValues: Object.entries(values).map(([fieldId, value]) => ({ fieldId, label: site.customFields.get(fieldId)?.name ?? fieldId, value })),
      currentStatus: { status: issue.status, statusCategory: 'NEW', statusDate: { iso8601: created.toISOString(), epochMillis: created.getTime() } },
      _links: { jiraRest: `${site.url}/rest/api/2/issue/${issue.id}`, web: `${site.url}/servicedesk/customer/portal/${desk.id}/${issue.key}`, self: `${site.url}/rest/servicedeskapi/request/${issue.id}` },
    },
  };
}
