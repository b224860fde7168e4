/**
 * A Jira Service Management desk on the Jira emulator, set up as README's "Requests raised in
 * Jira" asks: the project is a service desk with three request types (access, removal, change),
 * single-select fields for the application, role and duration (and the role left), a user picker
 * for whose access, and the catalog's `jira.intake` naming them. `raise` plays the portal (or an
 * agent raising on someone's behalf): a real `POST /rest/servicedeskapi/request`, as that person.
 *
 * Shared by the intake tests, the chaos world and the demo-like setups: one place knows the ids.
 */
import type { EmuRequestType, EmuServiceDesk, EmuUser, JiraEmulator } from '../emulators/jira.js';
import type { JiraSpec, Person } from './fixtures.js';

export const INTAKE_FIELDS = {
  application: 'customfield_10050',
  role: 'customfield_10051',
  duration: 'customfield_10052',
  fromRole: 'customfield_10053',
  subject: 'customfield_10054',
} as const;

export const REQUEST_TYPES = {
  access: 'Request Application Access',
  removal: 'Request Access Removal',
  change: 'Request Access Change',
} as const;

/** The catalog's `jira.intake`, for `catalogYaml({ jira: { intake } })`. */
export const INTAKE: NonNullable<JiraSpec['intake']> = {
  requestTypes: { [REQUEST_TYPES.access]: 'access', [REQUEST_TYPES.removal]: 'removal', [REQUEST_TYPES.change]: 'change' },
  fields: { ...INTAKE_FIELDS },
};

export interface RaiseInput {
  app?: string;
  role?: string;
  duration?: string;
  summary?: string;
  description?: string;
  /** An agent raising it for this person (JSM `raiseOnBehalfOf`): they become the reporter. */
  onBehalfOf?: Person;
  type?: keyof typeof REQUEST_TYPES;
  /** A change: the role being left. */
  fromRole?: string;
  /** A removal: whose access (a user picker). */
  subject?: Person;
}

export class JsmDesk {
  private constructor(
    private readonly jira: JiraEmulator,
    readonly desk: EmuServiceDesk,
    readonly types: Record<keyof typeof REQUEST_TYPES, EmuRequestType>,
  ) {}

  /**
   * Sets up the desk in project `projectKey` (the people as Atlassian accounts, by their
   * `atlassianId`), with the fields' options given (what `access-bot jira sync-fields` would write).
   */
  static setUp(jira: JiraEmulator, o: { people: Person[]; applications: string[]; roles: string[]; durations: string[]; projectKey?: string }): JsmDesk {
    for (const p of o.people) {
      if (!jira.directory.userByEmail(p.email)) jira.directory.addUser({ email: p.email, displayName: p.name, ...(p.atlassianId ? { accountId: p.atlassianId } : {}) });
    }
    const f = INTAKE_FIELDS;
    jira.addField({ id: f.application, name: 'Application', type: 'select', options: o.applications });
    jira.addField({ id: f.role, name: 'Access Type', type: 'select', options: o.roles });
    jira.addField({ id: f.duration, name: 'Duration', type: 'select', options: o.durations });
    jira.addField({ id: f.fromRole, name: 'Current Access Type', type: 'select', options: o.roles });
    jira.addField({ id: f.subject, name: 'Whose access', type: 'userpicker' });
    const desk = jira.addServiceDesk(o.projectKey ?? 'ACC');
    const types = {
      access: jira.addRequestType(desk, { name: REQUEST_TYPES.access, fieldIds: [f.application, f.role, f.duration] }),
      removal: jira.addRequestType(desk, { name: REQUEST_TYPES.removal, fieldIds: [f.application, f.role, f.subject] }),
      change: jira.addRequestType(desk, { name: REQUEST_TYPES.change, fieldIds: [f.application, f.fromRole, f.role, f.duration] }),
    };
    return new JsmDesk(jira, desk, types);
  }

  user(p: Person): EmuUser {
    const u = this.jira.directory.userByEmail(p.email);
    if (!u) throw new Error(`no Atlassian account for ${p.email}`);
    return u;
  }

  /** Raises a request through the portal API as `by`; resolves with the issue. */
  async raise(by: Person, input: RaiseInput = {}): Promise<{ issueKey: string; issueId: string }> {
    const f = INTAKE_FIELDS;
    const values: Record<string, unknown> = {
      summary: input.summary ?? `Access to ${input.app ?? 'an application'}`,
      description: input.description ?? 'Investigating a login issue for a customer',
    };
    if (input.app !== undefined) values[f.application] = { value: input.app };
    if (input.role !== undefined) values[f.role] = { value: input.role };
    if (input.duration !== undefined) values[f.duration] = { value: input.duration };
    if (input.fromRole !== undefined) values[f.fromRole] = { value: input.fromRole };
    if (input.subject !== undefined) values[f.subject] = { accountId: this.user(input.subject).accountId };
    const body: Record<string, unknown> = { serviceDeskId: this.desk.id, requestTypeId: this.types[input.type ?? 'access'].id, requestFieldValues: values };
    if (input.onBehalfOf) body.raiseOnBehalfOf = this.user(input.onBehalfOf).accountId;
    const res = await fetch(`${this.jira.url}/rest/servicedeskapi/request`, {
      method: 'POST',
      headers: { authorization: this.jira.authAs(this.user(by)), 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
    });
    const out = (await res.json()) as { issueKey?: string; issueId?: string; errorMessage?: string };
    if (res.status !== 201 || !out.issueKey || !out.issueId) throw new Error(`raising a request failed: ${res.status} ${JSON.stringify(out)}`);
    return { issueKey: out.issueKey, issueId: out.issueId };
  }

  /** Edits the issue's fields as `by` would in Jira (`PUT /rest/api/3/issue/{key}`); select values by name. */
  async edit(by: Person, issueKey: string, fields: { app?: string; role?: string; duration?: string | null }): Promise<void> {
    const f = INTAKE_FIELDS;
    const values: Record<string, unknown> = {};
    if (fields.app !== undefined) values[f.application] = { value: fields.app };
    if (fields.role !== undefined) values[f.role] = { value: fields.role };
    if (fields.duration !== undefined) values[f.duration] = fields.duration === null ? null : { value: fields.duration };
    const res = await fetch(`${this.jira.url}/rest/api/3/issue/${issueKey}`, {
      method: 'PUT',
      headers: { authorization: this.jira.authAs(this.user(by)), 'content-type': 'application/json' },
      body: JSON.stringify({ fields: values }),
    });
    if (res.status !== 204) throw new Error(`editing ${issueKey} failed: ${res.status} ${await res.text()}`);
  }
}
