/**
 * Starts the real composed bot against the Slack, Jira and Okta emulators, with a catalog and a
 * few people, and a signed Slack driver. Integration tests drive it the way Slack would.
 *
 * `connectors` turns on other identity providers too: `entra` starts the Graph emulator and sets
 * GRAPH_*, `google` starts the Google Directory emulator (its service-account key written to the
 * harness's temp dir) and sets GOOGLE_*, `atlassian` adds the people to the Jira emulator as
 * Atlassian accounts, `atlassian-org` starts the Atlassian organization emulator and sets
 * ATLASSIAN_ORG_* (the people as accounts of its directory, with the same accountIds). The same
 * people, by email, exist in every IdP turned on.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAccessBot, type AccessBot, type ComposeOptions } from '../../src/compose.js';
import { parseCatalog } from '../../src/config/catalog.js';
import { catalogOptionsOf, loadConfig } from '../../src/config/env.js';
import type { Config } from '../../src/config/types.js';
import { createLogger } from '../../src/logger.js';
import { AtlassianAdminEmulator } from '../emulators/atlassian-admin.js';
import { stopAll } from '../emulators/base.js';
import { ACCESS_KEY_ID, AwsSsoEmulator, IDENTITY_STORE_ID, INSTANCE_ARN, SECRET_ACCESS_KEY } from '../emulators/aws-sso.js';
import { GitHubEmulator } from '../emulators/github.js';
import { BitbucketEmulator } from '../emulators/bitbucket.js';
import { GoogleDirectoryEmulator } from '../emulators/google.js';
import { GraphEmulator } from '../emulators/graph.js';
import { JiraEmulator } from '../emulators/jira.js';
import { JsmOpsEmulator } from '../emulators/jsm-ops.js';
import { PagerDutyEmulator } from '../emulators/pagerduty.js';
import { OktaEmulator } from '../emulators/okta.js';
import { SlackEmulator } from '../emulators/slack.js';
import { catalogYaml, emulatorEnv, nameParts, PEOPLE, secretValues, seedWorld, TEST_CREDENTIALS, type Person } from './fixtures.js';
import { createTestDatabase, dropTestDatabase } from './postgres.js';
import { SlackDriver } from './slackDriver.js';

export const { signingSecret: SIGNING_SECRET, botToken: BOT_TOKEN, oktaToken: OKTA_TOKEN, jiraToken: JIRA_TOKEN } = TEST_CREDENTIALS;

export { PEOPLE, type Person };

export type ConnectorId = 'okta' | 'entra' | 'google' | 'atlassian' | 'github' | 'atlassian-org' | 'bitbucket-dc' | 'aws-sso';

/** The GitHub organization the harness's `github` connector works in (SAML on: emails map to logins). */
export const GITHUB_ORG = 'acme';

/** A person's GitHub login (their SAML NameID is their email). */
export function githubLogin(p: Person): string {
  return `${p.email.split('@')[0]!}-gh`;
}

/** A person's Bitbucket username, when the harness starts the Bitbucket emulator: their email's local part. */
export const bitbucketName = (p: Pick<Person, 'email'>): string => p.email.split('@')[0]!;

/** The Workspace admin the Google service account acts as (created by the emulator). */
export const GOOGLE_ADMIN = 'admin@example.com';

export const GROUPS = { readOnly: '00g1readonly', superAdmin: '00g1superadm' };

/** Bob owns the console; Alice is listed as an approver too, to prove she can't approve herself. */
export const DEFAULT_CATALOG = catalogYaml({
  applications: [
    {
      id: 'okta-console',
      name: 'Okta admin console',
      owners: ['bob@example.com'],
      roles: [
        { id: 'read-only', name: 'Read-only', group: GROUPS.readOnly, durations: ['2s', '3s', '4h', 'permanent'], approvers: ['owners', 'alice@example.com'] },
        { id: 'super-admin', name: 'Super admin', group: GROUPS.superAdmin, durations: ['30m', '1h'], approvers: ['bob@example.com', 'carol@example.com'] },
      ],
    },
  ],
});

export interface HarnessOptions {
  catalog?: string;
  /** Identity providers to configure. Default `['okta']`. (`atlassian` only adds the people to Jira: its connector is always on.) */
  connectors?: readonly ConnectorId[];
  env?: Record<string, string>;
  compose?: Partial<Omit<ComposeOptions, 'config' | 'catalog' | 'logger'>>;
  /**
   * The Jira emulator's admin webhook points at the bot (re-registered after each start), signed
   * with JIRA_WEBHOOK_SECRET (`JIRA_WEBHOOK_TEST_SECRET` unless `env` sets one).
   */
  jiraWebhook?: boolean;
  /**
   * On-call services to start and configure: `pagerduty` sets PAGERDUTY_TOKEN and PAGERDUTY_URL;
   * `jsm-ops` sets JSM_OPS_CLOUD_ID and JSM_OPS_URL (its credentials are the Jira ones, the
   * default, and responders' emails come from the Jira emulator's directory).
   */
  onCall?: readonly ('pagerduty' | 'jsm-ops')[];
  /** The bot's clock runs `offset` ahead of real time, moved by `moveClockTo` (tests of days and weeks, without waiting). */
  movableClock?: boolean;
  /** The store: SQLite (a file in the harness's temp dir) or Postgres (a database of its own, test/support/postgres.ts). Default: `STORE` from the environment, else SQLite. */
  store?: StoreKind;
}

export type StoreKind = 'sqlite' | 'postgres';

/** The store tests run on unless they say: `STORE=postgres` runs them on Postgres. */
export function defaultStore(): StoreKind {
  return process.env.STORE === 'postgres' ? 'postgres' : 'sqlite';
}

/** The environment selecting a fresh database of the store for a bot, and how to drop it afterwards. */
export function storeEnv(store: StoreKind, dir: string): { env: Record<string, string>; drop: () => void } {
  if (store === 'sqlite') return { env: { DATABASE_PATH: join(dir, 'bot.db') }, drop: () => undefined };
  const url = createTestDatabase();
  return { env: { DATABASE_URL: url }, drop: () => dropTestDatabase(url) };
}

/** The Jira webhook secret of the tests. */
export const JIRA_WEBHOOK_TEST_SECRET = 'jira-webhook-secret-test-7d1e';

export interface RequestInput {
  app?: string;
  role?: string;
  duration?: string;
  reason?: string;
}

export class Harness {
  readonly slack = new SlackEmulator({ botToken: BOT_TOKEN });
  readonly jira = new JiraEmulator({ apiToken: JIRA_TOKEN });
  readonly okta = new OktaEmulator({ token: OKTA_TOKEN });
  /** Started when `connectors` includes `entra`. */
  readonly graph: GraphEmulator | undefined;
  /** Started when `connectors` includes `google`. */
  readonly google: GoogleDirectoryEmulator | undefined;
  /** Started when `connectors` includes `github` (as a GitHub App). */
  readonly github: GitHubEmulator | undefined;
  /** Started when `connectors` includes `atlassian-org`. */
  readonly atlassianOrg: AtlassianAdminEmulator | undefined;
  /** Started when `connectors` includes `bitbucket-dc`. */
  readonly bitbucket: BitbucketEmulator | undefined;
  /** Started when `connectors` includes `aws-sso`. */
  readonly awsSso: AwsSsoEmulator | undefined;
  /** Started when `onCall` includes `pagerduty`. */
  readonly pagerduty: PagerDutyEmulator | undefined;
  /** Started when `onCall` includes `jsm-ops`. */
  readonly jsmOps: JsmOpsEmulator | undefined;
  readonly connectors: readonly ConnectorId[];
  readonly logs: string[] = [];
  bot!: AccessBot;
  driver!: SlackDriver;
  config!: Config;
  /** The bot's environment, for running the CLIs against its database. */
  env!: Record<string, string>;
  private readonly dir = mkdtempSync(join(tmpdir(), 'access-bot-test-'));
  private clockOffset = 0;
  readonly store: StoreKind;
  private dropDatabase: () => void = () => undefined;
  /** The bot's database as the environment names it (DATABASE_PATH or DATABASE_URL), for the CLI run beside it. */
  databaseEnv: Record<string, string> = {};

  constructor(private readonly opts: HarnessOptions = {}) {
    this.connectors = opts.connectors ?? ['okta'];
    this.store = opts.store ?? defaultStore();
    this.graph = this.connectors.includes('entra') ? new GraphEmulator() : undefined;
    this.google = this.connectors.includes('google') ? new GoogleDirectoryEmulator() : undefined;
    this.github = this.connectors.includes('github') ? new GitHubEmulator() : undefined;
    this.atlassianOrg = this.connectors.includes('atlassian-org') ? new AtlassianAdminEmulator() : undefined;
    this.bitbucket = this.connectors.includes('bitbucket-dc') ? new BitbucketEmulator() : undefined;
    this.awsSso = this.connectors.includes('aws-sso') ? new AwsSsoEmulator() : undefined;
    this.pagerduty = opts.onCall?.includes('pagerduty') ? new PagerDutyEmulator() : undefined;
    this.jsmOps = opts.onCall?.includes('jsm-ops') ? new JsmOpsEmulator({ email: TEST_CREDENTIALS.jiraEmail, apiToken: JIRA_TOKEN }) : undefined;
  }

  async start(): Promise<this> {
    await Promise.all([this.slack.start(), this.jira.start(), this.okta.start(), this.graph?.start(), this.google?.start(), this.github?.start(), this.atlassianOrg?.start(), this.bitbucket?.start(), this.awsSso?.start(), this.pagerduty?.start(), this.jsmOps?.start()]);
    this.github?.addOrg(GITHUB_ORG, { saml: true });
    seedWorld(this, {
      people: Object.values(PEOPLE),
      groups: [
        { id: GROUPS.readOnly, name: 'Okta console read-only' },
        { id: GROUPS.superAdmin, name: 'Okta console super admins' },
      ],
    });
    for (const p of Object.values(PEOPLE)) {
      const { firstName, lastName } = nameParts(p.name);
      this.graph?.addUser({ id: p.entraId, userPrincipalName: p.email, displayName: p.name });
      this.google?.addUser({ primaryEmail: p.email, givenName: firstName, familyName: lastName });
      if (this.github) {
        this.github.addUser(githubLogin(p), p.name);
        this.github.addOrgMember(GITHUB_ORG, githubLogin(p));
        this.github.addSamlIdentity(GITHUB_ORG, { nameId: p.email, login: githubLogin(p) });
      }
      this.bitbucket?.addUser({ name: bitbucketName(p), emailAddress: p.email, displayName: p.name });
      this.awsSso?.addUser({ email: p.email, displayName: p.name });
      if (this.connectors.includes('atlassian')) this.jira.directory.addUser({ email: p.email, displayName: p.name, accountId: p.atlassianId });
      this.atlassianOrg?.addUser({ email: p.email, name: p.name, accountId: p.atlassianId });
    }
    const idpEnv: Record<string, string> = {};
    if (this.graph) {
      Object.assign(idpEnv, {
        GRAPH_TENANT_ID: this.graph.tenantId,
        GRAPH_CLIENT_ID: this.graph.clientId,
        GRAPH_CLIENT_SECRET: this.graph.clientSecret,
        GRAPH_BASE_URL: this.graph.url,
        GRAPH_TOKEN_URL: this.graph.tokenUrl,
      });
    }
    // Group membership needs Basic credentials: Bitbucket refuses HTTP access tokens on its admin endpoints.
    if (this.bitbucket) Object.assign(idpEnv, { BITBUCKET_BASE_URL: this.bitbucket.url, BITBUCKET_USERNAME: this.bitbucket.basic.username, BITBUCKET_PASSWORD: this.bitbucket.basic.password });
    if (this.google) {
      // Written after start: the key file's token_uri names the emulator.
      const keyFile = join(this.dir, 'google-service-account.json');
      writeFileSync(keyFile, this.google.serviceAccountJson(), { mode: 0o600 });
      Object.assign(idpEnv, { GOOGLE_SA_KEY_FILE: keyFile, GOOGLE_ADMIN_SUBJECT: GOOGLE_ADMIN, GOOGLE_ROOT_URL: this.google.rootUrl, GOOGLE_TOKEN_URL: this.google.tokenUrl });
    }
    if (this.github) {
      const keyFile = join(this.dir, 'github-app.pem');
      writeFileSync(keyFile, this.github.privateKeyPem, { mode: 0o600 });
      Object.assign(idpEnv, {
        GITHUB_ORG,
        GITHUB_APP_ID: this.github.appId,
        GITHUB_APP_INSTALLATION_ID: this.github.installationId,
        GITHUB_APP_PRIVATE_KEY_FILE: keyFile,
        GITHUB_API_URL: this.github.apiUrl,
        GITHUB_GRAPHQL_URL: this.github.graphqlUrl,
      });
    }
    if (this.atlassianOrg) {
      const o = this.atlassianOrg;
      Object.assign(idpEnv, { ATLASSIAN_ORG_ID: o.orgId, ATLASSIAN_ORG_DIRECTORY_ID: o.directoryId, ATLASSIAN_ORG_API_KEY: o.apiKey, ATLASSIAN_ADMIN_URL: o.url });
    }
    if (this.awsSso) {
      Object.assign(idpEnv, { AWS_SSO_INSTANCE_ARN: INSTANCE_ARN, AWS_SSO_IDENTITY_STORE_ID: IDENTITY_STORE_ID, AWS_SSO_REGION: 'eu-west-1', AWS_SSO_ENDPOINT: this.awsSso.url });
      // The SDK's default credential chain reads the process environment, not the bot's config: the
      // emulator's keys go there, as a deployment's would.
      Object.assign(process.env, { AWS_ACCESS_KEY_ID: ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' });
    }
    if (this.pagerduty) Object.assign(idpEnv, { PAGERDUTY_TOKEN: this.pagerduty.token, PAGERDUTY_URL: this.pagerduty.url });
    if (this.jsmOps) Object.assign(idpEnv, { JSM_OPS_CLOUD_ID: this.jsmOps.cloudId, JSM_OPS_URL: this.jsmOps.url });
    // The configuration reads the catalog's connectors: block, when it has one, from this file.
    const catalogFile = join(this.dir, 'access-catalog.yaml');
    writeFileSync(catalogFile, this.opts.catalog ?? DEFAULT_CATALOG);
    const database = storeEnv(this.store, this.dir);
    this.dropDatabase = database.drop;
    this.databaseEnv = database.env;
    const env = {
      PORT: '0',
      ...database.env,
      ACCESS_CATALOG: catalogFile,
      ...emulatorEnv(TEST_CREDENTIALS, { slack: this.slack, jira: this.jira, okta: this.connectors.includes('okta') ? this.okta : undefined }),
      ...idpEnv,
      LOG_LEVEL: 'debug',
      ...(this.opts.jiraWebhook ? { JIRA_WEBHOOK_SECRET: JIRA_WEBHOOK_TEST_SECRET } : {}),
      ...this.opts.env,
    };
    const cfg = loadConfig(env);
    if (!cfg.ok) throw new Error(`test config invalid:\n${cfg.errors.join('\n')}`);
    this.config = cfg.config;
    this.env = env;
    await this.boot();
    return this;
  }

  private async boot(): Promise<void> {
    this.bot = this.composeBot(this.logs);
    await this.bot.start();
    this.driver = new SlackDriver({ botUrl: this.bot.url, signingSecret: SIGNING_SECRET, emulator: this.slack });
    if (this.opts.jiraWebhook) this.jira.webhooks.register({ url: `${this.bot.url}/webhooks/jira`, secret: this.config.jira.webhookSecret });
  }

  private readonly replicas: AccessBot[] = [];

  /**
   * Another bot on the same database, emulators and configuration: a second replica (Postgres
   * only). Slack's events still go to the first bot (its `driver.eventsUrl`); `stop()` stops it.
   */
  async replica(): Promise<{ bot: AccessBot; driver: SlackDriver; logs: string[] }> {
    if (this.store !== 'postgres') throw new Error('replicas share a Postgres database: start the harness with store: postgres');
    const logs: string[] = [];
    const bot = this.composeBot(logs);
    this.replicas.push(bot);
    await bot.start();
    return { bot, driver: new SlackDriver({ botUrl: bot.url, signingSecret: SIGNING_SECRET, emulator: this.slack }), logs };
  }

  private composeBot(logs: string[]): AccessBot {
    const cat = parseCatalog(this.catalogText ?? this.opts.catalog ?? DEFAULT_CATALOG, catalogOptionsOf(this.config));
    if (!cat.ok) throw new Error(`test catalog invalid:\n${cat.errors.join('\n')}`);
    const logger = createLogger('debug', [], { write: (s: string) => void logs.push(s) });
    return createAccessBot({
      config: this.config,
      catalog: cat.catalog,
      logger,
      dispatcher: { backoff: { baseMs: 20, capMs: 200, maxHintMs: 3000 }, idlePollMs: 50 },
      // Tests run the user sync, reclaim and the account-status check by hand, never on a schedule.
      memberSync: { schedule: 'off' },
      holderChecks: { reclaimSchedule: 'off', offboardingSchedule: 'off' },
      ...(this.opts.movableClock ? { now: () => Date.now() + this.clockOffset } : {}),
      ...this.opts.compose,
    });
  }

  private catalogText: string | undefined;

  /**
   * Stops the bot (not the emulators) and starts a new one on the same database, optionally with
   * another catalog, or on another database (`databaseUrl`) after `between` ran with the bot stopped.
   */
  async restart(opts: { catalog?: string; databaseUrl?: string; between?: () => void } = {}): Promise<void> {
    await this.bot.stop(1000);
    if (opts.catalog) this.catalogText = opts.catalog;
    opts.between?.();
    if (opts.databaseUrl) this.config = { ...this.config, databaseUrl: opts.databaseUrl };
    await this.boot();
  }

  /** Stops the bot and the emulators; fails if an emulator got a request no route expects. */
  async stop(): Promise<void> {
    await Promise.all([this.bot, ...this.replicas].map((b) => b.stop(1000).catch(() => undefined)));
    try {
      await stopAll([this.slack, this.jira, this.okta, this.graph, this.google, this.github, this.atlassianOrg, this.bitbucket, this.awsSso, this.pagerduty, this.jsmOps]);
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
      this.dropDatabase();
    }
  }

  idle(timeoutMs = 10_000): Promise<void> {
    return this.bot.dispatcher.idle(timeoutMs);
  }

  /** Moves the bot's clock (with `movableClock`) to `t`, bot time; it runs on from there. */
  moveClockTo(t: number): void {
    if (!this.opts.movableClock) throw new Error('moveClockTo needs a harness with movableClock');
    this.clockOffset += t - this.bot.ctx.now();
  }

  /** `requester` asks, `approver` approves: resolves with the request once its access is active and its effects landed. */
  async approvedGrant(requester: Person, approver: Person, input: RequestInput = {}): Promise<string> {
    const id = await this.request(requester, input);
    await waitUntil(() => this.bot.store.approversOf(id).some((a) => a.slackId === approver.slackId), 5000, `${approver.email} asked`);
    await this.click(approver, id, 'approve');
    await waitUntil(() => this.bot.store.getRequest(id)!.state === 'active', 5000, 'active');
    await this.idle();
    return id;
  }

  /** `/access`, then submits the modal. Returns the new request id. */
  async request(who: Person, input: RequestInput = {}): Promise<string> {
    return this.submitRequest(who, await this.openRequestModal(who), input);
  }

  /** `/access` typed by `who`; resolves with the id of the request modal it opened. */
  async openRequestModal(who: Person): Promise<string> {
    const before = new Set(this.slack.views.keys());
    await this.driver.command(who.slackId);
    return (await this.slack.waitForView((v) => v.userId === who.slackId && !before.has(v.id) && v.view.callback_id === 'access_request', 5000)).id;
  }

  /** Submits an opened request modal; resolves with the request recorded for it. */
  async submitRequest(who: Person, viewId: string, input: RequestInput = {}): Promise<string> {
    const res = await this.driver.submitView(who.slackId, viewId, {
      application: { application: input.app ?? 'okta-console' },
      role: { role: input.role ?? 'read-only' },
      duration: { duration: input.duration ?? '4h' },
      reason: { reason: input.reason ?? 'Investigating a login issue for a customer' },
    });
    if (res.status !== 200) throw new Error(`submit failed: ${res.status} ${JSON.stringify(res.body)}`);
    const r = this.bot.store.findBySubmissionKey(viewId);
    if (!r) throw new Error(`no request recorded for view ${viewId}: ${JSON.stringify(res.body)}`);
    return r.id;
  }

  /** The approver's DM about a request (latest version). */
  async approverMessage(approver: Person, requestId: string) {
    return this.slack.waitForDm(approver.slackId, (m) => JSON.stringify(m.blocks ?? []).includes(requestId));
  }

  async click(who: Person, requestId: string, action: 'approve' | 'deny', from: Person = who) {
    const msg = await this.approverMessage(from, requestId);
    return this.driver.clickButton(who.slackId, msg, action);
  }

  jiraComments(requestId: string): string[] {
    const key = this.bot.store.getRequest(requestId)?.jiraKey;
    return key ? this.jira.commentsText(key) : [];
  }

  /** Every secret the test configured, for grepping logs. */
  secrets(): string[] {
    const extra = [this.graph?.clientSecret, this.google?.privateKeyPem.split('\n')[1], this.github?.privateKeyPem.split('\n')[1], this.atlassianOrg?.apiKey, this.bitbucket?.basic.password].filter((s): s is string => !!s);
    return [...secretValues(TEST_CREDENTIALS), ...extra, ...(this.awsSso ? [SECRET_ACCESS_KEY] : []), ...(this.pagerduty ? [this.pagerduty.token] : [])];
  }
}

export async function waitUntil(pred: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
