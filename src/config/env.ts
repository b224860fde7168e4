/**
 * Reads and validates the environment (ARCHITECTURE.md §4, Environment) into a `Config`.
 *
 * Every problem is collected, one line each, as `NAME: what is wrong (what is expected)`, so an
 * operator fixes everything in one pass. Secret values never appear in a message.
 *
 * Plain code rather than a zod schema: most rules here cross variables (connector groups,
 * NAME vs NAME_FILE, MANAGER_SOURCE must be configured) and the wording of each line matters more
 * than the schema being declarative.
 */
import fs from 'node:fs';
import type { ConnectorName } from '../domain/catalog.js';
import type { Config, LogLevel, ManagerSource } from './types.js';

export type LoadConfigResult = { ok: true; config: Config } | { ok: false; errors: string[] };

/** Variables that may also be given as NAME_FILE; never echoed in errors. */
const SECRETS = [
  'SLACK_BOT_TOKEN',
  'SLACK_SIGNING_SECRET',
  'SLACK_APP_TOKEN',
  'JIRA_API_TOKEN',
  'JIRA_WEBHOOK_SECRET',
  'OKTA_API_TOKEN',
  'GRAPH_CLIENT_SECRET',
  'METRICS_TOKEN',
] as const;
type SecretName = (typeof SECRETS)[number];

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const MANAGER_SOURCES: readonly ManagerSource[] = ['okta', 'entra', 'google'];

export const DEFAULTS = {
  port: 3000,
  databasePath: './data/access-bot.db',
  catalogPath: './access-catalog.yaml',
  slackApiUrl: 'https://slack.com/api/',
  graphBaseUrl: 'https://graph.microsoft.com',
  graphTokenUrl: (tenant: string) => `https://login.microsoftonline.com/${encodeURIComponent(tenant)}/oauth2/v2.0/token`,
  googleRootUrl: 'https://admin.googleapis.com/',
  googleTokenUrl: 'https://oauth2.googleapis.com/token',
  logLevel: 'info' as LogLevel,
} as const;

/** What each required or group variable holds, for "required (...)" lines. */
const HINTS: Record<string, string> = {
  SLACK_BOT_TOKEN: 'the bot token, xoxb-…',
  SLACK_SIGNING_SECRET: "the app's signing secret, from Basic Information",
  JIRA_HOST: 'your Jira Cloud site, e.g. https://your-site.atlassian.net',
  JIRA_EMAIL: 'the Atlassian account email that owns JIRA_API_TOKEN',
  JIRA_API_TOKEN: 'an Atlassian API token for JIRA_EMAIL',
  OKTA_ORG_URL: 'your Okta org, e.g. https://your-org.okta.com',
  OKTA_API_TOKEN: 'an Okta API token',
  GRAPH_TENANT_ID: 'the Entra tenant id',
  GRAPH_CLIENT_ID: "the app registration's client id",
  GRAPH_CLIENT_SECRET: "the app registration's client secret",
  GOOGLE_SA_KEY_FILE: "path to the service account's JSON key",
  GOOGLE_ADMIN_SUBJECT: 'the Workspace admin email the service account acts as',
  METRICS_TOKEN: 'a bearer token for /metrics, e.g. from `openssl rand -hex 32`',
};

/** RFC 6750's b64token: what a client can send after `Bearer ` unchanged. */
const BEARER_TOKEN_RE = /^[A-Za-z0-9._~+/-]+=*$/;
/** Short enough to guess, or to slip past the logger's masking, is refused. */
const METRICS_TOKEN_MIN = 16;

const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function loadConfig(
  env: Record<string, string | undefined>,
  readFile: (path: string) => string = (p) => fs.readFileSync(p, 'utf8'),
): LoadConfigResult {
  const errors: string[] = [];
  const fail = (name: string, msg: string): undefined => {
    errors.push(`${name}: ${msg}`);
    return undefined;
  };

  /** A plain variable, trimmed; empty counts as unset (env files often carry `NAME=`). */
  const plain = (name: string): string | undefined => {
    const v = env[name]?.trim();
    return v ? v : undefined;
  };

  /** A secret from NAME or NAME_FILE. `present` is true when either was given, even if unreadable. */
  const secretState = new Map<SecretName, { value?: string; present: boolean }>();
  for (const name of SECRETS) {
    const direct = plain(name);
    const file = plain(`${name}_FILE`);
    if (direct !== undefined && file !== undefined) {
      fail(name, `set either ${name} or ${name}_FILE, not both`);
      secretState.set(name, { present: true });
    } else if (file !== undefined) {
      let text: string | undefined;
      try {
        text = readFile(file);
      } catch (e) {
        fail(`${name}_FILE`, `cannot read "${file}" (${errCode(e)})`);
      }
      // Only the trailing newline(s) an editor or `echo` adds; the secret itself is kept as is.
      const value = text?.replace(/[\r\n]+$/, '');
      if (text !== undefined && !value) fail(`${name}_FILE`, `"${file}" is empty (expected ${HINTS[name] ?? 'the secret'})`);
      secretState.set(name, { value: value || undefined, present: true });
    } else {
      secretState.set(name, { value: direct, present: direct !== undefined });
    }
  }
  const secret = (name: SecretName): string | undefined => secretState.get(name)?.value;
  const isSet = (name: string): boolean =>
    (SECRETS as readonly string[]).includes(name) ? secretState.get(name as SecretName)!.present : plain(name) !== undefined;

  const required = <T>(name: string, value: T | undefined): T | undefined => {
    // A secret given but unreadable already has its own line.
    if (value === undefined && !isSet(name)) fail(name, `required (${HINTS[name] ?? 'no default'})`);
    return value;
  };

  /** A port variable; 0 asks the OS for a free port (tests, the demo). */
  const portOf = (name: string): number | undefined => {
    const raw = plain(name);
    if (raw === undefined) return undefined;
    const n = /^[0-9]{1,5}$/.test(raw) ? Number(raw) : NaN;
    return n >= 0 && n <= 65535 ? n : fail(name, `"${raw}" is not a port number (0-65535)`);
  };

  // --- general ---
  const givenPort = portOf('PORT');
  const port = givenPort ?? DEFAULTS.port;

  let logLevel: LogLevel = DEFAULTS.logLevel;
  const levelRaw = plain('LOG_LEVEL');
  if (levelRaw !== undefined) {
    const l = levelRaw.toLowerCase();
    if ((LOG_LEVELS as readonly string[]).includes(l)) logLevel = l as LogLevel;
    else fail('LOG_LEVEL', `"${levelRaw}" is not a log level (one of ${LOG_LEVELS.join(', ')})`);
  }

  // Guests and Slack Connect users act only when the operator says so; a typo must not open the door.
  let allowGuests = false;
  const guestsRaw = plain('ALLOW_GUESTS');
  if (guestsRaw !== undefined) {
    const g = guestsRaw.toLowerCase();
    if (g === 'true' || g === 'false') allowGuests = g === 'true';
    else fail('ALLOW_GUESTS', `"${guestsRaw}" is not true or false (true lets Slack guests and Slack Connect users request and decide; default false)`);
  }

  // --- Slack ---
  const botToken = required('SLACK_BOT_TOKEN', secret('SLACK_BOT_TOKEN'));
  const signingSecret = required('SLACK_SIGNING_SECRET', secret('SLACK_SIGNING_SECRET'));
  let appToken = secret('SLACK_APP_TOKEN');
  if (appToken !== undefined && !appToken.startsWith('xapp-')) {
    appToken = fail('SLACK_APP_TOKEN', 'does not start with xapp- (an app-level token with connections:write, for Socket Mode; unset it for HTTP mode)');
  }
  let slackApiUrl: string | undefined = DEFAULTS.slackApiUrl;
  const slackApiRaw = plain('SLACK_API_URL');
  if (slackApiRaw !== undefined) {
    const u = parseHttpUrl('SLACK_API_URL', slackApiRaw, 'https://slack.com/api/', fail);
    if (u) {
      if (u.search || u.hash) slackApiUrl = fail('SLACK_API_URL', `"${slackApiRaw}" has a query or fragment (expected e.g. https://slack.com/api/)`);
      else if (u.pathname.endsWith('/api/')) slackApiUrl = u.href;
      else if (u.pathname.endsWith('/api')) slackApiUrl = `${u.href}/`;
      else slackApiUrl = fail('SLACK_API_URL', `"${slackApiRaw}" does not end with /api/ (expected e.g. https://slack.com/api/)`);
    } else slackApiUrl = undefined;
  }

  // --- Jira ---
  const jiraHostRaw = required('JIRA_HOST', plain('JIRA_HOST'));
  const jiraHost = jiraHostRaw === undefined ? undefined : parseOrigin('JIRA_HOST', jiraHostRaw, 'https://your-site.atlassian.net', fail);
  let jiraEmail = required('JIRA_EMAIL', plain('JIRA_EMAIL'));
  if (jiraEmail !== undefined && !EMAIL_RE.test(jiraEmail)) {
    jiraEmail = fail('JIRA_EMAIL', `"${jiraEmail}" is not an email address (${HINTS.JIRA_EMAIL})`);
  }
  const jiraApiToken = required('JIRA_API_TOKEN', secret('JIRA_API_TOKEN'));
  const webhookSecret = secret('JIRA_WEBHOOK_SECRET');

  // --- connectors: a group is on when all its variables are set; some but not all is an error ---
  const group = (names: string[], what: string): boolean => {
    const set = names.filter(isSet);
    if (set.length === 0) return false;
    if (set.length === names.length) return true;
    for (const missing of names.filter((n) => !isSet(n))) {
      fail(missing, `required when ${joinAnd(set)} ${set.length === 1 ? 'is' : 'are'} set (${HINTS[missing]}; or unset ${joinAnd(set)} to turn the ${what} connector off)`);
    }
    return false;
  };

  let okta: Config['okta'];
  if (group(['OKTA_ORG_URL', 'OKTA_API_TOKEN'], 'Okta')) {
    const orgUrl = parseOrigin('OKTA_ORG_URL', plain('OKTA_ORG_URL')!, 'https://your-org.okta.com', fail);
    const apiToken = secret('OKTA_API_TOKEN');
    if (orgUrl && apiToken) okta = { orgUrl, apiToken };
  }

  // Base URLs are checked even when their connector is off: a malformed URL is always a mistake.
  const graphBaseRaw = plain('GRAPH_BASE_URL');
  const graphBaseUrl = graphBaseRaw === undefined ? DEFAULTS.graphBaseUrl : parseOrigin('GRAPH_BASE_URL', graphBaseRaw, DEFAULTS.graphBaseUrl, fail);
  const graphTokenRaw = plain('GRAPH_TOKEN_URL');
  const graphTokenUrl = graphTokenRaw === undefined ? undefined : parseHttpUrl('GRAPH_TOKEN_URL', graphTokenRaw, DEFAULTS.graphTokenUrl('<tenant>'), fail)?.href;
  let graph: Config['graph'];
  if (group(['GRAPH_TENANT_ID', 'GRAPH_CLIENT_ID', 'GRAPH_CLIENT_SECRET'], 'Entra')) {
    const tenantId = plain('GRAPH_TENANT_ID')!;
    const clientId = plain('GRAPH_CLIENT_ID')!;
    const clientSecret = secret('GRAPH_CLIENT_SECRET');
    const tokenUrl = graphTokenRaw === undefined ? DEFAULTS.graphTokenUrl(tenantId) : graphTokenUrl;
    if (clientSecret && graphBaseUrl && tokenUrl) graph = { tenantId, clientId, clientSecret, baseUrl: graphBaseUrl, tokenUrl };
  }

  const googleRootRaw = plain('GOOGLE_ROOT_URL');
  const googleRootOrigin = googleRootRaw === undefined ? undefined : parseOrigin('GOOGLE_ROOT_URL', googleRootRaw, DEFAULTS.googleRootUrl, fail);
  // The Google client wants its root with the trailing slash.
  const googleRootUrl = googleRootRaw === undefined ? DEFAULTS.googleRootUrl : googleRootOrigin && `${googleRootOrigin}/`;
  const googleTokenRaw = plain('GOOGLE_TOKEN_URL');
  const googleTokenUrl =
    googleTokenRaw === undefined ? DEFAULTS.googleTokenUrl : parseHttpUrl('GOOGLE_TOKEN_URL', googleTokenRaw, DEFAULTS.googleTokenUrl, fail)?.href;
  let google: Config['google'];
  if (group(['GOOGLE_SA_KEY_FILE', 'GOOGLE_ADMIN_SUBJECT'], 'Google')) {
    const saKeyFile = plain('GOOGLE_SA_KEY_FILE')!;
    const adminSubject = plain('GOOGLE_ADMIN_SUBJECT')!;
    const keyOk = checkServiceAccountKey(saKeyFile, readFile, fail);
    const subjectOk = EMAIL_RE.test(adminSubject) || fail('GOOGLE_ADMIN_SUBJECT', `"${adminSubject}" is not an email address (${HINTS.GOOGLE_ADMIN_SUBJECT})`);
    if (keyOk && subjectOk && googleRootUrl && googleTokenUrl) google = { saKeyFile, adminSubject, rootUrl: googleRootUrl, tokenUrl: googleTokenUrl };
  }

  // --- manager source: must name a configured IdP; default the first configured ---
  // "Configured" means all of the group's variables are set; a bad value there has its own line.
  const configured: Record<ManagerSource, boolean> = {
    okta: ['OKTA_ORG_URL', 'OKTA_API_TOKEN'].every(isSet),
    entra: ['GRAPH_TENANT_ID', 'GRAPH_CLIENT_ID', 'GRAPH_CLIENT_SECRET'].every(isSet),
    google: ['GOOGLE_SA_KEY_FILE', 'GOOGLE_ADMIN_SUBJECT'].every(isSet),
  };
  let managerSource: ManagerSource | undefined = MANAGER_SOURCES.find((s) => configured[s]);
  const msRaw = plain('MANAGER_SOURCE');
  if (msRaw !== undefined) {
    const ms = msRaw.toLowerCase();
    if (!(MANAGER_SOURCES as readonly string[]).includes(ms)) {
      managerSource = fail('MANAGER_SOURCE', `"${msRaw}" is not a manager source (one of ${MANAGER_SOURCES.join(', ')})`);
    } else if (!configured[ms as ManagerSource]) {
      managerSource = fail('MANAGER_SOURCE', `"${ms}" is not configured (${CONFIGURE_HINT[ms as ManagerSource]})`);
    } else managerSource = ms as ManagerSource;
  }

  // --- /metrics: behind a bearer token, on its own port, or both ---
  const metricsToken = secret('METRICS_TOKEN');
  if (metricsToken !== undefined && (metricsToken.length < METRICS_TOKEN_MIN || !BEARER_TOKEN_RE.test(metricsToken))) {
    fail('METRICS_TOKEN', `must be at least ${METRICS_TOKEN_MIN} characters of A-Z, a-z, 0-9, - . _ ~ + / (${HINTS.METRICS_TOKEN})`);
  }
  const metricsPort = portOf('METRICS_PORT');
  // Compared only with a PORT that is valid (or defaulted): a wrong PORT has its own line.
  const portValid = givenPort !== undefined || plain('PORT') === undefined;
  if (metricsPort !== undefined && metricsPort !== 0 && portValid && metricsPort === port) {
    fail('METRICS_PORT', `is the same as PORT (${port}); give /metrics another port, or unset METRICS_PORT to serve it on PORT`);
  }

  if (errors.length > 0) return { ok: false, errors };

  // Everything required was checked above; these guards only narrow the types.
  if (!botToken || !signingSecret || !slackApiUrl || !jiraHost || !jiraEmail || !jiraApiToken) {
    return { ok: false, errors: ['internal: configuration incomplete without a reported error'] };
  }
  const config: Config = {
    port,
    databasePath: plain('DATABASE_PATH') ?? DEFAULTS.databasePath,
    catalogPath: plain('ACCESS_CATALOG') ?? DEFAULTS.catalogPath,
    slack: { botToken, signingSecret, apiUrl: slackApiUrl, ...(appToken ? { appToken } : {}) },
    jira: { host: jiraHost, email: jiraEmail, apiToken: jiraApiToken, ...(webhookSecret ? { webhookSecret } : {}) },
    logLevel,
    allowGuests,
  };
  if (okta) config.okta = okta;
  if (graph) config.graph = graph;
  if (google) config.google = google;
  const adminChannel = plain('ADMIN_CHANNEL');
  if (adminChannel) config.adminChannel = adminChannel;
  if (managerSource) config.managerSource = managerSource;
  if (metricsToken !== undefined || metricsPort !== undefined) {
    config.metrics = { ...(metricsToken !== undefined ? { token: metricsToken } : {}), ...(metricsPort !== undefined ? { port: metricsPort } : {}) };
  }
  return { ok: true, config };
}

/** The connectors this configuration turns on, for `parseCatalog`'s `configuredConnectors`. */
export function connectorsOf(config: Config): ConnectorName[] {
  const out: ConnectorName[] = [];
  if (config.okta) out.push('okta');
  if (config.graph) out.push('entra');
  if (config.google) out.push('google');
  // atlassian uses the Jira credentials, which are always required.
  out.push('atlassian');
  return out;
}

/** How to turn each connector on, for "... is not configured" lines (also used by the catalog). */
export const CONFIGURE_HINT: Record<ManagerSource | 'atlassian', string> = {
  okta: 'set OKTA_ORG_URL and OKTA_API_TOKEN',
  entra: 'set GRAPH_TENANT_ID, GRAPH_CLIENT_ID and GRAPH_CLIENT_SECRET',
  google: 'set GOOGLE_SA_KEY_FILE and GOOGLE_ADMIN_SUBJECT',
  atlassian: 'set JIRA_HOST, JIRA_EMAIL and JIRA_API_TOKEN',
};

type Fail = (name: string, msg: string) => undefined;

/** An http(s) URL; credentials in it are refused without echoing them. */
function parseHttpUrl(name: string, raw: string, example: string, fail: Fail): URL | undefined {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return fail(name, `"${raw}" is not a URL (expected e.g. ${example})`);
  }
  if (u.username || u.password) return fail(name, `must not contain a user name or password (expected e.g. ${example})`);
  // http is allowed on purpose: tests and the demo run against local emulators.
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return fail(name, `"${raw}" is not an http(s) URL (expected e.g. ${example})`);
  return u;
}

/** An origin (scheme, host, port): a trailing slash is dropped, any other path is an error. */
function parseOrigin(name: string, raw: string, example: string, fail: Fail): string | undefined {
  const u = parseHttpUrl(name, raw, example, fail);
  if (!u) return undefined;
  if (u.pathname !== '/' || u.search || u.hash) return fail(name, `"${raw}" has a path (expected only scheme, host and port, e.g. ${example})`);
  return u.origin;
}

/** The key must be readable JSON with the two fields the JWT needs; its content is never echoed. */
function checkServiceAccountKey(path: string, readFile: (p: string) => string, fail: Fail): boolean {
  let text: string;
  try {
    text = readFile(path);
  } catch (e) {
    return fail('GOOGLE_SA_KEY_FILE', `cannot read "${path}" (${errCode(e)})`) ?? false;
  }
  let key: unknown;
  try {
    key = JSON.parse(text);
  } catch {
    return fail('GOOGLE_SA_KEY_FILE', `"${path}" is not JSON (expected the service account key downloaded from Google Cloud)`) ?? false;
  }
  const k = key as Record<string, unknown> | null;
  const missing = ['client_email', 'private_key'].filter((f) => typeof k?.[f] !== 'string' || !k[f]);
  if (typeof key !== 'object' || key === null || missing.length > 0) {
    return fail('GOOGLE_SA_KEY_FILE', `"${path}" has no ${joinAnd(missing.length ? missing : ['client_email', 'private_key'])} (expected a service account JSON key)`) ?? false;
  }
  return true;
}

function errCode(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : e instanceof Error ? e.message : String(e);
}

function joinAnd(xs: string[]): string {
  return xs.length <= 1 ? (xs[0] ?? '') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`;
}
