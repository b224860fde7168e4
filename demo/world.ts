/**
 * The demo's world, shared by `npm run demo` (the scripted story) and the sandbox: the Slack and
 * Jira emulators, an emulator of every identity provider the bot has a connector for (Okta,
 * Microsoft Graph, Google's Directory API, the Atlassian site's groups on the Jira emulator, the
 * Atlassian organization, GitHub, Bitbucket Data Center, AWS IAM Identity Center), four sample
 * people who exist in each, a sample catalog with a role on each connector, and the real composed
 * bot over HTTP with SQLite on disk. Nothing here needs an account or the network.
 */
import { createWriteStream, mkdirSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { adfToText } from '../src/adapters/jira/adf.js';
import type { AdfDoc } from '../src/adapters/jira/types.js';
import { createAccessBot, type AccessBot } from '../src/compose.js';
import { parseCatalog } from '../src/config/catalog.js';
import { connectorsOf, loadConfig } from '../src/config/env.js';
import { createLogger } from '../src/logger.js';
import { AtlassianAdminEmulator } from '../test/emulators/atlassian-admin.js';
import { ACCESS_KEY_ID, AwsSsoEmulator, IDENTITY_STORE_ID, INSTANCE_ARN, SECRET_ACCESS_KEY, permissionSetArn, userIdFor } from '../test/emulators/aws-sso.js';
import { GitHubEmulator } from '../test/emulators/github.js';
import { GoogleDirectoryEmulator } from '../test/emulators/google.js';
import { GraphEmulator } from '../test/emulators/graph.js';
import { JiraEmulator } from '../test/emulators/jira.js';
import { OktaEmulator } from '../test/emulators/okta.js';
import { BitbucketEmulator } from '../test/emulators/bitbucket.js';
import { SlackEmulator } from '../test/emulators/slack.js';
import { nameParts } from '../test/support/fixtures.js';
import { BOT_TOKEN, GITHUB_ORG, GOOGLE_ADMIN, JIRA_TOKEN, OKTA_TOKEN, PEOPLE, SIGNING_SECRET, bitbucketName, githubLogin } from '../test/support/harness.js';
import { SlackDriver } from '../test/support/slackDriver.js';

export type PersonKey = keyof typeof PEOPLE;

export interface DemoPerson {
  key: PersonKey;
  slackId: string;
  email: string;
  name: string;
  oktaId: string;
  /** Entra object id. */
  entraId: string;
  /** Atlassian accountId (the site and the organization). */
  atlassianId: string;
  /** Who they are in the story, shown in the sandbox's "who are you" picker. */
  title: string;
  /** Okta `profile.managerId`: what a `manager` approver resolves through. */
  managerId?: string;
}

const { alice, bob, carol, dave } = PEOPLE;

export const DEMO_PEOPLE: readonly DemoPerson[] = [
  { key: 'alice', ...alice, title: 'Engineer, reports to Bob', managerId: bob.oktaId },
  { key: 'bob', ...bob, title: 'Engineering manager, owns the Okta admin console', managerId: dave.oktaId },
  { key: 'carol', ...carol, title: 'Security lead, owns AWS production', managerId: dave.oktaId },
  { key: 'dave', ...dave, title: 'IT director, approves nothing; may request Confluence for anyone' },
];

export const DEMO_GROUPS = [
  { id: '00g1superadm', name: 'Okta console super admins' },
  { id: '00g1readonly', name: 'Okta console read-only' },
  { id: '00g2awsprodrw', name: 'AWS production read-write' },
  { id: '00g2awsprodro', name: 'AWS production read-only' },
] as const;

/** The Atlassian organization's group that gives Confluence access (granted through `atlassian-org`). */
export const CONFLUENCE_GROUP = '5c0f1a2e-0000-4000-8000-00000000c0f1';
/** The Entra ID group of the data platform's contributors. */
export const ENTRA_GROUP = '6f1c0d2e-0000-4000-8000-00000000da7a';
/** The Google Workspace group of the wiki's readers. */
export const GOOGLE_GROUP = 'wiki-readers@example.com';
/** The Atlassian site group (the `atlassian` connector, Jira's own credentials) of Jira administrators. */
export const JIRA_ADMINS_GROUP = '8a2e0b1c-0000-4000-8000-0000000ad31a';
/** The GitHub team of the payments developers, `<org>/<team-slug>`. */
export const GITHUB_TEAM = `${GITHUB_ORG}/payments-devs`;
/** The account and permission set of the demo's IAM Identity Center role (the aws-sso emulator). */
export const AWS_PROD_ACCOUNT = '210987654321';
export const AWS_ADMIN_PS = permissionSetArn('demoadmin');

/**
 * One role, at least, on each connector. A real catalog would offer super admin for 30m / 1h /
 * 4h; the `10s` choices are there so the demo can show a grant expiring and being removed without
 * making anyone wait an hour.
 */
export const DEMO_CATALOG = `
jira:
  project: ACC
  issueType: Task
  transitions:
    approved: Approve
    denied: Reject
    active: Provisioned
    revoked: Done
applications:
  - id: okta-console
    name: Okta admin console
    owners: [bob@example.com]
    roles:
      - id: super-admin
        name: Super admin
        grant: { connector: okta, group: 00g1superadm }
        durations: [10s, 1h, 4h]
        approval:
          stages:
            - approvers: [manager]
          fallback: [carol@example.com]
      - id: read-only
        name: Read-only
        grant: { connector: okta, group: 00g1readonly }
        durations: [10s, 8h, 7d, permanent]
        approvers: [owners]
  - id: aws-prod
    name: AWS production
    owners: [carol@example.com]
    roles:
      - id: read-write
        name: Read-write
        grant: { connector: okta, group: 00g2awsprodrw }
        durations: [1h, 8h]
        approvers: [owners]
      - id: read-only
        name: Read-only
        grant: { connector: okta, group: 00g2awsprodro }
        durations: [8h, 7d]
        approvers: [owners]
      - id: sso-admin
        name: Administrator (IAM Identity Center)
        grant: { connector: aws-sso, account: '${AWS_PROD_ACCOUNT}', permissionSet: '${AWS_ADMIN_PS}' }
        durations: [1h]
        approvers: [owners]
  - id: data-platform
    name: Data platform (Azure)
    owners: [carol@example.com]
    roles:
      - id: contributor
        name: Contributor (Entra ID group)
        grant: { connector: entra, group: ${ENTRA_GROUP} }
        durations: [8h, 7d]
        approvers: [owners]
  - id: wiki
    name: Company wiki
    owners: [bob@example.com]
    roles:
      - id: reader
        name: Reader (Google group)
        grant: { connector: google, group: ${GOOGLE_GROUP} }
        durations: [permanent]
        approval: auto
  - id: jira
    name: Jira
    owners: [dave@example.com]
    roles:
      - id: admin
        name: Administrator (site group)
        grant: { connector: atlassian, group: ${JIRA_ADMINS_GROUP} }
        durations: [1h, 4h]
        approvers: [owners]
  - id: confluence
    name: Confluence
    owners: [bob@example.com]
    roles:
      - id: user
        name: User
        grant: { connector: atlassian-org, group: ${CONFLUENCE_GROUP} }
        durations: [8h, 7d]
        approvers: [owners]
  - id: payments-code
    name: Payments code
    owners: [bob@example.com]
    roles:
      - id: write
        name: Write to the PAY project (Bitbucket)
        grant: { connector: bitbucket-dc, project: PAY, permission: PROJECT_WRITE }
        durations: [10s, 8h]
        approvers: [owners]
      - id: github
        name: Payments developers team (GitHub)
        grant: { connector: github, group: ${GITHUB_TEAM} }
        durations: [10s, 8h]
        approvers: [owners]
delegates:
  - { email: dave@example.com, for: all, applications: [confluence] }
`;

export interface WorldOptions {
  /** SQLite file; default `./data/demo/<name>.db`. */
  databasePath?: string;
  /** Name of the database and log files under ./data/demo/. */
  name?: string;
  /** Delete the database first, so every run starts from the same empty state. Default true. */
  fresh?: boolean;
  /** Where the bot's JSON logs go; default next to the database. `null`: discard them. */
  logFile?: string | null;
  logLevel?: string;
}

/** A Jira issue as an auditor reads it. */
export interface IssueView {
  key: string;
  summary: string;
  status: string;
  /** The workflow transitions applied, in order. */
  transitions: string[];
  description: string;
  created: number;
  comments: { at: number; text: string }[];
}

export interface GroupView {
  id: string;
  name: string;
  members: { oktaId: string; name: string }[];
}

/** Who holds one thing the catalog grants, as its identity provider's emulator holds it. */
export interface MembershipView {
  /** What the catalog's grant names (a group id, a team, an account and permission set): unique here. */
  id: string;
  /** The service, e.g. "GitHub". */
  service: string;
  /** What is held, e.g. "team acme/payments-devs". */
  what: string;
  /** Each holder by the id that service gives them. */
  members: { id: string; name: string }[];
}

export class DemoWorld {
  readonly slack = new SlackEmulator({ botToken: BOT_TOKEN, teamName: 'Demo Workspace', teamDomain: 'demo' });
  readonly jira = new JiraEmulator({ apiToken: JIRA_TOKEN });
  readonly okta = new OktaEmulator({ token: OKTA_TOKEN });
  readonly atlassianOrg = new AtlassianAdminEmulator();
  readonly bitbucket = new BitbucketEmulator();
  readonly awsSso = new AwsSsoEmulator();
  readonly graph = new GraphEmulator();
  readonly google = new GoogleDirectoryEmulator();
  readonly github = new GitHubEmulator();
  readonly people = DEMO_PEOPLE;
  readonly databasePath: string;
  readonly logFile: string | undefined;
  bot!: AccessBot;
  driver!: SlackDriver;
  private log: WriteStream | undefined;

  constructor(private readonly opts: WorldOptions = {}) {
    const name = opts.name ?? 'demo';
    this.databasePath = resolve(opts.databasePath ?? join('data', 'demo', `${name}.db`));
    this.logFile = opts.logFile === null ? undefined : resolve(opts.logFile ?? join(dirname(this.databasePath), `${name}.log`));
  }

  async start(): Promise<this> {
    await Promise.all(this.emulators().map((e) => e.start()));
    this.github.addOrg(GITHUB_ORG, { saml: true });
    // Everyone exists, under the same email, in every identity provider.
    for (const p of this.people) {
      this.slack.addUser({ id: p.slackId, email: p.email, realName: p.name });
      const { firstName, lastName } = nameParts(p.name);
      this.okta.addUser({ id: p.oktaId, login: p.email, email: p.email, firstName, lastName, ...(p.managerId ? { managerId: p.managerId } : {}) });
      this.graph.addUser({ id: p.entraId, userPrincipalName: p.email, displayName: p.name });
      this.google.addUser({ primaryEmail: p.email, givenName: firstName, familyName: lastName });
      this.jira.directory.addUser({ email: p.email, displayName: p.name, accountId: p.atlassianId });
      this.atlassianOrg.addUser({ email: p.email, name: p.name, accountId: p.atlassianId });
      // GitHub: members of the organization, their logins found through its SAML identities.
      this.github.addUser(githubLogin(p), p.name);
      this.github.addOrgMember(GITHUB_ORG, githubLogin(p));
      this.github.addSamlIdentity(GITHUB_ORG, { nameId: p.email, login: githubLogin(p) });
      this.bitbucket.addUser({ name: bitbucketName(p), emailAddress: p.email, displayName: p.name });
      this.awsSso.addUser({ email: p.email, displayName: p.name });
    }
    for (const g of DEMO_GROUPS) this.okta.addGroup({ id: g.id, name: g.name });
    this.graph.addGroup({ id: ENTRA_GROUP, displayName: 'Data platform contributors' });
    this.google.addGroup({ email: GOOGLE_GROUP, name: 'Wiki readers' });
    this.jira.directory.addGroup({ groupId: JIRA_ADMINS_GROUP, name: 'jira-admins' });
    this.atlassianOrg.addGroup({ id: CONFLUENCE_GROUP, name: 'confluence-users' });
    this.github.addTeam(GITHUB_ORG, GITHUB_TEAM.split('/')[1]!, 'Payments developers');
    this.bitbucket.addProject('PAY', 'Payments');
    this.awsSso.addPermissionSet(AWS_ADMIN_PS);
    this.slack.addChannel({ id: 'C0ADMIN', name: 'access-admins', botIsMember: true });

    mkdirSync(dirname(this.databasePath), { recursive: true });
    // Google's service-account key names the emulator's token endpoint; the bot reads it from a file, as it would in production.
    const googleKey = join(dirname(this.databasePath), 'google-service-account.json');
    writeFileSync(googleKey, this.google.serviceAccountJson(), { mode: 0o600 });
    // The emulators start empty each run, so an old database would point at issues that no longer exist.
    if (this.opts.fresh !== false) for (const suffix of ['', '-wal', '-shm']) rmSync(this.databasePath + suffix, { force: true });

    const env = {
      PORT: '0',
      DATABASE_PATH: this.databasePath,
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: `${this.slack.url}/api/`,
      JIRA_HOST: this.jira.url,
      JIRA_EMAIL: 'access-bot@example.com',
      JIRA_API_TOKEN: JIRA_TOKEN,
      OKTA_ORG_URL: this.okta.url,
      OKTA_API_TOKEN: OKTA_TOKEN,
      GRAPH_TENANT_ID: this.graph.tenantId,
      GRAPH_CLIENT_ID: this.graph.clientId,
      GRAPH_CLIENT_SECRET: this.graph.clientSecret,
      GRAPH_BASE_URL: this.graph.url,
      GRAPH_TOKEN_URL: this.graph.tokenUrl,
      GOOGLE_SA_KEY_FILE: googleKey,
      GOOGLE_ADMIN_SUBJECT: GOOGLE_ADMIN,
      GOOGLE_ROOT_URL: this.google.rootUrl,
      GOOGLE_TOKEN_URL: this.google.tokenUrl,
      GITHUB_ORG,
      GITHUB_TOKEN: this.github.token,
      GITHUB_API_URL: this.github.apiUrl,
      GITHUB_GRAPHQL_URL: this.github.graphqlUrl,
      ATLASSIAN_ORG_ID: this.atlassianOrg.orgId,
      ATLASSIAN_ORG_DIRECTORY_ID: this.atlassianOrg.directoryId,
      ATLASSIAN_ORG_API_KEY: this.atlassianOrg.apiKey,
      ATLASSIAN_ADMIN_URL: this.atlassianOrg.url,
      BITBUCKET_BASE_URL: this.bitbucket.url,
      BITBUCKET_TOKEN: this.bitbucket.token,
      AWS_SSO_INSTANCE_ARN: INSTANCE_ARN,
      AWS_SSO_IDENTITY_STORE_ID: IDENTITY_STORE_ID,
      AWS_SSO_REGION: 'eu-west-1',
      AWS_SSO_ENDPOINT: this.awsSso.url,
      MANAGER_SOURCE: 'okta',
      ADMIN_CHANNEL: 'C0ADMIN',
      LOG_LEVEL: this.opts.logLevel ?? 'info',
    };
    // The AWS SDK takes credentials from its default chain, which reads the process environment.
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' });
    const cfg = loadConfig(env);
    if (!cfg.ok) throw new Error(`demo configuration invalid:\n${cfg.errors.join('\n')}`);
    const cat = parseCatalog(DEMO_CATALOG, { configuredConnectors: connectorsOf(cfg.config) });
    if (!cat.ok) throw new Error(`demo catalog invalid:\n${cat.errors.join('\n')}`);

    if (this.logFile) {
      mkdirSync(dirname(this.logFile), { recursive: true });
      this.log = createWriteStream(this.logFile, { flags: 'w' });
    }
    const sink = this.log ?? { write: () => true };
    const secrets = [BOT_TOKEN, SIGNING_SECRET, OKTA_TOKEN, JIRA_TOKEN, this.graph.clientSecret, this.github.token, this.atlassianOrg.apiKey, this.bitbucket.token, SECRET_ACCESS_KEY];
    const logger = createLogger(cfg.config.logLevel, secrets, sink);
    this.bot = createAccessBot({ config: cfg.config, catalog: cat.catalog, logger });
    await this.bot.start();
    this.driver = new SlackDriver({ botUrl: this.bot.url, signingSecret: SIGNING_SECRET, emulator: this.slack });
    return this;
  }

  async stop(): Promise<void> {
    await this.bot?.stop(2000).catch(() => undefined);
    // Every emulator stops, and one that got a request no route expects says so.
    const stopped = await Promise.allSettled(this.emulators().map((e) => e.stop()));
    await new Promise<void>((done) => (this.log ? this.log.end(done) : done()));
    const failed = stopped.flatMap((r) => (r.status === 'rejected' ? [r.reason instanceof Error ? r.reason.message : String(r.reason)] : []));
    if (failed.length > 0) throw new Error(failed.join('; '));
  }

  private emulators() {
    return [this.slack, this.jira, this.okta, this.graph, this.google, this.atlassianOrg, this.github, this.bitbucket, this.awsSso];
  }

  person(idOrKey: string): DemoPerson | undefined {
    return this.people.find((p) => p.slackId === idOrKey || p.key === idOrKey || personIds(p).includes(idOrKey));
  }

  /** Name for a Slack id, an email or any IdP's id of a person; falls back to what was given. */
  nameOf(id: string): string {
    return this.person(id)?.name ?? id;
  }

  groupName(id: string): string {
    return DEMO_GROUPS.find((g) => g.id === id)?.name ?? id;
  }

  issues(): IssueView[] {
    return [...this.jira.issues.values()].map((i) => ({
      key: i.key,
      summary: i.summary,
      status: i.status,
      transitions: [...i.history],
      description: i.description ? adfToText(i.description as AdfDoc) : '',
      created: i.created.getTime(),
      comments: this.jira.commentsText(i.key).map((text, n) => ({ at: i.comments[n]?.created.getTime() ?? 0, text })),
    }));
  }

  groups(): GroupView[] {
    return DEMO_GROUPS.map((g) => ({
      id: g.id,
      name: g.name,
      members: this.okta.members(g.id).map((oktaId) => ({ oktaId, name: this.nameOf(oktaId) })),
    }));
  }

  /** Everything the catalog grants, in every identity provider, with who holds it now. */
  memberships(): MembershipView[] {
    const named = (ids: Iterable<string>) => [...ids].map((id) => ({ id, name: this.nameOf(id) }));
    const [org, slug] = GITHUB_TEAM.split('/') as [string, string];
    const bitbucketWriters = this.people.filter((p) => this.bitbucket.projectPermission('PAY', bitbucketName(p)) === 'PROJECT_WRITE').map(bitbucketName);
    return [
      ...this.groups().map((g) => ({ id: g.id, service: 'Okta', what: `group “${g.name}” (${g.id})`, members: g.members.map((m) => ({ id: m.oktaId, name: m.name })) })),
      { id: ENTRA_GROUP, service: 'Entra ID', what: `group “Data platform contributors” (${ENTRA_GROUP})`, members: named(this.graph.members(ENTRA_GROUP)) },
      { id: GOOGLE_GROUP, service: 'Google Workspace', what: `group ${GOOGLE_GROUP}`, members: named(this.google.members(GOOGLE_GROUP)) },
      { id: JIRA_ADMINS_GROUP, service: 'Atlassian site', what: `group “jira-admins” (${JIRA_ADMINS_GROUP})`, members: named(this.jira.directory.groups.get(JIRA_ADMINS_GROUP)?.members ?? []) },
      { id: CONFLUENCE_GROUP, service: 'Atlassian organization', what: `group “confluence-users” (${CONFLUENCE_GROUP})`, members: named(this.atlassianOrg.groups.get(CONFLUENCE_GROUP)?.members ?? []) },
      { id: GITHUB_TEAM, service: 'GitHub', what: `team ${GITHUB_TEAM}`, members: named(this.github.members(org, slug)) },
      { id: 'PAY/PROJECT_WRITE', service: 'Bitbucket', what: 'PROJECT_WRITE on project PAY', members: named(bitbucketWriters) },
      {
        id: `${AWS_PROD_ACCOUNT}/${AWS_ADMIN_PS}`,
        service: 'AWS IAM Identity Center',
        what: `account ${AWS_PROD_ACCOUNT}, permission set ${AWS_ADMIN_PS.split('/').at(-1)!}`,
        members: named(this.awsSso.assigned(AWS_PROD_ACCOUNT, AWS_ADMIN_PS)),
      },
    ];
  }
}

/** Every id a person has somewhere: email, and the id each identity provider gives them. */
function personIds(p: DemoPerson): string[] {
  return [p.email, p.oktaId, p.entraId, p.atlassianId, githubLogin(p), bitbucketName(p), userIdFor(p.email)];
}

/** Polls until `probe` returns something, or fails naming what did not happen. */
export async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
