/**
 * What `access-bot check` and `access-bot jira sync-fields` read and write of the site's intake
 * set-up (src/check/intake.ts, src/check/statuses.ts): the project's service desk and its request
 * types, the custom fields, the context of a field that applies to the project, a select field's
 * options, and the statuses of the project's workflows.
 *
 * Endpoints:
 * - JSM (https://developer.atlassian.com/cloud/jira/service-desk/rest/): `GET
 *   /rest/servicedeskapi/servicedesk` and `…/servicedesk/{id}/requesttype`, pages of
 *   `{values, start, limit, isLastPage}` (…/rest/intro/#pagination). A site without JSM answers
 *   404 there: the project's issue types are then what `jira.intake.requestTypes` names.
 * - `GET /rest/api/3/field` (…/platform/rest/v3/api-group-issue-fields/#api-rest-api-3-field-get).
 * - `GET /rest/api/3/field/{fieldId}/context`, `…/context/projectmapping`
 *   (…/api-group-issue-custom-field-contexts/), `GET/POST/PUT
 *   /rest/api/3/field/{fieldId}/context/{contextId}/option` (…/api-group-issue-custom-field-options/):
 *   pages of `{values, startAt, maxResults, isLast}`, at most 1000 options written a request;
 *   these need the Administer Jira global permission.
 * - `GET /rest/api/3/project/{key}` for the project's id, `GET
 *   /rest/api/3/issue/createmeta/{project}/issuetypes` for its issue types.
 * - `GET /rest/api/3/project/{key}/statuses`
 *   (…/platform/rest/v3/api-group-projects/#api-rest-api-3-project-projectidorkey-statuses-get):
 *   a bare array of `{self, id, name, subtask, statuses: [{self, description, iconUrl, name,
 *   untranslatedName, id, statusCategory}]}`, one per issue type, its statuses those of the
 *   type's workflow; needs Browse projects, and an unknown project is a 404 (`{"errorMessages":
 *   ["No project could be found with key 'X'."], "errors": {}}`).
 */
import type { PresentOption } from '../../domain/intake.js';
import { PermanentError } from '../../outbox/errors.js';
import type { JiraCloudRecord } from './record.js';

/** A custom field's type as intake needs it (`schema.custom`). */
export const FIELD_TYPES = {
  select: 'com.atlassian.jira.plugin.system.customfieldtypes:select',
  userpicker: 'com.atlassian.jira.plugin.system.customfieldtypes:userpicker',
} as const;

export interface SiteField {
  id: string;
  name: string;
  /** `schema.custom`; undefined for system fields. */
  custom?: string;
}

/** An issue type of a project and the statuses of its workflow, as the site spells them. */
export interface IssueTypeStatuses {
  id: string;
  name: string;
  subtask: boolean;
  statuses: string[];
}

/** A JSM request type and the issue type behind it. */
export interface SiteRequestType {
  name: string;
  issueTypeId?: string;
}

type Api = Pick<JiraCloudRecord, 'api'>;
const WRITE_CHUNK = 1000;
const seg = encodeURIComponent;

function obj(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function text(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined;
}

export class JiraIntakeSite {
  constructor(private readonly jira: Api) {}

  /**
   * The service desk of the project and its request types; undefined when the project has none
   * (no JSM on the site, or not a service project).
   */
  async requestTypes(projectKey: string): Promise<{ desk: string; types: SiteRequestType[] } | undefined> {
    let desks: Record<string, unknown>[];
    try {
      desks = await this.pages('rest/servicedeskapi/servicedesk', 'list service desks', 'jsm');
    } catch (err) {
      if (err instanceof PermanentError && err.code === 'jira_not_found') return undefined;
      throw err;
    }
    const desk = desks.find((d) => text(d['projectKey'])?.toUpperCase() === projectKey.toUpperCase());
    const id = text(desk?.['id']);
    if (!desk || !id) return undefined;
    const types = await this.pages(`rest/servicedeskapi/servicedesk/${seg(id)}/requesttype`, `list the request types of service desk ${id}`, 'jsm');
    return {
      desk: text(desk['projectName']) ?? projectKey,
      types: types.flatMap((t) => {
        const name = text(t['name']);
        const issueTypeId = text(t['issueTypeId']);
        return name === undefined ? [] : [{ name, ...(issueTypeId ? { issueTypeId } : {}) }];
      }),
    };
  }

  /** Each issue type of the project (sub-tasks too) with the statuses of its workflow. */
  async statuses(projectKey: string): Promise<IssueTypeStatuses[]> {
    const what = `list the statuses of ${projectKey}`;
    const list = await this.jira.api('GET', `rest/api/3/project/${seg(projectKey)}/statuses`, what);
    if (!Array.isArray(list)) throw new PermanentError(`Jira ${what}: the answer is not a list of issue types`, 'jira_bad_answer');
    return list.map(obj).flatMap((t) => {
      const id = text(t['id']);
      const name = text(t['name']);
      if (!id || !name) return [];
      const statuses = (Array.isArray(t['statuses']) ? t['statuses'].map(obj) : []).map((s) => text(s['name'])).filter((n): n is string => n !== undefined);
      return [{ id, name, subtask: t['subtask'] === true, statuses }];
    });
  }

  /** The project's issue types that can be created (not sub-tasks). */
  async issueTypes(projectKey: string): Promise<string[]> {
    const page = obj(await this.jira.api('GET', `rest/api/3/issue/createmeta/${seg(projectKey)}/issuetypes?maxResults=200`, `list the issue types of ${projectKey}`));
    const list = Array.isArray(page['issueTypes']) ? page['issueTypes'].map(obj) : [];
    return list.filter((t) => t['subtask'] !== true).map((t) => text(t['name'])).filter((n): n is string => n !== undefined);
  }

  async projectId(projectKey: string): Promise<string | undefined> {
    return text(obj(await this.jira.api('GET', `rest/api/3/project/${seg(projectKey)}`, `read project ${projectKey}`))['id']);
  }

  async fields(): Promise<SiteField[]> {
    const list = await this.jira.api('GET', 'rest/api/3/field', 'list the fields');
    return (Array.isArray(list) ? list.map(obj) : []).flatMap((f) => {
      const id = text(f['id']);
      if (!id) return [];
      const custom = text(obj(f['schema'])['custom']);
      return [{ id, name: text(f['name']) ?? id, ...(custom ? { custom } : {}) }];
    });
  }

  /** The field's context that applies to the project: the project's own, else the global one. */
  async contextFor(fieldId: string, projectId: string | undefined): Promise<{ id: string; name: string } | undefined> {
    const contexts = await this.pages(`rest/api/3/field/${seg(fieldId)}/context`, `list the contexts of ${fieldId}`);
    const mapping = await this.pages(`rest/api/3/field/${seg(fieldId)}/context/projectmapping`, `list the projects of ${fieldId}'s contexts`);
    const own = projectId === undefined ? undefined : mapping.find((m) => text(m['projectId']) === projectId);
    const global = mapping.find((m) => m['isGlobalContext'] === true) ?? contexts.find((c) => c['isGlobalContext'] === true);
    const id = text((own ?? global)?.['contextId']) ?? text((own ?? global)?.['id']);
    const ctx = contexts.find((c) => text(c['id']) === id);
    return id ? { id, name: text(ctx?.['name']) ?? `context ${id}` } : undefined;
  }

  async options(fieldId: string, contextId: string): Promise<PresentOption[]> {
    const values = await this.pages(`rest/api/3/field/${seg(fieldId)}/context/${seg(contextId)}/option`, `list the options of ${fieldId}`);
    return values.flatMap((o) => {
      const id = text(o['id']);
      const value = text(o['value']);
      // Cascading options (with optionId) are children of another option: not values of their own.
      return id && value !== undefined && o['optionId'] === undefined ? [{ id, value, disabled: o['disabled'] === true }] : [];
    });
  }

  async addOptions(fieldId: string, contextId: string, values: string[]): Promise<void> {
    for (let i = 0; i < values.length; i += WRITE_CHUNK) {
      const options = values.slice(i, i + WRITE_CHUNK).map((value) => ({ value, disabled: false }));
      await this.jira.api('POST', `rest/api/3/field/${seg(fieldId)}/context/${seg(contextId)}/option`, `add options to ${fieldId}`, { options });
    }
  }

  async setDisabled(fieldId: string, contextId: string, changes: { id: string; disabled: boolean }[]): Promise<void> {
    for (let i = 0; i < changes.length; i += WRITE_CHUNK) {
      await this.jira.api('PUT', `rest/api/3/field/${seg(fieldId)}/context/${seg(contextId)}/option`, `update options of ${fieldId}`, { options: changes.slice(i, i + WRITE_CHUNK) });
    }
  }

  /**
   * Every value of a paged list: the platform's (`startAt`, `maxResults`, `isLast`) or JSM's
   * (`start`, `limit`, `isLastPage`).
   */
  private async pages(path: string, what: string, style: 'platform' | 'jsm' = 'platform'): Promise<Record<string, unknown>[]> {
    const [from, size, last] = style === 'jsm' ? ['start', 'limit=50', 'isLastPage'] : ['startAt', 'maxResults=100', 'isLast'];
    const out: Record<string, unknown>[] = [];
    for (;;) {
      const page = obj(await this.jira.api('GET', `${path}?${from}=${out.length}&${size}`, what));
      const values = Array.isArray(page['values']) ? page['values'].map(obj) : [];
      out.push(...values);
      if (page[last] !== false || values.length === 0) return out;
    }
  }
}
