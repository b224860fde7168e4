/**
 * Reads and validates the environment (ARCHITECTURE.md §4, Environment) into a `Config`, with
 * the connector instances: from the catalog's `connectors:` block when it has one (it says which
 * variables or files hold their secrets), else from each connector type's variables
 * (config/connectors.ts).
 *
 * Every problem is collected, one line each, as `NAME: what is wrong (what is expected)`, so an
 * operator fixes everything in one pass. Secret values never appear in a message.
 *
 * Plain code rather than a zod schema: most rules here cross variables (connector groups,
 * NAME vs NAME_FILE, MANAGER_SOURCE must be configured) and the wording of each line matters more
 * than the schema being declarative.
 */
import fs from 'node:fs';
import { validate as validateCron } from 'node-cron';
import { CONNECTOR_TYPES } from '../adapters/idp/index.js';
import { catalogInstances, connectorsBlockOf, defaultInstances, managerSource as pickManagerSource, type EnvReader } from './connectors.js';
import { parseDuration } from '../domain/duration.js';
import { ON_CALL_SECRET_VARS, onCallServices } from './onCall.js';
import type { OnCallServiceType } from '../domain/onCall.js';
import type { Config, LogLevel } from './types.js';
import { EMAIL_RE, errCode, parseHttpUrl, parseOrigin } from './values.js';

export type LoadConfigResult = { ok: true; config: Config } | { ok: false; errors: string[] };

/** Variables that may also be given as NAME_FILE; never echoed in errors. Connectors declare theirs. */
export const SECRET_VARS: readonly string[] = [
  ...new Set([
    'SLACK_BOT_TOKEN',
    'SLACK_SIGNING_SECRET',
    'SLACK_APP_TOKEN',
    'JIRA_API_TOKEN',
    'JIRA_WEBHOOK_SECRET',
    'METRICS_TOKEN',
    ...ON_CALL_SECRET_VARS,
    // A Postgres URL may carry its password.
    'DATABASE_URL',
    ...CONNECTOR_TYPES.flatMap((d) => Object.values(d.settings).filter((s) => s.secret).map((s) => s.env)),
  ]),
];

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export const DEFAULTS = {
  port: 3000,
  databasePath: './data/access-bot.db',
  catalogPath: './access-catalog.yaml',
  slackApiUrl: 'https://slack.com/api/',
  logLevel: 'info' as LogLevel,
} as const;

/** What each required variable holds, for "required (...)" lines; connectors' variables declare theirs. */
const HINTS: Record<string, string> = {
  ...Object.fromEntries(CONNECTOR_TYPES.flatMap((d) => Object.values(d.settings).map((s) => [s.env, s.hint]))),
  SLACK_BOT_TOKEN: 'the bot token, xoxb-…',
  SLACK_SIGNING_SECRET: "the app's signing secret, from Basic Information",
  JIRA_HOST: 'your Jira Cloud site, e.g. https://your-site.atlassian.net',
  JIRA_EMAIL: 'the Atlassian account email that owns JIRA_API_TOKEN',
  JIRA_API_TOKEN: 'an Atlassian API token for JIRA_EMAIL',
  METRICS_TOKEN: 'a bearer token for /metrics, e.g. from `openssl rand -hex 32`',
};

/** RFC 6750's b64token: what a client can send after `Bearer ` unchanged. */
const BEARER_TOKEN_RE = /^[A-Za-z0-9._~+/-]+=*$/;
/** Short enough to guess, or to slip past the logger's masking, is refused. */
const METRICS_TOKEN_MIN = 16;

export function loadConfig(
  env: Record<string, string | undefined>,
  readFile: (path: string) => string = (p) => fs.readFileSync(p, 'utf8'),
): LoadConfigResult {
  const errors: string[] = [];
  // One line per variable: a variable two parts of the configuration read (JIRA_* for Jira and
  // for the atlassian connector) is reported once.
  const reported = new Set<string>();
  const fail = (name: string, msg: string): undefined => {
    if (!reported.has(name)) errors.push(`${name}: ${msg}`);
    reported.add(name);
    return undefined;
  };

  /** A plain variable, trimmed; empty counts as unset (env files often carry `NAME=`). */
  const plain = (name: string): string | undefined => {
    const v = env[name]?.trim();
    return v ? v : undefined;
  };

  /** A secret from NAME or NAME_FILE, read once. `present` is true when either was given, even if unreadable. */
  const secretState = new Map<string, { value?: string; present: boolean }>();
  const readSecret = (name: string): { value?: string; present: boolean } => {
    const known = secretState.get(name);
    if (known) return known;
    let state: { value?: string; present: boolean };
    const direct = plain(name);
    const file = plain(`${name}_FILE`);
    if (direct !== undefined && file !== undefined) {
      fail(name, `set either ${name} or ${name}_FILE, not both`);
      state = { present: true };
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
      state = { value: value || undefined, present: true };
    } else {
      state = { value: direct, present: direct !== undefined };
    }
    secretState.set(name, state);
    return state;
  };
  const secret = (name: string): string | undefined => readSecret(name).value;
  const isSet = (name: string, asSecret = SECRET_VARS.includes(name)): boolean => (asSecret ? readSecret(name).present : plain(name) !== undefined);

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

  // The schedules of the jobs: node-cron expressions, or off.
  const schedule = (name: string, example: string, meaning: string): string | undefined => {
    const v = plain(name);
    if (v !== undefined && v !== 'off' && !validateCron(v)) return fail(name, `"${v}" is not a cron expression (e.g. "${example}" for ${meaning}, or off)`);
    return v;
  };
  const memberSyncSchedule = schedule('MEMBER_SYNC_SCHEDULE', '17 * * * *', 'hourly');
  const reclaimSchedule = schedule('RECLAIM_SCHEDULE', '41 * * * *', 'hourly');
  const offboardingSchedule = schedule('OFFBOARDING_SCHEDULE', '*/15 * * * *', 'every 15 minutes');

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
  // How often requests raised in Jira are polled for (jira.intake): a span, or off.
  let jiraPollMs: number | undefined;
  const pollRaw = plain('JIRA_POLL_INTERVAL');
  if (pollRaw !== undefined) {
    const d = pollRaw === 'off' ? undefined : parseDuration(pollRaw);
    if (pollRaw === 'off') jiraPollMs = 0;
    else if (!d || d.ms === null || d.ms < 1000) fail('JIRA_POLL_INTERVAL', `"${pollRaw}" is not a span of at least 1s (e.g. 1m, 30s, or off)`);
    else jiraPollMs = d.ms;
  }

  // --- connectors: the catalog's connectors: block names the instances, else the variables configure one per type ---
  const catalogPath = plain('ACCESS_CATALOG') ?? DEFAULTS.catalogPath;
  const reader: EnvReader = { plain, secret, isSet, fail, readFile };
  const block = connectorsBlockOf(catalogPath, readFile);
  const connectors = block === undefined ? defaultInstances(reader) : catalogInstances(block, reader);

  // --- on-call services (approval rules' onCall): environment only, not connectors ---
  const onCall = onCallServices(reader, { host: jiraHost, email: jiraEmail, apiToken: jiraApiToken });

  // --- manager source: must name a configured instance that knows managers; default the first ---
  const managerSource = pickManagerSource(plain('MANAGER_SOURCE'), connectors, fail);

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

  const database = databaseOf(secret('DATABASE_URL'), plain('DATABASE_PATH'), fail);

  if (errors.length > 0) return { ok: false, errors };

  // Everything required was checked above; these guards only narrow the types.
  if (!botToken || !signingSecret || !slackApiUrl || !jiraHost || !jiraEmail || !jiraApiToken) {
    return { ok: false, errors: ['internal: configuration incomplete without a reported error'] };
  }
  const config: Config = {
    port,
    databasePath: database?.path ?? DEFAULTS.databasePath,
    catalogPath,
    slack: { botToken, signingSecret, apiUrl: slackApiUrl, ...(appToken ? { appToken } : {}) },
    jira: { host: jiraHost, email: jiraEmail, apiToken: jiraApiToken, ...(webhookSecret ? { webhookSecret } : {}), ...(jiraPollMs !== undefined ? { pollIntervalMs: jiraPollMs } : {}) },
    connectors: connectors.instances,
    onCall,
    logLevel,
    allowGuests,
  };
  const adminChannel = plain('ADMIN_CHANNEL');
  if (adminChannel) config.adminChannel = adminChannel;
  if (database?.url) config.databaseUrl = database.url;
  if (memberSyncSchedule !== undefined) config.memberSyncSchedule = memberSyncSchedule;
  if (reclaimSchedule !== undefined) config.reclaimSchedule = reclaimSchedule;
  if (offboardingSchedule !== undefined) config.offboardingSchedule = offboardingSchedule;
  if (managerSource) config.managerSource = managerSource;
  if (metricsToken !== undefined || metricsPort !== undefined) {
    config.metrics = { ...(metricsToken !== undefined ? { token: metricsToken } : {}), ...(metricsPort !== undefined ? { port: metricsPort } : {}) };
  }
  return { ok: true, config };
}

/** The connector instances this configuration turns on, for `parseCatalog`'s `configuredConnectors`. */
export function connectorsOf(config: Config): string[] {
  return config.connectors.map((c) => c.name);
}

/** What the catalog is checked against: the configured connector instances and on-call services. */
export function catalogOptionsOf(config: Config): { configuredConnectors: string[]; configuredOnCall: OnCallServiceType[] } {
  return { configuredConnectors: connectorsOf(config), configuredOnCall: config.onCall.map((o) => o.type) };
}

/**
 * DATABASE_URL: a file path (SQLite, as DATABASE_PATH) or postgres://… / postgresql://… (Postgres).
 * Anything else with a scheme is refused, naming only the scheme (the URL may hold a password).
 */
function databaseOf(url: string | undefined, path: string | undefined, fail: (name: string, msg: string) => undefined): { path?: string; url?: string } | undefined {
  if (url === undefined) return path === undefined ? undefined : { path };
  if (path !== undefined) return fail('DATABASE_URL', 'set either DATABASE_URL or DATABASE_PATH, not both');
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'postgres' || scheme === 'postgresql') {
    try {
      const u = new URL(url);
      if (!u.hostname && !u.searchParams.get('host')) return fail('DATABASE_URL', 'names no host (expected postgres://user:password@host:5432/database)');
    } catch {
      return fail('DATABASE_URL', 'is not a valid URL (expected postgres://user:password@host:5432/database)');
    }
    return { url };
  }
  if (scheme === 'file') return { path: url.slice('file:'.length).replace(/^\/\/(localhost)?(?=\/)/, '') };
  // A Windows drive letter (C:\...) is a path, not a scheme.
  if (scheme !== undefined && scheme.length > 1) {
    return fail('DATABASE_URL', `${scheme}: is not supported (expected a file path for SQLite, or postgres://user:password@host:5432/database for Postgres)`);
  }
  return { path: url };
}

/**
 * The database DATABASE_URL / DATABASE_PATH name, for commands that need only it (`effects`);
 * throws the configuration's message when they are wrong.
 */
export function databaseTarget(
  env: Record<string, string | undefined>,
  readFile: (path: string) => string = (p) => fs.readFileSync(p, 'utf8'),
): { databasePath: string; databaseUrl?: string } {
  const errors: string[] = [];
  const plain = (name: string) => env[name]?.trim() || undefined;
  const file = plain('DATABASE_URL_FILE');
  const url = file !== undefined ? readFile(file).trim() : plain('DATABASE_URL');
  const db = databaseOf(url, plain('DATABASE_PATH'), (name, msg) => void errors.push(`${name}: ${msg}`));
  if (errors.length > 0) throw new Error(errors.join('\n'));
  return { databasePath: db?.path ?? DEFAULTS.databasePath, ...(db?.url ? { databaseUrl: db.url } : {}) };
}
