/**
 * The fixtures the tests, the chaos runs, the bench and the demo share, built in one place:
 * people (one identity across Slack, Okta and the other IdPs), the credentials the bot and the
 * emulators agree on, the bot's environment for the emulators, and catalogs written as YAML from a
 * small typed description.
 *
 * bench/ and demo/ import this too; none of it enters the production build (tsconfig.build.json
 * compiles src/ only).
 */
import type { JiraEmulator } from '../emulators/jira.js';
import type { OktaEmulator } from '../emulators/okta.js';
import type { SlackEmulator } from '../emulators/slack.js';

// ----- people ------------------------------------------------------------------------------------

export interface Person {
  slackId: string;
  email: string;
  name: string;
  oktaId: string;
  /** Entra object id, when the harness starts the Graph emulator. */
  entraId?: string;
  /** Atlassian accountId, when the harness turns on the `atlassian` connector. */
  atlassianId?: string;
}

export interface PersonOptions {
  /** Email domain; default `example.com`. */
  domain?: string;
  /** What the Okta id puts before the handle; default `00u1`. */
  oktaPrefix?: string;
  /** Ids that do not follow from the handle. */
  slackId?: string;
  oktaId?: string;
  /** Entra object id; the Atlassian accountId is `712020:<entraId>`. */
  entraId?: string;
}

/**
 * A person from a handle and a name: Slack id `U0<HANDLE>`, email `<handle>@example.com`, Okta id
 * `00u1<handle>`, each overridable.
 */
export function person(handle: string, name: string, o: PersonOptions & { entraId: string }): Required<Person>;
export function person(handle: string, name: string, o?: PersonOptions): Person;
export function person(handle: string, name: string, o: PersonOptions = {}): Person {
  return {
    slackId: o.slackId ?? `U0${handle.toUpperCase()}`,
    email: `${handle}@${o.domain ?? 'example.com'}`,
    name,
    oktaId: o.oktaId ?? `${o.oktaPrefix ?? '00u1'}${handle}`,
    ...(o.entraId ? { entraId: o.entraId, atlassianId: `712020:${o.entraId}` } : {}),
  };
}

/** The four people of the tests, the chaos runs and the demo. */
export const PEOPLE = {
  alice: person('alice', 'Alice Smith', { entraId: 'a11ce000-0000-4000-8000-00000000000a' }),
  bob: person('bob', 'Bob Jones', { entraId: 'b0b00000-0000-4000-8000-00000000000b' }),
  carol: person('carol', 'Carol White', { entraId: 'ca201000-0000-4000-8000-00000000000c' }),
  dave: person('dave', 'Dave Brown', { entraId: 'da7e0000-0000-4000-8000-00000000000d' }),
} satisfies Record<string, Required<Person>>;

/** A name as IdPs split it (Okta, Google); a one-word name gets a placeholder last name. */
export function nameParts(name: string): { firstName: string; lastName: string } {
  const [first, ...rest] = name.split(' ');
  return { firstName: first || name, lastName: rest.join(' ') || 'Person' };
}

/** Makes the person a Slack user and an Okta user under the same email (`managerId`: Okta's `profile.managerId`). */
export function addPerson(to: { slack: SlackEmulator; okta: OktaEmulator }, p: Person & { managerId?: string }): void {
  to.slack.addUser({ id: p.slackId, email: p.email, realName: p.name });
  to.okta.addUser({ id: p.oktaId, login: p.email, email: p.email, ...nameParts(p.name), ...(p.managerId ? { managerId: p.managerId } : {}) });
}

/** The channel the bot posts its admin alerts to (ADMIN_CHANNEL). */
export const ADMIN_CHANNEL = { id: 'C0ADMIN', name: 'access-admins' };

/** People in Slack and Okta, the Okta groups the catalog grants, and the admin channel. */
export function seedWorld(to: { slack: SlackEmulator; okta: OktaEmulator }, o: { people: Iterable<Person & { managerId?: string }>; groups: Iterable<{ id: string; name: string }> }): void {
  for (const p of o.people) addPerson(to, p);
  for (const g of o.groups) to.okta.addGroup({ id: g.id, name: g.name });
  to.slack.addChannel({ ...ADMIN_CHANNEL, botIsMember: true });
}

// ----- credentials and the bot's environment -----------------------------------------------------

export interface Credentials {
  botToken: string;
  signingSecret: string;
  /** The Jira account's email (the Jira emulator's default) and API token. */
  jiraEmail: string;
  jiraToken: string;
  oktaToken: string;
}

/** Credentials named after who uses them (`test`, `bench`), so a leaked one says where it came from. */
export function credentials(label: string): Credentials {
  return {
    botToken: `xoxb-${label}-bot-token-1234567890`,
    signingSecret: `${label}-signing-secret-8f3a2b`,
    jiraEmail: 'access-bot@example.com',
    jiraToken: `jira-${label}-api-token-22cc33dd`,
    oktaToken: `okta-${label}-api-token-00aa11bb`,
  };
}

/** The credentials of the tests, the chaos runs and the demo. */
export const TEST_CREDENTIALS = credentials('test');

/** Every secret value in the credentials, for grepping logs and for the logger's redaction. */
export function secretValues(c: Credentials): string[] {
  return [c.botToken, c.signingSecret, c.oktaToken, c.jiraToken];
}

/**
 * The bot's environment for the emulators with these credentials: Slack, Jira, Okta when given,
 * and the admin channel. The caller adds the port, database, catalog and log level.
 */
export function emulatorEnv(c: Credentials, e: { slack: SlackEmulator; jira: JiraEmulator; okta?: OktaEmulator }): Record<string, string> {
  return {
    SLACK_BOT_TOKEN: c.botToken,
    SLACK_SIGNING_SECRET: c.signingSecret,
    SLACK_API_URL: `${e.slack.url}/api/`,
    JIRA_HOST: e.jira.url,
    JIRA_EMAIL: c.jiraEmail,
    JIRA_API_TOKEN: c.jiraToken,
    ...(e.okta ? { OKTA_ORG_URL: e.okta.url, OKTA_API_TOKEN: c.oktaToken } : {}),
    ADMIN_CHANNEL: ADMIN_CHANNEL.id,
  };
}

// ----- catalogs ----------------------------------------------------------------------------------

/** A value as the catalog's YAML holds it. */
export type YamlValue = string | number | boolean | YamlValue[] | { [key: string]: YamlValue };

export interface RoleSpec {
  id: string;
  name: string;
  /** The group the role grants, in `connector` (default `okta`). */
  group: string;
  connector?: string;
  durations: string[];
  /** One stage of these approvers (`approvers:`); or `approval` for anything else. */
  approvers?: string[];
  approval?: YamlValue;
  breakGlass?: YamlValue;
  /** Access reviews of the role (`reviews:`). */
  reviews?: YamlValue;
  /** `{ after, warn }` or `off`. */
  reclaim?: YamlValue;
}

export interface ApplicationSpec {
  id: string;
  name: string;
  owners: string[];
  /** `{ after, warn }`: inactivity reclaim for every role. */
  reclaim?: YamlValue;
  roles: RoleSpec[];
  /** Access reviews of the application's roles (`reviews:`). */
  reviews?: YamlValue;
}

export interface JiraSpec {
  project: string;
  issueType: string;
  /** Workflow transition names by step (approved, denied, active, revoked, timed_out, ...). */
  transitions: Record<string, string>;
  /** `jira.intake` (requests raised in Jira), as written. */
  intake?: { requestTypes: Record<string, string>; fields: Record<string, string> };
  /** `jira.statuses`: what a status a person moves the issue to means (approved, denied, revoked, cancelled). */
  statuses?: Record<string, string | string[]>;
}

export interface CatalogSpec {
  /** Overrides of JIRA_DEFAULTS; `transitions` add to the default ones. */
  jira?: Partial<JiraSpec>;
  applications: ApplicationSpec[];
}

export const JIRA_DEFAULTS: JiraSpec = {
  project: 'ACC',
  issueType: 'Task',
  transitions: { approved: 'Approve', denied: 'Reject', active: 'Provisioned', revoked: 'Done' },
};

/**
 * The catalog as YAML, in the style the README's examples use: flat lists and maps in flow style
 * (`[a, b]`, `{ k: v }`), nested ones in block style, each role's grant on one line.
 */
export function catalogYaml(spec: CatalogSpec): string {
  const jira: JiraSpec = {
    project: spec.jira?.project ?? JIRA_DEFAULTS.project,
    issueType: spec.jira?.issueType ?? JIRA_DEFAULTS.issueType,
    transitions: { ...JIRA_DEFAULTS.transitions, ...spec.jira?.transitions },
  };
  const lines = ['', 'jira:', `  project: ${scalar(jira.project)}`, `  issueType: ${scalar(jira.issueType)}`, '  transitions:'];
  for (const [step, name] of Object.entries(jira.transitions)) lines.push(`    ${step}: ${scalar(name)}`);
  if (spec.jira?.intake) lines.push(...entry('intake', spec.jira.intake, 2));
  if (spec.jira?.statuses) lines.push(...entry('statuses', spec.jira.statuses, 2));
  lines.push('applications:');
  for (const app of spec.applications) {
    lines.push(`  - id: ${scalar(app.id)}`, `    name: ${scalar(app.name)}`, `    owners: ${flow(app.owners)}`);
    if (app.reviews !== undefined) lines.push(...entry('reviews', app.reviews, 4));
    if (app.reclaim !== undefined) lines.push(...entry('reclaim', app.reclaim, 4));
    lines.push('    roles:');
    for (const r of app.roles) {
      lines.push(`      - id: ${scalar(r.id)}`, `        name: ${scalar(r.name)}`);
      lines.push(`        grant: ${flow({ connector: r.connector ?? 'okta', group: r.group })}`);
      lines.push(`        durations: ${flow(r.durations)}`);
      if (r.approvers) lines.push(`        approvers: ${flow(r.approvers)}`);
      if (r.approval !== undefined) lines.push(...entry('approval', r.approval, 8));
      if (r.breakGlass !== undefined) lines.push(...entry('breakGlass', r.breakGlass, 8));
      if (r.reviews !== undefined) lines.push(...entry('reviews', r.reviews, 8));
      if (r.reclaim !== undefined) lines.push(...entry('reclaim', r.reclaim, 8));
    }
  }
  return lines.join('\n') + '\n';
}

function scalar(v: string | number | boolean): string {
  if (typeof v !== 'string') return String(v);
  // Plain when YAML reads it back as the same string; quoted otherwise (`slack-group:x`, `#channel`).
  return /^[A-Za-z0-9][\w.@+/ -]*$/.test(v) && !/ $/.test(v) && !/^(true|false|null|~|yes|no|on|off)$/i.test(v) ? v : JSON.stringify(v);
}

function isFlat(v: YamlValue): boolean {
  if (Array.isArray(v)) return v.every((x) => typeof x !== 'object');
  if (typeof v === 'object') return Object.values(v).every((x) => typeof x !== 'object' || (Array.isArray(x) && isFlat(x)));
  return true;
}

function flow(v: YamlValue): string {
  if (Array.isArray(v)) return `[${v.map(flow).join(', ')}]`;
  if (typeof v === 'object') return `{ ${Object.entries(v).map(([k, x]) => `${k}: ${flow(x)}`).join(', ')} }`;
  return scalar(v);
}

/** `key: value` at `indent`, the value in flow style when flat, else in block style below the key. */
function entry(key: string, v: YamlValue, indent: number): string[] {
  const pad = ' '.repeat(indent);
  if (isFlat(v)) return [`${pad}${key}: ${flow(v)}`];
  return [`${pad}${key}:`, ...block(v, indent + 2)];
}

function block(v: YamlValue, indent: number): string[] {
  const pad = ' '.repeat(indent);
  if (Array.isArray(v)) {
    return v.flatMap((item) => {
      if (typeof item !== 'object' || Array.isArray(item)) return [`${pad}- ${flow(item)}`];
      // A map in a list: its first key after the dash, the others aligned under it.
      const [first, ...rest] = Object.entries(item).flatMap(([k, x]) => entry(k, x, indent + 2));
      return [`${pad}- ${(first ?? '').trimStart()}`, ...rest];
    });
  }
  if (typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => entry(k, x, indent));
  return [`${pad}${scalar(v)}`];
}
