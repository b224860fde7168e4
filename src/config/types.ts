/** The validated runtime configuration (see ARCHITECTURE.md §4, Environment). */
import type { OnCallConfig } from './onCall.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  port: number;
  databasePath: string;
  /** Set (postgres://…): the store is Postgres and `databasePath` is unused. */
  databaseUrl?: string;
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
    /** How often the poll reads requests raised in Jira (JIRA_POLL_INTERVAL); 0: off. Absent: a minute. */
    pollIntervalMs?: number;
  };
  /** Identity connector instances, in order (config/connectors.ts). */
  connectors: ConnectorConfig[];
  /** On-call services approval rules may ask (config/onCall.ts); at most one of each type. */
  onCall: OnCallConfig[];
  /** Absent: `/metrics` is open on `port`. */
  metrics?: {
    /** `/metrics` then needs `Authorization: Bearer <token>`. */
    token?: string;
    /** `/metrics` is then served on this port only, not on `port`. */
    port?: number;
  };
  adminChannel?: string;
  /** The instance `manager` approvers come from. */
  managerSource?: string;
  logLevel: LogLevel;
  /** Slack guests and Slack Connect users may request and decide (`ALLOW_GUESTS=true`). */
  allowGuests: boolean;
  /** node-cron schedule of the user sync (`MEMBER_SYNC_SCHEDULE`), or `off`. Absent: jobs/memberSync.ts's default. */
  memberSyncSchedule?: string;
  /** node-cron schedule of inactivity reclaim (`RECLAIM_SCHEDULE`), or `off`. Absent: jobs/holderChecks.ts's default. */
  reclaimSchedule?: string;
  /** node-cron schedule of the account-status check of holders and of those pending requests wait on (`OFFBOARDING_SCHEDULE`), or `off`. Absent: jobs/holderChecks.ts's default. */
  offboardingSchedule?: string;
}

/** One connector instance: what its descriptor (adapters/idp/<type>/descriptor.ts) builds it from. */
export interface ConnectorConfig {
  /** What grants and MANAGER_SOURCE name: the type for the instances the environment configures. */
  name: string;
  type: string;
  /** Each setting's value, defaults filled in. Holds secrets: never log it. */
  settings: Readonly<Record<string, string>>;
  /** Where each setting came from, for messages: its environment variable, or its path in the catalog. */
  sources: Readonly<Record<string, string>>;
  /** The settings that are secrets. */
  secrets: readonly string[];
}

/** Every secret-bearing value, for redaction and for tests that grep logs. */
export function secretsOf(c: Config): string[] {
  const connectors = c.connectors.flatMap((i) => i.secrets.map((k) => i.settings[k]));
  const onCall = c.onCall.map((o) => (o.type === 'pagerduty' ? o.token : o.apiToken));
  return [c.slack.botToken, c.slack.signingSecret, c.slack.appToken, c.jira.apiToken, c.jira.webhookSecret, c.metrics?.token, ...connectors, ...onCall].filter(
    (s): s is string => typeof s === 'string' && s.length > 0,
  );
}
