/**
 * `access-bot check`: validates the environment and the catalog, then tests every connection the
 * bot will use (Slack token and scopes, the Jira project, each identity connector and every group
 * the catalog names) and prints a checklist with a precise fix under each failure.
 *
 * Contract:
 * - Never throws for what it checks: a refused connection, a timeout or an error answer is a
 *   failing item naming the variable to look at.
 * - Never prints a secret: messages come from adapters that already keep tokens out, and every
 *   line is masked once more against each secret in the environment before it is written.
 * - `ok` is false when any item failed. Warnings (`!`) are things this check cannot confirm or
 *   that work but could be tighter; they do not fail the run.
 */
import { Buffer } from 'node:buffer';
import fs from 'node:fs';
import { LogLevel, WebClient, type WebAPICallResult } from '@slack/web-api';
import { buildConnectors } from './adapters/idp/registry.js';
import type { HealthReport, IdpConnector } from './adapters/idp/types.js';
import { JiraCloudRecord } from './adapters/jira/record.js';
import { loadCatalog } from './config/catalog.js';
import { CONFIGURE_HINT, DEFAULTS, connectorsOf, loadConfig } from './config/env.js';
import { secretsOf, type Config } from './config/types.js';
import { redact } from './redact.js';
import { CONNECTOR_NAMES, type ApproverRef, type Catalog, type ConnectorName } from './domain/catalog.js';

export type CheckStatus = 'pass' | 'fail' | 'warn' | 'skip';

export interface CheckItem {
  section: 'environment' | 'catalog' | 'connections' | 'slack' | 'jira' | ConnectorName;
  /** What was checked, e.g. "slack scopes", "okta group 00g1readonly". */
  name: string;
  status: CheckStatus;
  /** False only for `fail`. */
  ok: boolean;
  /** What was found. */
  detail?: string;
  /** For failures (and some warnings): the action that fixes it. */
  fix?: string;
}

export interface CheckOptions {
  /** Where checklist lines go; default stdout. */
  out?: (line: string) => void;
  /** Per network request. Default 5 s: a setup check should answer quickly. */
  fetchTimeoutMs?: number;
  /** For tests: how files (secrets given as NAME_FILE, the catalog) are read. */
  readFile?: (path: string) => string;
}

export interface CheckResult {
  ok: boolean;
  items: CheckItem[];
}

/**
 * The bot token scopes the code uses, and why; `slack-manifest.json` requests exactly these (a
 * test keeps the two equal). Not requested: `im:write` (DMs are posted with the user id as
 * channel, which needs only chat:write; no conversations.open) and `chat:write.public` (the bot
 * is invited to the alert channels instead, which private channels need anyway).
 */
export const REQUIRED_BOT_SCOPES: Readonly<Record<string, string>> = {
  commands: 'the /access slash command',
  'chat:write': 'DMs to approvers and requesters, alerts, updating decided messages, ephemeral replies',
  'users:read': 'users.info: the requester’s name and whether an account is deactivated',
  'users:read.email': 'users.lookupByEmail and emails in users.info: people are matched to the IdP and the catalog by email',
  'usergroups:read': 'usergroups.list and usergroups.users.list: slack-group:<handle> approvers',
};

const DEFAULT_TIMEOUT_MS = 5000;
/** Lookups of approver emails beyond this are skipped (Slack's users.lookupByEmail is Tier 3). */
const MAX_EMAIL_LOOKUPS = 50;

const SYMBOL: Record<CheckStatus, string> = { pass: '✔', fail: '✘', warn: '!', skip: '–' };
const SECTION_TITLE: Record<CheckItem['section'], string> = {
  environment: 'Environment',
  catalog: 'Catalog',
  connections: 'Connections',
  slack: 'Slack',
  jira: 'Jira',
  okta: 'Okta',
  entra: 'Microsoft Entra ID',
  google: 'Google Workspace',
  atlassian: 'Atlassian groups',
};

/** Variables holding secrets (loadConfig's list): masked in every line, never echoed. */
const SECRET_VARS = ['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'SLACK_APP_TOKEN', 'JIRA_API_TOKEN', 'JIRA_WEBHOOK_SECRET', 'OKTA_API_TOKEN', 'GRAPH_CLIENT_SECRET'];

/** Connection failures (no answer at all), as the adapters and Node word them. */
const NETWORK_RE = /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|EHOSTUNREACH|ENETUNREACH|ECONNABORTED|socket hang up|fetch failed|could not reach|connection failed|did not answer|no answer within|timed? ?out|request failed/i;
/** Credential problems: the service answered and refused who we are. */
const AUTH_RE = /\b401\b|\b403\b|unauthori[sz]ed|forbidden|invalid[ _]token|rejected the api token|credentials rejected|invalid_client|invalid_grant|unauthorized_client|access_denied|E0000011|E0000006/i;

interface IdpMeta {
  label: string;
  /** Variables that decide where requests go, in the order to suspect them. */
  urlVars: string[];
  credentialsFix: string;
  groupHint: string;
}

const IDP: Record<ConnectorName, IdpMeta> = {
  okta: {
    label: 'Okta',
    urlVars: ['OKTA_ORG_URL'],
    credentialsFix:
      'OKTA_API_TOKEN was refused: create an API token in the Okta Admin Console (Security → API → Tokens) while signed in as an admin whose role may manage the catalog’s groups and read users, then set OKTA_API_TOKEN',
    groupHint: 'the group id (00g…, the last part of the group’s URL in Directory → Groups)',
  },
  entra: {
    label: 'Entra ID',
    urlVars: ['GRAPH_TOKEN_URL', 'GRAPH_BASE_URL'],
    credentialsFix:
      'check GRAPH_TENANT_ID, GRAPH_CLIENT_ID and GRAPH_CLIENT_SECRET (a current secret of the app registration), and that the app has the application permissions GroupMember.ReadWrite.All and User.Read.All with admin consent',
    groupHint: 'the group’s object id (a GUID, from Entra admin center → Groups)',
  },
  google: {
    label: 'Google Workspace',
    urlVars: ['GOOGLE_TOKEN_URL', 'GOOGLE_ROOT_URL'],
    credentialsFix:
      'check GOOGLE_SA_KEY_FILE (an active key of the service account) and GOOGLE_ADMIN_SUBJECT (an admin it acts as), and that domain-wide delegation gives the service account’s client id the scopes admin.directory.group.member, admin.directory.user.readonly and admin.directory.group.readonly',
    groupHint: 'the group’s email address',
  },
  atlassian: {
    label: 'Atlassian',
    urlVars: ['JIRA_HOST'],
    credentialsFix: 'check JIRA_EMAIL and JIRA_API_TOKEN; adding people to groups needs the account to be a site admin or user access admin',
    groupHint: 'the group id (from admin.atlassian.com → Directory → Groups, in the group’s URL)',
  },
};

/**
 * Runs every check and prints the checklist. Resolves `{ ok, items }`; never rejects for a
 * problem it was asked to find.
 */
export async function runCheck(env: Record<string, string | undefined>, opts: CheckOptions = {}): Promise<CheckResult> {
  const timeoutMs = opts.fetchTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  const readFile = opts.readFile ?? ((p: string) => fs.readFileSync(p, 'utf8'));
  const rawOut = opts.out ?? ((line: string) => void process.stdout.write(`${line}\n`));
  const secrets = new Set<string>();
  for (const name of SECRET_VARS) {
    const v = env[name]?.trim();
    if (v) secrets.add(v);
  }
  const out = (line: string): void => rawOut(redact(line, secrets));
  const items: CheckItem[] = [];
  let section: CheckItem['section'] | undefined;
  const report = (list: CheckItem[]): void => {
    for (const it of list) {
      if (it.section !== section) {
        section = it.section;
        out('');
        out(SECTION_TITLE[section]);
      }
      items.push(it);
      for (const line of formatItem(it)) out(line);
    }
  };

  out('access-bot check');

  // 1. Environment.
  const cfg = loadConfig(env, readFile);
  if (!cfg.ok) {
    report(cfg.errors.map(envItem));
    // Without a valid environment the catalog is read against every connector, so its own
    // mistakes show now; "connector not configured" lines appear once the environment is fixed.
    const catalogPath = env.ACCESS_CATALOG?.trim() || DEFAULTS.catalogPath;
    const cat = loadCatalog(catalogPath, { configuredConnectors: CONNECTOR_NAMES, readFile });
    report(cat.ok ? [catalogSummary(catalogPath, cat.catalog)] : cat.errors.map((e) => catalogItem(e, catalogPath)));
    report([item('connections', 'connections', 'skip', 'Slack, Jira and the identity providers are tested once the environment is valid')]);
    return finish(items, out);
  }
  const config = cfg.config;
  for (const s of secretsOf(config)) secrets.add(s);
  secrets.add(Buffer.from(`${config.jira.email}:${config.jira.apiToken}`).toString('base64'));
  addGoogleKey(config, readFile, secrets);
  report([envSummary(config)]);

  // 2. Catalog. A role on an unconfigured connector is reported, and the rest still checked.
  const configured = connectorsOf(config);
  const strict = loadCatalog(config.catalogPath, { configuredConnectors: configured, readFile });
  let catalog: Catalog | undefined;
  if (strict.ok) {
    catalog = strict.catalog;
    report([catalogSummary(config.catalogPath, catalog)]);
  } else {
    report(strict.errors.map((e) => catalogItem(e, config.catalogPath)));
    const lenient = loadCatalog(config.catalogPath, { configuredConnectors: CONNECTOR_NAMES, readFile });
    if (lenient.ok) catalog = lenient.catalog;
  }
  if (catalog) report(managerItems(config, catalog));

  // 3-5. Connections, concurrently; printed in a fixed order.
  const connectors = safeBuildConnectors(config);
  const slack = checkSlack(config, catalog, timeoutMs);
  const jira = checkJira(config, catalog, timeoutMs);
  const idps = idpsToCheck(config, catalog).map((c) => checkIdp(c, config, catalog, connectors, timeoutMs));
  report(await slack);
  report(await jira);
  for (const idp of idps) report(await idp);
  return finish(items, out);
}

/** The lines printed for one item: the mark and name, then an indented fix for failures. */
export function formatItem(i: CheckItem): string[] {
  const lines = [`  ${SYMBOL[i.status]} ${i.name}${i.detail ? `: ${i.detail}` : ''}`];
  if (i.fix) lines.push(`      ${i.status === 'fail' ? 'fix' : 'hint'}: ${i.fix}`);
  return lines;
}

function finish(items: CheckItem[], out: (line: string) => void): CheckResult {
  const failed = items.filter((i) => i.status === 'fail').length;
  const warned = items.filter((i) => i.status === 'warn').length;
  out('');
  if (failed === 0) out(`All checks passed${warned ? ` (${warned} warning${warned === 1 ? '' : 's'})` : ''}.`);
  else out(`${failed} problem${failed === 1 ? '' : 's'} found${warned ? `, ${warned} warning${warned === 1 ? '' : 's'}` : ''}. Fix ${failed === 1 ? 'it' : 'them'} and run access-bot check again.`);
  return { ok: failed === 0, items };
}

function item(section: CheckItem['section'], name: string, status: CheckStatus, detail?: string, fix?: string): CheckItem {
  const i: CheckItem = { section, name, status, ok: status !== 'fail' };
  if (detail) i.detail = detail;
  if (fix) i.fix = fix;
  return i;
}

// ----- environment and catalog -----------------------------------------------------------------

/** loadConfig lines are `NAME: problem (hint)`; "required (hint)" becomes "set NAME to hint". */
function envItem(line: string): CheckItem {
  const at = line.indexOf(': ');
  const name = at > 0 ? line.slice(0, at) : 'environment';
  const problem = at > 0 ? line.slice(at + 2) : line;
  const required = /^required \((.*)\)$/.exec(problem);
  const fix = required ? `set ${name} to ${required[1]}` : `${name}: ${problem}`;
  return item('environment', name, 'fail', required ? 'not set' : problem, fix);
}

function envSummary(c: Config): CheckItem {
  const parts = [
    c.slack.appToken ? 'Socket Mode' : `HTTP mode on port ${c.port}`,
    `connectors: ${connectorsOf(c).join(', ')}`,
    c.managerSource ? `managers from ${c.managerSource}` : 'no manager source',
    `database ${c.databasePath}`,
  ];
  return item('environment', 'environment', 'pass', parts.join('; '));
}

function catalogSummary(path: string, c: Catalog): CheckItem {
  const roles = c.applications.reduce((n, a) => n + a.roles.length, 0);
  return item('catalog', `catalog ${path}`, 'pass', `${c.applications.length} application${c.applications.length === 1 ? '' : 's'}, ${roles} role${roles === 1 ? '' : 's'}; Jira project ${c.jira.project}, issue type ${c.jira.issueType}`);
}

/** Catalog lines are `path: problem`; a connector that is not configured gets its env fix. */
function catalogItem(line: string, file: string): CheckItem {
  const at = line.indexOf(': ');
  const where = at > 0 ? line.slice(0, at) : file;
  const problem = at > 0 ? line.slice(at + 2) : line;
  const unconfigured = /^"([a-z]+)" is not configured/.exec(problem);
  if (unconfigured && (CONNECTOR_NAMES as readonly string[]).includes(unconfigured[1]!)) {
    const c = unconfigured[1] as ConnectorName;
    return item('catalog', `catalog ${where}`, 'fail', `connector "${c}" is not configured`, `${CONFIGURE_HINT[c]} (see the ${IDP[c].label} setup), or grant this role through a configured connector in ${file}`);
  }
  if (where === file && /catalog file not found/.test(problem)) {
    return item('catalog', `catalog ${file}`, 'fail', 'file not found', `create ${file} (start from access-catalog.example.yaml), or set ACCESS_CATALOG to the catalog's path`);
  }
  const pos = where.startsWith(`${file}:`) ? /:(\d+):(\d+)$/.exec(where) : null;
  if (pos) return item('catalog', `catalog ${where}`, 'fail', problem, `edit ${file} at line ${pos[1]}, column ${pos[2]}: ${problem}`);
  return item('catalog', `catalog ${where}`, 'fail', problem, where === file ? `edit ${file}: ${problem}` : `edit ${where} in ${file}: ${problem}`);
}

/** `manager` approvers need an IdP that knows managers. */
function managerItems(config: Config, catalog: Catalog): CheckItem[] {
  const uses = rolesUsing(catalog, (r) => r.kind === 'manager');
  if (uses.length === 0 || config.managerSource) return [];
  return [
    item(
      'catalog',
      'manager approvers',
      'fail',
      `${listShort(uses)} ask the requester’s manager, but no IdP is configured to answer who that is`,
      'configure Okta, Entra ID or Google Workspace (MANAGER_SOURCE picks one), or replace `manager` in those approvers',
    ),
  ];
}

// ----- Slack --------------------------------------------------------------------------------

async function checkSlack(config: Config, catalog: Catalog | undefined, timeoutMs: number): Promise<CheckItem[]> {
  const items: CheckItem[] = [];
  const client = slackClient(config.slack.botToken, config.slack.apiUrl, timeoutMs);
  let auth: WebAPICallResult & Record<string, unknown>;
  try {
    auth = (await client.auth.test()) as WebAPICallResult & Record<string, unknown>;
  } catch (err) {
    items.push(slackFailure('slack token', err, config));
    return items;
  }
  const botId = str(auth['bot_id']);
  const who = `@${str(auth['user']) ?? '?'} (${str(auth['user_id']) ?? '?'}) in ${str(auth['team']) ? `“${str(auth['team'])}”` : 'the workspace'} (${str(auth['team_id']) ?? '?'})`;
  if (!botId) {
    items.push(item('slack', 'slack token', 'fail', `valid, but it is not a bot token (${who})`, 'set SLACK_BOT_TOKEN to the Bot User OAuth Token (xoxb-…) from OAuth & Permissions, not a user token'));
    return items;
  }
  items.push(item('slack', 'slack token', 'pass', `bot ${who}`));

  // Scopes: Slack reports what the token was granted in x-oauth-scopes on every answer.
  const granted = auth.response_metadata?.scopes;
  const usesGroups = catalog ? rolesUsing(catalog, (r) => r.kind === 'slackGroup').length > 0 : true;
  if (!granted) {
    items.push(item('slack', 'slack scopes', 'warn', 'Slack did not report the granted scopes (no x-oauth-scopes header)', 'compare OAuth & Permissions → Bot Token Scopes with slack-manifest.json'));
  } else {
    const required = Object.keys(REQUIRED_BOT_SCOPES);
    const missing = required.filter((s) => !granted.includes(s));
    // usergroups:read only matters when the catalog names a Slack user group.
    const blocking = missing.filter((s) => s !== 'usergroups:read' || usesGroups);
    if (blocking.length > 0) {
      const why = blocking.map((s) => `${s} (${REQUIRED_BOT_SCOPES[s]})`).join('; ');
      items.push(
        item('slack', 'slack scopes', 'fail', `missing ${blocking.join(', ')}`, `add ${joinAnd(blocking)} in OAuth & Permissions → Bot Token Scopes (or update the app from slack-manifest.json), reinstall the app to the workspace, and set SLACK_BOT_TOKEN again if it changed. Needed for: ${why}`),
      );
    } else {
      items.push(item('slack', 'slack scopes', 'pass', required.filter((s) => granted.includes(s)).join(', ')));
    }
    if (missing.length > blocking.length) {
      items.push(item('slack', 'slack scope usergroups:read', 'warn', 'not granted; needed only once the catalog names slack-group: approvers'));
    }
    const extra = granted.filter((s) => !required.includes(s));
    if (extra.length > 0) {
      items.push(item('slack', 'slack scopes not used', 'warn', extra.join(', '), 'access-bot does not need them: remove them in OAuth & Permissions and reinstall (least privilege)'));
    }
  }

  if (config.slack.appToken) items.push(await checkAppToken(config, timeoutMs));
  items.push(item('slack', 'slack signing secret', 'skip', 'cannot be tested from here; if /access answers “dispatch_failed”, compare SLACK_SIGNING_SECRET with Basic Information → App Credentials'));

  if (catalog) {
    items.push(...(await checkUserGroups(client, catalog)));
    items.push(...(await checkApproverEmails(client, catalog)));
    items.push(...channelItems(config, catalog));
  }
  return items;
}

/**
 * Like the bot's client (createWebClient: no retries, 429s returned), but quiet: the WebClient
 * logs failed requests as warnings, and here each failure is already an item on the checklist.
 */
function slackClient(token: string, apiUrl: string, timeoutMs: number): WebClient {
  return new WebClient(token, { slackApiUrl: apiUrl, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true, timeout: timeoutMs, logLevel: LogLevel.ERROR });
}

function slackFailure(name: string, err: unknown, config: Config): CheckItem {
  const e = err as { code?: string; data?: { error?: string }; message?: string; statusCode?: number };
  const code = e.data?.error;
  if (code === 'invalid_auth' || code === 'not_authed' || code === 'token_revoked' || code === 'token_expired' || code === 'account_inactive') {
    return item('slack', name, 'fail', `Slack refused SLACK_BOT_TOKEN (${code})`, 'set SLACK_BOT_TOKEN to the Bot User OAuth Token (xoxb-…) from OAuth & Permissions of the installed app; reinstall the app if the token was revoked');
  }
  if (code) return item('slack', name, 'fail', `Slack answered ${code}`, `see https://api.slack.com/methods/auth.test for “${code}”`);
  const status = e.statusCode ? `HTTP ${e.statusCode}` : (e.message ?? String(err));
  return item(
    'slack',
    name,
    'fail',
    `could not reach Slack at ${config.slack.apiUrl} (${status})`,
    config.slack.apiUrl === DEFAULTS.slackApiUrl ? 'check outbound HTTPS to slack.com (proxy, firewall)' : `check SLACK_API_URL (${config.slack.apiUrl}); unset it to use ${DEFAULTS.slackApiUrl}`,
  );
}

/** Socket Mode: the app-level token must open a connection (creates a URL; no socket is opened). */
async function checkAppToken(config: Config, timeoutMs: number): Promise<CheckItem> {
  const client = slackClient(config.slack.appToken!, config.slack.apiUrl, timeoutMs);
  try {
    await client.apps.connections.open();
    return item('slack', 'slack app token', 'pass', 'Socket Mode connection can be opened');
  } catch (err) {
    const code = (err as { data?: { error?: string } }).data?.error;
    if (code === 'unknown_method') return item('slack', 'slack app token', 'warn', 'this Slack API does not offer apps.connections.open; not tested');
    return item(
      'slack',
      'slack app token',
      'fail',
      code ? `Slack refused SLACK_APP_TOKEN (${code})` : `could not reach Slack (${(err as Error).message})`,
      'turn on Socket Mode in the app settings and set SLACK_APP_TOKEN to an app-level token (xapp-…) with connections:write from Basic Information → App-Level Tokens; or unset it for HTTP mode',
    );
  }
}

async function checkUserGroups(client: WebClient, catalog: Catalog): Promise<CheckItem[]> {
  const wanted = new Map<string, string[]>();
  for (const use of approverUses(catalog)) {
    if (use.ref.kind !== 'slackGroup') continue;
    const key = use.ref.group;
    wanted.set(key, [...(wanted.get(key) ?? []), use.where]);
  }
  if (wanted.size === 0) return [];
  let groups: { id?: string; handle?: string; date_delete?: number }[];
  try {
    const r = await client.usergroups.list({ include_disabled: false });
    groups = r.usergroups ?? [];
  } catch (err) {
    const code = (err as { data?: { error?: string } }).data?.error;
    if (code === 'missing_scope') return []; // reported by the scope check
    if (code === 'paid_teams_only' || code === 'plan_upgrade_required') {
      return [item('slack', 'slack user groups', 'fail', 'this workspace’s plan has no user groups', 'replace the slack-group: approvers in the catalog with emails')];
    }
    return [item('slack', 'slack user groups', 'warn', `could not list user groups (${code ?? (err as Error).message})`)];
  }
  const out: CheckItem[] = [];
  for (const [ref, where] of wanted) {
    const handle = ref.replace(/^@/, '');
    const g = groups.find((x) => x.id === ref || x.handle === handle);
    if (g) out.push(item('slack', `slack user group ${ref}`, 'pass', `${g.handle ? `@${g.handle}` : ''} ${g.id ?? ''}`.trim()));
    else out.push(item('slack', `slack user group ${ref}`, 'fail', `no enabled user group with this handle or id (used by ${listShort(where)})`, `create the user group @${handle} in Slack, or fix "slack-group:${ref}" in the catalog to an existing handle or id`));
  }
  return out;
}

/** Approvers named by email must have a Slack account, or their stage falls back or fails. */
async function checkApproverEmails(client: WebClient, catalog: Catalog): Promise<CheckItem[]> {
  const emails = new Map<string, string[]>();
  for (const use of approverUses(catalog)) {
    if (use.ref.kind === 'email') emails.set(use.ref.email, [...(emails.get(use.ref.email) ?? []), use.where]);
    if (use.ref.kind === 'owners') for (const o of use.owners) emails.set(o, [...(emails.get(o) ?? []), use.where]);
  }
  if (emails.size === 0) return [];
  const list = [...emails.keys()].slice(0, MAX_EMAIL_LOOKUPS);
  const missing: string[] = [];
  for (const email of list) {
    try {
      await client.users.lookupByEmail({ email });
    } catch (err) {
      const code = (err as { data?: { error?: string } }).data?.error;
      if (code === 'users_not_found') missing.push(email);
      else if (code === 'missing_scope') return []; // reported by the scope check
      else return [item('slack', 'approvers in Slack', 'warn', `could not look approvers up (${code ?? (err as Error).message})`)];
    }
  }
  const out: CheckItem[] = [];
  const skipped = emails.size - list.length;
  const found = list.length - missing.length;
  out.push(item('slack', 'approvers in Slack', missing.length === 0 ? 'pass' : 'warn', `${found} of ${list.length} approver emails found${skipped ? `; ${skipped} more not looked up` : ''}`));
  for (const email of missing) {
    out.push(item('slack', `approver ${email}`, 'warn', `no active Slack user has this email (used by ${listShort(emails.get(email) ?? [])})`, 'fix the email in the catalog, or expect that stage to use its fallback'));
  }
  return out;
}

/** Alert channels cannot be checked without channel-reading scopes the bot does not otherwise need. */
function channelItems(config: Config, catalog: Catalog): CheckItem[] {
  const channels = new Map<string, string[]>();
  if (config.adminChannel) channels.set(config.adminChannel, ['ADMIN_CHANNEL']);
  for (const app of catalog.applications) {
    for (const role of app.roles) {
      if (role.breakGlass) channels.set(role.breakGlass.notify, [...(channels.get(role.breakGlass.notify) ?? []), `${app.id}/${role.id} break-glass`]);
    }
  }
  return [...channels].map(([ch, uses]) => {
    const where = /^[CG][A-Z0-9]{6,}$/.test(ch) ? `the channel ${ch}` : ch.startsWith('#') ? ch : `#${ch}`;
    return item('slack', `slack channel ${ch}`, 'warn', `not tested (alerts for ${listShort(uses)})`, `invite the bot: type /invite @access-bot in ${where}; without it alerts there fail with not_in_channel`);
  });
}

// ----- Jira ---------------------------------------------------------------------------------

async function checkJira(config: Config, catalog: Catalog | undefined, timeoutMs: number): Promise<CheckItem[]> {
  if (!catalog) {
    // Without a catalog there is no project to look at; the credentials can still be tested.
    const record = JiraCloudRecord.fromConfig({ host: config.jira.host, email: config.jira.email, apiToken: config.jira.apiToken, timeoutMs });
    const h = await guard('jira credentials', () => record.checkHealth('', '', []), timeoutMs * 3, config.jira.host);
    const cred = h.checks.find((c) => c.name === 'jira credentials') ?? h.checks[0];
    return [
      ...(cred ? [jiraItem(cred, config, undefined, '')] : []),
      item('jira', 'jira project', 'skip', 'tested once the catalog is valid'),
    ];
  }
  const { project, issueType } = catalog.jira;
  const names = [...new Set(Object.values(catalog.jira.transitions).filter((n): n is string => typeof n === 'string'))];
  const record = JiraCloudRecord.fromConfig({ host: config.jira.host, email: config.jira.email, apiToken: config.jira.apiToken, timeoutMs });
  const health = await guard('jira', () => record.checkHealth(project, issueType, names), timeoutMs * 4, config.jira.host);
  const items: CheckItem[] = [];
  for (const c of health.checks) {
    // The record defers transitions to first use; they are looked for on existing issues below.
    if (c.name === 'jira transitions' && c.ok) continue;
    items.push(jiraItem(c, config, catalog, config.catalogPath));
  }
  const passed = (name: string): boolean => health.checks.some((c) => c.name === name && c.ok);
  if (names.length > 0 && passed(`jira project ${project}`) && passed(`jira permissions in ${project}`)) {
    items.push(...(await checkTransitions(config, catalog, timeoutMs)));
  }
  return items;
}

function jiraItem(c: HealthReport['checks'][number], config: Config, catalog: Catalog | undefined, file: string): CheckItem {
  const name = c.name;
  if (c.ok) return item('jira', name, 'pass', c.detail);
  const detail = c.detail ?? 'failed';
  if (NETWORK_RE.test(detail) && !/\b[1-5][0-9]{2}\b/.test(detail.replace(/\d+ ms/g, ''))) {
    return item('jira', name, 'fail', detail, `check JIRA_HOST (${config.jira.host}) is your Jira Cloud site and reachable from here`);
  }
  if (/\b401\b|credentials rejected/.test(detail)) {
    return item('jira', name, 'fail', detail, `create an API token at https://id.atlassian.com/manage-profile/security/api-tokens while signed in as JIRA_EMAIL (${config.jira.email}) and set JIRA_API_TOKEN to it`);
  }
  const project = catalog?.jira.project ?? '';
  if (name === `jira project ${project}`) {
    return item('jira', name, 'fail', detail, `set jira.project in ${file} to an existing project key, or give ${config.jira.email} the Browse projects permission in ${project}`);
  }
  if (name.startsWith('jira issue type')) {
    const available = /available: (.*)$/.exec(detail)?.[1];
    return item('jira', name, 'fail', detail, `set jira.issueType in ${file} to ${available ? `one of: ${available}` : 'an issue type of the project'}, or add it to ${project}’s issue type scheme`);
  }
  if (name.startsWith('jira permissions')) {
    const missing = /missing: (.*)$/.exec(detail)?.[1] ?? 'the missing permissions';
    return item('jira', name, 'fail', detail, `grant ${config.jira.email} ${missing} in ${project}’s permission scheme (Project settings → Permissions)`);
  }
  return item('jira', name, 'fail', detail, `check JIRA_HOST (${config.jira.host}), JIRA_EMAIL and JIRA_API_TOKEN`);
}

interface JiraIssueLite {
  key?: string;
  fields?: { status?: { name?: string } };
  transitions?: { name?: string; to?: { name?: string } }[];
}

/**
 * Jira lists transitions per issue, from its current status, and reading a workflow needs admin
 * rights the bot should not have. So transitions are looked for on existing issues of the
 * project and type: one issue per status, following each transition's target status. A name is
 * missing for certain only when every reachable status was seen; otherwise it is a warning.
 */
async function checkTransitions(config: Config, catalog: Catalog, timeoutMs: number): Promise<CheckItem[]> {
  const { project, issueType, transitions } = catalog.jira;
  const auth = `Basic ${Buffer.from(`${config.jira.email}:${config.jira.apiToken}`).toString('base64')}`;
  const call = async <T>(path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${config.jira.host}/rest/api/3${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: auth, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) throw new Error(`Jira answered ${res.status} to ${path.split('?')[0]}`);
    return (await res.json()) as T;
  };
  const scope = `project = ${jql(project)} AND issuetype = ${jql(issueType)}`;
  const search = async (q: string, max: number): Promise<JiraIssueLite[]> => (await call<{ issues?: JiraIssueLite[] }>('/search/jql', { jql: q, fields: ['status'], maxResults: max })).issues ?? [];

  const sample = new Map<string, string>(); // status -> an issue in it
  const offered = new Map<string, { name: string; from: Set<string> }>(); // lower-case name -> where
  const examined = new Set<string>();
  const unseen = new Set<string>();
  try {
    for (const i of await search(`${scope} ORDER BY updated DESC`, 100)) {
      const s = i.fields?.status?.name;
      if (s && i.key && !sample.has(s)) sample.set(s, i.key);
    }
    const queue = [...sample.keys()];
    // Workflows have a handful of statuses; the cap only bounds a pathological one.
    while (queue.length > 0 && examined.size + unseen.size < 40) {
      const status = queue.shift()!;
      if (examined.has(status) || unseen.has(status)) continue;
      const key = sample.get(status) ?? (await search(`${scope} AND status = ${jql(status)}`, 1))[0]?.key;
      if (!key) {
        unseen.add(status);
        continue;
      }
      examined.add(status);
      const issue = await call<JiraIssueLite>(`/issue/${encodeURIComponent(key)}?fields=status&expand=transitions`);
      for (const t of issue.transitions ?? []) {
        if (!t.name) continue;
        const entry = offered.get(t.name.toLowerCase()) ?? { name: t.name, from: new Set<string>() };
        entry.from.add(status);
        offered.set(t.name.toLowerCase(), entry);
        if (t.to?.name) queue.push(t.to.name);
      }
    }
  } catch (err) {
    return [item('jira', 'jira transitions', 'warn', `could not look at existing issues (${(err as Error).message}); checked when first applied`)];
  }

  const wanted = new Map<string, string[]>(); // name -> states using it
  for (const [state, name] of Object.entries(transitions)) if (name) wanted.set(name, [...(wanted.get(name) ?? []), state]);
  if (examined.size === 0) {
    return [item('jira', 'jira transitions', 'warn', `no ${issueType} issues in ${project} yet, so ${[...wanted.keys()].map((n) => `"${n}"`).join(', ')} cannot be confirmed; each is checked when first applied`)];
  }
  const all = [...offered.values()].map((o) => `"${o.name}"`).join(', ') || 'none';
  const items: CheckItem[] = [];
  for (const [name, states] of wanted) {
    const label = `jira transition "${name}"`;
    const use = states.join(', ');
    const hit = offered.get(name.trim().toLowerCase());
    if (hit) {
      items.push(item('jira', label, 'pass', `for ${use}; offered from ${[...hit.from].join(', ')}`));
    } else if (unseen.size === 0) {
      items.push(
        item(
          'jira',
          label,
          'fail',
          `for ${use}: no transition of that name in the workflow of ${project} ${issueType} issues (it has ${all})`,
          `set jira.transitions.${states[0]} in ${config.catalogPath} to one of ${all}, or add a transition named "${name}" to the workflow`,
        ),
      );
    } else {
      items.push(item('jira', label, 'warn', `for ${use}: not offered from ${[...examined].join(', ')}; no issue is in ${[...unseen].join(', ')} yet, so it is checked when first applied`));
    }
  }
  return items;
}

// ----- identity connectors --------------------------------------------------------------------

interface BuiltConnectors {
  connectors: Partial<Record<ConnectorName, IdpConnector>>;
  /** Why the registry could not build them, if it threw. */
  error?: string;
}

function safeBuildConnectors(config: Config): BuiltConnectors {
  try {
    return { connectors: buildConnectors(config) };
  } catch (err) {
    return { connectors: {}, error: err instanceof Error ? err.message : String(err) };
  }
}

/** Each IdP connector the environment turns on; atlassian (always on) only when the catalog uses it. */
function idpsToCheck(config: Config, catalog: Catalog | undefined): ConnectorName[] {
  const used = new Set(catalog?.applications.flatMap((a) => a.roles.map((r) => r.grant.connector)) ?? []);
  return connectorsOf(config).filter((c) => c !== 'atlassian' || used.has(c));
}

async function checkIdp(
  name: ConnectorName,
  config: Config,
  catalog: Catalog | undefined,
  built: BuiltConnectors,
  timeoutMs: number,
): Promise<CheckItem[]> {
  const meta = IDP[name];
  const groups = new Map<string, string[]>(); // group -> app/role using it
  for (const app of catalog?.applications ?? []) {
    for (const role of app.roles) {
      if (role.grant.connector === name) groups.set(role.grant.group, [...(groups.get(role.grant.group) ?? []), `${app.id}/${role.id}`]);
    }
  }
  const connector = built.connectors[name];
  if (built.error) {
    return [item(name, `${name} connector`, 'fail', `could not be set up: ${built.error}`, meta.credentialsFix)];
  }
  if (!connector) {
    const uses = listShort([...groups.values()].flat());
    return [
      groups.size > 0
        ? item(name, `${name} connector`, 'fail', `configured, but this build of access-bot has no ${meta.label} connector`, `grant ${uses} through another connector, or upgrade access-bot`)
        : item(name, `${name} connector`, 'warn', `configured, but this build of access-bot has no ${meta.label} connector and the catalog does not use it`),
    ];
  }
  const urls = meta.urlVars.map((v) => `${v} (${urlOf(config, v)})`).join(' and ');
  const report = await guard('connection', () => connector.checkHealth([...groups.keys()]), timeoutMs * 3, urls);
  const items: CheckItem[] = [];
  for (const c of report.checks) {
    const group = [...groups.keys()].find((g) => c.name.includes(g));
    const label = `${name} ${c.name}`;
    if (c.ok) {
      items.push(item(name, label, 'pass', c.detail));
      continue;
    }
    const detail = c.detail ?? 'failed';
    if (/^not checked\b/.test(detail)) {
      // A group left unchecked because the credentials failed: that failure is the one to fix.
      items.push(item(name, label, 'skip', detail));
    } else if (NETWORK_RE.test(detail) && !AUTH_RE.test(detail)) {
      items.push(item(name, label, 'fail', detail, `check ${urls}: the ${meta.label} API must be reachable from here`));
    } else if (AUTH_RE.test(detail)) {
      items.push(item(name, label, 'fail', detail, meta.credentialsFix));
    } else if (group !== undefined) {
      items.push(item(name, label, 'fail', detail, `set grant.group of ${listShort(groups.get(group) ?? [])} in ${config.catalogPath} to ${meta.groupHint}, or create the group`));
    } else {
      items.push(item(name, label, 'fail', detail, meta.credentialsFix));
    }
  }
  return items;
}

function urlOf(config: Config, v: string): string {
  switch (v) {
    case 'OKTA_ORG_URL':
      return config.okta?.orgUrl ?? '';
    case 'GRAPH_TOKEN_URL':
      return config.graph?.tokenUrl ?? '';
    case 'GRAPH_BASE_URL':
      return config.graph?.baseUrl ?? '';
    case 'GOOGLE_TOKEN_URL':
      return config.google?.tokenUrl ?? '';
    case 'GOOGLE_ROOT_URL':
      return config.google?.rootUrl ?? '';
    default:
      return config.jira.host;
  }
}

/**
 * A health check that does not answer in time becomes a failing report, so one hanging service
 * cannot stall the whole check (adapters have their own, longer, request timeouts).
 */
async function guard(name: string, run: () => Promise<HealthReport>, deadlineMs: number, where: string): Promise<HealthReport> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<HealthReport>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, checks: [{ name, ok: false, detail: `no answer within ${deadlineMs} ms from ${where}` }] }), deadlineMs);
    timer.unref();
  });
  try {
    return await Promise.race([
      // checkHealth must not throw; if one does anyway, it is a failed check, not a crash.
      run().catch((err: unknown) => ({ ok: false, checks: [{ name, ok: false, detail: err instanceof Error ? err.message : String(err) }] })),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

// ----- helpers --------------------------------------------------------------------------------

interface ApproverUse {
  ref: ApproverRef;
  /** "app/role". */
  where: string;
  owners: string[];
}

function approverUses(catalog: Catalog): ApproverUse[] {
  const out: ApproverUse[] = [];
  for (const app of catalog.applications) {
    for (const role of app.roles) {
      if (role.approval.kind !== 'stages') continue;
      const p = role.approval;
      const refs = [...p.stages.flatMap((s) => s.approvers), ...p.fallback, ...p.escalateTo];
      for (const ref of refs) out.push({ ref, where: `${app.id}/${role.id}`, owners: app.owners });
    }
  }
  return out;
}

function rolesUsing(catalog: Catalog, pred: (r: ApproverRef) => boolean): string[] {
  return [...new Set(approverUses(catalog).filter((u) => pred(u.ref)).map((u) => u.where))];
}

function listShort(xs: string[]): string {
  const u = [...new Set(xs)];
  return u.length <= 3 ? joinAnd(u) : `${u.slice(0, 3).join(', ')} and ${u.length - 3} more`;
}

function joinAnd(xs: string[]): string {
  return xs.length <= 1 ? (xs[0] ?? '') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/** A JQL string literal. */
function jql(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** The Google key's private key is a secret too, though it lives in a file. */
function addGoogleKey(config: Config, readFile: (p: string) => string, secrets: Set<string>): void {
  if (!config.google) return;
  try {
    const key = JSON.parse(readFile(config.google.saKeyFile)) as { private_key?: unknown };
    if (typeof key.private_key === 'string') {
      secrets.add(key.private_key);
      // Each base64 line of the PEM body, in case a message quotes part of it.
      for (const line of key.private_key.split('\n')) if (line.length >= 16 && !line.startsWith('-----')) secrets.add(line);
    }
  } catch {
    // loadConfig already checked the file; nothing more to mask if it cannot be read now.
  }
}

