/** The validated runtime configuration (see ARCHITECTURE.md §4, Environment). */
export type ManagerSource = 'okta' | 'entra' | 'google';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  port: number;
  databasePath: string;
  catalogPath: string;
  slack: {
    botToken: string;
    signingSecret: string;
    /** xapp- token: Socket Mode. */
    appToken?: string;
    /** Ends in `/api/`. */
    apiUrl: string;
  };
  jira: {
    /** Origin, e.g. https://example.atlassian.net */
    host: string;
    email: string;
    apiToken: string;
    webhookSecret?: string;
  };
  okta?: { orgUrl: string; apiToken: string };
  graph?: { tenantId: string; clientId: string; clientSecret: string; baseUrl: string; tokenUrl: string };
  google?: { saKeyFile: string; adminSubject: string; rootUrl: string; tokenUrl: string };
  /** Absent: `/metrics` is open on `port`. */
  metrics?: {
    /** `/metrics` then needs `Authorization: Bearer <token>`. */
    token?: string;
    /** `/metrics` is then served on this port only, not on `port`. */
    port?: number;
  };
  adminChannel?: string;
  managerSource?: ManagerSource;
  logLevel: LogLevel;
  /** Slack guests and Slack Connect users may request and decide (`ALLOW_GUESTS=true`). */
  allowGuests: boolean;
}

/** Every secret-bearing value, for redaction and for tests that grep logs. */
export function secretsOf(c: Config): string[] {
  return [c.slack.botToken, c.slack.signingSecret, c.slack.appToken, c.jira.apiToken, c.jira.webhookSecret, c.okta?.apiToken, c.graph?.clientSecret, c.metrics?.token].filter(
    (s): s is string => typeof s === 'string' && s.length > 0,
  );
}
