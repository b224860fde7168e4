/**
 * The demo's world, shared by `npm run demo` (the scripted story) and the sandbox: the Slack,
 * Jira and Okta emulators, four sample people, a sample catalog, and the real composed bot over
 * HTTP with SQLite on disk. Nothing here needs an account or the network.
 */
import { createWriteStream, mkdirSync, rmSync, type WriteStream } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { adfToText } from '../src/adapters/jira/adf.js';
import type { AdfDoc } from '../src/adapters/jira/types.js';
import { createAccessBot, type AccessBot } from '../src/compose.js';
import { parseCatalog } from '../src/config/catalog.js';
import { connectorsOf, loadConfig } from '../src/config/env.js';
import { createLogger } from '../src/logger.js';
import { AtlassianAdminEmulator } from '../test/emulators/atlassian-admin.js';
import { ACCESS_KEY_ID, AwsSsoEmulator, IDENTITY_STORE_ID, INSTANCE_ARN, SECRET_ACCESS_KEY, permissionSetArn } from '../test/emulators/aws-sso.js';
import { JiraEmulator } from '../test/emulators/jira.js';
import { OktaEmulator } from '../test/emulators/okta.js';
import { BitbucketEmulator } from '../test/emulators/bitbucket.js';
import { SlackEmulator } from '../test/emulators/slack.js';
import { BOT_TOKEN, JIRA_TOKEN, OKTA_TOKEN, PEOPLE, SIGNING_SECRET } from '../test/support/harness.js';
import { SlackDriver } from '../test/support/slackDriver.js';

export type PersonKey = keyof typeof PEOPLE;

export interface DemoPerson {
  key: PersonKey;
  slackId: string;
  email: string;
  name: string;
  oktaId: string;
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
  { key: 'dave', ...dave, title: 'IT director, approves nothing in this catalog' },
];

export const DEMO_GROUPS = [
  { id: '00g1superadm', name: 'Okta console super admins' },
  { id: '00g1readonly', name: 'Okta console read-only' },
  { id: '00g2awsprodrw', name: 'AWS production read-write' },
  { id: '00g2awsprodro', name: 'AWS production read-only' },
] as const;

/** The Atlassian organization's group that gives Confluence access (granted through `atlassian-org`). */
export const CONFLUENCE_GROUP = '5c0f1a2e-0000-4000-8000-00000000c0f1';

/**
 * A real catalog would offer super admin for 30m / 1h / 4h; the `10s` choice is there so the
 * demo can show a grant expiring and being removed without making anyone wait an hour.
 */
/** The account and permission set of the demo's IAM Identity Center role (the aws-sso emulator). */
const AWS_PROD_ACCOUNT = '210987654321';
const AWS_ADMIN_PS = permissionSetArn('demoadmin');

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
    name: Payments code (Bitbucket)
    owners: [bob@example.com]
    roles:
      - id: write
        name: Write to the PAY project
        grant: { connector: bitbucket-dc, project: PAY, permission: PROJECT_WRITE }
        durations: [10s, 8h]
        approvers: [owners]
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

export class DemoWorld {
  readonly slack = new SlackEmulator({ botToken: BOT_TOKEN, teamName: 'Demo Workspace', teamDomain: 'demo' });
  readonly jira = new JiraEmulator({ apiToken: JIRA_TOKEN });
  readonly okta = new OktaEmulator({ token: OKTA_TOKEN });
  readonly atlassianOrg = new AtlassianAdminEmulator();
  readonly bitbucket = new BitbucketEmulator();
  readonly awsSso = new AwsSsoEmulator();
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
    await Promise.all([this.slack.start(), this.jira.start(), this.okta.start(), this.atlassianOrg.start(), this.bitbucket.start(), this.awsSso.start()]);
    this.awsSso.addPermissionSet(AWS_ADMIN_PS);
    for (const p of this.people) {
      this.awsSso.addUser({ email: p.email, displayName: p.name });
      this.slack.addUser({ id: p.slackId, email: p.email, realName: p.name });
      const [first = p.name, last = ''] = p.name.split(' ');
      this.okta.addUser({ id: p.oktaId, login: p.email, email: p.email, firstName: first, lastName: last, ...(p.managerId ? { managerId: p.managerId } : {}) });
    }
    for (const g of DEMO_GROUPS) this.okta.addGroup({ id: g.id, name: g.name });
    for (const p of this.people) this.atlassianOrg.addUser({ email: p.email, name: p.name, accountId: PEOPLE[p.key].atlassianId });
    this.atlassianOrg.addGroup({ id: CONFLUENCE_GROUP, name: 'confluence-users' });
    // Bitbucket usernames are the emails' local parts.
    for (const p of this.people) this.bitbucket.addUser({ name: p.email.split('@')[0]!, emailAddress: p.email, displayName: p.name });
    this.bitbucket.addProject('PAY', 'Payments');
    this.slack.addChannel({ id: 'C0ADMIN', name: 'access-admins', botIsMember: true });

    mkdirSync(dirname(this.databasePath), { recursive: true });
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
    const logger = createLogger(cfg.config.logLevel, [BOT_TOKEN, SIGNING_SECRET, OKTA_TOKEN, JIRA_TOKEN, this.atlassianOrg.apiKey, this.bitbucket.token], sink);
    this.bot = createAccessBot({ config: cfg.config, catalog: cat.catalog, logger });
    await this.bot.start();
    this.driver = new SlackDriver({ botUrl: this.bot.url, signingSecret: SIGNING_SECRET, emulator: this.slack });
    return this;
  }

  async stop(): Promise<void> {
    await this.bot?.stop(2000).catch(() => undefined);
    await Promise.all([this.slack.stop(), this.jira.stop(), this.okta.stop(), this.atlassianOrg.stop(), this.bitbucket.stop(), this.awsSso.stop()]);
    await new Promise<void>((done) => (this.log ? this.log.end(done) : done()));
  }

  person(idOrKey: string): DemoPerson | undefined {
    return this.people.find((p) => p.slackId === idOrKey || p.key === idOrKey || p.oktaId === idOrKey);
  }

  /** Name for a Slack id, Okta id or email; falls back to what was given. */
  nameOf(id: string): string {
    return this.person(id)?.name ?? this.people.find((p) => p.email === id)?.name ?? id;
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
